/* PEP 503 / 685 name and extra normalization; see pyname.h. */
#include "hpcbuild/pyname.h"

#include <string.h>

static bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_sep(unsigned char c)
{
    return c == '-' || c == '_' || c == '.';
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool pyname_is_valid(const char *s, size_t len)
{
    if (len == 0 || !is_alnum((unsigned char)s[0]) || !is_alnum((unsigned char)s[len - 1]))
        return false;
    for (size_t i = 1; i + 1 < len; i++)
        if (!is_alnum((unsigned char)s[i]) && !is_sep((unsigned char)s[i]))
            return false;
    return true;
}

bool pyname_is_normalized(const char *s, size_t len)
{
    if (len == 0 || s[0] == '-' || s[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '-') {
            if (s[i - 1] == '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) {
            return false;
        }
    }
    return true;
}

static void collapse_to(strbuf *out, const char *s, size_t len, char sep)
{
    for (size_t i = 0; i < len;) {
        if (is_sep((unsigned char)s[i])) {
            while (i < len && is_sep((unsigned char)s[i]))
                i++;
            strbuf_putc(out, sep);
        } else {
            strbuf_putc(out, ascii_lower(s[i]));
            i++;
        }
    }
}

void pyname_canonicalize_to(strbuf *out, const char *s, size_t len)
{
    collapse_to(out, s, len, '-');
}

char *pyname_canonicalize(const char *s, size_t len)
{
    strbuf sb = STRBUF_INIT;
    collapse_to(&sb, s, len, '-');
    return strbuf_detach(&sb);
}

char *pyname_wheel_escape(const char *s, size_t len)
{
    strbuf sb = STRBUF_INIT;
    collapse_to(&sb, s, len, '_');
    return strbuf_detach(&sb);
}

bool pyname_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i = 0, j = 0;
    for (;;) {
        bool aend = i >= alen, bend = j >= blen;
        if (aend || bend)
            return aend && bend;
        bool asep = is_sep((unsigned char)a[i]), bsep = is_sep((unsigned char)b[j]);
        if (asep != bsep)
            return false;
        if (asep) {
            while (i < alen && is_sep((unsigned char)a[i]))
                i++;
            while (j < blen && is_sep((unsigned char)b[j]))
                j++;
        } else {
            if (ascii_lower(a[i]) != ascii_lower(b[j]))
                return false;
            i++;
            j++;
        }
    }
}
