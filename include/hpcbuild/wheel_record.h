/* wheel_record.h — a wheel's RECORD file (SPECS §5.2, §5.3 step 8).
 *
 * hb_record_parse reads RECORD as Python's csv.reader (excel dialect) does: ',' separates,
 * '"' quotes (a doubled '"' inside quotes is one '"'), quoted fields may hold ',' and line
 * breaks, rows end with \n, \r\n or \r; blank lines are skipped.  Every row must have three
 * fields (path, hash, size); errors name the file (what) and the row's line.
 * hb_record_hash_check verifies a row's hash "<algo>=<urlsafe base64 digest, no padding>"
 * against data: sha256, sha384, sha512, sha3_256, sha3_384, sha3_512 and blake2b are accepted;
 * md5, sha1 (too weak) and unknown algorithms are refused, naming the path.
 * hb_record_check_file does the same for a file, streaming it, and also checks the size when the
 * row gives one; it returns the file's "sha256=..." and size (what an installer's RECORD says).
 * hb_record_put_row appends one row as Python's csv.writer writes it (a field with ',', '"',
 * \r or \n quoted, '"' doubled; rows end with \n); hash NULL and size < 0 write empty fields.
 * hb_record_sha256 gives "sha256=<urlsafe base64>" of data (free() it).
 */
#ifndef HPCBUILD_WHEEL_RECORD_H
#define HPCBUILD_WHEEL_RECORD_H

#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

typedef struct hb_record_row {
    char *path;
    char *hash;   /* "" when empty */
    char *size;   /* "" when empty */
    size_t line;  /* 1-based line where the row starts */
} hb_record_row;

int hb_record_parse(const char *data, size_t len, const char *what, hb_record_row **rows, size_t *n,
                    hb_error *err);
void hb_record_rows_free(hb_record_row *rows, size_t n);

/* 0 when hash (a RECORD hash field) is the digest of data; -1 naming path otherwise. */
int hb_record_hash_check(const char *path, const char *hash, const void *data, size_t len,
                         hb_error *err);

/* *sha256 (free() it) and *size describe the file; both only on success. */
int hb_record_check_file(const hb_record_row *row, const char *file, char **sha256, long long *size,
                         hb_error *err);

void hb_record_put_row(strbuf *out, const char *path, const char *hash, long long size);
char *hb_record_sha256(const void *data, size_t len);

#endif
