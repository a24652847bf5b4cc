/* hpcbuild recipe lint FILE... | recipe new SOURCE [-o FILE] | recipe variants FILE:
 * check build recipes (every problem with file:line and a hint), draft one from an sdist or
 * a source directory, and list a recipe's variant combinations. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/fs.h"
#include "hpcbuild/recipe.h"
#include "hpcbuild/strbuf.h"

static const char recipe_help[] =
    "usage: hpcbuild recipe lint FILE...\n"
    "       hpcbuild recipe new SOURCE [-o FILE]\n"
    "       hpcbuild recipe variants FILE\n\n"
    "lint checks build recipes (YAML, see docs/recipes.md) and prints every problem as\n"
    "FILE:LINE: message; hint: fix (unknown keys, bad sha256, missing source, undefined\n"
    "variant keys, bad requirements and DepURLs); a clean file prints FILE: ok.\n"
    "new drafts a recipe from an sdist or a source directory (its metadata and PEP 725\n"
    "[external] table) to stdout or FILE; the draft lints clean.\n"
    "variants prints one line per variant combination: KEY=VALUE ... (none: '(default)').\n\n"
    "Exit status: 0 clean, 1 unreadable source or unwritable output, 2 problems or usage.\n"
    "Example: hpcbuild recipe lint recipes/*.yaml\n";

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

static int draft(const char *source, const char *out_path)
{
    strbuf yaml = STRBUF_INIT;
    hb_error err;
    int rc = hb_recipe_draft(source, &yaml, &err);
    if (rc == 0 && out_path)
        rc = hb_write_file_atomic(out_path, yaml.buf, yaml.len, &err);
    else if (rc == 0)
        fputs(strbuf_str(&yaml), stdout);
    strbuf_free(&yaml);
    return rc == 0 ? CLI_OK : cli_fail_error(&err);
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
    if (strcmp(argc >= 2 ? argv[1] : "", "new") == 0) {
        if (argc == 3)
            return draft(argv[2], NULL);
        if (argc == 5 && strcmp(argv[3], "-o") == 0)
            return draft(argv[2], argv[4]);
    }
    fputs(recipe_help, stderr);
    return CLI_USAGE;
}
