/* fs.c — small file-system helpers (fs.h). */
#include "hpcbuild/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/strbuf.h"

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

int hb_write_file_atomic(const char *path, const void *data, size_t len, hb_error *err)
{
    strbuf tmp = STRBUF_INIT;
    strbuf_printf(&tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp.buf);
    if (fd < 0) {
        int rc = hb_error_set(err, HB_EIO, "cannot create a temporary file for '%s': %s", path, strerror(errno));
        strbuf_free(&tmp);
        return rc;
    }
    fchmod(fd, 0644);
    size_t done = 0;
    int werr = 0;
    while (done < len) {
        ssize_t w = write(fd, (const char *)data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            werr = w < 0 ? errno : EIO;
            break;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0 && !werr)
        werr = errno ? errno : EIO;
    if (!werr && rename(tmp.buf, path) != 0)
        werr = errno ? errno : EIO;
    int rc = 0;
    if (werr) {
        unlink(tmp.buf);
        rc = hb_error_set(err, HB_EIO, "cannot write '%s': %s", path, strerror(werr));
    }
    strbuf_free(&tmp);
    return rc;
}

char *hb_path_join(const char *a, const char *b)
{
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/%s", a, b);
    return strbuf_detach(&sb);
}

char *hb_path_absolute(const char *path)
{
    if (path[0] == '/')
        return hb_strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return hb_strdup(path);
    return hb_path_join(cwd, path);
}
