# Wheel check and repair (area: repair): unit tests in tests/unit/test_repair.c (unit.repair:
# the zip writer, the report of a wheel without ELF files, bad input); real builds of
# tests/lib/buildpkgs.py plus a private libhelper.so, repaired, installed twice and run.
hb_python_test(repair.wheel repair_wheel.py)
set_tests_properties(repair.wheel PROPERTIES TIMEOUT 600)
# check-wheel against readelf on Debian-built extension modules and a pip-built wheel (issue 7).
hb_python_test(repair.readelf check_wheel_readelf.py)
