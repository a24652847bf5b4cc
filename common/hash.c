#include "hpcbuild/hash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hpcbuild/alloc.h"

struct hb_hasher {
    hb_hash_kind kind;
    EVP_MD_CTX *ctx;
};

static const EVP_MD *hash_md(hb_hash_kind kind)
{
    return kind == HB_HASH_MD5 ? EVP_md5() : EVP_sha256();
}

const char *hb_hash_name(hb_hash_kind kind)
{
    return kind == HB_HASH_MD5 ? "md5" : "sha256";
}

size_t hb_hash_hex_len(hb_hash_kind kind)
{
    return kind == HB_HASH_MD5 ? 32 : 64;
}

static void hash_abort(const char *what)
{
    /* EVP fails only on allocation failure or a missing provider, which
     * no caller can recover from (the alloc.h convention). */
    fprintf(stderr, "hpcbuild: OpenSSL %s failed\n", what);
    abort();
}

hb_hasher *hb_hasher_new(hb_hash_kind kind)
{
    hb_hasher *h = hb_calloc(1, sizeof *h);
    h->kind = kind;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx)
        hash_abort("EVP_MD_CTX_new");
    hb_hasher_reset(h);
    return h;
}

void hb_hasher_reset(hb_hasher *h)
{
    if (EVP_DigestInit_ex(h->ctx, hash_md(h->kind), NULL) != 1)
        hash_abort("EVP_DigestInit_ex");
}

void hb_hasher_update(hb_hasher *h, const void *data, size_t len)
{
    if (len && EVP_DigestUpdate(h->ctx, data, len) != 1)
        hash_abort("EVP_DigestUpdate");
}

void hb_hasher_final_hex(hb_hasher *h, char out[HB_HASH_HEX_MAX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1)
        hash_abort("EVP_DigestFinal_ex");
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < n && 2 * i + 2 < HB_HASH_HEX_MAX; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * n] = '\0';
    hb_hasher_reset(h);
}

void hb_hasher_free(hb_hasher *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void hb_hash_buffer_hex(hb_hash_kind kind, const void *data, size_t len,
                        char out[HB_HASH_HEX_MAX])
{
    hb_hasher *h = hb_hasher_new(kind);
    hb_hasher_update(h, data, len);
    hb_hasher_final_hex(h, out);
    hb_hasher_free(h);
}

int hb_hash_file_hex(hb_hash_kind kind, const char *path, char out[HB_HASH_HEX_MAX],
                     hb_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return hb_error_set(err, HB_EIO, "cannot open '%s': %s", path, strerror(errno));
    hb_hasher *h = hb_hasher_new(kind);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        hb_hasher_update(h, buf, n);
    int bad = ferror(f);
    int saved = errno;
    fclose(f);
    if (bad) {
        hb_hasher_free(h);
        return hb_error_set(err, HB_EIO, "cannot read '%s': %s", path, strerror(saved));
    }
    hb_hasher_final_hex(h, out);
    hb_hasher_free(h);
    return 0;
}

int hb_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}


int hb_hash_hex_check(hb_hash_kind kind, const char *hex, hb_error *err)
{
    size_t want = hb_hash_hex_len(kind);
    size_t len = hex ? strlen(hex) : 0;
    int ok = len == want;
    for (size_t i = 0; ok && i < len; i++)
        ok = hb_hex_value(hex[i]) >= 0;
    if (!ok)
        return hb_error_set(err, HB_EINVAL, "invalid %s '%.80s%s': expected %zu hex digits",
                            hb_hash_name(kind), hex ? hex : "", len > 80 ? "..." : "", want);
    return 0;
}

static int lower(char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int hb_hash_hex_equal(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    while (*a && *b && lower(*a) == lower(*b))
        a++, b++;
    return *a == '\0' && *b == '\0';
}

/* --- hb_checksum64: four independent multiply-rotate lanes over 8-byte words --------- */

static const uint64_t CK_P1 = 0x9E3779B185EBCA87ULL, CK_P2 = 0xC2B2AE3D27D4EB4FULL,
                      CK_P3 = 0x165667B19E3779F9ULL;

static uint64_t ck_rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t ck_word(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

static uint64_t ck_lane(uint64_t acc, uint64_t w)
{
    return ck_rotl(acc + w * CK_P2, 31) * CK_P1;
}

uint64_t hb_checksum64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data, *end = len ? p + len : p;   /* data may be NULL when len is 0 */
    uint64_t a = seed + CK_P1 + CK_P2, b = seed + CK_P2, c = seed, d = seed - CK_P1;
    for (; end - p >= 32; p += 32) {
        a = ck_lane(a, ck_word(p));
        b = ck_lane(b, ck_word(p + 8));
        c = ck_lane(c, ck_word(p + 16));
        d = ck_lane(d, ck_word(p + 24));
    }
    uint64_t h = ck_rotl(a, 1) + ck_rotl(b, 7) + ck_rotl(c, 12) + ck_rotl(d, 18) + (uint64_t)len;
    for (; end - p >= 8; p += 8)
        h = ck_rotl(h ^ ck_lane(0, ck_word(p)), 27) * CK_P1 + CK_P3;
    for (; p < end; p++)
        h = ck_rotl(h ^ (*p * CK_P3), 11) * CK_P1;
    h ^= h >> 33;
    h *= CK_P2;
    h ^= h >> 29;
    h *= CK_P3;
    h ^= h >> 32;
    return h;
}
