# PEP 508 requirements, markers and names (tests/pep508_*.py, tests/unit/test_pep508.c).
hb_python_test(pep508.vectors pep508_vectors.py)
hb_python_test(pep508.differential pep508_differential.py)
hb_python_test(pep508.cli pep508_cli.py)
