/* recipe_source.h — a recipe's sources: what identifies them, what they need, the build tree.
 *
 * Paths in a recipe are relative to the recipe file's directory (recipe_dir).  fetched[i] is the
 * archive downloaded for source i when it has a url (the caller fetched it and checked its
 * sha256), NULL for a path source; hb_recipe_source_prepare also takes the directory the archive
 * was unpacked into (the package cache's), so it is not unpacked twice.
 * hb_recipe_source_digest feeds into h what identifies the sources: each url with its sha256, or
 * a path's content (a file's sha256, which must match the recipe's sha256 when one is given; a
 * directory's hb_source_tree_hash), then each patch file's sha256.
 * hb_recipe_source_requires lists the canonical project names the first source needs: its
 * pyproject.toml [build-system] requires and [project] dependencies, and an sdist's PKG-INFO
 * Requires-Dist (an sdist is read without unpacking it), plus extra (PEP 508 strings, e.g. the
 * recipe's build.requires).
 * hb_recipe_source_prepare writes the build tree dest (replacing it): sources in order, the first
 * is the tree and the others are laid over it (an archive unpacked with its one top directory
 * stripped, a directory's content copied, a plain file copied in); after each source its patches
 * are applied with `patch -p1 --batch --forward`; then the recipe's [external] lists replace those
 * of dest/pyproject.toml (the keys not given are kept).  Errors name the recipe, the source and
 * what was expected; a failed patch includes patch's output.
 */
#ifndef HPCBUILD_RECIPE_SOURCE_H
#define HPCBUILD_RECIPE_SOURCE_H

#include "hpcbuild/error.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/recipe.h"

/* recipe_dir joined with p unless p is absolute; malloc'd. */
char *hb_recipe_path(const char *recipe_dir, const char *p);

int hb_recipe_source_digest(const hb_recipe *r, const char *recipe_dir, char *const *fetched, hb_hasher *h,
                            hb_error *err);
/* *names: NULL-terminated, sorted, unique (hb_strv_free it). */
int hb_recipe_source_requires(const hb_recipe *r, const char *recipe_dir, char *const *fetched,
                              char *const *extra, char ***names, hb_error *err);
int hb_recipe_source_prepare(const hb_recipe *r, const char *recipe_dir, char *const *fetched, const char *dest,
                             hb_error *err);

/* Copies the source tree from into to (created; existing files replaced, an existing symlink
 * replaced rather than written through): regular files with their mode, symlinks as symlinks,
 * sub-directories recursively; what hb_source_tree_hash skips (build/, dist/, .*, ...) is not
 * copied, so a tree's key and its copy agree. */
int hb_copy_tree(const char *from, const char *to, hb_error *err);

#endif
