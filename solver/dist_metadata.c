/* dist_metadata.c — wheel METADATA by cache, PEP 658, ranged reads or the whole
 * file (see dist_metadata.h).  Each request is a small state machine; every
 * round sends one fetch for each request still waiting, all in one
 * hb_fetch_many. */
#include "hpcbuild/dist_metadata.h"
#include "hpcbuild/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/zip_read.h"

#define TAIL_SIZE 65536

enum job_state { JOB_DONE, JOB_PEP658, JOB_TAIL, JOB_TAIL_MORE, JOB_SPAN, JOB_FULL };

typedef struct meta_job {
    hb_meta_request *req;
    enum job_state state;
    char range[64];
    strbuf tail;          /* file bytes [tail_start, file_size) */
    uint64_t tail_start, file_size;
    uint64_t want_start;  /* JOB_TAIL_MORE / JOB_SPAN: the first byte asked for */
    hb_zip_dir dir;
    const hb_zip_entry *entry;
    char *metadata_url;   /* <url>.metadata */
} meta_job;

const char *hb_meta_how_name(hb_meta_how how)
{
    switch (how) {
    case HB_META_CACHED: return "cached";
    case HB_META_PEP658: return "pep658";
    case HB_META_RANGE: return "range";
    case HB_META_FULL: return "full";
    case HB_META_LOCAL: return "local";
    }
    return "?";
}

void hb_meta_request_free(hb_meta_request *r)
{
    strbuf_free(&r->metadata);
}

/* ---- reading METADATA out of bytes ---------------------------------------- */

/* Finds METADATA in d and extracts it from buf (file bytes from offset). */
static int extract_metadata(const hb_zip_dir *d, const unsigned char *buf, size_t len,
                            uint64_t offset, const hb_meta_request *req, strbuf *out, hb_error *err)
{
    const hb_zip_entry *e = hb_zip_find_metadata(d, req->project, err);
    if (!e)
        return hb_error_prefix(err, "'%s'", req->url);
    return hb_zip_entry_extract(e, buf, len, offset, HB_META_MAX_SIZE, out, req->url, err);
}

/* METADATA from a whole wheel in memory. */
static int metadata_from_buffer(const unsigned char *buf, size_t len, const hb_meta_request *req,
                                strbuf *out, hb_error *err)
{
    hb_zip_dir d;
    uint64_t need;
    if (hb_zip_dir_parse_tail(&d, buf, len, len, &need, req->url, err) != 0)
        return -1; /* need > len cannot happen with the whole file */
    int rc = extract_metadata(&d, buf, len, 0, req, out, err);
    hb_zip_dir_free(&d);
    return rc;
}

/* Reads [start, end) of fd into sb. */
static int read_range(int fd, const char *path, uint64_t start, uint64_t end, strbuf *sb,
                      hb_error *err)
{
    strbuf_truncate(sb, 0);
    strbuf_reserve(sb, (size_t)(end - start) + 1);
    while (start < end) {
        ssize_t got = pread(fd, sb->buf + sb->len, (size_t)(end - start), (off_t)start);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return hb_error_set(err, HB_EIO, "cannot read '%s' at offset %llu: %s", path,
                                (unsigned long long)start, got < 0 ? strerror(errno) : "file shrank");
        sb->len += (size_t)got;
        start += (uint64_t)got;
    }
    sb->buf[sb->len] = '\0';
    return 0;
}

/* METADATA from a wheel on disk: its tail, then the member's span. */
static int metadata_from_file(const char *path, const hb_meta_request *req, strbuf *out,
                              hb_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hb_error_set(err, HB_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return hb_error_set(err, HB_EIO, "cannot read '%s': not a regular file", path);
    }
    uint64_t size = (uint64_t)st.st_size, want = size < TAIL_SIZE ? size : TAIL_SIZE;
    strbuf buf = STRBUF_INIT;
    hb_zip_dir d = {0};
    int rc;
    for (;;) {
        uint64_t need;
        rc = read_range(fd, path, size - want, size, &buf, err);
        if (rc == 0)
            rc = hb_zip_dir_parse_tail(&d, (const unsigned char *)buf.buf, buf.len, size, &need,
                                       path, err);
        if (rc != 1)
            break;
        want = need;
    }
    if (rc == 0) {
        const hb_zip_entry *e = hb_zip_find_metadata(&d, req->project, err);
        uint64_t start, end;
        if (!e) {
            rc = hb_error_prefix(err, "'%s'", path);
        } else {
            hb_zip_entry_span(&d, e, &start, &end);
            rc = read_range(fd, path, start, end, &buf, err);
            if (rc == 0)
                rc = hb_zip_entry_extract(e, (const unsigned char *)buf.buf, buf.len, start,
                                          HB_META_MAX_SIZE, out, path, err);
        }
    }
    hb_zip_dir_free(&d);
    strbuf_free(&buf);
    close(fd);
    return rc;
}

/* ---- the metadata cache ----------------------------------------------------- */

/* The cache key of req (a lowercase sha256), or "" when there is none. */
static void cache_key(const hb_meta_request *req, char key[HB_HASH_HEX_MAX])
{
    const char *k = req->sha256 ? req->sha256
                  : req->core_metadata ? req->core_metadata_sha256 : NULL;
    key[0] = '\0';
    if (!k)
        return;
    size_t i = 0;
    for (; k[i] && i < HB_HASH_HEX_MAX - 1; i++)
        key[i] = (char)(k[i] >= 'A' && k[i] <= 'F' ? k[i] + 32 : k[i]);
    key[i] = '\0';
}

static char *cache_path(const char *dir, const char *key)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/%s.METADATA", dir, key);
    return strbuf_detach(&sb);
}

/* 1 when req's METADATA was in the cache (req->metadata filled), else 0. */
static int cache_lookup(const char *dir, hb_meta_request *req)
{
    char key[HB_HASH_HEX_MAX];
    cache_key(req, key);
    if (!dir || !key[0])
        return 0;
    char *path = cache_path(dir, key);
    FILE *f = fopen(path, "rb");
    int found = 0;
    if (f) {
        char chunk[65536];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
            strbuf_append(&req->metadata, chunk, got);
        found = !ferror(f);
        fclose(f);
    }
    if (found && req->core_metadata_sha256) {
        char hex[HB_HASH_HEX_MAX];
        hb_hash_buffer_hex(HB_HASH_SHA256, req->metadata.buf, req->metadata.len, hex);
        if (!hb_hash_hex_equal(hex, req->core_metadata_sha256)) {
            unlink(path); /* a damaged or stale entry is never used */
            found = 0;
        }
    }
    if (!found)
        strbuf_truncate(&req->metadata, 0);
    free(path);
    return found;
}

/* Writes req's METADATA into the cache atomically; failures are ignored (the
 * cache only saves requests). */
static void cache_store(const char *dir, const hb_meta_request *req)
{
    char key[HB_HASH_HEX_MAX];
    cache_key(req, key);
    if (!dir || !key[0])
        return;
    char *path = cache_path(dir, key);
    hb_write_file_atomic(path, req->metadata.buf ? req->metadata.buf : "", req->metadata.len, NULL);
    free(path);
}

/* <root>/metadata, created if needed; NULL when it cannot be. */
static char *cache_dir(const hb_fetch_cache *cache)
{
    if (!cache || !cache->root)
        return NULL;
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/metadata", cache->root);
    if (mkdir(sb.buf, 0755) != 0 && errno != EEXIST) {
        strbuf_free(&sb);
        return NULL;
    }
    return strbuf_detach(&sb);
}

/* ---- the per-request state machine ---------------------------------------- */

/* The state functions below return the job's next state. */
static enum job_state job_fail(meta_job *j, const hb_error *e)
{
    j->req->err = *e;
    return JOB_DONE;
}

static enum job_state job_done(meta_job *j, hb_meta_how how)
{
    j->req->ok = true;
    j->req->how = how;
    return JOB_DONE;
}

/* Sets up the fetch for j's state. */
static void job_fetch(meta_job *j, hb_fetch *f, const hb_fetch_cache *cache)
{
    hb_meta_request *req = j->req;
    memset(f, 0, sizeof *f);
    f->url = req->url;
    switch (j->state) {
    case JOB_PEP658:
        f->url = j->metadata_url;
        f->to_memory = 1;
        f->sha256 = req->core_metadata_sha256;
        break;
    case JOB_TAIL:
        snprintf(j->range, sizeof j->range, "-%d", TAIL_SIZE);
        f->range = j->range;
        f->sha256 = req->sha256; /* checked if the server sends the whole file */
        break;
    case JOB_TAIL_MORE:
        snprintf(j->range, sizeof j->range, "%llu-%llu", (unsigned long long)j->want_start,
                 (unsigned long long)(j->tail_start - 1));
        f->range = j->range;
        f->sha256 = req->sha256;
        break;
    case JOB_SPAN: {
        uint64_t start, end;
        hb_zip_entry_span(&j->dir, j->entry, &start, &end);
        j->want_start = start;
        snprintf(j->range, sizeof j->range, "%llu-%llu", (unsigned long long)start,
                 (unsigned long long)(end > start ? end - 1 : start));
        f->range = j->range;
        f->sha256 = req->sha256;
        break;
    }
    case JOB_FULL:
    case JOB_DONE:
        f->to_memory = cache == NULL; /* else the wheel stays in the HTTP cache */
        f->sha256 = req->sha256;
        break;
    }
}

/* A failed ranged request: the whole file is tried next, unless the failure
 * would repeat (no such file, no access, no connection). */
static enum job_state job_range_failed(meta_job *j, const hb_fetch *f)
{
    long s = f->status;
    if (s == 0 || s == 401 || s == 403 || s == 404 || s == 410)
        return job_fail(j, &f->err);
    return JOB_FULL;
}

/* The whole wheel arrived (the server ignored Range, or a full fetch). */
static enum job_state job_whole(meta_job *j, const hb_fetch *f)
{
    hb_error e = {0};
    int rc = f->body.buf || !f->path
                 ? metadata_from_buffer((const unsigned char *)f->body.buf, f->body.len, j->req,
                                        &j->req->metadata, &e)
                 : metadata_from_file(f->path, j->req, &j->req->metadata, &e);
    if (rc != 0)
        return job_fail(j, &e);
    return job_done(j, HB_META_FULL);
}

/* Parses the tail read so far: asks for more, for the span, or extracts. */
static enum job_state job_parse_tail(meta_job *j)
{
    hb_error e = {0};
    uint64_t need = 0;
    hb_zip_dir_free(&j->dir);
    int rc = hb_zip_dir_parse_tail(&j->dir, (const unsigned char *)j->tail.buf, j->tail.len,
                                   j->file_size, &need, j->req->url, &e);
    if (rc == 1) {
        j->want_start = j->file_size - need;
        return JOB_TAIL_MORE;
    }
    if (rc != 0)
        return job_fail(j, &e);
    j->entry = hb_zip_find_metadata(&j->dir, j->req->project, &e);
    if (!j->entry) {
        hb_error_prefix(&e, "'%s'", j->req->url);
        return job_fail(j, &e);
    }
    uint64_t start, end;
    hb_zip_entry_span(&j->dir, j->entry, &start, &end);
    if (start < j->tail_start)
        return JOB_SPAN;
    /* the member is inside the tail already */
    if (hb_zip_entry_extract(j->entry, (const unsigned char *)j->tail.buf, j->tail.len,
                             j->tail_start, HB_META_MAX_SIZE, &j->req->metadata, j->req->url,
                             &e) != 0)
        return job_fail(j, &e);
    return job_done(j, HB_META_RANGE);
}

/* Moves j on with the result of its fetch f. */
static enum job_state job_advance(meta_job *j, hb_fetch *f)
{
    hb_meta_request *req = j->req;
    req->requests += f->attempts;
    switch (j->state) {
    case JOB_PEP658:
        if (f->ok) {
            strbuf_free(&req->metadata);
            req->metadata = f->body;
            memset(&f->body, 0, sizeof f->body);
            return job_done(j, HB_META_PEP658);
        }
        if (f->status >= 400 && f->status < 500) {
            return JOB_TAIL; /* the index promised a file the server lacks */
        }
        hb_error_prefix(&f->err, "PEP 658 metadata");
        return job_fail(j, &f->err);
    case JOB_TAIL:
    case JOB_TAIL_MORE:
        if (!f->ok)
            return job_range_failed(j, f);
        if (!f->partial)
            return job_whole(j, f);
        if (j->state == JOB_TAIL) {
            if (f->total_size < 0 || (uint64_t)f->range_start + f->body.len != (uint64_t)f->total_size) {
                return JOB_FULL; /* not a tail after all */
            }
            j->file_size = (uint64_t)f->total_size;
            j->tail_start = (uint64_t)f->range_start;
            strbuf_free(&j->tail);
            j->tail = f->body;
            memset(&f->body, 0, sizeof f->body);
        } else {
            if ((uint64_t)f->range_start != j->want_start ||
                f->range_start + (long long)f->body.len != (long long)j->tail_start ||
                (uint64_t)f->total_size != j->file_size) {
                return JOB_FULL;
            }
            strbuf_append(&f->body, j->tail.buf, j->tail.len);
            strbuf_free(&j->tail);
            j->tail = f->body;
            j->tail_start = (uint64_t)f->range_start;
            memset(&f->body, 0, sizeof f->body);
        }
        return job_parse_tail(j);
    case JOB_SPAN: {
        if (!f->ok)
            return job_range_failed(j, f);
        if (!f->partial)
            return job_whole(j, f);
        hb_error e = {0};
        if (hb_zip_entry_extract(j->entry, (const unsigned char *)f->body.buf, f->body.len,
                                 (uint64_t)f->range_start, HB_META_MAX_SIZE, &req->metadata,
                                 req->url, &e) != 0)
            return job_fail(j, &e);
        return job_done(j, HB_META_RANGE);
    }
    case JOB_FULL:
        if (!f->ok)
            return job_fail(j, &f->err);
        return job_whole(j, f);
    case JOB_DONE:
        break;
    }
    return JOB_DONE;
}

/* Local files, the cache, and the first remote step. */
static enum job_state job_start(meta_job *j, const char *dir)
{
    hb_meta_request *req = j->req;
    hb_error e = {0};
    char *path = NULL;
    if ((req->sha256 && hb_hash_hex_check(HB_HASH_SHA256, req->sha256, &e) != 0) ||
        (req->core_metadata_sha256 &&
         hb_hash_hex_check(HB_HASH_SHA256, req->core_metadata_sha256, &e) != 0)) {
        hb_error_prefix(&e, "'%s'", req->url);
        return job_fail(j, &e);
    }
    int kind = hb_fetch_classify_url(req->url, &path, &e);
    if (kind < 0)
        return job_fail(j, &e);
    if (kind == 1) {
        int rc = metadata_from_file(path, req, &req->metadata, &e);
        free(path);
        if (rc != 0)
            return job_fail(j, &e);
        return job_done(j, HB_META_LOCAL);
    }
    if (cache_lookup(dir, req))
        return job_done(j, HB_META_CACHED);
    if (req->core_metadata) {
        strbuf sb = STRBUF_INIT;
        strbuf_printf(&sb, "%s.metadata", req->url);
        j->metadata_url = strbuf_detach(&sb);
        return JOB_PEP658;
    }
    return JOB_TAIL;
}

int hb_wheel_metadata_fetch(hb_meta_request *reqs, size_t n, const hb_fetch_options *opt,
                            const hb_fetch_cache *cache, hb_error *err)
{
    char *dir = cache_dir(cache);
    meta_job *jobs = hb_calloc(n ? n : 1, sizeof *jobs);
    hb_fetch *fetches = hb_calloc(n ? n : 1, sizeof *fetches);
    meta_job **waiting = hb_calloc(n ? n : 1, sizeof *waiting);
    for (size_t i = 0; i < n; i++) {
        hb_meta_request *r = &reqs[i];
        r->ok = false;
        memset(&r->metadata, 0, sizeof r->metadata);
        r->how = HB_META_LOCAL;
        r->requests = 0;
        hb_error_clear(&r->err);
        jobs[i].req = r;
        jobs[i].state = job_start(&jobs[i], dir);
    }
    for (;;) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (jobs[i].state != JOB_DONE) {
                waiting[k] = &jobs[i];
                job_fetch(&jobs[i], &fetches[k], cache);
                k++;
            }
        if (k == 0)
            break;
        hb_fetch_many(fetches, k, opt, cache, NULL, NULL, NULL); /* each fetch says how it went */
        for (size_t i = 0; i < k; i++) {
            waiting[i]->state = job_advance(waiting[i], &fetches[i]);
            hb_fetch_free(&fetches[i]);
        }
    }
    size_t failed = 0;
    const hb_meta_request *first = NULL;
    for (size_t i = 0; i < n; i++) {
        meta_job *j = &jobs[i];
        if (j->req->ok && j->req->how != HB_META_CACHED && j->req->how != HB_META_LOCAL)
            cache_store(dir, j->req);
        if (!j->req->ok) {
            strbuf_free(&j->req->metadata);
            if (!failed++)
                first = j->req;
        }
        strbuf_free(&j->tail);
        hb_zip_dir_free(&j->dir);
        free(j->metadata_url);
    }
    free(waiting);
    free(fetches);
    free(jobs);
    free(dir);
    if (failed)
        return hb_error_set(err, first->err.code, "%zu of %zu metadata fetches failed; first: %s",
                            failed, n, first->err.msg);
    return 0;
}
