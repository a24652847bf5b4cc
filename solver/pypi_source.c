/* pypi_source.c — indices and find-links loaded as a solve reaches them (pypi_source.h). */
#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/dist_metadata.h"
#include "hpcbuild/distname.h"
#include "hpcbuild/external.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/metadata.h"
#include "hpcbuild/pep440.h"
#include "hpcbuild/pool_pypi.h"
#include "hpcbuild/pypi_source.h"
#include "hpcbuild/pyname.h"
#include "hpcbuild/sdist.h"
#include "hpcbuild/simple_index.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/tags.h"

enum { MAX_ROUNDS = 100000 };

typedef struct link_file {
    char *project;          /* normalized, from the file name */
    char *location;         /* the find-links location it came from */
    hb_index_file file;     /* owned copies */
} link_file;

/* Files of a name that the target cannot use, for explanations. */
enum { SKIP_TAGS, SKIP_PYTHON, SKIP_NO_BINARY, SKIP_ONLY_BINARY, SKIP_KINDS };
typedef struct skip_note {
    char *name;
    size_t count[SKIP_KINDS];
    char *example[SKIP_KINDS];
} skip_note;

struct hb_pypi_source {
    const hb_pypi_options *opt;
    size_t *seen;          /* open-addressing set of dists[] indices + 1, by (name, filename) */
    size_t seen_cap;
    skip_note *skips;
    size_t nskips;
    hb_pypi_dist **dists;
    size_t ndists;
    link_file *links;
    size_t nlinks;
    bool links_loaded;
    hb_pypi_stats stats;
};

hb_pypi_source *hb_pypi_source_new(const hb_pypi_options *opt)
{
    hb_pypi_source *src = hb_calloc(1, sizeof *src);
    src->opt = opt;
    return src;
}

void hb_pypi_source_free(hb_pypi_source *src)
{
    if (!src)
        return;
    for (size_t i = 0; i < src->nskips; i++) {
        free(src->skips[i].name);
        for (int k = 0; k < SKIP_KINDS; k++)
            free(src->skips[i].example[k]);
    }
    free(src->skips);
    for (size_t i = 0; i < src->ndists; i++) {
        hb_pypi_dist_clear(src->dists[i]);
        free(src->dists[i]);
    }
    free(src->dists);
    free(src->seen);
    for (size_t i = 0; i < src->nlinks; i++) {
        free(src->links[i].project);
        free(src->links[i].location);
        hb_index_file_clear(&src->links[i].file);
    }
    free(src->links);
    free(src);
}

const hb_pypi_stats *hb_pypi_source_stats(const hb_pypi_source *src)
{
    return &src->stats;
}

static bool name_listed(const char *const *list, size_t n, const char *norm)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], ":all:") == 0 || pyname_equal(list[i], strlen(list[i]), norm, strlen(norm)))
            return true;
    return false;
}

static char *dup_or_null(const char *s)
{
    return s ? hb_strdup(s) : NULL;
}

static size_t file_hash(const char *name, const char *filename)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a over "name\0filename" */
    for (const char *c = name; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    h *= 1099511628211ull;
    for (const char *c = filename; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    return (size_t)h;
}

/* True when the file of name is already in the pool (the same file from two places);
 * else, unless index is SIZE_MAX, remembers dists[index] as that file. */
static bool seen_file(hb_pypi_source *src, const char *name, const char *filename, size_t index)
{
    if ((src->ndists + 1) * 2 > src->seen_cap) {   /* grow and rehash */
        size_t cap = src->seen_cap ? 2 * src->seen_cap : 1024;
        size_t *t = hb_calloc(cap, sizeof *t);
        for (size_t i = 0; i < src->seen_cap; i++) {
            if (!src->seen[i])
                continue;
            const hb_pypi_dist *d = src->dists[src->seen[i] - 1];
            size_t k = file_hash(d->name, d->filename) & (cap - 1);
            while (t[k])
                k = (k + 1) & (cap - 1);
            t[k] = src->seen[i];
        }
        free(src->seen);
        src->seen = t;
        src->seen_cap = cap;
    }
    size_t k = file_hash(name, filename) & (src->seen_cap - 1);
    for (; src->seen[k]; k = (k + 1) & (src->seen_cap - 1)) {
        const hb_pypi_dist *d = src->dists[src->seen[k] - 1];
        if (strcmp(d->name, name) == 0 && strcmp(d->filename, filename) == 0)
            return true;
    }
    if (index != SIZE_MAX)
        src->seen[k] = index + 1;
    return false;
}

static void note_skip(hb_pypi_source *src, const char *norm, int kind, const char *filename)
{
    skip_note *n = NULL;
    for (size_t i = 0; i < src->nskips && !n; i++)
        if (strcmp(src->skips[i].name, norm) == 0)
            n = &src->skips[i];
    if (!n) {
        src->skips = hb_reallocarray(src->skips, src->nskips + 1, sizeof *src->skips);
        n = &src->skips[src->nskips++];
        memset(n, 0, sizeof *n);
        n->name = hb_strdup(norm);
    }
    if (!n->count[kind]++)
        n->example[kind] = hb_strdup(filename);
}

/* Adds one listed file of project norm to the pool, when the target can use it. */
static void add_file(hb_pypi_source *src, hb_pool *pool, const char *norm, const hb_index_file *f,
                     const char *index)
{
    const hb_pypi_options *o = src->opt;
    hb_distname dn;
    hb_error err;
    if (hb_distname_parse(&dn, f->filename, norm, &err) != 0)
        return;   /* not a distribution, or a name we cannot read: pip skips these too */
    bool wheel = dn.kind == HB_DIST_WHEEL;
    long rank = 0;
    bool keep = strcmp(dn.normalized, norm) == 0;
    int why = -1;
    if (keep && wheel) {
        rank = o->tags ? hb_tag_set_rank_wheel(o->tags, &dn) : 0;
        why = rank < 0 ? SKIP_TAGS : name_listed(o->no_binary, o->nno_binary, norm) ? SKIP_NO_BINARY : -1;
    } else if (keep) {
        keep = strcmp(dn.ext, ".tar.gz") == 0 || strcmp(dn.ext, ".zip") == 0 ||
               strcmp(dn.ext, ".tar.bz2") == 0 || strcmp(dn.ext, ".tar.xz") == 0 || strcmp(dn.ext, ".tgz") == 0;
        if (keep && name_listed(o->only_binary, o->nonly_binary, norm))
            why = SKIP_ONLY_BINARY;
    }
    if (keep && why < 0 && f->requires_python && o->python_full_version) {
        pep440_specset rp;
        if (pep440_specset_parse(&rp, f->requires_python, strlen(f->requires_python), NULL) == 0) {
            if (!pep440_specset_contains(&rp, o->python_full_version, strlen(o->python_full_version),
                                         PEP440_PRE_ALLOW, false))
                why = SKIP_PYTHON;
            pep440_specset_free(&rp);
        }   /* an invalid Requires-Python is ignored, as pip does */
    }
    if (keep && why >= 0) {
        note_skip(src, norm, why, f->filename);
        keep = false;
    }
    if (!keep) {
        hb_distname_free(&dn);
        return;
    }
    if (seen_file(src, norm, f->filename, SIZE_MAX)) {   /* the same file from two places */
        hb_distname_free(&dn);
        return;
    }
    hb_pypi_dist *d = hb_calloc(1, sizeof *d);
    d->name = hb_strdup(norm);
    d->version = hb_strdup(dn.version);
    d->filename = hb_strdup(f->filename);
    d->url = hb_strdup(f->url);
    d->index = hb_strdup(index);
    d->sha256 = dup_or_null(hb_index_file_sha256(f));
    d->wheel = wheel;
    d->yanked = f->yanked;
    d->yanked_reason = dup_or_null(f->yanked_reason);
    d->tag_rank = rank;
    d->has_build = dn.has_build;
    d->build_num = dn.build_num;
    d->build_rest = dup_or_null(dn.build_rest);
    d->requires_python = dup_or_null(f->requires_python);
    d->core_metadata = f->core_metadata;
    d->core_metadata_sha256 = dup_or_null(f->core_metadata_sha256);
    hb_distname_free(&dn);
    if (hb_pool_add_pypi(pool, d, &err) != 0) {
        hb_pypi_dist_clear(d);
        free(d);
        return;
    }
    src->dists = hb_reallocarray(src->dists, src->ndists + 1, sizeof *src->dists);
    src->dists[src->ndists] = d;
    seen_file(src, d->name, d->filename, src->ndists);
    src->ndists++;
    src->stats.files++;
}

/* --- find-links ----------------------------------------------------------------------------- */

static void link_add(hb_pypi_source *src, const char *location, hb_index_file *f)
{
    hb_distname dn;
    if (hb_distname_parse(&dn, f->filename, NULL, NULL) != 0) {
        hb_index_file_clear(f);
        return;
    }
    src->links = hb_reallocarray(src->links, src->nlinks + 1, sizeof *src->links);
    link_file *l = &src->links[src->nlinks++];
    l->project = hb_strdup(dn.normalized);
    l->location = hb_strdup(location);
    l->file = *f;
    memset(f, 0, sizeof *f);
    hb_distname_free(&dn);
}

static int links_from_dir(hb_pypi_source *src, const char *location, const char *dir, hb_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return hb_error_set(err, HB_EIO, "reading find-links directory '%s': %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        strbuf path = STRBUF_INIT;
        strbuf_printf(&path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(strbuf_str(&path), &st) == 0 && S_ISREG(st.st_mode)) {
            hb_index_file f = {0};
            f.filename = hb_strdup(e->d_name);
            f.url = strbuf_detach(&path);
            f.size = (long long)st.st_size;
            link_add(src, location, &f);
        }
        strbuf_free(&path);
    }
    closedir(d);
    return 0;
}

static int links_from_page(hb_pypi_source *src, const char *location, const char *data, size_t len,
                           hb_error *err)
{
    hb_index_page page;
    if (hb_index_links_parse(&page, data, len, location, NULL, err) != 0)
        return -1;
    for (size_t i = 0; i < page.nfiles; i++)
        link_add(src, location, &page.files[i]);
    hb_index_page_free(&page);
    return 0;
}

static int load_links(hb_pypi_source *src, hb_error *err)
{
    if (src->links_loaded)
        return 0;
    src->links_loaded = true;
    const hb_pypi_options *o = src->opt;
    for (size_t i = 0; i < o->nfind_links; i++) {
        const char *loc = o->find_links[i];
        char *path = NULL;
        int kind = hb_fetch_classify_url(loc, &path, err);
        if (kind < 0)
            return hb_error_prefix(err, "--find-links");
        int rc = 0;
        struct stat st;
        if (kind == 1 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            rc = links_from_dir(src, loc, path, err);
        } else {
            hb_fetch f = {0};
            f.url = loc;
            f.to_memory = 1;
            rc = hb_fetch_one(&f, o->fetch, o->cache, err);
            if (rc == 0)
                rc = links_from_page(src, loc, f.body.buf ? f.body.buf : "", f.body.len, err);
            hb_fetch_free(&f);
        }
        free(path);
        if (rc != 0)
            return hb_error_prefix(err, "--find-links '%s'", loc);
    }
    return 0;
}

/* --- index pages ------------------------------------------------------------------------------ */

typedef struct name_load {
    const char *name;
    size_t next;     /* the next index to ask */
    bool found;      /* an index had the name */
    bool done;
} name_load;

/* A local index (a directory tree, plain path or file:// URL) cannot negotiate: its
 * project page is <dir>/index.json (PEP 691) when there is one, else <dir>/index.html.
 * Rewrites *url to that file and sets *type; returns true when neither exists. */
static bool local_page(char **url, const char **type)
{
    char *dir = NULL;
    if (hb_fetch_classify_url(*url, &dir, NULL) != 1) {
        free(dir);
        return false;
    }
    static const char *const files[][2] = {{"index.json", "application/vnd.pypi.simple.v1+json"},
                                           {"index.html", "text/html"}};
    bool missing = true;
    for (size_t i = 0; i < 2 && missing; i++) {
        strbuf path = STRBUF_INIT;
        strbuf_printf(&path, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", files[i][0]);
        struct stat st;
        if (stat(strbuf_str(&path), &st) == 0 && S_ISREG(st.st_mode)) {
            char *abs = realpath(strbuf_str(&path), NULL);   /* relative links need a file:// base */
            strbuf u = STRBUF_INIT;
            strbuf_printf(&u, "file://%s", abs ? abs : strbuf_str(&path));
            free(abs);
            free(*url);
            *url = strbuf_detach(&u);
            *type = files[i][1];
            missing = false;
        }
        strbuf_free(&path);
    }
    free(dir);
    return missing;
}

/* Loads project pages for names: index by index (the first with a name wins unless
 * unsafe_best_match), all names of a step in one parallel batch. */
static int load_names(hb_pypi_source *src, hb_pool *pool, const char *const *names, size_t n, hb_error *err)
{
    const hb_pypi_options *o = src->opt;
    name_load *nl = hb_calloc(n + 1, sizeof *nl);
    for (size_t i = 0; i < n; i++) {
        nl[i].name = names[i];
        nl[i].done = o->nindices == 0;
    }
    hb_fetch *fs = hb_calloc(n + 1, sizeof *fs);
    char **urls = hb_calloc(n + 1, sizeof *urls);
    const char **types = hb_calloc(n + 1, sizeof *types);
    size_t *who = hb_calloc(n + 1, sizeof *who);
    int rc = 0;
    for (;;) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (nl[i].done)
                continue;
            urls[k] = hb_index_project_url(o->indices[nl[i].next], nl[i].name);
            types[k] = NULL;
            memset(&fs[k], 0, sizeof fs[k]);
            if (local_page(&urls[k], &types[k])) {
                fs[k].status = 404;   /* a local index without the project */
                fs[k].attempts = -1;
            }
            fs[k].url = urls[k];
            fs[k].to_memory = 1;
            fs[k].accept = hb_index_accept;
            who[k++] = i;
        }
        if (k == 0)
            break;
        /* the fetches that need a request (local pages that are missing need none) */
        hb_fetch *todo = hb_calloc(k + 1, sizeof *todo);
        size_t *at = hb_calloc(k + 1, sizeof *at), ntodo = 0;
        for (size_t j = 0; j < k; j++)
            if (fs[j].attempts != -1) {
                todo[ntodo] = fs[j];
                at[ntodo++] = j;
            }
        hb_error ferr;
        if (ntodo)
            hb_fetch_many(todo, ntodo, o->fetch, o->cache, NULL, NULL, &ferr);
        for (size_t t = 0; t < ntodo; t++)
            fs[at[t]] = todo[t];
        free(todo);
        free(at);
        for (size_t j = 0; j < k; j++) {
            name_load *l = &nl[who[j]];
            hb_fetch *f = &fs[j];
            if (f->attempts == -1)
                f->attempts = 0;
            else
                src->stats.page_requests += (size_t)(f->attempts ? f->attempts : 1);
            const char *index = o->indices[l->next];
            if (f->ok) {
                hb_index_page page;
                if (hb_index_page_parse(&page, f->body.buf ? f->body.buf : "", f->body.len,
                                        types[j] ? types[j] : f->content_type, f->url, NULL, err) != 0) {
                    rc = -1;
                } else {
                    for (size_t i = 0; i < page.nfiles; i++)
                        add_file(src, pool, l->name, &page.files[i], index);
                    hb_index_page_free(&page);
                    l->found = true;
                }
            } else if (!(f->status == 404 || f->status == 410)) {
                if (rc == 0)
                    hb_error_set(err, f->err.code ? f->err.code : HB_EIO, "%s", f->err.msg);
                rc = -1;
            }
            l->next++;
            l->done = l->next >= o->nindices || (l->found && !o->unsafe_best_match);
            hb_fetch_free(f);
            free(urls[j]);
            urls[j] = NULL;
        }
        if (rc != 0)
            break;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        for (size_t j = 0; j < src->nlinks; j++)
            if (strcmp(src->links[j].project, nl[i].name) == 0)
                add_file(src, pool, nl[i].name, &src->links[j].file, src->links[j].location);
        hb_pool_pypi_loaded(pool, nl[i].name);
        src->stats.names++;
    }
    free(nl);
    free(fs);
    free(urls);
    free(types);
    free(who);
    return rc;
}

/* --- metadata --------------------------------------------------------------------------------- */

static bool is_depurl(const char *s)
{
    return strncmp(s, "dep:", 4) == 0 || strncmp(s, "pkg:", 4) == 0 || strncmp(s, "virtual:", 8) == 0;
}

static void push_specs(char ***v, size_t *n, char *const *specs, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (!is_depurl(specs[i]))
            continue;   /* legacy free-text Requires-External: informative only */
        *v = hb_reallocarray(*v, *n + 2, sizeof **v);
        (*v)[(*n)++] = specs[i];
        (*v)[*n] = NULL;
    }
}

/* Requires-Python from the metadata itself (find-links files carry none on the page). */
static bool python_ok(const hb_pypi_source *src, hb_pypi_dist *d, hb_pool *pool, const char *requires_python)
{
    const char *target = src->opt->python_full_version;
    if (!requires_python || !target)
        return true;
    pep440_specset rp;
    if (pep440_specset_parse(&rp, requires_python, strlen(requires_python), NULL) != 0)
        return true;
    bool ok = pep440_specset_contains(&rp, target, strlen(target), PEP440_PRE_ALLOW, false);
    pep440_specset_free(&rp);
    if (!ok) {
        strbuf why = STRBUF_INIT;
        strbuf_printf(&why, "requires Python %s; the target is %s", requires_python, target);
        hb_pool_pypi_block(pool, d, strbuf_str(&why));
        strbuf_free(&why);
    }
    return ok;
}

static int expand_from_metadata(hb_pypi_source *src, hb_pool *pool, hb_pypi_dist *d, const char *data,
                                size_t len, hb_error *err)
{
    metadata md = METADATA_INIT;
    metadata_core core;
    if (metadata_parse(&md, data, len, err) != 0 || metadata_core_view(&md, &core, NULL, err) != 0) {
        metadata_free(&md);
        return hb_error_prefix(err, "metadata of '%s'", d->filename);
    }
    int rc = 0;
    if (python_ok(src, d, pool, core.requires_python)) {
        hb_external_deps ext;
        char **external = NULL;
        size_t next = 0;
        bool have_ext = hb_external_from_metadata(&ext, &core, NULL, NULL) == 0;
        if (have_ext)
            push_specs(&external, &next, ext.dependencies, ext.ndeps);
        const char **reqs = hb_calloc(core.requires_dist.n + 1, sizeof *reqs);
        for (size_t i = 0; i < core.requires_dist.n; i++)
            reqs[i] = core.requires_dist.v[i];
        rc = hb_pool_pypi_expand(pool, d, reqs, (const char *const *)external, false, err);
        free(reqs);
        free(external);
        if (have_ext)
            hb_external_deps_free(&ext);
    }
    metadata_core_free(&core);
    metadata_free(&md);
    return rc;
}

/* What the solve needs of an sdist, cached by its sha256 under <cache root>/metadata/ as
 * "<sha256>.sdist-deps": lines "dynamic 0|1", "requires-python SPEC", "requires REQ",
 * "external DEPURL" after a "hpcbuild-sdist-deps 1" header. */
typedef struct sdist_deps {
    bool dynamic;
    char *requires_python;
    char **requires, **external;   /* NULL-terminated */
    size_t nrequires, nexternal;
} sdist_deps;

static void sdist_deps_free(sdist_deps *sd)
{
    free(sd->requires_python);
    for (size_t i = 0; i < sd->nrequires; i++)
        free(sd->requires[i]);
    for (size_t i = 0; i < sd->nexternal; i++)
        free(sd->external[i]);
    free(sd->requires);
    free(sd->external);
}

static void list_push(char ***v, size_t *n, const char *s, size_t len)
{
    *v = hb_reallocarray(*v, *n + 2, sizeof **v);
    (*v)[(*n)++] = hb_strndup(s, len);
    (*v)[*n] = NULL;
}

static char *sdist_cache_path(const hb_pypi_source *src, const hb_pypi_dist *d)
{
    if (!src->opt->cache || !src->opt->cache->root || !d->sha256 || strlen(d->sha256) != 64)
        return NULL;
    for (const char *c = d->sha256; *c; c++)
        if (!strchr("0123456789abcdefABCDEF", *c))
            return NULL;
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/metadata", src->opt->cache->root);
    mkdir(strbuf_str(&sb), 0755);
    strbuf_printf(&sb, "/%s.sdist-deps", d->sha256);
    return strbuf_detach(&sb);
}

static bool sdist_cache_read(const char *path, sdist_deps *sd)
{
    memset(sd, 0, sizeof *sd);
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return false;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    bool ok = getline(&line, &cap, f) > 0 && strcmp(line, "hpcbuild-sdist-deps 1\n") == 0;
    while (ok && (n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n') {
            ok = false;   /* a truncated file: never trusted */
            break;
        }
        line[--n] = '\0';
        if (strncmp(line, "dynamic ", 8) == 0)
            sd->dynamic = line[8] == '1';
        else if (strncmp(line, "requires-python ", 16) == 0)
            sd->requires_python = hb_strdup(line + 16);
        else if (strncmp(line, "requires ", 9) == 0)
            list_push(&sd->requires, &sd->nrequires, line + 9, (size_t)n - 9);
        else if (strncmp(line, "external ", 9) == 0)
            list_push(&sd->external, &sd->nexternal, line + 9, (size_t)n - 9);
        else if (strcmp(line, "end") == 0)
            break;
        else
            ok = false;
    }
    ok = ok && strcmp(line ? line : "", "end") == 0;
    free(line);
    fclose(f);
    if (!ok)
        sdist_deps_free(sd);
    return ok;
}

static void sdist_cache_write(const char *path, const sdist_deps *sd)
{
    if (!path)
        return;
    strbuf body = STRBUF_INIT;
    strbuf_printf(&body, "hpcbuild-sdist-deps 1\ndynamic %d\n", sd->dynamic ? 1 : 0);
    if (sd->requires_python && !strchr(sd->requires_python, '\n'))
        strbuf_printf(&body, "requires-python %s\n", sd->requires_python);
    for (size_t i = 0; i < sd->nrequires; i++)
        if (!strchr(sd->requires[i], '\n'))
            strbuf_printf(&body, "requires %s\n", sd->requires[i]);
    for (size_t i = 0; i < sd->nexternal; i++)
        if (!strchr(sd->external[i], '\n'))
            strbuf_printf(&body, "external %s\n", sd->external[i]);
    strbuf_puts(&body, "end\n");
    hb_write_file_atomic(path, body.buf, body.len, NULL);   /* a cache: a failed write costs nothing */
    strbuf_free(&body);
}

static int sdist_deps_read(sdist_deps *sd, const char *path, const char *filename, hb_error *err)
{
    memset(sd, 0, sizeof *sd);
    hb_sdist_info info;
    if (hb_sdist_read(&info, path, err) != 0)
        return hb_error_prefix(err, "sdist '%s'", filename);
    sd->dynamic = !info.static_deps;
    sd->requires_python = info.requires_python ? hb_strdup(info.requires_python) : NULL;
    for (char **r = info.requires_dist; r && *r; r++)
        list_push(&sd->requires, &sd->nrequires, *r, strlen(*r));
    char **ext = NULL;
    size_t next = 0;
    push_specs(&ext, &next, info.external.build_requires, info.external.nbuild);
    push_specs(&ext, &next, info.external.host_requires, info.external.nhost);
    push_specs(&ext, &next, info.external.dependencies, info.external.ndeps);
    for (size_t i = 0; i < next; i++)
        list_push(&sd->external, &sd->nexternal, ext[i], strlen(ext[i]));
    free(ext);
    hb_sdist_info_free(&info);
    return 0;
}

static int expand_from_sdist_deps(hb_pypi_source *src, hb_pool *pool, hb_pypi_dist *d, const sdist_deps *sd,
                                  hb_error *err)
{
    if (!python_ok(src, d, pool, sd->requires_python))
        return 0;
    return hb_pool_pypi_expand(pool, d, (const char *const *)sd->requires, (const char *const *)sd->external,
                               sd->dynamic, err);
}

static int expand_from_sdist(hb_pypi_source *src, hb_pool *pool, hb_pypi_dist *d, const char *path,
                             hb_error *err)
{
    sdist_deps sd;
    if (sdist_deps_read(&sd, path, d->filename, err) != 0)
        return -1;
    char *cpath = sdist_cache_path(src, d);
    sdist_cache_write(cpath, &sd);
    free(cpath);
    int rc = expand_from_sdist_deps(src, pool, d, &sd, err);
    sdist_deps_free(&sd);
    return rc;
}

/* Fetches and applies the metadata of the given dists (wheels in one parallel batch, sdists
 * downloaded in another). */
static int expand_dists(hb_pypi_source *src, hb_pool *pool, hb_pypi_dist **ds, size_t n, hb_error *err)
{
    const hb_pypi_options *o = src->opt;
    hb_meta_request *mr = hb_calloc(n + 1, sizeof *mr);
    hb_fetch *sf = hb_calloc(n + 1, sizeof *sf);
    hb_pypi_dist **wd = hb_calloc(n + 1, sizeof *wd), **sd = hb_calloc(n + 1, sizeof *sd);
    char **tmp = hb_calloc(n + 1, sizeof *tmp);
    size_t nw = 0, ns = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        hb_pypi_dist *d = ds[i];
        if (d->wheel) {
            hb_meta_request *r = &mr[nw];
            r->url = d->url;
            r->project = d->name;
            r->sha256 = d->sha256;
            r->core_metadata = d->core_metadata;
            r->core_metadata_sha256 = d->core_metadata_sha256;
            wd[nw++] = d;
        } else {
            char *cpath = sdist_cache_path(src, d);
            sdist_deps cached;
            bool hit = sdist_cache_read(cpath, &cached);
            free(cpath);
            if (hit) {   /* known by its hash: no download */
                src->stats.metadata++;
                src->stats.metadata_cached++;
                if (rc == 0 && expand_from_sdist_deps(src, pool, d, &cached, err) != 0)
                    rc = -1;
                sdist_deps_free(&cached);
                continue;
            }
            hb_fetch *f = &sf[ns];
            f->url = d->url;
            f->sha256 = d->sha256;
            char *local = NULL;
            int kind = hb_fetch_classify_url(d->url, &local, NULL);
            free(local);
            if (kind == 0 && !o->cache) {   /* no cache: download to a temporary file */
                char t[] = "/tmp/hpcbuild-sdist-XXXXXX";
                int fd = mkstemp(t);
                if (fd >= 0) {
                    close(fd);
                    tmp[ns] = hb_strdup(t);
                    f->dest = tmp[ns];
                }
            }
            sd[ns++] = d;
        }
    }
    hb_error ferr;
    if (nw) {
        hb_wheel_metadata_fetch(mr, nw, o->fetch, o->cache, &ferr);
        for (size_t i = 0; i < nw; i++) {
            src->stats.metadata++;
            src->stats.metadata_requests += (size_t)mr[i].requests;
            if (mr[i].how == HB_META_CACHED || mr[i].how == HB_META_LOCAL)
                src->stats.metadata_cached++;
            if (!mr[i].ok) {
                if (rc == 0)
                    hb_error_set(err, mr[i].err.code ? mr[i].err.code : HB_EIO, "%s", mr[i].err.msg);
                rc = -1;
            } else if (rc == 0 &&
                       expand_from_metadata(src, pool, wd[i], mr[i].metadata.buf ? mr[i].metadata.buf : "",
                                            mr[i].metadata.len, err) != 0) {
                rc = -1;
            }
            hb_meta_request_free(&mr[i]);
        }
    }
    if (ns) {
        hb_fetch_many(sf, ns, o->fetch, o->cache, NULL, NULL, &ferr);
        for (size_t i = 0; i < ns; i++) {
            src->stats.metadata++;
            if (sf[i].status)
                src->stats.metadata_requests += (size_t)sf[i].attempts;
            else
                src->stats.metadata_cached++;
            if (!sf[i].ok || !sf[i].path) {
                if (rc == 0)
                    hb_error_set(err, HB_EIO, "%s", sf[i].ok ? "sdist has no local path" : sf[i].err.msg);
                rc = -1;
            } else if (rc == 0 && expand_from_sdist(src, pool, sd[i], sf[i].path, err) != 0) {
                rc = -1;
            }
            hb_fetch_free(&sf[i]);
            if (tmp[i]) {
                unlink(tmp[i]);
                free(tmp[i]);
            }
        }
    }
    free(mr);
    free(sf);
    free(wd);
    free(sd);
    free(tmp);
    return rc;
}

/* Adds to each problem that names a project the files of it the target could not use. */
static void explain_skips(const hb_pypi_source *src, hb_solve_result *res)
{
    static const char *const what[SKIP_KINDS] = {
        "for other interpreters or platforms", "for another Python version (Requires-Python)",
        "refused by --no-binary", "refused by --only-binary"};
    for (size_t i = 0; i < res->nproblems; i++) {
        strbuf sb = STRBUF_INIT;
        for (size_t k = 0; k < src->nskips; k++) {
            const skip_note *n = &src->skips[k];
            if (!strstr(res->problems[i], n->name))
                continue;
            for (int kind = 0; kind < SKIP_KINDS; kind++)
                if (n->count[kind])
                    strbuf_printf(&sb, "; %zu file%s of %s %s (e.g. %s)", n->count[kind],
                                  n->count[kind] == 1 ? "" : "s", n->name, what[kind], n->example[kind]);
        }
        if (sb.len) {
            strbuf full = STRBUF_INIT;
            strbuf_puts(&full, res->problems[i]);
            strbuf_append(&full, sb.buf, sb.len);
            free(res->problems[i]);
            res->problems[i] = strbuf_detach(&full);
        }
        strbuf_free(&sb);
    }
}

/* --- the rounds ------------------------------------------------------------------------------- */

int hb_pypi_solve(hb_pypi_source *src, hb_pool *pool, const char *const *specs, size_t nspecs,
                  hb_solve_result *res, hb_error *err)
{
    memset(res, 0, sizeof *res);
    if (load_links(src, err) != 0)
        return -1;
    hb_pool_pypi_repo(pool);   /* bare specs may be satisfied from PyPI */
    for (size_t round = 0; round < MAX_ROUNDS; round++) {
        src->stats.rounds++;
        if (hb_pool_solve(pool, specs, nspecs, res, err) != 0)
            return -1;
        const char **wanted;
        size_t nwanted = hb_pool_pypi_wanted_names(pool, &wanted);
        if (nwanted) {
            hb_solve_result_free(res);
            int rc = load_names(src, pool, wanted, nwanted, err);
            free(wanted);
            if (rc != 0)
                return -1;
            continue;
        }
        free(wanted);
        if (!res->ok) {
            explain_skips(src, res);
            return 0;
        }
        hb_pypi_dist **todo = hb_calloc(res->npicks + 1, sizeof *todo);
        size_t ntodo = 0;
        for (size_t i = 0; i < res->npicks; i++) {
            const hb_pypi_dist *d = res->picks[i].dist;
            if (d && !d->expanded)
                todo[ntodo++] = (hb_pypi_dist *)d;
        }
        if (ntodo == 0) {
            free(todo);
            return 0;
        }
        hb_solve_result_free(res);
        int rc = expand_dists(src, pool, todo, ntodo, err);
        free(todo);
        if (rc != 0)
            return -1;
    }
    return hb_error_set(err, HB_EINVAL, "the solve did not settle after %d rounds", MAX_ROUNDS);
}
