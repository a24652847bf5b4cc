# HTTP fetching and the fetch cache (area: http): unit tests
# (tests/unit/test_http.c, auto-registered as unit.http), the http_get tool
# and the loopback-server test (tests/lib/testserver.py, 127.0.0.1 only).
add_executable(http_get ${CMAKE_CURRENT_SOURCE_DIR}/tools/http_get.c)
target_link_libraries(http_get PRIVATE hpcbuild_common)

hb_python_test(http.fetch http_fetch.py)
set_property(TEST http.fetch APPEND PROPERTY ENVIRONMENT "HTTP_GET=$<TARGET_FILE:http_get>")
set_tests_properties(http.fetch PROPERTIES TIMEOUT 120)
