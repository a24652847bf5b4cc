/* cuda_detect.h — the CUDA driver's version and the GPUs' lowest compute capability, for the
 * `__cuda` and `__cuda_arch` virtual packages (SPECS.md §10.3, as conda finds them).
 *
 * In a child process (fork, so a hanging or crashing driver cannot take hpcbuild with it;
 * killed after timeout_ms) with CUDA_VISIBLE_DEVICES unset: dlopen the first driver library
 * that loads (libcuda.so.1, libcuda.so, then the usual absolute paths; `libs` replaces that
 * list, for tests), cuInit(0), cuDriverGetVersion (12040 is "12.4"), and the minimum
 * compute capability over cuDeviceGetCount devices ("8.6"; empty when there are none).
 * Any failure means "no CUDA": 0.  Returns 1 with cuda/arch filled when found.
 */
#ifndef HPCBUILD_CUDA_DETECT_H
#define HPCBUILD_CUDA_DETECT_H

#include <stdbool.h>

typedef struct hb_cuda_info {
    char version[16];   /* "12.4" */
    char arch[16];      /* "8.6", or "" without devices */
} hb_cuda_info;

/* libs: NULL-terminated list of libraries to try, or NULL for the default list. */
int hb_cuda_detect(hb_cuda_info *out, const char *const *libs, int timeout_ms);

/* Whether dir is a CUDA toolkit home: an executable dir/bin/nvcc and cuda_runtime.h in
 * dir/include or dir/targets/{x86_64,sbsa}-linux/include (so /usr/local, whose bin/ may hold
 * wrapper scripts for a toolkit elsewhere, is not one). */
bool hb_cuda_is_toolkit_home(const char *dir);

/* The toolkit home an nvcc belongs to: the parent of its directory, through symlinks, when that
 * is a toolkit home; malloc'd, or NULL (a wrapper script, a stray nvcc). */
char *hb_cuda_home_of_nvcc(const char *nvcc);

#endif
