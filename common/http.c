#include "hpcbuild/hash.h"
#include "hpcbuild/http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "hpcbuild/alloc.h"

int hb_http_global_init(hb_error *err)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        return hb_error_set(err, HB_ESYS, "cannot initialize libcurl: %s", curl_easy_strerror(rc));
    return 0;
}

void hb_http_global_cleanup(void)
{
    curl_global_cleanup();
}

void hb_fetch_options_init(hb_fetch_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->connect_timeout_ms = 10000;
    opt->timeout_ms = 0;
    opt->stall_timeout_ms = 60000;
    opt->max_retries = 3;
    opt->retry_delay_ms = 500;
    opt->max_retry_delay_ms = 8000;
    opt->max_parallel = 8;
    opt->user_agent = NULL;
}

void hb_fetch_free(hb_fetch *f)
{
    free(f->path);
    f->path = NULL;
    free(f->content_type);
    f->content_type = NULL;
    strbuf_free(&f->body);
}

/* ---- URLs ---------------------------------------------------------------- */

int hb_fetch_classify_url(const char *url, char **path, hb_error *err)
{
    *path = NULL;
    if (!url || !*url)
        return hb_error_set(err, HB_EINVAL, "empty URL: expected http://, https://, file:// or a path");
    size_t i = 0;
    if ((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z')) {
        i = 1;
        while ((url[i] >= 'a' && url[i] <= 'z') || (url[i] >= 'A' && url[i] <= 'Z') ||
               (url[i] >= '0' && url[i] <= '9') || url[i] == '+' || url[i] == '-' || url[i] == '.')
            i++;
    }
    if (i == 0 || strncmp(url + i, "://", 3) != 0) {
        *path = hb_strdup(url); /* a plain path */
        return 1;
    }
    if ((i == 4 && strncasecmp(url, "http", 4) == 0) || (i == 5 && strncasecmp(url, "https", 5) == 0))
        return 0;
    if (!(i == 4 && strncasecmp(url, "file", 4) == 0))
        return hb_error_set(err, HB_EINVAL,
                            "unsupported URL scheme '%.*s' in '%s': expected http, https or file",
                            (int)i, url, url);
    const char *rest = url + 7;
    if (strncasecmp(rest, "localhost/", 10) == 0)
        rest += 9;
    if (rest[0] != '/')
        return hb_error_set(err, HB_EINVAL,
                            "unsupported file URL '%s': expected file:///absolute/path", url);
    strbuf sb = STRBUF_INIT;
    for (const char *p = rest; *p; p++) {
        if (*p == '?' || *p == '#')
            break;
        if (*p == '%') {
            int hi = hb_hex_value(p[1]), lo = hi < 0 ? -1 : hb_hex_value(p[2]);
            if (hi < 0 || lo < 0) {
                strbuf_free(&sb);
                return hb_error_set(err, HB_EINVAL,
                                    "invalid file URL '%s' at position %d: expected two hex digits after '%%'",
                                    url, (int)(p - url) + 1);
            }
            if (hi == 0 && lo == 0) {
                strbuf_free(&sb);
                return hb_error_set(err, HB_EINVAL, "invalid file URL '%s': %%00 in a path", url);
            }
            strbuf_putc(&sb, (char)(hi * 16 + lo));
            p += 2;
        } else {
            strbuf_putc(&sb, *p);
        }
    }
    *path = strbuf_detach(&sb);
    return 1;
}

/* ---- files --------------------------------------------------------------- */

/* A temp file next to final_path, for an atomic replace by rename. */
static FILE *temp_next_to(const char *final_path, char **tmp_path, hb_error *err)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s.tmp.XXXXXX", final_path);
    char *p = strbuf_detach(&sb);
    int fd = mkstemp(p);
    if (fd < 0) {
        hb_error_set(err, HB_EIO, "cannot create a temporary file for '%s': %s", final_path,
                     strerror(errno));
        free(p);
        return NULL;
    }
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "w+b");
    if (!f) {
        hb_error_set(err, HB_EIO, "cannot open '%s': %s", p, strerror(errno));
        close(fd);
        unlink(p);
        free(p);
        return NULL;
    }
    *tmp_path = p;
    return f;
}

/* Closes f and renames tmp_path to final_path; removes tmp_path on failure. */
static int finish_temp(FILE *f, const char *tmp_path, const char *final_path, hb_error *err)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        hb_error_set(err, HB_EIO, "cannot write '%s': %s", tmp_path, strerror(errno ? errno : EIO));
        unlink(tmp_path);
        return -1;
    }
    if (rename(tmp_path, final_path) != 0) {
        hb_error_set(err, HB_EIO, "cannot rename '%s' to '%s': %s", tmp_path, final_path,
                     strerror(errno));
        unlink(tmp_path);
        return -1;
    }
    return 0;
}

static int verify_body(const hb_fetch *f, long long size, const char *got_sha256,
                       const char *got_md5, hb_error *err);

/* Reads src once: copies it atomically to dest (if set), appends it to mem
 * (if set), digests it into sha256 (and md5 if set; their hex goes to
 * got_sha / got_md5).  With `verify`, checks its expected digests before
 * dest is renamed into place; on a mismatch dest is left alone.  Sets *size. */
static int read_file_through(const char *src, const char *dest, strbuf *mem, hb_hasher *sha256,
                             hb_hasher *md5, const hb_fetch *verify, char *got_sha,
                             char *got_md5, long long *size, hb_error *err)
{
    FILE *in = fopen(src, "rb");
    if (!in)
        return hb_error_set(err, HB_EIO, "cannot open '%s': %s", src, strerror(errno));
    struct stat st;
    if (fstat(fileno(in), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(in);
        return hb_error_set(err, HB_EIO, "cannot read '%s': it is a directory", src);
    }
    char *tmp = NULL;
    FILE *out = NULL;
    if (dest && !(out = temp_next_to(dest, &tmp, err))) {
        fclose(in);
        return -1;
    }
    char buf[65536];
    size_t n;
    *size = 0;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        *size += (long long)n;
        if (sha256)
            hb_hasher_update(sha256, buf, n);
        if (md5)
            hb_hasher_update(md5, buf, n);
        if (mem)
            strbuf_append(mem, buf, n);
        if (out && fwrite(buf, 1, n, out) != n) {
            rc = hb_error_set(err, HB_EIO, "cannot write '%s': %s", tmp, strerror(errno));
            break;
        }
    }
    if (rc == 0 && ferror(in))
        rc = hb_error_set(err, HB_EIO, "cannot read '%s': %s", src, strerror(errno));
    fclose(in);
    if (rc == 0) {
        if (sha256)
            hb_hasher_final_hex(sha256, got_sha);
        if (md5)
            hb_hasher_final_hex(md5, got_md5);
        if (verify)
            rc = verify_body(verify, *size, got_sha, got_md5, err);
    }
    if (out) {
        if (rc == 0) {
            rc = finish_temp(out, tmp, dest, err);
        } else {
            fclose(out);
            unlink(tmp);
        }
    }
    free(tmp);
    return rc;
}

/* ---- verification -------------------------------------------------------- */

/* Checks the expected size and digests against the body's; the error names
 * the URL and both values. */
static int verify_body(const hb_fetch *f, long long size, const char *got_sha256,
                       const char *got_md5, hb_error *err)
{
    if (f->expect_size > 0 && size != f->expect_size)
        return hb_error_set(err, HB_EIO,
                            "fetching '%s': size mismatch: expected %lld bytes, got %lld",
                            f->url, f->expect_size, size);
    if (f->sha256 && !hb_hash_hex_equal(f->sha256, got_sha256))
        return hb_error_set(err, HB_EIO, "fetching '%s': sha256 mismatch: expected %s, got %s",
                            f->url, f->sha256, got_sha256);
    if (f->md5 && !hb_hash_hex_equal(f->md5, got_md5))
        return hb_error_set(err, HB_EIO, "fetching '%s': md5 mismatch: expected %s, got %s",
                            f->url, f->md5, got_md5);
    return 0;
}

static int check_expected(const hb_fetch *f, hb_error *err)
{
    if (f->sha256 && hb_hash_hex_check(HB_HASH_SHA256, f->sha256, err) != 0)
        return hb_error_prefix(err, "fetching '%s'", f->url);
    if (f->md5 && hb_hash_hex_check(HB_HASH_MD5, f->md5, err) != 0)
        return hb_error_prefix(err, "fetching '%s'", f->url);
    return 0;
}

/* ---- local files --------------------------------------------------------- */

static int fetch_local(hb_fetch *f, const char *src)
{
    int rc;
    long long size = 0;
    char got_sha[HB_HASH_HEX_MAX] = "", got_md5[HB_HASH_HEX_MAX] = "";
    int to_memory = f->to_memory || f->range;
    if (f->dest || to_memory || f->sha256 || f->md5) {
        /* one pass: copy, digest, verify before the copy lands */
        hb_hasher *sha = hb_hasher_new(HB_HASH_SHA256);
        hb_hasher *md5 = f->md5 ? hb_hasher_new(HB_HASH_MD5) : NULL;
        rc = read_file_through(src, f->dest, to_memory ? &f->body : NULL, sha, md5, f,
                               got_sha, got_md5, &size, &f->err);
        hb_hasher_free(sha);
        hb_hasher_free(md5);
    } else {
        struct stat st;
        rc = 0;
        if (stat(src, &st) != 0)
            rc = hb_error_set(&f->err, HB_EIO, "cannot open '%s': %s", src, strerror(errno));
        else if (S_ISDIR(st.st_mode))
            rc = hb_error_set(&f->err, HB_EIO, "cannot read '%s': it is a directory", src);
        else {
            size = st.st_size;
            rc = verify_body(f, size, "", "", &f->err);
        }
    }
    if (rc != 0) {
        strbuf_free(&f->body);
        if (strcmp(src, f->url) != 0 && strncmp(f->err.msg, "fetching '", 10) != 0)
            hb_error_prefix(&f->err, "fetching '%s'", f->url);
        return -1;
    }
    f->size = size;
    f->total_size = size;
    memcpy(f->sha256_hex, got_sha, sizeof got_sha);
    f->path = hb_strdup(f->dest ? f->dest : src);
    f->ok = 1;
    return 0;
}

/* ---- remote transfers ---------------------------------------------------- */

typedef struct fetch_run {
    const hb_fetch_options *opt;
    const hb_fetch_cache *cache;
    hb_fetch_progress_fn progress;
    void *user;
    CURLM *multi;
} fetch_run;

typedef struct xfer {
    fetch_run *run;
    size_t index;
    hb_fetch *f;
    CURL *easy;
    const hb_fetch_cache *cache; /* run->cache, NULL for a ranged fetch */
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    FILE *tmp;      /* the download in progress (cache, dest or dest.part), or NULL */
    char *tmp_path;
    int resuming;   /* resume mode: tmp is dest.part, kept when the fetch fails */
    long long prefix; /* resume mode: bytes in tmp before this response */
    int body_started; /* begin_body ran for this response */
    int resumed_any;  /* the body so far continues an earlier transfer */
    int restart;      /* begin_body: the 206 does not continue the part */
    int restarted;    /* the one restart from zero was used */
    strbuf mem;     /* the download when neither cache nor dest */
    hb_hasher *sha, *md5;
    long long received; /* bytes of this response (after prefix) */
    long long last_progress;
    hb_cache_entry cached;
    int have_cached;
    int write_failed;
    hb_error write_err;
    double wake_at; /* monotonic seconds: when a scheduled retry may start */
    int waiting;    /* 1 while waiting for wake_at */
    int active;     /* 1 while in the multi handle */
} xfer;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void emit(xfer *x, hb_fetch_event ev, long long done, long long total)
{
    if (x->run->progress)
        x->run->progress(x->run->user, x->index, x->f, ev, done, total);
}

static int reset_body(xfer *x, hb_error *err);
static const char *last_header(CURL *e, const char *name);
static int parse_content_range(const char *v, long long *first, long long *last, long long *total);

/* The first bytes of a response.  In resume mode with a part on disk, a 206 must
 * continue the part where it ends (else x->restart is set and -1 returned) and
 * anything else (a 200) replaces the part. */
static int begin_body(xfer *x)
{
    x->body_started = 1;
    if (!x->resuming || x->prefix == 0)
        return 0;
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 206) {
        if (reset_body(x, &x->write_err) == 0)
            return 0;
        x->write_failed = 1;
        return -1;
    }
    const char *cr = last_header(x->easy, "Content-Range");
    long long first, last, total;
    if (cr && parse_content_range(cr, &first, &last, &total) == 0 && first == x->prefix) {
        x->resumed_any = 1;
        return 0;
    }
    hb_error_set(&x->f->err, HB_EIO,
                 "fetching '%s': HTTP 206 with Content-Range '%s' to 'Range: bytes=%lld-'",
                 x->f->url, cr ? cr : "(none)", x->prefix);
    x->restart = 1;
    return -1;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
    xfer *x = userp;
    size_t n = size * nmemb;
    if (!x->body_started && begin_body(x) != 0)
        return 0;
    if (x->tmp) {
        if (fwrite(data, 1, n, x->tmp) != n) {
            x->write_failed = 1;
            hb_error_set(&x->write_err, HB_EIO, "fetching '%s': cannot write '%s': %s",
                         x->f->url, x->tmp_path, strerror(errno));
            return 0;
        }
    } else {
        strbuf_append(&x->mem, data, n);
    }
    hb_hasher_update(x->sha, data, n);
    if (x->md5)
        hb_hasher_update(x->md5, data, n);
    x->received += (long long)n;
    return n;
}

static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    xfer *x = userp;
    if ((long long)dlnow != x->last_progress) {
        x->last_progress = (long long)dlnow;
        emit(x, HB_FETCH_PROGRESS, x->prefix + (long long)dlnow,
             dltotal > 0 ? x->prefix + (long long)dltotal : -1);
    }
    return 0;
}

/* Empties the download for a new attempt from byte 0. */
static int reset_body(xfer *x, hb_error *err)
{
    x->received = 0;
    x->prefix = 0;
    x->resumed_any = 0;
    x->last_progress = -1;
    x->write_failed = 0;
    hb_hasher_reset(x->sha);
    if (x->md5)
        hb_hasher_reset(x->md5);
    strbuf_truncate(&x->mem, 0);
    if (x->tmp) {
        if (fflush(x->tmp) != 0 || ftruncate(fileno(x->tmp), 0) != 0 ||
            fseek(x->tmp, 0, SEEK_SET) != 0)
            return hb_error_set(err, HB_EIO, "fetching '%s': cannot truncate '%s': %s",
                                x->f->url, x->tmp_path, strerror(errno));
    }
    return 0;
}

/* Resume mode: keeps what arrived for the next attempt to continue. */
static int keep_body(xfer *x, hb_error *err)
{
    if (fflush(x->tmp) != 0)
        return hb_error_set(err, HB_EIO, "fetching '%s': cannot write '%s': %s", x->f->url,
                            x->tmp_path, strerror(errno));
    x->prefix += x->received;
    x->received = 0;
    x->last_progress = -1;
    return 0;
}

/* Resume mode: opens dest.part for appending and digests what it already holds. */
static int open_part(xfer *x)
{
    hb_fetch *f = x->f;
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s.part", f->dest);
    x->tmp_path = strbuf_detach(&sb);
    x->resuming = 1;
    x->tmp = fopen(x->tmp_path, "a+b");
    if (!x->tmp)
        return hb_error_set(&f->err, HB_EIO, "fetching '%s': cannot open '%s': %s", f->url,
                            x->tmp_path, strerror(errno));
    fchmod(fileno(x->tmp), 0644);
    rewind(x->tmp);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, x->tmp)) > 0) {
        hb_hasher_update(x->sha, buf, n);
        if (x->md5)
            hb_hasher_update(x->md5, buf, n);
        x->prefix += (long long)n;
    }
    if (ferror(x->tmp) || fseek(x->tmp, 0, SEEK_END) != 0)
        return hb_error_set(&f->err, HB_EIO, "fetching '%s': cannot read '%s': %s", f->url,
                            x->tmp_path, strerror(errno));
    if (f->expect_size > 0 && x->prefix > f->expect_size && reset_body(x, &f->err) != 0)
        return -1;  /* longer than the whole file: not a prefix of it */
    return 0;
}

static void discard_tmp(xfer *x)
{
    if (x->tmp) {
        fclose(x->tmp);
        x->tmp = NULL;
    }
    if (x->tmp_path) {
        unlink(x->tmp_path);
        free(x->tmp_path);
        x->tmp_path = NULL;
    }
}

static void xfer_free(xfer *x)
{
    if (x->easy) {
        if (x->active)
            curl_multi_remove_handle(x->run->multi, x->easy);
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->headers);
    if (x->resuming) { /* the part stays for a later fetch to continue */
        if (x->tmp)
            fclose(x->tmp);
        x->tmp = NULL;
        free(x->tmp_path);
        x->tmp_path = NULL;
    }
    discard_tmp(x);
    strbuf_free(&x->mem);
    hb_hasher_free(x->sha);
    hb_hasher_free(x->md5);
    hb_cache_entry_free(&x->cached);
    memset(x, 0, sizeof *x);
}

static const char *status_reason(long status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 410: return "Gone";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return NULL;
    }
}

static int status_is_transient(long status)
{
    return status >= 500 || status == 408 || status == 429;
}

/* Sets up x for f; 0, or -1 with f->err. */
static int xfer_setup(xfer *x, fetch_run *run, size_t index, hb_fetch *f)
{
    x->run = run;
    x->index = index;
    x->f = f;
    x->last_progress = -1;
    x->sha = hb_hasher_new(HB_HASH_SHA256);
    if (f->md5)
        x->md5 = hb_hasher_new(HB_HASH_MD5);
    const hb_fetch_options *opt = run->opt;
    bool resume = f->resume && f->dest;
    const hb_fetch_cache *cache = x->cache = f->range || resume ? NULL : run->cache;
    if (f->range && f->dest)
        return hb_error_set(&f->err, HB_EINVAL,
                            "fetching '%s': a ranged fetch goes to memory, not to a destination file",
                            f->url);
    if (!cache && !f->dest && !f->to_memory && !f->range)
        return hb_error_set(&f->err, HB_EINVAL,
                            "fetching '%s': nowhere to put the body (no cache, no destination)",
                            f->url);
    if (cache) {
        int found = hb_fetch_cache_lookup(cache, f->url, &x->cached, &f->err);
        if (found < 0)
            return hb_error_prefix(&f->err, "fetching '%s'", f->url);
        x->have_cached = found;
        int fd;
        x->tmp_path = hb_fetch_cache_temp(cache, f->url, &fd, &f->err);
        if (!x->tmp_path)
            return hb_error_prefix(&f->err, "fetching '%s'", f->url);
        fchmod(fd, 0644);
        x->tmp = fdopen(fd, "w+b");
        if (!x->tmp) {
            close(fd);
            return hb_error_set(&f->err, HB_EIO, "fetching '%s': cannot open '%s': %s", f->url,
                                x->tmp_path, strerror(errno));
        }
    } else if (resume) {
        if (open_part(x) != 0)
            return -1;
    } else if (f->dest) {
        x->tmp = temp_next_to(f->dest, &x->tmp_path, &f->err);
        if (!x->tmp)
            return hb_error_prefix(&f->err, "fetching '%s'", f->url);
    }

    CURL *e = x->easy = curl_easy_init();
    if (!e)
        return hb_error_set(&f->err, HB_ESYS, "fetching '%s': cannot create a curl handle", f->url);
    if (x->have_cached) {
        strbuf h = STRBUF_INIT;
        if (x->cached.etag) {
            strbuf_printf(&h, "If-None-Match: %s", x->cached.etag);
            x->headers = curl_slist_append(x->headers, h.buf);
            strbuf_truncate(&h, 0);
        }
        if (x->cached.last_modified) {
            strbuf_printf(&h, "If-Modified-Since: %s", x->cached.last_modified);
            x->headers = curl_slist_append(x->headers, h.buf);
        }
        strbuf_free(&h);
    }
    if (f->accept) {
        strbuf h = STRBUF_INIT;
        strbuf_printf(&h, "Accept: %s", f->accept);
        x->headers = curl_slist_append(x->headers, h.buf);
        strbuf_free(&h);
    }
    char ua[64];
    snprintf(ua, sizeof ua, "hpcbuild/%s", HPCBUILD_VERSION);
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, f->url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, opt->user_agent ? opt->user_agent : ua) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_XFERINFODATA, x) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, x) != CURLE_OK;
    if (opt->connect_timeout_ms > 0)
        bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, opt->connect_timeout_ms) != CURLE_OK;
    if (opt->timeout_ms > 0)
        bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, opt->timeout_ms) != CURLE_OK;
    if (opt->stall_timeout_ms > 0) {
        bad |= curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                                (opt->stall_timeout_ms + 999) / 1000) != CURLE_OK;
    }
    if (x->headers)
        bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers) != CURLE_OK;
    if (f->range)
        bad |= curl_easy_setopt(e, CURLOPT_RANGE, f->range) != CURLE_OK;
    if (bad)
        return hb_error_set(&f->err, HB_ESYS, "fetching '%s': libcurl rejected an option", f->url);
    return 0;
}

/* The header's value from the last response, or NULL. */
static const char *last_header(CURL *e, const char *name)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(e, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h || !h->value)
        return NULL;
    return h->value;
}

/* Puts the body (now at body_path with known digests) where f wants it. */
static int deliver(xfer *x, const char *body_path)
{
    hb_fetch *f = x->f;
    if (f->dest) {
        long long size;
        if (read_file_through(body_path, f->dest, f->to_memory ? &f->body : NULL, NULL, NULL,
                              NULL, NULL, NULL, &size, &f->err) != 0)
            return hb_error_prefix(&f->err, "fetching '%s'", f->url);
        f->path = hb_strdup(f->dest);
    } else {
        if (f->to_memory) {
            long long size;
            if (read_file_through(body_path, NULL, &f->body, NULL, NULL, NULL, NULL, NULL, &size,
                                  &f->err) != 0)
                return hb_error_prefix(&f->err, "fetching '%s'", f->url);
        }
        f->path = hb_strdup(body_path);
    }
    return 0;
}

/* A 304: the cached body is current, if it is still the body that was stored: its
 * sha256 is checked against the meta.  A changed body (disk corruption, a hand edit) is
 * removed and 1 is returned: the attempt is retried without conditional headers. */
static int finish_not_modified(xfer *x)
{
    hb_fetch *f = x->f;
    char got_sha[HB_HASH_HEX_MAX] = "";
    if (hb_hash_file_hex(HB_HASH_SHA256, x->cached.body_path, got_sha, &f->err) != 0)
        return hb_error_prefix(&f->err, "fetching '%s': cached copy", f->url);
    if (!hb_hash_hex_equal(x->cached.sha256, got_sha)) {
        hb_error_set(&f->err, HB_EIO,
                     "fetching '%s': cached copy '%s' is corrupt: sha256 %s, expected %s "
                     "(removed; downloading it again)",
                     f->url, x->cached.body_path, got_sha, x->cached.sha256);
        hb_fetch_cache_remove(x->cache, f->url, NULL);
        x->have_cached = 0;
        curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(x->headers);
        x->headers = NULL;
        return 1;
    }
    discard_tmp(x);
    f->not_modified = 1;
    char got_md5[HB_HASH_HEX_MAX] = "";
    if (f->md5 && hb_hash_file_hex(HB_HASH_MD5, x->cached.body_path, got_md5, &f->err) != 0)
        return hb_error_prefix(&f->err, "fetching '%s'", f->url);
    if (verify_body(f, x->cached.size, x->cached.sha256, got_md5, &f->err) != 0) {
        hb_fetch_cache_remove(x->cache, f->url, NULL); /* the bad copy is not kept */
        return hb_error_prefix(&f->err, "cached copy");
    }
    f->size = x->cached.size;
    f->total_size = f->size;
    free(f->content_type);   /* a 304 carries none: the stored response's type holds */
    f->content_type = x->cached.content_type ? hb_strdup(x->cached.content_type) : NULL;
    memcpy(f->sha256_hex, x->cached.sha256, sizeof f->sha256_hex);
    return deliver(x, x->cached.body_path);
}

/* A 2xx with the whole body received: 0, -1 (f->err), or 2 when a continued
 * body failed its check and the one restart from zero is left. */
static int finish_ok(xfer *x)
{
    hb_fetch *f = x->f;
    long long size = x->prefix + x->received;
    char got_sha[HB_HASH_HEX_MAX], got_md5[HB_HASH_HEX_MAX] = "";
    hb_hasher_final_hex(x->sha, got_sha);
    if (x->md5)
        hb_hasher_final_hex(x->md5, got_md5);
    if (!f->partial && verify_body(f, size, got_sha, got_md5, &f->err) != 0) {
        if (x->resumed_any && !x->restarted)
            return 2;
        discard_tmp(x); /* the bad download is not kept */
        strbuf_free(&x->mem);
        return -1;
    }
    f->size = size;
    f->resumed = x->resumed_any;
    memcpy(f->sha256_hex, got_sha, sizeof got_sha);
    if (x->cache) {
        hb_cache_entry meta = {0};
        const char *etag = last_header(x->easy, "ETag");
        const char *lm = last_header(x->easy, "Last-Modified");
        meta.etag = etag ? hb_strdup(etag) : NULL;
        meta.last_modified = lm ? hb_strdup(lm) : NULL;
        meta.content_type = f->content_type ? hb_strdup(f->content_type) : NULL;
        meta.size = size;
        memcpy(meta.sha256, got_sha, sizeof got_sha);
        int bad = ferror(x->tmp);
        int rc = fclose(x->tmp);
        x->tmp = NULL;
        if (rc != 0 || bad) {
            hb_cache_entry_free(&meta);
            hb_error_set(&f->err, HB_EIO, "fetching '%s': cannot write '%s': %s", f->url,
                         x->tmp_path, strerror(errno ? errno : EIO));
            discard_tmp(x);
            return -1;
        }
        rc = hb_fetch_cache_commit(x->cache, f->url, x->tmp_path, &meta, &f->err);
        hb_cache_entry_free(&meta);
        free(x->tmp_path);
        x->tmp_path = NULL;
        if (rc != 0)
            return hb_error_prefix(&f->err, "fetching '%s'", f->url);
        char *body_path = hb_fetch_cache_body_path(x->cache, f->url);
        rc = deliver(x, body_path);
        free(body_path);
        return rc;
    }
    if (f->dest) {
        FILE *t = x->tmp;
        x->tmp = NULL;
        int rc = finish_temp(t, x->tmp_path, f->dest, &f->err);
        free(x->tmp_path);
        x->tmp_path = NULL;
        if (rc != 0)
            return hb_error_prefix(&f->err, "fetching '%s'", f->url);
        f->path = hb_strdup(f->dest);
        if (f->to_memory) {
            long long read_size;
            if (read_file_through(f->dest, NULL, &f->body, NULL, NULL, NULL, NULL, NULL,
                                  &read_size, &f->err) != 0)
                return hb_error_prefix(&f->err, "fetching '%s'", f->url);
        }
        return 0;
    }
    f->body = x->mem; /* memory only */
    memset(&x->mem, 0, sizeof x->mem);
    return 0;
}

/* Parses a Content-Range value "bytes FIRST-LAST/TOTAL" (TOTAL may be '*'):
 * 0 with *first, *last and *total (-1 for '*'), or -1. */
static int parse_content_range(const char *v, long long *first, long long *last, long long *total)
{
    char *end;
    while (*v == ' ')
        v++;
    if (strncasecmp(v, "bytes ", 6) != 0)
        return -1;
    v += 6;
    if (*v < '0' || *v > '9')
        return -1;
    *first = strtoll(v, &end, 10);
    if (*end != '-' || end[1] < '0' || end[1] > '9')
        return -1;
    *last = strtoll(end + 1, &end, 10);
    if (*end != '/' || *last < *first)
        return -1;
    if (strcmp(end + 1, "*") == 0) {
        *total = -1;
        return 0;
    }
    if (end[1] < '0' || end[1] > '9')
        return -1;
    *total = strtoll(end + 1, &end, 10);
    return *end == '\0' && *total > *last ? 0 : -1;
}

/* Fills f's response outputs (content_type, partial, range_start, total_size)
 * from a 2xx; a 206 without a usable Content-Range is an error. */
static int record_range(xfer *x, long status)
{
    hb_fetch *f = x->f;
    const char *ct = last_header(x->easy, "Content-Type");
    free(f->content_type);
    f->content_type = ct ? hb_strdup(ct) : NULL;
    f->partial = status == 206 && !x->resuming;
    f->range_start = 0;
    f->total_size = x->prefix + x->received; /* resume mode: begin_body checked the 206 */
    if (!f->partial)
        return 0;
    const char *cr = last_header(x->easy, "Content-Range");
    long long first, last, total;
    if (!cr || parse_content_range(cr, &first, &last, &total) != 0 ||
        last - first + 1 != x->received)
        return hb_error_set(&f->err, HB_EIO,
                            "fetching '%s' (range %s): HTTP 206 with Content-Range '%s': "
                            "expected 'bytes FIRST-LAST/TOTAL' matching the %lld bytes received",
                            f->url, f->range ? f->range : "none", cr ? cr : "(none)", x->received);
    f->range_start = first;
    f->total_size = total;
    return 0;
}

/* Outcome of one attempt: 0 done (ok), 1 transient failure (f->err says
 * what), 2 start once more from zero (resume mode), -1 permanent failure. */
static int attempt_outcome(xfer *x, CURLcode rc)
{
    hb_fetch *f = x->f;
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    f->status = status;
    const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
    if (x->restart)
        return x->restarted ? -1 : 2;
    if (x->write_failed) {
        f->err = x->write_err;
        return -1;
    }
    switch (rc) {
    case CURLE_OK:
        break;
    case CURLE_HTTP_RETURNED_ERROR: {
        const char *reason = status_reason(status);
        if (reason)
            hb_error_set(&f->err, HB_EIO, "fetching '%s': HTTP %ld (%s)", f->url, status, reason);
        else
            hb_error_set(&f->err, HB_EIO, "fetching '%s': HTTP %ld", f->url, status);
        if (status == 416 && x->resuming && x->prefix > 0 && !x->restarted)
            return 2; /* the part is not a prefix of this file */
        return status_is_transient(status) ? 1 : -1;
    }
    case CURLE_COULDNT_CONNECT: {
        long os_errno = 0;
        curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os_errno);
        if (os_errno > 0)
            hb_error_set(&f->err, HB_EIO, "fetching '%s': connection failed: %s (%s)", f->url,
                         strerror((int)os_errno), detail);
        else
            hb_error_set(&f->err, HB_EIO, "fetching '%s': connection failed: %s", f->url, detail);
        return 1;
    }
    case CURLE_OPERATION_TIMEDOUT:
        hb_error_set(&f->err, HB_EIO, "fetching '%s': timed out: %s", f->url, detail);
        return 1;
    case CURLE_PARTIAL_FILE: {
        curl_off_t cl = -1;
        curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        if (cl >= 0)
            hb_error_set(&f->err, HB_EIO,
                         "fetching '%s': truncated body: received %lld of %lld bytes (Content-Length)",
                         f->url, x->received, (long long)cl);
        else
            hb_error_set(&f->err, HB_EIO, "fetching '%s': truncated body: %s", f->url, detail);
        return 1;
    }
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_COULDNT_RESOLVE_PROXY:
        hb_error_set(&f->err, HB_EIO, "fetching '%s': %s", f->url, detail);
        return 1;
    default:
        hb_error_set(&f->err, HB_EIO, "fetching '%s': %s", f->url, detail);
        return -1;
    }
    if (status == 304) {
        if (!x->have_cached) {
            hb_error_set(&f->err, HB_EIO,
                         "fetching '%s': HTTP 304 (Not Modified) to an unconditional request",
                         f->url);
            return -1;
        }
        int r = finish_not_modified(x);
        return r == 0 ? 0 : r == 1 ? 1 : -1;
    }
    if (status < 200 || status > 299) {
        hb_error_set(&f->err, HB_EIO, "fetching '%s': unexpected HTTP %ld", f->url, status);
        return -1;
    }
    if (!x->body_started && begin_body(x) != 0)
        return x->restart && !x->restarted ? 2 : -1;
    if (record_range(x, status) != 0)
        return -1;
    curl_off_t cl = -1;
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    if (cl >= 0 && (long long)cl != x->received) {
        hb_error_set(&f->err, HB_EIO,
                     "fetching '%s': truncated body: received %lld of %lld bytes (Content-Length)",
                     f->url, x->received, (long long)cl);
        return 1;
    }
    int done = finish_ok(x);
    return done == 0 || done == 2 ? done : -1;
}

static long retry_delay_ms(const hb_fetch_options *opt, int attempts, CURL *e)
{
    long delay = opt->retry_delay_ms;
    for (int i = 1; i < attempts && delay < opt->max_retry_delay_ms; i++)
        delay *= 2;
    curl_off_t after = 0;
    if (curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0 &&
        after < 86400 && (long)after * 1000 > delay)
        delay = (long)after * 1000;
    if (delay > opt->max_retry_delay_ms)
        delay = opt->max_retry_delay_ms;
    return delay < 0 ? 0 : delay;
}

static int xfer_start(xfer *x)
{
    x->f->attempts++;
    x->waiting = 0;
    x->errbuf[0] = '\0';
    x->body_started = 0;
    if (x->resuming) {
        char range[32];
        snprintf(range, sizeof range, "%lld-", x->prefix);
        if (curl_easy_setopt(x->easy, CURLOPT_RANGE, x->prefix > 0 ? range : NULL) != CURLE_OK)
            return hb_error_set(&x->f->err, HB_ESYS, "fetching '%s': libcurl rejected an option",
                                x->f->url);
    }
    CURLMcode mc = curl_multi_add_handle(x->run->multi, x->easy);
    if (mc != CURLM_OK)
        return hb_error_set(&x->f->err, HB_ESYS, "fetching '%s': %s", x->f->url,
                            curl_multi_strerror(mc));
    x->active = 1;
    emit(x, HB_FETCH_START, 0, -1);
    return 0;
}

int hb_fetch_one(hb_fetch *f, const hb_fetch_options *opt, const hb_fetch_cache *cache,
                 hb_error *err)
{
    if (hb_fetch_many(f, 1, opt, cache, NULL, NULL, NULL) != 0) {
        if (err)
            *err = f->err;
        return -1;
    }
    return 0;
}

int hb_fetch_many(hb_fetch *fetches, size_t n, const hb_fetch_options *opt_in,
                  const hb_fetch_cache *cache, hb_fetch_progress_fn progress, void *user,
                  hb_error *err)
{
    hb_fetch_options defaults;
    hb_fetch_options_init(&defaults);
    const hb_fetch_options *opt = opt_in ? opt_in : &defaults;
    size_t max_parallel = opt->max_parallel > 0 ? (size_t)opt->max_parallel : 1;
    fetch_run run = {opt, cache, progress, user, NULL};
    xfer *xs = hb_calloc(n ? n : 1, sizeof *xs);
    size_t *remote = hb_calloc(n ? n : 1, sizeof *remote);
    size_t nremote = 0, failed = 0;
    hb_fetch *first_failed = NULL;

    for (size_t i = 0; i < n; i++) {
        hb_fetch *f = &fetches[i];
        f->ok = 0;
        f->status = 0;
        f->not_modified = 0;
        f->attempts = 0;
        f->path = NULL;
        f->content_type = NULL;
        f->partial = false;
        f->resumed = false;
        f->range_start = 0;
        f->total_size = -1;
        memset(&f->body, 0, sizeof f->body);
        f->size = 0;
        f->sha256_hex[0] = '\0';
        hb_error_clear(&f->err);
        char *local = NULL;
        int kind = check_expected(f, &f->err) == 0
                       ? hb_fetch_classify_url(f->url, &local, &f->err)
                       : -1;
        if (kind == 0) {
            remote[nremote++] = i;
            continue;
        }
        xs[i].run = &run;
        xs[i].index = i;
        xs[i].f = f;
        if (kind == 1) {
            f->attempts = 1;
            emit(&xs[i], HB_FETCH_START, 0, -1);
            fetch_local(f, local);
            free(local);
        }
        if (f->ok) {
            emit(&xs[i], HB_FETCH_DONE, f->size, f->size);
        } else {
            failed++;
            if (!first_failed)
                first_failed = f;
            emit(&xs[i], HB_FETCH_FAILED, 0, -1);
        }
    }

    if (nremote) {
        run.multi = curl_multi_init();
        if (!run.multi) {
            for (size_t k = 0; k < nremote; k++)
                hb_error_set(&fetches[remote[k]].err, HB_ESYS, "fetching '%s': cannot create a curl multi handle",
                             fetches[remote[k]].url);
        }
        size_t next = 0, running = 0, finished = 0;
        while (run.multi && finished < nremote) {
            /* start due retries, then new transfers */
            double now = now_s();
            for (size_t k = 0; k < nremote; k++) {
                xfer *x = &xs[remote[k]];
                if (!x->waiting || x->wake_at > now || xfer_start(x) == 0)
                    continue;
                running--, finished++, failed++;
                if (!first_failed)
                    first_failed = x->f;
                emit(x, HB_FETCH_FAILED, 0, -1);
                xfer_free(x);
            }
            while (running < max_parallel && next < nremote) {
                size_t i = remote[next++];
                xfer *x = &xs[i];
                running++;
                if (xfer_setup(x, &run, i, &fetches[i]) == 0 && xfer_start(x) == 0)
                    continue;
                running--, finished++, failed++;
                if (!first_failed)
                    first_failed = x->f;
                emit(x, HB_FETCH_FAILED, 0, -1);
                xfer_free(x);
            }
            int still = 0;
            curl_multi_perform(run.multi, &still);
            CURLMsg *msg;
            int left;
            while ((msg = curl_multi_info_read(run.multi, &left))) {
                if (msg->msg != CURLMSG_DONE)
                    continue;
                char *priv = NULL;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
                xfer *x = (xfer *)(void *)priv;
                CURLcode rc = msg->data.result;
                curl_multi_remove_handle(run.multi, x->easy);
                x->active = 0;
                int outcome = attempt_outcome(x, rc);
                if (outcome == 2) { /* resume mode: once more from zero, now */
                    x->restart = 0;
                    x->restarted = 1;
                    if (reset_body(x, &x->f->err) == 0) {
                        emit(x, HB_FETCH_RETRY, 0, -1);
                        x->waiting = 1;
                        x->wake_at = now_s();
                        continue;
                    }
                    outcome = -1;
                }
                if (outcome == 1 && x->f->attempts <= opt->max_retries) {
                    long delay = retry_delay_ms(opt, x->f->attempts, x->easy);
                    if ((x->resuming ? keep_body(x, &x->f->err) : reset_body(x, &x->f->err)) == 0) {
                        emit(x, HB_FETCH_RETRY, 0, -1);
                        x->waiting = 1;
                        x->wake_at = now_s() + (double)delay / 1000.0;
                        continue;
                    }
                    outcome = -1;
                }
                running--, finished++;
                if (outcome == 0) {
                    x->f->ok = 1;
                    hb_error_clear(&x->f->err);
                    emit(x, HB_FETCH_DONE, x->f->size, x->f->size);
                } else {
                    if (outcome == 1 && x->f->attempts > 1) {
                        size_t len = strlen(x->f->err.msg);
                        snprintf(x->f->err.msg + len, sizeof x->f->err.msg - len,
                                 " (after %d attempts)", x->f->attempts);
                    }
                    free(x->f->path);
                    x->f->path = NULL;
                    free(x->f->content_type);
                    x->f->content_type = NULL;
                    strbuf_free(&x->f->body);
                    failed++;
                    if (!first_failed)
                        first_failed = x->f;
                    emit(x, HB_FETCH_FAILED, 0, -1);
                }
                xfer_free(x); /* temp files and handles go as soon as each ends */
            }
            if (finished >= nremote)
                break;
            /* sleep until there is socket activity or a retry is due */
            long wait_ms = 200;
            now = now_s();
            for (size_t k = 0; k < nremote; k++) {
                xfer *x = &xs[remote[k]];
                if (x->waiting) {
                    long ms = (long)((x->wake_at - now) * 1000.0) + 1;
                    if (ms < wait_ms)
                        wait_ms = ms < 0 ? 0 : ms;
                }
            }
            if (wait_ms > 0)
                curl_multi_poll(run.multi, NULL, 0, (int)wait_ms, NULL);
        }
        if (!run.multi) {
            failed += nremote;
            if (!first_failed)
                first_failed = &fetches[remote[0]];
        }
        for (size_t k = 0; k < nremote; k++)
            xfer_free(&xs[remote[k]]);
        if (run.multi)
            curl_multi_cleanup(run.multi);
    }
    free(remote);
    free(xs);
    if (failed) {
        if (n == 1)
            return hb_error_set(err, first_failed->err.code, "%s", first_failed->err.msg);
        return hb_error_set(err, first_failed->err.code, "%zu of %zu downloads failed; first: %s",
                            failed, n, first_failed->err.msg);
    }
    return 0;
}
