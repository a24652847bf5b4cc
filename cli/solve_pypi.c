/* solve_pypi.c — the wheel-index side of `hpcbuild solve` (solve_pypi.h). */
#include "solve_pypi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/external.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/json.h"
#include "hpcbuild/name_map.h"
#include "hpcbuild/pool_pypi.h"
#include "hpcbuild/pyname.h"
#include "hpcbuild/python_dists.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/tags.h"

typedef struct ext_entry {
    char *depurl;
    char **specs;   /* NULL: not mapped */
} ext_entry;

struct pypi_ctx {
    char *python;
    marker_env env;
    hb_python_target target;
    hb_tag_set *tags;
    char *python_full_version;
    hb_name_map *names;
    hb_external_map *ext;
    hb_json_doc *alternatives;    /* data/external/hpcbuild-alternatives.json */
    ext_entry *ext_cache;
    size_t next_cache;
    const char **conda_scratch;   /* to_conda's answer */
    size_t conda_scratch_cap;
    char *pypi_scratch;           /* to_pypi's guessed answer */
    hb_pypi_options opt;
    hb_pypi_source *src;
};

static const char *data_dir(void)
{
    const char *d = getenv("HPCBUILD_DATA");
    return d && *d ? d : HPCBUILD_DATADIR;
}

static const char *to_pypi(void *ctx, const char *conda_name, bool *explicit_)
{
    pypi_ctx *c = ctx;
    bool known = false;
    const char *p = c->names ? hb_name_map_pypi(c->names, conda_name, &known) : NULL;
    *explicit_ = p != NULL;
    if (p || known)
        return p;   /* mapped, or known not to be a Python package */
    free(c->pypi_scratch);
    c->pypi_scratch = pyname_canonicalize(conda_name, strlen(conda_name));
    return c->pypi_scratch;
}

static const char *const *to_conda(void *ctx, const char *pypi)
{
    pypi_ctx *c = ctx;
    const char *const *names = NULL;
    size_t n = 0;
    if (c->names)
        hb_name_map_conda(c->names, pypi, &names, &n);
    if (n + 2 > c->conda_scratch_cap) {
        c->conda_scratch_cap = n + 2;
        c->conda_scratch = hb_reallocarray(c->conda_scratch, c->conda_scratch_cap, sizeof *c->conda_scratch);
    }
    size_t k = 0;
    bool self = false;
    for (size_t i = 0; i < n; i++) {
        c->conda_scratch[k++] = names[i];
        self = self || strcmp(names[i], pypi) == 0;
    }
    if (!self)
        c->conda_scratch[k++] = pypi;   /* the same name: trusted only for python packages */
    c->conda_scratch[k] = NULL;
    return c->conda_scratch;
}

static const char *const *external_specs(void *ctx, const char *depurl)
{
    pypi_ctx *c = ctx;
    for (size_t i = 0; i < c->next_cache; i++)
        if (strcmp(c->ext_cache[i].depurl, depurl) == 0)
            return (const char *const *)c->ext_cache[i].specs;
    char **specs = NULL;
    const hb_json_node *alts = NULL;
    if (c->alternatives)
        alts = hb_json_object_get(c->alternatives,
                                  hb_json_object_get(c->alternatives, hb_json_root(c->alternatives),
                                                     "alternatives"),
                                  depurl);
    if (alts && hb_json_type(alts) == HB_JSON_ARRAY) {
        size_t n = 0;
        specs = hb_calloc(hb_json_count(alts) + 1, sizeof *specs);
        hb_json_iter it = hb_json_iter_init(alts);
        const hb_json_node *e;
        while (hb_json_array_next(&it, &e))
            if (hb_json_type(e) == HB_JSON_STRING)
                specs[n++] = hb_json_strdup(c->alternatives, e);
    } else if (c->ext && hb_external_map_conda(c->ext, depurl, HB_EXTERNAL_RUN, &specs, NULL) < 0) {
        specs = NULL;
    }
    c->ext_cache = hb_reallocarray(c->ext_cache, c->next_cache + 1, sizeof *c->ext_cache);
    c->ext_cache[c->next_cache++] = (ext_entry){hb_strdup(depurl), specs};
    return (const char *const *)specs;
}

static int load_maps(pypi_ctx *c, const hb_fetch_cache *cache, hb_error *err)
{
    char *path = hb_name_map_path(cache ? cache->root : NULL, data_dir());
    int rc = hb_name_map_load(&c->names, path, err);
    free(path);
    if (rc != 0)
        return hb_error_prefix(err, "the conda/PyPI name mapping (see hpcbuild mapping --help)");
    strbuf m = STRBUF_INIT, r = STRBUF_INIT;
    strbuf_printf(&m, "%s/external/conda-forge.mapping.json", data_dir());
    strbuf_printf(&r, "%s/external/registry.json", data_dir());
    rc = hb_external_map_load(&c->ext, strbuf_str(&m), strbuf_str(&r), err);
    strbuf_truncate(&m, 0);
    strbuf_printf(&m, "%s/external/hpcbuild-alternatives.json", data_dir());
    if (rc == 0 && !(c->alternatives = hb_json_parse_file(strbuf_str(&m), err)))
        rc = -1;
    strbuf_free(&m);
    strbuf_free(&r);
    return rc;
}

/* --- the target interpreter, cached ------------------------------------------------------ */

/* The interpreter's absolute path as given or as found on PATH, symlinks not resolved. */
static char *python_as_given(const char *python)
{
    if (strchr(python, '/'))
        return hb_path_absolute(python);
    const char *path = getenv("PATH");
    for (const char *d = path; d && *d;) {
        const char *colon = strchr(d, ':');
        size_t n = colon ? (size_t)(colon - d) : strlen(d);
        strbuf cand = STRBUF_INIT;
        strbuf_printf(&cand, "%.*s/%s", (int)n, d, python);
        if (n && access(strbuf_str(&cand), X_OK) == 0) {
            char *abs = hb_path_absolute(strbuf_str(&cand));
            strbuf_free(&cand);
            return abs;
        }
        strbuf_free(&cand);
        d = colon ? colon + 1 : d + n;
    }
    return NULL;
}

/* Asking an interpreter costs two process runs (~50 ms).  Its answers depend on the
 * interpreter file and the C library, so they are cached under <cache>/python/, keyed by the
 * interpreter's resolved path, size, mtime and inode and the libc's: a changed interpreter or
 * libc is a different key.  Lines: "env NAME VALUE", "target FIELD VALUE". */
static char *target_cache_path(const hb_fetch_cache *cache, const char *python)
{
    if (!cache || !cache->root)
        return NULL;
    char *given = python_as_given(python);
    char *exe = given ? realpath(given, NULL) : NULL;
    free(given);
    struct stat st, lc;
    if (!exe || stat(exe, &st) != 0) {
        free(exe);
        return NULL;
    }
    if (stat("/lib/x86_64-linux-gnu/libc.so.6", &lc) != 0 && stat("/lib64/libc.so.6", &lc) != 0 &&
        stat("/lib/libc.so.6", &lc) != 0)
        memset(&lc, 0, sizeof lc);
    strbuf key = STRBUF_INIT;
    strbuf_printf(&key, "%s\n%lld %lld %llu\n%lld %lld %llu", exe, (long long)st.st_size,
                  (long long)st.st_mtime, (unsigned long long)st.st_ino, (long long)lc.st_size,
                  (long long)lc.st_mtime, (unsigned long long)lc.st_ino);
    free(exe);
    uint64_t h = hb_checksum64(key.buf, key.len, 0x70797468);
    strbuf_free(&key);
    strbuf p = STRBUF_INIT;
    strbuf_printf(&p, "%s/python", cache->root);
    mkdir(strbuf_str(&p), 0755);
    strbuf_printf(&p, "/%016llx.target", (unsigned long long)h);
    return strbuf_detach(&p);
}

static void put_target_field(strbuf *sb, const char *field, const char *value)
{
    strbuf_printf(sb, "target %s %s\n", field, value);
}

static void target_cache_write(const char *path, const marker_env *env, const hb_python_target *t)
{
    strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "hpcbuild-target 1\n");
    for (size_t i = 0; i < env->n; i++) {
        const marker_env_var *v = &env->vars[i];
        if (!v->value || strchr(v->value, '\n') || strchr(v->name, ' ')) {
            strbuf_free(&sb);   /* not representable: no cache */
            return;
        }
        strbuf_printf(&sb, "env %s %s\n", v->name, v->value);
    }
    char num[64];
    put_target_field(&sb, "impl", t->impl);
    snprintf(num, sizeof num, "%d %d %d %d %d %d", t->py_major, t->py_minor, t->free_threaded ? 1 : 0,
             (int)t->libc, t->libc_major, t->libc_minor);
    put_target_field(&sb, "numbers", num);
    put_target_field(&sb, "abi", t->abi);
    put_target_field(&sb, "platform", t->platform);
    put_target_field(&sb, "arch", t->arch);
    strbuf_puts(&sb, "end\n");
    hb_write_file_atomic(path, sb.buf, sb.len, NULL);   /* a cache: a failed write costs nothing */
    strbuf_free(&sb);
}

static void copy_field(char *dst, size_t cap, const char *v)
{
    snprintf(dst, cap, "%s", v);
}

static bool target_cache_read(const char *path, marker_env *env, hb_python_target *t)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return false;
    memset(t, 0, sizeof *t);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    bool ok = getline(&line, &cap, f) > 0 && strcmp(line, "hpcbuild-target 1\n") == 0, end = false;
    int fields = 0;
    while (ok && !end && (n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n') {
            ok = false;
            break;
        }
        line[n - 1] = '\0';
        char *sp = strchr(line, ' '), *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
        if (strcmp(line, "end") == 0) {
            end = true;
        } else if (!sp || !sp2) {
            ok = false;
        } else if (strncmp(line, "env ", 4) == 0) {
            *sp2 = '\0';
            marker_env_set(env, sp + 1, sp2 + 1);
        } else if (strncmp(line, "target ", 7) == 0) {
            *sp2 = '\0';
            const char *k = sp + 1, *v = sp2 + 1;
            fields++;
            if (strcmp(k, "impl") == 0)
                copy_field(t->impl, sizeof t->impl, v);
            else if (strcmp(k, "abi") == 0)
                copy_field(t->abi, sizeof t->abi, v);
            else if (strcmp(k, "platform") == 0)
                copy_field(t->platform, sizeof t->platform, v);
            else if (strcmp(k, "arch") == 0)
                copy_field(t->arch, sizeof t->arch, v);
            else if (strcmp(k, "numbers") == 0) {
                int ft = 0, libc = 0;
                ok = sscanf(v, "%d %d %d %d %d %d", &t->py_major, &t->py_minor, &ft, &libc, &t->libc_major,
                            &t->libc_minor) == 6;
                t->free_threaded = ft != 0;
                t->libc = (enum hb_libc)libc;
            } else
                ok = false;
        } else {
            ok = false;
        }
    }
    free(line);
    fclose(f);
    if (!ok || !end || fields != 5) {
        marker_env_free(env);
        *env = (marker_env)MARKER_ENV_INIT;
        return false;
    }
    return true;
}

/* The target's markers and tags: from the cache when the interpreter is unchanged, else asked. */
static int target_load(pypi_ctx *c, const hb_fetch_cache *cache, hb_error *err)
{
    char *path = target_cache_path(cache, c->python);
    if (target_cache_read(path, &c->env, &c->target)) {
        free(path);
        return 0;
    }
    int rc = marker_env_from_python(&c->env, c->python, err) != 0 ||
                     hb_python_target_from_python(&c->target, c->python, err) != 0
                 ? -1
                 : 0;
    if (rc == 0 && path)
        target_cache_write(path, &c->env, &c->target);
    free(path);
    return rc;
}

pypi_ctx *pypi_ctx_new(const pypi_cli_options *o, hb_pool *pool, const hb_fetch_cache *cache,
                       hb_error *err)
{
    pypi_ctx *c = hb_calloc(1, sizeof *c);
    const char *py = o->python;
    if (!py) {
        const char *env = getenv("HPCBUILD_PYTHON");
        py = env && *env ? env : "python3";
    }
    c->python = hb_strdup(py);
    if (target_load(c, cache, err) != 0 || load_maps(c, cache, err) != 0) {
        pypi_ctx_free(c);
        return NULL;
    }
    const marker_env_var *fv = marker_env_get(&c->env, "python_full_version", 19);
    c->python_full_version = hb_strdup(fv && fv->value ? fv->value : "");
    c->tags = hb_tag_set_new(&c->target);
    if (!o->ignore_installed) {
        hb_python_dist *dists;
        size_t n;
        /* beside <key>.target, also keyed on the path as given: a venv's bin/python resolves to
         * its base interpreter but sees other directories */
        char *tpath = target_cache_path(cache, c->python), *dpath = NULL;
        char *given = python_as_given(c->python);
        if (tpath && given) {
            strbuf dp = STRBUF_INIT;
            strbuf_printf(&dp, "%.*s-%016llx.dists", (int)(strlen(tpath) - 7), tpath,
                          (unsigned long long)hb_checksum64(given, strlen(given), 0x64697374));
            dpath = strbuf_detach(&dp);
        }
        free(given);
        int drc = hb_python_dists_cached(c->python, dpath, &dists, &n, err);
        free(tpath);
        free(dpath);
        if (drc != 0) {
            pypi_ctx_free(c);
            return NULL;
        }
        for (size_t i = 0; i < n; i++)
            hb_pool_add_site_dist(pool, dists[i].name, dists[i].version, NULL);
        hb_python_dists_free(dists, n);
    }
    hb_pool_set_marker_env(pool, &c->env);
    hb_pool_set_pypi_prereleases(pool, o->pre);
    hb_pool_set_prefer_binary(pool, o->prefer_binary);
    hb_pool_set_prefer(pool, (enum hb_pool_prefer)o->prefer);
    hb_pool_set_pypi_names(pool, to_pypi, to_conda, c);
    hb_pool_set_external_map(pool, external_specs, c);
    c->opt.indices = o->indices;
    c->opt.nindices = o->nindices;
    c->opt.find_links = o->find_links;
    c->opt.nfind_links = o->nfind_links;
    c->opt.unsafe_best_match = o->unsafe_best_match;
    c->opt.no_binary = o->no_binary;
    c->opt.nno_binary = o->nno_binary;
    c->opt.only_binary = o->only_binary;
    c->opt.nonly_binary = o->nonly_binary;
    c->opt.tags = c->tags;
    c->opt.python_full_version = c->python_full_version;
    c->opt.cache = cache;
    c->src = hb_pypi_source_new(&c->opt);
    return c;
}

void pypi_ctx_free(pypi_ctx *c)
{
    if (!c)
        return;
    hb_pypi_source_free(c->src);
    hb_tag_set_free(c->tags);
    marker_env_free(&c->env);
    hb_name_map_free(c->names);
    hb_external_map_free(c->ext);
    hb_json_free(c->alternatives);
    for (size_t i = 0; i < c->next_cache; i++) {
        free(c->ext_cache[i].depurl);
        for (char **s = c->ext_cache[i].specs; s && *s; s++)
            free(*s);
        free(c->ext_cache[i].specs);
    }
    free(c->ext_cache);
    free(c->conda_scratch);
    free(c->pypi_scratch);
    free(c->python_full_version);
    free(c->python);
    free(c);
}

hb_pypi_source *pypi_ctx_source(pypi_ctx *c)
{
    return c->src;
}

const char *pypi_ctx_python(const pypi_ctx *c)
{
    return c->python;
}

const char *pypi_ctx_python_version(const pypi_ctx *c)
{
    return c->python_full_version;
}
