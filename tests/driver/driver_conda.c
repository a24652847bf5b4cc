/* Test-driver commands of the conda area:
 *   conda.version.parse V             -> ok NORM PARSED_JSON | error MSG
 *   conda.version.compare A B         -> < | = | > | error MSG
 *   conda.version.startswith V P      -> true | false | error MSG
 *   conda.spec.parse S                -> ok STR exact|inexact | error MSG
 *   conda.spec.contains S V           -> true | false | error MSG
 *   conda.matchspec.parse S           -> ok STR JSON EXACT_JSON | error MSG
 *     (EXACT_JSON: {field: get_exact_value(field)} for the scalar fields)
 *   conda.matchspec.parse_spec_str S  -> the same, accepting a bare trailing operator
 *   conda.matchspec.match S RECORD    -> true | false | error MSG
 *   conda.channel.match SPEC OTHER    -> true | false (ChannelMatch(SPEC).match(OTHER))
 *     (RECORD is a JSON object: name, version, build, build_number, channel,
 *      subdir, md5, sha256, license, license_family, fn, url, track_features,
 *      features)
 */
#include "driver.h"

#include <stdlib.h>
#include <string.h>

#include "hpcbuild/conda_version.h"
#include "hpcbuild/matchspec.h"

static int version_cmd(const char *cmd, const driver_args *a, strbuf *out)
{
    hb_error err;
    if (strcmp(cmd, "conda.version.parse") == 0 && a->n == 1) {
        conda_version v;
        if (conda_version_parse(&v, a->v[0], a->len[0], &err) != 0) {
            driver_error(out, err.msg);
            return 1;
        }
        strbuf sb = STRBUF_INIT;
        driver_puts(out, "ok");
        conda_version_format(&v, &sb);
        driver_put(out, sb.buf ? sb.buf : "", sb.len);
        strbuf_truncate(&sb, 0);
        conda_version_dump(&v, &sb);
        driver_put(out, sb.buf, sb.len);
        strbuf_free(&sb);
        conda_version_free(&v);
        return 1;
    }
    if ((strcmp(cmd, "conda.version.compare") == 0 || strcmp(cmd, "conda.version.startswith") == 0) &&
        a->n == 2) {
        conda_version x, y;
        if (conda_version_parse(&x, a->v[0], a->len[0], &err) != 0) {
            driver_error(out, err.msg);
            return 1;
        }
        if (conda_version_parse(&y, a->v[1], a->len[1], &err) != 0) {
            conda_version_free(&x);
            driver_error(out, err.msg);
            return 1;
        }
        if (strcmp(cmd, "conda.version.compare") == 0) {
            int c = conda_version_compare(&x, &y);
            driver_puts(out, c < 0 ? "<" : c > 0 ? ">" : "=");
        } else {
            driver_puts(out, conda_version_startswith(&x, &y) ? "true" : "false");
        }
        conda_version_free(&x);
        conda_version_free(&y);
        return 1;
    }
    return 0;
}

static int spec_cmd(const char *cmd, const driver_args *a, strbuf *out)
{
    hb_error err;
    bool parse = strcmp(cmd, "conda.spec.parse") == 0 && a->n == 1;
    bool contains = strcmp(cmd, "conda.spec.contains") == 0 && a->n == 2;
    if (!parse && !contains)
        return 0;
    conda_versionspec *vs = conda_versionspec_parse(a->v[0], a->len[0], &err);
    if (!vs) {
        driver_error(out, err.msg);
        return 1;
    }
    if (parse) {
        driver_puts(out, "ok");
        driver_puts(out, conda_versionspec_str(vs));
        driver_puts(out, conda_versionspec_is_exact(vs) ? "exact" : "inexact");
    } else {
        bool r;
        if (conda_versionspec_contains(vs, a->v[1], a->len[1], &r, &err) != 0)
            driver_error(out, err.msg);
        else
            driver_puts(out, r ? "true" : "false");
    }
    conda_versionspec_free(vs);
    return 1;
}

static int matchspec_cmd(const char *cmd, const driver_args *a, strbuf *out)
{
    hb_error err;
    bool lenient = strcmp(cmd, "conda.matchspec.parse_spec_str") == 0 && a->n == 1;
    bool parse = lenient || (strcmp(cmd, "conda.matchspec.parse") == 0 && a->n == 1);
    bool match = strcmp(cmd, "conda.matchspec.match") == 0 && a->n == 2;
    if (!parse && !match)
        return 0;
    matchspec *ms = matchspec_parse_flags(a->v[0], a->len[0], lenient ? MATCHSPEC_ALLOW_BARE_OPERATOR : 0, &err);
    if (!ms) {
        driver_error(out, err.msg);
        return 1;
    }
    if (parse) {
        strbuf sb = STRBUF_INIT;
        driver_puts(out, "ok");
        matchspec_format(ms, &sb);
        driver_put(out, sb.buf ? sb.buf : "", sb.len);
        strbuf_truncate(&sb, 0);
        matchspec_to_json(ms, &sb);
        driver_put(out, sb.buf ? sb.buf : "", sb.len);
        strbuf_truncate(&sb, 0);
        static const char *const fields[] = {"channel", "subdir", "name", "version", "build",
                                             "build_number", "url", "md5", "sha256", "license",
                                             "license_family", "fn"};
        strbuf_putc(&sb, '{');
        for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
            const char *v = matchspec_get_exact(ms, fields[i]);
            strbuf_printf(&sb, "%s\"%s\":", i ? "," : "", fields[i]);
            if (!v) {
                strbuf_puts(&sb, "null");
                continue;
            }
            strbuf_putc(&sb, '"');
            for (const char *c = v; *c; c++) {
                if (*c == '"' || *c == '\\')
                    strbuf_putc(&sb, '\\');
                if ((unsigned char)*c < 0x20)
                    strbuf_printf(&sb, "\\u%04x", (unsigned char)*c);
                else
                    strbuf_putc(&sb, *c);
            }
            strbuf_putc(&sb, '"');
        }
        strbuf_putc(&sb, '}');
        driver_put(out, sb.buf, sb.len);
        strbuf_free(&sb);
    } else {
        conda_record rec;
        if (conda_record_from_json(&rec, a->v[1], a->len[1], &err) != 0) {
            driver_error(out, err.msg);
        } else {
            bool r;
            if (matchspec_match(ms, &rec, &r, &err) != 0)
                driver_error(out, err.msg);
            else
                driver_puts(out, r ? "true" : "false");
            conda_record_free(&rec);
        }
    }
    matchspec_free(ms);
    return 1;
}

int driver_conda(const char *cmd, const driver_args *args, strbuf *out)
{
    if (strncmp(cmd, "conda.", 6) != 0)
        return 0;
    if (strcmp(cmd, "conda.channel.match") == 0 && args->n == 2) {
        driver_puts(out, conda_channel_matches(args->v[0], args->v[1]) ? "true" : "false");
        return 1;
    }
    if (version_cmd(cmd, args, out) || spec_cmd(cmd, args, out) || matchspec_cmd(cmd, args, out))
        return 1;
    return driver_error(out, "unknown conda driver command or wrong number of fields");
}
