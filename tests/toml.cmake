# TOML reader tests (area: toml).

# toml2json: a TOML document as toml-test's tagged JSON, for the oracle test.
add_executable(toml2json ${CMAKE_CURRENT_SOURCE_DIR}/tools/toml2json.c)
target_link_libraries(toml2json PRIVATE hpcbuild_common)

# toml-test conformance (the TOML 1.0.0 file list) plus Python's tomllib as a
# second oracle on the same files and on extra cases.
hb_python_test(toml.conformance toml_test.py)
set_property(TEST toml.conformance APPEND PROPERTY ENVIRONMENT "TOML2JSON=$<TARGET_FILE:toml2json>")
