# The package cache (area: pkgcache): unit tests (tests/unit/test_pkg_cache.c, auto-registered
# as unit.pkg_cache) and `hpcbuild fetch-pkg` against the loopback server (tests/pkg_cache_fetch.py).
hb_python_test(pkgcache.fetch pkg_cache_fetch.py)
set_tests_properties(pkgcache.fetch PROPERTIES TIMEOUT 180)
