/* The test driver's main loop: decode a request line, hand it to the area
 * handlers, print the response line.  See driver.h for the protocol. */
#include "driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"

static const driver_handler handlers[] = {
    driver_pep440, driver_pep508, driver_conda, driver_depurl, driver_metadata, driver_tags,
    driver_pep440, driver_pep508, driver_conda, driver_depurl, driver_metadata,
    driver_index,
};

void driver_put(strbuf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (out->len)
        strbuf_putc(out, '\t');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '\t': strbuf_puts(out, "\\t"); break;
        case '\n': strbuf_puts(out, "\\n"); break;
        case '\r': strbuf_puts(out, "\\r"); break;
        case '\\': strbuf_puts(out, "\\\\"); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
                strbuf_append(out, esc, 4);
            } else {
                strbuf_putc(out, (char)c);
            }
        }
    }
}

void driver_puts(strbuf *out, const char *s)
{
    driver_put(out, s, strlen(s));
}

int driver_error(strbuf *out, const char *msg)
{
    strbuf_truncate(out, 0);
    driver_puts(out, "error");
    driver_puts(out, msg);
    return 1;
}

void driver_put_pair(strbuf *out, const char *key, const char *value)
{
    if (value) {
        driver_puts(out, key);
        driver_puts(out, value);
    }
}

void driver_put_lines(strbuf *out, const char *key, const char *text)
{
    for (const char *nl; (nl = strchr(text, '\n')); text = nl + 1) {
        driver_puts(out, key);
        driver_put(out, text, (size_t)(nl - text));
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes one field in place; returns its decoded length. */
static size_t unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r != '\\' || !r[1]) {
            *w++ = *r;
            continue;
        }
        r++;
        switch (*r) {
        case 't': *w++ = '\t'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case 'x':
            if (hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
                *w++ = (char)(hexval(r[1]) * 16 + hexval(r[2]));
                r += 2;
                break;
            }
            /* fall through */
        default: *w++ = *r; break;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    strbuf out = STRBUF_INIT;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        if (n && line[n - 1] == '\n')
            line[--n] = '\0';
        size_t nfields = 1;
        for (ssize_t i = 0; i < n; i++)
            nfields += line[i] == '\t';
        char **v = hb_calloc(nfields + 1, sizeof *v);
        size_t *len = hb_calloc(nfields + 1, sizeof *len);
        size_t k = 0;
        for (char *p = line, *tab;; p = tab + 1) {
            tab = strchr(p, '\t');
            if (tab)
                *tab = '\0';
            v[k] = p;
            len[k] = unescape(p);
            k++;
            if (!tab)
                break;
        }
        driver_args args = {v + 1, len + 1, k - 1};
        strbuf_truncate(&out, 0);
        int handled = 0;
        for (size_t h = 0; h < sizeof handlers / sizeof *handlers && !handled; h++)
            handled = handlers[h](v[0], &args, &out);
        if (!handled) {
            driver_error(&out, "unknown driver command");
        }
        fwrite(strbuf_str(&out), 1, out.len, stdout);
        fputc('\n', stdout);
        free(v);
        free(len);
    }
    fflush(stdout);
    free(line);
    strbuf_free(&out);
    return 0;
}
