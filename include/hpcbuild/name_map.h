/* name_map.h — conda <-> PyPI project names (parselmouth's compressed mapping).
 *
 * The file is one flat JSON object {conda_name: pypi_name | null}: null says
 * "this conda package is not a Python package".  hb_name_map_load checks that
 * shape (errors name the file and the key) and indexes both directions in
 * hash tables; the whole 941 KB conda-forge file loads in a few milliseconds.
 * Lookups: conda -> PyPI exactly as written in the file; PyPI -> conda by the
 * PEP 503-normalized name, several conda names per PyPI name possible (in
 * file order).  The map owns every string it returns.
 *
 * Which file: <cache root>/mapping/compressed_mapping.json when it exists
 * (written by hb_name_map_refresh), else <data dir>/name-mapping/
 * compressed_mapping.json (shipped).  The caller passes both directories.
 */
#ifndef HPCBUILD_NAME_MAP_H
#define HPCBUILD_NAME_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"

typedef struct hb_name_map hb_name_map;

#define HB_NAME_MAP_FILE "compressed_mapping.json"
#define HB_NAME_MAP_URL "https://conda-mapping.prefix.dev/compressed-v0/compressed_mapping.json"

int hb_name_map_load(hb_name_map **m, const char *path, hb_error *err);
void hb_name_map_free(hb_name_map *m);
size_t hb_name_map_size(const hb_name_map *m);

/* The PyPI name of a conda package.  NULL with *known = true: an explicit null
 * (not a Python package); NULL with *known = false: not in the mapping. */
const char *hb_name_map_pypi(const hb_name_map *m, const char *conda_name, bool *known);
/* The conda names mapping to a PyPI name (normalized here before lookup), in
 * file order: *names points into the map (nothing to free), *n is 0 when none. */
void hb_name_map_conda(const hb_name_map *m, const char *pypi_name, const char *const **names, size_t *n);

/* The malloc'd path of the mapping to use (see the top comment); cache_root
 * may be NULL (no cached copy). */
char *hb_name_map_path(const char *cache_root, const char *datadir);

/* Fetches `from` (a URL, file:// URL or local path; NULL = HB_NAME_MAP_URL)
 * into <cache_root>/mapping/compressed_mapping.json: downloaded next to it,
 * loaded (validated), then renamed over the old copy.  *entries gets its size. */
int hb_name_map_refresh(const char *cache_root, const char *from, size_t *entries, hb_error *err);

#endif
