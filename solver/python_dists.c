/* python_dists.c — an interpreter's installed distributions (python_dists.h). */
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/process.h"
#include "hpcbuild/pyname.h"
#include "hpcbuild/python_dists.h"

/* Prints "hpcbuild-dists" then "name\tversion" lines; names and versions with control
 * characters are skipped (they cannot be real). */
static const char dists_script[] =
    "import importlib.metadata as m, sys\n"
    "print('hpcbuild-dists')\n"
    "seen = set()\n"
    "for d in m.distributions():\n"
    "    try:\n"
    "        n, v = d.metadata['Name'], d.version\n"
    "    except Exception:\n"
    "        continue\n"
    "    if not n or not v or any(ord(c) < 32 for c in n + v):\n"
    "        continue\n"
    "    k = n.lower().replace('_', '-').replace('.', '-')\n"
    "    if k in seen:\n"
    "        continue\n"
    "    seen.add(k)\n"
    "    print(n + '\\t' + v)\n";

int hb_python_dists(const char *python, hb_python_dist **dists, size_t *n, hb_error *err)
{
    *dists = NULL;
    *n = 0;
    const char *argv[] = {python, "-I", "-c", dists_script, NULL};
    process_result r;
    if (process_run(argv, &r, err) != 0)
        return hb_error_prefix(err, "listing the distributions of '%s'", python);
    if (r.exit_status != 0 || strncmp(r.out, "hpcbuild-dists\n", 15) != 0) {
        int rc = hb_error_set(err, HB_EIO, "listing the distributions of '%s': it exited with status %d: %.200s",
                              python, r.exit_status, r.err ? r.err : "");
        process_result_free(&r);
        return rc;
    }
    size_t cap = 0;
    for (char *line = r.out + 15; *line;) {
        char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        char *tab = memchr(line, '\t', (size_t)(end - line));
        if (tab) {
            if (*n == cap)
                *dists = hb_reallocarray(*dists, cap = cap ? 2 * cap : 64, sizeof **dists);
            (*dists)[*n].name = hb_strndup(line, (size_t)(tab - line));
            (*dists)[*n].version = hb_strndup(tab + 1, (size_t)(end - tab - 1));
            (*n)++;
        }
        line = *end ? end + 1 : end;
    }
    process_result_free(&r);
    return 0;
}

void hb_python_dists_free(hb_python_dist *dists, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(dists[i].name);
        free(dists[i].version);
    }
    free(dists);
}
