/* hpcbuild check-wheel WHEEL [--site FILE] [--json] and
 * hpcbuild repair WHEEL [--site FILE] [-o OUTDIR] [--exclude SONAME]...: is a built wheel
 * relocatable, and make it so (repair.h). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/json.h"
#include "hpcbuild/repair.h"
#include "hpcbuild/strbuf.h"
#include "solve.h"

static const char check_help[] =
    "usage: hpcbuild check-wheel WHEEL [--site FILE] [--json]\n\n"
    "Lists every ELF file of WHEEL, the libraries it needs and the class of each: allowed (the\n"
    "manylinux allow-list), site (provided by a site external: MPI, CUDA, BLAS/LAPACK), wheel (a\n"
    "file of the wheel), private (found outside the wheel: repair vendors it) or unresolved; the\n"
    "platform tag the wheel is eligible for (from the GLIBC symbol versions it needs) and every\n"
    "problem (RUNPATH entries not relative to $ORIGIN, private or unresolved needs).\n"
    "The site file is --site, else $HPCBUILD_SITE, else /etc/hpcbuild/site.yaml when present.\n\n"
    "Exit status: 0 relocatable, 1 not relocatable (or a runtime failure), 2 a bad wheel or site.\n"
    "Example: hpcbuild check-wheel --site site.yaml dist/mpiext-1.0-cp311-cp311-linux_x86_64.whl\n";

static const char repair_help[] =
    "usage: hpcbuild repair WHEEL [--site FILE] [-o OUTDIR] [--exclude SONAME]...\n\n"
    "Writes a relocatable copy of WHEEL into OUTDIR (default wheelhouse): private libraries are\n"
    "copied into <name>.libs/ under hashed sonames, DT_NEEDED and RUNPATH rewritten to\n"
    "$ORIGIN-relative paths (patchelf), absolute RUNPATHs dropped, site externals the wheel needs\n"
    "declared in METADATA as Requires-External DepURLs, the platform tag recomputed and RECORD\n"
    "rewritten.  --exclude leaves a library unbundled.  Prints the repaired wheel's path.\n\n"
    "Exit status: 0 repaired, 1 a runtime failure, 2 a bad wheel, site file or usage.\n"
    "Example: hpcbuild repair --site site.yaml -o wheelhouse dist/helper-1.0-cp311-cp311-linux_x86_64.whl\n";

typedef struct repair_args {
    const char *wheel, *site, *out_dir;
    bool json;
    char **excludes;
    size_t nexcludes;
} repair_args;

static int parse_args(int argc, char **argv, const char *help, bool is_repair, repair_args *a)
{
    bool opts = true;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (opts && cli_is_help(s)) {
            fputs(help, stdout);
            return -1;
        }
        if (opts && strcmp(s, "--") == 0) {
            opts = false;
            continue;
        }
        if (opts && s[0] == '-' && s[1]) {
            const char **slot = strcmp(s, "--site") == 0                            ? &a->site
                                : is_repair && (strcmp(s, "-o") == 0 || strcmp(s, "--out-dir") == 0) ? &a->out_dir
                                                                                     : NULL;
            bool exclude = is_repair && strcmp(s, "--exclude") == 0;
            if (!is_repair && strcmp(s, "--json") == 0) {
                a->json = true;
                continue;
            }
            if (!slot && !exclude)
                return cli_fail(CLI_USAGE, "unknown option '%s'", s);
            if (i + 1 >= argc)
                return cli_fail(CLI_USAGE, "%s needs a value", s);
            if (slot)
                *slot = argv[++i];
            else {
                a->excludes = hb_reallocarray(a->excludes, a->nexcludes + 2, sizeof *a->excludes);
                a->excludes[a->nexcludes++] = argv[++i];
                a->excludes[a->nexcludes] = NULL;
            }
            continue;
        }
        if (a->wheel)
            return cli_fail(CLI_USAGE, "unexpected argument '%s': expected one WHEEL", s);
        a->wheel = s;
    }
    if (!a->wheel) {
        fputs(help, stderr);
        return cli_fail(CLI_USAGE, "expected a WHEEL");
    }
    return 0;
}

/* Loads the site file (--site, $HPCBUILD_SITE, the default) when there is one. */
static int load_site(const repair_args *a, hb_site *site, bool *have)
{
    solve_options so;
    memset(&so, 0, sizeof so);
    so.site = a->site;
    const char *path = solve_site_path(&so);
    *have = false;
    if (!path || strcmp(path, "none") == 0)
        return 0;
    hb_error err;
    if (hb_site_load(site, path, &err) != 0)
        return cli_fail(CLI_USAGE, "%s", err.msg);
    *have = true;
    return 0;
}

static void print_report_json(const hb_wheel_report *r)
{
    strbuf sb = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &sb, 0);
    hb_json_begin_object(&w);
    hb_json_key(&w, "wheel");
    hb_json_string(&w, r->wheel);
    hb_json_key(&w, "relocatable");
    hb_json_bool(&w, r->relocatable);
    hb_json_member(&w, "platform", r->platform);
    hb_json_member(&w, "glibc", r->glibc_max);
    hb_json_member(&w, "arch", r->arch);
    hb_json_key(&w, "elf");
    hb_json_begin_array(&w);
    for (size_t i = 0; i < r->nelfs; i++) {
        const hb_wheel_elf *e = &r->elfs[i];
        hb_json_begin_object(&w);
        hb_json_key(&w, "file");
        hb_json_string(&w, e->file);
        hb_json_member(&w, "soname", e->soname);
        hb_json_member(&w, "rpath", e->rpath);
        hb_json_member(&w, "runpath", e->runpath);
        hb_json_member(&w, "glibc", e->glibc_max);
        hb_json_key(&w, "needs");
        hb_json_begin_array(&w);
        for (size_t k = 0; k < e->nneeds; k++) {
            const hb_wheel_need *n = &e->needs[k];
            hb_json_begin_object(&w);
            hb_json_key(&w, "name");
            hb_json_string(&w, n->name);
            hb_json_key(&w, "class");
            hb_json_string(&w, hb_need_class_name(n->cls));
            hb_json_member(&w, "path", n->path);
            hb_json_member(&w, "external", n->external);
            hb_json_end_object(&w);
        }
        hb_json_end_array(&w);
        hb_json_end_object(&w);
    }
    hb_json_end_array(&w);
    hb_json_key(&w, "requires_external");
    hb_json_string_list(&w, r->requires_external);
    hb_json_key(&w, "problems");
    hb_json_string_list(&w, r->problems);
    hb_json_end_object(&w);
    printf("%s\n", strbuf_str(&sb));
    strbuf_free(&sb);
}

static void print_report(const hb_wheel_report *r)
{
    printf("%s: %s\n", r->wheel, r->relocatable ? "relocatable" : "NOT relocatable");
    printf("platform: %s (highest GLIBC needed: %s)\n", r->platform ? r->platform : "any (no ELF files)",
           r->glibc_max ? r->glibc_max : "none");
    for (size_t i = 0; i < r->nelfs; i++) {
        const hb_wheel_elf *e = &r->elfs[i];
        printf("%s\n", e->file);
        if (e->runpath || e->rpath)
            printf("  %s %s\n", e->runpath ? "RUNPATH" : "RPATH", e->runpath ? e->runpath : e->rpath);
        for (size_t k = 0; k < e->nneeds; k++) {
            const hb_wheel_need *n = &e->needs[k];
            printf("  %-28s %-10s %s%s%s%s\n", n->name, hb_need_class_name(n->cls), n->path ? n->path : "",
                   n->external ? " (" : "", n->external ? n->external : "", n->external ? ")" : "");
        }
    }
    for (size_t i = 0; i < r->nrequires_external; i++)
        printf("requires external: %s\n", r->requires_external[i]);
    for (size_t i = 0; i < r->nproblems; i++)
        printf("problem: %s\n", r->problems[i]);
}

/* Arguments and site of check-wheel / repair: 0 to go on; else *done is the exit status (help
 * printed, or a usage error). */
static int begin_command(int argc, char **argv, const char *help, bool repair, repair_args *a, hb_site *site,
                         bool *have_site, int *done)
{
    memset(a, 0, sizeof *a);
    *have_site = false;
    int st = parse_args(argc, argv, help, repair, a);
    if (st == 0 && load_site(a, site, have_site) == 0)
        return 0;
    free(a->excludes);
    *done = st < 0 ? CLI_OK : CLI_USAGE;
    return -1;
}

static void end_command(repair_args *a, hb_site *site, bool have_site)
{
    free(a->excludes);
    if (have_site)
        hb_site_free(site);
}

int cmd_check_wheel(int argc, char **argv)
{
    repair_args a;
    hb_site site;
    bool have_site;
    int st;
    if (begin_command(argc, argv, check_help, false, &a, &site, &have_site, &st) != 0)
        return st;
    hb_error err;
    hb_wheel_report r;
    if (hb_wheel_check(a.wheel, have_site ? &site : NULL, &r, &err) != 0)
        st = cli_fail_error(&err);
    else {
        if (a.json)
            print_report_json(&r);
        else
            print_report(&r);
        st = r.relocatable ? CLI_OK : CLI_FAILED;
        hb_wheel_report_free(&r);
    }
    end_command(&a, &site, have_site);
    return st;
}

int cmd_repair(int argc, char **argv)
{
    repair_args a;
    hb_site site;
    bool have_site;
    int st;
    if (begin_command(argc, argv, repair_help, true, &a, &site, &have_site, &st) != 0)
        return st;
    hb_error err;
    char *out = NULL;
    if (hb_wheel_repair(a.wheel, have_site ? &site : NULL, (const char *const *)a.excludes,
                        a.out_dir ? a.out_dir : "wheelhouse", &out, &err) != 0)
        st = cli_fail_error(&err);
    else {
        printf("%s\n", out);
        st = CLI_OK;
    }
    free(out);
    end_command(&a, &site, have_site);
    return st;
}
