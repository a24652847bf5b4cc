/* hpcbuild conda-link PREFIX PKGDIR RECORD.json [options]: links one unpacked conda package
 * into a prefix in one transaction (debugging entry to conda_link.h);
 * hpcbuild conda-link --unlink PREFIX conda-meta/NAME-VERSION-BUILD.json removes one. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/conda_link.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/txn.h"

static const char conda_link_help[] =
    "usage: hpcbuild conda-link PREFIX PKGDIR RECORD.json [--site-packages DIR]\n"
    "                           [--link-mode hardlink|copy|symlink] [--archive FILE]\n"
    "                           [--requested SPEC]...\n"
    "       hpcbuild conda-link --unlink PREFIX conda-meta/NAME-VERSION-BUILD.json\n\n"
    "Links the unpacked conda package PKGDIR (it has info/) into PREFIX as conda does, in one\n"
    "transaction: files hard-linked from PKGDIR (or copied / symlinked), prefix placeholders\n"
    "replaced in copies, noarch: python paths moved to --site-packages (prefix-relative, e.g.\n"
    "lib/python3.11/site-packages) with link.json's entry points as bin/ scripts, and\n"
    "conda-meta/NAME-VERSION-BUILD.json written.  RECORD.json is the package's repodata record\n"
    "(a JSON object).  Prints the prefix-relative paths installed, one a line.\n"
    "--unlink removes every file a conda-meta record lists, and the record.\n\n"
    "Exit status: 0 done, 1 failure, 2 invalid input.\n"
    "Example: hpcbuild conda-link /opt/env pkgs/zlib-1.3.1-h4ab18f5_1 zlib.json\n";

typedef struct link_args {
    const char *pos[3];
    int npos;
    bool unlink;
    hb_conda_link_opts opts;
    const char **requested;
    size_t nrequested;
} link_args;

static int parse_args(link_args *a, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char **value = NULL;
        if (cli_is_help(arg)) {
            fputs(conda_link_help, stdout);
            return CLI_OK;
        }
        if (strcmp(arg, "--unlink") == 0) {
            a->unlink = true;
            continue;
        }
        const char *link_mode = NULL, *requested = NULL;
        if (strcmp(arg, "--site-packages") == 0)
            value = &a->opts.site_packages;
        else if (strcmp(arg, "--archive") == 0)
            value = &a->opts.archive;
        else if (strcmp(arg, "--link-mode") == 0)
            value = &link_mode;
        else if (strcmp(arg, "--requested") == 0)
            value = &requested;
        else if (arg[0] == '-' && arg[1])
            return cli_fail(CLI_USAGE, "conda-link: unknown option '%s'", arg);
        if (value && i + 1 >= argc)
            return cli_fail(CLI_USAGE, "conda-link: %s needs a value", arg);
        if (value)
            *value = argv[++i];
        else if (a->npos < 3)
            a->pos[a->npos++] = arg;
        else
            return cli_fail(CLI_USAGE, "conda-link: unexpected argument '%s'", arg);
        hb_error err;
        if (link_mode && hb_link_mode_parse(link_mode, &a->opts.mode, &err) != 0)
            return cli_fail_error(&err);
        if (requested) {
            a->requested = hb_reallocarray(a->requested, a->nrequested + 2, sizeof *a->requested);
            a->requested[a->nrequested++] = requested;
            a->requested[a->nrequested] = NULL;
        }
    }
    if (a->npos != (a->unlink ? 2 : 3)) {
        fputs(conda_link_help, stderr);
        return CLI_USAGE;
    }
    a->opts.requested_specs = a->requested;
    return -1;
}

static int link_package(hb_txn *t, const link_args *a, char ***files, size_t *n, hb_error *err)
{
    strbuf json = STRBUF_INIT;
    conda_record rec;
    int rc = hb_read_file(a->pos[2], &json, err);
    if (rc == 0 && conda_record_from_json(&rec, strbuf_str(&json), json.len, err) != 0)
        rc = hb_error_prefix(err, "%s", a->pos[2]);
    strbuf_free(&json);
    if (rc != 0)
        return rc;
    rc = hb_conda_link(t, a->pos[1], &rec, &a->opts, files, n, err);
    conda_record_free(&rec);
    return rc;
}

int cmd_conda_link(int argc, char **argv)
{
    link_args a = {.opts = {.mode = HB_LINK_HARDLINK}};
    int status = parse_args(&a, argc, argv);
    if (status >= 0) {
        free(a.requested);
        return status;
    }
    hb_error err;
    hb_txn *t;
    char **files = NULL;
    size_t n = 0;
    int rc = hb_txn_begin(&t, a.pos[0], 30.0, &err);
    if (rc == 0) {
        rc = a.unlink ? hb_conda_unlink(t, a.pos[1], &err) : link_package(t, &a, &files, &n, &err);
        if (rc == 0)
            rc = hb_txn_commit(t, &err);
        else
            hb_txn_abort(t);
    }
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            puts(files[i]);
        free(files[i]);
    }
    free(files);
    free(a.requested);
    return rc == 0 ? CLI_OK : cli_fail_error(&err);
}
