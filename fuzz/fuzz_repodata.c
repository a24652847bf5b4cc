/* libFuzzer harness for the repodata loader: the input is a repodata document
 * (JSON, or zstd when it starts with the magic); the streaming loader (in
 * place and through tiny chunks) must agree with the whole-document reference
 * loader, records or error message; every record's strings and lists are walked.  Inputs starting with 'U' test URL resolution
 * instead: "U<base>\n<ref>"; 'I' + msgpack: a shard index (zstd-compressed
 * here); 'S' + msgpack: a shard, added under an index that has its hash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/repodata.h"
#include "../solver/repodata_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch(const char *s)
{
    if (s) {
        volatile size_t n = strlen(s);
        (void)n;
    }
}

static void touch_list(char **l)
{
    for (size_t i = 0; l && l[i]; i++)
        touch(l[i]);
}

static void walk(const repodata *rd);
static void outcome(repodata *rd, strbuf *out, const hb_error *err);

static size_t compress(const uint8_t *data, size_t size, void **out)
{
    size_t cap = ZSTD_compressBound(size);
    *out = hb_malloc(cap);
    size_t n = ZSTD_compress(*out, cap, data, size, 1);
    if (ZSTD_isError(n))
        abort();
    return n;
}

static void shard_index(const uint8_t *data, size_t size)
{
    void *z;
    size_t n = compress(data, size, &z);
    hb_error err;
    repodata_shard_index *idx = repodata_shard_index_parse(z, n, "idx", "https://h.org/c/linux-64/x", &err);
    if (idx) {
        for (size_t i = 0; i < repodata_shard_index_count(idx); i++) {
            char *url = repodata_shard_url(idx, repodata_shard_index_name(idx, i));
            if (!url)
                abort();
            free(url);
        }
        repodata_shard_index_free(idx);
    }
    free(z);
}

static void shard(const uint8_t *data, size_t size)
{
    void *z;
    size_t n = compress(data, size, &z);
    /* an index {"info": {"base_url": "./"}, "shards": {"p": <sha256>}} */
    unsigned char idx[64] = "\x82\xa4info\x81\xa8" "base_url\xa2./\xa6shards\x81\xa1p\xc4\x20";
    size_t head = 1 + 5 + 1 + 9 + 3 + 7 + 1 + 2 + 2;
    repodata_sha256(z, n, idx + head);
    void *zi;
    size_t ni = compress(idx, head + 32, &zi);
    hb_error err;
    repodata_shard_index *ix = repodata_shard_index_parse(zi, ni, "idx", "https://h.org/c/linux-64/x", &err);
    if (!ix)
        abort();
    repodata *rd = repodata_new_sharded(ix, NULL);
    if (repodata_add_shard(rd, ix, "p", z, n, &err) == 0)
        walk(rd);
    repodata_free(rd);
    repodata_shard_index_free(ix);
    free(zi);
    free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size && data[0] == 'I') {
        shard_index(data + 1, size - 1);
        return 0;
    }
    if (size && data[0] == 'S') {
        shard(data + 1, size - 1);
        return 0;
    }
    if (size && data[0] == 'U') {
        char *s = hb_strndup((const char *)data + 1, size - 1);
        if (strlen(s) == size - 1) {
            char *nl = strchr(s, '\n');
            if (nl) {
                *nl = '\0';
                char *r = repodata_url_resolve(s, nl + 1);
                if (!r)
                    abort();
                free(r);
            }
        }
        free(s);
        return 0;
    }
    /* the streaming loader, in place and through a window of 1-8 byte chunks
     * (the last byte picks), must give exactly what the whole-document
     * reference loader gives: the same records or the same error */
    repodata_options opt = {"https://example.org/c/linux-64/repodata.json", "c", 0};
    strbuf want = STRBUF_INIT;
    hb_error ref_err = {0};
    outcome(repodata_parse_whole((const char *)data, size, "fuzz", &opt, &ref_err), &want, &ref_err);
    for (int pass = 0; pass < 2; pass++) {
        char chunk[8];
        snprintf(chunk, sizeof chunk, "%d", size ? 1 + data[size - 1] % 8 : 1);
        if (pass)
            setenv("HPCBUILD_REPODATA_CHUNK", chunk, 1);
        hb_error err = {0};
        strbuf got = STRBUF_INIT;
        repodata *rd = repodata_parse((const char *)data, size, "fuzz", &opt, &err);
        outcome(rd, &got, &err);
        unsetenv("HPCBUILD_REPODATA_CHUNK");
        if (strcmp(strbuf_str(&want), strbuf_str(&got)) != 0) {
            fprintf(stderr, "streaming (%s) differs from the reference loader:\nwant: %s\ngot:  %s\n",
                    pass ? chunk : "in place", strbuf_str(&want), strbuf_str(&got));
            abort();
        }
        strbuf_free(&got);
    }
    strbuf_free(&want);
    return 0;
}

/* Walks rd (then frees it) and describes it, or the error, into out. */
static void outcome(repodata *rd, strbuf *out, const hb_error *err)
{
    if (rd) {
        walk(rd);
        repodata_describe(rd, out);
        repodata_free(rd);
    } else if (err) {
        /* libzstd's reason for corrupt data depends on its output buffer's size */
        const char *z = strstr(err->msg, "corrupt zstd data: ");
        strbuf_printf(out, "error: %.*s", z ? (int)(z - err->msg) + 17 : (int)strlen(err->msg), err->msg);
    } else {
        strbuf_puts(out, "error");
    }
}

static void walk(const repodata *rd)
{
    for (size_t i = 0; i < rd->count; i++) {
        const repodata_record *r = &rd->records[i];
        if (!r->rec.name || !r->rec.version || !r->rec.build || !r->rec.fn || !r->rec.depends ||
            !r->constrains)
            abort();
        touch(r->rec.name);
        touch(r->rec.url);
        touch(r->rec.md5);
        touch(r->rec.subdir);
        touch_list(r->rec.depends);
        touch_list(r->constrains);
        touch_list(r->rec.track_features);
        touch_list(r->rec.features);
    }
    touch_list(rd->removed);
}
