/* hpcbuild recipe lint FILE... | recipe new SOURCE|NAME==VERSION [-o FILE] | recipe variants
 * FILE: check build recipes (every problem with file:line and a hint), draft one from an sdist,
 * a source directory or NAME==VERSION on an index, and list a recipe's variant combinations. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/fs.h"
#include "hpcbuild/http.h"
#include "hpcbuild/pkg_cache.h"
#include "hpcbuild/recipe.h"
#include "hpcbuild/strbuf.h"
#include "find_sdist.h"
#include "solve.h"

static const char recipe_help[] =
    "usage: hpcbuild recipe lint FILE...\n"
    "       hpcbuild recipe new SOURCE [-o FILE]\n"
    "       hpcbuild recipe new NAME==VERSION --index URL|--find-links PATH... [-o FILE]\n"
    "                           [solve options]\n"
    "       hpcbuild recipe variants FILE\n\n"
    "lint checks build recipes (YAML, see docs/recipes.md) and prints every problem as\n"
    "FILE:LINE: message; hint: fix (unknown keys, bad sha256, missing source, undefined\n"
    "variant keys, bad requirements and DepURLs); a clean file prints FILE: ok.\n"
    "new drafts a recipe from an sdist or a source directory (its metadata and PEP 725\n"
    "[external] table) to stdout or FILE; the draft lints clean.  The source is a local path\n"
    "(with the sdist's sha256).  NAME==VERSION finds that version's sdist on the indices (the\n"
    "solve options of `hpcbuild build`: --index, --find-links, --python ...), fetches it into\n"
    "the package cache (its sha256 checked) and drafts from it with the index's URL and the\n"
    "sha256 as the source.\n"
    "variants prints one line per variant combination: KEY=VALUE ... (none: '(default)').\n\n"
    "Exit status: 0 clean, 1 unreadable source, no such sdist on the indices or unwritable\n"
    "output, 2 problems or usage.\n"
    "Example: hpcbuild recipe new mpi4py==4.0.1 --index https://pypi.org/simple/ -o mpi4py.yaml\n";

static int lint(int argc, char **argv)
{
    int status = CLI_OK;
    for (int i = 0; i < argc; i++) {
        hb_recipe r;
        hb_recipe_problems ps = {0};
        if (hb_recipe_parse(argv[i], &r, &ps) == 0) {
            printf("%s: ok\n", argv[i]);
        } else {
            strbuf out = STRBUF_INIT;
            hb_recipe_problems_format(&ps, argv[i], &out);
            fputs(strbuf_str(&out), stdout);
            strbuf_free(&out);
            status = CLI_USAGE;
        }
        hb_recipe_problems_free(&ps);
        hb_recipe_free(&r);
    }
    return status;
}

static int emit(const strbuf *yaml, const char *out_path)
{
    hb_error err;
    if (!out_path) {
        fputs(strbuf_str(yaml), stdout);
        return CLI_OK;
    }
    return hb_write_file_atomic(out_path, yaml->buf, yaml->len, &err) == 0 ? CLI_OK
                                                                           : cli_fail_error(&err);
}

/* NAME==VERSION: the sdist on the indices, fetched, drafted with its URL as the source. */
static int draft_from_index(solve_options *so, const char *request, strbuf *yaml)
{
    hb_pkg_cache pc = {0};
    hb_error err;
    if (hb_pkg_cache_open(&pc, NULL, &err) != 0)
        return cli_fail(CLI_FAILED, "%s", err.msg);
    int status = CLI_OK;
    found_sdist found = {0};
    if (hb_http_global_init(&err) != 0) {
        status = cli_fail(CLI_FAILED, "%s", err.msg);
    } else {
        status = find_sdist(so, request, &pc, &found);
        hb_http_global_cleanup();
    }
    /* a local index or find-links directory gives a path: the recipe gets a file:// URL */
    char *url = NULL;
    if (status == CLI_OK && !strstr(found.url, "://")) {
        char *real = realpath(found.url, NULL);
        strbuf sb = STRBUF_INIT;
        strbuf_printf(&sb, "file://%s", real ? real : found.url);
        url = strbuf_detach(&sb);
        free(real);
    }
    if (status == CLI_OK && hb_recipe_draft_url(found.archive, url ? url : found.url, request, yaml, &err) != 0)
        status = cli_fail_error(&err);
    free(url);
    found_sdist_free(&found);
    hb_pkg_cache_close(&pc);
    return status;
}

/* recipe new SOURCE|NAME==VERSION [-o FILE] [solve options]; argv[0] is "new". */
static int new_recipe(int argc, char **argv)
{
    solve_options so;
    solve_options_init(&so, argc);
    const char *source = NULL, *out_path = NULL, *solve_option = NULL;
    int status = CLI_OK;
    for (int i = 1; status == CLI_OK && i < argc; i++) {
        const char *a = argv[i];
        bool used = false;
        if (a[0] != '-' && !source)
            source = a;
        else if (a[0] != '-')
            status = cli_fail(CLI_USAGE, "recipe new takes one SOURCE ('%s' and '%s' given)", source, a);
        else if (strcmp(a, "-o") == 0 && i + 1 < argc)
            out_path = argv[++i];
        else if ((status = solve_parse_option(argc, argv, &i, &so, &used)) == CLI_OK && !used)
            status = cli_fail(CLI_USAGE, "unknown option or missing value '%s' (see hpcbuild recipe --help)", a);
        else if (used)
            solve_option = a;
    }
    if (status == CLI_OK && !source)
        status = cli_fail(CLI_USAGE, "recipe new needs a SOURCE (an sdist, a directory or NAME==VERSION)");
    bool from_index = status == CLI_OK && is_name_version(source);
    if (status == CLI_OK && !from_index && solve_option)
        status = cli_fail(CLI_USAGE, "'%s' is for NAME==VERSION on an index, not for the file or "
                          "directory '%s'", solve_option, source);
    strbuf yaml = STRBUF_INIT;
    hb_error err;
    if (status == CLI_OK && from_index)
        status = draft_from_index(&so, source, &yaml);
    else if (status == CLI_OK && hb_recipe_draft(source, &yaml, &err) != 0)
        status = cli_fail_error(&err);
    if (status == CLI_OK)
        status = emit(&yaml, out_path);
    strbuf_free(&yaml);
    solve_options_free(&so);
    return status;
}

static int variants(const char *path)
{
    hb_recipe r, *expanded = NULL;
    hb_recipe_problems ps = {0};
    size_t n = 0;
    int rc = hb_recipe_parse(path, &r, &ps);
    if (rc == 0)
        rc = hb_recipe_expand_variants(&r, &expanded, &n, &ps);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            for (size_t j = 0; j < expanded[i].nchosen; j++)
                printf("%s%s=%s", j ? " " : "", expanded[i].chosen[j].key,
                       expanded[i].chosen[j].value);
            puts(expanded[i].nchosen ? "" : "(default)");
        }
        hb_recipe_free(&expanded[i]);
    }
    free(expanded);
    strbuf out = STRBUF_INIT;
    hb_recipe_problems_format(&ps, path, &out);
    fputs(strbuf_str(&out), stdout);
    strbuf_free(&out);
    hb_recipe_problems_free(&ps);
    hb_recipe_free(&r);
    return rc == 0 ? CLI_OK : CLI_USAGE;
}

int cmd_recipe(int argc, char **argv)
{
    if (argc >= 2 && cli_is_help(argv[1])) {
        fputs(recipe_help, stdout);
        return CLI_OK;
    }
    if (argc >= 3 && strcmp(argv[1], "lint") == 0)
        return lint(argc - 2, argv + 2);
    if (argc == 3 && strcmp(argv[1], "variants") == 0)
        return variants(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "new") == 0)
        return new_recipe(argc - 1, argv + 1);
    fputs(recipe_help, stderr);
    return CLI_USAGE;
}
