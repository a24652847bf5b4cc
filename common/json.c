/* json.c — strict RFC 8259 reader into a node tape; see json.h. */
#include "hpcbuild/json.h"
#include "hpcbuild/alloc.h"
#include "hpcbuild/utf8.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define TYPE_MASK 7u
#define FLAG_DECODED 8u   /* string lives in doc->decoded, not in the input */
#define FLAG_INT 16u      /* number has no fraction and no exponent */

struct hb_json_doc {
    hb_json_node *nodes;
    size_t n;
    char *decoded;        /* decoded strings that had escapes */
    const char *data;     /* the input */
    size_t len;
    void *map;            /* owned mapping (hb_json_parse_file), or NULL */
    size_t map_len;
    char *owned;          /* owned buffer (read fallback), or NULL */
};

typedef struct parser {
    const unsigned char *s;
    size_t len;
    size_t pos;
    hb_json_node *nodes;
    size_t n, cap;
    strbuf dec;
    const char *name;
    hb_error *err;
} parser;

/* ---- character classes --------------------------------------------------- */

/* Bytes that end the fast scan of a string: '"', '\\', controls, non-ASCII. */
static const unsigned char string_special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

/* Nonzero when one of the 8 bytes is '"', '\\', < 0x20 or >= 0x80. */
static inline uint64_t swar_string_special(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"');
    uint64_t b = x ^ (ONES * '\\');
    return (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((x - ONES * 0x20) & ~x) | x) & HIGHS;
}

/* Index (0-7) of the first byte flagged in a nonzero swar mask.  Only the
 * lowest flag is exact (borrows may flag later bytes), which is the one used.
 * Little-endian loads put the first byte lowest. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR_FIRST_BYTE 1
static inline size_t swar_first(uint64_t mask)
{
    /* the lowest set bit is 8k+7; de Bruijn multiplication finds it */
    static const unsigned char index64[64] = {
        0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4,
        62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
        63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
        46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9, 13, 8, 7, 6,
    };
    uint64_t low = mask & (~mask + 1);
    return index64[(low * 0x03f79d71b4cb0a89ull) >> 58] >> 3;
}
#endif

static inline bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* ---- errors --------------------------------------------------------------- */

static void describe_byte(const parser *p, size_t at, char *buf, size_t size)
{
    if (at >= p->len) {
        snprintf(buf, size, "end of input");
        return;
    }
    unsigned char c = p->s[at];
    if (c < 0x20 || c == 0x7F)
        snprintf(buf, size, "control character U+%04X", c);
    else if (c >= 0x80)
        snprintf(buf, size, "byte 0x%02X", c);
    else if (c == '\'')
        snprintf(buf, size, "\"'\"");
    else
        snprintf(buf, size, "'%c'", c);
}

/* "NAME: line L, column C (byte offset B): <message>".  Columns count
 * characters (UTF-8 sequences), from 1. */
__attribute__((format(printf, 3, 4)))
static int fail(parser *p, size_t at, const char *fmt, ...)
{
    if (!p->err)
        return -1;
    size_t line = 1, col = 1;
    size_t end = at < p->len ? at : p->len;
    for (size_t i = 0; i < end; i++) {
        unsigned char c = p->s[i];
        if (c == '\n') {
            line++;
            col = 1;
        } else if ((c & 0xC0) != 0x80) {
            col++;
        }
    }
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hb_error_set(p->err, HB_EINVAL, "%s: line %zu, column %zu (byte offset %zu): %s",
                        p->name, line, col, at, msg);
}

static int expected(parser *p, size_t at, const char *what)
{
    char found[48];
    describe_byte(p, at, found, sizeof found);
    return fail(p, at, "expected %s, found %s", what, found);
}

/* ---- the tape --------------------------------------------------------------- */

/* Big tapes are touched once, front to back: ask for transparent huge pages
 * so that filling them costs a few hundred page faults, not 100k. */
static void advise_huge(void *mem, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (bytes < 2 * huge)
        return;
    uintptr_t lo = ((uintptr_t)mem + huge - 1) & ~(huge - 1);
    uintptr_t hi = ((uintptr_t)mem + bytes) & ~(huge - 1);
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);   /* only advice: failure is fine */
#else
    (void)mem;
    (void)bytes;
#endif
}

static void grow(parser *p, size_t cap)
{
    p->cap = cap;
    p->nodes = hb_reallocarray(p->nodes, p->cap, sizeof *p->nodes);
    advise_huge(p->nodes, p->cap * sizeof *p->nodes);
}

static inline hb_json_node *push(parser *p)
{
    if (p->n == p->cap)
        grow(p, p->cap * 2);
    return &p->nodes[p->n++];
}

static inline void skip_ws(parser *p)
{
    const unsigned char *s = p->s;
    size_t i = p->pos, len = p->len;
    while (i < len && is_ws(s[i])) {
        i++;
        /* indentation: runs of spaces, 8 at a time */
        while (i + 8 <= len && load64(s + i) == ONES * ' ')
            i += 8;
    }
    p->pos = i;
}

static int hex4(parser *p, size_t at, uint32_t *out)
{
    uint32_t v = 0;
    for (size_t k = 0; k < 4; k++) {
        if (at + k >= p->len)
            return expected(p, at + k, "4 hex digits after '\\u'");
        unsigned char c = p->s[at + k];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return expected(p, at + k, "4 hex digits after '\\u'");
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/* A byte that stops the plain scan and is neither '"' nor '\\'. */
static int string_bad_or_utf8(parser *p, size_t i, size_t *n)
{
    unsigned char c = p->s[i];
    if (c < 0x20)
        return fail(p, i, "control character U+%04X in string (it must be escaped)", c);
    uint32_t cp;
    *n = utf8_decode(p->s + i, p->len - i, &cp);
    if (!*n)
        return fail(p, i, "invalid UTF-8 (byte 0x%02X) in string", c);
    return 0;
}

/* Decodes the string whose body starts at start; i is its first backslash. */
static int parse_string_escaped(parser *p, size_t start, size_t i, hb_json_node *node)
{
    const unsigned char *s = p->s;
    size_t len = p->len;
    strbuf *d = &p->dec;
    size_t out0 = d->len;
    strbuf_append(d, (const char *)s + start, i - start);
    for (;;) {
        size_t run = i;
        while (i < len && !string_special[s[i]])
            i++;
        if (i > run)
            strbuf_append(d, (const char *)s + run, i - run);
        if (i >= len)
            return expected(p, i, "'\"' to end the string");
        unsigned char c = s[i];
        if (c == '"') {
            i++;
            break;
        }
        if (c == '\\') {
            if (i + 1 >= len)
                return expected(p, i + 1, "an escape character after '\\'");
            unsigned char e = s[i + 1];
            char out;
            switch (e) {
            case '"': out = '"'; break;
            case '\\': out = '\\'; break;
            case '/': out = '/'; break;
            case 'b': out = '\b'; break;
            case 'f': out = '\f'; break;
            case 'n': out = '\n'; break;
            case 'r': out = '\r'; break;
            case 't': out = '\t'; break;
            case 'u': {
                uint32_t cp;
                if (hex4(p, i + 2, &cp) < 0)
                    return -1;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return fail(p, i, "lone low surrogate \\u%04X in string (expected a high "
                                "surrogate \\uD800-\\uDBFF before it)", (unsigned)cp);
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (i + 7 >= len || s[i + 6] != '\\' || s[i + 7] != 'u')
                        return fail(p, i, "lone high surrogate \\u%04X in string (expected a low "
                                    "surrogate escape \\uDC00-\\uDFFF after it)", (unsigned)cp);
                    if (hex4(p, i + 8, &lo) < 0)
                        return -1;
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return fail(p, i, "lone high surrogate \\u%04X in string (expected a low "
                                    "surrogate escape \\uDC00-\\uDFFF after it)", (unsigned)cp);
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
                utf8_append(d, cp);
                i += 6;
                continue;
            }
            default:
                return expected(p, i + 1, "one of \" \\ / b f n r t u after '\\'");
            }
            strbuf_putc(d, out);
            i += 2;
            continue;
        }
        size_t n;
        if (string_bad_or_utf8(p, i, &n) < 0)
            return -1;
        strbuf_append(d, (const char *)s + i, n);
        i += n;
    }
    size_t n = d->len - out0;
    if (n > UINT32_MAX)
        return fail(p, start - 1, "string longer than 4 GiB");
    node->info = HB_JSON_STRING | FLAG_DECODED;
    node->len = (uint32_t)n;
    node->pos = out0;
    p->pos = i;
    return 0;
}

/* p->pos is at the opening quote. */
static int parse_string(parser *p, hb_json_node *node)
{
    const unsigned char *s = p->s;
    size_t len = p->len;
    size_t start = p->pos + 1, i = start;
    for (;;) {
#ifdef SWAR_FIRST_BYTE
        for (;;) {
            if (i + 8 > len) {
                while (i < len && !string_special[s[i]])
                    i++;
                break;
            }
            uint64_t m = swar_string_special(load64(s + i));
            if (m) {
                i += swar_first(m);
                break;
            }
            i += 8;
        }
#else
        while (i + 8 <= len && !swar_string_special(load64(s + i)))
            i += 8;
        while (i < len && !string_special[s[i]])
            i++;
#endif
        if (i >= len)
            return expected(p, i, "'\"' to end the string");
        unsigned char c = s[i];
        if (c == '"')
            break;
        if (c == '\\')
            return parse_string_escaped(p, start, i, node);
        size_t n;
        if (string_bad_or_utf8(p, i, &n) < 0)
            return -1;
        i += n;
    }
    if (i - start > UINT32_MAX)
        return fail(p, start - 1, "string longer than 4 GiB");
    node->info = HB_JSON_STRING;
    node->len = (uint32_t)(i - start);
    node->pos = start;
    p->pos = i + 1;
    return 0;
}

static int parse_number(parser *p, hb_json_node *node)
{
    const unsigned char *s = p->s;
    size_t len = p->len;
    size_t start = p->pos, i = start;
    uint32_t flags = FLAG_INT;
    if (s[i] == '-')
        i++;
    if (i >= len || !is_digit(s[i]))
        return expected(p, i, "a digit after '-'");
    if (s[i] == '0') {
        i++;
        if (i < len && is_digit(s[i]))
            return fail(p, start, "leading zeros are not allowed in numbers");
    } else {
        while (i < len && is_digit(s[i]))
            i++;
    }
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len || !is_digit(s[i]))
            return expected(p, i, "a digit after '.'");
        while (i < len && is_digit(s[i]))
            i++;
        flags = 0;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= len || !is_digit(s[i]))
            return expected(p, i, "a digit in the exponent");
        while (i < len && is_digit(s[i]))
            i++;
        flags = 0;
    }
    if (i - start > UINT32_MAX)
        return fail(p, start, "number longer than 4 GiB");
    node->info = HB_JSON_NUMBER | flags;
    node->len = (uint32_t)(i - start);
    node->pos = start;
    p->pos = i;
    return 0;
}

static int parse_literal(parser *p, const char *word, size_t wlen, enum hb_json_type t,
                         hb_json_node *node)
{
    for (size_t k = 0; k < wlen; k++) {
        if (p->pos + k >= p->len || p->s[p->pos + k] != (unsigned char)word[k]) {
            char what[16];
            snprintf(what, sizeof what, "'%s'", word);
            return expected(p, p->pos + k, what);
        }
    }
    node->info = (uint32_t)t;
    node->len = 0;
    node->pos = 0;
    p->pos += wlen;
    return 0;
}

static int parse_document(parser *p)
{
    size_t stack[HB_JSON_MAX_DEPTH];
    size_t depth = 0;
    const unsigned char *s = p->s;

    if (p->len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return fail(p, 0, "unexpected UTF-8 byte order mark (JSON text must not start with one)");

value:
    skip_ws(p);
    if (p->pos >= p->len)
        return expected(p, p->pos, "a value");
    switch (s[p->pos]) {
    case '"':
        if (parse_string(p, push(p)) < 0)
            return -1;
        break;
    case '{':
    case '[': {
        if (depth == HB_JSON_MAX_DEPTH)
            return fail(p, p->pos, "nesting deeper than %d arrays and objects", HB_JSON_MAX_DEPTH);
        bool obj = s[p->pos] == '{';
        hb_json_node *c = push(p);
        c->info = obj ? HB_JSON_OBJECT : HB_JSON_ARRAY;
        c->len = 0;
        c->pos = 0;
        stack[depth++] = p->n - 1;
        p->pos++;
        skip_ws(p);
        if (p->pos < p->len && s[p->pos] == (obj ? '}' : ']')) {
            p->pos++;
            goto close;
        }
        if (obj)
            goto key;
        goto value;
    }
    case 't':
        if (parse_literal(p, "true", 4, HB_JSON_TRUE, push(p)) < 0)
            return -1;
        break;
    case 'f':
        if (parse_literal(p, "false", 5, HB_JSON_FALSE, push(p)) < 0)
            return -1;
        break;
    case 'n':
        if (parse_literal(p, "null", 4, HB_JSON_NULL, push(p)) < 0)
            return -1;
        break;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        if (parse_number(p, push(p)) < 0)
            return -1;
        break;
    default:
        return expected(p, p->pos, "a value");
    }

after_value:
    if (depth == 0) {
        skip_ws(p);
        if (p->pos < p->len)
            return expected(p, p->pos, "end of input after the top-level value");
        return 0;
    }
    {
        hb_json_node *c = &p->nodes[stack[depth - 1]];
        if (c->len == UINT32_MAX)
            return fail(p, p->pos, "more than %u elements in one array or object", UINT32_MAX);
        c->len++;
        bool obj = (c->info & TYPE_MASK) == HB_JSON_OBJECT;
        skip_ws(p);
        if (p->pos < p->len && s[p->pos] == ',') {
            p->pos++;
            skip_ws(p);
            if (p->pos < p->len && s[p->pos] == (obj ? '}' : ']'))
                return fail(p, p->pos, "trailing comma before '%c' is not allowed", obj ? '}' : ']');
            if (obj)
                goto key;
            goto value;
        }
        if (p->pos < p->len && s[p->pos] == (obj ? '}' : ']')) {
            p->pos++;
            goto close;
        }
        return expected(p, p->pos, obj ? "',' or '}' after an object member"
                                       : "',' or ']' after an array element");
    }

key:
    skip_ws(p);
    if (p->pos >= p->len || s[p->pos] != '"')
        return expected(p, p->pos, "a string key");
    if (parse_string(p, push(p)) < 0)
        return -1;
    skip_ws(p);
    if (p->pos >= p->len || s[p->pos] != ':')
        return expected(p, p->pos, "':' after an object key");
    p->pos++;
    goto value;

close: {
        size_t idx = stack[--depth];
        p->nodes[idx].pos = p->n - idx;
        goto after_value;
    }
}

hb_json_doc *hb_json_parse(const char *data, size_t len, const char *name, hb_error *err)
{
    parser p = {0};
    p.s = (const unsigned char *)(data ? data : "");
    p.len = data ? len : 0;
    p.name = name ? name : "JSON";
    p.err = err;
    /* room for one node per 8 bytes: repodata needs one per ~16, so it never
     * regrows (moving a big tape costs its huge pages); untouched room costs
     * only address space, and the tape is trimmed to size at the end */
    grow(&p, len / 8 + 16);
    if (parse_document(&p) < 0) {
        free(p.nodes);
        strbuf_free(&p.dec);
        return NULL;
    }
    hb_json_doc *doc = hb_calloc(1, sizeof *doc);
    doc->nodes = hb_reallocarray(p.nodes, p.n, sizeof *p.nodes);
    doc->n = p.n;
    doc->decoded = p.dec.buf;
    doc->data = (const char *)p.s;
    doc->len = p.len;
    return doc;
}

hb_json_doc *hb_json_parse_file(const char *path, hb_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        hb_error_set(err, HB_EIO, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    void *map = NULL;
    size_t map_len = 0;
    char *buf = NULL;
    size_t len = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
        flags |= MAP_POPULATE;
#endif
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, flags, fd, 0);
        if (map == MAP_FAILED) {
            map = NULL;
        } else {
            map_len = len = (size_t)st.st_size;
        }
    }
    if (!map) {
        strbuf sb = STRBUF_INIT;
        for (;;) {
            strbuf_reserve(&sb, 1 << 16);
            ssize_t r = read(fd, sb.buf + sb.len, sb.cap - sb.len - 1);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                hb_error_set(err, HB_EIO, "cannot read '%s': %s", path, strerror(errno));
                strbuf_free(&sb);
                close(fd);
                return NULL;
            }
            if (r == 0)
                break;
            sb.len += (size_t)r;
        }
        len = sb.len;
        buf = strbuf_detach(&sb);
    }
    close(fd);
    hb_json_doc *doc = hb_json_parse(map ? map : buf, len, path, err);
    if (!doc) {
        if (map)
            munmap(map, map_len);
        free(buf);
        return NULL;
    }
    doc->map = map;
    doc->map_len = map_len;
    doc->owned = buf;
    return doc;
}

void hb_json_free(hb_json_doc *doc)
{
    if (!doc)
        return;
    free(doc->nodes);
    free(doc->decoded);
    if (doc->map)
        munmap(doc->map, doc->map_len);
    free(doc->owned);
    free(doc);
}

/* ---- access --------------------------------------------------------------- */

static inline uint32_t type_of(const hb_json_node *v)
{
    return v ? v->info & TYPE_MASK : HB_JSON_NONE;
}

const hb_json_node *hb_json_root(const hb_json_doc *doc)
{
    return doc->nodes;
}

size_t hb_json_node_count(const hb_json_doc *doc)
{
    return doc->n;
}

enum hb_json_type hb_json_type(const hb_json_node *v)
{
    return (enum hb_json_type)type_of(v);
}

const char *hb_json_type_name(enum hb_json_type t)
{
    switch (t) {
    case HB_JSON_NULL: return "null";
    case HB_JSON_FALSE: return "false";
    case HB_JSON_TRUE: return "true";
    case HB_JSON_NUMBER: return "number";
    case HB_JSON_STRING: return "string";
    case HB_JSON_ARRAY: return "array";
    case HB_JSON_OBJECT: return "object";
    case HB_JSON_NONE: break;
    }
    return "no value";
}

static bool is_container(const hb_json_node *v)
{
    uint32_t t = type_of(v);
    return t == HB_JSON_ARRAY || t == HB_JSON_OBJECT;
}

size_t hb_json_count(const hb_json_node *v)
{
    return is_container(v) ? v->len : 0;
}

const hb_json_node *hb_json_skip(const hb_json_node *v)
{
    return is_container(v) ? v + v->pos : v + 1;
}

const char *hb_json_str(const hb_json_doc *doc, const hb_json_node *v, size_t *len)
{
    if (type_of(v) != HB_JSON_STRING)
        return NULL;
    if (len)
        *len = v->len;
    return (v->info & FLAG_DECODED ? doc->decoded : doc->data) + v->pos;
}

char *hb_json_strdup(const hb_json_doc *doc, const hb_json_node *v)
{
    size_t len = 0;
    const char *s = hb_json_str(doc, v, &len);
    return s ? hb_strndup(s, len) : NULL;
}

bool hb_json_str_equals(const hb_json_doc *doc, const hb_json_node *v, const char *s, size_t len)
{
    if (type_of(v) != HB_JSON_STRING || v->len != len)
        return false;
    const char *t = (v->info & FLAG_DECODED ? doc->decoded : doc->data) + v->pos;
    return len == 0 || memcmp(t, s, len) == 0;
}

const char *hb_json_number_text(const hb_json_doc *doc, const hb_json_node *v, size_t *len)
{
    if (type_of(v) != HB_JSON_NUMBER)
        return NULL;
    if (len)
        *len = v->len;
    return doc->data + v->pos;
}

bool hb_json_is_integer(const hb_json_node *v)
{
    return type_of(v) == HB_JSON_NUMBER && (v->info & FLAG_INT);
}

static const char *article(enum hb_json_type t)
{
    return t == HB_JSON_ARRAY || t == HB_JSON_OBJECT ? "an " : t == HB_JSON_NUMBER
           || t == HB_JSON_STRING ? "a " : "";
}

static int type_error(const hb_json_node *v, const char *want, hb_error *err)
{
    enum hb_json_type t = hb_json_type(v);
    return hb_error_set(err, HB_EINVAL, "expected %s, found %s%s", want, article(t),
                        hb_json_type_name(t));
}

int hb_json_get_string(const hb_json_doc *doc, const hb_json_node *v, const char **s, size_t *len,
                       hb_error *err)
{
    const char *r = hb_json_str(doc, v, len);
    if (!r)
        return type_error(v, "a string", err);
    *s = r;
    return 0;
}

int hb_json_get_bool(const hb_json_node *v, bool *out, hb_error *err)
{
    uint32_t t = type_of(v);
    if (t != HB_JSON_TRUE && t != HB_JSON_FALSE)
        return type_error(v, "true or false", err);
    *out = t == HB_JSON_TRUE;
    return 0;
}

/* At most 40 characters of a number's text, for messages. */
#define NUM_SHOWN(n, t) (n > 40 ? 40 : (int)n), t, (n > 40 ? "..." : "")

int hb_json_get_int64(const hb_json_doc *doc, const hb_json_node *v, int64_t *out, hb_error *err)
{
    if (type_of(v) != HB_JSON_NUMBER)
        return type_error(v, "an integer", err);
    const char *t = doc->data + v->pos;
    size_t n = v->len;
    if (!(v->info & FLAG_INT))
        return hb_error_set(err, HB_EINVAL, "expected an integer, found the number '%.*s%s'", NUM_SHOWN(n, t));
    bool neg = t[0] == '-';
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t acc = 0;
    for (size_t i = neg; i < n; i++) {
        uint64_t d = (uint64_t)(t[i] - '0');
        if (acc > (limit - d) / 10)
            return hb_error_set(err, HB_EINVAL, "integer '%.*s%s' is out of range for a 64-bit integer",
                                NUM_SHOWN(n, t));
        acc = acc * 10 + d;
    }
    if (neg)
        *out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    else
        *out = (int64_t)acc;
    return 0;
}

int hb_json_get_double(const hb_json_doc *doc, const hb_json_node *v, double *out, hb_error *err)
{
    if (type_of(v) != HB_JSON_NUMBER)
        return type_error(v, "a number", err);
    const char *t = doc->data + v->pos;
    size_t n = v->len;
    char small[64];
    char *buf = n < sizeof small ? small : hb_malloc(n + 1);
    memcpy(buf, t, n);
    buf[n] = '\0';
    double d = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    *out = d;
    if (isinf(d))
        return hb_error_set(err, HB_EINVAL, "number '%.*s%s' is out of range for a double", NUM_SHOWN(n, t));
    return 0;
}

const hb_json_node *hb_json_object_getn(const hb_json_doc *doc, const hb_json_node *v,
                                        const char *key, size_t keylen)
{
    if (type_of(v) != HB_JSON_OBJECT)
        return NULL;
    const hb_json_node *found = NULL;
    const hb_json_node *k = v + 1, *end = v + v->pos;
    while (k < end) {
        if (hb_json_str_equals(doc, k, key, keylen))
            found = k + 1;
        k = hb_json_skip(k + 1);
    }
    return found;
}

const hb_json_node *hb_json_object_get(const hb_json_doc *doc, const hb_json_node *v, const char *key)
{
    return hb_json_object_getn(doc, v, key, strlen(key));
}

const hb_json_node *hb_json_array_at(const hb_json_node *v, size_t i)
{
    if (type_of(v) != HB_JSON_ARRAY || i >= v->len)
        return NULL;
    const hb_json_node *e = v + 1;
    while (i--)
        e = hb_json_skip(e);
    return e;
}

hb_json_iter hb_json_iter_init(const hb_json_node *container)
{
    hb_json_iter it;
    if (container && is_container(container)) {
        it.cur = container + 1;
        it.end = container + container->pos;
    } else {
        it.cur = it.end = container;
    }
    return it;
}

bool hb_json_array_next(hb_json_iter *it, const hb_json_node **elem)
{
    if (it->cur >= it->end)
        return false;
    *elem = it->cur;
    it->cur = hb_json_skip(it->cur);
    return true;
}

bool hb_json_object_next(hb_json_iter *it, const hb_json_node **key, const hb_json_node **value)
{
    if (it->cur >= it->end)
        return false;
    *key = it->cur;
    *value = it->cur + 1;
    it->cur = hb_json_skip(it->cur + 1);
    return true;
}

/* ---- writer --------------------------------------------------------------- */

void hb_json_escape(strbuf *out, const char *str, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    strbuf_reserve(out, len + 2);
    strbuf_putc(out, '"');
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (i < len && !string_special[s[i]])
            i++;
        if (i > run)
            strbuf_append(out, str + run, i - run);
        if (i >= len)
            break;
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            strbuf_append(out, e, 2);
            i++;
        } else if (c < 0x20) {
            const char *e = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r"
                          : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
            if (e) {
                strbuf_append(out, e, 2);
            } else {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                strbuf_append(out, u, 6);
            }
            i++;
        } else {
            uint32_t cp;
            size_t n = utf8_decode(s + i, len - i, &cp);
            if (n) {
                strbuf_append(out, str + i, n);
                i += n;
            } else {
                strbuf_append(out, "\\ufffd", 6);
                i++;
            }
        }
    }
    strbuf_putc(out, '"');
}

void hb_json_writer_init(hb_json_writer *w, strbuf *out, int indent)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->indent = indent > 0 ? indent : 0;
}

static bool has_items(const hb_json_writer *w)
{
    unsigned d = w->depth < HB_JSON_MAX_DEPTH ? w->depth : HB_JSON_MAX_DEPTH;
    return w->has_items[d / 8] & (1u << (d % 8));
}

/* Beyond HB_JSON_MAX_DEPTH (a caller bug, asserted) the levels share one
 * bit: commas may come out wrong, memory stays safe. */
static void set_has_items(hb_json_writer *w, bool on)
{
    unsigned d = w->depth < HB_JSON_MAX_DEPTH ? w->depth : HB_JSON_MAX_DEPTH;
    if (on)
        w->has_items[d / 8] |= (unsigned char)(1u << (d % 8));
    else
        w->has_items[d / 8] &= (unsigned char)~(1u << (d % 8));
}

static void newline_indent(hb_json_writer *w)
{
    strbuf_putc(w->out, '\n');
    size_t n = (size_t)w->indent * w->depth;
    strbuf_reserve(w->out, n);
    memset(w->out->buf + w->out->len, ' ', n);
    w->out->len += n;
    w->out->buf[w->out->len] = '\0';
}

/* Comma and indentation before a value or key. */
static void before_item(hb_json_writer *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth == 0)
        return;
    if (has_items(w))
        strbuf_putc(w->out, ',');
    set_has_items(w, true);
    if (w->indent)
        newline_indent(w);
}

static void open_container(hb_json_writer *w, char c)
{
    before_item(w);
    assert(w->depth < HB_JSON_MAX_DEPTH && "hb_json_writer: nesting deeper than HB_JSON_MAX_DEPTH");
    strbuf_putc(w->out, c);
    w->depth++;
    set_has_items(w, false);
}

static void close_container(hb_json_writer *w, char c)
{
    bool any = has_items(w);
    if (w->depth > 0)
        w->depth--;
    if (any && w->indent)
        newline_indent(w);
    strbuf_putc(w->out, c);
}

void hb_json_begin_object(hb_json_writer *w) { open_container(w, '{'); }
void hb_json_end_object(hb_json_writer *w) { close_container(w, '}'); }
void hb_json_begin_array(hb_json_writer *w) { open_container(w, '['); }
void hb_json_end_array(hb_json_writer *w) { close_container(w, ']'); }

void hb_json_string_list(hb_json_writer *w, char *const *list)
{
    hb_json_begin_array(w);
    for (char *const *p = list; p && *p; p++)
        hb_json_string(w, *p);
    hb_json_end_array(w);
}

void hb_json_keyn(hb_json_writer *w, const char *key, size_t len)
{
    w->after_key = false;
    before_item(w);
    hb_json_escape(w->out, key, len);
    strbuf_append(w->out, w->indent ? ": " : ":", w->indent ? 2 : 1);
    w->after_key = true;
}

void hb_json_key(hb_json_writer *w, const char *key)
{
    hb_json_keyn(w, key, strlen(key));
}

void hb_json_stringn(hb_json_writer *w, const char *s, size_t len)
{
    before_item(w);
    hb_json_escape(w->out, s, len);
}

void hb_json_string(hb_json_writer *w, const char *s)
{
    hb_json_stringn(w, s, strlen(s));
}

void hb_json_string_or_null(hb_json_writer *w, const char *s)
{
    if (s)
        hb_json_string(w, s);
    else
        hb_json_null(w);
}

void hb_json_int64(hb_json_writer *w, int64_t v)
{
    before_item(w);
    strbuf_printf(w->out, "%lld", (long long)v);
}

void hb_json_double(hb_json_writer *w, double v)
{
    before_item(w);
    if (!isfinite(v)) {
        strbuf_puts(w->out, "null");
        return;
    }
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {   /* the shortest text that reads back */
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    strbuf_puts(w->out, buf);
    if (!strpbrk(buf, ".eE"))
        strbuf_puts(w->out, ".0");
}

void hb_json_bool(hb_json_writer *w, bool v)
{
    before_item(w);
    strbuf_puts(w->out, v ? "true" : "false");
}

void hb_json_null(hb_json_writer *w)
{
    before_item(w);
    strbuf_puts(w->out, "null");
}

void hb_json_value(hb_json_writer *w, const hb_json_doc *doc, const hb_json_node *v)
{
    switch (hb_json_type(v)) {
    case HB_JSON_NONE:
    case HB_JSON_NULL: hb_json_null(w); break;
    case HB_JSON_FALSE: hb_json_bool(w, false); break;
    case HB_JSON_TRUE: hb_json_bool(w, true); break;
    case HB_JSON_NUMBER:
        before_item(w);
        strbuf_append(w->out, doc->data + v->pos, v->len);
        break;
    case HB_JSON_STRING: {
        size_t len = 0;
        const char *s = hb_json_str(doc, v, &len);
        hb_json_stringn(w, s, len);
        break;
    }
    case HB_JSON_ARRAY: {
        hb_json_begin_array(w);
        hb_json_iter it = hb_json_iter_init(v);
        const hb_json_node *e;
        while (hb_json_array_next(&it, &e))
            hb_json_value(w, doc, e);
        hb_json_end_array(w);
        break;
    }
    case HB_JSON_OBJECT: {
        hb_json_begin_object(w);
        hb_json_iter it = hb_json_iter_init(v);
        const hb_json_node *k, *val;
        while (hb_json_object_next(&it, &k, &val)) {
            size_t len = 0;
            const char *s = hb_json_str(doc, k, &len);
            hb_json_keyn(w, s, len);
            hb_json_value(w, doc, val);
        }
        hb_json_end_object(w);
        break;
    }
    }
}

char *hb_json_get_strdup(const hb_json_doc *doc, const hb_json_node *obj, const char *key)
{
    const hb_json_node *v = hb_json_object_get(doc, obj, key);
    return v && hb_json_type(v) == HB_JSON_STRING ? hb_json_strdup(doc, v) : NULL;
}

char **hb_json_get_strv(const hb_json_doc *doc, const hb_json_node *obj, const char *key)
{
    const hb_json_node *v = hb_json_object_get(doc, obj, key);
    size_t n = v && hb_json_type(v) == HB_JSON_ARRAY ? hb_json_count(v) : 0;
    char **out = hb_calloc(n + 1, sizeof *out);
    size_t k = 0;
    if (n) {
        hb_json_iter it = hb_json_iter_init(v);
        const hb_json_node *e;
        while (hb_json_array_next(&it, &e))
            if (hb_json_type(e) == HB_JSON_STRING)
                out[k++] = hb_json_strdup(doc, e);
    }
    return out;
}

void hb_json_member(hb_json_writer *w, const char *key, const char *s)
{
    hb_json_key(w, key);
    hb_json_string_or_null(w, s);
}
