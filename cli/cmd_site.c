/* hpcbuild site detect|show: find out what this machine provides and write site.yaml
 * (builder/site_detect.c), or show a site file (solver/site.c). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hpcbuild/fs.h"
#include "hpcbuild/site.h"
#include "hpcbuild/site_detect.h"
#include "hpcbuild/strbuf.h"

#define SYSTEM_SITE_FILE "/etc/hpcbuild/site.yaml"

static const char site_help[] =
    "usage: hpcbuild site detect [-o FILE] [--base FILE|none]\n"
    "       hpcbuild site show [--yaml] [FILE]\n\n"
    "detect  finds this machine's MPI, BLAS/LAPACK, CUDA, compilers, Python interpreters,\n"
    "        glibc, x86-64 level and loaded environment modules, and writes them as a site\n"
    "        file to FILE (a one-line summary is printed) or, without -o, to stdout.  It\n"
    "        merges into a base: --base FILE, else FILE when it exists, else " SYSTEM_SITE_FILE "\n"
    "        when that exists.  Base entries with `found-by: hand` (or without found-by) and\n"
    "        entries detection does not find are kept; the others are replaced.\n"
    "show    prints a site file's entries, each with how it was found (--yaml: the file as\n"
    "        YAML, normalized).  FILE defaults to $HPCBUILD_SITE, else " SYSTEM_SITE_FILE ".\n\n"
    "The file's format is in docs/site.md; `hpcbuild solve --site FILE` uses it.\n"
    "Example: hpcbuild site detect -o site.yaml && hpcbuild site show site.yaml\n";

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* "site: x86_64_v3, glibc 2.36, openmpi 4.1.4, ..." */
static void print_summary(const hb_site *s, const char *written, size_t before)
{
    fputs("site:", stdout);
    const char *sep = " ";
    for (size_t i = 0; i < s->nvirtuals; i++) {
        const hb_site_virtual *v = &s->virtuals[i];
        if (!*v->version)
            continue;
        if (strcmp(v->name, "__archspec") == 0 && v->build)
            printf("%s%s", sep, v->build);
        else
            printf("%s%s %s", sep, v->name + 2, v->version);
        sep = ", ";
    }
    for (size_t i = 0; i < s->nexternals; i++, sep = ", ")
        printf("%s%s %s", sep, s->externals[i].name, s->externals[i].version);
    printf("\nwritten to %s (%zu entries, %zu from the base file)\n", written,
           s->nvirtuals + s->nexternals, before);
}

static int site_detect(int argc, char **argv)
{
    const char *out_path = NULL, *base_path = NULL;
    for (int i = 2; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(site_help, stdout);
            return CLI_OK;
        }
        bool is_out = strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0;
        bool is_base = strcmp(argv[i], "--base") == 0;
        if ((is_out || is_base) && i + 1 >= argc)
            return cli_fail(CLI_USAGE, "site detect: %s needs a FILE", argv[i]);
        if (is_out)
            out_path = argv[++i];
        else if (is_base)
            base_path = argv[++i];
        else
            return cli_fail(CLI_USAGE, "site detect: unexpected argument '%s': expected -o FILE or "
                            "--base FILE|none", argv[i]);
    }
    if (!base_path)
        base_path = out_path && exists(out_path) ? out_path
                    : exists(SYSTEM_SITE_FILE) ? SYSTEM_SITE_FILE : "none";
    hb_site base, detected;
    hb_error err;
    if (strcmp(base_path, "none") == 0) {
        memset(&base, 0, sizeof base);
    } else if (hb_site_load(&base, base_path, &err) != 0) {
        return cli_fail_error(&err);
    }
    size_t before = base.nvirtuals + base.nexternals;
    hb_site_detect(&detected, NULL, &err);
    hb_site_merge(&base, &detected);
    strbuf yaml = STRBUF_INIT;
    hb_site_write(&base, &yaml);
    /* What is written must load: check it before it replaces anything. */
    hb_site check;
    int rc = hb_site_parse(&check, strbuf_str(&yaml), yaml.len, out_path ? out_path : "<stdout>",
                           &err);
    if (rc == 0) {
        hb_site_free(&check);
        if (!out_path)
            fputs(strbuf_str(&yaml), stdout);
        else if ((rc = hb_write_file_atomic(out_path, yaml.buf, yaml.len, &err)) == 0)
            print_summary(&base, out_path, before);
    }
    strbuf_free(&yaml);
    hb_site_free(&base);
    return rc == 0 ? CLI_OK : cli_fail_error(&err);
}

static void print_entries(const hb_site *s)
{
    printf("site file: %s\n", s->path);
    if (s->nvirtuals)
        puts("virtual packages:");
    for (size_t i = 0; i < s->nvirtuals; i++) {
        const hb_site_virtual *v = &s->virtuals[i];
        char head[160];
        snprintf(head, sizeof head, "%s %s%s%s", v->name, *v->version ? v->version : "(removed)",
                 v->build ? " " : "", v->build ? v->build : "");
        printf("  %-36s found by: %s\n", head, v->found_by ? v->found_by : "(not said)");
    }
    if (s->nexternals)
        puts("externals:");
    for (size_t i = 0; i < s->nexternals; i++) {
        const hb_site_external *e = &s->externals[i];
        char head[160];
        snprintf(head, sizeof head, "%s %s %s", e->name, e->version, e->build);
        printf("  %-36s found by: %s\n", head, e->found_by ? e->found_by : "(not said)");
        if (e->nprovides) {
            fputs("      provides", stdout);
            for (size_t j = 0; j < e->nprovides; j++)
                printf(" %s", e->provides[j]);
            putchar('\n');
        }
        if (e->prefix)
            printf("      prefix %s\n", e->prefix);
        if (e->module)
            printf("      module %s\n", e->module);
    }
}

static int site_show(int argc, char **argv)
{
    const char *path = NULL;
    bool yaml = false;
    for (int i = 2; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(site_help, stdout);
            return CLI_OK;
        }
        if (strcmp(argv[i], "--yaml") == 0)
            yaml = true;
        else if (argv[i][0] == '-' || path)
            return cli_fail(CLI_USAGE, "site show: unexpected argument '%s': expected [--yaml] [FILE]",
                            argv[i]);
        else
            path = argv[i];
    }
    if (!path)
        path = getenv("HPCBUILD_SITE") && *getenv("HPCBUILD_SITE") ? getenv("HPCBUILD_SITE")
                                                                   : SYSTEM_SITE_FILE;
    hb_site s;
    hb_error err;
    if (hb_site_load(&s, path, &err) != 0)
        return cli_fail_error(&err);
    if (yaml) {
        strbuf out = STRBUF_INIT;
        hb_site_write(&s, &out);
        fputs(strbuf_str(&out), stdout);
        strbuf_free(&out);
    } else {
        print_entries(&s);
    }
    hb_site_free(&s);
    return CLI_OK;
}

int cmd_site(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(site_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "detect") == 0)
        return site_detect(argc, argv);
    if (strcmp(argv[1], "show") == 0)
        return site_show(argc, argv);
    return cli_fail(CLI_USAGE, "site: unknown subcommand '%s': expected detect or show", argv[1]);
}
