/* elf_resolve.c — hb_elf_resolve: the dynamic loader's search order for one file's DT_NEEDED
 * entries (DT_RPATH unless DT_RUNPATH, LD_LIBRARY_PATH, DT_RUNPATH, ld.so.cache, default
 * directories).  A candidate counts only when it is a regular ELF file of the same class, byte
 * order and machine, as the loader skips the others. */
#include "hpcbuild/elf.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/strbuf.h"
#include "ldcache.h"

enum { EM_386_ = 3, EM_PPC64_ = 21, EM_S390_ = 22, EM_ARM_ = 40, EM_X86_64_ = 62, EM_AARCH64_ = 183, EM_RISCV_ = 243 };

typedef struct machine_dirs {
    uint16_t machine;
    bool is64;
    const char *platform;   /* $PLATFORM */
    const char *triplet;    /* the Debian multiarch directory name */
    const char *lib64;      /* "/lib64" where the ABI has one, else NULL */
} machine_dirs;

static const machine_dirs machines[] = {
    {EM_X86_64_, true, "x86_64", "x86_64-linux-gnu", "lib64"},
    {EM_AARCH64_, true, "aarch64", "aarch64-linux-gnu", "lib64"},
    {EM_PPC64_, true, "powerpc64le", "powerpc64le-linux-gnu", "lib64"},
    {EM_S390_, true, "s390x", "s390x-linux-gnu", "lib64"},
    {EM_RISCV_, true, "riscv64", "riscv64-linux-gnu", "lib64"},
    {EM_386_, false, "i686", "i386-linux-gnu", NULL},
    {EM_ARM_, false, "v7l", "arm-linux-gnueabihf", NULL},
};

static const machine_dirs *machine_for(const hb_elf *e)
{
    for (size_t i = 0; i < sizeof machines / sizeof machines[0]; i++)
        if (machines[i].machine == e->machine && machines[i].is64 == e->is64)
            return &machines[i];
    return NULL;
}

/* True when path is a regular ELF file the loader would accept for e. */
static bool compatible(const hb_elf *e, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    unsigned char h[20];
    ssize_t n = read(fd, h, sizeof h);
    close(fd);
    if (n != (ssize_t)sizeof h || memcmp(h, "\177ELF", 4) != 0)
        return false;
    bool be = h[5] == 2;
    uint16_t machine = be ? (uint16_t)(h[18] << 8 | h[19]) : (uint16_t)(h[19] << 8 | h[18]);
    return h[4] == (e->is64 ? 2 : 1) && be == e->big_endian && machine == e->machine;
}

/* Appends dir with $ORIGIN, $LIB and $PLATFORM (bare or braced) expanded. */
static void expand_dir(strbuf *out, const char *dir, size_t len, const char *origin, const machine_dirs *m)
{
    static const char *const tokens[] = {"ORIGIN", "LIB", "PLATFORM"};
    for (size_t i = 0; i < len; i++) {
        bool done = false;
        for (size_t t = 0; t < 3 && dir[i] == '$' && !done; t++) {
            size_t tl = strlen(tokens[t]);
            bool braced = i + 1 < len && dir[i + 1] == '{';
            size_t start = i + 1 + braced;
            if (start + tl > len || strncmp(dir + start, tokens[t], tl) != 0 || (braced && (start + tl >= len || dir[start + tl] != '}')))
                continue;
            if (!braced && start + tl < len && (dir[start + tl] == '_' || (dir[start + tl] >= 'A' && dir[start + tl] <= 'Z')))
                continue;
            strbuf_puts(out, t == 0 ? origin : t == 1 ? "lib" : (m ? m->platform : ""));
            if (t == 1 && m && m->triplet)
                strbuf_printf(out, "/%s", m->triplet);
            i = start + tl + braced - 1;
            done = true;
        }
        if (!done)
            strbuf_putc(out, dir[i]);
    }
}

/* Looks for name in each dir of the ':'-separated list (';' too for LD_LIBRARY_PATH). */
static char *search_list(const hb_elf *e, const char *list, const char *seps, const char *name, const char *origin,
                         const machine_dirs *m)
{
    for (const char *p = list; p;) {
        size_t n = strcspn(p, seps);
        strbuf path = STRBUF_INIT;
        if (n == 0)
            strbuf_putc(&path, '.');   /* an empty element is the current directory */
        else
            expand_dir(&path, p, n, origin, m);
        strbuf_printf(&path, "/%s", name);
        if (compatible(e, strbuf_str(&path)))
            return strbuf_detach(&path);
        strbuf_free(&path);
        p = p[n] ? p + n + 1 : NULL;
    }
    return NULL;
}

static char *search_defaults(const hb_elf *e, const char *name, const machine_dirs *m)
{
    static const char *const prefixes[] = {"/lib", "/usr/lib"};
    strbuf path = STRBUF_INIT;
    for (int pass = 0; pass < 3; pass++)
        for (size_t i = 0; i < 2; i++) {
            strbuf_truncate(&path, 0);
            if (pass == 0 && m && m->triplet)
                strbuf_printf(&path, "%s/%s/%s", prefixes[i], m->triplet, name);
            else if (pass == 1 && m && m->lib64)
                strbuf_printf(&path, "%s64/%s", prefixes[i], name);
            else if (pass == 2)
                strbuf_printf(&path, "%s/%s", prefixes[i], name);
            else
                continue;
            if (compatible(e, strbuf_str(&path)))
                return strbuf_detach(&path);
        }
    strbuf_free(&path);
    return NULL;
}

static char *origin_of(const char *file)
{
    char *real = realpath(file, NULL);
    char *dir = hb_strdup(real ? real : file);
    free(real);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else {
        free(dir);
        dir = hb_strdup(".");
    }
    return dir;
}

static char *lookup_one(const hb_elf *e, const char *name, const char *origin, const char *ld_library_path,
                        const hb_ldcache *cache, const machine_dirs *m, const char **via)
{
    char *found = NULL;
    if (strchr(name, '/')) {
        *via = "direct";
        return compatible(e, name) ? hb_strdup(name) : NULL;
    }
    if (e->rpath && !e->runpath && (found = search_list(e, e->rpath, ":", name, origin, m)))
        return *via = "rpath", found;
    if (ld_library_path && *ld_library_path && (found = search_list(e, ld_library_path, ":;", name, origin, m)))
        return *via = "LD_LIBRARY_PATH", found;
    if (e->runpath && (found = search_list(e, e->runpath, ":", name, origin, m)))
        return *via = "runpath", found;
    /* The portable build before a glibc-hwcaps one: repair copies what it finds. */
    for (int baseline_only = 1; baseline_only >= 0; baseline_only--) {
        size_t pos = 0;
        for (const char *p; (p = hb_ldcache_next(cache, name, baseline_only, &pos));)
            if (compatible(e, p))
                return *via = "ld.so.cache", hb_strdup(p);
    }
    if ((found = search_defaults(e, name, m)))
        return *via = "default", found;
    *via = NULL;
    return NULL;
}

int hb_elf_resolve(const hb_elf *e, const char *file, const char *ld_library_path, hb_elf_resolved **out,
                   hb_error *err)
{
    hb_ldcache cache;
    if (hb_ldcache_load(&cache, "/etc/ld.so.cache", err) != 0)
        return -1;
    const machine_dirs *m = machine_for(e);
    char *origin = origin_of(file);
    hb_elf_resolved *r = hb_calloc(e->nneeded ? e->nneeded : 1, sizeof *r);
    for (size_t i = 0; i < e->nneeded; i++) {
        r[i].name = hb_strdup(e->needed[i]);
        r[i].path = lookup_one(e, e->needed[i], origin, ld_library_path, &cache, m, &r[i].via);
        if (!r[i].path)
            r[i].via = NULL;
    }
    free(origin);
    hb_ldcache_free(&cache);
    *out = r;
    return 0;
}

void hb_elf_resolved_free(hb_elf_resolved *r, size_t n)
{
    if (!r)
        return;
    for (size_t i = 0; i < n; i++) {
        free(r[i].name);
        free(r[i].path);
    }
    free(r);
}
