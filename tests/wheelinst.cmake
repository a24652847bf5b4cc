# Wheel installation (area: wheelinst): unit tests (tests/unit/test_wheel_install.c, registered
# as unit.wheel_install) and the oracle test against pypa/installer and pip
# (tests/wheel_install_oracle.py).
hb_python_test(wheelinst.oracle wheel_install_oracle.py)
set_tests_properties(wheelinst.oracle PROPERTIES TIMEOUT 300)
