/* Unit tests of the package cache (include/hpcbuild/pkg_cache.h) with local archives: keys,
 * reuse without rehashing, repair of partial entries, duplicates, errors, progress events. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "hpcbuild/alloc.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/pkg_cache.h"
#include "hpcbuild/strbuf.h"

#define CHECK_CONTAINS(got, needle)                                                              \
    CHECK_MSG(strstr((got), (needle)) != NULL, "'%s' does not contain '%s'", (got), (needle))

static char *join(const char *a, const char *b)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/%s", a, b);
    return strbuf_detach(&sb);
}

static bool exists(const char *dir, const char *name)
{
    char *p = name ? join(dir, name) : hb_strdup(dir);
    struct stat st;
    bool found = stat(p, &st) == 0;
    free(p);
    return found;
}

/* Writes a .tar.bz2 at path holding info/index.json with `content`; its sha256 goes to sha. */
static void make_archive(const char *path, const char *content, char sha[HB_HASH_HEX_MAX])
{
    struct archive *a = archive_write_new();
    archive_write_add_filter_bzip2(a);
    archive_write_set_format_pax_restricted(a);
    archive_write_open_filename(a, path);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "info/index.json");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)strlen(content));
    archive_write_header(a, e);
    archive_write_data(a, content, strlen(content));
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
    hb_error err;
    if (hb_hash_file_hex(HB_HASH_SHA256, path, sha, &err) != 0)
        fprintf(stderr, "%s\n", err.msg);
}

typedef struct events {
    int start, done, failed;
    long long files;
} events;

static void count(void *user, size_t index, const hb_fetch *f, hb_fetch_event ev, long long done,
                  long long total)
{
    events *e = user;
    if (ev == HB_FETCH_START)
        e->start++;
    if (ev == HB_FETCH_DONE) {
        e->done++;
        e->files += done;
    }
    if (ev == HB_FETCH_FAILED)
        e->failed++;
}

/* Fetches one item; returns 0 or -1 (the item keeps its outputs for the caller to free). */
static int fetch1(hb_pkg_cache *c, hb_pkg_item *it, events *ev)
{
    hb_error err;
    return hb_pkg_cache_fetch(c, it, 1, NULL, NULL, ev ? count : NULL, ev, &err);
}

static void test_fetch_and_reuse(hb_pkg_cache *c, const char *src)
{
    char sha[HB_HASH_HEX_MAX];
    char *a = join(src, "a-1.0-0.tar.bz2");
    make_archive(a, "{\"name\": \"a\"}", sha);
    struct stat st;
    stat(a, &st);

    events ev = {0};
    hb_pkg_item it = {.url = a, .sha256 = sha, .size = st.st_size};
    CHECK(fetch1(c, &it, &ev) == 0);
    CHECK(it.ok && it.downloaded && !it.resumed);
    char *dir = join(c->pkgs, sha);
    char *want_archive = join(dir, "a-1.0-0.tar.bz2");
    char *want_x = join(dir, "x");
    CHECK_STR(it.archive, want_archive);
    CHECK_STR(it.extracted, want_x);
    CHECK(exists(want_x, "info/index.json"));
    CHECK_MSG(ev.start == 1 && ev.done == 1 && ev.failed == 0 && ev.files == 1,
              "start %d done %d failed %d files %lld", ev.start, ev.done, ev.failed, ev.files);
    char *ok_path = join(dir, "ok");
    FILE *f = fopen(ok_path, "r");
    char line[128] = "";
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        fclose(f);
    }
    char want_line[128];
    snprintf(want_line, sizeof want_line, "%s %lld\n", sha, (long long)st.st_size);
    CHECK_STR(line, want_line);
    strbuf lock = STRBUF_INIT;
    strbuf_printf(&lock, "%s.lock", dir);
    CHECK(!exists(lock.buf, NULL));   /* the lock file goes with its holder */
    strbuf_free(&lock);
    hb_pkg_item_free(&it);

    /* reused: no copy, no unpacking */
    ev = (events){0};
    CHECK(fetch1(c, &it, &ev) == 0);
    CHECK(it.ok && !it.downloaded);
    CHECK(ev.start == 0 && ev.done == 1);
    hb_pkg_item_free(&it);

    /* a same-size change is trusted (the ok record is not rehashed) ... */
    int fd = open(want_archive, O_WRONLY);
    CHECK(fd >= 0 && pwrite(fd, "Z", 1, 20) == 1);
    if (fd >= 0)
        close(fd);
    CHECK(fetch1(c, &it, NULL) == 0 && !it.downloaded);
    hb_pkg_item_free(&it);
    /* ... but a size change is not: copied again */
    CHECK(truncate(want_archive, 10) == 0);
    CHECK(fetch1(c, &it, NULL) == 0 && it.downloaded);
    hb_pkg_item_free(&it);

    /* x/ missing: unpacked again from the verified archive; leftovers of a crash go */
    char *cmd = hb_malloc(strlen(want_x) * 2 + 64);
    sprintf(cmd, "rm -rf '%s' && mkdir '%s.tmp.999999'", want_x, want_x);
    CHECK(system(cmd) == 0);
    ev = (events){0};
    CHECK(fetch1(c, &it, &ev) == 0 && !it.downloaded);
    CHECK(exists(want_x, "info/index.json"));
    CHECK(!exists(dir, "x.tmp.999999"));
    CHECK(ev.files == 1);
    hb_pkg_item_free(&it);

    /* an archive without its ok record (a crash after the rename) is hashed once and kept */
    CHECK(unlink(ok_path) == 0);
    sprintf(cmd, "rm -rf '%s'", want_x);
    CHECK(system(cmd) == 0);
    CHECK(fetch1(c, &it, NULL) == 0 && !it.downloaded && exists(ok_path, NULL));
    hb_pkg_item_free(&it);
    free(cmd);

    /* two items with one key: one entry, both ok, one copy */
    hb_pkg_item two[2] = {{.url = a, .sha256 = sha, .size = -1},
                          {.url = a, .sha256 = sha, .size = -1}};
    char *rm = hb_malloc(strlen(dir) + 16);
    sprintf(rm, "rm -rf '%s'", dir);
    CHECK(system(rm) == 0);
    free(rm);
    hb_error err;
    ev = (events){0};
    CHECK(hb_pkg_cache_fetch(c, two, 2, NULL, NULL, count, &ev, &err) == 0);
    CHECK(two[0].ok && two[1].ok && two[0].downloaded + two[1].downloaded == 1);
    CHECK(two[1].extracted && strcmp(two[0].extracted, two[1].extracted) == 0);
    CHECK_INT(ev.done, 2);
    hb_pkg_item_free(&two[0]);
    hb_pkg_item_free(&two[1]);

    free(ok_path);
    free(want_x);
    free(want_archive);
    free(dir);
    free(a);
}

static void test_keys(hb_pkg_cache *c, const char *src)
{
    char sha[HB_HASH_HEX_MAX], md5[HB_HASH_HEX_MAX], url_key[HB_HASH_HEX_MAX];
    char *b = join(src, "b-1.0-0.tar.bz2");
    make_archive(b, "{\"name\": \"b\"}", sha);
    hb_error err;
    CHECK(hb_hash_file_hex(HB_HASH_MD5, b, md5, &err) == 0);
    /* md5 only: keyed by the md5, given in upper case */
    char upper[HB_HASH_HEX_MAX];
    for (size_t i = 0; i <= strlen(md5); i++)
        upper[i] = (char)(md5[i] >= 'a' && md5[i] <= 'f' ? md5[i] - 32 : md5[i]);
    hb_pkg_item it = {.url = b, .md5 = upper, .size = -1};
    CHECK(fetch1(c, &it, NULL) == 0);
    CHECK(exists(c->pkgs, md5));
    hb_pkg_item_free(&it);
    /* no digest: keyed by the URL's sha256; the file name from a file:// URL */
    strbuf url = STRBUF_INIT;
    strbuf_printf(&url, "file://%s", b);
    hb_hash_buffer_hex(HB_HASH_SHA256, url.buf, url.len, url_key);
    it = (hb_pkg_item){.url = url.buf, .size = -1};
    CHECK(fetch1(c, &it, NULL) == 0);
    char *dir = join(c->pkgs, url_key);
    CHECK(exists(dir, "b-1.0-0.tar.bz2") && exists(dir, "x/info/index.json"));
    hb_pkg_item_free(&it);
    free(dir);
    strbuf_free(&url);
    free(b);
}

static void test_errors(hb_pkg_cache *c, const char *src)
{
    char sha[HB_HASH_HEX_MAX];
    char *a = join(src, "e-1.0-0.tar.bz2");
    make_archive(a, "{\"name\": \"e\"}", sha);
    const char *zeros = "0000000000000000000000000000000000000000000000000000000000000000";
    hb_pkg_item items[4] = {
        {.url = a, .sha256 = zeros, .size = -1},
        {.url = a, .sha256 = "abc", .size = -1},
        {.url = a, .filename = "x", .size = -1},
        {.url = a, .sha256 = sha, .size = 5},
    };
    hb_error err;
    events ev = {0};
    CHECK(hb_pkg_cache_fetch(c, items, 4, NULL, NULL, count, &ev, &err) == -1);
    CHECK_CONTAINS(err.msg, "4 of 4 packages failed; first: ");
    CHECK_CONTAINS(items[0].err.msg, "sha256 mismatch: expected 0000");
    CHECK_CONTAINS(items[0].err.msg, sha);
    CHECK_CONTAINS(items[0].err.msg, a);
    CHECK_INT(items[1].err.code, HB_EINVAL);
    CHECK_CONTAINS(items[1].err.msg, "invalid sha256 'abc'");
    CHECK_CONTAINS(items[2].err.msg, "invalid file name 'x'");
    CHECK_CONTAINS(items[3].err.msg, "size mismatch: expected 5 bytes");
    CHECK_INT(ev.failed, 4);
    for (int i = 0; i < 4; i++) {
        CHECK(!items[i].ok && !items[i].archive && !items[i].extracted);
        hb_pkg_item_free(&items[i]);
    }
    CHECK(!exists(c->pkgs, zeros));
    CHECK(!exists(c->pkgs, sha));
    /* a missing file */
    hb_pkg_item missing = {.url = "/nonexistent/f-1.0-0.tar.bz2", .size = -1};
    CHECK(fetch1(c, &missing, NULL) == -1);
    CHECK_CONTAINS(missing.err.msg, "/nonexistent/f-1.0-0.tar.bz2");
    CHECK(hb_pkg_cache_fetch(c, NULL, 0, NULL, NULL, NULL, NULL, &err) == 0);
    free(a);
}

int main(void)
{
    hb_error err;
    char tmp[] = "/tmp/hb-test-pkgcache-XXXXXX";
    if (!mkdtemp(tmp) || hb_http_global_init(&err) != 0) {
        perror("set-up");
        return 1;
    }
    char *root = join(tmp, "cache/deeper");
    hb_pkg_cache c;
    CHECK(hb_pkg_cache_open(&c, root, &err) == 0);
    CHECK(exists(root, "pkgs"));
    test_fetch_and_reuse(&c, tmp);
    test_keys(&c, tmp);
    test_errors(&c, tmp);
    hb_pkg_cache_close(&c);
    hb_pkg_cache bad;
    CHECK(hb_pkg_cache_open(&bad, "/proc/no/such/dir", &err) == -1);
    CHECK_CONTAINS(err.msg, "cannot create directory '/proc/no'");
    free(root);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    hb_http_global_cleanup();
    return check_finish();
}
