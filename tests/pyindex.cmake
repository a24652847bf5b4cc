# Python index fixtures (area: fixtures): tests/lib/pyindex.py builds wheels (pure, C and MPI
# extensions), sdists and PEP 503/691/658 indices served on 127.0.0.1 by tests/lib/testserver.py;
# pyindex.fixture proves them real against Debian's pip 23.0.
hb_python_test(pyindex.fixture pyindex_fixture.py)
set_tests_properties(pyindex.fixture PROPERTIES TIMEOUT 120)
