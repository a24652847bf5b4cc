/* site_detect_cuda.c — the CUDA toolkit ($CUDA_HOME, $CUDA_PATH, nvcc on PATH, /usr/local/cuda:
 * nvcc --version, nvcc --list-gpu-arch), the GPUs (nvidia-smi; without it "no driver") and the
 * driver's virtual packages __cuda / __cuda_arch (hb_cuda_detect). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/cuda_detect.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/strbuf.h"
#include "site_detect_internal.h"

/* "compute_90" -> "9.0", "compute_100" -> "10.0"; NULL for anything else. */
static char *arch_of(const char *word)
{
    if (strncmp(word, "compute_", 8) != 0)
        return NULL;
    const char *d = word + 8;
    size_t n = 0;
    while (isdigit((unsigned char)d[n]))
        n++;
    if (n < 2 || d[n])
        return NULL;
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%.*s.%c", (int)(n - 1), d, d[n - 1]);
    return strbuf_detach(&sb);
}

static int arch_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int mx = atoi(x), my = atoi(y);
    if (mx != my)
        return mx < my ? -1 : 1;
    return strcmp(strchr(x, '.'), strchr(y, '.'));
}

/* The architectures nvcc supports (sorted) into "supported-archs", and the default arch-list:
 * the lowest of each major version. */
static void arch_lists(hb_site_external *e, const char *nvcc, bool have_gpus)
{
    char *out = sd_run1(nvcc, "--list-gpu-arch");
    if (!out)
        return;
    char **archs = NULL;
    size_t n = 0;
    char *save = NULL;
    for (char *w = strtok_r(out, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
        char *a = arch_of(w);
        if (a) {
            archs = hb_reallocarray(archs, n + 1, sizeof *archs);
            archs[n++] = a;
        }
    }
    free(out);
    if (n)
        qsort(archs, n, sizeof *archs, arch_cmp);
    sd_info_add(&e->info, &e->ninfo, "supported-archs", NULL);
    if (!have_gpus)
        sd_info_add(&e->info, &e->ninfo, "arch-list", NULL);
    int last_major = -1;
    for (size_t i = 0; i < n; i++) {
        sd_info_add(&e->info, &e->ninfo, "supported-archs", archs[i]);
        if (!have_gpus && atoi(archs[i]) != last_major)
            sd_info_add(&e->info, &e->ninfo, "arch-list", archs[i]);
        last_major = atoi(archs[i]);
        free(archs[i]);
    }
    free(archs);
}

/* nvidia-smi's GPUs ("NVIDIA H200 (9.0)"), driver version and arch-list; false without. */
static bool gpu_info(sd_ctx *c, hb_site_external *e)
{
    char *smi = sd_which(c, "nvidia-smi");
    const char *argv[] = {smi, "--query-gpu=name,compute_cap,driver_version",
                          "--format=csv,noheader", NULL};
    char *out = smi ? sd_run(argv, SD_STDOUT) : NULL;
    bool any = false;
    char *save = NULL;
    for (char *line = out ? strtok_r(out, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
        char *fields[3] = {NULL};
        char *fsave = NULL, *f = strtok_r(line, ",", &fsave);
        for (int i = 0; i < 3 && f; i++, f = strtok_r(NULL, ",", &fsave)) {
            while (*f == ' ')
                f++;
            fields[i] = f;
        }
        if (!fields[2])
            continue;
        strbuf gpu = STRBUF_INIT;
        strbuf_printf(&gpu, "%s (%s)", fields[0], fields[1]);
        sd_info_add(&e->info, &e->ninfo, "gpus", strbuf_str(&gpu));
        strbuf_free(&gpu);
        hb_site_info *list = sd_info_get(e->info, e->ninfo, "arch-list");
        bool dup = false;
        for (size_t i = 0; list && i < list->nvalues; i++)
            dup = dup || strcmp(list->values[i], fields[1]) == 0;
        if (!dup)
            sd_info_add(&e->info, &e->ninfo, "arch-list", fields[1]);
        sd_info_set(&e->info, &e->ninfo, "driver", fields[2]);
        any = true;
    }
    if (any)
        sd_info_set(&e->info, &e->ninfo, "nvidia-smi", smi);
    else
        sd_info_set(&e->info, &e->ninfo, "driver", smi ? "none (nvidia-smi lists no GPU)"
                                                        : "none (no nvidia-smi)");
    free(out);
    free(smi);
    return any;
}

/* The home of the nvcc on PATH, through symlinks (/usr/bin/nvcc -> /opt/cuda-12.4/bin/nvcc). */
static char *home_of_path_nvcc(sd_ctx *c)
{
    char *on_path = sd_which(c, "nvcc");
    char *home = hb_cuda_home_of_nvcc(on_path);
    free(on_path);
    return home;
}

/* The CUDA home: $CUDA_HOME or $CUDA_PATH when it has bin/nvcc, else the first toolkit home
 * (hb_cuda_is_toolkit_home) of: the home of nvcc on PATH, the defaults.  Sets *nvcc. */
static char *cuda_home(sd_ctx *c, char **nvcc)
{
    static const char *const default_dirs[] = {"/usr/local/cuda", NULL};
    const char *const *dirs = c->opts->cuda_dirs ? c->opts->cuda_dirs : default_dirs;
    char *from_path = home_of_path_nvcc(c);
    const char *tries[8] = {sd_getenv(c, "CUDA_HOME"), sd_getenv(c, "CUDA_PATH"), from_path};
    size_t n = 3;
    for (const char *const *d = dirs; *d && n < 8; d++)
        tries[n++] = *d;
    char *home = NULL;
    for (size_t i = 0; i < n && !home; i++) {
        char *candidate = tries[i] && *tries[i] ? hb_path_join(tries[i], "bin/nvcc") : NULL;
        /* $CUDA_HOME and $CUDA_PATH are the user's word: an nvcc there is enough */
        if (candidate && (hb_cuda_is_toolkit_home(tries[i]) || (i < 2 && sd_is_executable(candidate)))) {
            home = hb_strdup(tries[i]);
            *nvcc = candidate;
            candidate = NULL;
        }
        free(candidate);
    }
    free(from_path);
    return home;
}

static void detect_toolkit(sd_ctx *c)
{
    char *nvcc = NULL, *home = cuda_home(c, &nvcc);
    char *out = home ? sd_run1(nvcc, "--version") : NULL;
    char *version = out ? sd_version_after(out, ", V") : NULL;
    if (!version && out)
        version = sd_version_after(out, "release");
    strbuf found_by = STRBUF_INIT;
    strbuf_printf(&found_by, "%s --version", nvcc ? nvcc : "nvcc");
    hb_site_external *e = version ? sd_add_external(c, "cuda-toolkit", version, strbuf_str(&found_by))
                                  : NULL;
    if (e) {
        sd_provide(e, "dep:generic/cuda");
        sd_provide(e, "dep:virtual/compiler/cuda");
        char *real = realpath(home, NULL);
        sd_set(&e->prefix, real ? real : home);
        free(real);
        sd_info_set(&e->info, &e->ninfo, "nvcc", nvcc);
        sd_info_set(&e->info, &e->ninfo, "cuda-home", home);
        bool gpus = gpu_info(c, e);
        arch_lists(e, nvcc, gpus);
    }
    strbuf_free(&found_by);
    free(version);
    free(out);
    free(nvcc);
    free(home);
}

static void detect_driver(sd_ctx *c)
{
    hb_cuda_info info;
    if (!hb_cuda_detect(&info, c->opts->cuda_libs, 20000))
        return;
    sd_add_virtual(c, "__cuda", info.version, NULL, "libcuda: cuDriverGetVersion()");
    if (info.arch[0])
        sd_add_virtual(c, "__cuda_arch", info.arch, NULL,
                       "libcuda: lowest compute capability of the devices");
}

void sd_detect_cuda(sd_ctx *c)
{
    detect_toolkit(c);
    detect_driver(c);
}
