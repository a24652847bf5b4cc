# JSON reader/writer: unit tests (tests/unit/test_json.c, auto-registered as
# unit.json), the round-trip tool and the differential test against Python's json.
add_executable(json_roundtrip ${CMAKE_CURRENT_SOURCE_DIR}/tools/json_roundtrip.c)
target_link_libraries(json_roundtrip PRIVATE hpcbuild_common)

hb_python_test(json.differential json_differential.py $<TARGET_FILE:json_roundtrip>)
