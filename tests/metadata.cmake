# The metadata area: core metadata reader/writer and PEP 725 DepURLs.
hb_python_test(metadata.email metadata_email.py)
