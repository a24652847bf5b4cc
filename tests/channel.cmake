# Channels from recipes (cli/channel_*.c, `hpcbuild channel build`): local executor.
hb_python_test(channel.build channel_build.py)
# The same recipe set through a real single-node Slurm (tests/lib/slurm.py): one sbatch per job,
# afterok dependencies, the order read from Slurm's job completion log.  77 = SKIP where Slurm
# cannot run (not root, slurm-wlm/munge missing); HPCBUILD_REQUIRE_SLURM=1 makes that a failure.
hb_python_test(channel.slurm channel_build.py --slurm)
set_tests_properties(channel.slurm PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
