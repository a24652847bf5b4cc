/* A stand-in for the NVIDIA driver library (libcuda), for tests of cuda_detect.c.  Its
 * behaviour comes from FAKE_CUDA: "ok" (driver 12.4, GPUs of compute capability 8.6 and
 * 7.0), "nodev" (no GPU), "fail" (cuInit fails), "hang" (cuInit never returns), "crash". */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cuInit(unsigned flags);
int cuDriverGetVersion(int *v);
int cuDeviceGetCount(int *n);
int cuDeviceGet(int *dev, int ordinal);
int cuDeviceGetAttribute(int *value, int attr, int dev);

static const char *mode(void)
{
    const char *m = getenv("FAKE_CUDA");
    return m ? m : "ok";
}

int cuInit(unsigned flags)
{
    (void)flags;
    if (getenv("CUDA_VISIBLE_DEVICES"))
        return 100;   /* the caller must unset it, as conda does */
    if (strcmp(mode(), "fail") == 0)
        return 3;
    if (strcmp(mode(), "hang") == 0)
        for (;;)
            pause();
    if (strcmp(mode(), "crash") == 0)
        raise(SIGSEGV);
    return 0;
}

int cuDriverGetVersion(int *v)
{
    *v = 12040;
    return 0;
}

int cuDeviceGetCount(int *n)
{
    *n = strcmp(mode(), "nodev") == 0 ? 0 : 2;
    return 0;
}

int cuDeviceGet(int *dev, int ordinal)
{
    *dev = ordinal;
    return 0;
}

int cuDeviceGetAttribute(int *value, int attr, int dev)
{
    static const int cc[2][2] = {{8, 6}, {7, 0}};
    if (attr == 75)
        *value = cc[dev][0];
    else if (attr == 76)
        *value = cc[dev][1];
    else
        return 1;
    return 0;
}
