# The metadata area: the core metadata reader/writer (common/metadata.c) and
# PEP 725 DepURLs (solver/depurl.c, `hpcbuild depurl`).
hb_python_test(metadata.email metadata_email.py)
hb_python_test(depurl.vectors depurl_vectors.py)
hb_python_test(depurl.cli depurl_cli.py)
