# site area: the site externals file (solver/site.c, include/hpcbuild/site.h) and
# `hpcbuild solve --site` / the default channel (cli/cmd_solve.c).  Unit tests are
# tests/unit/test_site.c (auto-registered as unit.site); the fuzz harness is fuzz/fuzz_site.c.
#
# The site reader uses libyaml: the top-level CMakeLists.txt finds it (PkgConfig::YAML) but
# links it nowhere, so the solver library gets it here (CMP0079: linking a target defined in
# another directory).
target_link_libraries(hpcbuild_solver PUBLIC PkgConfig::YAML)

hb_python_test(site.cli site_cli.py)
