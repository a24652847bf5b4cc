# install area: `hpcbuild install / remove / list / export` end to end over a loopback channel and
# index (cli/cmd_install.c, cli/install_plan.c, installer/).  Includes SIGKILL at random points.
hb_python_test(install.cli install_cli.py)
set_tests_properties(install.cli PROPERTIES TIMEOUT 600)
