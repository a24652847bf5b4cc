/* Test-driver commands of the wheel tags area.
 *
 *   distname.parse FILE [PROJECT]
 *     -> ok KIND NAME NORMALIZED VERSION NORMALIZED_VERSION EXT [build NUM REST] [tag T]...
 *     -> error MESSAGE
 *   tags.list IMPL MAJOR MINOR ABI FREE_THREADED(0|1) PLATFORM ARCH LIBC(none|glibc|musl) LMAJOR LMINOR
 *     -> ok TAG...   (hb_tag_set_new's order)
 *   tags.rank <the ten target fields> WHEEL_FILE
 *     -> ok RANK   (hb_tag_set_rank_wheel, -1 when unsupported)
 */
#include "driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/distname.h"
#include "hpcbuild/pep440.h"
#include "hpcbuild/tags.h"

static int distname_parse(const driver_args *args, strbuf *out)
{
    if (args->n < 1 || args->n > 2)
        return driver_error(out, "distname.parse: expected FILE [PROJECT]");
    hb_distname d;
    hb_error err;
    if (hb_distname_parse(&d, args->v[0], args->n == 2 ? args->v[1] : NULL, &err) != 0)
        return driver_error(out, err.msg);
    strbuf s = STRBUF_INIT;
    pep440_version v;
    if (pep440_version_parse(&v, d.version, strlen(d.version), NULL) == 0) {
        pep440_version_format(&v, &s);
        pep440_version_free(&v);
    }
    driver_puts(out, "ok");
    driver_puts(out, d.kind == HB_DIST_WHEEL ? "wheel" : "sdist");
    driver_puts(out, d.name);
    driver_puts(out, d.normalized);
    driver_puts(out, d.version);
    driver_puts(out, strbuf_str(&s));
    driver_puts(out, d.ext);
    if (d.has_build) {
        strbuf_truncate(&s, 0);
        strbuf_printf(&s, "%llu", (unsigned long long)d.build_num);
        driver_puts(out, "build");
        driver_puts(out, strbuf_str(&s));
        driver_puts(out, d.build_rest);
    }
    for (size_t i = 0; i < d.ntags; i++)
        driver_put_pair(out, "tag", d.tags[i]);
    strbuf_free(&s);
    hb_distname_free(&d);
    return 1;
}

static bool read_int(const char *s, int *v)
{
    char *end;
    long n = strtol(s, &end, 10);
    *v = (int)n;
    return *s && !*end;
}

/* The ten target fields starting at args->v[0]; false when malformed. */
static bool read_target(const driver_args *args, hb_python_target *t)
{
    memset(t, 0, sizeof *t);
    int ft;
    if (args->n < 10 || !read_int(args->v[1], &t->py_major) || !read_int(args->v[2], &t->py_minor) ||
        !read_int(args->v[4], &ft) || !read_int(args->v[8], &t->libc_major) ||
        !read_int(args->v[9], &t->libc_minor))
        return false;
    snprintf(t->impl, sizeof t->impl, "%s", args->v[0]);
    snprintf(t->abi, sizeof t->abi, "%s", args->v[3]);
    t->free_threaded = ft != 0;
    snprintf(t->platform, sizeof t->platform, "%s", args->v[5]);
    snprintf(t->arch, sizeof t->arch, "%s", args->v[6]);
    t->libc = strcmp(args->v[7], "glibc") == 0 ? HB_LIBC_GLIBC
              : strcmp(args->v[7], "musl") == 0 ? HB_LIBC_MUSL : HB_LIBC_NONE;
    return true;
}

int driver_tags(const char *cmd, const driver_args *args, strbuf *out)
{
    if (strcmp(cmd, "distname.parse") == 0)
        return distname_parse(args, out);
    bool list = strcmp(cmd, "tags.list") == 0;
    if (!list && strcmp(cmd, "tags.rank") != 0)
        return 0;
    hb_python_target t;
    if (!read_target(args, &t) || args->n != (list ? 10u : 11u))
        return driver_error(out, "tags: expected IMPL MAJOR MINOR ABI FT PLATFORM ARCH LIBC LMAJOR LMINOR");
    hb_tag_set *ts = hb_tag_set_new(&t);
    driver_puts(out, "ok");
    if (list) {
        for (size_t i = 0; i < hb_tag_set_count(ts); i++)
            driver_puts(out, hb_tag_set_get(ts, i));
    } else {
        hb_distname d;
        hb_error err;
        if (hb_distname_parse(&d, args->v[10], NULL, &err) != 0) {
            driver_error(out, err.msg);
        } else {
            char rank[32];
            snprintf(rank, sizeof rank, "%ld", hb_tag_set_rank_wheel(ts, &d));
            driver_puts(out, rank);
            hb_distname_free(&d);
        }
    }
    hb_tag_set_free(ts);
    return 1;
}
