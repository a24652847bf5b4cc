/* zstd_io.c — see zstd_io.h. */
#include "hpcbuild/zstd_io.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

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

int hb_read_file(const char *path, strbuf *out, hb_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hb_error_set(err, HB_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        strbuf_reserve(out, (size_t)st.st_size + 1);   /* then reads need no more room */
    size_t start = out->len;
    for (;;) {
        if (out->cap - out->len < 4096)
            strbuf_reserve(out, 65536);
        ssize_t n = read(fd, out->buf + out->len, out->cap - out->len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            strbuf_truncate(out, start);
            return hb_error_set(err, HB_EIO, "cannot read '%s': %s", path, strerror(e));
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
        out->buf[out->len] = '\0';
    }
    close(fd);
    return 0;
}
