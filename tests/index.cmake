# The index area: URL resolution (common/url.c), the HTML scanner (common/html.c)
# and simple-repository pages (solver/simple_index.c, `hpcbuild index-page`).
hb_python_test(index.urljoin index_urljoin.py)
hb_python_test(index.pages index_pages.py)
