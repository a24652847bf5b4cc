# PEP 517 builds without isolation and the build cache (area: pep517): unit tests in
# tests/unit/test_build_cache.c (unit.build_cache) and test_pep517.c (unit.pep517: hooks with
# in-tree backends); real builds of the packages of
# tests/lib/buildpkgs.py (MPI, meson-python + BLAS, Cython + numpy, CUDA, a broken one).
hb_python_test(pep517.build pep517_build.py)
set_tests_properties(pep517.build PROPERTIES TIMEOUT 600)
