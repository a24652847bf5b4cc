/* libFuzzer harness: wheel and sdist file names, with and without a project name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/distname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = hb_strndup((const char *)data, size);
    hb_distname d;
    hb_error err;
    const char *projects[] = {NULL, "foo-bar", "a"};
    for (size_t k = 0; k < 3; k++) {
        if (hb_distname_parse(&d, s, projects[k], &err) == 0) {
            if (!d.normalized || !d.version || (d.kind == HB_DIST_WHEEL && d.ntags == 0))
                abort();
            hb_distname_free(&d);
        }
    }
    free(s);
    return 0;
}
