# pool area: the libsolv pool with conda semantics (solver/pool*.c).  The solve tool loads
# repodata files and solves; pool_solve.py checks every result independently (one record per
# name, every depends and constrains satisfied, by the test driver's MatchSpec matcher).
add_executable(solve_tool ${CMAKE_CURRENT_SOURCE_DIR}/tools/solve_tool.c)
target_link_libraries(solve_tool PRIVATE hpcbuild_solver hpcbuild_common)

# Under ASan every realloc copies, and libsolv grows its rule array 63 rules at a time: a
# conda-forge linux-64 solve that reaches setuptools' 842 builds (354k one-per-name rules)
# takes minutes there.  The sanitized run keeps the real-channel cases that stay small
# (osx-arm64, libcxx, the pins); the release build runs them all.
set(HB_POOL_TEST_ARGS "")
if(HPCBUILD_SANITIZE)
  set(HB_POOL_TEST_ARGS --sanitized)
endif()
hb_python_test(pool.solve pool_solve.py $<TARGET_FILE:solve_tool> ${HB_POOL_TEST_ARGS})
