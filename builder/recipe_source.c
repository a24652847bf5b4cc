/* recipe_source.c — a recipe's sources: identity, requirements, the build tree (recipe_source.h). */
#include "hpcbuild/recipe_source.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/build_cache.h"
#include "hpcbuild/build_fs.h"
#include "hpcbuild/extract.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/pep508.h"
#include "hpcbuild/process.h"
#include "hpcbuild/pyname.h"
#include "hpcbuild/sdist.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/toml.h"

char *hb_recipe_path(const char *recipe_dir, const char *p)
{
    if (p[0] == '/' || !recipe_dir || !*recipe_dir)
        return hb_strdup(p);
    return hb_path_join(recipe_dir, p);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Source i's local file or directory: the fetched archive, or its path.  Malloc'd. */
static char *source_local(const hb_recipe *r, size_t i, const char *recipe_dir, char *const *fetched)
{
    const hb_recipe_source *s = &r->sources[i];
    if (s->url.text)
        return fetched && fetched[i] ? hb_strdup(fetched[i]) : NULL;
    return s->path.text ? hb_recipe_path(recipe_dir, s->path.text) : NULL;
}

static bool is_archive_name(const char *path)
{
    static const char *const ext[] = {".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar.zst", ".tar", ".zip", NULL};
    size_t n = strlen(path);
    for (size_t i = 0; ext[i]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && strcmp(path + n - e, ext[i]) == 0)
            return true;
    }
    return false;
}

static int source_missing(const hb_recipe *r, size_t i, hb_error *err)
{
    const hb_recipe_source *s = &r->sources[i];
    if (s->url.text)
        return hb_error_set(err, HB_EINVAL, "%s:%zu: source %s was not fetched", r->path, s->line, s->url.text);
    return hb_error_set(err, HB_EINVAL, "%s:%zu: source %zu has neither url nor path", r->path, s->line, i + 1);
}

int hb_recipe_source_digest(const hb_recipe *r, const char *recipe_dir, char *const *fetched, hb_hasher *h,
                            hb_error *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->nsources; i++) {
        const hb_recipe_source *s = &r->sources[i];
        char hex[HB_HASH_HEX_MAX];
        strbuf line = STRBUF_INIT;
        if (s->url.text) {
            strbuf_printf(&line, "url %s sha256 %s\n", s->url.text, s->sha256.text ? s->sha256.text : "");
        } else if (s->path.text) {
            char *p = hb_recipe_path(recipe_dir, s->path.text);
            if (is_dir(p)) {
                rc = hb_source_tree_hash(p, hex, err);
                strbuf_printf(&line, "tree %s\n", hex);
            } else {
                rc = hb_hash_file_hex(HB_HASH_SHA256, p, hex, err);
                if (rc == 0 && s->sha256.text && !hb_hash_hex_equal(hex, s->sha256.text))
                    rc = hb_error_set(err, HB_EINVAL, "%s:%zu: %s has sha256 %s; the recipe expects %s", r->path,
                                      s->sha256.line, p, hex, s->sha256.text);
                strbuf_printf(&line, "file %s\n", hex);
            }
            if (rc != 0 && err->code != HB_EINVAL)
                hb_error_prefix(err, "%s:%zu: source path", r->path, s->path.line);
            free(p);
        } else {
            rc = source_missing(r, i, err);
        }
        for (size_t k = 0; rc == 0 && k < s->patches.n; k++) {
            char *p = hb_recipe_path(recipe_dir, s->patches.items[k].text);
            rc = hb_hash_file_hex(HB_HASH_SHA256, p, hex, err);
            if (rc != 0)
                hb_error_prefix(err, "%s:%zu: patch", r->path, s->patches.items[k].line);
            strbuf_printf(&line, "patch %s\n", hex);
            free(p);
        }
        if (rc == 0)
            hb_hasher_update(h, line.buf, line.len);
        (void)fetched;
        strbuf_free(&line);
    }
    return rc;
}

/* ---- requirements ------------------------------------------------------------------------- */

static void add_name(char ***names, size_t *n, const char *req)
{
    pep508_requirement pr;
    hb_error e;
    if (pep508_requirement_parse(&pr, req, strlen(req), &e) != 0)
        return;   /* lint reports bad requirements; the build backend will too */
    char *name = pyname_canonicalize(pr.name, strlen(pr.name));
    pep508_requirement_free(&pr);
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*names)[i], name) == 0) {
            free(name);
            return;
        }
    *names = hb_reallocarray(*names, *n + 2, sizeof **names);
    (*names)[(*n)++] = name;
    (*names)[*n] = NULL;
}

static void add_toml_strings(char ***names, size_t *n, const toml_value *root, const char *path)
{
    const toml_value *a = root ? toml_lookup(root, path) : NULL;
    for (size_t i = 0; a && toml_array_at(a, i); i++) {
        const char *s = toml_string(toml_array_at(a, i), NULL);
        if (s)
            add_name(names, n, s);
    }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int hb_recipe_source_requires(const hb_recipe *r, const char *recipe_dir, char *const *fetched,
                              char *const *extra, char ***names, hb_error *err)
{
    *names = NULL;
    size_t n = 0;
    char **v = hb_calloc(1, sizeof *v);
    for (size_t i = 0; extra && extra[i]; i++)
        add_name(&v, &n, extra[i]);
    char *local = r->nsources ? source_local(r, 0, recipe_dir, fetched) : NULL;
    if (!local) {
        hb_strv_free(v);
        return r->nsources ? source_missing(r, 0, err)
                           : hb_error_set(err, HB_EINVAL, "%s: the recipe has no source", r->path);
    }
    toml_value *root = NULL;
    int rc = 0;
    if (is_dir(local)) {
        char *pp = hb_path_join(local, "pyproject.toml");
        if (access(pp, F_OK) == 0 && !(root = toml_parse_file(pp, err)))
            rc = -1;
        free(pp);
    } else {
        hb_sdist_info info;
        rc = hb_sdist_read(&info, local, err);
        if (rc == 0 && info.pyproject && !(root = toml_parse(info.pyproject, info.pyproject_len, local, err)))
            rc = -1;
        for (size_t i = 0; rc == 0 && info.requires_dist && info.requires_dist[i]; i++)
            add_name(&v, &n, info.requires_dist[i]);   /* PKG-INFO's, for setup.py-only projects */
        hb_sdist_info_free(&info);
    }
    if (rc == 0) {
        add_toml_strings(&v, &n, root, "build-system.requires");
        add_toml_strings(&v, &n, root, "project.dependencies");
        qsort(v, n, sizeof *v, cmp_names);
        *names = v;
    } else {
        hb_strv_free(v);
    }
    toml_free(root);
    free(local);
    return rc;
}

/* ---- the build tree ----------------------------------------------------------------------- */

static int copy_entry(const char *from, const char *to, int depth, hb_error *err);

int hb_copy_tree(const char *from, const char *to, hb_error *err)
{
    return copy_entry(from, to, 0, err);
}

static int copy_dir(const char *from, const char *to, int depth, hb_error *err)
{
    if (depth > 64)
        return hb_error_set(err, HB_EINVAL, "%s: directories nested too deeply", from);
    struct stat st;
    if (lstat(to, &st) == 0 && !S_ISDIR(st.st_mode) && unlink(to) != 0)   /* never through a link */
        return hb_error_set(err, HB_EIO, "%s: cannot replace: %s", to, strerror(errno));
    if (hb_mkdir_p(to, err) != 0)
        return -1;
    DIR *d = opendir(from);
    if (!d)
        return hb_error_set(err, HB_EIO, "%s: cannot list: %s", from, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (!hb_source_tree_keeps(e->d_name))   /* what the key does not hash is not copied */
            continue;
        char *a = hb_path_join(from, e->d_name), *b = hb_path_join(to, e->d_name);
        rc = copy_entry(a, b, depth + 1, err);
        free(a);
        free(b);
    }
    closedir(d);
    return rc;
}

static int copy_entry(const char *from, const char *to, int depth, hb_error *err)
{
    struct stat st;
    if (lstat(from, &st) != 0)
        return hb_error_set(err, HB_EIO, "%s: %s", from, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return copy_dir(from, to, depth, err);
    if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlink(from, target, sizeof target - 1);
        if (n < 0)
            return hb_error_set(err, HB_EIO, "%s: cannot read the link: %s", from, strerror(errno));
        target[n] = '\0';
        unlink(to);
        if (symlink(target, to) != 0)
            return hb_error_set(err, HB_EIO, "%s: cannot create the link: %s", to, strerror(errno));
        return 0;
    }
    if (!S_ISREG(st.st_mode))
        return 0;   /* sockets, fifos: nothing a build needs */
    struct stat old;
    if (lstat(to, &old) == 0 && S_ISLNK(old.st_mode))
        unlink(to);   /* an earlier layer's symlink: replaced, never written through */
    if (hb_copy_file(from, to, err) != 0)
        return -1;
    if (chmod(to, st.st_mode & 07777) != 0)
        return hb_error_set(err, HB_EIO, "%s: chmod: %s", to, strerror(errno));
    return 0;
}

/* An unpacked archive's one top directory (or the directory itself) laid over dest. */
static int overlay_unpacked(const char *dir, const char *dest, hb_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return hb_error_set(err, HB_EIO, "%s: cannot list: %s", dir, strerror(errno));
    struct dirent *e;
    size_t n = 0;
    char *only = NULL;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        free(only);
        only = hb_path_join(dir, e->d_name);
    }
    closedir(d);
    char *top = n == 1 && only && is_dir(only) ? only : (free(only), hb_strdup(dir));
    int rc = hb_copy_tree(top, dest, err);
    free(top);
    return rc;
}

/* An archive unpacked into a scratch directory beside dest, then laid over dest. */
static int overlay_archive(const char *archive, const char *dest, hb_error *err)
{
    strbuf tmp = STRBUF_INIT;
    strbuf_printf(&tmp, "%s.unpack", dest);
    hb_remove_tree(tmp.buf, NULL);
    int rc = hb_extract(archive, tmp.buf, NULL, NULL, err);
    if (rc == 0)
        rc = overlay_unpacked(tmp.buf, dest, err);
    hb_remove_tree(tmp.buf, NULL);
    strbuf_free(&tmp);
    return rc;
}

static int apply_patch(const hb_recipe *r, const hb_recipe_str *patch, const char *recipe_dir, const char *dest,
                       hb_error *err)
{
    char *rel = hb_recipe_path(recipe_dir, patch->text);
    char *p = hb_path_absolute(rel);   /* patch reads -i after changing into -d */
    free(rel);
    const char *argv[] = {"patch", "-p1", "--batch", "--forward", "-d", dest, "-i", p, NULL};
    process_result res;
    int rc = process_run(argv, &res, err);
    if (rc == 0 && res.exit_status != 0)
        rc = hb_error_set(err, HB_EINVAL, "%s:%zu: patch %s does not apply: %s%s", r->path, patch->line, p,
                          res.out ? res.out : "", res.err ? res.err : "");
    else if (rc != 0)
        hb_error_prefix(err, "%s:%zu: patch %s", r->path, patch->line, p);
    process_result_free(&res);
    free(p);
    return rc;
}

/* ---- [external] overrides ----------------------------------------------------------------- */

/* The length of a TOML value starting at v (a string or an array, possibly over lines). */
static size_t toml_value_len(const char *v)
{
    int depth = 0;
    char quote = 0;
    const char *p = v;
    for (; *p; p++) {
        if (quote) {
            if (*p == '\\' && quote == '"' && p[1])
                p++;
            else if (*p == quote)
                quote = 0;
            continue;
        }
        if (*p == '"' || *p == '\'')
            quote = *p;
        else if (*p == '[' || *p == '{')
            depth++;
        else if (*p == ']' || *p == '}')
            depth--;
        else if (*p == '#')
            while (p[1] && p[1] != '\n')
                p++;
        else if (*p == '\n' && depth <= 0)
            break;
    }
    return (size_t)(p - v) + (*p ? 1 : 0);
}

static bool is_header(const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    return *line == '[';
}

static bool header_is_external(const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    return strncmp(line, "[external]", 10) == 0;
}

/* key = ... at the start of line (one of the three list keys)? */
static const char *list_key(const char *line)
{
    static const char *const keys[] = {"build-requires", "host-requires", "dependencies"};
    while (*line == ' ' || *line == '\t')
        line++;
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(keys[i]);
        if (strncmp(line, keys[i], n) == 0 && strchr(" \t=", line[n]))
            return keys[i];
    }
    return NULL;
}

static const hb_recipe_list *override_for(const hb_recipe *r, const char *key)
{
    const hb_recipe_list *l = strcmp(key, "build-requires") == 0  ? &r->external_build
                              : strcmp(key, "host-requires") == 0 ? &r->external_host
                                                                  : &r->external_run;
    return l->given ? l : NULL;
}

static void put_list(strbuf *out, const char *key, const hb_recipe_list *l)
{
    strbuf_printf(out, "%s = [", key);
    for (size_t i = 0; i < l->n; i++) {
        strbuf_puts(out, i ? ", \"" : "\"");
        for (const char *c = l->items[i].text; *c; c++) {
            if (*c == '"' || *c == '\\')
                strbuf_putc(out, '\\');
            strbuf_putc(out, *c);
        }
        strbuf_putc(out, '"');
    }
    strbuf_puts(out, "]\n");
}

static int apply_external(const hb_recipe *r, const char *dest, hb_error *err)
{
    if (!r->external_build.given && !r->external_host.given && !r->external_run.given)
        return 0;
    char *path = hb_path_join(dest, "pyproject.toml");
    strbuf in = STRBUF_INIT, out = STRBUF_INIT;
    hb_error ignored;
    hb_read_file(path, &in, &ignored);   /* none: a new pyproject.toml with the table */
    const char *text = strbuf_str(&in);
    bool in_external = false, wrote = false;
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) + 1 : strlen(line);
        if (is_header(line)) {
            in_external = header_is_external(line);
            strbuf_append(&out, line, ll);
            if (in_external && !wrote) {   /* the overrides go first in the table */
                static const char *const keys[] = {"build-requires", "host-requires", "dependencies"};
                for (size_t i = 0; i < 3; i++)
                    if (override_for(r, keys[i]))
                        put_list(&out, keys[i], override_for(r, keys[i]));
                wrote = true;
            }
            line += ll;
            continue;
        }
        const char *key = in_external ? list_key(line) : NULL;
        if (key && override_for(r, key)) {   /* drop the sdist's own list */
            const char *eq = strchr(line, '=');
            line = eq ? eq + 1 + toml_value_len(eq + 1) : line + ll;
            continue;
        }
        strbuf_append(&out, line, ll);
        line += ll;
    }
    if (!wrote) {
        if (out.len && out.buf[out.len - 1] != '\n')
            strbuf_putc(&out, '\n');
        strbuf_puts(&out, "\n[external]\n");
        static const char *const keys[] = {"build-requires", "host-requires", "dependencies"};
        for (size_t i = 0; i < 3; i++)
            if (override_for(r, keys[i]))
                put_list(&out, keys[i], override_for(r, keys[i]));
    }
    int rc = hb_write_file_atomic(path, strbuf_str(&out), out.len, err);
    strbuf_free(&in);
    strbuf_free(&out);
    free(path);
    return rc;
}

int hb_recipe_source_prepare(const hb_recipe *r, const char *recipe_dir, char *const *fetched, const char *dest,
                             hb_error *err)
{
    if (!r->nsources)
        return hb_error_set(err, HB_EINVAL, "%s: the recipe has no source", r->path);
    if (hb_remove_tree(dest, err) != 0 || hb_mkdir_p(dest, err) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->nsources; i++) {
        char *local = source_local(r, i, recipe_dir, fetched);
        struct stat st;
        if (!local)
            rc = source_missing(r, i, err);
        else if (stat(local, &st) != 0)
            rc = hb_error_set(err, HB_EINVAL, "%s:%zu: source %s: %s", r->path, r->sources[i].line, local,
                              strerror(errno));
        else if (S_ISDIR(st.st_mode) && r->sources[i].url.text)   /* unpacked by the package cache */
            rc = overlay_unpacked(local, dest, err);
        else if (S_ISDIR(st.st_mode))
            rc = hb_copy_tree(local, dest, err);
        else if (r->sources[i].url.text || is_archive_name(local)) {
            rc = overlay_archive(local, dest, err);
        } else {
            const char *slash = strrchr(local, '/');
            char *to = hb_path_join(dest, slash ? slash + 1 : local);
            rc = hb_copy_file(local, to, err);
            free(to);
        }
        if (rc != 0 && err->code != HB_EINVAL)
            hb_error_prefix(err, "%s:%zu: source %zu", r->path, r->sources[i].line, i + 1);
        for (size_t k = 0; rc == 0 && k < r->sources[i].patches.n; k++)
            rc = apply_patch(r, &r->sources[i].patches.items[k], recipe_dir, dest, err);
        free(local);
    }
    if (rc == 0)
        rc = apply_external(r, dest, err);
    return rc;
}
