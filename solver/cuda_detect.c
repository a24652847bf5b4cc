/* cuda_detect.c — the CUDA driver through libcuda in a child process (see cuda_detect.h). */
#include "hpcbuild/cuda_detect.h"
#include "hpcbuild/fs.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const default_libs[] = {
    "libcuda.so.1", "libcuda.so", "/usr/lib64/nvidia/libcuda.so.1", "/usr/lib64/nvidia/libcuda.so",
    "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so",
    "/usr/lib/wsl/lib/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so", NULL,
};

enum { CU_ATTR_CC_MAJOR = 75, CU_ATTR_CC_MINOR = 76 };   /* CUdevice_attribute values */

typedef int (*cu_init_fn)(unsigned);
typedef int (*cu_version_fn)(int *);
typedef int (*cu_count_fn)(int *);
typedef int (*cu_device_fn)(int *, int);
typedef int (*cu_attr_fn)(int *, int, int);

/* In the child: writes "VERSION ARCH\n" (ARCH "-" without devices) to fd, or nothing. */
static void probe(int fd, const char *const *libs)
{
    unsetenv("CUDA_VISIBLE_DEVICES");
    void *h = NULL;
    for (size_t i = 0; libs[i] && !h; i++)
        h = dlopen(libs[i], RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
    cu_init_fn init;
    cu_version_fn version;
    *(void **)&init = dlsym(h, "cuInit");
    *(void **)&version = dlsym(h, "cuDriverGetVersion");
    int v = 0;
    if (!init || !version || init(0) != 0 || version(&v) != 0 || v <= 0)
        return;
    cu_count_fn count;
    cu_device_fn device;
    cu_attr_fn attr;
    *(void **)&count = dlsym(h, "cuDeviceGetCount");
    *(void **)&device = dlsym(h, "cuDeviceGet");
    *(void **)&attr = dlsym(h, "cuDeviceGetAttribute");
    int n = 0, best_major = -1, best_minor = -1;
    if (count && device && attr && count(&n) == 0) {
        for (int i = 0; i < n; i++) {
            int dev, major, minor;
            if (device(&dev, i) != 0 || attr(&major, CU_ATTR_CC_MAJOR, dev) != 0 ||
                attr(&minor, CU_ATTR_CC_MINOR, dev) != 0)
                continue;
            if (best_major < 0 || major < best_major || (major == best_major && minor < best_minor))
                best_major = major, best_minor = minor;
        }
    }
    char line[64];
    int len = best_major >= 0
                  ? snprintf(line, sizeof line, "%d.%d %d.%d\n", v / 1000, (v % 1000) / 10, best_major,
                             best_minor)
                  : snprintf(line, sizeof line, "%d.%d -\n", v / 1000, (v % 1000) / 10);
    if (write(fd, line, (size_t)len) != len)
        return;
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int hb_cuda_detect(hb_cuda_info *out, const char *const *libs, int timeout_ms)
{
    memset(out, 0, sizeof *out);
    int fds[2];
    if (pipe(fds) != 0)
        return 0;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return 0;
    }
    if (pid == 0) {
        close(fds[0]);
        probe(fds[1], libs ? libs : default_libs);
        _exit(0);
    }
    close(fds[1]);
    char buf[64];
    size_t got = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        long left = timeout_ms - elapsed_ms(&t0);
        if (left <= 0) {
            kill(pid, SIGKILL);
            got = 0;
            break;
        }
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;   /* the timeout is checked above */
        ssize_t n = read(fds[0], buf + got, sizeof buf - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (got += (size_t)n) >= sizeof buf - 1)
            break;
    }
    close(fds[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    buf[got] = '\0';
    char version[16], arch[16];
    if (got == 0 || sscanf(buf, "%15s %15s", version, arch) != 2)
        return 0;
    snprintf(out->version, sizeof out->version, "%s", version);
    snprintf(out->arch, sizeof out->arch, "%s", strcmp(arch, "-") == 0 ? "" : arch);
    return 1;
}

bool hb_cuda_is_toolkit_home(const char *dir)
{
    if (!dir || !*dir)
        return false;
    static const char *const headers[] = {"include/cuda_runtime.h",   /* and conda's CUDA 12 layout: */
                                          "targets/x86_64-linux/include/cuda_runtime.h",
                                          "targets/sbsa-linux/include/cuda_runtime.h", NULL};
    char *nvcc = hb_path_join(dir, "bin/nvcc");
    bool ok = access(nvcc, X_OK) == 0, header = false;
    for (size_t i = 0; ok && !header && headers[i]; i++) {
        char *h = hb_path_join(dir, headers[i]);
        header = access(h, R_OK) == 0;
        free(h);
    }
    free(nvcc);
    return ok && header;
}

char *hb_cuda_home_of_nvcc(const char *nvcc)
{
    char *home = nvcc ? realpath(nvcc, NULL) : NULL;
    for (int i = 0; home && i < 2; i++) {
        char *slash = strrchr(home, '/');
        if (!slash || slash == home) {
            free(home);
            return NULL;
        }
        *slash = '\0';
    }
    if (home && !hb_cuda_is_toolkit_home(home)) {
        free(home);
        home = NULL;
    }
    return home;
}
