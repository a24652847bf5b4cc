/* Test-driver commands of the depurl area.
 *
 *   depurl.parse S       S as an external dependency specifier (DepURL [; marker])
 *   depurl.parse_url S   S as a bare DepURL
 *     -> ok NORMALIZED [KEY VALUE]...   keys: type ns name version literal
 *        qualifier (value "k=v") subpath marker warning; absent parts are left out
 *     -> error MESSAGE
 */
#include "driver.h"

#include <string.h>

#include "hpcbuild/depurl.h"

int driver_depurl(const char *cmd, const driver_args *args, strbuf *out)
{
    bool spec = strcmp(cmd, "depurl.parse") == 0;
    if (!spec && strcmp(cmd, "depurl.parse_url") != 0)
        return 0;
    if (args->n != 1) {
        return driver_error(out, "depurl: expected one argument");
    }
    depurl d;
    hb_error err;
    strbuf warnings = STRBUF_INIT;
    int rc = spec ? depurl_parse_spec(&d, args->v[0], args->len[0], &warnings, &err)
                  : depurl_parse(&d, args->v[0], args->len[0], &warnings, &err);
    if (rc != 0) {
        driver_error(out, err.msg);
    } else {
        strbuf s = STRBUF_INIT;
        depurl_format_spec(&d, &s);
        driver_puts(out, "ok");
        driver_put(out, strbuf_str(&s), s.len);
        driver_put_pair(out, "type", d.type);
        driver_put_pair(out, "ns", d.ns);
        driver_put_pair(out, "name", d.name);
        driver_put_pair(out, "version", d.version);
        if (d.version_is_literal)
            driver_put_pair(out, "literal", "true");
        for (size_t i = 0; i < d.nqualifiers; i++) {
            strbuf_truncate(&s, 0);
            strbuf_printf(&s, "%s=%s", d.qualifiers[i].key, d.qualifiers[i].value);
            driver_put_pair(out, "qualifier", s.buf);
        }
        driver_put_pair(out, "subpath", d.subpath);
        driver_put_pair(out, "marker", d.marker);
        strbuf_free(&s);
        depurl_free(&d);
    }
    driver_put_lines(out, "warning", strbuf_str(&warnings));
    strbuf_free(&warnings);
    return 1;
}
