# Safe extraction (installer/extract.c): hostile archives made by Python's tarfile/zipfile,
# refused with DEST removed and nothing written outside; good ones compared with Python's
# own extraction.  The C unit tests (unit.extract) are registered by the unit/ glob.
hb_python_test(extract.hostile extract_hostile.py)
