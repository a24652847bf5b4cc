/* hpcbuild wheel-install: an unpacked wheel into a venv-like prefix, its uninstallation, and the
 * listing of a prefix's distributions (wheel_install.h; debugging, and the oracle test's subject). */
#include "cli.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/process.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/wheel_install.h"

static const char wheel_install_help[] =
    "usage: hpcbuild wheel-install PREFIX WHEEL_DIR --python PATH [--project NAME]\n"
    "                              [--link-mode hardlink|copy|symlink] [--requested]\n"
    "       hpcbuild wheel-install PREFIX --uninstall NAME --python PATH\n"
    "       hpcbuild wheel-install PREFIX --list --python PATH\n\n"
    "Installs the unpacked wheel WHEEL_DIR into PREFIX as one transaction, with the scheme of a\n"
    "venv: lib/pythonX.Y/site-packages (purelib and platlib), bin (scripts), PREFIX (data) and\n"
    "include/site/pythonX.Y/NAME (headers), X.Y being PATH's version.  RECORD is verified first\n"
    "(an unlisted file or a wrong hash refuses the wheel), '#!python' scripts and entry points\n"
    "get PATH in their shebang (a /bin/sh trampoline when it is too long or has spaces).\n"
    "--project finds the .dist-info when the directory has more than one; its name (as given, else\n"
    "the .dist-info's) names the headers directory.  Prints the installed files, prefix-relative.\n"
    "--uninstall removes what NAME's RECORD lists (and the .pyc files of its .py files);\n"
    "--list prints 'name version installer dist-info' per distribution.\n\n"
    "Example: hpcbuild wheel-install /opt/envs/demo unpacked/ --python /opt/envs/demo/bin/python\n";

typedef struct wheel_install_args {
    const char *prefix, *dir, *python, *project, *uninstall;
    bool list, requested;
    enum hb_link_mode mode;
} wheel_install_args;

/* "X.Y" (or "X.Yt" for a free-threaded build) of the interpreter. */
static int python_version(const char *python, strbuf *out, hb_error *err)
{
    const char *argv[] = {python, "-c",
                          "import sys; print('%d.%d%s' % (sys.version_info[0], sys.version_info[1], "
                          "'t' if 't' in getattr(sys, 'abiflags', '') else ''))",
                          NULL};
    process_result res;
    if (process_run(argv, &res, err) != 0)
        return -1;
    int rc = 0;
    size_t n = strcspn(res.out, "\r\n");
    if (res.exit_status != 0 || n == 0)
        rc = hb_error_set(err, HB_EINVAL, "'%s' did not tell its version (exit status %d): expected a Python",
                          python, res.exit_status);
    else
        strbuf_append(out, res.out, n);
    process_result_free(&res);
    return rc;
}

/* The project part ("Foo.Bar" of "Foo.Bar-1.0.dist-info") of the first .dist-info in dir, or NULL
 * (hb_wheel_install then says what is wrong with the directory). */
static char *dist_info_project(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *found = NULL;
    while (d && !found && (e = readdir(d))) {
        size_t n = strlen(e->d_name), suffix = strlen(".dist-info");
        if (n > suffix && strcmp(e->d_name + n - suffix, ".dist-info") == 0)
            found = hb_strndup(e->d_name, strcspn(e->d_name, "-"));
    }
    if (d)
        closedir(d);
    return found;
}

static int run_install(const wheel_install_args *a, const char *site, const char *version)
{
    hb_error err;
    char *project = a->project ? hb_strdup(a->project) : dist_info_project(a->dir);
    strbuf headers = STRBUF_INIT;
    strbuf_printf(&headers, "include/site/python%s/%s", version, project ? project : "UNKNOWN");
    hb_wheel_install_opts o = {a->python, {site, site, "bin", "", headers.buf}, a->project, a->requested,
                               NULL, a->mode, NULL};
    hb_txn *t = NULL;
    char **files = NULL;
    size_t n = 0;
    int rc = hb_txn_begin(&t, a->prefix, 0, &err);
    if (rc == 0 && hb_wheel_install(t, a->dir, &o, &files, &n, &err) != 0) {
        hb_txn_abort(t);
        rc = -1;
    } else if (rc == 0) {
        rc = hb_txn_commit(t, &err);
    }
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            printf("%s\n", files[i]);
        free(files[i]);
    }
    free(files);
    free(project);
    strbuf_free(&headers);
    return rc == 0 ? CLI_OK : cli_fail_error(&err);
}

static int run_uninstall(const wheel_install_args *a, const char *site)
{
    hb_error err;
    hb_txn *t = NULL;
    int rc = hb_txn_begin(&t, a->prefix, 0, &err);
    if (rc == 0 && hb_wheel_uninstall(t, site, a->uninstall, &err) != 0) {
        hb_txn_abort(t);
        rc = -1;
    } else if (rc == 0) {
        rc = hb_txn_commit(t, &err);
    }
    return rc == 0 ? CLI_OK : cli_fail_error(&err);
}

static int run_list(const wheel_install_args *a, const char *site)
{
    hb_error err;
    hb_installed_dist *d = NULL;
    size_t n = 0;
    if (hb_wheel_list(a->prefix, site, &d, &n, &err) != 0)
        return cli_fail_error(&err);
    for (size_t i = 0; i < n; i++)
        printf("%s %s %s %s\n", d[i].name, d[i].version, d[i].installer ? d[i].installer : "-",
               d[i].dist_info);
    hb_installed_dists_free(d, n);
    return CLI_OK;
}

/* Reads argv into a; CLI_OK to go on, else the exit status. */
static int parse_args(int argc, char **argv, wheel_install_args *a)
{
    const char *pos[2];
    size_t npos = 0;
    hb_error err;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool takes_value = strcmp(arg, "--python") == 0 || strcmp(arg, "--project") == 0 ||
                           strcmp(arg, "--uninstall") == 0 || strcmp(arg, "--link-mode") == 0;
        if (cli_is_help(arg)) {
            fputs(wheel_install_help, stdout);
            return -1;
        }
        if (takes_value && i + 1 == argc)
            return cli_fail(CLI_USAGE, "wheel-install: %s needs a value", arg);
        if (strcmp(arg, "--python") == 0)
            a->python = argv[++i];
        else if (strcmp(arg, "--project") == 0)
            a->project = argv[++i];
        else if (strcmp(arg, "--uninstall") == 0)
            a->uninstall = argv[++i];
        else if (strcmp(arg, "--link-mode") == 0) {
            if (hb_link_mode_parse(argv[++i], &a->mode, &err) != 0)
                return cli_fail_error(&err);
        } else if (strcmp(arg, "--list") == 0)
            a->list = true;
        else if (strcmp(arg, "--requested") == 0)
            a->requested = true;
        else if (arg[0] == '-' && arg[1] == '-')
            return cli_fail(CLI_USAGE, "wheel-install: unknown option '%s'", arg);
        else if (npos == 2)
            return cli_fail(CLI_USAGE, "wheel-install: unexpected argument '%s'", arg);
        else
            pos[npos++] = arg;
    }
    size_t want = a->list || a->uninstall ? 1 : 2;
    if (npos != want || !a->python || (a->list && a->uninstall)) {
        fputs(wheel_install_help, stderr);
        return CLI_USAGE;
    }
    if (a->python[0] != '/')
        return cli_fail(CLI_USAGE, "wheel-install: --python '%s': expected an absolute path", a->python);
    a->prefix = pos[0];
    a->dir = npos == 2 ? pos[1] : NULL;
    return CLI_OK;
}

int cmd_wheel_install(int argc, char **argv)
{
    wheel_install_args a = {NULL, NULL, NULL, NULL, NULL, false, false, HB_LINK_HARDLINK};
    int status = parse_args(argc, argv, &a);
    if (status != CLI_OK)
        return status < 0 ? CLI_OK : status;
    hb_error err;
    strbuf version = STRBUF_INIT, site = STRBUF_INIT;
    if (python_version(a.python, &version, &err) != 0)
        return cli_fail_error(&err);
    strbuf_printf(&site, "lib/python%s/site-packages", version.buf);
    if (a.list)
        status = run_list(&a, site.buf);
    else if (a.uninstall)
        status = run_uninstall(&a, site.buf);
    else
        status = run_install(&a, site.buf, version.buf);
    strbuf_free(&version);
    strbuf_free(&site);
    return status;
}
