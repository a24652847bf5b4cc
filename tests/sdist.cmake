# Sdists, PEP 725 [external], PEP 804 mappings and conda <-> PyPI names (unit tests are
# tests/unit/test_{sdist,external,name_map}.c).
hb_python_test(sdist.external sdist_external.py)
