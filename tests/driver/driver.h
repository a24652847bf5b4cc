/* driver.h — the test driver's line protocol (tests only, never installed).
 *
 * stdin: one request a line, fields separated by TAB; inside a field the
 * escapes \t \n \r \\ and \xHH stand for those bytes.  The first field is the
 * command ("pep440.compare", "conda.version.compare", ...).  stdout: one
 * response line per request, fields escaped the same way.  A handler that
 * fails on bad input answers with the fields "error" and the message.
 *
 * Each area implements one handler in its own driver_<area>.c; it returns 0
 * when the command is not one of its own.
 */
#ifndef HPCBUILD_TEST_DRIVER_H
#define HPCBUILD_TEST_DRIVER_H

#include <stddef.h>

#include "hpcbuild/strbuf.h"

typedef struct driver_args {
    char **v;        /* decoded fields after the command, NUL-terminated */
    size_t *len;     /* their lengths (fields may contain NUL via \x00) */
    size_t n;
} driver_args;

typedef int (*driver_handler)(const char *cmd, const driver_args *args, strbuf *out);

/* Appends one escaped response field (a TAB first unless out is empty). */
void driver_put(strbuf *out, const char *s, size_t len);
void driver_puts(strbuf *out, const char *s);
/* Replaces what out holds with the answer "error" and msg; returns 1. */
int driver_error(strbuf *out, const char *msg);
/* Appends key and value as two fields; nothing when value is NULL. */
void driver_put_pair(strbuf *out, const char *key, const char *value);
/* Appends key and the line as two fields for each '\n'-terminated line of text. */
void driver_put_lines(strbuf *out, const char *key, const char *text);

int driver_pep440(const char *cmd, const driver_args *args, strbuf *out);
int driver_pep508(const char *cmd, const driver_args *args, strbuf *out);
int driver_conda(const char *cmd, const driver_args *args, strbuf *out);
int driver_depurl(const char *cmd, const driver_args *args, strbuf *out);
int driver_metadata(const char *cmd, const driver_args *args, strbuf *out);
int driver_tags(const char *cmd, const driver_args *args, strbuf *out);
int driver_index(const char *cmd, const driver_args *args, strbuf *out);

#endif
