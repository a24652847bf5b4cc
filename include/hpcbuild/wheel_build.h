/* wheel_build.h — build a wheel from an sdist or a source tree, through the build cache.
 *
 * hb_wheel_build: the source (an sdist file, unpacked into a temporary directory, or a
 * directory, built in place) is identified by its sha256 (hb_source_tree_hash for a directory);
 * the build environment is resolved from the site (build_env.h); the key (build_cache.h) is
 * source + python ABI tag + interpreter path + config settings + the environment's fingerprint.
 * A hit copies the cached wheels to out_dir (unless no_cache).  Otherwise, with the log at
 * <cache>/builds/logs/<key>.log: requires_fn (when given) is called with [build-system]
 * requires, then the PEP 725 [external] build-requires + host-requires (DepURLs), then what
 * get_requires_for_build_wheel returned, so the caller can install them into the target; then
 * build_wheel runs (pep517.h), and the wheel and log are stored in the cache (the log leaves
 * logs/) and the wheel copied to out_dir.
 * A failed hook leaves res->log_path and res->log_tail set and err naming the log.
 */
#ifndef HPCBUILD_WHEEL_BUILD_H
#define HPCBUILD_WHEEL_BUILD_H

#include <stdbool.h>

#include "hpcbuild/error.h"
#include "hpcbuild/site.h"

typedef enum hb_build_stage {
    HB_STAGE_BUILD_SYSTEM,     /* [build-system] requires (PEP 508) */
    HB_STAGE_EXTERNAL,         /* [external] build-requires + host-requires (DepURLs) */
    HB_STAGE_GET_REQUIRES,     /* get_requires_for_build_wheel (PEP 508) */
} hb_build_stage;

/* "[build-system] requires", "[external] build/host requires", "get_requires_for_build_wheel" */
const char *hb_build_stage_name(hb_build_stage stage);

/* Installs (or checks) requirements of one stage; -1 with err set stops the build. */
typedef int (*hb_build_requires_fn)(void *ctx, hb_build_stage stage, char *const *requires,
                                    hb_error *err);

typedef struct hb_wheel_build_request {
    const char *source;                   /* an sdist file or a directory */
    const char *python;                   /* the target interpreter */
    const hb_site *site;                  /* may be NULL */
    const char *const *env;               /* K=V overrides (--env), may be NULL */
    const char *const *config_settings;   /* K=V, may be NULL */
    bool march;                           /* -march for the site's level */
    const char *cache;                    /* the cache root */
    bool no_cache;                        /* build even when cached (the entry is replaced) */
    const char *out_dir;                  /* the wheels are copied here (created if missing) */
    hb_build_requires_fn requires_fn;     /* may be NULL */
    /* Called with res->miss_reason before a build starts (may be NULL). */
    void (*miss_fn)(void *ctx, const char *reason);
    void *ctx;                            /* for requires_fn and miss_fn */
} hb_wheel_build_request;

typedef struct hb_wheel_build_result {
    char **wheels;        /* paths in out_dir, NULL-terminated */
    bool cache_hit;
    char *miss_reason;    /* why the cache missed (NULL on a hit or with no_cache) */
    char *key_hex;        /* the cache key */
    char *log_path;       /* the build log: ENTRY/build.log after a build, logs/KEY.log after a
                             failed one, NULL on a hit */
    char *log_tail;       /* the log's last lines after a failed hook */
} hb_wheel_build_result;

int hb_wheel_build(const hb_wheel_build_request *req, hb_wheel_build_result *res, hb_error *err);
void hb_wheel_build_result_free(hb_wheel_build_result *res);

#endif
