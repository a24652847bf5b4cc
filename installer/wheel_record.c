/* wheel_record.c — RECORD as CSV, and its hashes (wheel_record.h). */
#include "hpcbuild/wheel_record.h"

#include <openssl/evp.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"

typedef struct row_builder {
    char *fields[3];
    size_t nfields;   /* fields seen (may pass 3: an error once the row ends) */
    strbuf cur;
} row_builder;

static void row_end_field(row_builder *b)
{
    if (b->nfields < 3)
        b->fields[b->nfields] = hb_strdup(strbuf_str(&b->cur));
    b->nfields++;
    strbuf_truncate(&b->cur, 0);
}

static void row_reset(row_builder *b)
{
    for (size_t i = 0; i < 3; i++) {
        free(b->fields[i]);
        b->fields[i] = NULL;
    }
    b->nfields = 0;
    strbuf_truncate(&b->cur, 0);
}

/* Ends a row: appends it to *rows (a blank line adds nothing); -1 unless it has three fields. */
static int row_end(row_builder *b, bool blank, size_t line, const char *what, hb_record_row **rows,
                   size_t *n, hb_error *err)
{
    if (blank) {
        row_reset(b);
        return 0;
    }
    row_end_field(b);
    if (b->nfields != 3) {
        size_t got = b->nfields;
        row_reset(b);
        return hb_error_set(err, HB_EINVAL, "%s line %zu: expected 3 fields (path,hash,size), got %zu",
                            what, line, got);
    }
    *rows = hb_reallocarray(*rows, *n + 1, sizeof **rows);
    hb_record_row *r = &(*rows)[(*n)++];
    r->path = b->fields[0];
    r->hash = b->fields[1];
    r->size = b->fields[2];
    r->line = line;
    b->fields[0] = b->fields[1] = b->fields[2] = NULL;
    b->nfields = 0;
    return 0;
}

int hb_record_parse(const char *data, size_t len, const char *what, hb_record_row **rows, size_t *n,
                    hb_error *err)
{
    *rows = NULL;
    *n = 0;
    row_builder b = {{NULL, NULL, NULL}, 0, STRBUF_INIT};
    enum { START_ROW, START_FIELD, IN_FIELD, IN_QUOTED, QUOTE_IN_QUOTED } st = START_ROW;
    size_t line = 1, row_line = 1;
    int rc = 0;
    for (size_t i = 0; i <= len && rc == 0; i++) {
        bool eof = i == len;
        char c = eof ? '\0' : data[i];
        bool eol = !eof && (c == '\n' || c == '\r');
        size_t eol_len = eol && c == '\r' && i + 1 < len && data[i + 1] == '\n' ? 2 : 1;
        if (st == START_ROW)
            row_line = line;
        if (st == IN_QUOTED) {
            if (eof) {
                rc = hb_error_set(err, HB_EINVAL, "%s line %zu: unexpected end of data in a quoted field",
                                  what, row_line);
            } else if (c == '"') {
                st = QUOTE_IN_QUOTED;
            } else {
                strbuf_putc(&b.cur, c);
                if (c == '\n' || (c == '\r' && eol_len == 1))
                    line++;
            }
            continue;
        }
        if (st == QUOTE_IN_QUOTED && c == '"') {   /* "" inside quotes */
            strbuf_putc(&b.cur, '"');
            st = IN_QUOTED;
            continue;
        }
        if (eof || eol) {
            if (!(eof && st == START_ROW))
                rc = row_end(&b, st == START_ROW, row_line, what, rows, n, err);
            if (eol) {
                i += eol_len - 1;
                line++;
            }
            st = START_ROW;
        } else if (c == ',') {
            row_end_field(&b);
            st = START_FIELD;
        } else if (c == '"' && (st == START_ROW || st == START_FIELD)) {
            st = IN_QUOTED;
        } else {
            strbuf_putc(&b.cur, c);   /* after a closing quote, csv keeps going (not strict) */
            st = IN_FIELD;
        }
    }
    row_reset(&b);
    strbuf_free(&b.cur);
    if (rc != 0) {
        hb_record_rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

void hb_record_rows_free(hb_record_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].path);
        free(rows[i].hash);
        free(rows[i].size);
    }
    free(rows);
}

static const struct {
    const char *record_name, *openssl_name;
} record_algos[] = {
    {"sha256", "SHA256"},     {"sha384", "SHA384"},     {"sha512", "SHA512"},
    {"sha3_256", "SHA3-256"}, {"sha3_384", "SHA3-384"}, {"sha3_512", "SHA3-512"},
    {"blake2b", "BLAKE2B512"},
};

static void urlsafe_b64_nopad(strbuf *out, const unsigned char *d, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)d[i + 1] << 8;
        if (i + 2 < n)
            v |= d[i + 2];
        strbuf_putc(out, alphabet[(v >> 18) & 63]);
        strbuf_putc(out, alphabet[(v >> 12) & 63]);
        if (i + 1 < n)
            strbuf_putc(out, alphabet[(v >> 6) & 63]);
        if (i + 2 < n)
            strbuf_putc(out, alphabet[v & 63]);
    }
}

/* The digest a RECORD hash field asks for, and its expected value (padding dropped). */
typedef struct record_hash {
    const EVP_MD *md;
    const char *name, *want;   /* name: "sha256" (name_len bytes); want: the b64 digest */
    size_t name_len, want_len;
} record_hash;

static int record_hash_parse(record_hash *h, const char *path, const char *hash, hb_error *err)
{
    const char *eq = strchr(hash, '=');
    if (!*hash || !eq)
        return hb_error_set(err, HB_EINVAL, "RECORD: '%s' has no hash (expected <algorithm>=<digest>)",
                            path);
    h->name = hash;
    h->name_len = (size_t)(eq - hash);
    const char *openssl_name = NULL;
    for (size_t i = 0; i < sizeof record_algos / sizeof *record_algos; i++)
        if (strlen(record_algos[i].record_name) == h->name_len &&
            strncmp(record_algos[i].record_name, hash, h->name_len) == 0)
            openssl_name = record_algos[i].openssl_name;
    if (!openssl_name)
        return hb_error_set(err, HB_EINVAL,
                            "RECORD: '%s' is hashed with '%.*s': expected sha256 or stronger "
                            "(sha384, sha512, sha3_*, blake2b)",
                            path, (int)h->name_len, hash);
    h->md = EVP_get_digestbyname(openssl_name);
    if (!h->md)
        return hb_error_set(err, HB_ESYS, "RECORD: '%s': OpenSSL has no %s digest", path, openssl_name);
    h->want = eq + 1;
    h->want_len = strlen(h->want);
    while (h->want_len && h->want[h->want_len - 1] == '=')   /* tolerate padding */
        h->want_len--;
    return 0;
}

/* Compares the finished digest of ctx with h's expected one. */
static int record_hash_finish(const record_hash *h, EVP_MD_CTX *ctx, const char *path, hb_error *err)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    if (EVP_DigestFinal_ex(ctx, d, &dlen) != 1)
        return hb_error_set(err, HB_ESYS, "RECORD: '%s': computing its %.*s digest failed", path,
                            (int)h->name_len, h->name);
    strbuf got = STRBUF_INIT;
    urlsafe_b64_nopad(&got, d, dlen);
    int rc = 0;
    if (got.len != h->want_len || memcmp(got.buf, h->want, h->want_len) != 0)
        rc = hb_error_set(err, HB_EINVAL, "RECORD: '%s' has %.*s=%.*s, but the file's digest is %s",
                          path, (int)h->name_len, h->name, (int)h->want_len, h->want,
                          strbuf_str(&got));
    strbuf_free(&got);
    return rc;
}

int hb_record_hash_check(const char *path, const char *hash, const void *data, size_t len,
                         hb_error *err)
{
    record_hash h;
    if (record_hash_parse(&h, path, hash, err) != 0)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        abort();
    int rc = EVP_DigestInit_ex(ctx, h.md, NULL) == 1 && EVP_DigestUpdate(ctx, data, len) == 1 ? 0 : -1;
    rc = rc == 0 ? record_hash_finish(&h, ctx, path, err)
                 : hb_error_set(err, HB_ESYS, "RECORD: '%s': digest failed", path);
    EVP_MD_CTX_free(ctx);
    return rc;
}

static char *sha256_field(EVP_MD_CTX *ctx)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    if (EVP_DigestFinal_ex(ctx, d, &dlen) != 1)
        abort();
    strbuf out = STRBUF_INIT;
    strbuf_puts(&out, "sha256=");
    urlsafe_b64_nopad(&out, d, dlen);
    return strbuf_detach(&out);
}

int hb_record_check_file(const hb_record_row *row, const char *file, char **sha256, long long *size,
                         hb_error *err)
{
    record_hash h;
    if (record_hash_parse(&h, row->path, row->hash, err) != 0)
        return -1;
    FILE *f = fopen(file, "rb");
    if (!f)
        return hb_error_set(err, HB_EIO, "cannot read '%s': %s", file, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new(), *ctx256 = EVP_MD_CTX_new();
    if (!ctx || !ctx256)
        abort();
    EVP_DigestInit_ex(ctx, h.md, NULL);
    EVP_DigestInit_ex(ctx256, EVP_sha256(), NULL);
    long long total = 0;
    unsigned char buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        EVP_DigestUpdate(ctx, buf, got);
        EVP_DigestUpdate(ctx256, buf, got);
        total += (long long)got;
    }
    int rc = 0;
    if (ferror(f))
        rc = hb_error_set(err, HB_EIO, "cannot read '%s': %s", file, strerror(errno));
    fclose(f);
    if (rc == 0)
        rc = record_hash_finish(&h, ctx, row->path, err);
    if (rc == 0 && row->size[0]) {
        char *end;
        errno = 0;
        long long want = strtoll(row->size, &end, 10);
        if (errno || *end || end == row->size || want != total)
            rc = hb_error_set(err, HB_EINVAL, "RECORD: '%s' has size '%s', but the file has %lld bytes",
                              row->path, row->size, total);
    }
    if (rc == 0) {
        *sha256 = sha256_field(ctx256);
        *size = total;
    }
    EVP_MD_CTX_free(ctx);
    EVP_MD_CTX_free(ctx256);
    return rc;
}

static void put_field(strbuf *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        strbuf_puts(out, s);
        return;
    }
    strbuf_putc(out, '"');
    for (; *s; s++) {
        if (*s == '"')
            strbuf_putc(out, '"');
        strbuf_putc(out, *s);
    }
    strbuf_putc(out, '"');
}

void hb_record_put_row(strbuf *out, const char *path, const char *hash, long long size)
{
    put_field(out, path);
    strbuf_putc(out, ',');
    if (hash)
        put_field(out, hash);
    strbuf_putc(out, ',');
    if (size >= 0)
        strbuf_printf(out, "%lld", size);
    strbuf_putc(out, '\n');
}

char *hb_record_sha256(const void *data, size_t len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(ctx, data, len) != 1)
        abort();   /* OpenSSL always has SHA-256 */
    char *field = sha256_field(ctx);
    EVP_MD_CTX_free(ctx);
    return field;
}
