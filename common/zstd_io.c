/* zstd_io.c — see zstd_io.h. */
#include "hpcbuild/zstd_io.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "hpcbuild/alloc.h"

bool hb_zstd_is_frame(const void *data, size_t len)
{
    static const unsigned char magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
    return len >= 4 && memcmp(data, magic, 4) == 0;
}

int hb_zstd_decompress(const void *data, size_t len, size_t max_out, const char *name, strbuf *out,
                       hb_error *err)
{
    if (!name)
        name = "<zstd>";
    if (max_out == 0)
        max_out = (size_t)4 << 30;
    if (len == 0)
        return hb_error_set(err, HB_EINVAL, "%s: truncated zstd data: the input is empty", name);
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (!ds)
        return hb_error_set(err, HB_ENOMEM, "%s: cannot create a zstd decompression context", name);
    size_t start = out->len;
    unsigned long long content = ZSTD_getFrameContentSize(data, len);
    /* one allocation for the declared size, but never trust a header much
     * beyond what the input could plausibly expand to (a 9-byte input may claim 2 GB) */
    if (content != ZSTD_CONTENTSIZE_UNKNOWN && content != ZSTD_CONTENTSIZE_ERROR && content <= max_out &&
        content / 256 <= len + ((size_t)1 << 12))
        strbuf_reserve(out, (size_t)content + ZSTD_DStreamOutSize());
    ZSTD_inBuffer in = {data, len, 0};
    size_t chunk = ZSTD_DStreamOutSize();
    size_t hint = 1;   /* last ZSTD_decompressStream result: 0 when a frame just ended */
    int rc = 0;
    while (in.pos < in.size || hint != 0) {
        if (out->len - start >= max_out) {
            rc = hb_error_set(err, HB_EINVAL, "%s: zstd data decompresses to more than %zu bytes",
                              name, max_out);
            break;
        }
        strbuf_reserve(out, chunk);
        ZSTD_outBuffer ob = {out->buf + out->len, chunk, 0};
        size_t before_in = in.pos;
        hint = ZSTD_decompressStream(ds, &ob, &in);
        if (ZSTD_isError(hint)) {
            rc = hb_error_set(err, HB_EINVAL, "%s: corrupt zstd data: %s", name,
                              ZSTD_getErrorName(hint));
            break;
        }
        out->len += ob.pos;
        out->buf[out->len] = '\0';
        if (in.pos == in.size && hint != 0 && ob.pos < chunk && before_in == in.pos) {
            rc = hb_error_set(err, HB_EINVAL, "%s: truncated zstd data", name);
            break;
        }
    }
    if (rc == 0 && out->len - start > max_out)
        rc = hb_error_set(err, HB_EINVAL, "%s: zstd data decompresses to more than %zu bytes", name,
                          max_out);
    ZSTD_freeDStream(ds);
    if (rc < 0)
        strbuf_truncate(out, start);
    return rc;
}

/* ---- streaming reader ------------------------------------------------------ */

struct hb_reader {
    char *name;
    int fd;                      /* -1: memory */
    const unsigned char *mem;
    size_t mem_len;
    bool zstd;
    ZSTD_DStream *ds;
    unsigned char *zbuf;         /* files: input read ahead (compressed, or the plain head) */
    size_t zcap;
    ZSTD_inBuffer in;            /* pending input: compressed bytes, or plain bytes to hand out */
    bool in_eof;                 /* no input beyond `in` */
    size_t hint;                 /* last ZSTD_decompressStream result: 0 when a frame just ended */
    long long size_hint;
    long long in_total;          /* size of the input (file size), -1 when unknown */
};

/* Refills r->in from the file (files only).  -1 on a read error. */
static int reader_fill(hb_reader *r, hb_error *err)
{
    for (;;) {
        ssize_t n = read(r->fd, r->zbuf, r->zcap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return hb_error_set(err, HB_EIO, "cannot read '%s': %s", r->name, strerror(errno));
        r->in = (ZSTD_inBuffer){r->zbuf, (size_t)n, 0};
        r->in_eof = n == 0;
        return 0;
    }
}

/* Reads the head of the input and decides plain or zstd. */
static int reader_start(hb_reader *r, hb_error *err)
{
    r->hint = 1;
    r->zstd = false;
    if (r->fd < 0) {
        r->in = (ZSTD_inBuffer){r->mem, r->mem_len, 0};
        r->in_eof = true;
    } else {
        size_t got = 0;
        /* the magic needs 4 bytes; short reads happen on pipes */
        while (got < 4) {
            ssize_t n = read(r->fd, r->zbuf + got, r->zcap - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return hb_error_set(err, HB_EIO, "cannot read '%s': %s", r->name, strerror(errno));
            if (n == 0)
                break;
            got += (size_t)n;
        }
        r->in = (ZSTD_inBuffer){r->zbuf, got, 0};
        r->in_eof = got < 4;
    }
    if (hb_zstd_is_frame(r->in.src, r->in.size)) {
        r->zstd = true;
        if (!r->ds && !(r->ds = ZSTD_createDStream()))
            return hb_error_set(err, HB_ENOMEM, "%s: cannot create a zstd decompression context",
                                r->name);
        ZSTD_DCtx_reset(r->ds, ZSTD_reset_session_only);
        unsigned long long c = ZSTD_getFrameContentSize(r->in.src, r->in.size);
        /* a header may claim anything: trust it only within what the input could expand to */
        if (c != ZSTD_CONTENTSIZE_UNKNOWN && c != ZSTD_CONTENTSIZE_ERROR && r->in_total >= 0 &&
            c / 256 <= (unsigned long long)r->in_total + 4096)
            r->size_hint = (long long)c;
        else
            r->size_hint = -1;
    }
    return 0;
}

static hb_reader *reader_new(const char *name)
{
    hb_reader *r = hb_calloc(1, sizeof *r);
    r->name = hb_strdup(name ? name : "<input>");
    r->fd = -1;
    r->size_hint = -1;
    r->in_total = -1;
    return r;
}

hb_reader *hb_reader_open_file(const char *path, hb_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        hb_error_set(err, HB_EIO, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    hb_reader *r = reader_new(path);
    r->fd = fd;
    r->zcap = ZSTD_DStreamInSize();
    if (r->zcap < 65536)
        r->zcap = 65536;
    r->zbuf = hb_malloc(r->zcap);
    struct stat st;
    long long plain_size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
    r->in_total = plain_size;
    if (reader_start(r, err) < 0) {
        hb_reader_close(r);
        return NULL;
    }
    if (!r->zstd)
        r->size_hint = plain_size;
    return r;
}

hb_reader *hb_reader_open_mem(const void *data, size_t len, const char *name)
{
    hb_reader *r = reader_new(name);
    r->mem = data ? data : (const void *)"";
    r->mem_len = data ? len : 0;
    r->size_hint = (long long)r->mem_len;
    r->in_total = (long long)r->mem_len;
    (void)reader_start(r, NULL);   /* cannot fail for memory but for ENOMEM, which aborts */
    return r;
}

bool hb_reader_is_zstd(const hb_reader *r)
{
    return r->zstd;
}

long long hb_reader_size_hint(const hb_reader *r)
{
    return r->size_hint;
}

int hb_reader_rewind(hb_reader *r, hb_error *err)
{
    if (r->fd >= 0 && lseek(r->fd, 0, SEEK_SET) != 0)
        return hb_error_set(err, HB_EIO, "cannot read '%s' again: %s", r->name, strerror(errno));
    return reader_start(r, err);
}

long hb_reader_read(hb_reader *r, void *buf, size_t cap, hb_error *err)
{
    if (cap > (size_t)LONG_MAX)
        cap = (size_t)LONG_MAX;
    if (cap == 0)
        return 0;
    if (!r->zstd) {
        if (r->in.pos < r->in.size) {   /* memory, or the head read for the magic */
            size_t n = r->in.size - r->in.pos;
            if (n > cap)
                n = cap;
            memcpy(buf, (const char *)r->in.src + r->in.pos, n);
            r->in.pos += n;
            return (long)n;
        }
        if (r->fd < 0 || r->in_eof)
            return 0;
        for (;;) {
            ssize_t n = read(r->fd, buf, cap);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return hb_error_set(err, HB_EIO, "cannot read '%s': %s", r->name, strerror(errno));
            if (n == 0)
                r->in_eof = true;
            return (long)n;
        }
    }
    for (;;) {
        if (r->in.pos == r->in.size && !r->in_eof && reader_fill(r, err) < 0)
            return -1;
        if (r->in.pos == r->in.size && r->in_eof && r->hint == 0)
            return 0;   /* the last frame ended with the input */
        size_t before = r->in.pos;
        ZSTD_outBuffer ob = {buf, cap, 0};
        r->hint = ZSTD_decompressStream(r->ds, &ob, &r->in);
        if (ZSTD_isError(r->hint)) {
            hb_error_set(err, HB_EINVAL, "%s: corrupt zstd data: %s", r->name, ZSTD_getErrorName(r->hint));
            r->hint = 1;
            return -1;
        }
        if (ob.pos)
            return (long)ob.pos;
        if (r->in.pos == r->in.size && r->in_eof && r->hint != 0 && before == r->in.pos)
            return hb_error_set(err, HB_EINVAL, "%s: truncated zstd data", r->name);
    }
}

void hb_reader_close(hb_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    ZSTD_freeDStream(r->ds);
    free(r->zbuf);
    free(r->name);
    free(r);
}
