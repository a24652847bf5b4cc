# Conda package fixtures (area: condapkg): tests/lib/condapkg.py builds .conda and .tar.bz2
# packages (paths.json or legacy info/files, placeholders, softlinks, noarch: python), channels,
# hostile archives for the extraction tests and check_linked, the oracle for a linked package;
# condapkg.fixture proves them real (tarfile/zipfile + zstd, hpcbuild solve -c, a Python install).
hb_python_test(condapkg.fixture condapkg_fixture.py)
set_tests_properties(condapkg.fixture PROPERTIES TIMEOUT 120)
