# Zip reading and wheel metadata fetching (area: zipmeta): unit tests
# (tests/unit/test_zip_read.c, auto-registered as unit.zip_read), the
# http_range tool and the loopback-server test of ranged fetches and
# `hpcbuild wheel-metadata` (tests/wheel_metadata.py).
add_executable(http_range ${CMAKE_CURRENT_SOURCE_DIR}/tools/http_range.c)
target_link_libraries(http_range PRIVATE hpcbuild_common)

hb_python_test(zipmeta.fetch wheel_metadata.py)
set_property(TEST zipmeta.fetch APPEND PROPERTY ENVIRONMENT "HTTP_RANGE=$<TARGET_FILE:http_range>")
set_tests_properties(zipmeta.fetch PROPERTIES TIMEOUT 120)
