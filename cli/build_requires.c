/* build_requires.c — a build's requirements into the target prefix (build_requires.h). */
#include "build_requires.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/process.h"
#include "hpcbuild/repair.h"
#include "hpcbuild/site.h"
#include <unistd.h>

static const char *const stage_names[] = {"[build-system] requires", "[external] build/host requires",
                                          "get_requires_for_build_wheel"};

int build_requires_install(void *ctx, hb_build_stage stage, char *const *requires, hb_error *err)
{
    const build_requires_ctx *c = ctx;
    if (!requires || !requires[0])
        return 0;
    fprintf(stderr, "hpcbuild: %s:", stage_names[stage]);
    for (size_t i = 0; requires[i]; i++)
        fprintf(stderr, " %s", requires[i]);
    fputc('\n', stderr);
    if (!c->prefix)
        return 0;
    size_t n = 0;
    while (requires[n])
        n++;
    const char **argv = hb_calloc(c->nforward + n + 7, sizeof *argv);
    size_t k = 0;
    argv[k++] = "/proc/self/exe";
    argv[k++] = "install";
    argv[k++] = "-p";
    argv[k++] = c->prefix;
    argv[k++] = "--skip-sdists";
    for (size_t i = 0; i < c->nforward; i++)
        argv[k++] = c->forward[i];
    for (size_t i = 0; i < n; i++)
        argv[k++] = requires[i];
    process_result r;
    int rc = process_run(argv, &r, err);
    if (rc == 0) {
        if (strncmp(r.out, "nothing to change", 17) != 0)   /* all there already: quiet */
            fputs(r.out, stdout);
        if (r.exit_status != 0)
            rc = hb_error_set(err, HB_EIO, "installing the %s into %s failed: %.600s", stage_names[stage],
                              c->prefix, r.err);
        process_result_free(&r);
    }
    free(argv);
    return rc;
}

int build_repair_wheels(char **wheels, const struct hb_site *site, hb_error *err)
{
    for (size_t i = 0; wheels && wheels[i]; i++) {
        char *dir = hb_strdup(wheels[i]);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            strcpy(dir, ".");
        char *out = NULL;
        int rc = hb_wheel_repair(wheels[i], site, NULL, dir, &out, err);
        free(dir);
        if (rc != 0)
            return hb_error_prefix(err, "repairing '%s'", wheels[i]);
        if (out && strcmp(out, wheels[i]) != 0) {
            unlink(wheels[i]);   /* only the repaired wheel stays */
            free(wheels[i]);
            wheels[i] = out;
        } else {
            free(out);
        }
        fprintf(stderr, "hpcbuild: repaired: %s\n", wheels[i]);
    }
    return 0;
}
