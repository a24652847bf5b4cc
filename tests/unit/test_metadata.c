/* Unit tests of the core metadata reader/writer (common/metadata.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/metadata.h"

#include "check.h"

static int parse(metadata *md, const char *text)
{
    hb_error err;
    int rc = metadata_parse(md, text, strlen(text), &err);
    if (rc != 0)
        fprintf(stderr, "parse failed: %s\n", err.msg);
    return rc;
}

static void test_fields_and_body(void)
{
    metadata md;
    CHECK(parse(&md, "Metadata-Version: 2.4\r\nName: demo\r\nRequires-Dist: a\r\n"
                     "requires-dist: b (>=1)\r\n ; extra == 'x'\r\n\r\nThe body\r\n") == 0);
    CHECK(md.nfields == 4);
    CHECK(strcmp(metadata_get(&md, "NAME")->value, "demo") == 0);
    CHECK(metadata_count(&md, "Requires-Dist") == 2);
    const metadata_field *f = metadata_get(&md, "requires-dist");
    CHECK(f && strcmp(f->value, "a") == 0);
    f = metadata_next(&md, "Requires-Dist", f);
    CHECK(f && strcmp(f->value, "b (>=1)\r\n ; extra == 'x'") == 0);
    CHECK(f && strcmp(f->name, "requires-dist") == 0);
    CHECK(metadata_next(&md, "Requires-Dist", f) == NULL);
    CHECK(metadata_get(&md, "Version") == NULL);
    CHECK(strcmp(md.body, "The body\r\n") == 0 && md.body_len == 10);
    CHECK(md.ndefects == 0 && md.unixfrom == NULL && !md.mime_body);
    metadata_free(&md);
}

static void test_defects(void)
{
    metadata md;
    CHECK(parse(&md, " stray\nFrom x\nName: a\nFrom y\n:v\n cont\nno colon\nrest") == 0);
    CHECK(md.unixfrom == NULL);
    CHECK(md.nfields == 1 && strcmp(md.fields[0].value, "a") == 0);
    CHECK(md.ndefects == 6);
    CHECK(md.defects[0].kind == METADATA_DEFECT_MISSING_SEPARATOR && md.defects[0].line == 7);
    CHECK(md.defects[1].kind == METADATA_DEFECT_STRAY_CONTINUATION && md.defects[1].line == 1);
    CHECK(md.defects[2].kind == METADATA_DEFECT_MISPLACED_ENVELOPE);
    CHECK(md.defects[3].kind == METADATA_DEFECT_MISPLACED_ENVELOPE);
    CHECK(md.defects[4].kind == METADATA_DEFECT_MISSING_NAME);
    CHECK(md.defects[5].kind == METADATA_DEFECT_STRAY_CONTINUATION && md.defects[5].line == 6);
    CHECK(strcmp(md.body, "no colon\nrest") == 0);
    CHECK(strcmp(metadata_defect_name(md.defects[0].kind), "MissingHeaderBodySeparatorDefect") == 0);
    metadata_free(&md);

    CHECK(parse(&md, "From me\nName: x\nFrom last\n\nbody") == 0);
    CHECK(md.unixfrom && strcmp(md.unixfrom, "From me") == 0);
    CHECK(strcmp(md.body, "From last\nbody") == 0);
    metadata_free(&md);

    hb_error err;
    CHECK(metadata_parse(&md, "Name: \xff\n", 8, &err) == -1);
    CHECK(strstr(err.msg, "byte 6") && strstr(err.msg, "UTF-8"));
    metadata_free(&md);
}

static void test_core(void)
{
    metadata md;
    metadata_core c;
    strbuf w = STRBUF_INIT;
    hb_error err;
    CHECK(parse(&md, "Metadata-Version: 2.7\nName: x\nVersion: 1.0\nDynamic: Requires-Dist\n"
                     "Requires-External-Dep: dep:cran/nat; extra == 'nat'\nProvides-External-Extra: nat\n"
                     "Description: header\n\nbody text") == 0);
    CHECK(metadata_core_view(&md, &c, &w, &err) == 0);
    CHECK(c.version_major == 2 && c.version_minor == 7);
    CHECK(strcmp(c.name, "x") == 0 && strcmp(c.version, "1.0") == 0);
    CHECK(c.dynamic.n == 1 && c.requires_external_dep.n == 1 && c.provides_external_extra.n == 1);
    CHECK(strcmp(c.description, "body text") == 0);
    CHECK(strstr(strbuf_str(&w), "newer than 2.6") && strstr(strbuf_str(&w), "both a Description"));
    metadata_core_free(&c);
    metadata_free(&md);

    static const char *const bad[][2] = {
        {"Metadata-Version: 3.0\nName: x\nVersion: 1\n", "major version 3"},
        {"Name: x\nVersion: 1\n", "'Metadata-Version' is missing"},
        {"Metadata-Version: 2.1\nVersion: 1\n", "'Name' is missing"},
        {"Metadata-Version: 2.1\nName: x\nName: y\nVersion: 1\n", "appears 2 times"},
        {"Metadata-Version: two\nName: x\nVersion: 1\n", "expected MAJOR.MINOR"},
        {"Metadata-Version: 2.2\nName: x\nVersion: 1\nDynamic: version\n", "Dynamic may not list 'version'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(parse(&md, bad[i][0]) == 0);
        CHECK(metadata_core_view(&md, &c, NULL, &err) == -1);
        CHECK(strstr(err.msg, bad[i][1]) != NULL);
        metadata_free(&md);
    }
    strbuf_truncate(&w, 0);
    CHECK(parse(&md, "Metadata-Version: 2.0\nName: x\nVersion: 1\n") == 0);
    CHECK(metadata_core_view(&md, &c, &w, &err) == 0 && w.len == 0);
    metadata_core_free(&c);
    metadata_free(&md);
    strbuf_free(&w);
}

static void test_write(void)
{
    metadata md = METADATA_INIT;
    metadata_add(&md, "Metadata-Version", "2.4", 3);
    metadata_add(&md, "Name", "demo", 4);
    metadata_add(&md, "Summary", "line one\nline two\r\n\tindented", 28);
    metadata_set_body(&md, "Body\n", 5);
    strbuf out = STRBUF_INIT;
    hb_error err;
    CHECK(metadata_write(&md, &out, &err) == 0);
    CHECK(strcmp(strbuf_str(&out), "Metadata-Version: 2.4\nName: demo\nSummary: line one\n        line two\n"
                                   "\tindented\n\nBody\n") == 0);
    metadata back;
    CHECK(metadata_parse(&back, out.buf, out.len, &err) == 0);
    CHECK(back.nfields == 3 && strcmp(back.fields[2].value, "line one\n        line two\n\tindented") == 0);
    CHECK(strcmp(back.body, "Body\n") == 0);
    metadata_free(&back);
    metadata_add(&md, "Bad Name", "x", 1);
    strbuf_truncate(&out, 0);
    CHECK(metadata_write(&md, &out, &err) == -1 && strstr(err.msg, "'Bad Name'"));
    metadata_free(&md);
    strbuf_free(&out);
}

int main(void)
{
    test_fields_and_body();
    test_defects();
    test_core();
    test_write();
    return check_finish();
}
