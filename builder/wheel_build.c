/* wheel_build.c — source -> key -> cache hit, or hooks -> cache -> out_dir (wheel_build.h). */
#include "hpcbuild/wheel_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/build_cache.h"
#include "hpcbuild/build_env.h"
#include "hpcbuild/build_fs.h"
#include "hpcbuild/envlist.h"
#include "hpcbuild/external.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/pep517.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/tags.h"
#include "hpcbuild/toml.h"

typedef struct build_state {
    const hb_wheel_build_request *req;
    hb_wheel_build_result *res;
    char *work;           /* temporary directory: src/ (an sdist's tree), wheel/ */
    char *tree;           /* the source tree */
    hb_build_env env;
    hb_build_key key;
} build_state;

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The source tree and the key's "source:" line. */
static int prepare_source(build_state *s, hb_error *err)
{
    struct stat st;
    if (stat(s->req->source, &st) != 0)
        return hb_error_set(err, HB_EIO, "%s: %s", s->req->source, strerror(errno));
    char hex[HB_HASH_HEX_MAX];
    strbuf id = STRBUF_INIT;
    if (S_ISDIR(st.st_mode)) {
        if (hb_source_tree_hash(s->req->source, hex, err) != 0)
            return -1;
        s->tree = hb_strdup(s->req->source);
        strbuf_printf(&id, "tree sha256:%s", hex);
    } else {
        if (hb_hash_file_hex(HB_HASH_SHA256, s->req->source, hex, err) != 0 ||
            hb_pep517_unpack_sdist(s->req->source, s->work, &s->tree, err) != 0)
            return -1;
        strbuf_printf(&id, "sdist sha256:%s", hex);
    }
    hb_build_key_add(&s->key, "source", strbuf_str(&id));
    strbuf_free(&id);
    return 0;
}

static int make_key(build_state *s, hb_error *err)
{
    hb_python_target t;
    if (hb_python_target_from_python(&t, s->req->python, err) != 0)
        return -1;
    strbuf tag = STRBUF_INIT;
    strbuf_printf(&tag, "%s%d%d-%s-%s", t.impl, t.py_major, t.py_minor, t.abi, t.platform);
    hb_build_key_add(&s->key, "python", strbuf_str(&tag));
    /* the interpreter itself: a venv's bin/python and its base interpreter are one */
    char *real = realpath(s->req->python, NULL);
    hb_build_key_add(&s->key, "python-path", real ? real : s->req->python);
    free(real);
    strbuf_free(&tag);
    for (size_t i = 0; s->req->config_settings && s->req->config_settings[i]; i++)
        hb_build_key_add(&s->key, "config", s->req->config_settings[i]);
    hb_build_key_add_lines(&s->key, s->env.fingerprint);
    hb_build_key_finish(&s->key);
    s->res->key_hex = hb_strdup(s->key.hex);
    return 0;
}

/* Copies wheels (paths) into out_dir; res->wheels gets the copies. */
static int deliver(build_state *s, char *const *wheels, hb_error *err)
{
    if (hb_mkdir_p(s->req->out_dir, err) != 0)
        return -1;
    s->res->wheels = hb_strlist_new();
    for (size_t i = 0; wheels[i]; i++) {
        strbuf to = STRBUF_INIT;
        strbuf_printf(&to, "%s/%s", s->req->out_dir, base_name(wheels[i]));
        int rc = hb_copy_file(wheels[i], strbuf_str(&to), err);
        s->res->wheels = hb_strlist_push(s->res->wheels, strbuf_detach(&to));
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* [external] build-requires + host-requires of the tree's pyproject.toml. */
static int external_requires(const char *tree, char ***out, hb_error *err)
{
    *out = hb_strlist_new();
    strbuf path = STRBUF_INIT;
    strbuf_printf(&path, "%s/pyproject.toml", tree);
    struct stat st;
    int rc = 0;
    if (stat(strbuf_str(&path), &st) == 0) {
        toml_value *root = toml_parse_file(strbuf_str(&path), err);
        hb_external_deps d;
        strbuf warnings = STRBUF_INIT;
        rc = root ? hb_external_from_pyproject(&d, root, &warnings, err) : -1;
        if (rc == 0) {
            for (size_t i = 0; d.build_requires && d.build_requires[i]; i++)
                *out = hb_strlist_push(*out, hb_strdup(d.build_requires[i]));
            for (size_t i = 0; d.host_requires && d.host_requires[i]; i++)
                *out = hb_strlist_push(*out, hb_strdup(d.host_requires[i]));
            hb_external_deps_free(&d);
        }
        strbuf_free(&warnings);
        toml_free(root);
    }
    strbuf_free(&path);
    return rc;
}

const char *hb_build_stage_name(hb_build_stage stage)
{
    switch (stage) {
    case HB_STAGE_BUILD_SYSTEM:
        return "[build-system] requires";
    case HB_STAGE_EXTERNAL:
        return "[external] build/host requires";
    case HB_STAGE_GET_REQUIRES:
        return "get_requires_for_build_wheel";
    }
    return "?";
}

static int call_requires(build_state *s, hb_build_stage stage, char *const *requires,
                         hb_error *err)
{
    if (!s->req->requires_fn)
        return 0;
    return s->req->requires_fn(s->req->ctx, stage, requires, err);
}

static int run_hook(build_state *s, hb_pep517_hook_kind hook, const char *out,
                    hb_pep517_result *hr, hb_error *err)
{
    hb_pep517_request pr = {
        .source_dir = s->tree,
        .python = s->req->python,
        .env = (const char *const *)s->env.vars,
        .config_settings = s->req->config_settings,
        .out_dir = out,
        .log_path = s->res->log_path,
    };
    int rc = hb_pep517_hook(hook, &pr, hr, err);
    if (rc != 0 && hr->log_tail) {
        s->res->log_tail = hr->log_tail;
        hr->log_tail = NULL;
    }
    return rc;
}

/* The stages and the hooks; the built wheel goes to the cache and out_dir. */
static int build(build_state *s, hb_error *err)
{
    if (hb_build_cache_log_path(s->req->cache, &s->key, &s->res->log_path, err) != 0)
        return -1;
    hb_build_system bs;
    int rc = hb_build_system_read(&bs, s->tree, err);
    if (rc == 0)
        rc = call_requires(s, HB_STAGE_BUILD_SYSTEM, bs.requires, err);
    hb_build_system_free(&bs);
    char **ext = NULL;
    if (rc == 0)
        rc = external_requires(s->tree, &ext, err);
    if (rc == 0)
        rc = call_requires(s, HB_STAGE_EXTERNAL, ext, err);
    hb_strlist_free(ext);
    hb_pep517_result hr;
    if (rc == 0) {
        rc = run_hook(s, HB_HOOK_GET_REQUIRES_FOR_BUILD_WHEEL, NULL, &hr, err);
        if (rc == 0)
            rc = call_requires(s, HB_STAGE_GET_REQUIRES, hr.requires, err);
        hb_pep517_result_free(&hr);
    }
    if (rc != 0)
        return -1;
    strbuf wdir = STRBUF_INIT;
    strbuf_printf(&wdir, "%s/wheel", s->work);
    rc = run_hook(s, HB_HOOK_BUILD_WHEEL, strbuf_str(&wdir), &hr, err);
    if (rc == 0) {
        strbuf whl = STRBUF_INIT;
        strbuf_printf(&whl, "%s/%s", strbuf_str(&wdir), hr.basename);
        char *wheels[] = {whl.buf, NULL};
        char *entry = NULL;
        rc = hb_build_cache_store(s->req->cache, &s->key, (const char *const *)wheels,
                                  s->res->log_path, &entry, err);
        if (rc == 0)
            rc = deliver(s, wheels, err);
        if (rc == 0) {
            /* the log now lives in the entry; logs/ keeps failed builds' logs only */
            unlink(s->res->log_path);
            free(s->res->log_path);
            strbuf log = STRBUF_INIT;
            strbuf_printf(&log, "%s/build.log", entry);
            s->res->log_path = strbuf_detach(&log);
        }
        free(entry);
        strbuf_free(&whl);
    }
    hb_pep517_result_free(&hr);
    strbuf_free(&wdir);
    return rc;
}

static int make_work_dir(build_state *s, hb_error *err)
{
    const char *tmp = getenv("TMPDIR");
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/hpcbuild-build-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(sb.buf)) {
        int e = errno;
        hb_error_set(err, HB_EIO, "%s: cannot create: %s", strbuf_str(&sb), strerror(e));
        strbuf_free(&sb);
        return -1;
    }
    s->work = strbuf_detach(&sb);
    return 0;
}

int hb_wheel_build(const hb_wheel_build_request *req, hb_wheel_build_result *res, hb_error *err)
{
    memset(res, 0, sizeof *res);
    build_state s = {.req = req, .res = res};
    hb_build_key_init(&s.key);
    hb_build_env_options eo = {.site = req->site, .overrides = req->env, .march = req->march};
    int rc = make_work_dir(&s, err);
    if (rc == 0)
        rc = hb_build_env_resolve(&s.env, &eo, err);
    if (rc == 0)
        rc = prepare_source(&s, err);
    if (rc == 0)
        rc = make_key(&s, err);
    char **cached = NULL;
    int hit = rc == 0 && !req->no_cache
                  ? hb_build_cache_lookup(req->cache, &s.key, &cached, err)
                  : 0;
    if (hit < 0)
        rc = -1;
    if (rc == 0 && hit == 1) {
        res->cache_hit = true;
        rc = deliver(&s, cached, err);
    } else if (rc == 0) {
        if (!req->no_cache)
            res->miss_reason = hb_build_cache_explain_miss(req->cache, &s.key);
        if (res->miss_reason && req->miss_fn)
            req->miss_fn(req->ctx, res->miss_reason);
        rc = build(&s, err);
    }
    hb_strlist_free(cached);
    if (s.work)
        hb_remove_tree(s.work, NULL);
    free(s.work);
    free(s.tree);
    hb_build_env_free(&s.env);
    hb_build_key_free(&s.key);
    return rc;
}

void hb_wheel_build_result_free(hb_wheel_build_result *res)
{
    hb_strlist_free(res->wheels);
    free(res->miss_reason);
    free(res->key_hex);
    free(res->log_path);
    free(res->log_tail);
    memset(res, 0, sizeof *res);
}
