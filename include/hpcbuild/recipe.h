/* recipe.h — build recipes: how this site builds one Python package from source.
 *
 * A recipe is a YAML mapping (libyaml; docs/recipes.md has the schema):
 *   package: {name, version}            source: a mapping or a list of {url + sha256 | path
 *   [+ sha256], patches: [files, applied in order]}     build: {env: {K: V}, config-settings:
 *   {K: V}, requires: [PEP 508], from-source: bool}     external: {build-requires,
 *   host-requires, dependencies: [DepURL specs]} (each replaces the sdist's [external] list)
 *   variants: {KEY: [values]}           test: {commands: [shell lines]}
 *   resources: {cpus, memory, time, partition, gpus} (a cluster build's needs: sbatch options)
 * Any string may hold ${{ variant.KEY }}; hb_recipe_expand_variants substitutes it.
 * hb_recipe_parse collects EVERY problem it finds (unknown or duplicate keys, wrong kinds,
 * missing/bad sha256, missing source, bad name/version/requirement/DepURL, undefined variant
 * keys), each with its 1-based line and a fix hint, instead of stopping at the first; the
 * recipe holds whatever did parse.  Problems print as "FILE:LINE: message; hint: fix".
 * hb_recipe_draft writes a recipe for an sdist or source directory that lints clean;
 * hb_recipe_draft_url one for an sdist fetched from an index, with the URL as its source.
 */
#ifndef HPCBUILD_RECIPE_H
#define HPCBUILD_RECIPE_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

typedef struct hb_recipe_problem {
    size_t line;       /* 1-based; 0 when the file as a whole is at fault */
    char *message;
    char *hint;        /* how to fix it */
} hb_recipe_problem;

typedef struct hb_recipe_problems {
    hb_recipe_problem *items;
    size_t n;
} hb_recipe_problems;

typedef struct hb_recipe_str {
    char *text;        /* NULL when not given */
    size_t line;
} hb_recipe_str;

typedef struct hb_recipe_kv {
    char *key, *value;
    size_t line;
} hb_recipe_kv;

typedef struct hb_recipe_list {
    hb_recipe_str *items;
    size_t n;
    bool given;        /* the key was present (an empty list still overrides) */
    size_t line;
} hb_recipe_list;

typedef struct hb_recipe_source {
    hb_recipe_str url, sha256, path;   /* url or path; sha256 required with url */
    hb_recipe_list patches;            /* applied in order */
    size_t line;
} hb_recipe_source;

typedef struct hb_recipe_variant {
    char *key;
    hb_recipe_list values;
    size_t line;
} hb_recipe_variant;

typedef struct hb_recipe_resources {   /* what one build needs on a cluster node */
    hb_recipe_str cpus;                /* a positive integer */
    hb_recipe_str memory;              /* digits with an optional K, M, G or T ("16G") */
    hb_recipe_str time;                /* Slurm's [D-]HH:MM[:SS] or minutes */
    hb_recipe_str partition, gpus;     /* gpus: "2" or "a100:2" */
} hb_recipe_resources;

typedef struct hb_recipe {
    char *path;                        /* the name used in messages */
    hb_recipe_str name, version;
    hb_recipe_source *sources;
    size_t nsources;
    hb_recipe_kv *env, *config_settings;
    size_t nenv, nconfig_settings;
    hb_recipe_list build_requires;     /* extra PEP 508 build requirements */
    hb_recipe_list external_build, external_host, external_run;   /* [external] overrides */
    hb_recipe_variant *variants;
    size_t nvariants;
    hb_recipe_list test_commands;
    hb_recipe_resources resources;
    bool build_from_source;            /* site policy: never use a binary for this package */
    size_t build_from_source_line;
    hb_recipe_kv *chosen;              /* expanded recipes: the variant values picked */
    size_t nchosen;
} hb_recipe;

/* Reads and parses a recipe file; 0 when it has no problems, -1 otherwise (problems
 * appended; an unreadable file is one problem at line 0).  hb_recipe_free it either way. */
int hb_recipe_parse(const char *path, hb_recipe *recipe, hb_recipe_problems *problems);
/* The same for text in memory (len bytes); name is used in messages. */
int hb_recipe_parse_text(const char *text, size_t len, const char *name, hb_recipe *recipe,
                         hb_recipe_problems *problems);
void hb_recipe_free(hb_recipe *recipe);

/* The cartesian product of the variants (one recipe when there are none), in file order
 * with the last key varying fastest; ${{ variant.KEY }} substituted in every string and
 * `chosen` filled.  An undefined KEY is a problem (and -1).  Free each, then the array. */
int hb_recipe_expand_variants(const hb_recipe *recipe, hb_recipe **expanded, size_t *n,
                              hb_recipe_problems *problems);

/* Appends "FILE:LINE: message; hint: fix\n" for every problem. */
void hb_recipe_problems_format(const hb_recipe_problems *problems, const char *path, strbuf *out);
void hb_recipe_problems_free(hb_recipe_problems *problems);

/* Appends a draft recipe for SOURCE (an sdist archive, or a directory holding a
 * pyproject.toml): name and version, the source (a local path, with the sdist's sha256),
 * and its [external] table as overrides to review.  -1 with err naming the source. */
int hb_recipe_draft(const char *source, strbuf *out, hb_error *err);
/* The same for an sdist ARCHIVE fetched from URL (`recipe new NAME==VERSION`): the source is
 * {url: URL without its #fragment, sha256: the archive's}; request names what was asked for
 * in the draft's first comment. */
int hb_recipe_draft_url(const char *archive, const char *url, const char *request, strbuf *out,
                        hb_error *err);

#endif
