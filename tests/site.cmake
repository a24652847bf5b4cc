# site area: the site externals file (solver/site.c, include/hpcbuild/site.h) and
# `hpcbuild solve --site` / the default channel (cli/cmd_solve.c).  Unit tests are
# tests/unit/test_site.c (auto-registered as unit.site); the fuzz harness is fuzz/fuzz_site.c.

hb_python_test(site.cli site_cli.py)
