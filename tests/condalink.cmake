# Linking conda packages into a prefix (conda_link.h, conda_prefix.h); the replacement edge
# cases are tests/unit/test_conda_link.c.
hb_python_test(condalink.oracle conda_link_oracle.py)
