/* hpcbuild mapping show|refresh|external: the conda <-> PyPI name mapping and the
 * PEP 804 DepURL -> conda-forge mapping. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/external.h"
#include "hpcbuild/fetch_cache.h"
#include "hpcbuild/http.h"
#include "hpcbuild/json.h"
#include "hpcbuild/name_map.h"

static const char mapping_help[] =
    "usage: hpcbuild mapping show NAME\n"
    "       hpcbuild mapping refresh [--from URL|FILE]\n"
    "       hpcbuild mapping external [--category build|host|run] [--json]\n"
    "                                 [--mapping FILE] [--registry FILE] DEPURL...\n\n"
    "show      NAME as a conda package (its PyPI name, or 'not a Python package') and as a\n"
    "          PyPI project (the conda packages that provide it), from parselmouth's\n"
    "          compressed_mapping.json.  Exit status 1 when NAME is in neither direction.\n"
    "refresh   downloads a newer compressed_mapping.json (default " HB_NAME_MAP_URL ")\n"
    "          into $HPCBUILD_CACHE/mapping/, checked before it replaces the old copy; it then\n"
    "          takes precedence over the shipped one.\n"
    "external  the conda-forge MatchSpecs that satisfy each PEP 725 DepURL (PEP 804\n"
    "          mapping + registry), for the build, host or run (default) category.  One line\n"
    "          per DepURL: DEPURL, TAB, the specs separated by TAB, or '(no mapping)';\n"
    "          --json prints {DEPURL: [specs] or null}.\n\n"
    "Data: $HPCBUILD_DATA (default " HPCBUILD_DATADIR ") holds name-mapping/ and external/.\n"
    "Example: hpcbuild mapping show numpy\n"
    "         hpcbuild mapping external --category host dep:virtual/interface/blas\n";

static const char *datadir(void)
{
    const char *d = getenv("HPCBUILD_DATA");
    return d && *d ? d : HPCBUILD_DATADIR;
}

static int load_names(hb_name_map **m, hb_error *err)
{
    char *root = hb_fetch_cache_default_root(NULL);
    char *path = hb_name_map_path(root, datadir());
    int rc = hb_name_map_load(m, path, err);
    free(path);
    free(root);
    return rc;
}

static int mapping_show(int argc, char **argv)
{
    if (argc != 3)
        return cli_fail(CLI_USAGE, "mapping show takes one NAME");
    const char *name = argv[2];
    hb_name_map *m;
    hb_error err;
    if (load_names(&m, &err) != 0)
        return cli_fail_error(&err);
    bool known;
    const char *pypi = hb_name_map_pypi(m, name, &known);
    if (known)
        printf("conda %s -> PyPI %s\n", name, pypi ? pypi : "(not a Python package)");
    const char *const *conda;
    size_t n;
    hb_name_map_conda(m, name, &conda, &n);
    if (n) {
        printf("PyPI %s -> conda", name);
        for (size_t i = 0; i < n; i++)
            printf("%s %s", i ? "," : "", conda[i]);
        putchar('\n');
    }
    hb_name_map_free(m);
    if (!known && !n)
        return cli_fail(CLI_FAILED, "'%s' is neither a conda package nor a PyPI project in the mapping",
                        name);
    return CLI_OK;
}

static int mapping_refresh(int argc, char **argv)
{
    const char *from = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else
            return cli_fail(CLI_USAGE, "mapping refresh: unexpected argument '%s' (expected --from URL|FILE)",
                            argv[i]);
    }
    hb_error err;
    char *root = hb_fetch_cache_default_root(&err);
    if (!root)
        return cli_fail_error(&err);
    if (hb_http_global_init(&err) != 0) {
        free(root);
        return cli_fail_error(&err);
    }
    size_t n = 0;
    int rc = hb_name_map_refresh(root, from, &n, &err);
    hb_http_global_cleanup();
    if (rc == 0)
        printf("%s/mapping/%s: %zu names\n", root, HB_NAME_MAP_FILE, n);
    free(root);
    return rc == 0 ? CLI_OK : cli_fail_error(&err);
}

static int parse_category(const char *s)
{
    static const char *const names[] = {"build", "host", "run"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static int mapping_external(int argc, char **argv)
{
    int category = HB_EXTERNAL_RUN;
    bool json = false;
    char *mapping = NULL, *registry = NULL;
    int first = argc;
    for (int i = 2; i < argc && first == argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--json") == 0)
            json = true;
        else if (strcmp(a, "--category") == 0 && has_value) {
            if ((category = parse_category(argv[++i])) < 0)
                return cli_fail(CLI_USAGE, "mapping external: unknown category '%s': expected build, "
                                "host or run", argv[i]);
        }
        else if (strcmp(a, "--mapping") == 0 && has_value)
            mapping = argv[++i];
        else if (strcmp(a, "--registry") == 0 && has_value)
            registry = argv[++i];
        else if (a[0] == '-' && a[1] == '-')
            return cli_fail(CLI_USAGE, "mapping external: unexpected option '%s'", a);
        else
            first = i;
    }
    if (first == argc)
        return cli_fail(CLI_USAGE, "mapping external needs a DEPURL, e.g. dep:generic/zlib");
    char default_mapping[4096], default_registry[4096];
    snprintf(default_mapping, sizeof default_mapping, "%s/external/conda-forge.mapping.json", datadir());
    snprintf(default_registry, sizeof default_registry, "%s/external/registry.json", datadir());
    hb_external_map *m;
    hb_error err;
    if (hb_external_map_load(&m, mapping ? mapping : default_mapping, registry ? registry : default_registry,
                             &err) != 0)
        return cli_fail_error(&err);
    strbuf out = STRBUF_INIT, text = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 0);
    hb_json_begin_object(&w);
    int status = CLI_OK;
    for (int i = first; i < argc && status == CLI_OK; i++) {
        char **specs;
        if (hb_external_map_conda(m, argv[i], category, &specs, &err) < 0) {
            status = cli_fail_error(&err);
            break;
        }
        if (json) {
            hb_json_key(&w, argv[i]);
            if (specs)
                hb_json_string_list(&w, specs);
            else
                hb_json_null(&w);
        } else {
            strbuf_puts(&text, argv[i]);
            for (char **p = specs; p && *p; p++)
                strbuf_printf(&text, "\t%s", *p);
            strbuf_puts(&text, specs ? "\n" : "\t(no mapping)\n");
        }
        hb_external_strv_free(specs);
    }
    hb_json_end_object(&w);
    if (status == CLI_OK) {
        if (json)
            puts(strbuf_str(&out));
        else
            fputs(strbuf_str(&text), stdout);
    }
    strbuf_free(&out);
    strbuf_free(&text);
    hb_external_map_free(m);
    return status;
}

int cmd_mapping(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(mapping_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "show") == 0)
        return mapping_show(argc, argv);
    if (strcmp(argv[1], "refresh") == 0)
        return mapping_refresh(argc, argv);
    if (strcmp(argv[1], "external") == 0)
        return mapping_external(argc, argv);
    return cli_fail(CLI_USAGE, "unknown mapping subcommand '%s': expected show, refresh or external", argv[1]);
}
