/* error.h — how library code reports failure.
 *
 * Every fallible function takes a `hb_error *err` (may be NULL) and returns a
 * status: 0 on success, -1 on failure (or NULL for pointers).  On failure the
 * error holds a code and one human-readable line that names the input and
 * what was expected, e.g. "invalid version '1.0.0-' at position 6: expected a
 * number".  Library code never prints and never exits; the CLI prints
 * err->msg and maps err->code to an exit status.
 */
#ifndef HPCBUILD_ERROR_H
#define HPCBUILD_ERROR_H

#include <stdarg.h>
#include <stddef.h>

enum hb_error_code {
    HB_OK = 0,
    HB_EINVAL,   /* bad input: syntax or semantics (CLI exit status 2) */
    HB_EIO,      /* file or stream could not be read or written */
    HB_ENOMEM,   /* allocation failed */
    HB_ESYS,     /* a system call or child process failed */
};

typedef struct hb_error {
    int code;
    char msg[512];
} hb_error;

/* Sets err (if non-NULL) and returns -1, so `return hb_error_set(...)` works. */
int hb_error_set(hb_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int hb_error_vset(hb_error *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Prefixes an existing message: "context: old message". */
int hb_error_prefix(hb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void hb_error_clear(hb_error *err);

#endif
