# shards area: CEP 16 sharded repodata through `hpcbuild solve` (solver/channel.c's loader).
# shards_cli.py writes a sharded copy of the conda-forge sub-channel and checks that solves
# over it equal solves over the original, that only reached shards are fetched (loopback
# HTTP server request log), the content-addressed cache, and the errors.
hb_python_test(shards.cli shards_cli.py)
