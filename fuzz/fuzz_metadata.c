/* libFuzzer harness: core metadata parse, typed view, and write/re-parse.
 * Checks the writer's round trip: what metadata_write accepts parses back
 * to the same fields and body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/metadata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    metadata md;
    hb_error err;
    if (metadata_parse(&md, (const char *)data, size, &err) != 0)
        return 0;
    metadata_core core;
    strbuf w = STRBUF_INIT;
    if (metadata_core_view(&md, &core, &w, &err) == 0)
        metadata_core_free(&core);
    strbuf_free(&w);
    for (size_t i = 0; i < md.nfields; i++)
        (void)metadata_count(&md, md.fields[i].name);

    /* re-emit the fields whose values the writer accepts, then re-parse */
    metadata out = METADATA_INIT;
    for (size_t i = 0; i < md.nfields; i++) {
        const metadata_field *f = &md.fields[i];
        if (f->value_len && (f->value[0] == ' ' || f->value[0] == '\t'))
            continue;
        if (memchr(f->value, '\n', f->value_len) || memchr(f->value, '\r', f->value_len))
            continue;   /* folding changes multi-line values by design */
        metadata_add(&out, f->name, f->value, f->value_len);
    }
    metadata_set_body(&out, md.body, md.body_len);
    strbuf text = STRBUF_INIT;
    if (metadata_write(&out, &text, &err) != 0)
        abort();
    metadata back;
    if (metadata_parse(&back, text.buf ? text.buf : "", text.len, &err) != 0)
        abort();
    if (back.nfields != out.nfields || back.body_len != out.body_len ||
        memcmp(back.body, out.body, out.body_len) != 0)
        abort();
    for (size_t i = 0; i < back.nfields; i++)
        if (strcmp(back.fields[i].name, out.fields[i].name) != 0 ||
            back.fields[i].value_len != out.fields[i].value_len ||
            memcmp(back.fields[i].value, out.fields[i].value, out.fields[i].value_len) != 0)
            abort();
    metadata_free(&back);
    strbuf_free(&text);
    metadata_free(&out);
    metadata_free(&md);
    return 0;
}
