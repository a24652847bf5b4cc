# Prefix transactions (txn.h): unit.txn is registered from tests/unit/test_txn.c.
# txn.kill: `hpcbuild txn apply` killed at random moments, recovered, old or new tree exactly.
hb_python_test(txn.kill txn_kill.py)
set_tests_properties(txn.kill PROPERTIES TIMEOUT 120)
