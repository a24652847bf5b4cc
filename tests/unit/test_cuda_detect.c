/* Unit tests for CUDA driver detection (include/hpcbuild/cuda_detect.h) with a fake
 * libcuda (tests/fake/libcuda_fake.c, its path in $FAKE_CUDA_LIB): version and lowest compute
 * capability, no GPU, a failing, hanging or crashing driver, CUDA_VISIBLE_DEVICES unset for
 * the probe, no library at all, and CUDA's own stub library (which must read as no CUDA). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hpcbuild/cuda_detect.h"

#include "check.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void)
{
    const char *fake = getenv("FAKE_CUDA_LIB");
    CHECK(fake != NULL);
    if (!fake)
        return check_finish();
    const char *libs[] = {"/nonexistent/libcuda.so.1", fake, NULL};
    hb_cuda_info info;

    setenv("FAKE_CUDA", "ok", 1);
    setenv("CUDA_VISIBLE_DEVICES", "", 1);   /* conda unsets it for the probe; so do we */
    CHECK(hb_cuda_detect(&info, libs, 5000) == 1);
    CHECK_STR(info.version, "12.4");
    CHECK_STR(info.arch, "7.0");
    CHECK_STR(getenv("CUDA_VISIBLE_DEVICES"), "");   /* only the child's was unset */

    setenv("FAKE_CUDA", "nodev", 1);
    CHECK(hb_cuda_detect(&info, libs, 5000) == 1);
    CHECK_STR(info.version, "12.4");
    CHECK_STR(info.arch, "");

    setenv("FAKE_CUDA", "fail", 1);
    CHECK(hb_cuda_detect(&info, libs, 5000) == 0 && info.version[0] == '\0');

    setenv("FAKE_CUDA", "crash", 1);
    CHECK(hb_cuda_detect(&info, libs, 5000) == 0);

    setenv("FAKE_CUDA", "hang", 1);
    double t0 = now();
    CHECK(hb_cuda_detect(&info, libs, 300) == 0);
    CHECK(now() - t0 < 3.0);

    const char *none[] = {"/nonexistent/libcuda.so.1", NULL};
    CHECK(hb_cuda_detect(&info, none, 5000) == 0);

    const char *stub[] = {"/usr/local/cuda/lib64/stubs/libcuda.so", NULL};
    if (access(stub[0], R_OK) == 0)
        CHECK(hb_cuda_detect(&info, stub, 5000) == 0);
    return check_finish();
}
