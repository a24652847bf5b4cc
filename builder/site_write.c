/* site_write.c — merging a detected site into an existing one, and writing a site as YAML
 * (hb_site_merge, hb_site_write; see site_detect.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/site_detect.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/utf8.h"
#include "site_detect_internal.h"

/* Written by hand: no found-by, or one starting with "hand" ("hand", "hand edit"). */
static bool by_hand(const char *found_by)
{
    return !found_by || strncasecmp(found_by, "hand", 4) == 0;
}

/* Top-level info keys that only detection writes: dropped from base when detection no longer
 * finds them (the modules unloaded, ...). */
static const char *const detected_keys[] = {
    "host", "detected", "tool", "kernel", "CC", "CXX", "FC",
    "module-system", "modules", "module-files", "modulepath", NULL};

static bool is_detected_key(const char *key)
{
    for (const char *const *k = detected_keys; *k; k++)
        if (strcmp(*k, key) == 0)
            return true;
    return false;
}

static void merge_info(hb_site *base, hb_site *det)
{
    hb_site_info *out = NULL;
    size_t n = 0;
    bool *used = hb_calloc(det->ninfo + 1, sizeof *used);
    for (size_t i = 0; i < base->ninfo; i++) {
        hb_site_info *b = &base->info[i];
        hb_site_info *d = sd_info_get(det->info, det->ninfo, b->key);
        out = hb_reallocarray(out, n + 1, sizeof *out);
        if (d) {
            used[d - det->info] = true;
            out[n++] = *d;
            memset(d, 0, sizeof *d);
        } else if (!is_detected_key(b->key)) {
            out[n++] = *b;
            memset(b, 0, sizeof *b);
        }
    }
    for (size_t i = 0; i < det->ninfo; i++)
        if (!used[i]) {
            out = hb_reallocarray(out, n + 1, sizeof *out);
            out[n++] = det->info[i];
            memset(&det->info[i], 0, sizeof det->info[i]);
        }
    free(used);
    sd_info_free(base->info, base->ninfo);
    base->info = out;
    base->ninfo = n;
}

static void merge_virtuals(hb_site *base, hb_site *det)
{
    bool *used = hb_calloc(det->nvirtuals + 1, sizeof *used);
    for (size_t i = 0; i < base->nvirtuals; i++) {
        hb_site_virtual *b = &base->virtuals[i];
        for (size_t j = 0; j < det->nvirtuals; j++) {
            if (strcmp(det->virtuals[j].name, b->name) != 0)
                continue;
            used[j] = true;   /* replaced here, or kept out by a hand entry */
            if (!by_hand(b->found_by)) {
                hb_site_virtual tmp = *b;   /* swapped: det frees the old one */
                *b = det->virtuals[j];
                b->line = 0;
                det->virtuals[j] = tmp;
            }
        }
    }
    for (size_t j = 0; j < det->nvirtuals; j++)
        if (!used[j]) {
            base->virtuals = hb_reallocarray(base->virtuals, base->nvirtuals + 1, sizeof *base->virtuals);
            base->virtuals[base->nvirtuals++] = det->virtuals[j];
            memset(&det->virtuals[j], 0, sizeof det->virtuals[j]);
        }
    free(used);
}

static void merge_externals(hb_site *base, hb_site *det)
{
    bool *used = hb_calloc(det->nexternals + 1, sizeof *used);
    for (size_t i = 0; i < base->nexternals; i++) {
        hb_site_external *b = &base->externals[i];
        for (size_t j = 0; j < det->nexternals; j++) {
            if (strcmp(det->externals[j].name, b->name) != 0)
                continue;
            used[j] = true;   /* replaced here, or kept out by a hand entry */
            if (!by_hand(b->found_by)) {
                hb_site_external tmp = *b;   /* swapped: det frees the old one */
                *b = det->externals[j];
                b->line = 0;
                det->externals[j] = tmp;
            }
        }
    }
    for (size_t j = 0; j < det->nexternals; j++)
        if (!used[j]) {
            base->externals = hb_reallocarray(base->externals, base->nexternals + 1,
                                              sizeof *base->externals);
            base->externals[base->nexternals++] = det->externals[j];
            memset(&det->externals[j], 0, sizeof det->externals[j]);
        }
    free(used);
}

void hb_site_merge(hb_site *base, hb_site *det)
{
    merge_info(base, det);
    merge_virtuals(base, det);
    merge_externals(base, det);
    hb_site_free(det);
}

/* ---- writing ---- */

static bool yaml_word(const char *s)
{
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "y", "n",
                                        "null", "~", NULL};
    for (const char *const *w = words; *w; w++)
        if (strcasecmp(s, *w) == 0)
            return true;
    return false;
}

/* True when s can be written as a plain scalar that every YAML reader keeps as this text. */
static bool plain_ok(const char *s)
{
    if (!*s || yaml_word(s) || isdigit((unsigned char)*s))
        return false;
    unsigned char first = (unsigned char)s[0];
    if (!(isalpha(first) || first == '/' || first == '_' || first == '.' ||
          (first == '-' && isalnum((unsigned char)s[1]))))
        return false;
    size_t len = strlen(s);
    if (s[len - 1] == ' ' || s[len - 1] == ':')
        return false;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (!(isalnum(ch) || strchr("_./+=,:()@*%-$ ", ch)))
            return false;
        if ((ch == ':' && p[1] == ' ') || (ch == ' ' && p[1] == '#'))
            return false;
    }
    return true;
}

/* s as a YAML scalar: plain when that is safe (and !quote), else double-quoted. Bytes that are
 * not UTF-8 become U+FFFD (YAML text is UTF-8). */
static void put_scalar(strbuf *out, const char *s, bool quote)
{
    if (!quote && plain_ok(s)) {
        strbuf_puts(out, s);
        return;
    }
    strbuf_putc(out, '"');
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        unsigned char ch = (unsigned char)s[i];
        uint32_t cp;
        size_t n = utf8_decode((const unsigned char *)s + i, len - i, &cp);
        if (n == 0) {
            strbuf_puts(out, "\\uFFFD");
            i++;
            continue;
        }
        if (ch == '"' || ch == '\\')
            strbuf_printf(out, "\\%c", ch);
        else if (ch == '\n')
            strbuf_puts(out, "\\n");
        else if (ch == '\t')
            strbuf_puts(out, "\\t");
        else if (ch < 0x20 || ch == 0x7f)
            strbuf_printf(out, "\\x%02x", ch);
        else
            strbuf_append(out, s + i, n);
        i += n;
    }
    strbuf_putc(out, '"');
}

static void put_field(strbuf *out, int indent, const char *key, const char *value, bool quote)
{
    if (!value)
        return;
    strbuf_printf(out, "%*s%s: ", indent, "", key);
    put_scalar(out, value, quote);
    strbuf_putc(out, '\n');
}

static void put_list(strbuf *out, int indent, const char *key, char *const *values, size_t n)
{
    strbuf_printf(out, "%*s", indent, "");
    put_scalar(out, key, false);
    strbuf_puts(out, n ? ":\n" : ": []\n");
    for (size_t i = 0; i < n; i++) {
        strbuf_printf(out, "%*s  - ", indent, "");
        put_scalar(out, values[i], false);
        strbuf_putc(out, '\n');
    }
}

static void put_info(strbuf *out, int indent, const hb_site_info *info, size_t n)
{
    if (!n)
        return;
    strbuf_printf(out, "%*sinfo:\n", indent, "");
    for (size_t i = 0; i < n; i++) {
        const hb_site_info *it = &info[i];
        if (it->is_list || it->nvalues != 1) {
            put_list(out, indent + 2, it->key, it->values, it->nvalues);
        } else {
            strbuf_printf(out, "%*s", indent + 2, "");
            put_scalar(out, it->key, false);
            strbuf_puts(out, ": ");
            put_scalar(out, it->values[0], false);
            strbuf_putc(out, '\n');
        }
    }
}

void hb_site_write(const hb_site *site, strbuf *out)
{
    strbuf_puts(out, "# What this site provides (docs/site.md), written by `hpcbuild site detect`.\n"
                     "# Entries with `found-by: hand` (or without found-by) are kept as they are when\n"
                     "# detection runs again; so are entries detection does not find.\n"
                     "format: 1\n");
    put_info(out, 0, site->info, site->ninfo);
    if (site->nvirtuals)
        strbuf_puts(out, "virtual:\n");
    for (size_t i = 0; i < site->nvirtuals; i++) {
        const hb_site_virtual *v = &site->virtuals[i];
        strbuf_printf(out, "  %s:", v->name);
        if (!*v->version) {
            strbuf_puts(out, " \"\"\n");
            continue;
        }
        strbuf_putc(out, '\n');
        put_field(out, 4, "version", v->version, true);
        put_field(out, 4, "build", v->build, false);
        put_field(out, 4, "found-by", v->found_by, false);
    }
    if (site->nexternals)
        strbuf_puts(out, "externals:\n");
    for (size_t i = 0; i < site->nexternals; i++) {
        const hb_site_external *e = &site->externals[i];
        put_field(out, 2, "- name", e->name, false);
        put_field(out, 4, "version", e->version, true);
        if (e->build && strcmp(e->build, "external_site") != 0)
            put_field(out, 4, "build", e->build, false);
        if (e->nprovides)
            put_list(out, 4, "provides", e->provides, e->nprovides);
        put_field(out, 4, "prefix", e->prefix, false);
        put_field(out, 4, "found-by", e->found_by, false);
        put_field(out, 4, "module", e->module, false);
        put_info(out, 4, e->info, e->ninfo);
    }
}
