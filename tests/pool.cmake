# pool area: the libsolv pool with conda semantics (solver/pool*.c).  The solve tool loads
# repodata files and solves; pool_solve.py checks every result independently (one record per
# name, every depends and constrains satisfied, by the test driver's MatchSpec matcher).
add_executable(solve_tool ${CMAKE_CURRENT_SOURCE_DIR}/tools/solve_tool.c)
target_link_libraries(solve_tool PRIVATE hpcbuild_solver hpcbuild_common)

hb_python_test(pool.solve pool_solve.py $<TARGET_FILE:solve_tool>)
