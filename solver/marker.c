/* PEP 508 environment markers: parser, str(), evaluation; see marker.h.
 * The parser follows packaging's tokenizer rules (WS is space or tab, words
 * need word boundaries, quoted strings run to the next matching quote and are
 * then decoded like a Python literal). */
#include "hpcbuild/marker.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/pep440.h"
#include "hpcbuild/pep508.h"
#include "hpcbuild/process.h"
#include "hpcbuild/pyname.h"
#include "hpcbuild/utf8.h"

/* ------------------------------------------------------------------ lexer */

typedef struct lexer {
    const char *s;
    size_t len;
    size_t pos;
    const char *what;   /* "marker" or "requirement" */
    hb_error *err;
    int depth;
} lexer;

enum { MAX_DEPTH = 200 };

void marker_quote_input(strbuf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = out->len, i = 0;
    for (; i < len && out->len - start < 160; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') strbuf_puts(out, "\\n");
        else if (c == '\r') strbuf_puts(out, "\\r");
        else if (c == '\t') strbuf_puts(out, "\\t");
        else if (c == '\\') strbuf_puts(out, "\\\\");
        else if (c < 0x20 || c == 0x7f) {
            char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            strbuf_append(out, esc, 4);
        } else strbuf_putc(out, (char)c);
    }
    if (i < len)
        strbuf_puts(out, "...");
}

int marker_vfail_at(hb_error *err, const char *what, const char *s, size_t len, size_t pos, const char *fmt,
                    va_list ap)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "invalid %s '", what);
    marker_quote_input(&sb, s, len);
    strbuf_printf(&sb, "' at position %zu: ", pos);
    strbuf_vprintf(&sb, fmt, ap);
    hb_error_set(err, HB_EINVAL, "%s", strbuf_str(&sb));
    strbuf_free(&sb);
    return -1;
}

__attribute__((format(printf, 3, 4)))
static int lex_fail(lexer *lx, size_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    marker_vfail_at(lx->err, lx->what, lx->s, lx->len, pos, fmt, ap);
    va_end(ap);
    return -1;
}

bool marker_is_word_byte(const char *s, size_t len, size_t i)
{
    if (i >= len)
        return false;
    unsigned char c = (unsigned char)s[i];
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '_' || c >= 0x80;
}

static bool boundary_before(const lexer *lx, size_t i)
{
    return i == 0 || !marker_is_word_byte(lx->s, lx->len, i - 1);
}

static void skip_ws(lexer *lx)
{
    while (lx->pos < lx->len && (lx->s[lx->pos] == ' ' || lx->s[lx->pos] == '\t'))
        lx->pos++;
}

static bool at_char(const lexer *lx, char c)
{
    return lx->pos < lx->len && lx->s[lx->pos] == c;
}

/* A keyword with \b on both sides at the current position. */
static bool at_word(const lexer *lx, const char *w)
{
    size_t n = strlen(w);
    return lx->pos + n <= lx->len && memcmp(lx->s + lx->pos, w, n) == 0 &&
           boundary_before(lx, lx->pos) && !marker_is_word_byte(lx->s, lx->len, lx->pos + n);
}

static const struct { const char *spelling, *name; } variables[] = {
    {"python_version", "python_version"},
    {"python_full_version", "python_full_version"},
    {"os.name", "os_name"},
    {"os_name", "os_name"},
    {"sys.platform", "sys_platform"},
    {"sys_platform", "sys_platform"},
    {"platform_release", "platform_release"},
    {"platform_system", "platform_system"},
    {"platform.version", "platform_version"},
    {"platform_version", "platform_version"},
    {"platform.machine", "platform_machine"},
    {"platform_machine", "platform_machine"},
    {"platform.python_implementation", "platform_python_implementation"},
    {"platform_python_implementation", "platform_python_implementation"},
    {"python_implementation", "platform_python_implementation"},
    {"implementation_name", "implementation_name"},
    {"implementation_version", "implementation_version"},
    {"extras", "extras"},
    {"extra", "extra"},
    {"dependency_groups", "dependency_groups"},
};

static const char *match_variable(const lexer *lx, size_t *n)
{
    for (size_t i = 0; i < sizeof variables / sizeof *variables; i++) {
        if (at_word(lx, variables[i].spelling)) {
            *n = strlen(variables[i].spelling);
            return variables[i].name;
        }
    }
    return NULL;
}

static const struct { const char *text; int op; } operators[] = {
    {"===", MARKER_OP_ARBITRARY}, {"==", MARKER_OP_EQ}, {"~=", MARKER_OP_COMPATIBLE},
    {"!=", MARKER_OP_NE}, {"<=", MARKER_OP_LE}, {">=", MARKER_OP_GE},
    {"<", MARKER_OP_LT}, {">", MARKER_OP_GT},
};

static const char *op_text(int op)
{
    switch (op) {
    case MARKER_OP_IN: return "in";
    case MARKER_OP_NOT_IN: return "not in";
    default:
        for (size_t i = 0; i < sizeof operators / sizeof *operators; i++)
            if (operators[i].op == op)
                return operators[i].text;
        return "?";
    }
}

/* ------------------------------------------------- Python string literals */

static int hexdigit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes the body of a quoted string the way ast.literal_eval does.  Returns
 * NULL (with *why set) for what Python rejects: a raw line break or NUL, a
 * trailing backslash, a malformed \x, \u, \U escape.  \N{...} needs the
 * Unicode name database and is rejected too. */
static char *decode_python_body(const char *b, size_t n, size_t *outlen, const char **why)
{
    strbuf out = STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (c == '\n' || c == '\r') { *why = "line break inside a quoted string"; goto fail; }
        if (c == '\0') { *why = "NUL byte inside a quoted string"; goto fail; }
        if (c != '\\') {
            strbuf_putc(&out, c);
            continue;
        }
        if (++i >= n) { *why = "backslash escapes the closing quote"; goto fail; }
        c = b[i];
        switch (c) {
        case '\n': break;
        case '\r': if (i + 1 < n && b[i + 1] == '\n') i++; break;
        case '\\': strbuf_putc(&out, '\\'); break;
        case '\'': strbuf_putc(&out, '\''); break;
        case '"': strbuf_putc(&out, '"'); break;
        case 'a': strbuf_putc(&out, '\a'); break;
        case 'b': strbuf_putc(&out, '\b'); break;
        case 'f': strbuf_putc(&out, '\f'); break;
        case 'n': strbuf_putc(&out, '\n'); break;
        case 'r': strbuf_putc(&out, '\r'); break;
        case 't': strbuf_putc(&out, '\t'); break;
        case 'v': strbuf_putc(&out, '\v'); break;
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
            uint32_t v = 0;
            size_t k = 0;
            while (k < 3 && i < n && b[i] >= '0' && b[i] <= '7') {
                v = v * 8 + (uint32_t)(b[i] - '0');
                i++;
                k++;
            }
            i--;
            utf8_append(&out, v);
            break;
        }
        case 'x': case 'u': case 'U': {
            size_t digits = c == 'x' ? 2 : c == 'u' ? 4 : 8;
            uint32_t v = 0;
            for (size_t k = 0; k < digits; k++) {
                if (i + 1 + k >= n || hexdigit(b[i + 1 + k]) < 0) {
                    *why = c == 'x' ? "truncated \\xXX escape"
                         : c == 'u' ? "truncated \\uXXXX escape" : "truncated \\UXXXXXXXX escape";
                    goto fail;
                }
                v = v * 16 + (uint32_t)hexdigit(b[i + 1 + k]);
            }
            if (v > 0x10ffff) { *why = "illegal Unicode character in \\U escape"; goto fail; }
            i += digits;
            utf8_append(&out, v);
            break;
        }
        case 'N': *why = "\\N{...} escapes are not supported"; goto fail;
        default:
            strbuf_putc(&out, '\\');
            strbuf_putc(&out, c);
            break;
        }
    }
    *outlen = out.len;
    return strbuf_detach(&out);
fail:
    strbuf_free(&out);
    return NULL;
}

/* ----------------------------------------------------------------- parser */

static void operand_free(marker_operand *o)
{
    free(o->text);
    o->text = NULL;
}

void marker_free(marker *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nitems; i++) {
        marker_item *it = &m->items[i];
        operand_free(&it->lhs);
        operand_free(&it->rhs);
        marker_free(it->group);
    }
    free(m->items);
    free(m);
}

static marker_item *push_item(marker *m, size_t *cap)
{
    if (m->nitems == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        m->items = hb_reallocarray(m->items, *cap, sizeof *m->items);
    }
    marker_item *it = &m->items[m->nitems++];
    memset(it, 0, sizeof *it);
    return it;
}

static int parse_operand(lexer *lx, marker_operand *o)
{
    size_t n;
    const char *var = match_variable(lx, &n);
    if (var) {
        o->is_variable = true;
        o->text = hb_strdup(var);
        o->len = strlen(var);
        lx->pos += n;
        return 0;
    }
    if (at_char(lx, '\'') || at_char(lx, '"')) {
        char q = lx->s[lx->pos];
        const char *end = memchr(lx->s + lx->pos + 1, q, lx->len - lx->pos - 1);
        if (end) {
            size_t start = lx->pos;
            size_t stop = (size_t)(end - lx->s) + 1;
            const char *why = NULL;
            o->is_variable = false;
            o->text = decode_python_body(lx->s + start + 1, stop - start - 2, &o->len, &why);
            if (!o->text)
                return lex_fail(lx, stop, "invalid quoted string (%s)", why);
            lx->pos = stop;
            return 0;
        }
    }
    return lex_fail(lx, lx->pos, "expected a marker variable or quoted string");
}

static int parse_op(lexer *lx, int *op)
{
    if (at_word(lx, "in")) {
        lx->pos += 2;
        *op = MARKER_OP_IN;
        return 0;
    }
    if (at_word(lx, "not")) {
        lx->pos += 3;
        size_t p = lx->pos;
        skip_ws(lx);
        if (lx->pos == p)
            return lex_fail(lx, lx->pos, "expected whitespace after 'not'");
        if (!at_word(lx, "in"))
            return lex_fail(lx, lx->pos, "expected 'in' after 'not'");
        lx->pos += 2;
        *op = MARKER_OP_NOT_IN;
        return 0;
    }
    for (size_t i = 0; i < sizeof operators / sizeof *operators; i++) {
        size_t n = strlen(operators[i].text);
        if (lx->pos + n <= lx->len && memcmp(lx->s + lx->pos, operators[i].text, n) == 0) {
            lx->pos += n;
            *op = operators[i].op;
            return 0;
        }
    }
    return lex_fail(lx, lx->pos,
                    "expected a marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in");
}

static bool normalizes_literal(const marker_operand *var)
{
    return var->is_variable && (strcmp(var->text, "extra") == 0 || strcmp(var->text, "extras") == 0 ||
                                strcmp(var->text, "dependency_groups") == 0);
}

static void canonicalize_operand(marker_operand *o)
{
    char *c = pyname_canonicalize(o->text, o->len);
    free(o->text);
    o->text = c;
    o->len = strlen(c);
}

static marker *parse_list(lexer *lx);

static int parse_atom(lexer *lx, marker *m, size_t *cap)
{
    skip_ws(lx);
    if (at_char(lx, '(')) {
        size_t open = lx->pos;
        if (++lx->depth > MAX_DEPTH)
            return lex_fail(lx, lx->pos, "parentheses nested more than %d deep", MAX_DEPTH);
        lx->pos++;
        skip_ws(lx);
        marker *inner = parse_list(lx);
        lx->depth--;
        if (!inner)
            return -1;
        marker_item *it = push_item(m, cap);
        it->kind = MARKER_ITEM_GROUP;
        it->group = inner;
        skip_ws(lx);
        if (!at_char(lx, ')'))
            return lex_fail(lx, lx->pos,
                            "expected ')' to close the '(' at position %zu of the marker expression",
                            open);
        lx->pos++;
    } else {
        marker_item *it = push_item(m, cap);
        it->kind = MARKER_ITEM_ATOM;
        if (parse_operand(lx, &it->lhs) != 0)
            return -1;
        skip_ws(lx);
        if (parse_op(lx, &it->op) != 0)
            return -1;
        skip_ws(lx);
        if (parse_operand(lx, &it->rhs) != 0)
            return -1;
        if (normalizes_literal(&it->lhs) && !it->rhs.is_variable)
            canonicalize_operand(&it->rhs);
        else if (normalizes_literal(&it->rhs) && !it->lhs.is_variable)
            canonicalize_operand(&it->lhs);
    }
    skip_ws(lx);
    return 0;
}

static marker *parse_list(lexer *lx)
{
    marker *m = hb_calloc(1, sizeof *m);
    size_t cap = 0;
    if (parse_atom(lx, m, &cap) != 0)
        goto fail;
    for (;;) {
        int kind;
        if (at_word(lx, "and")) {
            kind = MARKER_ITEM_AND;
            lx->pos += 3;
        } else if (at_word(lx, "or")) {
            kind = MARKER_ITEM_OR;
            lx->pos += 2;
        } else {
            break;
        }
        push_item(m, &cap)->kind = kind;
        if (parse_atom(lx, m, &cap) != 0)
            goto fail;
    }
    return m;
fail:
    marker_free(m);
    return NULL;
}

marker *marker_parse_inside(const char *s, size_t len, size_t *pos, const char *what, hb_error *err)
{
    lexer lx = {s, len, *pos, what, err, 0};
    marker *m = parse_list(&lx);
    if (m)
        *pos = lx.pos;
    return m;
}

marker *marker_parse(const char *s, size_t len, hb_error *err)
{
    lexer lx = {s, len, 0, "marker", err, 0};
    marker *m = parse_list(&lx);
    if (m && lx.pos != len) {
        lex_fail(&lx, lx.pos, "expected 'and', 'or' or the end of the marker expression");
        marker_free(m);
        return NULL;
    }
    return m;
}

/* ------------------------------------------------------------------ str() */

static int format_operand(const marker_operand *o, strbuf *out, hb_error *err)
{
    if (o->is_variable) {
        strbuf_append(out, o->text, o->len);
        return 0;
    }
    char q;
    if (!memchr(o->text, '"', o->len))
        q = '"';
    else if (!memchr(o->text, '\'', o->len))
        q = '\'';
    else
        return hb_error_set(err, HB_EINVAL,
                            "cannot write marker value containing both quote characters");
    strbuf_putc(out, q);
    strbuf_append(out, o->text, o->len);
    strbuf_putc(out, q);
    return 0;
}

/* packaging's _format_marker: a group holding one comparison loses its
 * parentheses; a group whose only content is another group is written once,
 * keeping its parentheses when nested (packaging 26.3 drops them there, which
 * changes the meaning of "a and ((b or c))"). */
static int format_list(const marker *m, bool first, strbuf *out, hb_error *err)
{
    if (m->nitems == 1 && m->items[0].kind == MARKER_ITEM_GROUP)
        return format_list(m->items[0].group, first, out, err);
    if (m->nitems == 1)   /* a lone comparison never needs parentheses */
        first = true;
    if (!first)
        strbuf_putc(out, '(');
    for (size_t i = 0; i < m->nitems; i++) {
        const marker_item *it = &m->items[i];
        if (i)
            strbuf_putc(out, ' ');
        switch (it->kind) {
        case MARKER_ITEM_AND: strbuf_puts(out, "and"); break;
        case MARKER_ITEM_OR: strbuf_puts(out, "or"); break;
        case MARKER_ITEM_GROUP:
            if (format_list(it->group, false, out, err) != 0)
                return -1;
            break;
        default:
            if (format_operand(&it->lhs, out, err) != 0)
                return -1;
            strbuf_printf(out, " %s ", op_text(it->op));
            if (format_operand(&it->rhs, out, err) != 0)
                return -1;
        }
    }
    if (!first)
        strbuf_putc(out, ')');
    return 0;
}

int marker_format(const marker *m, strbuf *out, hb_error *err)
{
    size_t mark = out->len;
    if (format_list(m, true, out, err) != 0) {
        strbuf_truncate(out, mark);
        return -1;
    }
    return 0;
}

bool marker_equal(const marker *a, const marker *b)
{
    strbuf sa = STRBUF_INIT, sb = STRBUF_INIT;
    bool eq = marker_format(a, &sa, NULL) == 0 && marker_format(b, &sb, NULL) == 0 &&
              sa.len == sb.len && memcmp(strbuf_str(&sa), strbuf_str(&sb), sa.len) == 0;
    strbuf_free(&sa);
    strbuf_free(&sb);
    return eq;
}

void marker_each_variable(const marker *m, void (*fn)(const char *name, void *ctx), void *ctx)
{
    for (size_t i = 0; i < m->nitems; i++) {
        const marker_item *it = &m->items[i];
        if (it->kind == MARKER_ITEM_GROUP) {
            marker_each_variable(it->group, fn, ctx);
        } else if (it->kind == MARKER_ITEM_ATOM) {
            /* the looked-up key: the variable side, or the right side when
             * neither is a variable (packaging looks that literal up) */
            if (it->lhs.is_variable)
                fn(it->lhs.text, ctx);
            else
                fn(it->rhs.text, ctx);
        }
    }
}

/* ------------------------------------------------------------ environment */

const char *const marker_default_variables[] = {
    "implementation_name", "implementation_version", "os_name", "platform_machine",
    "platform_release", "platform_system", "platform_version", "python_full_version",
    "platform_python_implementation", "python_version", "sys_platform", NULL,
};

static void env_var_clear(marker_env_var *v)
{
    free(v->value);
    for (size_t i = 0; i < v->nitems; i++)
        free(v->items[i]);
    free(v->items);
    v->value = NULL;
    v->items = NULL;
    v->nitems = 0;
}

void marker_env_free(marker_env *env)
{
    for (size_t i = 0; i < env->n; i++) {
        env_var_clear(&env->vars[i]);
        free(env->vars[i].name);
    }
    free(env->vars);
    env->vars = NULL;
    env->n = env->cap = 0;
}

const marker_env_var *marker_env_get(const marker_env *env, const char *name, size_t len)
{
    for (size_t i = 0; i < env->n; i++)
        if (strlen(env->vars[i].name) == len && memcmp(env->vars[i].name, name, len) == 0)
            return &env->vars[i];
    return NULL;
}

static marker_env_var *env_slot(marker_env *env, const char *name)
{
    marker_env_var *v = (marker_env_var *)marker_env_get(env, name, strlen(name));
    if (v) {
        env_var_clear(v);
        return v;
    }
    if (env->n == env->cap) {
        env->cap = env->cap ? env->cap * 2 : 16;
        env->vars = hb_reallocarray(env->vars, env->cap, sizeof *env->vars);
    }
    v = &env->vars[env->n++];
    memset(v, 0, sizeof *v);
    v->name = hb_strdup(name);
    return v;
}

void marker_env_set(marker_env *env, const char *name, const char *value)
{
    env_slot(env, name)->value = hb_strdup(value);
}

void marker_env_set_items(marker_env *env, const char *name, const char *const *items, size_t n)
{
    marker_env_var *v = env_slot(env, name);
    v->items = hb_calloc(n ? n : 1, sizeof *v->items);
    for (size_t i = 0; i < n; i++)
        v->items[i] = hb_strdup(items[i]);
    v->nitems = n;
}

/* ------------------------------------------------------------- evaluation */

static bool is_version_key(const char *k, size_t n)
{
    static const char *const keys[] = {"implementation_version", "platform_release",
                                       "python_full_version", "python_version"};
    for (size_t i = 0; i < 4; i++)
        if (strlen(keys[i]) == n && memcmp(keys[i], k, n) == 0)
            return true;
    return false;
}

static bool key_is(const char *k, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(k, name, n) == 0;
}

static bool bytes_eq(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static bool bytes_contains(const char *hay, size_t hn, const char *needle, size_t nn)
{
    if (nn == 0)
        return true;
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(hay + i, needle, nn) == 0)
            return true;
    return false;
}

typedef struct eval_ctx {
    const marker_env *env;
    hb_error *err;
} eval_ctx;

static int undefined_comparison(eval_ctx *cx, int op, const char *lhs, size_t ln, const char *rhs,
                                size_t rn)
{
    strbuf a = STRBUF_INIT, b = STRBUF_INIT;
    marker_quote_input(&a, lhs, ln);
    marker_quote_input(&b, rhs, rn);
    hb_error_set(cx->err, HB_EINVAL, "undefined comparison '%s' on '%s' and '%s'", op_text(op),
                 strbuf_str(&a), strbuf_str(&b));
    strbuf_free(&a);
    strbuf_free(&b);
    return -1;
}

/* String rules of packaging >= 26 (the spec's Jan 2026 wording). */
static int string_op(eval_ctx *cx, int op, const char *l, size_t ln, const char *r, size_t rn,
                     bool *res)
{
    switch (op) {
    case MARKER_OP_IN: *res = bytes_contains(r, rn, l, ln); return 0;
    case MARKER_OP_NOT_IN: *res = !bytes_contains(r, rn, l, ln); return 0;
    case MARKER_OP_LT: case MARKER_OP_GT: *res = false; return 0;
    case MARKER_OP_LE: case MARKER_OP_EQ: case MARKER_OP_GE: *res = bytes_eq(l, ln, r, rn); return 0;
    case MARKER_OP_NE: *res = !bytes_eq(l, ln, r, rn); return 0;
    default: return undefined_comparison(cx, op, l, ln, r, rn);
    }
}

static int eval_atom(eval_ctx *cx, const marker_item *it, bool *res)
{
    const marker_operand *keyop = it->lhs.is_variable ? &it->lhs : &it->rhs;
    const char *key = keyop->text;
    size_t keylen = keyop->len;
    const marker_env_var *v = marker_env_get(cx->env, key, keylen);
    if (!v) {
        strbuf q = STRBUF_INIT;
        marker_quote_input(&q, key, keylen);
        hb_error_set(cx->err, HB_EINVAL, "undefined environment variable '%s': the marker reads it "
                     "but the environment does not set it", strbuf_str(&q));
        strbuf_free(&q);
        return -1;
    }
    strbuf a = STRBUF_INIT, b = STRBUF_INIT;
    int rc = 0;
    bool is_set_key = key_is(key, keylen, "extras") || key_is(key, keylen, "dependency_groups");

    if (!v->value) {
        /* a set-valued variable: only "x" in VAR / "x" not in VAR */
        if (it->lhs.is_variable) {
            rc = hb_error_set(cx->err, HB_EINVAL,
                              "undefined comparison: set-valued '%s' is only defined on the right "
                              "of 'in' or 'not in'", v->name);
            goto done;
        }
        const char *l = it->lhs.text;
        size_t ln = it->lhs.len;
        if (is_set_key) {
            pyname_canonicalize_to(&a, l, ln);
            l = strbuf_str(&a);
            ln = a.len;
        }
        bool found = false;
        for (size_t i = 0; i < v->nitems && !found; i++) {
            const char *item = v->items[i];
            size_t in = strlen(item);
            if (is_set_key) {
                strbuf_truncate(&b, 0);
                pyname_canonicalize_to(&b, item, in);
                item = strbuf_str(&b);
                in = b.len;
            }
            found = bytes_eq(l, ln, item, in);
        }
        switch (it->op) {
        case MARKER_OP_IN: *res = found; break;
        case MARKER_OP_NOT_IN: *res = !found; break;
        case MARKER_OP_NE: *res = true; break;
        case MARKER_OP_LT: case MARKER_OP_LE: case MARKER_OP_EQ: case MARKER_OP_GE:
        case MARKER_OP_GT: *res = false; break;
        default:
            rc = hb_error_set(cx->err, HB_EINVAL, "undefined comparison '%s' on set-valued '%s'",
                              op_text(it->op), v->name);
        }
        goto done;
    }

    /* string-valued: lhs/rhs as packaging's _evaluate_markers builds them */
    const char *envval = v->value;
    size_t envlen = strlen(envval);
    if (key_is(key, keylen, "python_full_version") && envlen && envval[envlen - 1] == '+') {
        strbuf_append(&b, envval, envlen);
        strbuf_puts(&b, "local");
        envval = strbuf_str(&b);
        envlen = b.len;
    } else if (key_is(key, keylen, "extra") && envlen) {
        pyname_canonicalize_to(&b, envval, envlen);
        envval = strbuf_str(&b);
        envlen = b.len;
    }
    const char *l, *r;
    size_t ln, rn;
    if (it->lhs.is_variable) {
        l = envval, ln = envlen, r = it->rhs.text, rn = it->rhs.len;
    } else {
        l = it->lhs.text, ln = it->lhs.len, r = envval, rn = envlen;
    }
    if (is_set_key) {   /* a string given for a set variable: compare normalized */
        strbuf_truncate(&a, 0);
        strbuf_truncate(&b, 0);
        pyname_canonicalize_to(&a, l, ln);
        pyname_canonicalize_to(&b, r, rn);
        l = strbuf_str(&a), ln = a.len, r = strbuf_str(&b), rn = b.len;
    }
    if (is_version_key(key, keylen) && it->op != MARKER_OP_IN && it->op != MARKER_OP_NOT_IN &&
        !memchr(r, ',', rn) && !memchr(r, '\0', rn)) {
        strbuf spec = STRBUF_INIT;
        strbuf_puts(&spec, op_text(it->op));
        strbuf_append(&spec, r, rn);
        if (pep508_specifier_valid(spec.buf, spec.len)) {
            pep440_specset set;
            hb_error perr;
            if (pep440_specset_parse(&set, spec.buf, spec.len, &perr) != 0) {
                /* valid for packaging, beyond what pep440 represents */
                rc = hb_error_set(cx->err, HB_EINVAL, "cannot compare %.*s: %s",
                                  (int)(keylen > 100 ? 100 : keylen), key, perr.msg);
            } else {
                *res = pep440_specset_contains(&set, l, ln, PEP440_PRE_ALLOW, false);
                pep440_specset_free(&set);
            }
            strbuf_free(&spec);
            goto done;
        }
        strbuf_free(&spec);
    }
    rc = string_op(cx, it->op, l, ln, r, rn, res);
done:
    strbuf_free(&a);
    strbuf_free(&b);
    return rc;
}

static int eval_list(eval_ctx *cx, const marker *m, bool *res)
{
    /* packaging evaluates every item (no short circuit), groups split on "or" */
    bool any = false, group = true;
    for (size_t i = 0; i < m->nitems; i++) {
        const marker_item *it = &m->items[i];
        bool v;
        switch (it->kind) {
        case MARKER_ITEM_OR:
            any = any || group;
            group = true;
            continue;
        case MARKER_ITEM_AND:
            continue;
        case MARKER_ITEM_GROUP:
            if (eval_list(cx, it->group, &v) != 0)
                return -1;
            break;
        default:
            if (eval_atom(cx, it, &v) != 0)
                return -1;
        }
        group = group && v;
    }
    *res = any || group;
    return 0;
}

int marker_evaluate(const marker *m, const marker_env *env, bool *result, hb_error *err)
{
    eval_ctx cx = {env, err};
    bool r = false;
    if (eval_list(&cx, m, &r) != 0)
        return -1;
    *result = r;
    return 0;
}

/* ------------------------------------------------ interpreter environment */

/* packaging.markers.default_environment(), printed as NAME\0VALUE\0 pairs. */
static const char env_script[] =
    "import os, platform, sys\n"
    "i = sys.implementation.version\n"
    "iv = '%d.%d.%d' % (i.major, i.minor, i.micro)\n"
    "if i.releaselevel != 'final':\n"
    "    iv += i.releaselevel[0] + str(i.serial)\n"
    "env = [('implementation_name', sys.implementation.name),\n"
    "       ('implementation_version', iv),\n"
    "       ('os_name', os.name),\n"
    "       ('platform_machine', platform.machine()),\n"
    "       ('platform_release', platform.release()),\n"
    "       ('platform_system', platform.system()),\n"
    "       ('platform_version', platform.version()),\n"
    "       ('python_full_version', platform.python_version()),\n"
    "       ('platform_python_implementation', platform.python_implementation()),\n"
    "       ('python_version', '.'.join(platform.python_version_tuple()[:2])),\n"
    "       ('sys_platform', sys.platform)]\n"
    "sys.stdout.buffer.write(''.join(k + '\\0' + v + '\\0' for k, v in env)"
    ".encode('utf-8', 'surrogateescape'))\n";

int marker_env_from_python(marker_env *env, const char *python, hb_error *err)
{
    const char *argv[] = {python, "-c", env_script, NULL};
    process_result r;
    if (process_run(argv, &r, err) != 0)
        return hb_error_prefix(err, "cannot ask the interpreter for its marker environment");
    int rc = 0;
    if (r.exit_status != 0) {
        const char *msg = r.err_len ? r.err : "";
        size_t n = strcspn(msg, "\n");
        const char *last = msg;   /* the last non-empty line says most (a traceback's error) */
        for (const char *p = msg; *p; p++)
            if (p[0] == '\n' && p[1] && p[1] != '\n')
                last = p + 1;
        n = strcspn(last, "\n");
        rc = hb_error_set(err, HB_ESYS, "interpreter '%s' failed to report its marker environment "
                          "(exit status %d)%s%.*s", python, r.exit_status, n ? ": " : "",
                          (int)(n > 200 ? 200 : n), last);
        goto done;
    }
    size_t i = 0, count = 0;
    while (i < r.out_len) {
        const char *name = r.out + i;
        size_t nl = strnlen(name, r.out_len - i);
        if (i + nl >= r.out_len)
            break;
        const char *value = name + nl + 1;
        size_t vl = strnlen(value, r.out_len - i - nl - 1);
        if (i + nl + 1 + vl >= r.out_len)
            break;
        if (!marker_env_get(env, name, nl))
            marker_env_set(env, name, value);
        count++;
        i += nl + 1 + vl + 1;
    }
    if (count != 11)
        rc = hb_error_set(err, HB_ESYS, "interpreter '%s' printed a malformed marker environment",
                          python);
done:
    process_result_free(&r);
    return rc;
}
