/* channel.c — local conda channels into a pool, and the machine's virtual packages. */
#include "hpcbuild/channel.h"

#include <ctype.h>
#include <gnu/libc-version.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/http.h"
#include "hpcbuild/strbuf.h"

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

char *hb_channel_label(const char *channel)
{
    size_t len = strlen(channel);
    while (len > 1 && channel[len - 1] == '/')
        len--;
    return hb_strndup(channel, len);
}

bool hb_channel_is_remote(const char *channel)
{
    return has_prefix(channel, "http://") || has_prefix(channel, "https://");
}

char *hb_channel_local_path(const char *channel, hb_error *err)
{
    if (hb_channel_is_remote(channel)) {
        hb_error_set(err, HB_EINVAL, "channel '%s': an HTTP channel has no local path", channel);
        return NULL;
    }
    char *path = NULL;
    if (hb_fetch_classify_url(channel, &path, err) != 1) {
        free(path);
        hb_error_prefix(err, "invalid channel '%s'", channel);
        if (err)
            err->code = HB_EINVAL;
        return NULL;
    }
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        path[--len] = '\0';
    return path;
}

static bool subdir_present(const char *dir)
{
    struct stat st;
    strbuf p = STRBUF_INIT;
    strbuf_printf(&p, "%s/repodata.json.zst", dir);
    bool ok = stat(p.buf, &st) == 0 && S_ISREG(st.st_mode);
    if (!ok) {
        strbuf_truncate(&p, 0);
        strbuf_printf(&p, "%s/repodata.json", dir);
        ok = stat(p.buf, &st) == 0 && S_ISREG(st.st_mode);
    }
    strbuf_free(&p);
    return ok;
}

static void keep(hb_channel_set *cs, repodata *rd)
{
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? 2 * cs->cap : 8;
        cs->loaded = hb_reallocarray(cs->loaded, cs->cap, sizeof *cs->loaded);
    }
    cs->loaded[cs->n++] = rd;
}

/* Adds rd's records to a new repo of the pool; rd is kept in cs.  where: the subdir's
 * path or URL, for errors. */
static int add_subdir(hb_channel_set *cs, hb_pool *pool, repodata *rd, const char *label,
                      const char *subdir, int priority, const char *where, hb_error *err)
{
    keep(cs, rd);
    const char *sub = rd->subdir ? rd->subdir : subdir;
    int repo = hb_pool_add_repo(pool, label, sub, priority);
    char *subname = NULL;
    for (size_t k = 0; k < rd->count; k++) {
        repodata_record *r = &rd->records[k];
        if (!r->rec.subdir) {
            if (!subname) {
                subname = hb_strdup(sub);
                cs->names = hb_reallocarray(cs->names, cs->nnames + 1, sizeof *cs->names);
                cs->names[cs->nnames++] = subname;
            }
            r->rec.subdir = subname;
        }
        if (hb_pool_add_record(pool, repo, &r->rec, (const char *const *)r->constrains,
                               r->timestamp, err) != 0) {
            hb_error_prefix(err, "%s", where);
            if (err)
                err->code = HB_EIO;   /* the channel's data, not the user's input */
            return -1;
        }
    }
    return 0;
}

/* Reads one remote subdir: 1 loaded, 0 absent (404 for both files), -1 error. */
static int fetch_subdir(const char *base, const char *subdir, const char *label,
                        const hb_fetch_cache *cache, repodata **out, strbuf *where, hb_error *err)
{
    static const char *const names[] = {"repodata.json.zst", "repodata.json"};
    *out = NULL;
    for (size_t i = 0; i < 2; i++) {
        strbuf url = STRBUF_INIT;
        strbuf_printf(&url, "%s/%s/%s", base, subdir, names[i]);
        hb_fetch f = {0};
        f.url = url.buf;
        hb_fetch_options opt;
        hb_fetch_options_init(&opt);
        int rc = hb_fetch_one(&f, &opt, cache, err);
        if (rc != 0 && (f.status == 404 || f.status == 403 || f.status == 410)) {
            hb_fetch_free(&f);
            strbuf_free(&url);
            continue;
        }
        if (rc == 0) {
            const repodata_options ropt = {.url = url.buf, .channel = label, .flags = 0};
            *out = repodata_load_file(f.path, &ropt, err);
            if (!*out) {
                hb_error_prefix(err, "%s", url.buf);
                if (err)
                    err->code = HB_EIO;
            }
        } else if (err) {
            err->code = HB_EIO;
        }
        strbuf_truncate(where, 0);
        strbuf_puts(where, url.buf);
        hb_fetch_free(&f);
        strbuf_free(&url);
        return *out ? 1 : -1;
    }
    return 0;
}

static int load_remote(hb_channel_set *cs, hb_pool *pool, const char *channel, const char *platform,
                       int priority, const hb_fetch_cache *cache, hb_error *err)
{
    if (!cache)
        return hb_error_set(err, HB_EINVAL, "channel '%s': HTTP channels need a cache", channel);
    char *base = hb_channel_label(channel);
    const char *subdirs[2] = {platform, "noarch"};
    size_t nsub = strcmp(platform, "noarch") == 0 ? 1 : 2;
    size_t found = 0;
    int rc = 0;
    strbuf where = STRBUF_INIT;
    for (size_t i = 0; i < nsub && rc == 0; i++) {
        repodata *rd = NULL;
        int got = fetch_subdir(base, subdirs[i], base, cache, &rd, &where, err);
        if (got < 0)
            rc = -1;
        else if (got > 0) {
            found++;
            rc = add_subdir(cs, pool, rd, base, subdirs[i], priority, where.buf, err);
        }
    }
    if (rc == 0 && found == 0) {
        if (nsub == 2)
            rc = hb_error_set(err, HB_EINVAL, "channel '%s': no repodata.json(.zst) at %s/%s/ "
                              "nor at %s/noarch/ (HTTP 404)", channel, base, platform, base);
        else
            rc = hb_error_set(err, HB_EINVAL, "channel '%s': no repodata.json(.zst) at %s/%s/ "
                              "(HTTP 404)", channel, base, platform);
    }
    strbuf_free(&where);
    free(base);
    return rc;
}

int hb_channel_load(hb_channel_set *cs, hb_pool *pool, const char *channel, const char *platform,
                    int priority, const hb_fetch_cache *cache, hb_error *err)
{
    if (hb_channel_is_remote(channel))
        return load_remote(cs, pool, channel, platform, priority, cache, err);
    char *dir = hb_channel_local_path(channel, err);
    if (!dir)
        return -1;
    char *label = hb_channel_label(channel);
    const char *subdirs[2] = {platform, "noarch"};
    size_t nsub = strcmp(platform, "noarch") == 0 ? 1 : 2;
    strbuf paths[2] = {STRBUF_INIT, STRBUF_INIT};
    bool present[2] = {false, false};
    for (size_t i = 0; i < nsub; i++) {
        strbuf_printf(&paths[i], "%s/%s", dir, subdirs[i]);
        present[i] = subdir_present(paths[i].buf);
    }
    int rc = 0;
    if (!present[0] && !present[1]) {
        struct stat st;
        /* "-c conda-forge" names a channel, not a directory: say how to reach it. */
        const char *hint = stat(dir, &st) != 0 && !strchr(channel, '/')
                               ? " (a channel name is not resolved yet: give its URL, e.g. "
                                 "https://conda.anaconda.org/conda-forge)"
                               : "";
        if (nsub == 2)
            rc = hb_error_set(err, HB_EINVAL, "channel '%s': no repodata.json in %s nor in %s%s",
                              channel, paths[0].buf, paths[1].buf, hint);
        else
            rc = hb_error_set(err, HB_EINVAL, "channel '%s': no repodata.json in %s%s", channel,
                              paths[0].buf, hint);
    }
    for (size_t i = 0; i < nsub && rc == 0; i++) {
        if (!present[i])
            continue;
        const repodata_options opt = {.url = NULL, .channel = label, .flags = 0};
        repodata *rd = repodata_load_subdir(paths[i].buf, &opt, err);
        if (!rd) {
            if (err)
                err->code = HB_EIO;   /* the channel's data, not the user's input */
            rc = -1;
            break;
        }
        rc = add_subdir(cs, pool, rd, label, subdirs[i], priority, paths[i].buf, err);
    }
    strbuf_free(&paths[0]);
    strbuf_free(&paths[1]);
    free(label);
    free(dir);
    return rc;
}

void hb_channel_set_free(hb_channel_set *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        repodata_free(cs->loaded[i]);
    free(cs->loaded);
    for (size_t i = 0; i < cs->nnames; i++)
        free(cs->names[i]);
    free(cs->names);
    *cs = (hb_channel_set)HB_CHANNEL_SET_INIT;
}

const char *hb_platform_native(void)
{
    struct utsname u;
    if (uname(&u) != 0)
        return NULL;
#if defined(__linux__)
    static const struct { const char *machine, *subdir; } linux_map[] = {
        {"x86_64", "linux-64"},           {"aarch64", "linux-aarch64"},
        {"ppc64le", "linux-ppc64le"},     {"s390x", "linux-s390x"},
        {"armv7l", "linux-armv7l"},       {"riscv64", "linux-riscv64"},
        {"i686", "linux-32"},             {"i386", "linux-32"},
    };
    for (size_t i = 0; i < sizeof linux_map / sizeof *linux_map; i++)
        if (strcmp(u.machine, linux_map[i].machine) == 0)
            return linux_map[i].subdir;
#endif
    return NULL;
}

/* ---- virtual packages ---------------------------------------------------- */

void hb_virtuals_set(hb_virtuals *vs, const char *name, const char *version, const char *build)
{
    for (size_t i = 0; i < vs->n; i++) {
        if (strcmp(vs->v[i].name, name) != 0)
            continue;
        free(vs->v[i].name);
        free(vs->v[i].version);
        free(vs->v[i].build);
        vs->v[i] = vs->v[--vs->n];
        break;
    }
    if (!version || !*version)
        return;
    if (vs->n == vs->cap) {
        vs->cap = vs->cap ? 2 * vs->cap : 8;
        vs->v = hb_reallocarray(vs->v, vs->cap, sizeof *vs->v);
    }
    vs->v[vs->n++] = (hb_virtual){hb_strdup(name), hb_strdup(version),
                                  hb_strdup(build && *build ? build : "0")};
}

void hb_virtuals_free(hb_virtuals *vs)
{
    for (size_t i = 0; i < vs->n; i++) {
        free(vs->v[i].name);
        free(vs->v[i].version);
        free(vs->v[i].build);
    }
    free(vs->v);
    vs->v = NULL;
    vs->n = vs->cap = 0;
}

/* The leading dotted number of a kernel release: "6.1.0-13-amd64" -> "6.1.0" (up to four
 * components, as conda's pattern); "0" when there is none. */
static char *mainline_release(const char *release)
{
    size_t i = 0, parts = 0, end = 0;
    while (parts < 4 && isdigit((unsigned char)release[i])) {
        while (isdigit((unsigned char)release[i]))
            i++;
        parts++;
        end = i;
        if (release[i] != '.' || !isdigit((unsigned char)release[i + 1]))
            break;
        i++;
    }
    return parts >= 2 ? hb_strndup(release, end) : hb_strdup("0");
}

/* "2.36" from glibc's "2.36" or "2.36.9000". */
static char *glibc_major_minor(const char *v)
{
    const char *dot = strchr(v, '.');
    const char *dot2 = dot ? strchr(dot + 1, '.') : NULL;
    return dot2 ? hb_strndup(v, (size_t)(dot2 - v)) : hb_strdup(v);
}

/* CEP 30 Appendix A: the archspec name of a subdir's architecture. */
static const char *subdir_archspec(const char *platform)
{
    const char *dash = strchr(platform, '-');
    const char *arch = dash ? dash + 1 : platform;
    if (strcmp(arch, "64") == 0)
        return "x86_64";
    if (strcmp(arch, "32") == 0)
        return "x86";
    if (strcmp(arch, "aarch64") == 0 || strcmp(arch, "arm64") == 0)
        return "aarch64";
    return arch;
}

void hb_virtuals_detect(hb_virtuals *vs, const char *platform)
{
    bool is_linux = has_prefix(platform, "linux-");
    if (is_linux || has_prefix(platform, "osx-") || has_prefix(platform, "freebsd-") ||
        has_prefix(platform, "emscripten-"))
        hb_virtuals_set(vs, "__unix", "0", NULL);
    if (is_linux) {
        struct utsname u;
        char *rel = uname(&u) == 0 ? mainline_release(u.release) : hb_strdup("0");
        hb_virtuals_set(vs, "__linux", rel, NULL);
        free(rel);
        char *glibc = glibc_major_minor(gnu_get_libc_version());
        hb_virtuals_set(vs, "__glibc", glibc, NULL);
        free(glibc);
    }
    if (has_prefix(platform, "osx-"))
        hb_virtuals_set(vs, "__osx", "0", NULL);
    if (has_prefix(platform, "win-"))
        hb_virtuals_set(vs, "__win", "0", NULL);
    if (strcmp(platform, "noarch") != 0)
        hb_virtuals_set(vs, "__archspec", "1", subdir_archspec(platform));
}
