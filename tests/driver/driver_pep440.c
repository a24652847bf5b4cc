/* Test-driver commands of the pep440 area.
 *
 *   pep440.parse V           -> ok STR PUBLIC BASE EPOCH RELEASE PRE POST DEV LOCAL
 *                               IS_PRE IS_POST IS_DEV       (RELEASE "1,0"; PRE "a,1";
 *                               an absent PRE/POST/DEV/LOCAL is "")
 *   pep440.compare A B       -> < | = | >
 *   pep440.spec.parse S      -> ok STR COUNT SETPRE {OP VERSION CLAUSEPRE}...
 *   pep440.spec.contains S V SPECPRE PRE INSTALLED -> true | false
 *   pep440.spec.filter S SPECPRE PRE V...           -> ok KEPT...
 *   pep440.spec.unsat S SPECPRE                     -> true | false
 *   pep440.spec.equal A B                           -> true | false
 *   pep440.spec.subset A APRE B BPRE                -> true | false (A within B)
 *
 * Pre-release settings are "" (None), "true" or "false".  Bad input
 * answers "error" and the message. */
#include "driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/pep440.h"

static int tri(const char *s)
{
    if (strcmp(s, "true") == 0)
        return PEP440_PRE_ALLOW;
    if (strcmp(s, "false") == 0)
        return PEP440_PRE_DENY;
    return PEP440_PRE_UNSET;
}

static const char *tri_name(int t)
{
    return t == PEP440_PRE_ALLOW ? "true" : t == PEP440_PRE_DENY ? "false" : "none";
}

static void put_u64(strbuf *out, uint64_t n)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)n);
    driver_puts(out, buf);
}

static int cmd_parse(const driver_args *a, strbuf *out)
{
    if (a->n != 1)
        return driver_error(out, "pep440.parse needs 1 argument");
    pep440_version v;
    hb_error err;
    if (pep440_version_parse(&v, a->v[0], a->len[0], &err) != 0)
        return driver_error(out, err.msg);
    strbuf sb = STRBUF_INIT;
    driver_puts(out, "ok");
    pep440_version_format(&v, &sb);
    driver_put(out, sb.buf, sb.len);
    strbuf_truncate(&sb, 0);
    pep440_version_format_public(&v, &sb);
    driver_put(out, sb.buf, sb.len);
    strbuf_truncate(&sb, 0);
    pep440_version_format_base(&v, &sb);
    driver_put(out, sb.buf, sb.len);
    put_u64(out, v.epoch);
    size_t n;
    const uint64_t *r = pep440_version_release(&v, &n);
    strbuf_truncate(&sb, 0);
    for (size_t i = 0; i < n; i++)
        strbuf_printf(&sb, "%s%llu", i ? "," : "", (unsigned long long)r[i]);
    driver_put(out, sb.buf, sb.len);
    strbuf_truncate(&sb, 0);
    if (v.pre_kind >= 0)
        strbuf_printf(&sb, "%s,%llu", v.pre_kind == 0 ? "a" : v.pre_kind == 1 ? "b" : "rc",
                      (unsigned long long)v.pre);
    driver_put(out, strbuf_str(&sb), sb.len);
    if (v.has_post)
        put_u64(out, v.post);
    else
        driver_puts(out, "");
    if (v.has_dev)
        put_u64(out, v.dev);
    else
        driver_puts(out, "");
    driver_put(out, v.local ? v.local : "", v.local_len);
    driver_puts(out, pep440_version_is_prerelease(&v) ? "true" : "false");
    driver_puts(out, pep440_version_is_postrelease(&v) ? "true" : "false");
    driver_puts(out, pep440_version_is_devrelease(&v) ? "true" : "false");
    strbuf_free(&sb);
    pep440_version_free(&v);
    return 1;
}

static int cmd_compare(const driver_args *a, strbuf *out)
{
    if (a->n != 2)
        return driver_error(out, "pep440.compare needs 2 arguments");
    pep440_version x, y;
    hb_error err;
    if (pep440_version_parse(&x, a->v[0], a->len[0], &err) != 0)
        return driver_error(out, err.msg);
    if (pep440_version_parse(&y, a->v[1], a->len[1], &err) != 0) {
        pep440_version_free(&x);
        return driver_error(out, err.msg);
    }
    int c = pep440_version_compare(&x, &y);
    driver_puts(out, c < 0 ? "<" : c > 0 ? ">" : "=");
    pep440_version_free(&x);
    pep440_version_free(&y);
    return 1;
}

static int spec_parse(pep440_specset *set, const driver_args *a, size_t i, strbuf *out)
{
    hb_error err;
    if (pep440_specset_parse(set, a->v[i], a->len[i], &err) != 0) {
        driver_error(out, err.msg);
        return -1;
    }
    return 0;
}

static int cmd_spec_parse(const driver_args *a, strbuf *out)
{
    if (a->n != 1)
        return driver_error(out, "pep440.spec.parse needs 1 argument");
    pep440_specset set;
    if (spec_parse(&set, a, 0, out))
        return 1;
    strbuf sb = STRBUF_INIT;
    pep440_specset_format(&set, &sb);
    driver_puts(out, "ok");
    driver_put(out, strbuf_str(&sb), sb.len);
    put_u64(out, pep440_specset_count(&set));
    driver_puts(out, tri_name(pep440_specset_prereleases(&set)));
    for (size_t i = 0; i < pep440_specset_count(&set); i++) {
        driver_puts(out, pep440_clause_operator(&set, i));
        driver_puts(out, pep440_clause_version(&set, i));
        driver_puts(out, tri_name(pep440_clause_prereleases(&set, i)));
    }
    strbuf_free(&sb);
    pep440_specset_free(&set);
    return 1;
}

static int cmd_spec_contains(const driver_args *a, strbuf *out)
{
    if (a->n != 5)
        return driver_error(out, "pep440.spec.contains needs 5 arguments");
    pep440_specset set;
    if (spec_parse(&set, a, 0, out))
        return 1;
    set.prereleases = tri(a->v[2]);
    bool r = pep440_specset_contains(&set, a->v[1], a->len[1], tri(a->v[3]),
                                     strcmp(a->v[4], "true") == 0);
    driver_puts(out, r ? "true" : "false");
    pep440_specset_free(&set);
    return 1;
}

static int cmd_spec_filter(const driver_args *a, strbuf *out)
{
    if (a->n < 3)
        return driver_error(out, "pep440.spec.filter needs at least 3 arguments");
    pep440_specset set;
    if (spec_parse(&set, a, 0, out))
        return 1;
    set.prereleases = tri(a->v[1]);
    size_t n = a->n - 3;
    size_t *keep = hb_calloc(n + 1, sizeof *keep);
    size_t k = pep440_specset_filter(&set, (const char *const *)a->v + 3, a->len + 3, n,
                                     tri(a->v[2]), keep);
    driver_puts(out, "ok");
    for (size_t i = 0; i < k; i++)
        driver_put(out, a->v[3 + keep[i]], a->len[3 + keep[i]]);
    free(keep);
    pep440_specset_free(&set);
    return 1;
}

static int cmd_spec_unsat(const driver_args *a, strbuf *out)
{
    if (a->n != 2)
        return driver_error(out, "pep440.spec.unsat needs 2 arguments");
    pep440_specset set;
    if (spec_parse(&set, a, 0, out))
        return 1;
    set.prereleases = tri(a->v[1]);
    driver_puts(out, pep440_specset_is_unsatisfiable(&set) ? "true" : "false");
    pep440_specset_free(&set);
    return 1;
}

static int cmd_spec_equal(const driver_args *a, strbuf *out)
{
    if (a->n != 2)
        return driver_error(out, "pep440.spec.equal needs 2 arguments");
    pep440_specset x, y;
    if (spec_parse(&x, a, 0, out))
        return 1;
    if (spec_parse(&y, a, 1, out)) {
        pep440_specset_free(&x);
        return 1;
    }
    driver_puts(out, pep440_specset_equal(&x, &y) ? "true" : "false");
    pep440_specset_free(&x);
    pep440_specset_free(&y);
    return 1;
}

static int cmd_spec_subset(const driver_args *a, strbuf *out)
{
    if (a->n != 4)
        return driver_error(out, "pep440.spec.subset needs 4 arguments");
    pep440_specset x, y;
    if (spec_parse(&x, a, 0, out))
        return 1;
    if (spec_parse(&y, a, 2, out)) {
        pep440_specset_free(&x);
        return 1;
    }
    x.prereleases = tri(a->v[1]);
    y.prereleases = tri(a->v[3]);
    hb_error err;
    int r = pep440_specset_is_subset(&x, &y, &err);
    if (r < 0)
        driver_error(out, err.msg);
    else
        driver_puts(out, r ? "true" : "false");
    pep440_specset_free(&x);
    pep440_specset_free(&y);
    return 1;
}

int driver_pep440(const char *cmd, const driver_args *args, strbuf *out)
{
    if (strcmp(cmd, "pep440.spec.subset") == 0)
        return cmd_spec_subset(args, out);
    if (strcmp(cmd, "pep440.parse") == 0)
        return cmd_parse(args, out);
    if (strcmp(cmd, "pep440.compare") == 0)
        return cmd_compare(args, out);
    if (strcmp(cmd, "pep440.spec.parse") == 0)
        return cmd_spec_parse(args, out);
    if (strcmp(cmd, "pep440.spec.contains") == 0)
        return cmd_spec_contains(args, out);
    if (strcmp(cmd, "pep440.spec.filter") == 0)
        return cmd_spec_filter(args, out);
    if (strcmp(cmd, "pep440.spec.unsat") == 0)
        return cmd_spec_unsat(args, out);
    if (strcmp(cmd, "pep440.spec.equal") == 0)
        return cmd_spec_equal(args, out);
    return 0;
}
