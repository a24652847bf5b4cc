/* wheel_scripts.c — entry_points.txt, shebangs and wrapper scripts (wheel_scripts.h). */
#include "hpcbuild/wheel_scripts.h"

#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"

#define SHEBANG_MAX 127   /* "#!" + interpreter + "\n", pypa/installer's Linux limit */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* \w as Python's re sees str patterns: ASCII letters, digits, '_' and (here) any non-ASCII byte. */
static bool is_word(char c)
{
    unsigned char u = (unsigned char)c;
    return u >= 0x80 || u == '_' || (u >= '0' && u <= '9') || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z');
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && is_space(**s))
        (*s)++;
    while (*e > *s && is_space((*e)[-1]))
        (*e)--;
}

static size_t dotted_len(const char *s, const char *e)
{
    size_t n = 0;
    while (s + n < e && (is_word(s[n]) || s[n] == '.'))
        n++;
    return n;
}

/* "module[:attr] [extras]" into ep; -1 when the value does not have that form. */
static int parse_value(hb_entry_point *ep, const char *s, const char *e)
{
    trim(&s, &e);
    size_t n = dotted_len(s, e);
    if (n == 0)
        return -1;
    ep->module = hb_strndup(s, n);
    s += n;
    trim(&s, &e);
    if (s < e && *s == ':') {
        s++;
        trim(&s, &e);
        n = dotted_len(s, e);
        if (n == 0)
            return -1;
        ep->attr = hb_strndup(s, n);
        s += n;
        trim(&s, &e);
    }
    size_t nextras = 0;
    ep->extras = hb_calloc(1, sizeof *ep->extras);
    if (s == e)
        return 0;
    if (*s != '[' || e[-1] != ']')
        return -1;
    for (const char *p = s + 1; p < e - 1;) {
        const char *comma = memchr(p, ',', (size_t)(e - 1 - p));
        const char *fe = comma ? comma : e - 1, *fs = p;
        trim(&fs, &fe);
        if (fs < fe) {
            ep->extras = hb_reallocarray(ep->extras, nextras + 2, sizeof *ep->extras);
            ep->extras[nextras++] = hb_strndup(fs, (size_t)(fe - fs));
            ep->extras[nextras] = NULL;
        }
        p = comma ? comma + 1 : e - 1;
    }
    return 0;
}

static void entry_point_clear(hb_entry_point *ep)
{
    free(ep->group);
    free(ep->name);
    free(ep->module);
    free(ep->attr);
    for (char **x = ep->extras; x && *x; x++)
        free(*x);
    free(ep->extras);
}

void hb_entry_points_free(hb_entry_point *eps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        entry_point_clear(&eps[i]);
    free(eps);
}

typedef struct ini_state {
    const char *what;
    hb_entry_point *eps;
    size_t n;
    char **sections;    /* seen, for duplicates */
    size_t nsections;
    const char *section;
    strbuf value;       /* the pending entry's value (continuations joined by \n) */
    char *name;         /* the pending entry's name, or NULL */
    size_t name_line, name_indent;
} ini_state;

/* Finishes the pending entry: parses its value and appends it. */
static int flush_entry(ini_state *st, hb_error *err)
{
    if (!st->name)
        return 0;
    hb_entry_point ep = {NULL, st->name, NULL, NULL, NULL, st->name_line};
    st->name = NULL;
    ep.group = hb_strdup(st->section);
    const char *v = strbuf_str(&st->value);
    if (parse_value(&ep, v, v + st->value.len) != 0) {
        hb_error_set(err, HB_EINVAL,
                     "%s line %zu: entry point '%s' in [%s] is '%s': expected 'module:attr [extras]'",
                     st->what, ep.line, ep.name, ep.group, v);
        entry_point_clear(&ep);
        return -1;
    }
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->eps[i].group, ep.group) == 0 && strcmp(st->eps[i].name, ep.name) == 0) {
            hb_error_set(err, HB_EINVAL, "%s line %zu: entry point '%s' already defined in [%s]",
                         st->what, ep.line, ep.name, ep.group);
            entry_point_clear(&ep);
            return -1;
        }
    st->eps = hb_reallocarray(st->eps, st->n + 1, sizeof *st->eps);
    st->eps[st->n++] = ep;
    return 0;
}

static int ini_line(ini_state *st, const char *s, const char *e, size_t lineno, hb_error *err)
{
    const char *ts = s, *te = e;
    trim(&ts, &te);
    size_t indent = (size_t)(ts - s);
    if (ts == te || *ts == '#' || *ts == ';')
        return 0;   /* blank lines and comments (configparser keeps blanks only inside values) */
    if (st->name && indent > st->name_indent) {   /* a continuation line */
        strbuf_putc(&st->value, '\n');
        strbuf_append(&st->value, ts, (size_t)(te - ts));
        return 0;
    }
    if (flush_entry(st, err) != 0)
        return -1;
    if (*ts == '[') {
        const char *close = te;
        while (close > ts + 1 && close[-1] != ']')
            close--;
        if (close > ts + 2) {
            char *name = hb_strndup(ts + 1, (size_t)(close - 1 - (ts + 1)));
            for (size_t i = 0; i < st->nsections; i++)
                if (strcmp(st->sections[i], name) == 0) {
                    free(name);
                    return hb_error_set(err, HB_EINVAL, "%s line %zu: section [%s] already defined",
                                        st->what, lineno, st->sections[i]);
                }
            st->sections = hb_reallocarray(st->sections, st->nsections + 1, sizeof *st->sections);
            st->sections[st->nsections++] = name;
            st->section = name;
            return 0;
        }
    }
    if (!st->section)
        return hb_error_set(err, HB_EINVAL, "%s line %zu: '%.*s' comes before any [section]", st->what,
                            lineno, (int)(te - ts), ts);
    const char *eq = memchr(ts, '=', (size_t)(te - ts));
    const char *ne = eq;
    if (eq)
        trim(&ts, &ne);
    if (!eq || ne == ts)
        return hb_error_set(err, HB_EINVAL, "%s line %zu: '%.*s': expected 'name = value'", st->what,
                            lineno, (int)(te - ts), ts);
    st->name = hb_strndup(ts, (size_t)(ne - ts));
    st->name_line = lineno;
    st->name_indent = indent;
    const char *vs = eq + 1;
    trim(&vs, &te);
    strbuf_truncate(&st->value, 0);
    strbuf_append(&st->value, vs, (size_t)(te - vs));
    return 0;
}

int hb_entry_points_parse(const char *data, size_t len, const char *what, hb_entry_point **eps,
                          size_t *n, hb_error *err)
{
    ini_state st = {what, NULL, 0, NULL, 0, NULL, STRBUF_INIT, NULL, 0, 0};
    int rc = 0;
    size_t lineno = 0;
    for (const char *p = data, *end = data + len; p < end && rc == 0;) {
        const char *nl = p;
        while (nl < end && *nl != '\n' && *nl != '\r')
            nl++;
        rc = ini_line(&st, p, nl, ++lineno, err);
        p = nl < end && *nl == '\r' && nl + 1 < end && nl[1] == '\n' ? nl + 2 : nl + 1;
    }
    if (rc == 0)
        rc = flush_entry(&st, err);
    free(st.name);
    strbuf_free(&st.value);
    for (size_t i = 0; i < st.nsections; i++)
        free(st.sections[i]);
    free(st.sections);
    if (rc != 0) {
        hb_entry_points_free(st.eps, st.n);
        st.eps = NULL;
        st.n = 0;
    }
    *eps = st.eps;
    *n = st.n;
    return rc;
}

/* shlex.quote: unchanged when only [A-Za-z0-9@%_+=:,./-], else '...' with ' as '"'"'. */
void hb_shell_quote(strbuf *out, const char *s)
{
    bool safe = *s != '\0';
    for (const char *p = s; *p && safe; p++)
        safe = ((unsigned char)*p < 0x80 && is_word(*p)) || strchr("@%+=:,./-", *p);
    if (safe) {
        strbuf_puts(out, s);
        return;
    }
    strbuf_putc(out, '\'');
    for (const char *p = s; *p; p++)
        if (*p == '\'')
            strbuf_puts(out, "'\"'\"'");
        else
            strbuf_putc(out, *p);
    strbuf_putc(out, '\'');
}

void hb_script_shebang(strbuf *out, const char *python)
{
    if (!strchr(python, ' ') && strlen(python) + 3 <= SHEBANG_MAX) {
        strbuf_printf(out, "#!%s\n", python);
        return;
    }
    strbuf_puts(out, "#!/bin/sh\n'''exec' ");
    hb_shell_quote(out, python);
    strbuf_puts(out, " \"$0\" \"$@\"\n' '''\n");
}

void hb_script_entry_point(strbuf *out, const char *python, const char *module, const char *attr)
{
    size_t first = strcspn(attr, ".");
    hb_script_shebang(out, python);
    strbuf_printf(out,
                  "# -*- coding: utf-8 -*-\n"
                  "import re\n"
                  "import sys\n"
                  "from %s import %.*s\n"
                  "if __name__ == \"__main__\":\n"
                  "    sys.argv[0] = re.sub(r\"(-script\\.pyw|\\.exe)?$\", \"\", sys.argv[0])\n"
                  "    sys.exit(%s())\n",
                  module, (int)first, attr, attr);
}

bool hb_script_fix_shebang(strbuf *out, const char *data, size_t len, const char *python)
{
    if (len < 8 || memcmp(data, "#!python", 8) != 0)
        return false;
    const char *nl = memchr(data, '\n', len);
    size_t rest = nl ? (size_t)(data + len - (nl + 1)) : 0;
    hb_script_shebang(out, python);
    if (nl)
        strbuf_append(out, nl + 1, rest);
    return true;
}
