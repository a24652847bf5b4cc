# The builder end to end (issue 6): site detect, an MPI sdist built without isolation by
# `hpcbuild install` against the site's Open MPI, run under mpirun; the build cache.
hb_python_test(build.install build_install.py)
set_tests_properties(build.install PROPERTIES TIMEOUT 300)
