# explain area: explanations of unsatisfiable solves (solver/pool_explain.c).  explain_cli.py
# runs `hpcbuild solve` (text and --json) on examples/channel and small hand-made channels,
# and the pool's solve_tool for site externals and a long (capped) problem.
hb_python_test(explain.cli explain_cli.py $<TARGET_FILE:solve_tool>)
