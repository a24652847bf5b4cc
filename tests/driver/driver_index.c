/* Test-driver commands of the index area (url.h, html.h).
 *
 *   url.resolve BASE REF   -> ok URL | error MESSAGE
 *   url.decode S           -> ok DECODED | none
 *   html.unescape S        -> ok TEXT
 */
#include "driver.h"

#include <stdlib.h>
#include <string.h>

#include "hpcbuild/html.h"
#include "hpcbuild/url.h"

int driver_index(const char *cmd, const driver_args *args, strbuf *out)
{
    if (strcmp(cmd, "url.resolve") == 0) {
        if (args->n != 2)
            return driver_error(out, "url.resolve: expected BASE and REF");
        hb_error err;
        char *url = hb_url_resolve(args->v[0], args->v[1], &err);
        if (!url)
            return driver_error(out, err.msg);
        driver_puts(out, "ok");
        driver_puts(out, url);
        free(url);
        return 1;
    }
    if (strcmp(cmd, "url.decode") == 0) {
        if (args->n != 1)
            return driver_error(out, "url.decode: expected one argument");
        char *s = hb_url_percent_decode(args->v[0], args->len[0]);
        if (!s) {
            driver_puts(out, "none");
            return 1;
        }
        driver_puts(out, "ok");
        driver_puts(out, s);
        free(s);
        return 1;
    }
    if (strcmp(cmd, "html.unescape") == 0) {
        if (args->n != 1)
            return driver_error(out, "html.unescape: expected one argument");
        strbuf s = STRBUF_INIT;
        hb_html_unescape(&s, args->v[0], args->len[0]);
        driver_puts(out, "ok");
        driver_put(out, strbuf_str(&s), s.len);
        strbuf_free(&s);
        return 1;
    }
    return 0;
}
