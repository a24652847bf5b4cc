/* strbuf.h — a growable, always NUL-terminated byte buffer.
 *
 * A zero-initialized strbuf (STRBUF_INIT) is empty and valid.  Appends grow
 * geometrically (amortized O(1)); allocation failure aborts the process, as
 * libsolv's solv_malloc does, because no caller can recover from it sensibly.
 * strbuf_detach hands the buffer to the caller (free() it) and resets sb.
 */
#ifndef HPCBUILD_STRBUF_H
#define HPCBUILD_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct strbuf {
    char *buf;   /* NULL or NUL-terminated data of length len */
    size_t len;
    size_t cap;
} strbuf;

#define STRBUF_INIT {NULL, 0, 0}

void strbuf_reserve(strbuf *sb, size_t extra);
void strbuf_append(strbuf *sb, const char *data, size_t len);
void strbuf_puts(strbuf *sb, const char *s);
void strbuf_putc(strbuf *sb, char c);
void strbuf_printf(strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strbuf_vprintf(strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void strbuf_truncate(strbuf *sb, size_t len);
/* Returns sb's contents ("" when empty), never NULL. */
const char *strbuf_str(const strbuf *sb);
char *strbuf_detach(strbuf *sb);
void strbuf_free(strbuf *sb);

#endif
