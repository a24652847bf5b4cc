# Conda channel loader (solver/repodata*.c), msgpack reader, zstd I/O: unit
# tests (tests/unit/test_{repodata,msgpack}.c, auto-registered) and the oracle
# test over every repodata file in ../shared/testdata/repodata.
add_executable(repodata_dump ${CMAKE_CURRENT_SOURCE_DIR}/tools/repodata_dump.c)
target_link_libraries(repodata_dump PRIVATE hpcbuild_solver hpcbuild_common)

hb_python_test(repodata.oracle repodata_oracle.py $<TARGET_FILE:repodata_dump>)
