/* zip_read.c — central directory parsing and member extraction (see zip_read.h). */
#include "hpcbuild/zip_read.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "hpcbuild/alloc.h"

enum {
    EOCD_SIZE = 22,
    EOCD_MAX_COMMENT = 0xFFFF,
    ZIP64_LOCATOR_SIZE = 20,
    ZIP64_EOCD_SIZE = 56,
    CENTRAL_HEADER_SIZE = 46,
    LOCAL_HEADER_SIZE = 30,
};

#define SIG_EOCD 0x06054b50u
#define SIG_ZIP64_LOCATOR 0x07064b50u
#define SIG_ZIP64_EOCD 0x06064b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_LOCAL 0x04034b50u

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32);
}

void hb_zip_dir_free(hb_zip_dir *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->entries[i].name);
    free(d->entries);
    memset(d, 0, sizeof *d);
}

/* The tail as a window onto file offsets [base, base + len). */
typedef struct tail_view {
    const unsigned char *p;
    size_t len;
    uint64_t base;
    uint64_t file_size;
} tail_view;

/* 1 when [off, file end) is inside the tail; else 0 with *need set. */
static int tail_has(const tail_view *t, uint64_t off, uint64_t *need)
{
    if (off >= t->base)
        return 1;
    *need = t->file_size - off;
    return 0;
}

static const unsigned char *at(const tail_view *t, uint64_t off)
{
    return t->p + (off - t->base);
}

/* Reads the zip64 extra field (id 1) of a central header: the values that are
 * saturated in the fixed part, in the order size, comp_size, offset. */
static int read_zip64_extra(const unsigned char *x, size_t xlen, hb_zip_entry *e, int need_size,
                            int need_comp, int need_off)
{
    while (xlen >= 4) {
        uint16_t id = le16(x), sz = le16(x + 2);
        if ((size_t)sz + 4 > xlen)
            return -1;
        if (id == 1) {
            const unsigned char *v = x + 4;
            size_t left = sz;
            if (need_size) {
                if (left < 8)
                    return -1;
                e->size = le64(v), v += 8, left -= 8;
            }
            if (need_comp) {
                if (left < 8)
                    return -1;
                e->comp_size = le64(v), v += 8, left -= 8;
            }
            if (need_off) {
                if (left < 8)
                    return -1;
                e->local_offset = le64(v);
            }
            return 0;
        }
        x += 4 + sz;
        xlen -= 4 + (size_t)sz;
    }
    return need_size || need_comp || need_off ? -1 : 0;
}

/* Parses n central headers at [cd_start, cd_start + cd_size); concat is the
 * number of bytes prepended to the archive (added to local offsets). */
static int parse_entries(hb_zip_dir *d, const tail_view *t, uint64_t cd_start, uint64_t cd_size,
                         uint64_t n, uint64_t concat, const char *what, hb_error *err)
{
    const unsigned char *p = at(t, cd_start), *end = p + cd_size;
    d->entries = hb_calloc(n ? (size_t)n : 1, sizeof *d->entries);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t pos = cd_start + (uint64_t)(p - at(t, cd_start));
        if ((size_t)(end - p) < CENTRAL_HEADER_SIZE || le32(p) != SIG_CENTRAL)
            return hb_error_set(err, HB_EINVAL,
                                "%s: central directory entry %llu at offset %llu: expected a "
                                "central file header (PK\\1\\2)",
                                what, (unsigned long long)i, (unsigned long long)pos);
        size_t nlen = le16(p + 28), xlen = le16(p + 30), clen = le16(p + 32);
        if ((size_t)(end - p) - CENTRAL_HEADER_SIZE < nlen + xlen + clen)
            return hb_error_set(err, HB_EINVAL,
                                "%s: central directory entry %llu at offset %llu runs past the "
                                "end of the central directory",
                                what, (unsigned long long)i, (unsigned long long)pos);
        const unsigned char *name = p + CENTRAL_HEADER_SIZE;
        if (memchr(name, '\0', nlen))
            return hb_error_set(err, HB_EINVAL,
                                "%s: central directory entry %llu: a NUL byte in the file name",
                                what, (unsigned long long)i);
        hb_zip_entry *e = &d->entries[d->n];
        e->method = le16(p + 10);
        e->crc32 = le32(p + 16);
        e->comp_size = le32(p + 20);
        e->size = le32(p + 24);
        e->external_attr = le32(p + 38);
        e->local_offset = le32(p + 42);
        if (read_zip64_extra(name + nlen, xlen, e, e->size == UINT32_MAX,
                             e->comp_size == UINT32_MAX, e->local_offset == UINT32_MAX) != 0)
            return hb_error_set(err, HB_EINVAL,
                                "%s: entry '%.*s': malformed or missing zip64 extra field", what,
                                (int)nlen, (const char *)name);
        e->name = hb_strndup((const char *)name, nlen);
        d->n++;
        if (e->local_offset > cd_start - concat ||
            cd_start - concat - e->local_offset < LOCAL_HEADER_SIZE ||
            e->comp_size > cd_start - concat - e->local_offset - LOCAL_HEADER_SIZE)
            return hb_error_set(err, HB_EINVAL,
                                "%s: entry '%s': local header offset %llu and size %llu do not "
                                "fit before the central directory at %llu",
                                what, e->name, (unsigned long long)e->local_offset,
                                (unsigned long long)e->comp_size,
                                (unsigned long long)(cd_start - concat));
        e->local_offset += concat;
        p += CENTRAL_HEADER_SIZE + nlen + xlen + clen;
    }
    return 0;
}

/* Finds the end-of-central-directory record: its offset in the tail, or -1. */
static long find_eocd(const tail_view *t)
{
    if (t->len < EOCD_SIZE)
        return -1;
    size_t lowest = t->len > EOCD_SIZE + EOCD_MAX_COMMENT ? t->len - EOCD_SIZE - EOCD_MAX_COMMENT : 0;
    for (size_t i = t->len - EOCD_SIZE + 1; i-- > lowest;)
        if (le32(t->p + i) == SIG_EOCD)
            return (long)i;
    return -1;
}

int hb_zip_dir_parse_tail(hb_zip_dir *d, const unsigned char *tail, size_t len, uint64_t file_size,
                          uint64_t *need, const char *what, hb_error *err)
{
    memset(d, 0, sizeof *d);
    *need = 0;
    if (len > file_size)
        return hb_error_set(err, HB_EINVAL, "%s: %zu tail bytes of a %llu-byte file", what, len,
                            (unsigned long long)file_size);
    if (file_size < EOCD_SIZE)
        return hb_error_set(err, HB_EINVAL,
                            "%s: %llu bytes is too short for a zip archive (at least 22 expected)",
                            what, (unsigned long long)file_size);
    tail_view t = {tail, len, file_size - len, file_size};
    uint64_t window = file_size < EOCD_SIZE + EOCD_MAX_COMMENT ? file_size : EOCD_SIZE + EOCD_MAX_COMMENT;
    long i = find_eocd(&t);
    if (i < 0) {
        if (len < window) { /* the search window, and room for a zip64 locator */
            *need = window + ZIP64_LOCATOR_SIZE < file_size ? window + ZIP64_LOCATOR_SIZE : file_size;
            return 1;
        }
        return hb_error_set(err, HB_EINVAL,
                            "%s: no end of central directory record (PK\\5\\6) in the last %llu "
                            "bytes: not a zip archive",
                            what, (unsigned long long)window);
    }
    uint64_t eocd_pos = t.base + (uint64_t)i;
    const unsigned char *eocd = t.p + i;
    uint64_t n = le16(eocd + 10), cd_size = le32(eocd + 12), cd_offset = le32(eocd + 16);
    if (le16(eocd + 4) != 0 && le16(eocd + 4) != 0xFFFF)
        return hb_error_set(err, HB_EINVAL, "%s: a multi-disk (spanned) archive is not supported",
                            what);
    uint64_t record_pos = eocd_pos;
    if (eocd_pos >= ZIP64_LOCATOR_SIZE) {
        uint64_t loc_pos = eocd_pos - ZIP64_LOCATOR_SIZE;
        if (!tail_has(&t, loc_pos, need))
            return 1;
        const unsigned char *loc = at(&t, loc_pos);
        if (le32(loc) == SIG_ZIP64_LOCATOR) {
            uint64_t z = le64(loc + 8);
            if (z > loc_pos || loc_pos - z < ZIP64_EOCD_SIZE)
                return hb_error_set(err, HB_EINVAL,
                                    "%s: zip64 end record offset %llu does not fit before its "
                                    "locator at %llu",
                                    what, (unsigned long long)z, (unsigned long long)loc_pos);
            if (!tail_has(&t, z, need))
                return 1;
            const unsigned char *rec = at(&t, z);
            if (le32(rec) != SIG_ZIP64_EOCD)
                return hb_error_set(err, HB_EINVAL,
                                    "%s: expected a zip64 end of central directory record "
                                    "(PK\\6\\6) at offset %llu",
                                    what, (unsigned long long)z);
            n = le64(rec + 32);
            cd_size = le64(rec + 40);
            cd_offset = le64(rec + 48);
            record_pos = z;
        }
    }
    if (cd_size > record_pos || cd_offset > record_pos - cd_size)
        return hb_error_set(err, HB_EINVAL,
                            "%s: central directory at offset %llu of %llu bytes does not fit "
                            "before its end record at %llu",
                            what, (unsigned long long)cd_offset, (unsigned long long)cd_size,
                            (unsigned long long)record_pos);
    uint64_t cd_start = record_pos - cd_size;
    if (n > cd_size / CENTRAL_HEADER_SIZE)
        return hb_error_set(err, HB_EINVAL,
                            "%s: %llu entries cannot fit in a %llu-byte central directory", what,
                            (unsigned long long)n, (unsigned long long)cd_size);
    if (!tail_has(&t, cd_start, need))
        return 1;
    if (parse_entries(d, &t, cd_start, cd_size, n, cd_start - cd_offset, what, err) != 0) {
        hb_zip_dir_free(d);
        return -1;
    }
    d->cd_offset = cd_start;
    return 0;
}

void hb_zip_entry_span(const hb_zip_dir *d, const hb_zip_entry *e, uint64_t *start, uint64_t *end)
{
    uint64_t limit = d->cd_offset;
    for (size_t i = 0; i < d->n; i++)
        if (d->entries[i].local_offset > e->local_offset && d->entries[i].local_offset < limit)
            limit = d->entries[i].local_offset;
    uint64_t room = limit > e->local_offset ? limit - e->local_offset : 0;
    uint64_t want = (uint64_t)LOCAL_HEADER_SIZE + strlen(e->name) + 0xFFFF;
    want = e->comp_size > UINT64_MAX - want ? UINT64_MAX : want + e->comp_size;
    *start = e->local_offset;
    *end = e->local_offset + (want < room ? want : room);
}

/* Raw-inflates in[0..in_len) into out (appending exactly `size` bytes). */
static int inflate_member(const hb_zip_entry *e, const unsigned char *in, size_t in_len,
                          strbuf *out, const char *what, hb_error *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
        return hb_error_set(err, HB_ENOMEM, "%s: '%s': cannot initialize zlib", what, e->name);
    size_t size = (size_t)e->size;
    strbuf_reserve(out, size + 1);
    unsigned char *dst = (unsigned char *)out->buf + out->len;
    size_t produced = 0;
    int zr = Z_OK;
    while (zr == Z_OK) {
        if (z.avail_in == 0 && in_len) {
            z.next_in = (unsigned char *)in;
            z.avail_in = in_len > UINT_MAX ? UINT_MAX : (uInt)in_len;
            in += z.avail_in;
            in_len -= z.avail_in;
        }
        size_t room = size + 1 - produced;
        z.next_out = dst + produced;
        z.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        uInt before = z.avail_out;
        zr = inflate(&z, Z_NO_FLUSH);
        produced += before - z.avail_out;
        if (zr == Z_OK && z.avail_in == 0 && in_len == 0 && before == z.avail_out)
            zr = Z_BUF_ERROR;
        if (produced > size)
            break;
    }
    const char *zmsg = z.msg;
    inflateEnd(&z);
    if (produced > size)
        return hb_error_set(err, HB_EINVAL, "%s: '%s' inflates to more than its %llu bytes", what,
                            e->name, (unsigned long long)e->size);
    if (zr != Z_STREAM_END)
        return hb_error_set(err, HB_EINVAL, "%s: '%s': corrupt deflate data (%s)", what, e->name,
                            zmsg ? zmsg : "truncated stream");
    if (produced != size)
        return hb_error_set(err, HB_EINVAL, "%s: '%s' inflates to %zu bytes, expected %llu", what,
                            e->name, produced, (unsigned long long)e->size);
    out->len += size;
    out->buf[out->len] = '\0';
    return 0;
}

int hb_zip_entry_extract(const hb_zip_entry *e, const unsigned char *buf, size_t len,
                         uint64_t buf_offset, size_t max_size, strbuf *out, const char *what,
                         hb_error *err)
{
    if (e->local_offset < buf_offset || e->local_offset - buf_offset > len ||
        len - (e->local_offset - buf_offset) < LOCAL_HEADER_SIZE)
        return hb_error_set(err, HB_EINVAL,
                            "%s: '%s': its local header at offset %llu is outside the bytes read "
                            "(%llu..%llu)",
                            what, e->name, (unsigned long long)e->local_offset,
                            (unsigned long long)buf_offset, (unsigned long long)(buf_offset + len));
    const unsigned char *lh = buf + (e->local_offset - buf_offset);
    size_t avail = len - (size_t)(e->local_offset - buf_offset);
    if (le32(lh) != SIG_LOCAL)
        return hb_error_set(err, HB_EINVAL,
                            "%s: '%s': expected a local file header (PK\\3\\4) at offset %llu",
                            what, e->name, (unsigned long long)e->local_offset);
    if (le16(lh + 6) & 1)
        return hb_error_set(err, HB_EINVAL, "%s: '%s' is encrypted", what, e->name);
    size_t data_at = LOCAL_HEADER_SIZE + (size_t)le16(lh + 26) + le16(lh + 28);
    if (data_at > avail || e->comp_size > avail - data_at)
        return hb_error_set(err, HB_EINVAL,
                            "%s: '%s': its %llu bytes of data at offset %llu are outside the bytes "
                            "read (up to %llu)",
                            what, e->name, (unsigned long long)e->comp_size,
                            (unsigned long long)(e->local_offset + data_at),
                            (unsigned long long)(buf_offset + len));
    if (e->size > max_size)
        return hb_error_set(err, HB_EINVAL, "%s: '%s' is %llu bytes, more than the limit of %zu",
                            what, e->name, (unsigned long long)e->size, max_size);
    const unsigned char *data = lh + data_at;
    size_t start = out->len;
    if (e->method == 0) {
        if (e->comp_size != e->size)
            return hb_error_set(err, HB_EINVAL,
                                "%s: '%s' is stored but its sizes differ (%llu and %llu)", what,
                                e->name, (unsigned long long)e->comp_size,
                                (unsigned long long)e->size);
        strbuf_append(out, (const char *)data, (size_t)e->size);
    } else if (e->method == 8) {
        if (inflate_member(e, data, (size_t)e->comp_size, out, what, err) != 0)
            return -1;
    } else {
        return hb_error_set(err, HB_EINVAL,
                            "%s: '%s': compression method %u: expected 0 (stored) or 8 (deflate)",
                            what, e->name, e->method);
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    const unsigned char *got = (const unsigned char *)out->buf + start;
    for (size_t done = 0; done < (size_t)e->size;) {
        size_t chunk = (size_t)e->size - done > UINT_MAX ? UINT_MAX : (size_t)e->size - done;
        crc = crc32(crc, got + done, (uInt)chunk);
        done += chunk;
    }
    if ((uint32_t)crc != e->crc32) {
        strbuf_truncate(out, start);
        return hb_error_set(err, HB_EINVAL, "%s: '%s': crc32 %08x, expected %08x", what, e->name,
                            (unsigned)crc, (unsigned)e->crc32);
    }
    return 0;
}

/* True when a[0..alen) and b have the same PEP 503 form (runs of -_. equal, ASCII case folded). */
static int same_project(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b), i = 0, j = 0;
    for (;;) {
        int sa = i < alen && (a[i] == '-' || a[i] == '_' || a[i] == '.');
        int sb = j < blen && (b[j] == '-' || b[j] == '_' || b[j] == '.');
        if (sa != sb)
            return 0;
        if (sa) {
            while (i < alen && (a[i] == '-' || a[i] == '_' || a[i] == '.'))
                i++;
            while (j < blen && (b[j] == '-' || b[j] == '_' || b[j] == '.'))
                j++;
            continue;
        }
        if (i == alen || j == blen)
            return i == alen && j == blen;
        char ca = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] + 32) : a[i];
        char cb = b[j] >= 'A' && b[j] <= 'Z' ? (char)(b[j] + 32) : b[j];
        if (ca != cb)
            return 0;
        i++, j++;
    }
}

/* The length of the project part of a top-level "<stem>.dist-info/METADATA"
 * name (stem up to its last '-'), or -1 when name is not one. */
static long metadata_project_len(const char *name)
{
    static const char suffix[] = ".dist-info/METADATA";
    size_t len = strlen(name), slen = sizeof suffix - 1;
    if (len <= slen || strcmp(name + len - slen, suffix) != 0)
        return -1;
    size_t stem = len - slen;
    if (memchr(name, '/', stem))
        return -1;
    const char *dash = memrchr(name, '-', stem);
    return dash ? (long)(dash - name) : (long)stem;
}

const hb_zip_entry *hb_zip_find_metadata(const hb_zip_dir *d, const char *project, hb_error *err)
{
    const hb_zip_entry *found = NULL;
    size_t matches = 0, candidates = 0;
    strbuf seen = STRBUF_INIT;
    for (size_t i = 0; i < d->n; i++) {
        long plen = metadata_project_len(d->entries[i].name);
        if (plen < 0)
            continue;
        if (candidates++ < 4)
            strbuf_printf(&seen, "%s'%s'", candidates > 1 ? ", " : "", d->entries[i].name);
        if (project && !same_project(d->entries[i].name, (size_t)plen, project))
            continue;
        if (matches++ == 0)
            found = &d->entries[i];
    }
    if (matches == 1) {
        strbuf_free(&seen);
        return found;
    }
    if (matches == 0)
        hb_error_set(err, HB_EINVAL, "no top-level <name>-<version>.dist-info/METADATA%s%s%s (%s%s)",
                     project ? " for project '" : "", project ? project : "", project ? "'" : "",
                     candidates ? "found " : "the archive has none",
                     candidates ? strbuf_str(&seen) : "");
    else
        hb_error_set(err, HB_EINVAL,
                     "%zu top-level .dist-info/METADATA members%s%s%s: expected exactly one (%s)",
                     matches, project ? " for project '" : "", project ? project : "",
                     project ? "'" : "", strbuf_str(&seen));
    strbuf_free(&seen);
    return NULL;
}
