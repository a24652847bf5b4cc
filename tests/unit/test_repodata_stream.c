/* Unit tests for the streaming repodata loader (solver/repodata.c): every
 * document is loaded through the bounded window with tiny chunks
 * (HPCBUILD_REPODATA_CHUNK), zstd-compressed, and from a file, and each
 * result (the records, or the exact error message) must equal the reference
 * loader's, which parses the whole document at once (repodata_parse_whole).
 * Then: chunk edges inside records, info after packages, escapes and braces
 * in strings, packages before packages.conda, repeated keys, and every
 * truncation and many one-byte corruptions of a small document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/repodata.h"
#include "hpcbuild/strbuf.h"
#include "../../solver/repodata_internal.h"

#include "check.h"

static const repodata_options OPT = {"https://h.org/c/linux-64/repodata.json", "c", 0};
static int reported;   /* failures printed in full (the sweeps stop printing after a few) */

/* The outcome as text: the records, or "error: MESSAGE". */
static void outcome(repodata *rd, const hb_error *err, strbuf *out)
{
    strbuf_truncate(out, 0);
    if (rd)
        repodata_describe(rd, out);
    else
        strbuf_printf(out, "error: %s", err->msg);
    repodata_free(rd);
}

static void set_chunk(size_t chunk)
{
    if (chunk) {
        char s[32];
        snprintf(s, sizeof s, "%zu", chunk);
        setenv("HPCBUILD_REPODATA_CHUNK", s, 1);
    } else {
        unsetenv("HPCBUILD_REPODATA_CHUNK");
    }
}

static void compare(const char *what, size_t chunk, const strbuf *want, const strbuf *got, const char *doc,
                    size_t len)
{
    bool same = strcmp(strbuf_str(want), strbuf_str(got)) == 0;
    if (!same && reported++ < 400)
        fprintf(stderr, "%s, chunk %zu, document (%zu bytes) %.*s\n  want: %s\n  got:  %s\n", what, chunk, len,
                (int)(len > 300 ? 300 : len), doc, strbuf_str(want), strbuf_str(got));
    CHECK(same);
}

/* repodata_parse (in place, and through windows of the given chunk sizes)
 * and its zstd form give what the reference loader gives.  Returns whether
 * the document loaded. */
static bool check_doc_chunks(const char *doc, size_t len, const repodata_options *opt, const size_t *chunks,
                             size_t n_chunks, bool zstd)
{
    hb_error err = {0};
    strbuf want = STRBUF_INIT, got = STRBUF_INIT;
    repodata *ref = repodata_parse_whole(doc, len, "t.json", opt, &err);
    bool ok = ref != NULL;
    outcome(ref, &err, &want);
    for (size_t i = 0; i < n_chunks; i++) {
        set_chunk(chunks[i]);
        err = (hb_error){0};
        outcome(repodata_parse(doc, len, "t.json", opt, &err), &err, &got);
        compare("plain", chunks[i], &want, &got, doc, len);
    }
    if (zstd && len) {
        size_t cap = ZSTD_compressBound(len);
        char *z = hb_malloc(cap);
        size_t zn = ZSTD_compress(z, cap, doc, len, 3);
        CHECK(!ZSTD_isError(zn));
        for (size_t i = 0; i < n_chunks && !ZSTD_isError(zn); i++) {
            set_chunk(chunks[i]);
            err = (hb_error){0};
            outcome(repodata_parse(z, zn, "t.json", opt, &err), &err, &got);
            compare("zstd", chunks[i], &want, &got, doc, len);
        }
        free(z);
    }
    set_chunk(0);
    strbuf_free(&want);
    strbuf_free(&got);
    return ok;
}

static const size_t ALL_CHUNKS[] = {0, 1, 2, 3, 5, 7, 16, 64, 4096};

static bool check_doc(const char *doc, const repodata_options *opt)
{
    return check_doc_chunks(doc, strlen(doc), opt, ALL_CHUNKS, sizeof ALL_CHUNKS / sizeof *ALL_CHUNKS, true);
}

static repodata *parse_chunked(const char *doc, size_t chunk, const repodata_options *opt, hb_error *err)
{
    set_chunk(chunk);
    repodata *rd = repodata_parse(doc, strlen(doc), "t.json", opt, err);
    set_chunk(0);
    return rd;
}

/* A small channel: packages before packages.conda, a .tar.bz2 with a .conda
 * twin, strings holding braces, brackets, quotes and escapes, info last. */
static const char SMALL[] =
    "{\n"
    "  \"packages\": {\n"
    "    \"a-1.0-0.tar.bz2\": {\"name\": \"a\", \"version\": \"1.0\", \"build\": \"0\", \"build_number\": 0,\n"
    "      \"depends\": [\"b >=2,<3 {x}\", \"c [build=\\\"}\\\"]\"], \"license\": \"{[\\\\\\\"}]\"},\n"
    "    \"b-2.0-1.tar.bz2\": {\"name\": \"b\", \"version\": \"2.0\", \"build\": \"1\", \"build_number\": 1,\n"
    "      \"depends\": [], \"noarch\": \"python\", \"size\": 10, \"timestamp\": 1600000000},\n"
    "    \"caf\\u00e9-1-0.tar.bz2\": {\"name\": \"caf\\u00e9\", \"version\": \"1\", \"build\": \"0\",\n"
    "      \"track_features\": \"x,y\", \"constrains\": [\"a <2\"], \"md5\": \"\\ud83d\\ude00\"}\n"
    "  },\n"
    "  \"packages.conda\": {\n"
    "    \"a-1.0-0.conda\": {\"name\": \"a\", \"version\": \"1.0\", \"build\": \"0\", \"depends\": [\"b\"],\n"
    "      \"subdir\": \"linux-64\", \"sha256\": \"00ff\"}\n"
    "  },\n"
    "  \"removed\": [\"old-0.1-0.tar.bz2\"],\n"
    "  \"info\": {\"subdir\": \"linux-64\", \"base_url\": \"../pkgs/\"},\n"
    "  \"repodata_version\": 2\n"
    "}\n";

static void test_small(void)
{
    CHECK(check_doc(SMALL, &OPT));
    CHECK(check_doc(SMALL, NULL));
    repodata_options only = OPT;
    only.flags = REPODATA_ONLY_TAR_BZ2;
    CHECK(check_doc(SMALL, &only));
    /* and the values themselves, read through 1-byte chunks */
    hb_error err;
    repodata *rd = parse_chunked(SMALL, 1, &OPT, &err);
    CHECK(rd != NULL);
    if (!rd)
        return;
    CHECK(rd->count == 3 && rd->n_duplicates == 1 && rd->repodata_version == 2);
    /* info came after the records: its base_url and subdir still apply to all */
    CHECK_STR(rd->base_url, "https://h.org/c/pkgs/");
    CHECK_STR(rd->records[0].rec.fn, "a-1.0-0.conda");
    CHECK_STR(rd->records[0].rec.url, "https://h.org/c/pkgs/a-1.0-0.conda");
    CHECK_STR(rd->records[1].rec.fn, "b-2.0-1.tar.bz2");
    CHECK_STR(rd->records[1].rec.url, "https://h.org/c/pkgs/b-2.0-1.tar.bz2");
    CHECK_STR(rd->records[1].rec.subdir, "linux-64");
    CHECK_STR(rd->records[2].rec.fn, "caf\xc3\xa9-1-0.tar.bz2");
    CHECK_STR(rd->records[2].rec.md5, "\xf0\x9f\x98\x80");
    repodata_free(rd);
    /* the twin's record is read first, as conda reads it */
    rd = parse_chunked(SMALL, 3, &only, &err);
    CHECK(rd && rd->count == 3 && rd->n_duplicates == 0);
    if (rd) {
        CHECK_STR(rd->records[0].rec.fn, "a-1.0-0.tar.bz2");
        CHECK_STR(rd->records[0].rec.depends[0], "b >=2,<3 {x}");
        CHECK_STR(rd->records[0].rec.depends[1], "c [build=\"}\"]");
        CHECK_STR(rd->records[0].rec.license, "{[\\\"}]");
    }
    repodata_free(rd);
}

/* Documents whose shape the streaming pass must settle after the fact. */
static void test_shapes(void)
{
    static const char *const docs[] = {
        "", "   \n", "{}", " { } ", "[]", "1", "\"x\"", "null", "[1,", "{\"packages\": {}}",
        "{\"packages\": null, \"packages.conda\": null}",
        "{\"packages\": 1}", "{\"packages\": [], \"packages.conda\": {}}",
        "{\"packages.conda\": \"x\", \"packages\": 2}",
        /* a repeated section: the last one counts */
        "{\"packages\": {\"a.tar.bz2\": {\"name\": 1}}, \"packages\": {\"b.tar.bz2\": "
        "{\"name\": \"b\", \"version\": \"1\", \"build\": \"0\"}}}",
        "{\"packages\": {\"b.tar.bz2\": {\"name\": \"b\", \"version\": \"1\", \"build\": \"0\"}}, "
        "\"packages\": {\"a.tar.bz2\": {\"name\": 1}}}",
        "{\"packages.conda\": {\"a.conda\": {\"name\": \"a\", \"version\": \"1\", \"build\": \"0\"}}, "
        "\"packages\": {\"a.tar.bz2\": {\"name\": 1}}, \"packages.conda\": {}}",
        /* a broken .tar.bz2 record excused by its .conda twin, whichever comes first */
        "{\"packages\": {\"a.tar.bz2\": {\"name\": 1}, \"b.tar.bz2\": {\"name\": 2}}, "
        "\"packages.conda\": {\"a.conda\": {\"name\": \"a\", \"version\": \"1\", \"build\": \"0\"}}}",
        "{\"packages.conda\": {\"a.conda\": {\"name\": \"a\", \"version\": \"1\", \"build\": \"0\"}}, "
        "\"packages\": {\"a.tar.bz2\": {\"name\": 1}}}",
        "{\"packages\": {\"a.tar.bz2\": {\"name\": 1}, \"b.conda\": {\"name\": 2}}, "
        "\"packages.conda\": {\"a.conda\": {\"name\": \"a\", \"version\": \"1\", \"build\": \"0\"}}}",
        /* errors in conda's order: header, packages.conda, packages, removed */
        "{\"packages\": {\"a.tar.bz2\": {\"name\": 1}}, \"packages.conda\": {\"b.conda\": {\"name\": 2}}}",
        "{\"packages\": {\"a.tar.bz2\": {\"name\": 1}}, \"info\": 3}",
        "{\"removed\": [1], \"packages\": {\"a.tar.bz2\": {\"name\": 1}}}",
        "{\"removed\": {}, \"packages\": {\"a.tar.bz2\": {\"name\": \"a\", \"version\": \"1\", \"build\": \"0\"}}}",
        "{\"packages\": {\"a.tar.bz2\": 5}}",
        "{\"packages\": {\"a.tar.bz2\": {\"name\": \"a\", \"version\": \"1\", \"build\": \"0\", "
        "\"record_version\": 2}, \"a.tar.bz2\": {\"name\": \"a\", \"version\": \"2\", \"build\": \"0\"}, "
        "\"n\\u0000.tar.bz2\": {\"name\": \"a\", \"version\": \"2\", \"build\": \"0\"}}, "
        "\"packages.conda\": {\"a.conda\": {\"name\": \"a\", \"version\": \"1\", \"build\": \"0\", "
        "\"record_version\": 3}, \"x.conda\": {\"name\": \"x\\u0000\", \"version\": \"1\", \"build\": \"0\"}}}",
        /* the same file name in both sections */
        "{\"packages\": {\"a.conda\": {\"name\": \"p\", \"version\": \"1\", \"build\": \"0\"}}, "
        "\"packages.conda\": {\"a.conda\": {\"name\": \"c\", \"version\": \"1\", \"build\": \"0\"}}}",
        /* version and base_url in every order */
        "{\"packages\": {\"z.tar.bz2\": {\"name\": \"z\", \"version\": \"1\", \"build\": \"0\"}}, "
        "\"info\": {\"base_url\": \"https://m.org/x\"}, \"repodata_version\": 2}",
        "{\"info\": {\"base_url\": \"https://m.org/x\"}, \"packages\": {\"z.tar.bz2\": {\"name\": \"z\", "
        "\"version\": \"1\", \"build\": \"0\"}}, \"repodata_version\": 2}",
        "{\"info\": {\"base_url\": \"https://m.org/x\", \"repodata_version\": 2}, \"packages\": {\"z.tar.bz2\": "
        "{\"name\": \"z\", \"version\": \"1\", \"build\": \"0\"}}, \"repodata_version\": 1}",
        "{\"repodata_version\": 2, \"info\": {\"base_url\": \"\"}, \"packages\": {\"z.tar.bz2\": {\"name\": \"z\", "
        "\"version\": \"1\", \"build\": \"0\"}}, \"info\": {\"subdir\": \"noarch\", \"base_url\": \"s3://b/\"}}",
        "{\"packages\": {}, \"repodata_version\": 9}",
        "{\"packages\": {}, \"repodata_version\": 2.0}",
        "{\"info\": {\"subdir\": 1}}", "{\"info\": {\"base_url\": 1}, \"repodata_version\": 3}",
        /* the flat filename -> record form, and keys that end it */
        "{\"a-1-0.tar.bz2\": {\"name\": \"a\", \"version\": \"1\", \"build\": \"0\", \"channel\": \"x\", "
        "\"url\": \"https://o.org/a.tar.bz2\"}, \"b-1-0.conda\": {\"name\": \"b\", \"version\": \"1\", "
        "\"build\": \"0\"}}",
        "{\"a-1-0.tar.bz2\": {\"name\": \"a\", \"version\": \"1\", \"build\": \"0\"}, \"signatures\": {}}",
        "{\"a-1-0.tar.bz2\": 3}", "{\"a\\\"b.conda\": {\"name\": 1}}",
        "{\"v3\": {\"whl\": {\"x\": {\"name\": \"y\"}}}, \"packages\": {}}",
        /* syntax errors in each place the streaming pass reads itself */
        "{\"packages\": {\"a\": {}} \"x\"}", "{\"packages\": {\"a\" {}}}", "{\"packages\": {\"a\": }}",
        "{\"packages\": {\"a\": {},}}", "{\"packages\": {\"a\": {}}, }", "{\"packages\": {\"a\": {}}} x",
        "{\"packages\": {\"a\": tru}}", "{\"packages\": {\"a\": truex}}", "{\"packages\": {\"a\": 01}}",
        "{\"packages\": {\"a\": -}}", "{\"packages\": {\"a\": 1.}}", "{\"packages\": {\"a\": 1e}}",
        "{\"packages\": {\"a\": 1.5e+3x}}", "{\"x\": nul}", "{\"x\": [1}", "{\"x\": {\"a\": 1]}",
        "{\"packages\": {\"a\": {\"b\": \"\\q\"}}}", "{\"packages\": {\"a\\u12\": {}}}",
        "{\"packages\": {\"a\": {\"b\": \"\x01\"}}}", "{\"packages\": {\"\xff\": {}}}",
        "{\"packages\": {\"a\": {\"b\": \"\\ud800\"}}}", "{\"packages\": {1: {}}}", "{,}",
        "\xef\xbb\xbf{}", " \xef\xbb\xbf{}", "{\"a\":1}{", "{\"packages\": {\"a\": {}}",
        "{\"packages\": {\"a\": {\"b\": [[[[\"]]]]\"]]]]}}}",
        "{\n\"packages\": {\n\"a\": {\n\"b\": \"\xc3\xa9\xc3\xa9\" x\n}}}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        check_doc(docs[i], &OPT);
        check_doc(docs[i], NULL);
        for (size_t chunk = 0; chunk < 4; chunk += 3) {   /* err may be NULL */
            set_chunk(chunk);
            repodata_free(repodata_parse(docs[i], strlen(docs[i]), NULL, NULL, NULL));
        }
        set_chunk(0);
    }
    /* an error's position counts lines and characters over the whole document */
    hb_error err;
    CHECK(parse_chunked("{\n\"packages\": {\n\"a\": {\n\"b\": \"\xc3\xa9\xc3\xa9\" x\n}}}", 2, NULL, &err) == NULL);
    CHECK_STR(err.msg, "t.json: line 4, column 11 (byte offset 35): expected ',' or '}' after an object member, "
                       "found 'x'");
}

/* Nesting: the limit counts from the document's root, not the record's. */
static void test_depth(void)
{
    for (size_t depth = HB_JSON_MAX_DEPTH - 3; depth <= HB_JSON_MAX_DEPTH + 1; depth++) {
        strbuf d = STRBUF_INIT;
        strbuf_puts(&d, "{\"packages\": {\"a\": {\"depends\": ");
        for (size_t i = 3; i < depth; i++)
            strbuf_putc(&d, '[');
        for (size_t i = 3; i < depth; i++)
            strbuf_putc(&d, ']');
        strbuf_puts(&d, "}}}");
        static const size_t chunks[] = {0, 7, 4096};
        check_doc_chunks(d.buf, d.len, &OPT, chunks, 3, false);
        strbuf_free(&d);
    }
}

/* Every prefix of SMALL, and one-byte changes at every position: the same
 * error (or records) as the whole-document reader, never a crash. */
static void test_truncations(void)
{
    size_t len = strlen(SMALL);
    static const size_t chunks[] = {0, 1, 7};
    char *buf = hb_malloc(len + 1);
    for (size_t n = 0; n <= len; n++)
        check_doc_chunks(SMALL, n, &OPT, chunks, 3, n % 16 == 0);
    static const char subst[] = "{}[]\",:\\ 0x\n";
    for (size_t i = 0; i < len; i++) {
        for (const char *c = subst; *c; c++) {
            memcpy(buf, SMALL, len);
            if (buf[i] == *c)
                continue;
            buf[i] = *c;
            check_doc_chunks(buf, len, &OPT, chunks + 1, 1, false);
        }
    }
    free(buf);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, len, f) == len);
    if (f)
        fclose(f);
}

/* repodata_load_file: plain and zstd files through small windows; a
 * truncated or corrupt .zst names the file. */
static void test_files(void)
{
    char dir[] = "/tmp/hb-stream-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char plain[64], zst[64];
    snprintf(plain, sizeof plain, "%s/repodata.json", dir);
    snprintf(zst, sizeof zst, "%s/repodata.json.zst", dir);
    size_t len = strlen(SMALL);
    size_t cap = ZSTD_compressBound(len);
    char *z = hb_malloc(cap);
    size_t zn = ZSTD_compress(z, cap, SMALL, len, 3);
    write_file(plain, SMALL, len);
    write_file(zst, z, zn);
    char *url = repodata_file_url(plain);
    repodata_options opt = {url, NULL, 0};
    hb_error err;
    strbuf want = STRBUF_INIT, want_zst = STRBUF_INIT, got = STRBUF_INIT;
    outcome(repodata_parse_whole(SMALL, len, plain, &opt, &err), &err, &want);
    outcome(repodata_parse_whole(SMALL, len, zst, &opt, &err), &err, &want_zst);
    CHECK(strncmp(want.buf, "error", 5) != 0);
    for (size_t i = 0; i < sizeof ALL_CHUNKS / sizeof *ALL_CHUNKS; i++) {
        set_chunk(ALL_CHUNKS[i]);
        outcome(repodata_load_file(plain, NULL, &err), &err, &got);
        compare("file", ALL_CHUNKS[i], &want, &got, SMALL, len);
        outcome(repodata_load_subdir(dir, &opt, &err), &err, &got);   /* the .zst, with the plain file's URL */
        compare("zst file", ALL_CHUNKS[i], &want_zst, &got, SMALL, len);
    }
    set_chunk(0);
    /* truncated .zst: every cut names the file */
    for (size_t n = 4; n < zn; n += 3) {
        write_file(zst, z, n);
        repodata *rd = repodata_load_file(zst, NULL, &err);
        CHECK(rd == NULL);
        char head[128];
        snprintf(head, sizeof head, "%s: ", zst);
        CHECK(rd == NULL && strncmp(err.msg, head, strlen(head)) == 0);
        repodata_free(rd);
    }
    write_file(zst, z, zn - 1);
    CHECK(repodata_load_file(zst, NULL, &err) == NULL);
    CHECK(strstr(err.msg, "truncated zstd data") != NULL);
    /* a truncated plain document: the JSON error, positioned by a second read */
    write_file(plain, SMALL, 200);
    set_chunk(16);
    CHECK(repodata_load_file(plain, NULL, &err) == NULL);
    set_chunk(0);
    hb_error ref;
    CHECK(repodata_parse_whole(SMALL, 200, plain, NULL, &ref) == NULL);
    CHECK_STR(err.msg, ref.msg);
    CHECK(repodata_load_file("/nonexistent/repodata.json", NULL, &err) == NULL);
    CHECK(strstr(err.msg, "cannot open '/nonexistent/repodata.json'") != NULL);
    unlink(plain);
    unlink(zst);
    rmdir(dir);
    free(url);
    free(z);
    strbuf_free(&want);
    strbuf_free(&want_zst);
    strbuf_free(&got);
}

/* Many records straddling chunk edges: the same records at every chunk size. */
static void test_many(void)
{
    strbuf d = STRBUF_INIT;
    strbuf_puts(&d, "{\"packages.conda\": {");
    for (int i = 0; i < 300; i++)
        strbuf_printf(&d, "%s\"p%d-1-0.conda\": {\"name\": \"p%d\", \"version\": \"1.%d\", \"build\": \"0\", "
                          "\"depends\": [\"q >=%d\", \"r {%d}\"], \"timestamp\": %d}",
                      i ? ", " : "", i, i % 17, i, i, i, 1600000000 + i);
    strbuf_puts(&d, "}, \"info\": {\"subdir\": \"linux-64\"}}");
    static const size_t chunks[] = {0, 1, 13, 100, 1000};
    CHECK(check_doc_chunks(d.buf, d.len, &OPT, chunks, 5, true));
    strbuf_free(&d);
}

int main(void)
{
    test_small();
    test_shapes();
    test_depth();
    test_many();
    test_files();
    test_truncations();
    return check_finish();
}
