#include "hpcbuild/error.h"

#include <stdio.h>
#include <string.h>

int hb_error_vset(hb_error *err, int code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return -1;
}

int hb_error_set(hb_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hb_error_vset(err, code, fmt, ap);
    va_end(ap);
    return -1;
}

int hb_error_prefix(hb_error *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    size_t used = n < 0 ? 0 : (size_t)n;
    if (used + 2 < sizeof err->msg) {   /* ": " + as much of the old message as fits */
        size_t room = sizeof err->msg - used - 3;
        size_t len = strnlen(old, room);
        memcpy(err->msg + used, ": ", 2);
        memcpy(err->msg + used + 2, old, len);
        err->msg[used + 2 + len] = '\0';
    }
    return -1;
}

void hb_error_clear(hb_error *err)
{
    if (err) {
        err->code = HB_OK;
        err->msg[0] = '\0';
    }
}
