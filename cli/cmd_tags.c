/* hpcbuild tags [--python PATH | --python-version X.Y] [--json]: the wheel tags a
 * target interpreter supports, best first.
 * hpcbuild distname [--project NAME] FILE...: wheel and sdist file names parsed, as JSON. */
#include "cli.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/distname.h"
#include "hpcbuild/json.h"
#include "hpcbuild/pep440.h"
#include "hpcbuild/tags.h"

static const char tags_help[] =
    "usage: hpcbuild tags [--python PATH | --python-version X.Y] [--json]\n\n"
    "Prints the wheel tags the target interpreter supports, one per line, most preferred\n"
    "first, in packaging 26.3's sys_tags() order: the native linux_ARCH platform before\n"
    "manylinux_X_Y (newest glibc first, legacy manylinux2014/2010/1 aliases in their places)\n"
    "or musllinux_1_Y; the interpreter's ABI, then abi3 (abi3t when free-threaded) down to\n"
    "cp32, none, then py tags, then any.\n"
    "--python PATH         ask this interpreter (default: python3 on PATH); it is run once\n"
    "--python-version X.Y  CPython X.Y on this machine, without running anything\n"
    "--json                {\"target\": {...}, \"tags\": [...]} on one line\n\n"
    "Example: hpcbuild tags --python /usr/bin/python3 | head -2\n"
    "         cp311-cp311-linux_x86_64\n"
    "         cp311-cp311-manylinux_2_36_x86_64\n";

static const char distname_help[] =
    "usage: hpcbuild distname [--project NAME] FILE...\n\n"
    "Parses wheel and sdist file names (percent-decoded first, so torch-2.1.2%2Bcu121-...\n"
    "works) and prints one JSON object a line: kind, name, normalized, version,\n"
    "version_normalized, build ({\"number\": N, \"rest\": S} or null), tags (the expanded\n"
    "python-abi-platform triples of a wheel) and ext.\n"
    "--project NAME  the project the files were listed under: splits legacy sdist names\n"
    "                such as python-dateutil-2.8.2.tar.gz by that name\n"
    "An invalid name prints one line on stderr; the exit status is then 2.\n\n"
    "Example: hpcbuild distname numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl\n";

/* Reads "--opt VALUE" or "--opt=VALUE" at argv[*i]; NULL when argv[*i] is not opt. */
static const char *option_value(int argc, char **argv, int *i, const char *opt, bool *missing)
{
    size_t n = strlen(opt);
    const char *a = argv[*i];
    if (strncmp(a, opt, n) != 0 || (a[n] && a[n] != '='))
        return NULL;
    const char *v = a[n] == '=' ? a + n + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
    *missing = !v || !*v;
    return v ? v : "";
}

static void print_target_json(hb_json_writer *w, const hb_python_target *t)
{
    char buf[64];
    hb_json_begin_object(w);
    hb_json_key(w, "impl");
    hb_json_string(w, t->impl);
    hb_json_key(w, "python_version");
    snprintf(buf, sizeof buf, "%d.%d", t->py_major, t->py_minor);
    hb_json_string(w, buf);
    hb_json_key(w, "abi");
    hb_json_string(w, t->abi);
    hb_json_key(w, "free_threaded");
    hb_json_bool(w, t->free_threaded);
    hb_json_key(w, "platform");
    hb_json_string(w, t->platform);
    hb_json_key(w, "arch");
    hb_json_string(w, t->arch);
    hb_json_key(w, "libc");
    hb_json_string_or_null(w, t->libc == HB_LIBC_GLIBC ? "glibc" : t->libc == HB_LIBC_MUSL ? "musl" : NULL);
    hb_json_key(w, "libc_version");
    snprintf(buf, sizeof buf, "%d.%d", t->libc_major, t->libc_minor);
    hb_json_string_or_null(w, t->libc == HB_LIBC_NONE ? NULL : buf);
    hb_json_end_object(w);
}

int cmd_tags(int argc, char **argv)
{
    const char *python = NULL, *pyver = NULL;
    bool json = false, missing = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_is_help(argv[i])) {
            fputs(tags_help, stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if ((v = option_value(argc, argv, &i, "--python", &missing))) {
            if (missing)
                return cli_fail(CLI_USAGE, "--python needs the path of an interpreter");
            python = v;
        } else if ((v = option_value(argc, argv, &i, "--python-version", &missing))) {
            if (missing)
                return cli_fail(CLI_USAGE, "--python-version needs X.Y, e.g. 3.12");
            pyver = v;
        } else if (argv[i][0] == '-') {
            return cli_fail(CLI_USAGE, "unknown option '%s'", argv[i]);
        } else {
            return cli_fail(CLI_USAGE, "tags takes no arguments, got '%s' (see hpcbuild tags --help)", argv[i]);
        }
    }
    if (python && pyver)
        return cli_fail(CLI_USAGE, "give either --python or --python-version, not both");
    hb_python_target t;
    hb_error err;
    if (pyver) {
        int major, minor, end = 0;
        if (sscanf(pyver, "%d.%d%n", &major, &minor, &end) != 2 || pyver[end])
            return cli_fail(CLI_USAGE, "invalid --python-version '%s': expected X.Y, e.g. 3.12", pyver);
        if (hb_python_target_native(&t, major, minor, &err) != 0)
            return cli_fail_error(&err);
    } else if (hb_python_target_from_python(&t, python ? python : "python3", &err) != 0) {
        return cli_fail_error(&err);
    }
    hb_tag_set *ts = hb_tag_set_new(&t);
    strbuf out = STRBUF_INIT;
    if (json) {
        hb_json_writer w;
        hb_json_writer_init(&w, &out, 0);
        hb_json_begin_object(&w);
        hb_json_key(&w, "target");
        print_target_json(&w, &t);
        hb_json_key(&w, "tags");
        hb_json_begin_array(&w);
        for (size_t i = 0; i < hb_tag_set_count(ts); i++)
            hb_json_string(&w, hb_tag_set_get(ts, i));
        hb_json_end_array(&w);
        hb_json_end_object(&w);
        strbuf_putc(&out, '\n');
    } else {
        for (size_t i = 0; i < hb_tag_set_count(ts); i++)
            strbuf_printf(&out, "%s\n", hb_tag_set_get(ts, i));
    }
    fwrite(out.buf, 1, out.len, stdout);
    strbuf_free(&out);
    hb_tag_set_free(ts);
    return CLI_OK;
}

static void print_distname_json(const char *file, const hb_distname *d)
{
    strbuf out = STRBUF_INIT, ver = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 0);
    hb_json_begin_object(&w);
    hb_json_key(&w, "filename");
    hb_json_string(&w, file);
    hb_json_key(&w, "kind");
    hb_json_string(&w, d->kind == HB_DIST_WHEEL ? "wheel" : "sdist");
    hb_json_key(&w, "name");
    hb_json_string(&w, d->name);
    hb_json_key(&w, "normalized");
    hb_json_string(&w, d->normalized);
    hb_json_key(&w, "version");
    hb_json_string(&w, d->version);
    pep440_version v;
    if (pep440_version_parse(&v, d->version, strlen(d->version), NULL) == 0) {
        pep440_version_format(&v, &ver);
        pep440_version_free(&v);
    }
    hb_json_key(&w, "version_normalized");
    hb_json_string(&w, strbuf_str(&ver));
    hb_json_key(&w, "build");
    if (d->has_build) {
        hb_json_begin_object(&w);
        hb_json_key(&w, "number");
        hb_json_int64(&w, d->build_num > INT64_MAX ? INT64_MAX : (int64_t)d->build_num);
        hb_json_key(&w, "rest");
        hb_json_string(&w, d->build_rest);
        hb_json_end_object(&w);
    } else {
        hb_json_null(&w);
    }
    hb_json_key(&w, "tags");
    if (d->tags)
        hb_json_string_list(&w, d->tags);
    else
        hb_json_null(&w);
    hb_json_key(&w, "ext");
    hb_json_string(&w, d->ext);
    hb_json_end_object(&w);
    puts(strbuf_str(&out));
    strbuf_free(&out);
    strbuf_free(&ver);
}

int cmd_distname(int argc, char **argv)
{
    const char *project = NULL;
    bool only_files = false, missing = false;
    char **files = hb_calloc((size_t)argc, sizeof *files);
    size_t nfiles = 0;
    int status = CLI_OK, failed = CLI_OK;
    for (int i = 1; i < argc && status == CLI_OK; i++) {
        const char *v;
        if (!only_files && strcmp(argv[i], "--") == 0) {
            only_files = true;
        } else if (!only_files && cli_is_help(argv[i])) {
            fputs(distname_help, stdout);
            free(files);
            return CLI_OK;
        } else if (!only_files && (v = option_value(argc, argv, &i, "--project", &missing))) {
            project = v;
            if (missing)
                status = cli_fail(CLI_USAGE, "--project needs a project name");
        } else if (!only_files && argv[i][0] == '-' && argv[i][1] == '-') {
            status = cli_fail(CLI_USAGE, "unknown option '%s'", argv[i]);
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (status == CLI_OK && nfiles == 0)
        status = cli_fail(CLI_USAGE, "distname needs at least one FILE, e.g. foo-1.0-py3-none-any.whl");
    for (size_t i = 0; i < nfiles && status == CLI_OK; i++) {
        hb_distname d;
        hb_error err;
        if (hb_distname_parse(&d, files[i], project, &err) != 0) {
            failed = cli_fail_error(&err);
            continue;
        }
        print_distname_json(files[i], &d);
        hb_distname_free(&d);
    }
    free(files);
    return status == CLI_OK ? failed : status;
}
