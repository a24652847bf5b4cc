/* toml.c — the TOML 1.0.0 reader (see include/hpcbuild/toml.h).
 *
 * One pass over the bytes with a hand-written recursive-descent parser.  The
 * redefinition rules are tracked per table node by how it came to exist:
 *
 *   IMPLICIT  named as a prefix of a [header] or [[header]]; a later [header]
 *             may define it once, and dotted keys may extend it (it then
 *             counts as created by those dotted keys);
 *   HEADER    defined by [header] (or an element of [[header]]): never again
 *             by a header, never extended by dotted keys from elsewhere;
 *   DOTTED    created by dotted keys in one section (a [header] block or an
 *             inline table, told apart by `section`): only that section's
 *             dotted keys may extend it, and no header may define it, though
 *             a header may define sub-tables inside it;
 *   INLINE    an inline table: frozen.
 *
 * Arrays are STATIC (a value, frozen) or AOT (made by [[header]], which
 * appends tables; a header path through it goes into its last table).  The
 * frozen kinds need no recursive marking: every outside path into their
 * contents passes through them first.
 */
#include "hpcbuild/toml.h"
#include "hpcbuild/alloc.h"
#include "hpcbuild/utf8.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum node_kind {
    KIND_SCALAR = 0,
    TAB_IMPLICIT, TAB_HEADER, TAB_DOTTED, TAB_INLINE,
    ARR_STATIC, ARR_AOT,
};

typedef struct toml_doc {
    char *source;
} toml_doc;

typedef struct toml_entry {
    char *key;
    size_t keylen;
    toml_value *val;
} toml_entry;

struct toml_value {
    toml_type type;
    unsigned char kind;       /* enum node_kind */
    unsigned depth;           /* root table: 0 */
    unsigned line, col;
    unsigned section;         /* DOTTED tables: the section that made them */
    toml_doc *doc;
    toml_value *parent;       /* NULL for the root and for unattached values */
    size_t index;             /* entry index in a parent table, or array index */
    union {
        struct {
            toml_entry *e;
            size_t n, cap;
            uint32_t *slots;  /* hash index (entry index + 1; 0 = empty) */
            size_t nslots;    /* 0 or a power of two */
        } tab;
        struct {
            toml_value **v;
            size_t n, cap;
        } arr;
        struct {
            char *s;          /* strings and date-time text */
            size_t len;
        } str;
        int64_t i;
        double f;
        bool b;
    } u;
};

/* ------------------------------------------------------------------------ */
/* Tree nodes                                                               */

static toml_value *node_new(toml_doc *doc, toml_type type, unsigned char kind,
                            unsigned line, unsigned col, unsigned depth)
{
    toml_value *v = hb_calloc(1, sizeof *v);
    v->type = type;
    v->kind = kind;
    v->line = line;
    v->col = col;
    v->depth = depth;
    v->doc = doc;
    return v;
}

static void node_free(toml_value *v)
{
    if (!v)
        return;
    switch (v->type) {
    case TOML_TABLE:
        for (size_t i = 0; i < v->u.tab.n; i++) {
            free(v->u.tab.e[i].key);
            node_free(v->u.tab.e[i].val);
        }
        free(v->u.tab.e);
        free(v->u.tab.slots);
        break;
    case TOML_ARRAY:
        for (size_t i = 0; i < v->u.arr.n; i++)
            node_free(v->u.arr.v[i]);
        free(v->u.arr.v);
        break;
    case TOML_STRING:
    case TOML_DATETIME:
    case TOML_DATETIME_LOCAL:
    case TOML_DATE_LOCAL:
    case TOML_TIME_LOCAL:
        free(v->u.str.s);
        break;
    default:
        break;
    }
    free(v);
}

void toml_free(toml_value *root)
{
    if (!root)
        return;
    toml_doc *doc = root->parent ? NULL : root->doc;
    node_free(root);
    if (doc) {
        free(doc->source);
        free(doc);
    }
}

static uint32_t key_hash(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 16777619u;
    }
    return h;
}

static void table_reindex(toml_value *t, size_t nslots)
{
    free(t->u.tab.slots);
    t->u.tab.slots = hb_calloc(nslots, sizeof *t->u.tab.slots);
    t->u.tab.nslots = nslots;
    for (size_t i = 0; i < t->u.tab.n; i++) {
        size_t h = key_hash(t->u.tab.e[i].key, t->u.tab.e[i].keylen) & (nslots - 1);
        while (t->u.tab.slots[h])
            h = (h + 1) & (nslots - 1);
        t->u.tab.slots[h] = (uint32_t)(i + 1);
    }
}

static toml_value *table_find(const toml_value *t, const char *key, size_t len)
{
    if (t->u.tab.nslots) {
        size_t mask = t->u.tab.nslots - 1;
        for (size_t h = key_hash(key, len) & mask; t->u.tab.slots[h]; h = (h + 1) & mask) {
            const toml_entry *e = &t->u.tab.e[t->u.tab.slots[h] - 1];
            if (e->keylen == len && memcmp(e->key, key, len) == 0)
                return e->val;
        }
        return NULL;
    }
    for (size_t i = 0; i < t->u.tab.n; i++) {
        const toml_entry *e = &t->u.tab.e[i];
        if (e->keylen == len && memcmp(e->key, key, len) == 0)
            return e->val;
    }
    return NULL;
}

/* Adds key (taking ownership of the allocated key) -> val; the key is new. */
static void table_add(toml_value *t, char *key, size_t len, toml_value *val)
{
    if (t->u.tab.n == t->u.tab.cap) {
        t->u.tab.cap = t->u.tab.cap ? 2 * t->u.tab.cap : 4;
        t->u.tab.e = hb_reallocarray(t->u.tab.e, t->u.tab.cap, sizeof *t->u.tab.e);
    }
    size_t i = t->u.tab.n++;
    t->u.tab.e[i] = (toml_entry){key, len, val};
    val->parent = t;
    val->index = i;
    if (t->u.tab.n >= 8 && 2 * t->u.tab.n > t->u.tab.nslots) {
        table_reindex(t, t->u.tab.nslots ? 2 * t->u.tab.nslots : 32);
    } else if (t->u.tab.nslots) {
        size_t mask = t->u.tab.nslots - 1;
        size_t h = key_hash(key, len) & mask;
        while (t->u.tab.slots[h])
            h = (h + 1) & mask;
        t->u.tab.slots[h] = (uint32_t)(i + 1);
    }
}

static void array_push(toml_value *a, toml_value *val)
{
    if (a->u.arr.n == a->u.arr.cap) {
        a->u.arr.cap = a->u.arr.cap ? 2 * a->u.arr.cap : 4;
        a->u.arr.v = hb_reallocarray(a->u.arr.v, a->u.arr.cap, sizeof *a->u.arr.v);
    }
    val->parent = a;
    val->index = a->u.arr.n;
    a->u.arr.v[a->u.arr.n++] = val;
}

/* ------------------------------------------------------------------------ */
/* The parser state, positions and errors                                   */

typedef struct parser {
    const char *s;
    size_t len;
    size_t pos;
    toml_doc *doc;
    hb_error *err;
    unsigned next_section;   /* section ids: [header] blocks and inline tables */
    /* A forward-moving cursor that turns byte offsets into line:column. */
    size_t cur_off;
    unsigned cur_line, cur_col;
    strbuf buf;              /* scratch for decoding strings */
} parser;

static void locate(parser *p, size_t off, unsigned *line, unsigned *col)
{
    if (off > p->len)
        off = p->len;
    if (off < p->cur_off) {
        p->cur_off = 0;
        p->cur_line = 1;
        p->cur_col = 1;
        if (p->len >= 3 && memcmp(p->s, "\xEF\xBB\xBF", 3) == 0 && off >= 3)
            p->cur_off = 3;
    }
    for (; p->cur_off < off; p->cur_off++) {
        unsigned char c = (unsigned char)p->s[p->cur_off];
        if (c == '\n') {
            p->cur_line++;
            p->cur_col = 1;
        } else if ((c & 0xC0) != 0x80) {
            p->cur_col++;
        }
    }
    *line = p->cur_line;
    *col = p->cur_col;
}

static int fail_at(parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(parser *p, size_t off, const char *fmt, ...)
{
    if (!p->err)
        return -1;
    unsigned line, col;
    locate(p, off, &line, &col);
    char msg[sizeof p->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hb_error_set(p->err, HB_EINVAL, "%s:%u:%u: %s", p->doc->source, line, col, msg);
}

/* A short description of the input at off, for "found ..." in messages. */
static const char *describe(const parser *p, size_t off, char out[32])
{
    if (off >= p->len)
        return "end of file";
    unsigned char c = (unsigned char)p->s[off];
    if (c == '\n')
        return "end of line";
    if (c == '\r')
        return off + 1 < p->len && p->s[off + 1] == '\n' ? "end of line" : "carriage return";
    if (c == '\t')
        return "tab";
    if (c < 0x20 || c == 0x7f) {
        snprintf(out, 32, "control character U+%04X", c);
        return out;
    }
    if (c == '\'') {
        snprintf(out, 32, "\"'\"");
        return out;
    }
    if (c < 0x80) {
        snprintf(out, 32, "'%c'", c);
        return out;
    }
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (off + n > p->len)
        n = p->len - off;
    out[0] = '\'';
    memcpy(out + 1, p->s + off, n);
    out[1 + n] = '\'';
    out[2 + n] = '\0';
    return out;
}

static int peek(const parser *p)
{
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int peek_at(const parser *p, size_t k)
{
    return p->pos + k < p->len ? (unsigned char)p->s[p->pos + k] : -1;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_hex(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static bool is_bare_key_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
}
/* Control characters TOML forbids in strings and comments (tab is fine). */
static bool is_forbidden_control(int c)
{
    return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
        p->pos++;
}

/* At a newline (LF or CRLF)?  Returns its length, else 0. */
static size_t newline_len(const parser *p)
{
    int c = peek(p);
    if (c == '\n')
        return 1;
    if (c == '\r' && peek_at(p, 1) == '\n')
        return 2;
    return 0;
}

static int skip_comment(parser *p)
{
    if (peek(p) != '#')
        return 0;
    for (p->pos++; p->pos < p->len; p->pos++) {
        int c = (unsigned char)p->s[p->pos];
        if (c == '\n' || (c == '\r' && peek_at(p, 1) == '\n'))
            break;
        if (is_forbidden_control(c)) {
            char d[32];
            return fail_at(p, p->pos, "%s is not allowed in a comment", describe(p, p->pos, d));
        }
    }
    return 0;
}

/* After a key/value pair or a header: spaces, a comment, then a newline or
 * the end of the file. */
static int expect_line_end(parser *p, const char *after)
{
    skip_ws(p);
    if (skip_comment(p) < 0)
        return -1;
    if (p->pos >= p->len)
        return 0;
    size_t n = newline_len(p);
    if (!n) {
        char d[32];
        return fail_at(p, p->pos, "expected a newline after %s, found %s", after,
                       describe(p, p->pos, d));
    }
    p->pos += n;
    return 0;
}

/* Inside arrays: spaces, newlines and comments. */
static int skip_ws_comments_newlines(parser *p)
{
    for (;;) {
        skip_ws(p);
        if (skip_comment(p) < 0)
            return -1;
        size_t n = newline_len(p);
        if (!n)
            return 0;
        p->pos += n;
    }
}

/* ------------------------------------------------------------------------ */
/* Strings                                                                  */

static int hex_value(int c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

/* p->pos is at a backslash that is not a line-ending backslash. */
static int parse_escape(parser *p)
{
    size_t at = p->pos;
    int c = peek_at(p, 1);
    char d[32];
    switch (c) {
    case 'b': strbuf_putc(&p->buf, '\b'); break;
    case 't': strbuf_putc(&p->buf, '\t'); break;
    case 'n': strbuf_putc(&p->buf, '\n'); break;
    case 'f': strbuf_putc(&p->buf, '\f'); break;
    case 'r': strbuf_putc(&p->buf, '\r'); break;
    case '"': strbuf_putc(&p->buf, '"'); break;
    case '\\': strbuf_putc(&p->buf, '\\'); break;
    case 'u':
    case 'U': {
        int n = c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (int i = 0; i < n; i++) {
            int h = peek_at(p, 2 + (size_t)i);
            if (!is_hex(h))
                return fail_at(p, p->pos + 2 + (size_t)i,
                               "expected %d hex digits after '\\%c', found %s", n, c,
                               describe(p, p->pos + 2 + (size_t)i, d));
            cp = cp * 16 + (uint32_t)hex_value(h);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return fail_at(p, at, "expected a Unicode scalar value in escape '\\%c%.*s'", c, n,
                           p->s + p->pos + 2);
        utf8_append(&p->buf, cp);
        p->pos += 2 + (size_t)n;
        return 0;
    }
    default:
        return fail_at(p, at, "expected an escape (\\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX "
                       "\\UXXXXXXXX) after backslash, found %s", describe(p, at + 1, d));
    }
    p->pos += 2;
    return 0;
}

/* Parses a string at p->pos into p->buf.  Multi-line forms are allowed
 * unless is_key. */
static int parse_string(parser *p, bool is_key)
{
    char d[32];
    size_t start = p->pos;
    char q = p->s[p->pos];
    bool basic = q == '"';
    bool multi = peek_at(p, 1) == q && peek_at(p, 2) == q;
    strbuf_truncate(&p->buf, 0);
    if (multi && is_key)
        return fail_at(p, start, "expected a key, found a multi-line string (keys must be "
                       "bare, \"basic\" or 'literal' strings on one line)");
    p->pos += multi ? 3 : 1;
    if (multi) {                         /* a newline right after the opening is dropped */
        size_t n = newline_len(p);
        p->pos += n;
    }
    for (;;) {
        if (p->pos >= p->len)
            return fail_at(p, start, "expected a closing %s for the string starting here",
                           multi ? (basic ? "\"\"\"" : "'''") : (basic ? "'\"'" : "\"'\""));
        int c = (unsigned char)p->s[p->pos];
        if (c == (unsigned char)q) {
            if (!multi) {
                p->pos++;
                return 0;
            }
            size_t nq = 0;
            while (peek_at(p, nq) == q)
                nq++;
            if (nq < 3) {
                strbuf_append(&p->buf, p->s + p->pos, nq);
                p->pos += nq;
                continue;
            }
            if (nq > 5)
                return fail_at(p, p->pos + 5, "expected at most 2 quotes before the closing %s",
                               basic ? "\"\"\"" : "'''");
            strbuf_append(&p->buf, p->s + p->pos, nq - 3);
            p->pos += nq;
            return 0;
        }
        if (c == '\\' && basic) {
            if (multi) {
                /* a line-ending backslash eats all whitespace and newlines after it */
                size_t k = 1;
                while (peek_at(p, k) == ' ' || peek_at(p, k) == '\t')
                    k++;
                int e = peek_at(p, k);
                if (e == '\n' || (e == '\r' && peek_at(p, k + 1) == '\n')) {
                    p->pos += k;
                    for (;;) {
                        size_t n = newline_len(p);
                        if (n)
                            p->pos += n;
                        else if (peek(p) == ' ' || peek(p) == '\t')
                            p->pos++;
                        else
                            break;
                    }
                    continue;
                }
                if (k > 1)
                    return fail_at(p, p->pos, "expected a newline after a line-ending "
                                   "backslash, found %s", describe(p, p->pos + k, d));
            }
            if (parse_escape(p) < 0)
                return -1;
            continue;
        }
        if (c == '\n' || c == '\r') {
            if (!multi)
                return fail_at(p, p->pos, "expected a closing %s before the end of the line",
                               basic ? "'\"'" : "\"'\"");
            size_t n = newline_len(p);
            if (!n)
                return fail_at(p, p->pos, "expected a line feed after the carriage return");
            strbuf_putc(&p->buf, '\n');
            p->pos += n;
            continue;
        }
        if (is_forbidden_control(c))
            return fail_at(p, p->pos, "%s is not allowed in a string (escape it)",
                           describe(p, p->pos, d));
        strbuf_putc(&p->buf, (char)c);
        p->pos++;
    }
}

/* ------------------------------------------------------------------------ */
/* Keys                                                                     */

typedef struct keypart {
    char *s;            /* owned until handed to a table */
    size_t len;
    size_t off;
    unsigned line, col;
} keypart;

typedef struct keypath {
    keypart *v;
    size_t n, cap;
} keypath;

static void keypath_free(keypath *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i].s);
    free(k->v);
    k->v = NULL;
    k->n = k->cap = 0;
}

static char *take_key(keypart *kp)
{
    char *s = kp->s;
    kp->s = NULL;
    return s;
}

/* A dotted key: simple keys separated by '.', spaces allowed around dots. */
static int parse_key(parser *p, keypath *k)
{
    char d[32];
    for (;;) {
        if (k->n == k->cap) {
            k->cap = k->cap ? 2 * k->cap : 4;
            k->v = hb_reallocarray(k->v, k->cap, sizeof *k->v);
        }
        keypart *kp = &k->v[k->n];
        kp->off = p->pos;
        locate(p, p->pos, &kp->line, &kp->col);
        int c = peek(p);
        if (c == '"' || c == '\'') {
            if (parse_string(p, true) < 0)
                return -1;
            kp->len = p->buf.len;
            kp->s = hb_strndup(strbuf_str(&p->buf), p->buf.len);
        } else if (c >= 0 && is_bare_key_char(c)) {
            size_t s = p->pos;
            while (p->pos < p->len && is_bare_key_char((unsigned char)p->s[p->pos]))
                p->pos++;
            kp->len = p->pos - s;
            kp->s = hb_strndup(p->s + s, kp->len);
        } else {
            return fail_at(p, p->pos, "expected a key (A-Z a-z 0-9 _ - or a quoted string), "
                           "found %s", describe(p, p->pos, d));
        }
        k->n++;
        if (k->n > TOML_MAX_DEPTH)
            return fail_at(p, kp->off, "expected at most %d parts in a dotted key",
                           TOML_MAX_DEPTH);
        size_t save = p->pos;
        skip_ws(p);
        if (peek(p) != '.') {
            p->pos = save;
            return 0;
        }
        p->pos++;
        skip_ws(p);
    }
}

/* Appends a key, quoted as a basic string unless it is a bare key. */
static void put_key(strbuf *out, const char *key, size_t len)
{
    bool bare = len > 0;
    for (size_t i = 0; i < len && bare; i++)
        bare = is_bare_key_char((unsigned char)key[i]);
    if (bare) {
        strbuf_append(out, key, len);
        return;
    }
    strbuf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c == '"' || c == '\\') {
            strbuf_putc(out, '\\');
            strbuf_putc(out, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
            strbuf_printf(out, "\\u%04X", c);
        } else {
            strbuf_putc(out, (char)c);
        }
    }
    strbuf_putc(out, '"');
}

void toml_path(const toml_value *v, strbuf *out)
{
    if (!v || !v->parent)
        return;
    toml_path(v->parent, out);
    if (v->parent->type == TOML_ARRAY) {
        strbuf_printf(out, "[%zu]", v->index);
    } else {
        if (v->parent->parent)
            strbuf_putc(out, '.');
        const toml_entry *e = &v->parent->u.tab.e[v->index];
        put_key(out, e->key, e->keylen);
    }
}

/* The dotted name of key part i of k under table t, for messages. */
static void key_name(const toml_value *t, const keypath *k, size_t upto, strbuf *out)
{
    toml_path(t, out);
    for (size_t i = 0; i <= upto; i++) {
        if (out->len)
            strbuf_putc(out, '.');
        put_key(out, k->v[i].s, k->v[i].len);
    }
}

/* ------------------------------------------------------------------------ */
/* Redefinition rules                                                       */

static const char *article(toml_type t)
{
    return t == TOML_INTEGER || t == TOML_ARRAY || t == TOML_DATETIME ? "an" : "a";
}

enum redefinition { REDEF_KEY, REDEF_DOTTED, REDEF_TABLE, REDEF_AOT };

/* Reports that part i of key k (under table t) names something that cannot
 * be used that way, e.g. "cannot define table [a.b]: 'a' is already an
 * array value, which cannot be extended (line 1, column 5)". */
static int fail_redefined(parser *p, const toml_value *t, const keypath *k, size_t i,
                          const toml_value *old, enum redefinition form)
{
    strbuf full = STRBUF_INIT, part = STRBUF_INIT;
    key_name(t, k, k->n - 1, &full);
    key_name(t, k, i, &part);
    const char *how;
    switch (old->kind) {
    case TAB_INLINE: how = "an inline table, which cannot be extended"; break;
    case TAB_HEADER: how = "a table defined by a [header]"; break;
    case TAB_DOTTED: how = "a table defined by dotted keys"; break;
    case TAB_IMPLICIT: how = "a table"; break;
    case ARR_STATIC: how = "an array value, which cannot be extended"; break;
    case ARR_AOT: how = "an array of tables"; break;
    default: how = NULL; break;
    }
    char kind[48];
    if (!how) {
        snprintf(kind, sizeof kind, "%s %s", article(old->type), toml_type_name(old->type));
        how = kind;
    }
    char what[300];
    const char *name = strbuf_str(&full);
    switch (form) {
    case REDEF_KEY: snprintf(what, sizeof what, "duplicate key '%s'", name); break;
    case REDEF_DOTTED: snprintf(what, sizeof what, "cannot set key '%s'", name); break;
    case REDEF_TABLE: snprintf(what, sizeof what, "cannot define table [%s]", name); break;
    case REDEF_AOT: snprintf(what, sizeof what, "cannot define array of tables [[%s]]", name); break;
    }
    if (i + 1 == k->n)
        fail_at(p, k->v[i].off, "%s: it is already %s (line %u, column %u)", what, how,
                old->line, old->col);
    else
        fail_at(p, k->v[i].off, "%s: '%s' is already %s (line %u, column %u)", what,
                strbuf_str(&part), how, old->line, old->col);
    strbuf_free(&full);
    strbuf_free(&part);
    return -1;
}

static toml_value *new_table(parser *p, const keypart *kp, unsigned char kind, unsigned depth)
{
    return node_new(p->doc, TOML_TABLE, kind, kp->line, kp->col, depth);
}

static int check_depth(parser *p, size_t off, unsigned depth)
{
    if (depth > TOML_MAX_DEPTH)
        return fail_at(p, off, "expected at most %d levels of nesting", TOML_MAX_DEPTH);
    return 0;
}

/* Walks the first n parts of a dotted key of a key/value pair from table t
 * (the current section's table, or an inline table), creating tables. */
static toml_value *descend_dotted(parser *p, toml_value *t, keypath *k, size_t n, unsigned section)
{
    toml_value *base = t;
    for (size_t i = 0; i < n; i++) {
        keypart *kp = &k->v[i];
        toml_value *child = table_find(t, kp->s, kp->len);
        if (!child) {
            if (check_depth(p, kp->off, t->depth + 1) < 0)
                return NULL;
            child = new_table(p, kp, TAB_DOTTED, t->depth + 1);
            child->section = section;
            table_add(t, take_key(kp), kp->len, child);
        } else if (child->type == TOML_TABLE &&
                   (child->kind == TAB_IMPLICIT ||
                    (child->kind == TAB_DOTTED && child->section == section))) {
            child->kind = TAB_DOTTED;
            child->section = section;
        } else {
            fail_redefined(p, base, k, i, child, REDEF_DOTTED);
            return NULL;
        }
        t = child;
    }
    return t;
}

/* Walks the first n parts of a [header] or [[header]] from the root. */
static toml_value *descend_header(parser *p, toml_value *t, keypath *k, size_t n, bool aot)
{
    toml_value *root = t;
    for (size_t i = 0; i < n; i++) {
        keypart *kp = &k->v[i];
        toml_value *child = table_find(t, kp->s, kp->len);
        if (!child) {
            if (check_depth(p, kp->off, t->depth + 1) < 0)
                return NULL;
            child = new_table(p, kp, TAB_IMPLICIT, t->depth + 1);
            table_add(t, take_key(kp), kp->len, child);
        } else if (child->type == TOML_TABLE && child->kind != TAB_INLINE) {
            /* fine: implicit, header and dotted tables can hold sub-tables */
        } else if (child->type == TOML_ARRAY && child->kind == ARR_AOT) {
            child = child->u.arr.v[child->u.arr.n - 1];
        } else {
            fail_redefined(p, root, k, i, child, aot ? REDEF_AOT : REDEF_TABLE);
            return NULL;
        }
        t = child;
    }
    return t;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                   */

static toml_value *parse_value(parser *p, unsigned depth);
static int parse_keyval(parser *p, toml_value *table, unsigned section);

static toml_value *scalar_at(parser *p, toml_type type, size_t off, unsigned depth)
{
    unsigned line, col;
    locate(p, off, &line, &col);
    return node_new(p->doc, type, KIND_SCALAR, line, col, depth);
}

static toml_value *parse_array(parser *p, unsigned depth)
{
    char d[32];
    size_t start = p->pos;
    toml_value *a = scalar_at(p, TOML_ARRAY, start, depth);
    a->kind = ARR_STATIC;
    p->pos++;
    for (;;) {
        if (skip_ws_comments_newlines(p) < 0)
            goto fail;
        if (peek(p) == ']')
            break;
        toml_value *v = parse_value(p, depth + 1);
        if (!v)
            goto fail;
        array_push(a, v);
        if (skip_ws_comments_newlines(p) < 0)
            goto fail;
        int c = peek(p);
        if (c == ',') {
            p->pos++;
            continue;
        }
        if (c == ']')
            break;
        fail_at(p, p->pos, "expected ',' or ']' after an array element, found %s",
                describe(p, p->pos, d));
        goto fail;
    }
    p->pos++;
    return a;
fail:
    node_free(a);
    return NULL;
}

static toml_value *parse_inline_table(parser *p, unsigned depth)
{
    char d[32];
    size_t start = p->pos;
    toml_value *t = scalar_at(p, TOML_TABLE, start, depth);
    t->kind = TAB_INLINE;
    unsigned section = ++p->next_section;
    p->pos++;
    skip_ws(p);
    if (peek(p) == '}') {
        p->pos++;
        return t;
    }
    for (;;) {
        if (parse_keyval(p, t, section) < 0)
            goto fail;
        skip_ws(p);
        int c = peek(p);
        if (c == '}')
            break;
        if (c != ',') {
            if (c == '\n' || c == '\r' || c == '#')
                fail_at(p, p->pos, "expected ',' or '}' in inline table, found %s "
                        "(an inline table must be on one line)", describe(p, p->pos, d));
            else
                fail_at(p, p->pos, "expected ',' or '}' in inline table, found %s",
                        describe(p, p->pos, d));
            goto fail;
        }
        p->pos++;
        skip_ws(p);
        if (peek(p) == '}') {
            fail_at(p, p->pos, "expected a key after ',' (no trailing comma in an inline table)");
            goto fail;
        }
    }
    p->pos++;
    return t;
fail:
    node_free(t);
    return NULL;
}

static toml_value *string_value(parser *p, toml_type type, size_t off, unsigned depth,
                                const char *s, size_t len)
{
    toml_value *v = scalar_at(p, type, off, depth);
    v->u.str.s = hb_strndup(s, len);
    v->u.str.len = len;
    return v;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return days[m - 1];
}

static bool digits_at(const char *t, size_t n, size_t i, size_t count)
{
    if (i + count > n)
        return false;
    for (size_t k = 0; k < count; k++)
        if (!is_digit((unsigned char)t[i + k]))
            return false;
    return true;
}

static int num_at(const char *t, size_t i, size_t count)
{
    int v = 0;
    for (size_t k = 0; k < count; k++)
        v = v * 10 + (t[i + k] - '0');
    return v;
}

/* Splits validated or unvalidated date-time text into fields.  Returns the
 * type, or TOML_NONE with *why and *at set. */
static toml_type datetime_split(const char *t, size_t n, toml_datetime *dt, const char **why,
                                size_t *at)
{
    memset(dt, 0, sizeof *dt);
    size_t i = 0;
    *at = 0;
    if (n >= 3 && t[2] == ':')
        goto time;
    if (!digits_at(t, n, 0, 4) || n < 5 || t[4] != '-' || !digits_at(t, n, 5, 2) ||
        n < 8 || t[7] != '-' || !digits_at(t, n, 8, 2)) {
        *why = "expected a date as YYYY-MM-DD";
        return TOML_NONE;
    }
    dt->has_date = true;
    dt->year = num_at(t, 0, 4);
    dt->month = num_at(t, 5, 2);
    dt->day = num_at(t, 8, 2);
    if (dt->month < 1 || dt->month > 12) {
        *at = 5;
        *why = "expected a month from 01 to 12";
        return TOML_NONE;
    }
    if (dt->day < 1 || dt->day > days_in_month(dt->year, dt->month)) {
        *at = 8;
        *why = "expected a day that exists in that month";
        return TOML_NONE;
    }
    if (n == 10)
        return TOML_DATE_LOCAL;
    if (t[10] != 'T' && t[10] != 't' && t[10] != ' ') {
        *at = 10;
        *why = "expected 'T' or a space between date and time";
        return TOML_NONE;
    }
    i = 11;
time:
    if (!digits_at(t, n, i, 2) || i + 2 >= n || t[i + 2] != ':' || !digits_at(t, n, i + 3, 2) ||
        i + 5 >= n || t[i + 5] != ':' || !digits_at(t, n, i + 6, 2)) {
        *at = i;
        *why = "expected a time as HH:MM:SS";
        return TOML_NONE;
    }
    dt->has_time = true;
    dt->hour = num_at(t, i, 2);
    dt->minute = num_at(t, i + 3, 2);
    dt->second = num_at(t, i + 6, 2);
    if (dt->hour > 23 || dt->minute > 59 || dt->second > 59) {
        *at = dt->hour > 23 ? i : dt->minute > 59 ? i + 3 : i + 6;
        *why = dt->hour > 23 ? "expected an hour from 00 to 23"
             : dt->minute > 59 ? "expected minutes from 00 to 59"
             : "expected seconds from 00 to 59";
        return TOML_NONE;
    }
    i += 8;
    if (i < n && t[i] == '.') {
        i++;
        if (!digits_at(t, n, i, 1)) {
            *at = i;
            *why = "expected a digit after '.' in the seconds";
            return TOML_NONE;
        }
        int32_t scale = 100000000;
        for (; i < n && is_digit((unsigned char)t[i]); i++, scale /= 10)
            dt->nanosecond += (t[i] - '0') * scale;
    }
    if (i == n)
        return dt->has_date ? TOML_DATETIME_LOCAL : TOML_TIME_LOCAL;
    if (!dt->has_date) {
        *at = i;
        *why = "expected the end of the local time";
        return TOML_NONE;
    }
    if ((t[i] == 'Z' || t[i] == 'z') && i + 1 == n) {
        dt->has_offset = true;
        return TOML_DATETIME;
    }
    if ((t[i] == '+' || t[i] == '-') && i + 6 == n && digits_at(t, n, i + 1, 2) &&
        t[i + 3] == ':' && digits_at(t, n, i + 4, 2)) {
        int oh = num_at(t, i + 1, 2), om = num_at(t, i + 4, 2);
        if (oh > 23 || om > 59) {
            *at = oh > 23 ? i + 1 : i + 4;
            *why = oh > 23 ? "expected an offset hour from 00 to 23"
                           : "expected offset minutes from 00 to 59";
            return TOML_NONE;
        }
        dt->has_offset = true;
        dt->offset_minutes = (t[i] == '-' ? -1 : 1) * (oh * 60 + om);
        return TOML_DATETIME;
    }
    *at = i;
    *why = "expected 'Z', an offset like +01:00, or the end of the date-time";
    return TOML_NONE;
}

/* Digits of a base with single '_' between digits; appends them to clean.
 * Returns 0, or -1 with *why set (the position is *i). */
static int scan_digits(const char *t, size_t n, size_t *i, int base, strbuf *clean,
                       const char **why)
{
    size_t k = *i;
    bool any = false;
    for (;;) {
        int c = k < n ? (unsigned char)t[k] : -1;
        bool ok = base == 16 ? is_hex(c) : base == 10 ? is_digit(c)
                : base == 8 ? (c >= '0' && c <= '7') : (c == '0' || c == '1');
        if (ok) {
            strbuf_putc(clean, (char)c);
            any = true;
            k++;
            continue;
        }
        if (c == '_') {
            int next = k + 1 < n ? (unsigned char)t[k + 1] : -1;
            bool next_ok = base == 16 ? is_hex(next) : base == 10 ? is_digit(next)
                         : base == 8 ? (next >= '0' && next <= '7') : (next == '0' || next == '1');
            if (!any || !next_ok) {
                *i = k;
                *why = "'_' must stand between two digits";
                return -1;
            }
            k++;
            continue;
        }
        break;
    }
    *i = k;
    if (!any) {
        *why = base == 16 ? "expected a hexadecimal digit" : base == 8 ? "expected an octal digit"
             : base == 2 ? "expected a binary digit" : "expected a digit";
        return -1;
    }
    return 0;
}

static double parse_double_c_locale(const char *s, int *overflow)
{
    /* strtod honours LC_NUMERIC; TOML always uses '.' */
    const char *dp = localeconv()->decimal_point;
    char *heap = NULL;
    const char *in = s;
    if (dp && strcmp(dp, ".") != 0 && strchr(s, '.')) {
        strbuf sb = STRBUF_INIT;
        for (const char *c = s; *c; c++) {
            if (*c == '.')
                strbuf_puts(&sb, dp);
            else
                strbuf_putc(&sb, *c);
        }
        heap = strbuf_detach(&sb);
        in = heap;
    }
    double d = strtod(in, NULL);
    *overflow = isinf(d);
    free(heap);
    return d;
}

static toml_value *parse_number_or_datetime(parser *p, unsigned depth)
{
    size_t start = p->pos;
    while (p->pos < p->len) {
        int c = (unsigned char)p->s[p->pos];
        if (!(is_bare_key_char(c) || c == '+' || c == '.' || c == ':'))
            break;
        p->pos++;
        /* "1979-05-27 07:32:00": a space may separate date and time */
        if (p->pos - start == 10 && peek(p) == ' ' && is_digit(peek_at(p, 1)) &&
            is_digit(peek_at(p, 2)) && peek_at(p, 3) == ':' && p->s[start + 4] == '-' &&
            p->s[start + 7] == '-')
            p->pos++;
    }
    const char *t = p->s + start;
    size_t n = p->pos - start;
    char d[32];
    if (n == 0) {
        fail_at(p, start, "expected a value, found %s", describe(p, start, d));
        return NULL;
    }

    bool looks_time = n >= 3 && is_digit((unsigned char)t[0]) && is_digit((unsigned char)t[1]) &&
                      t[2] == ':';
    bool looks_date = n >= 5 && digits_at(t, n, 0, 4) && t[4] == '-';
    if (looks_time || looks_date) {
        toml_datetime dt;
        const char *why = NULL;
        size_t at = 0;
        toml_type type = datetime_split(t, n, &dt, &why, &at);
        if (type == TOML_NONE) {
            fail_at(p, start + at, "invalid date-time '%.*s': %s", (int)n, t, why);
            return NULL;
        }
        return string_value(p, type, start, depth, t, n);
    }

    size_t i = 0;
    bool neg = false, sign = false;
    if (t[0] == '+' || t[0] == '-') {
        sign = true;
        neg = t[0] == '-';
        i = 1;
    }
    if ((n - i == 3 && memcmp(t + i, "inf", 3) == 0) ||
        (n - i == 3 && memcmp(t + i, "nan", 3) == 0)) {
        toml_value *v = scalar_at(p, TOML_FLOAT, start, depth);
        if (t[i] == 'i')
            v->u.f = neg ? -INFINITY : INFINITY;
        else
            v->u.f = neg ? -NAN : NAN;
        return v;
    }

    strbuf clean = STRBUF_INIT;
    const char *why = NULL;
    toml_value *v = NULL;
    if (i + 1 < n && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'o' || t[i + 1] == 'b')) {
        int base = t[i + 1] == 'x' ? 16 : t[i + 1] == 'o' ? 8 : 2;
        const char *name = base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary";
        if (sign) {
            fail_at(p, start, "invalid integer '%.*s': a sign is not allowed on %s integers",
                    (int)n, t, name);
            goto out;
        }
        i += 2;
        if (scan_digits(t, n, &i, base, &clean, &why) < 0) {
            fail_at(p, start + i, "invalid %s integer '%.*s': %s", name, (int)n, t, why);
            goto out;
        }
        if (i != n) {
            fail_at(p, start + i, "invalid %s integer '%.*s': unexpected %s", name, (int)n, t,
                    describe(p, start + i, d));
            goto out;
        }
        uint64_t u = 0;
        for (size_t k = 0; k < clean.len; k++) {
            unsigned dg = (unsigned)hex_value((unsigned char)clean.buf[k]);
            if (u > ((uint64_t)INT64_MAX - dg) / (uint64_t)base) {
                fail_at(p, start, "integer '%.*s' is out of range (a 64-bit signed integer)",
                        (int)n, t);
                goto out;
            }
            u = u * (uint64_t)base + dg;
        }
        v = scalar_at(p, TOML_INTEGER, start, depth);
        v->u.i = (int64_t)u;
        goto out;
    }

    if (neg)
        strbuf_putc(&clean, '-');
    size_t int_start = i;
    if (scan_digits(t, n, &i, 10, &clean, &why) < 0) {
        fail_at(p, start + i, "invalid number '%.*s': %s", (int)n, t, why);
        goto out;
    }
    if (t[int_start] == '0' && clean.len - (neg ? 1 : 0) > 1) {
        fail_at(p, start + int_start, "invalid number '%.*s': leading zeros are not allowed",
                (int)n, t);
        goto out;
    }
    bool is_float = false;
    if (i < n && t[i] == '.') {
        is_float = true;
        strbuf_putc(&clean, '.');
        i++;
        if (scan_digits(t, n, &i, 10, &clean, &why) < 0) {
            fail_at(p, start + i, "invalid float '%.*s': %s after '.'", (int)n, t, why);
            goto out;
        }
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        is_float = true;
        strbuf_putc(&clean, 'e');
        i++;
        if (i < n && (t[i] == '+' || t[i] == '-'))
            strbuf_putc(&clean, t[i++]);
        if (scan_digits(t, n, &i, 10, &clean, &why) < 0) {
            fail_at(p, start + i, "invalid float '%.*s': %s in the exponent", (int)n, t, why);
            goto out;
        }
    }
    if (i != n) {
        fail_at(p, start + i, "invalid %s '%.*s': unexpected %s", is_float ? "float" : "number",
                (int)n, t, describe(p, start + i, d));
        goto out;
    }
    if (is_float) {
        int overflow = 0;
        double f = parse_double_c_locale(strbuf_str(&clean), &overflow);
        if (overflow) {
            fail_at(p, start, "float '%.*s' is out of range (a 64-bit IEEE 754 double)",
                    (int)n, t);
            goto out;
        }
        v = scalar_at(p, TOML_FLOAT, start, depth);
        v->u.f = f;
        goto out;
    }
    {
        uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        uint64_t u = 0;
        for (size_t k = neg ? 1 : 0; k < clean.len; k++) {
            unsigned dg = (unsigned)(clean.buf[k] - '0');
            if (u > (limit - dg) / 10) {
                fail_at(p, start, "integer '%.*s' is out of range (a 64-bit signed integer)",
                        (int)n, t);
                goto out;
            }
            u = u * 10 + dg;
        }
        v = scalar_at(p, TOML_INTEGER, start, depth);
        v->u.i = !neg ? (int64_t)u : u > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)u;
    }
out:
    strbuf_free(&clean);
    return v;
}

static toml_value *parse_value(parser *p, unsigned depth)
{
    char d[32];
    size_t start = p->pos;
    if (check_depth(p, start, depth) < 0)
        return NULL;
    int c = peek(p);
    switch (c) {
    case '"':
    case '\'':
        if (parse_string(p, false) < 0)
            return NULL;
        return string_value(p, TOML_STRING, start, depth, strbuf_str(&p->buf), p->buf.len);
    case '[':
        return parse_array(p, depth);
    case '{':
        return parse_inline_table(p, depth);
    case 't':
    case 'f': {
        const char *word = c == 't' ? "true" : "false";
        size_t wl = strlen(word);
        if (p->len - p->pos >= wl && memcmp(p->s + p->pos, word, wl) == 0 &&
            (p->pos + wl == p->len || !is_bare_key_char((unsigned char)p->s[p->pos + wl]))) {
            p->pos += wl;
            toml_value *v = scalar_at(p, TOML_BOOLEAN, start, depth);
            v->u.b = c == 't';
            return v;
        }
        fail_at(p, start, "expected a value (true and false are lowercase; strings need "
                "quotes), found %s", describe(p, start, d));
        return NULL;
    }
    default:
        if (c >= 0 && (is_digit(c) || c == '+' || c == '-' || c == 'i' || c == 'n'))
            return parse_number_or_datetime(p, depth);
        fail_at(p, start, "expected a value, found %s", describe(p, start, d));
        return NULL;
    }
}

/* key = value, inserted into table under the dotted-key rules of section. */
static int parse_keyval(parser *p, toml_value *table, unsigned section)
{
    char d[32];
    keypath k = {0};
    toml_value *v = NULL;
    if (parse_key(p, &k) < 0)
        goto fail;
    skip_ws(p);
    if (peek(p) != '=') {
        fail_at(p, p->pos, "expected '=' after the key, found %s", describe(p, p->pos, d));
        goto fail;
    }
    p->pos++;
    skip_ws(p);
    if (check_depth(p, k.v[0].off, table->depth + (unsigned)k.n) < 0)
        goto fail;
    v = parse_value(p, table->depth + (unsigned)k.n);
    if (!v)
        goto fail;
    toml_value *parent = descend_dotted(p, table, &k, k.n - 1, section);
    if (!parent)
        goto fail;
    keypart *last = &k.v[k.n - 1];
    const toml_value *old = table_find(parent, last->s, last->len);
    if (old) {
        fail_redefined(p, table, &k, k.n - 1, old, REDEF_KEY);
        goto fail;
    }
    table_add(parent, take_key(last), last->len, v);
    keypath_free(&k);
    return 0;
fail:
    node_free(v);
    keypath_free(&k);
    return -1;
}

/* [header] or [[header]] at p->pos; sets *current to the table it opens. */
static int parse_header(parser *p, toml_value *root, toml_value **current)
{
    char d[32];
    bool aot = peek_at(p, 1) == '[';
    keypath k = {0};
    p->pos += aot ? 2 : 1;
    skip_ws(p);
    if (parse_key(p, &k) < 0)
        goto fail;
    skip_ws(p);
    if (peek(p) != ']' || (aot && peek_at(p, 1) != ']')) {
        fail_at(p, p->pos, "expected '%s' to close the table header, found %s",
                aot ? "]]" : "]", describe(p, p->pos, d));
        goto fail;
    }
    p->pos += aot ? 2 : 1;
    toml_value *parent = descend_header(p, root, &k, k.n - 1, aot);
    if (!parent)
        goto fail;
    keypart *last = &k.v[k.n - 1];
    toml_value *old = table_find(parent, last->s, last->len);
    toml_value *table;
    if (aot) {
        toml_value *array = old;
        if (!old) {
            if (check_depth(p, last->off, parent->depth + 2) < 0)
                goto fail;
            array = node_new(p->doc, TOML_ARRAY, ARR_AOT, last->line, last->col,
                             parent->depth + 1);
            table_add(parent, take_key(last), last->len, array);
        } else if (old->type != TOML_ARRAY || old->kind != ARR_AOT) {
            fail_redefined(p, root, &k, k.n - 1, old, REDEF_AOT);
            goto fail;
        }
        table = new_table(p, last, TAB_HEADER, array->depth + 1);
        array_push(array, table);
    } else if (!old) {
        if (check_depth(p, last->off, parent->depth + 1) < 0)
            goto fail;
        table = new_table(p, last, TAB_HEADER, parent->depth + 1);
        table_add(parent, take_key(last), last->len, table);
    } else if (old->type == TOML_TABLE && old->kind == TAB_IMPLICIT) {
        table = old;
        table->kind = TAB_HEADER;
    } else {
        fail_redefined(p, root, &k, k.n - 1, old, REDEF_TABLE);
        goto fail;
    }
    *current = table;
    keypath_free(&k);
    return 0;
fail:
    keypath_free(&k);
    return -1;
}

toml_value *toml_parse(const char *text, size_t len, const char *source, hb_error *err)
{
    toml_doc *doc = hb_calloc(1, sizeof *doc);
    doc->source = hb_strdup(source ? source : "<toml>");
    parser p = {.s = text ? text : "", .len = text ? len : 0, .doc = doc, .err = err,
                .cur_line = 1, .cur_col = 1};
    toml_value *root = node_new(doc, TOML_TABLE, TAB_HEADER, 1, 1, 0);
    toml_value *current = root;
    unsigned section = 0;

    size_t bad = utf8_invalid_at(p.s, p.len);
    if (bad < p.len) {
        fail_at(&p, bad, "expected UTF-8 text, found the invalid byte 0x%02X",
                (unsigned char)p.s[bad]);
        goto fail;
    }
    if (p.len >= 3 && memcmp(p.s, "\xEF\xBB\xBF", 3) == 0)
        p.pos = p.cur_off = 3;

    for (;;) {
        skip_ws(&p);
        if (p.pos >= p.len)
            break;
        int c = peek(&p);
        if (c == '#' || newline_len(&p)) {
            if (expect_line_end(&p, "the comment") < 0)
                goto fail;
            continue;
        }
        if (c == '\r') {
            fail_at(&p, p.pos, "expected a line feed after the carriage return");
            goto fail;
        }
        if (c == '[') {
            if (parse_header(&p, root, &current) < 0)
                goto fail;
            section = ++p.next_section;
            if (expect_line_end(&p, "the table header") < 0)
                goto fail;
            continue;
        }
        if (parse_keyval(&p, current, section) < 0)
            goto fail;
        if (expect_line_end(&p, "the value") < 0)
            goto fail;
    }
    strbuf_free(&p.buf);
    return root;
fail:
    strbuf_free(&p.buf);
    toml_free(root);
    return NULL;
}

toml_value *toml_parse_file(const char *path, hb_error *err)
{
    bool use_stdin = strcmp(path, "-") == 0;
    FILE *f = use_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        hb_error_set(err, HB_EIO, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    strbuf sb = STRBUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        strbuf_append(&sb, chunk, n);
    bool failed = ferror(f) != 0;
    int saved = errno;
    if (!use_stdin)
        fclose(f);
    if (failed) {
        strbuf_free(&sb);
        hb_error_set(err, HB_EIO, "cannot read '%s': %s", path, strerror(saved));
        return NULL;
    }
    toml_value *root = toml_parse(strbuf_str(&sb), sb.len, use_stdin ? "<stdin>" : path, err);
    strbuf_free(&sb);
    return root;
}

/* ------------------------------------------------------------------------ */
/* Accessors                                                                */

toml_type toml_type_of(const toml_value *v)
{
    return v ? v->type : TOML_NONE;
}

const char *toml_type_name(toml_type type)
{
    switch (type) {
    case TOML_TABLE: return "table";
    case TOML_ARRAY: return "array";
    case TOML_STRING: return "string";
    case TOML_INTEGER: return "integer";
    case TOML_FLOAT: return "float";
    case TOML_BOOLEAN: return "boolean";
    case TOML_DATETIME: return "offset date-time";
    case TOML_DATETIME_LOCAL: return "local date-time";
    case TOML_DATE_LOCAL: return "local date";
    case TOML_TIME_LOCAL: return "local time";
    case TOML_NONE: break;
    }
    return "nothing";
}

unsigned toml_line(const toml_value *v)
{
    return v ? v->line : 0;
}

unsigned toml_column(const toml_value *v)
{
    return v ? v->col : 0;
}

const char *toml_source(const toml_value *v)
{
    return v ? v->doc->source : "";
}

int toml_error_at(hb_error *err, const toml_value *v, const char *fmt, ...)
{
    if (!err)
        return -1;
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!v)
        return hb_error_set(err, HB_EINVAL, "%s", msg);
    return hb_error_set(err, HB_EINVAL, "%s:%u:%u: %s", v->doc->source, v->line, v->col, msg);
}

const toml_value *toml_expect(const toml_value *v, toml_type type, hb_error *err)
{
    if (!v)
        return NULL;
    if (v->type == type)
        return v;
    strbuf path = STRBUF_INIT;
    toml_path(v, &path);
    toml_error_at(err, v, "expected %s to be %s %s, not %s %s",
                  path.len ? strbuf_str(&path) : "the document", article(type),
                  toml_type_name(type), article(v->type), toml_type_name(v->type));
    strbuf_free(&path);
    return NULL;
}

size_t toml_table_size(const toml_value *t)
{
    return t && t->type == TOML_TABLE ? t->u.tab.n : 0;
}

const char *toml_table_key(const toml_value *t, size_t i, size_t *len)
{
    if (!t || t->type != TOML_TABLE || i >= t->u.tab.n)
        return NULL;
    if (len)
        *len = t->u.tab.e[i].keylen;
    return t->u.tab.e[i].key;
}

const toml_value *toml_table_value(const toml_value *t, size_t i)
{
    if (!t || t->type != TOML_TABLE || i >= t->u.tab.n)
        return NULL;
    return t->u.tab.e[i].val;
}

const toml_value *toml_table_getn(const toml_value *t, const char *key, size_t len)
{
    if (!t || t->type != TOML_TABLE || !key)
        return NULL;
    return table_find(t, key, len);
}

const toml_value *toml_table_get(const toml_value *t, const char *key)
{
    return key ? toml_table_getn(t, key, strlen(key)) : NULL;
}

const toml_value *toml_lookup(const toml_value *t, const char *path)
{
    if (!t || !path)
        return NULL;
    toml_doc doc = {(char *)"<path>"};
    parser p = {.s = path, .len = strlen(path), .doc = &doc, .cur_line = 1, .cur_col = 1};
    keypath k = {0};
    skip_ws(&p);
    int rc = parse_key(&p, &k);
    skip_ws(&p);
    if (rc == 0 && p.pos == p.len) {
        for (size_t i = 0; i < k.n && t; i++)
            t = toml_table_getn(t, k.v[i].s, k.v[i].len);
    } else {
        t = NULL;
    }
    keypath_free(&k);
    strbuf_free(&p.buf);
    return t;
}

size_t toml_array_size(const toml_value *a)
{
    return a && a->type == TOML_ARRAY ? a->u.arr.n : 0;
}

const toml_value *toml_array_at(const toml_value *a, size_t i)
{
    if (!a || a->type != TOML_ARRAY || i >= a->u.arr.n)
        return NULL;
    return a->u.arr.v[i];
}

const char *toml_string(const toml_value *v, size_t *len)
{
    if (!v || v->type != TOML_STRING)
        return NULL;
    if (len)
        *len = v->u.str.len;
    return v->u.str.s;
}

int toml_integer(const toml_value *v, int64_t *out)
{
    if (!v || v->type != TOML_INTEGER)
        return -1;
    *out = v->u.i;
    return 0;
}

int toml_float(const toml_value *v, double *out)
{
    if (!v || v->type != TOML_FLOAT)
        return -1;
    *out = v->u.f;
    return 0;
}

int toml_boolean(const toml_value *v, bool *out)
{
    if (!v || v->type != TOML_BOOLEAN)
        return -1;
    *out = v->u.b;
    return 0;
}

static bool is_datetime(const toml_value *v)
{
    return v && (v->type == TOML_DATETIME || v->type == TOML_DATETIME_LOCAL ||
                 v->type == TOML_DATE_LOCAL || v->type == TOML_TIME_LOCAL);
}

const char *toml_datetime_text(const toml_value *v)
{
    return is_datetime(v) ? v->u.str.s : NULL;
}

int toml_datetime_fields(const toml_value *v, toml_datetime *out)
{
    if (!is_datetime(v))
        return -1;
    const char *why;
    size_t at;
    return datetime_split(v->u.str.s, v->u.str.len, out, &why, &at) == TOML_NONE ? -1 : 0;
}
