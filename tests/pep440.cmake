# PEP 440 versions and specifiers (solver/pep440*.c).
hb_python_test(pep440.vectors pep440_vectors.py)
hb_python_test(pep440.differential pep440_differential.py)
hb_python_test(pep440.cli pep440_cli.py)
