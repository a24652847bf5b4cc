# Streaming repodata loader (solver/repodata.c, common/zstd_io.c's hb_reader):
# tests/unit/test_repodata_stream.c (auto-registered as unit.repodata_stream)
# loads each document through windows of tiny chunks (HPCBUILD_REPODATA_CHUNK),
# zstd-compressed and from files, and compares records and error messages
# with the whole-document reference loader (repodata_parse_whole); the fuzz
# harness fuzz/fuzz_repodata.c does the same on its inputs.
set_tests_properties(unit.repodata_stream PROPERTIES TIMEOUT 120)
