/* prefix_state.c — reading an environment's records (prefix_state.h). */
#include "prefix_state.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/json.h"

static int pkg_cmp(const void *a_, const void *b_)
{
    const installed_pkg *a = a_, *b = b_;
    int c = strcmp(a->name, b->name);
    return c ? c : (int)a->wheel - (int)b->wheel;
}

static int read_records(prefix_state *st, const char *prefix, hb_error *err)
{
    strbuf dir = STRBUF_INIT;
    strbuf_printf(&dir, "%s/conda-meta", prefix);
    DIR *d = opendir(strbuf_str(&dir));
    if (!d) {
        int e = errno;
        strbuf_free(&dir);
        return e == ENOENT ? 0 : hb_error_set(err, HB_EIO, "reading '%s/conda-meta': %s", prefix, strerror(e));
    }
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        strbuf path = STRBUF_INIT;
        strbuf_printf(&path, "%s/%s", strbuf_str(&dir), de->d_name);
        hb_json_doc *doc = hb_json_parse_file(strbuf_str(&path), err);
        if (!doc) {
            rc = -1;
        } else {
            const hb_json_node *root = hb_json_root(doc);
            char *name = hb_json_get_strdup(doc, root, "name"), *version = hb_json_get_strdup(doc, root, "version");
            if (!name || !version) {
                rc = hb_error_set(err, HB_EINVAL, "'%s': expected a package record with name and version",
                                  strbuf_str(&path));
                free(name);
                free(version);
            } else {
                st->pkgs = hb_reallocarray(st->pkgs, st->n + 1, sizeof *st->pkgs);
                installed_pkg *p = &st->pkgs[st->n++];
                memset(p, 0, sizeof *p);
                p->name = name;
                p->version = version;
                p->build = hb_json_get_strdup(doc, root, "build");
                p->channel = hb_json_get_strdup(doc, root, "channel");
                p->url = hb_json_get_strdup(doc, root, "url");
                p->fn = hb_json_get_strdup(doc, root, "fn");
                p->sha256 = hb_json_get_strdup(doc, root, "sha256");
                p->md5 = hb_json_get_strdup(doc, root, "md5");
                p->depends = hb_json_get_strv(doc, root, "depends");
                p->wheel = p->build && strcmp(p->build, "pypi_0") == 0;
                strbuf rel = STRBUF_INIT;
                strbuf_printf(&rel, "conda-meta/%s", de->d_name);
                p->record = strbuf_detach(&rel);
            }
            hb_json_free(doc);
        }
        strbuf_free(&path);
    }
    closedir(d);
    strbuf_free(&dir);
    if (st->n)
        qsort(st->pkgs, st->n, sizeof *st->pkgs, pkg_cmp);
    return rc;
}

static void read_hpcbuild_file(prefix_state *st, const char *prefix)
{
    strbuf path = STRBUF_INIT;
    strbuf_printf(&path, "%s/conda-meta/hpcbuild", prefix);
    FILE *f = fopen(strbuf_str(&path), "r");
    strbuf_free(&path);
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        if (strncmp(line, "spec ", 5) == 0)
            prefix_state_request(st, line + 5);
        else if (strncmp(line, "python ", 7) == 0 && !st->python)
            st->python = hb_strdup(line + 7);
        else if (strncmp(line, "kind ", 5) == 0 && !st->kind)
            st->kind = hb_strdup(line + 5);
    }
    free(line);
    fclose(f);
}

int prefix_state_read(prefix_state *st, const char *prefix, hb_error *err)
{
    memset(st, 0, sizeof *st);
    read_hpcbuild_file(st, prefix);
    if (read_records(st, prefix, err) != 0) {
        prefix_state_free(st);
        return -1;
    }
    return 0;
}

void prefix_state_free(prefix_state *st)
{
    for (size_t i = 0; i < st->n; i++) {
        installed_pkg *p = &st->pkgs[i];
        free(p->name);
        free(p->version);
        free(p->build);
        free(p->channel);
        free(p->url);
        free(p->fn);
        free(p->sha256);
        free(p->md5);
        free(p->record);
        hb_strv_free(p->depends);
    }
    free(st->pkgs);
    hb_strv_free(st->requested);   /* NULL-terminated (prefix_state_request) */
    free(st->python);
    free(st->kind);
    memset(st, 0, sizeof *st);
}

const installed_pkg *prefix_state_find(const prefix_state *st, const char *name, bool wheel)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->pkgs[i].wheel == wheel && strcmp(st->pkgs[i].name, name) == 0)
            return &st->pkgs[i];
    return NULL;
}

void prefix_state_request(prefix_state *st, const char *spec)
{
    for (size_t i = 0; i < st->nrequested; i++)
        if (strcmp(st->requested[i], spec) == 0)
            return;
    st->requested = hb_reallocarray(st->requested, st->nrequested + 2, sizeof *st->requested);
    st->requested[st->nrequested++] = hb_strdup(spec);
    st->requested[st->nrequested] = NULL;
}

void prefix_state_format(const prefix_state *st, strbuf *out)
{
    strbuf_puts(out, "# hpcbuild: what was asked for in this environment (do not edit)\n");
    if (st->kind)
        strbuf_printf(out, "kind %s\n", st->kind);
    if (st->python)
        strbuf_printf(out, "python %s\n", st->python);
    for (size_t i = 0; i < st->nrequested; i++)
        if (!strchr(st->requested[i], '\n'))
            strbuf_printf(out, "spec %s\n", st->requested[i]);
}
