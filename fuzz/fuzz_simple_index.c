/* libFuzzer harness: PEP 503 HTML / PEP 691 JSON project pages, find-links pages and project
 * lists.  The first byte picks the form; every parse that succeeds yields absolute URLs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/simple_index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const types[] = {"text/html", "application/vnd.pypi.simple.v1+json",
                                        "application/vnd.pypi.simple.v1+html", NULL};
    const char *ct = types[data[0] & 3];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    const char *page = "https://pypi.example/simple/frob/";
    hb_index_page p;
    hb_error err;
    strbuf warnings = STRBUF_INIT;
    if (data[0] & 4) {
        if (hb_index_links_parse(&p, text, len, page, &warnings, &err) == 0)
            hb_index_page_free(&p);
    } else if (data[0] & 8) {
        char **names;
        size_t n;
        if (hb_index_projects_parse(&names, &n, text, len, ct, page, &err) == 0) {
            for (size_t i = 0; i < n; i++)
                free(names[i]);
            free(names);
        }
    } else if (hb_index_page_parse(&p, text, len, ct, page, &warnings, &err) == 0) {
        for (size_t i = 0; i < p.nfiles; i++)
            if (strncmp(p.files[i].url, "https://", 8) != 0 && strncmp(p.files[i].url, "http://", 7) != 0 &&
                strchr(p.files[i].url, ':') == NULL)
                abort();   /* every URL is absolute (a scheme) */
        hb_index_page_free(&p);
    }
    strbuf_free(&warnings);
    return 0;
}
