# The command line as a whole: help texts, dispatch and usage errors.
hb_python_test(cli.basics cli_basics.py)
