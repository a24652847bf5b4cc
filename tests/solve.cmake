# solve area: `hpcbuild solve` over local channels (cli/cmd_solve.c, solver/channel.c).
# solve_cli.py builds small channels in a temporary directory, checks every answer
# independently through the test driver's MatchSpec matcher, and covers the errors.
hb_python_test(solve.cli solve_cli.py)
# The .solv cache through `hpcbuild solve`: used when current, never when stale or damaged.
hb_python_test(solvcache.cli solvcache_cli.py)
# Mixed conda + PyPI solves over loopback indices built by the test (issue 4).
hb_python_test(solve.pypi solve_pypi.py)
