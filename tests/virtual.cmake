# Virtual-package detection: the x86-64 level (unit.archspec, against glibc's loader) and
# the CUDA driver (unit.cuda_detect, against a fake libcuda built here).
add_library(fakecuda SHARED ${CMAKE_CURRENT_SOURCE_DIR}/fake/libcuda_fake.c)
set_target_properties(fakecuda PROPERTIES OUTPUT_NAME cuda_fake)
# the fake is dlopen'd by a plain child process: no sanitizer runtime in it
target_compile_options(fakecuda PRIVATE -fno-sanitize=all)
target_link_options(fakecuda PRIVATE -fno-sanitize=all)
add_dependencies(test_cuda_detect fakecuda)
set_tests_properties(unit.cuda_detect PROPERTIES ENVIRONMENT
                     "HPCBUILD_SHARED=${HB_SHARED};FAKE_CUDA_LIB=$<TARGET_FILE:fakecuda>")
