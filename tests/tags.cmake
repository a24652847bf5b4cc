# Wheel tags and distribution file names (tests/tags_oracle.py, tests/unit/test_tags.c,
# tests/unit/test_distname.c).
hb_python_test(tags.oracle tags_oracle.py)
