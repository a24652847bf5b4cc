/* Test-driver commands of the metadata area.
 *
 *   metadata.parse TEXT   -> ok N NAME1 VALUE1 ... BODY UNIXFROM DEFECTS MIME
 *                            (UNIXFROM is "-" or "+<line>"; DEFECTS is the
 *                            compat32 class names joined by spaces; MIME is
 *                            "mime" or "plain")
 *   metadata.core TEXT    -> ok KEY VALUE ... (one pair per value, lists
 *                            repeat the key; "warning" pairs last)
 *   metadata.write BODY NAME VALUE ...  -> ok TEXT   (BODY "" means none)
 *   any failure           -> error MESSAGE
 */
#include "driver.h"

#include <stdio.h>
#include <string.h>

#include "hpcbuild/metadata.h"

static void do_parse(const driver_args *args, strbuf *out)
{
    metadata md;
    hb_error err;
    if (metadata_parse(&md, args->v[0], args->len[0], &err) != 0) {
        driver_error(out, err.msg);
        return;
    }
    driver_puts(out, "ok");
    char num[32];
    snprintf(num, sizeof num, "%zu", md.nfields);
    driver_puts(out, num);
    for (size_t i = 0; i < md.nfields; i++) {
        driver_puts(out, md.fields[i].name);
        driver_put(out, md.fields[i].value, md.fields[i].value_len);
    }
    driver_put(out, md.body, md.body_len);
    strbuf s = STRBUF_INIT;
    if (md.unixfrom) {
        strbuf_putc(&s, '+');
        strbuf_puts(&s, md.unixfrom);
    } else {
        strbuf_putc(&s, '-');
    }
    driver_put(out, s.buf, s.len);
    strbuf_truncate(&s, 0);
    for (size_t i = 0; i < md.ndefects; i++) {
        if (i)
            strbuf_putc(&s, ' ');
        strbuf_puts(&s, metadata_defect_name(md.defects[i].kind));
    }
    driver_put(out, strbuf_str(&s), s.len);
    driver_puts(out, md.mime_body ? "mime" : "plain");
    strbuf_free(&s);
    metadata_free(&md);
}

static void put_list(strbuf *out, const char *key, const metadata_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        driver_put_pair(out, key, l->v[i]);
}

static void do_core(const driver_args *args, strbuf *out)
{
    metadata md;
    hb_error err;
    if (metadata_parse(&md, args->v[0], args->len[0], &err) != 0) {
        driver_error(out, err.msg);
        return;
    }
    metadata_core c;
    strbuf warnings = STRBUF_INIT;
    if (metadata_core_view(&md, &c, &warnings, &err) != 0) {
        driver_error(out, err.msg);
    } else {
        driver_puts(out, "ok");
        char num[32];
        snprintf(num, sizeof num, "%d.%d", c.version_major, c.version_minor);
        driver_put_pair(out, "metadata_version", c.metadata_version);
        driver_put_pair(out, "parsed_version", num);
        driver_put_pair(out, "name", c.name);
        driver_put_pair(out, "version", c.version);
        driver_put_pair(out, "summary", c.summary);
        driver_put_pair(out, "requires_python", c.requires_python);
        driver_put_pair(out, "description_content_type", c.description_content_type);
        driver_put_pair(out, "license", c.license);
        driver_put_pair(out, "license_expression", c.license_expression);
        driver_put_pair(out, "description", c.description);
        put_list(out, "requires_dist", &c.requires_dist);
        put_list(out, "provides_extra", &c.provides_extra);
        put_list(out, "dynamic", &c.dynamic);
        put_list(out, "requires_external", &c.requires_external);
        put_list(out, "requires_external_dep", &c.requires_external_dep);
        put_list(out, "provides_external_extra", &c.provides_external_extra);
        put_list(out, "provides_dist", &c.provides_dist);
        put_list(out, "obsoletes_dist", &c.obsoletes_dist);
        put_list(out, "license_file", &c.license_file);
        put_list(out, "import_name", &c.import_name);
        put_list(out, "import_namespace", &c.import_namespace);
        put_list(out, "classifier", &c.classifier);
        put_list(out, "project_url", &c.project_url);
        driver_put_lines(out, "warning", strbuf_str(&warnings));
        metadata_core_free(&c);
    }
    strbuf_free(&warnings);
    metadata_free(&md);
}

static void do_write(const driver_args *args, strbuf *out)
{
    metadata md = METADATA_INIT;
    if (args->len[0])
        metadata_set_body(&md, args->v[0], args->len[0]);
    for (size_t i = 1; i + 1 < args->n; i += 2)
        metadata_add(&md, args->v[i], args->v[i + 1], args->len[i + 1]);
    strbuf text = STRBUF_INIT;
    hb_error err;
    if (metadata_write(&md, &text, &err) != 0) {
        driver_error(out, err.msg);
    } else {
        driver_puts(out, "ok");
        driver_put(out, strbuf_str(&text), text.len);
    }
    strbuf_free(&text);
    metadata_free(&md);
}

int driver_metadata(const char *cmd, const driver_args *args, strbuf *out)
{
    if (strncmp(cmd, "metadata.", 9) != 0)
        return 0;
    hb_error err = {HB_EINVAL, "metadata: wrong number of arguments"};
    if (strcmp(cmd, "metadata.parse") == 0 && args->n == 1)
        do_parse(args, out);
    else if (strcmp(cmd, "metadata.core") == 0 && args->n == 1)
        do_core(args, out);
    else if (strcmp(cmd, "metadata.write") == 0 && args->n % 2 == 1)
        do_write(args, out);
    else
        driver_error(out, err.msg);
    return 1;
}
