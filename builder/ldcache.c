/* ldcache.c — the new-format glibc ld.so.cache: a 48-byte header ("glibc-ld.so.cache1.1",
 * nlibs, len_strings, flags, extension offset), then nlibs 24-byte entries (flags, key, value,
 * osversion, hwcap), keys and values being offsets from the header's start. */
#include "ldcache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/strbuf.h"

#define OLD_MAGIC "ld.so-1.7.0"
#define NEW_MAGIC "glibc-ld.so.cache1.1"
enum { OLD_HEADER = 16, OLD_ENTRY = 12, NEW_HEADER = 48, NEW_ENTRY = 24 };

static uint32_t u32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* Where the new-format header starts: 0, or after the old table (aligned to 4 or 8). */
static int find_new_header(const hb_ldcache *c, const char *path, hb_error *err)
{
    size_t ml = strlen(NEW_MAGIC);
    if (c->len >= ml && memcmp(c->data, NEW_MAGIC, ml) == 0)
        return 0;
    if (c->len < OLD_HEADER || memcmp(c->data, OLD_MAGIC, sizeof OLD_MAGIC - 1) != 0)
        return hb_error_set(err, HB_EINVAL, "%s: not an ld.so.cache (no %s or %s magic)", path, NEW_MAGIC, OLD_MAGIC);
    uint32_t nold = u32(c->data + 12);
    if (nold > (c->len - OLD_HEADER) / OLD_ENTRY)
        return hb_error_set(err, HB_EINVAL, "%s: old-format entry count %u is past the end", path, nold);
    size_t off = OLD_HEADER + (size_t)nold * OLD_ENTRY;
    for (size_t align = 0; align < 8; align += 4)
        if (c->len - (off + align) >= ml && memcmp(c->data + off + align, NEW_MAGIC, ml) == 0)
            return (int)(off + align);
    return hb_error_set(err, HB_EINVAL, "%s: old-format cache without the %s table (unsupported)", path, NEW_MAGIC);
}

int hb_ldcache_load(hb_ldcache *c, const char *path, hb_error *err)
{
    memset(c, 0, sizeof *c);
    strbuf sb = STRBUF_INIT;
    hb_error e2;
    if (hb_read_file(path, &sb, &e2) != 0) {
        strbuf_free(&sb);
        return 0; /* no cache: the loader goes on to the default directories */
    }
    c->len = sb.len;
    c->data = (unsigned char *)strbuf_detach(&sb);
    int base = find_new_header(c, path, err);
    if (base < 0 || c->len - (size_t)base < NEW_HEADER) {
        if (base >= 0)
            hb_error_set(err, HB_EINVAL, "%s: truncated ld.so.cache header", path);
        hb_ldcache_free(c);
        return -1;
    }
    c->base = (size_t)base;
    uint32_t n = u32(c->data + c->base + 20);
    if (n > (c->len - c->base - NEW_HEADER) / NEW_ENTRY) {
        hb_error_set(err, HB_EINVAL, "%s: ld.so.cache entry count %u is past the end of the file", path, n);
        hb_ldcache_free(c);
        return -1;
    }
    c->nentries = n;
    return 0;
}

/* The NUL-terminated string at offset off from the header, or NULL when out of bounds. */
static const char *cache_string(const hb_ldcache *c, uint32_t off)
{
    if (off >= c->len - c->base)
        return NULL;
    const char *s = (const char *)c->data + c->base + off;
    return memchr(s, '\0', c->len - c->base - off) ? s : NULL;
}

const char *hb_ldcache_next(const hb_ldcache *c, const char *name, bool baseline_only, size_t *pos)
{
    for (; *pos < c->nentries; (*pos)++) {
        const unsigned char *ent = c->data + c->base + NEW_HEADER + *pos * NEW_ENTRY;
        const char *key = cache_string(c, u32(ent + 4)), *value = cache_string(c, u32(ent + 8));
        uint64_t hwcap;
        memcpy(&hwcap, ent + 16, 8);
        if (key && value && strcmp(key, name) == 0 && !(baseline_only && hwcap != 0)) {
            (*pos)++;
            return value;
        }
    }
    return NULL;
}

void hb_ldcache_free(hb_ldcache *c)
{
    free(c->data);
    memset(c, 0, sizeof *c);
}
