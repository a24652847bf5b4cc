/* pep517.h — a PEP 517 frontend without isolation: call a backend's hooks in the target Python.
 *
 * hb_build_system_read reads [build-system] from SRC/pyproject.toml (SPECS §7.2): requires,
 * build-backend (default setuptools.build_meta:__legacy__, also with no pyproject.toml, whose
 * requires default to setuptools>=40.8.0) and backend-path (each must resolve inside SRC).
 * hb_pep517_hook runs one hook in a fresh `PYTHON SHIM HOOK CONTROL_DIR` process (the shim is
 * written by hpcbuild into a temporary control directory, which is removed afterwards): cwd is
 * the source tree, stdin /dev/null, stdout and stderr appended to log_path, the environment is
 * hpcbuild's own plus req->env (K=V, overriding) plus the "no network" settings below.  No
 * isolation: the interpreter as is, its site-packages and user site.  Arguments go in and the
 * result comes back as JSON files in the control directory (the pyproject-hooks protocol).
 * prepare_metadata_for_build_wheel falls back to building the wheel (into out_dir, extracting
 * its .dist-info) when the backend lacks it; build_wheel given that metadata directory then
 * reuses the wheel.  config_settings are K=V; a repeated key becomes a list.
 * "No network" is advisory, not a sandbox: PIP_NO_INDEX=1, UV_OFFLINE=1, CARGO_NET_OFFLINE=true,
 * every proxy variable pointing at 127.0.0.1:9 (refused) and no_proxy emptied, so pip, uv,
 * cargo and anything honouring proxies fail fast instead of downloading.
 * Errors: HB_EINVAL for a bad pyproject.toml or config setting; HB_ESYS when the interpreter
 * cannot run or the hook raises: "SRC: build_wheel failed: ExcType: message (log: LOG)"; the
 * log's last HB_PEP517_TAIL_LINES lines are then in res->log_tail (too long for hb_error).
 */
#ifndef HPCBUILD_PEP517_H
#define HPCBUILD_PEP517_H

#include <stdbool.h>

#include "hpcbuild/error.h"

#define HB_PEP517_DEFAULT_BACKEND "setuptools.build_meta:__legacy__"
#define HB_PEP517_TAIL_LINES 30

typedef struct hb_build_system {
    char **requires;       /* NULL-terminated PEP 508 strings (never NULL) */
    char *backend;         /* "module" or "module:object" */
    char **backend_path;   /* NULL-terminated absolute directories (never NULL) */
    bool has_table;        /* [build-system] was present */
} hb_build_system;

/* Fills *bs (hb_build_system_free it, also after a failure). */
int hb_build_system_read(hb_build_system *bs, const char *source_dir, hb_error *err);
void hb_build_system_free(hb_build_system *bs);

typedef enum hb_pep517_hook_kind {
    HB_HOOK_GET_REQUIRES_FOR_BUILD_WHEEL,
    HB_HOOK_PREPARE_METADATA_FOR_BUILD_WHEEL,
    HB_HOOK_BUILD_WHEEL,
} hb_pep517_hook_kind;

const char *hb_pep517_hook_name(hb_pep517_hook_kind hook);

typedef struct hb_pep517_request {
    const char *source_dir;               /* the tree with pyproject.toml */
    const char *python;                   /* the target interpreter */
    const char *const *env;               /* NULL-terminated K=V, may be NULL */
    const char *const *config_settings;   /* NULL-terminated K=V, may be NULL */
    const char *out_dir;                  /* wheel or metadata directory (created if missing) */
    const char *metadata_dir;             /* build_wheel: an earlier prepare's result, or NULL */
    const char *log_path;                 /* appended to (created if missing) */
} hb_pep517_request;

typedef struct hb_pep517_result {
    char *basename;     /* build_wheel: the .whl; prepare_metadata: the .dist-info directory */
    char **requires;    /* get_requires_for_build_wheel: NULL-terminated (never NULL on success) */
    char *log_tail;     /* on a failed hook: the log's last lines, else NULL */
} hb_pep517_result;

/* Runs one hook; fills *res (hb_pep517_result_free it, also after a failure). */
int hb_pep517_hook(hb_pep517_hook_kind hook, const hb_pep517_request *req, hb_pep517_result *res,
                   hb_error *err);
void hb_pep517_result_free(hb_pep517_result *res);

/* Unpacks an sdist into work_dir/src (hb_extract; work_dir must exist, src must not) and sets
 * *tree to its single top-level directory (malloc'd). */
int hb_pep517_unpack_sdist(const char *sdist, const char *work_dir, char **tree, hb_error *err);

/* The last `lines` lines of a file (malloc'd, "" when empty or unreadable). */
char *hb_file_tail(const char *path, int lines);

#endif
