# Channel publishing (builder/channel_index.c, `hpcbuild channel index`).
hb_python_test(chindex.index channel_index.py)
