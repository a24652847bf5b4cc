/* libFuzzer harness for the repodata loader: the input is a repodata document
 * (JSON, or zstd when it starts with the magic); on success every record's
 * strings and lists are walked.  Inputs starting with 'U' test URL resolution
 * instead: "U<base>\n<ref>". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/repodata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch(const char *s)
{
    if (s) {
        volatile size_t n = strlen(s);
        (void)n;
    }
}

static void touch_list(char **l)
{
    for (size_t i = 0; l && l[i]; i++)
        touch(l[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size && data[0] == 'U') {
        char *s = hb_strndup((const char *)data + 1, size - 1);
        if (strlen(s) == size - 1) {
            char *nl = strchr(s, '\n');
            if (nl) {
                *nl = '\0';
                char *r = repodata_url_resolve(s, nl + 1);
                if (!r)
                    abort();
                free(r);
            }
        }
        free(s);
        return 0;
    }
    hb_error err;
    repodata_options opt = {"https://example.org/c/linux-64/repodata.json", "c", 0};
    repodata *rd = repodata_parse((const char *)data, size, "fuzz", &opt, &err);
    if (!rd)
        return 0;
    for (size_t i = 0; i < rd->count; i++) {
        const repodata_record *r = &rd->records[i];
        if (!r->rec.name || !r->rec.version || !r->rec.build || !r->rec.fn || !r->rec.depends ||
            !r->constrains)
            abort();
        touch(r->rec.name);
        touch(r->rec.url);
        touch(r->rec.md5);
        touch(r->rec.subdir);
        touch_list(r->rec.depends);
        touch_list(r->constrains);
        touch_list(r->rec.track_features);
        touch_list(r->rec.features);
    }
    touch_list(rd->removed);
    repodata_free(rd);
    return 0;
}
