/* hpcbuild sdist-info PATH: what an sdist (or a pyproject.toml) declares, as JSON:
 * PKG-INFO's dependency fields, [build-system] requires and PEP 725 [external]. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/external.h"
#include "hpcbuild/json.h"
#include "hpcbuild/sdist.h"
#include "hpcbuild/toml.h"

static const char sdist_help[] =
    "usage: hpcbuild sdist-info PATH\n\n"
    "Reads PKG-INFO and pyproject.toml from an sdist (.tar.gz, .tar.bz2, .tar.xz, .zip)\n"
    "without unpacking it and prints one JSON object: name, version, metadata_version,\n"
    "static_deps (PKG-INFO >= 2.2 with no dependency field Dynamic: usable without\n"
    "building), requires_dist, requires_python, provides_extra, dynamic, build_requires and\n"
    "external (PEP 725, normalized DepURLs; the pre-2025 key spellings and pkg:/virtual:\n"
    "DepURLs are read with warnings).  A PATH ending in .toml is read as a pyproject.toml\n"
    "(build_requires and external only).  Warnings go to stderr.\n\n"
    "Exit status: 0 read, 1 unreadable file, 2 invalid content.\n"
    "Example: hpcbuild sdist-info dist/scipy-1.14.0.tar.gz\n";

static void write_lists(hb_json_writer *w, const char *key, const hb_external_list *l, size_t n)
{
    hb_json_key(w, key);
    hb_json_begin_object(w);
    for (size_t i = 0; i < n; i++) {
        hb_json_key(w, l[i].key);
        hb_json_string_list(w, l[i].specs);
    }
    hb_json_end_object(w);
}

static void write_external(hb_json_writer *w, const hb_external_deps *d)
{
    hb_json_key(w, "external");
    hb_json_begin_object(w);
    hb_json_key(w, "build-requires");
    hb_json_string_list(w, d->build_requires);
    hb_json_key(w, "host-requires");
    hb_json_string_list(w, d->host_requires);
    hb_json_key(w, "dependencies");
    hb_json_string_list(w, d->dependencies);
    write_lists(w, "optional-build-requires", d->optional_build, d->noptional_build);
    write_lists(w, "optional-host-requires", d->optional_host, d->noptional_host);
    write_lists(w, "optional-dependencies", d->optional_deps, d->noptional_deps);
    write_lists(w, "dependency-groups", d->groups, d->ngroups);
    hb_json_end_object(w);
}

static void write_list_or_null(hb_json_writer *w, const char *key, char *const *v)
{
    hb_json_key(w, key);
    if (v)
        hb_json_string_list(w, v);
    else
        hb_json_null(w);
}

static void print_warnings(const char *lines)
{
    while (lines && *lines) {
        const char *nl = strchr(lines, '\n');
        int len = nl ? (int)(nl - lines) : (int)strlen(lines);
        fprintf(stderr, "hpcbuild: warning: %.*s\n", len, lines);
        lines += len + (nl ? 1 : 0);
    }
}

static int show_sdist(const char *path)
{
    hb_sdist_info info;
    hb_error err;
    if (hb_sdist_read(&info, path, &err) != 0) {
        hb_sdist_info_free(&info);
        return cli_fail_error(&err);
    }
    print_warnings(info.warnings);
    strbuf out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 0);
    hb_json_begin_object(&w);
    hb_json_key(&w, "top");
    hb_json_string(&w, info.top);
    hb_json_key(&w, "has_pkg_info");
    hb_json_bool(&w, info.pkg_info != NULL);
    hb_json_key(&w, "metadata_version");
    if (info.pkg_info) {
        char mv[32];
        snprintf(mv, sizeof mv, "%d.%d", info.md_major, info.md_minor);
        hb_json_string(&w, mv);
    } else {
        hb_json_null(&w);
    }
    hb_json_key(&w, "name");
    hb_json_string_or_null(&w, info.name);
    hb_json_key(&w, "version");
    hb_json_string_or_null(&w, info.version);
    hb_json_key(&w, "static_deps");
    hb_json_bool(&w, info.static_deps);
    write_list_or_null(&w, "requires_dist", info.requires_dist);
    hb_json_key(&w, "requires_python");
    hb_json_string_or_null(&w, info.requires_python);
    write_list_or_null(&w, "provides_extra", info.provides_extra);
    write_list_or_null(&w, "dynamic", info.dynamic);
    hb_json_key(&w, "has_pyproject");
    hb_json_bool(&w, info.pyproject != NULL);
    write_list_or_null(&w, "build_requires", info.build_requires);
    write_external(&w, &info.external);
    hb_json_end_object(&w);
    puts(strbuf_str(&out));
    strbuf_free(&out);
    hb_sdist_info_free(&info);
    return CLI_OK;
}

static int show_pyproject(const char *path)
{
    hb_error err;
    toml_value *root = toml_parse_file(path, &err);
    if (!root)
        return cli_fail_error(&err);
    hb_external_deps d;
    strbuf warnings = STRBUF_INIT;
    int rc = hb_external_from_pyproject(&d, root, &warnings, &err);
    print_warnings(strbuf_str(&warnings));
    strbuf_free(&warnings);
    if (rc == 0) {
        strbuf out = STRBUF_INIT;
        hb_json_writer w;
        hb_json_writer_init(&w, &out, 0);
        hb_json_begin_object(&w);
        write_external(&w, &d);
        hb_json_end_object(&w);
        puts(strbuf_str(&out));
        strbuf_free(&out);
    }
    hb_external_deps_free(&d);
    toml_free(root);
    return rc == 0 ? CLI_OK : cli_fail_error(&err);
}

int cmd_sdist_info(int argc, char **argv)
{
    if (argc == 2 && cli_is_help(argv[1])) {
        fputs(sdist_help, stdout);
        return CLI_OK;
    }
    if (argc != 2) {
        fputs(sdist_help, stderr);
        return cli_fail(CLI_USAGE, "sdist-info takes one PATH");
    }
    size_t len = strlen(argv[1]);
    if (len > 5 && strcmp(argv[1] + len - 5, ".toml") == 0)
        return show_pyproject(argv[1]);
    return show_sdist(argv[1]);
}
