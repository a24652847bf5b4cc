/* hash.h — sha256 and md5 digests (OpenSSL EVP) for verifying downloads.
 *
 * A hb_hasher digests a stream incrementally; hb_hash_file digests a file.
 * Digests are given as lowercase hex (64 chars for sha256, 32 for md5, NUL
 * terminated in a HB_HASH_HEX_MAX buffer).  hb_hash_hex_check validates an
 * expected digest given by a user or a repodata record (either case).
 */
#ifndef HPCBUILD_HASH_H
#define HPCBUILD_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "hpcbuild/error.h"

typedef enum hb_hash_kind { HB_HASH_SHA256, HB_HASH_MD5 } hb_hash_kind;

#define HB_HASH_HEX_MAX 65 /* sha256 hex + NUL */

typedef struct hb_hasher hb_hasher;

/* "sha256" or "md5" */
const char *hb_hash_name(hb_hash_kind kind);
/* 64 or 32 */
size_t hb_hash_hex_len(hb_hash_kind kind);

hb_hasher *hb_hasher_new(hb_hash_kind kind);
void hb_hasher_update(hb_hasher *h, const void *data, size_t len);
/* Starts over, as if freshly created. */
void hb_hasher_reset(hb_hasher *h);
/* Writes the hex digest of everything since the last reset; the hasher is
 * then reset. */
void hb_hasher_final_hex(hb_hasher *h, char out[HB_HASH_HEX_MAX]);
void hb_hasher_free(hb_hasher *h);

/* The hex digest of a whole buffer. */
void hb_hash_buffer_hex(hb_hash_kind kind, const void *data, size_t len,
                        char out[HB_HASH_HEX_MAX]);
/* The hex digest of a file's contents; -1 (naming the file) if unreadable. */
int hb_hash_file_hex(hb_hash_kind kind, const char *path, char out[HB_HASH_HEX_MAX],
                     hb_error *err);

/* A fast 64-bit checksum (not cryptographic; several GB/s) for detecting damage to
 * hpcbuild's own cache files.  Same input and seed, same value, on one machine. */
/* The value of one hex digit (either case), or -1. */
int hb_hex_value(char c);

uint64_t hb_checksum64(const void *data, size_t len, uint64_t seed);

/* 0 if hex is a digest of this kind (right length, hex digits); otherwise -1
 * with e.g. "invalid sha256 'abc': expected 64 hex digits". */
int hb_hash_hex_check(hb_hash_kind kind, const char *hex, hb_error *err);
/* Case-insensitive comparison of two hex digests: 1 if equal. */
int hb_hash_hex_equal(const char *a, const char *b);

#endif
