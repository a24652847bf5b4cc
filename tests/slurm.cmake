# The test Slurm (area: slurm): tests/lib/slurm.py starts a real single-node Slurm (Debian's
# slurm-wlm 22.05 and munge, as root, everything under one temporary directory);
# slurm.fixture proves dependencies, concurrency, failure propagation and clean shutdown.
# Exits 77 (SKIP) where Slurm cannot run: not root, or slurm-wlm/munge not installed.
hb_python_test(slurm.fixture slurm_fixture.py)
set_tests_properties(slurm.fixture PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
