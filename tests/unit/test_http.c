/* Unit tests for hash.h, fetch_cache.h and the offline parts of http.h
 * (URL classification, local fetches, parallel API with local files).  The
 * network behaviour is tested against a loopback server in http_fetch.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/fetch_cache.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/http.h"
#include "hpcbuild/strbuf.h"

#include "check.h"

/* Passes when got is not NULL and contains needle. */
#define CHECK_CONTAINS(got, needle)                                                          \
    do {                                                                                     \
        const char *check_g_ = (got), *check_n_ = (needle);                                  \
        check_record(check_g_ && strstr(check_g_, check_n_), __FILE__, __LINE__,             \
                     #got " contains " #needle, "'%s' does not contain '%s'",                \
                     check_g_ ? check_g_ : "(null)", check_n_);                              \
    } while (0)

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fwrite(data, 1, len, f);
    fclose(f);
}

static char *path_in(const char *dir, const char *name)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/%s", dir, name);
    return strbuf_detach(&sb);
}

static void test_hash(void)
{
    char hex[HB_HASH_HEX_MAX];
    /* FIPS 180-2 / RFC 1321 test vectors */
    hb_hash_buffer_hex(HB_HASH_SHA256, "abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hb_hash_buffer_hex(HB_HASH_SHA256, "", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hb_hash_buffer_hex(HB_HASH_MD5, "", 0, hex);
    CHECK_STR(hex, "d41d8cd98f00b204e9800998ecf8427e");
    hb_hash_buffer_hex(HB_HASH_MD5, "message digest", 14, hex);
    CHECK_STR(hex, "f96b697d7cb7938d525a2f31aaf161d0");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hb_hasher *h = hb_hasher_new(HB_HASH_SHA256);
    hb_hasher_update(h, "garbage", 7);
    hb_hasher_reset(h);
    for (size_t i = 0; i < strlen(two); i++)
        hb_hasher_update(h, two + i, 1);
    hb_hasher_final_hex(h, hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    hb_hasher_update(h, "abc", 3); /* final resets */
    hb_hasher_final_hex(h, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hb_hasher_free(h);

    hb_error err;
    CHECK(hb_hash_hex_check(HB_HASH_MD5, "D41D8CD98F00B204E9800998ECF8427E", &err) == 0);
    CHECK(hb_hash_hex_check(HB_HASH_MD5, "d41d8cd98f00b204e9800998ecf8427", &err) == -1);
    CHECK_STR(err.msg, "invalid md5 'd41d8cd98f00b204e9800998ecf8427': expected 32 hex digits");
    CHECK(hb_hash_hex_check(HB_HASH_SHA256, "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", &err) == -1);
    CHECK(hb_hash_hex_check(HB_HASH_SHA256, NULL, &err) == -1);
    CHECK(hb_hash_hex_equal("ABcd", "abCD"));
    CHECK(!hb_hash_hex_equal("abcd", "abc"));
    CHECK(!hb_hash_hex_equal(NULL, "abc"));
    CHECK(hb_hash_file_hex(HB_HASH_SHA256, "/no/such/file", hex, &err) == -1);
    CHECK_STR(err.msg, "cannot open '/no/such/file': No such file or directory");
}

static void test_classify(void)
{
    hb_error err;
    char *p = NULL;
    CHECK(hb_fetch_classify_url("https://conda.anaconda.org/conda-forge", &p, &err) == 0 && !p);
    CHECK(hb_fetch_classify_url("HTTP://x/y", &p, &err) == 0 && !p);
    CHECK(hb_fetch_classify_url("/srv/channel/noarch/repodata.json", &p, &err) == 1);
    CHECK_STR(p, "/srv/channel/noarch/repodata.json");
    free(p);
    CHECK(hb_fetch_classify_url("relative/dir:with:colons", &p, &err) == 1);
    CHECK_STR(p, "relative/dir:with:colons");
    free(p);
    CHECK(hb_fetch_classify_url("file:///a%20b/c%2Fd", &p, &err) == 1);
    CHECK_STR(p, "/a b/c/d");
    free(p);
    CHECK(hb_fetch_classify_url("file://localhost/etc/x?q#f", &p, &err) == 1);
    CHECK_STR(p, "/etc/x");
    free(p);
    CHECK(hb_fetch_classify_url("file://host/etc/x", &p, &err) == -1 && !p);
    CHECK_STR(err.msg, "unsupported file URL 'file://host/etc/x': expected file:///absolute/path");
    CHECK(hb_fetch_classify_url("file:///a%2", &p, &err) == -1 && !p);
    CHECK_STR(err.msg, "invalid file URL 'file:///a%2' at position 10: expected two hex digits after '%'");
    CHECK(hb_fetch_classify_url("file:///a%00b", &p, &err) == -1 && !p);
    CHECK(hb_fetch_classify_url("s3://bucket/key", &p, &err) == -1 && !p);
    CHECK_STR(err.msg, "unsupported URL scheme 's3' in 's3://bucket/key': expected http, https or file");
    CHECK(hb_fetch_classify_url("", &p, &err) == -1 && !p);
}

static void test_cache(const char *dir)
{
    hb_error err;
    hb_fetch_cache cache;
    char *root = path_in(dir, "cache/deeper");
    CHECK(hb_fetch_cache_open(&cache, root, &err) == 0);
    const char *url = "http://example.invalid/linux-64/repodata.json";
    hb_cache_entry e;
    CHECK(hb_fetch_cache_lookup(&cache, url, &e, &err) == 0);

    int fd;
    char *tmp = hb_fetch_cache_temp(&cache, url, &fd, &err);
    CHECK(tmp != NULL);
    CHECK(write(fd, "{}\n", 3) == 3);
    close(fd);
    hb_cache_entry meta = {0};
    meta.etag = "\"abc\"";
    meta.last_modified = "Sat, 01 Jun 2024 00:00:00 GMT";
    meta.size = 3;
    hb_hash_buffer_hex(HB_HASH_SHA256, "{}\n", 3, meta.sha256);
    CHECK(hb_fetch_cache_commit(&cache, url, tmp, &meta, &err) == 0);
    CHECK(access(tmp, F_OK) != 0);
    free(tmp);

    CHECK(hb_fetch_cache_lookup(&cache, url, &e, &err) == 1);
    CHECK_STR(e.url, url);
    CHECK_STR(e.etag, "\"abc\"");
    CHECK_STR(e.last_modified, "Sat, 01 Jun 2024 00:00:00 GMT");
    CHECK(e.size == 3);
    CHECK_STR(e.sha256, meta.sha256);
    char *body = hb_fetch_cache_body_path(&cache, url);
    CHECK_STR(e.body_path, body);
    hb_cache_entry_free(&e);

    /* a local "download" served from the cache body is a plain file */
    hb_fetch f = {0};
    f.url = body;
    f.to_memory = 1;
    f.sha256 = meta.sha256;
    CHECK(hb_fetch_one(&f, NULL, &cache, &err) == 0);
    CHECK(f.ok && f.body.len == 3 && memcmp(f.body.buf, "{}\n", 3) == 0);
    hb_fetch_free(&f);

    /* another URL does not see it */
    CHECK(hb_fetch_cache_lookup(&cache, "http://example.invalid/other", &e, &err) == 0);

    /* a body of the wrong size reads as no entry */
    write_file(body, "{}\n\n", 4);
    CHECK(hb_fetch_cache_lookup(&cache, url, &e, &err) == 0);
    write_file(body, "{}\n", 3);
    CHECK(hb_fetch_cache_lookup(&cache, url, &e, &err) == 1);
    hb_cache_entry_free(&e);

    /* a meta file for another URL (a hash collision, or tampering) too */
    char *meta_path = hb_strdup(body);
    strcpy(meta_path + strlen(meta_path) - strlen(".body"), ".meta");
    const char *other = "url http://elsewhere/\nsize 3\nsha256 "
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n";
    write_file(meta_path, other, strlen(other));
    CHECK(hb_fetch_cache_lookup(&cache, url, &e, &err) == 0);
    /* garbage meta */
    write_file(meta_path, "\0\0\n\nsize -1\nurl", 15);
    CHECK(hb_fetch_cache_lookup(&cache, url, &e, &err) == 0);

    CHECK(hb_fetch_cache_remove(&cache, url, &err) == 0);
    CHECK(access(body, F_OK) != 0 && access(meta_path, F_OK) != 0);
    CHECK(hb_fetch_cache_remove(&cache, url, &err) == 0);
    free(meta_path);
    free(body);
    hb_fetch_cache_close(&cache);

    /* the root must be a directory */
    char *file = path_in(dir, "plainfile");
    write_file(file, "x", 1);
    CHECK(hb_fetch_cache_open(&cache, file, &err) == -1);
    CHECK_CONTAINS(err.msg, "cannot create cache directory");
    free(file);
    free(root);

    /* default root */
    char *saved_cache = getenv("HPCBUILD_CACHE") ? hb_strdup(getenv("HPCBUILD_CACHE")) : NULL;
    char *saved_home = getenv("HOME") ? hb_strdup(getenv("HOME")) : NULL;
    setenv("HPCBUILD_CACHE", "/scratch/me/hb", 1);
    char *r = hb_fetch_cache_default_root(&err);
    CHECK_STR(r, "/scratch/me/hb");
    free(r);
    setenv("HPCBUILD_CACHE", "", 1);
    setenv("HOME", "/home/me", 1);
    r = hb_fetch_cache_default_root(&err);
    CHECK_STR(r, "/home/me/.cache/hpcbuild");
    free(r);
    unsetenv("HPCBUILD_CACHE");
    unsetenv("HOME");
    CHECK(hb_fetch_cache_default_root(&err) == NULL);
    CHECK_STR(err.msg, "no cache directory: set HPCBUILD_CACHE (HOME is not set either)");
    if (saved_cache)
        setenv("HPCBUILD_CACHE", saved_cache, 1);
    if (saved_home)
        setenv("HOME", saved_home, 1);
    free(saved_cache);
    free(saved_home);
}

typedef struct events {
    int start, done, failed;
} events;

static void count(void *user, size_t index, const hb_fetch *f, hb_fetch_event ev,
                  long long done, long long total)
{
    events *e = user;
    e->start += ev == HB_FETCH_START;
    e->done += ev == HB_FETCH_DONE;
    e->failed += ev == HB_FETCH_FAILED;
}

static void test_local_fetch(const char *dir)
{
    hb_error err;
    char *src = path_in(dir, "src.txt");
    write_file(src, "hello\n", 6);
    char *dest = path_in(dir, "dest.txt");
    char sha[HB_HASH_HEX_MAX], md5[HB_HASH_HEX_MAX];
    hb_hash_buffer_hex(HB_HASH_SHA256, "hello\n", 6, sha);
    hb_hash_buffer_hex(HB_HASH_MD5, "hello\n", 6, md5);

    hb_fetch fs[5];
    memset(fs, 0, sizeof fs);
    fs[0].url = src;                    /* no copy: path is the source */
    fs[1].url = src;                    /* copy + verify */
    fs[1].dest = dest;
    fs[1].sha256 = sha;
    fs[1].md5 = md5;
    fs[2].url = "/no/such/file.json";   /* missing */
    fs[2].to_memory = 1;
    fs[3].url = src;                    /* md5 mismatch */
    fs[3].md5 = "00000000000000000000000000000000";
    fs[3].to_memory = 1;
    fs[4].url = "http://127.0.0.1:1/x"; /* remote without cache/dest/memory */
    events ev = {0};
    CHECK(hb_fetch_many(fs, 5, NULL, NULL, count, &ev, &err) == -1);
    CHECK_STR(err.msg, "3 of 5 downloads failed; first: cannot open '/no/such/file.json': No such file or directory");
    CHECK(fs[0].ok && fs[0].size == 6 && fs[0].sha256_hex[0] == '\0');
    CHECK_STR(fs[0].path, src);
    CHECK(fs[1].ok && fs[1].size == 6);
    CHECK_STR(fs[1].path, dest);
    CHECK_STR(fs[1].sha256_hex, sha);
    CHECK(!fs[2].ok && fs[2].path == NULL);
    CHECK(!fs[3].ok && fs[3].body.len == 0);
    CHECK_CONTAINS(fs[3].err.msg, "md5 mismatch: expected 00000000000000000000000000000000, got ");
    CHECK(!fs[4].ok);
    CHECK_STR(fs[4].err.msg, "fetching 'http://127.0.0.1:1/x': nowhere to put the body (no cache, no destination)");
    CHECK(ev.start == 4 && ev.done == 2 && ev.failed == 3);
    for (int i = 0; i < 5; i++)
        hb_fetch_free(&fs[i]);

    /* a failed verification leaves an existing dest alone */
    hb_fetch f = {0};
    f.url = src;
    f.dest = dest;
    f.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
    write_file(dest, "old", 3);
    CHECK(hb_fetch_one(&f, NULL, NULL, &err) == -1);
    CHECK_CONTAINS(err.msg, "sha256 mismatch");
    hb_fetch_free(&f);
    FILE *d = fopen(dest, "rb");
    char buf[8] = {0};
    CHECK(d && fread(buf, 1, sizeof buf, d) == 3 && strcmp(buf, "old") == 0);
    if (d)
        fclose(d);

    /* a directory is not a file */
    memset(&f, 0, sizeof f);
    f.url = dir;
    CHECK(hb_fetch_one(&f, NULL, NULL, &err) == -1);
    CHECK_CONTAINS(err.msg, "it is a directory");
    hb_fetch_free(&f);

    CHECK(hb_fetch_many(NULL, 0, NULL, NULL, NULL, NULL, &err) == 0);
    unlink(src);
    unlink(dest);
    free(src);
    free(dest);
}

static void remove_tree(const char *dir)
{
    strbuf cmd = STRBUF_INIT;
    strbuf_printf(&cmd, "rm -rf '%s'", dir);
    if (system(cmd.buf) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    strbuf_free(&cmd);
}

int main(void)
{
    hb_error err;
    if (hb_http_global_init(&err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    char dir[] = "/tmp/hb-test-http-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_hash();
    test_classify();
    test_cache(dir);
    test_local_fetch(dir);
    remove_tree(dir);
    hb_http_global_cleanup();
    return check_finish();
}
