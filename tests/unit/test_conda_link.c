/* Unit tests for conda's prefix replacement (conda_prefix.h): text mode with the shebang rule,
 * binary mode at byte level with NUL padding.  The linking itself is tested end to end by
 * tests/conda_link_oracle.py. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hpcbuild/conda_prefix.h"

#define PH "/opt/anaconda1anaconda2anaconda3"

static char *text(const char *in, const char *placeholder, const char *prefix)
{
    strbuf out = STRBUF_INIT;
    hb_conda_replace_text(in, strlen(in), placeholder, prefix, &out);
    return strbuf_detach(&out);
}

static void check_text(const char *in, const char *prefix, const char *want)
{
    char *got = text(in, PH, prefix);
    CHECK_STR(got, want);
    free(got);
}

static void test_text(void)
{
    check_text(PH "/bin/x\n", "/p", "/p/bin/x\n");                       /* at the start */
    check_text("a=" PH, "/p", "a=/p");                                    /* at the end, no newline */
    check_text("a=" PH ":" PH "/lib " PH "\n", "/p", "a=/p:/p/lib /p\n");  /* several per line */
    check_text("nothing here\n", "/p", "nothing here\n");
    check_text("x=" PH "/lib\n", "/opt/my env", "x=/opt/my env/lib\n");    /* spaces kept off shebangs */
    /* A shebang with the placeholder and a prefix with a space: escaped, then /usr/bin/env. */
    check_text("#!" PH "/bin/python\nprint(1)\n", "/opt/my env", "#!/usr/bin/env python\nprint(1)\n");
    check_text("#!" PH "/bin/python -E -s\nx=" PH "\n", "/opt/my env",
               "#!/usr/bin/env python -E -s\nx=/opt/my env\n");
    /* No newline: conda does not escape, and the unescaped space ends the interpreter. */
    check_text("#!" PH "/bin/python", "/opt/my env", "#!/opt/my env/bin/python");
    /* Short shebangs are kept, spaces after "#!" included. */
    check_text("#!" PH "/bin/python3.11 -u\n", "/opt/env", "#!/opt/env/bin/python3.11 -u\n");
    check_text("#!  " PH "/bin/sh\n", "/e", "#!  /e/bin/sh\n");
    check_text("#!python\n" PH "\n", "/e", "#!python\n/e\n");

    /* The 127-byte limit: the line without its newline. */
    char p127[128], p128[129];
    const char *tail = "/bin/python";                                      /* "#!" + prefix + tail */
    size_t keep = 127 - 2 - strlen(tail);
    memset(p127, 'a', sizeof p127);
    p127[0] = '/';
    p127[keep] = '\0';
    memset(p128, 'a', sizeof p128);
    p128[0] = '/';
    p128[keep + 1] = '\0';
    strbuf want = STRBUF_INIT;
    strbuf_printf(&want, "#!%s/bin/python\nimport os\n", p127);
    check_text("#!" PH "/bin/python\nimport os\n", p127, strbuf_str(&want));
    check_text("#!" PH "/bin/python\nimport os\n", p128, "#!/usr/bin/env python\nimport os\n");
    check_text("#!" PH "/bin/python -E\r\n", p128, "#!/usr/bin/env python -E\r\n");
    /* A long shebang without the placeholder is shortened too (conda's rule is per file). */
    strbuf_truncate(&want, 0);
    strbuf_printf(&want, "#!%s/bin/perl -w\n%s\n", p128, PH);
    char *got = text(strbuf_str(&want), PH, "/e");
    CHECK_STR(got, "#!/usr/bin/env perl -w\n/e\n");
    free(got);
    strbuf_free(&want);

    /* An empty placeholder changes nothing. */
    got = text("#!/x/y\n", "", "/e");
    CHECK_STR(got, "#!/x/y\n");
    free(got);
}

/* Replaces in a copy of in[0..n) and compares with want[0..wn). */
static void check_binary(const char *in, size_t n, const char *prefix, const char *want, size_t wn)
{
    char *buf = malloc(n ? n : 1);
    memcpy(buf, in, n);
    hb_error err = {0};
    int rc = hb_conda_replace_binary(buf, n, PH, prefix, "lib/x.so", &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_INT(n, wn);
    CHECK_MSG(memcmp(buf, want, n) == 0, "binary replacement of a %zu-byte input", n);
    free(buf);
}

/* NUL bytes used as padding: the placeholder's length less the prefix's, times k. */
static void pad(strbuf *sb, size_t prefix_len, size_t k)
{
    for (size_t i = 0; i < (strlen(PH) - prefix_len) * k; i++)
        strbuf_putc(sb, '\0');
}

static void test_binary(void)
{
    strbuf in = STRBUF_INIT, want = STRBUF_INIT;
    /* At the start of the file, the run ending at the file's last byte. */
    strbuf_append(&in, PH "/lib\0", strlen(PH) + 5);
    strbuf_append(&want, "/p/lib\0", 7);
    pad(&want, 2, 1);
    check_binary(in.buf, in.len, "/p", want.buf, want.len);

    /* In the middle, several placeholders in one run that holds a newline. */
    strbuf_truncate(&in, 0);
    strbuf_truncate(&want, 0);
    strbuf_append(&in, "\x7f" "ELF\0", 5);
    strbuf_puts(&in, PH "/a\n" PH "/b:" PH);
    strbuf_append(&in, "\0tail", 5);
    strbuf_append(&want, "\x7f" "ELF\0", 5);
    strbuf_puts(&want, "/p/a\n/p/b:/p");
    strbuf_putc(&want, '\0');
    pad(&want, 2, 3);
    strbuf_puts(&want, "tail");
    check_binary(in.buf, in.len, "/p", want.buf, want.len);

    /* Two runs; a placeholder at the end without a NUL after it stays. */
    strbuf_truncate(&in, 0);
    strbuf_truncate(&want, 0);
    strbuf_append(&in, PH "\0" PH "/x\0" PH, 3 * strlen(PH) + 4);
    strbuf_append(&want, "/q\0", 3);
    pad(&want, 2, 1);
    strbuf_append(&want, "/q/x\0", 5);
    pad(&want, 2, 1);
    strbuf_puts(&want, PH);
    check_binary(in.buf, in.len, "/q", want.buf, want.len);

    /* A prefix as long as the placeholder: no padding. */
    const char *same = "/opt/bnaconda1anaconda2anaconda3";
    strbuf_truncate(&in, 0);
    strbuf_truncate(&want, 0);
    strbuf_append(&in, "x" PH "/y\0", strlen(PH) + 4);
    strbuf_printf(&want, "x%s/y", same);
    check_binary(in.buf, in.len, same, want.buf, want.len + 1);

    /* UTF-16-LE: the run ends at two zero bytes. */
    strbuf_truncate(&in, 0);
    strbuf_truncate(&want, 0);
    const char *w = PH "/z";
    for (const char *c = w; *c; c++) {
        strbuf_putc(&in, *c);
        strbuf_putc(&in, '\0');
    }
    strbuf_append(&in, "\0\0!", 3);
    for (const char *c = "/p/z"; *c; c++) {
        strbuf_putc(&want, *c);
        strbuf_putc(&want, '\0');
    }
    strbuf_append(&want, "\0\0", 2);
    for (size_t i = 0; i < 2 * (strlen(PH) - 2); i++)
        strbuf_putc(&want, '\0');
    strbuf_putc(&want, '!');
    check_binary(in.buf, in.len, "/p", want.buf, want.len);

    /* A prefix longer than the placeholder: an error naming the file and the lengths. */
    strbuf_truncate(&in, 0);
    strbuf_append(&in, PH "/lib\0", strlen(PH) + 5);
    hb_error err = {0};
    char *buf = strbuf_detach(&in);
    int rc = hb_conda_replace_binary(buf, strlen(PH) + 5, PH, "/a/prefix/much/longer/than/the/placeholder",
                                     "lib/libfoo.so", &err);
    CHECK_INT(rc, -1);
    CHECK_MSG(strstr(err.msg, "lib/libfoo.so") != NULL, "%s", err.msg);
    CHECK_MSG(strstr(err.msg, "placeholder of length 32 too short") != NULL, "%s", err.msg);
    free(buf);
    /* ... but no error when the placeholder is not there. */
    rc = hb_conda_replace_binary((char[]){"abc"}, 4, PH, "/a/prefix/much/longer/than/the/placeholder",
                                 "lib/libfoo.so", &err);
    CHECK_INT(rc, 0);
    strbuf_free(&in);
    strbuf_free(&want);
}

int main(void)
{
    test_text();
    test_binary();
    return check_finish();
}
