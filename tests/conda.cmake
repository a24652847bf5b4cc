# conda area: VersionOrder / VersionSpec / MatchSpec against conda 26.7.1's vectors,
# and the CLI contract of `matchspec parse`, `version ... --ecosystem conda`,
# `spec contains --ecosystem conda`.
hb_python_test(conda.vectors conda_vectors.py)
hb_python_test(conda.cli conda_cli.py)
hb_python_test(conda.repodata conda_repodata.py)
