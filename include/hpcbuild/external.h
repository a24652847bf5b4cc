/* external.h — PEP 725 external dependencies and PEP 804 mappings to conda.
 *
 * hb_external_from_pyproject reads the [external] table of a parsed
 * pyproject.toml.  Keys: build-requires, host-requires, dependencies (arrays
 * of external dependency specifiers), optional-build-requires,
 * optional-host-requires, optional-dependencies (tables of extra -> array)
 * and dependency-groups (PEP 735: arrays that may hold {include-group = ...},
 * resolved here, cycles rejected).  The pre-2025 spellings
 * build-host-requires / optional-build-host-requires are read as the host
 * keys with a warning; both spellings at once is an error.  Every spec goes
 * through depurl_parse_spec (old pkg:/virtual: forms accepted with warnings)
 * and is stored as depurl_format_spec output.  Extra and group names are
 * stored PEP 685-normalized.  Unknown keys and wrong types are errors
 * "FILE:LINE:COL: ..." naming the key and what was expected.
 *
 * hb_external_from_metadata reads core metadata: Requires-External-Dep specs
 * go to `dependencies`, or to optional_deps[X] when their marker is a plain
 * conjunction holding `extra == "X"`; Provides-External-Extra names each get
 * a list (possibly empty).  Legacy Requires-External values are free text,
 * kept as written in `requires_external`.
 *
 * hb_external_map_* answer "which conda-forge MatchSpecs satisfy this
 * DepURL" from a PEP 804 mapping and the central registry (see
 * hb_external_map_conda for the rules).  Warnings go to a strbuf, one per
 * line; the library never prints.
 */
#ifndef HPCBUILD_EXTERNAL_H
#define HPCBUILD_EXTERNAL_H

#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/metadata.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/toml.h"

typedef struct hb_external_list {
    char *key;      /* extra or group name, PEP 685-normalized */
    char **specs;   /* normalized specs */
    size_t n;
} hb_external_list;

typedef struct hb_external_deps {
    char **build_requires, **host_requires, **dependencies;   /* depurl_format_spec output */
    size_t nbuild, nhost, ndeps;
    hb_external_list *optional_build, *optional_host, *optional_deps, *groups;
    size_t noptional_build, noptional_host, noptional_deps, ngroups;
    char **requires_external;   /* metadata only: legacy Requires-External, as written */
    size_t nrequires_external;
} hb_external_deps;

#define HB_EXTERNAL_DEPS_INIT {0}

/* root: the whole pyproject document (its [external] table is read; none
 * gives empty deps).  *out is empty on failure. */
int hb_external_from_pyproject(hb_external_deps *out, const toml_value *root, strbuf *warnings,
                               hb_error *err);
/* From core metadata (see the top comment).  *out is empty on failure. */
int hb_external_from_metadata(hb_external_deps *out, const metadata_core *core, strbuf *warnings,
                              hb_error *err);
void hb_external_deps_free(hb_external_deps *d);

/* --- PEP 804 mappings -------------------------------------------------- */

enum hb_external_category {
    HB_EXTERNAL_BUILD = 0,   /* the "build" spec list */
    HB_EXTERNAL_HOST = 1,    /* "host" */
    HB_EXTERNAL_RUN = 2,     /* "run" */
};

typedef struct hb_external_map hb_external_map;

/* Loads one ecosystem's {id}.mapping.json and the central registry.json,
 * checking the schema fields used here (ids are DepURLs, exactly one of
 * specs / specs_from, the three-key specs object, specs_from targets exist).
 * Errors name the file and the entry. */
int hb_external_map_load(hb_external_map **m, const char *mapping_json, const char *registry_json,
                         hb_error *err);
void hb_external_map_free(hb_external_map *m);
/* The mapping's "name" ("conda-forge"). */
const char *hb_external_map_name(const hb_external_map *m);

/* The MatchSpecs of `category` that satisfy one DepURL (an external
 * dependency specifier; its marker is ignored):
 *  1. the DepURL without its version is looked up among the mapping's ids
 *     (normalized, qualifiers included); the FIRST entry with that id is the
 *     default provider; specs_from is followed;
 *  2. an entry whose lists are all empty ("not packaged") or a missing entry
 *     falls through to the registry: an alias (an entry with `provides`)
 *     maps as the first non-virtual id it provides that has specs, else as
 *     the union of the virtual ids it provides; an unmapped dep:virtual/ id
 *     maps as the first registry entry providing it that has specs;
 *  3. a category whose specs are conda-build Jinja ("{{ compiler('c') }}")
 *     uses the entry's run specs instead (the installable metapackages);
 *  4. a version (>=, >, <, <=, == joined by ',') is put on each spec as a
 *     conda version constraint: `cmake>=3.20,<4`, `libblas >=3.9 *_netlib`.
 * Returns the number of specs written to *specs (a malloc'd NULL-terminated
 * array: free each and the array).  0 when there is no mapping: *specs is
 * NULL when the DepURL is not mapped (or not packaged), and an empty array
 * when it is mapped but this category needs nothing.  -1 on error (an
 * invalid DepURL, or a literal version that cannot be constrained). */
int hb_external_map_conda(const hb_external_map *m, const char *depurl, int category, char ***specs,
                          hb_error *err);

/* Frees a NULL-terminated string array (NULL is fine). */
void hb_external_strv_free(char **v);

#endif
