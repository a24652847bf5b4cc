/* site_detect_internal.h — what the site probes (builder/site_detect_*.c) share: the
 * environment and PATH they read, running a program for its output, small text scanners and
 * building hb_site entries.  Every string handed in is copied; every entry added is owned by
 * the site (hb_site_free frees it). */
#ifndef HPCBUILD_BUILDER_SITE_DETECT_INTERNAL_H
#define HPCBUILD_BUILDER_SITE_DETECT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/site.h"
#include "hpcbuild/site_detect.h"

typedef struct sd_ctx {
    const hb_site_detect_opts *opts;   /* never NULL */
    hb_site *site;
} sd_ctx;

/* The variable's value, or NULL when it is unset or empty. */
const char *sd_getenv(const sd_ctx *c, const char *name);
/* The executable for cmd: cmd itself when it has a '/', else the first PATH match;
 * malloc'd, or NULL when there is none. */
char *sd_which(const sd_ctx *c, const char *cmd);
/* dir/cmd when that is executable, else sd_which(cmd); malloc'd or NULL. */
char *sd_which_near(const sd_ctx *c, const char *dir, const char *cmd);
bool sd_is_executable(const char *path);
/* The directory part of path ("/usr/bin" for "/usr/bin/gcc"), malloc'd. */
char *sd_dirname(const char *path);

enum {
    SD_STDOUT = 1,        /* capture stdout */
    SD_STDERR = 2,        /* capture stderr (after stdout with both) */
    SD_ANY_STATUS = 4,    /* accept a non-zero exit status */
};
/* Runs argv (argv[0] a path) and returns what it printed (per flags), malloc'd, or NULL when
 * it could not run, failed (unless SD_ANY_STATUS) or printed nothing. */
char *sd_run(const char *const argv[], int flags);
/* sd_run of {program, arg, NULL} with SD_STDOUT. */
char *sd_run1(const char *program, const char *arg);

/* The first line of text (without its newline), malloc'd. */
char *sd_first_line(const char *text);
/* The value on the line starting with key in text ("MPICH Version:\t4.1" with key
 * "MPICH Version:" gives "4.1"), trimmed, malloc'd; NULL when no line starts with key. */
char *sd_line_value(const char *text, const char *key);
/* The version after marker in text ("release 13.0, V13.0.88" with marker "V"):
 * a digit, then digits, letters, '.', '+' or '_', trailing dots dropped; NULL when absent. */
char *sd_version_after(const char *text, const char *marker);
/* A version in a `--version` line: the word after "version", else the last word that starts
 * with a digit and holds a dot; malloc'd or NULL. */
char *sd_version_in_line(const char *line);
bool sd_valid_version(const char *version);
/* s ends with suffix. */
bool sd_ends_with(const char *s, const char *suffix);

/* A new external (build "external_site"), or NULL when the name is taken or the version is not
 * a conda version. */
hb_site_external *sd_add_external(sd_ctx *c, const char *name, const char *version,
                                  const char *found_by);
hb_site_external *sd_find_external(const hb_site *s, const char *name);
void sd_provide(hb_site_external *e, const char *depurl);
/* Replaces *field with a copy of value (NULL clears it). */
void sd_set(char **field, const char *value);
void sd_add_virtual(sd_ctx *c, const char *name, const char *version, const char *build,
                    const char *found_by);

/* info: key -> one value (replacing the key's values). */
void sd_info_set(hb_site_info **info, size_t *n, const char *key, const char *value);
/* info: key -> a list; value appended to it (created empty when value is NULL). */
void sd_info_add(hb_site_info **info, size_t *n, const char *key, const char *value);
/* info: key -> the whitespace-separated words of text, as a list. */
void sd_info_words(hb_site_info **info, size_t *n, const char *key, const char *text);
/* The info entry key, or NULL. */
hb_site_info *sd_info_get(hb_site_info *info, size_t n, const char *key);
void sd_info_free(hb_site_info *info, size_t n);

/* The probes, each adding what it finds to c->site. */
void sd_detect_mpi(sd_ctx *c);
void sd_detect_blas(sd_ctx *c);
void sd_detect_cuda(sd_ctx *c);
void sd_detect_compilers(sd_ctx *c);
void sd_detect_pythons(sd_ctx *c);
void sd_detect_modules(sd_ctx *c);

#endif
