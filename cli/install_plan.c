/* install_plan.c — planning and applying a change of a prefix (install_plan.h). */
#include "install_plan.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build_requires.h"
#include "cli.h"
#include "hpcbuild/alloc.h"
#include "hpcbuild/conda_link.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/json.h"
#include "hpcbuild/pool_pypi.h"
#include "hpcbuild/process.h"
#include "hpcbuild/pyname.h"
#include "hpcbuild/wheel_build.h"
#include "hpcbuild/wheel_install.h"

static char *dup0(const char *s)
{
    return s ? hb_strdup(s) : NULL;
}

static void copy_record(conda_record *dst, const conda_record *src)
{
    memset(dst, 0, sizeof *dst);
    dst->name = dup0(src->name);
    dst->version = dup0(src->version);
    dst->build = dup0(src->build);
    dst->build_number = src->build_number;
    dst->channel = dup0(src->channel);
    dst->subdir = dup0(src->subdir);
    dst->md5 = dup0(src->md5);
    dst->sha256 = dup0(src->sha256);
    dst->license = dup0(src->license);
    dst->fn = dup0(src->fn);
    dst->url = dup0(src->url);
    dst->depends = hb_strv_dup((const char *const *)src->depends);
}

void install_plan_init(install_plan *p, const char *prefix)
{
    memset(p, 0, sizeof *p);
    p->prefix = hb_strdup(prefix);
}

void install_plan_free(install_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        conda_record_free(&p->pkgs[i].rec);
        hb_pkg_item_free(&p->pkgs[i].item);
    }
    free(p->pkgs);
    free(p->remove);
    hb_strv_free(p->requested);   /* NULL-terminated (add_requested) */
    free(p->prefix);
    free(p->kind);
    free(p->python);
    free(p->python_version);
    free(p->platform);
    free(p->cmdline);
    memset(p, 0, sizeof *p);
}

static plan_pkg *add_pkg(install_plan *p, bool wheel)
{
    p->pkgs = hb_reallocarray(p->pkgs, p->n + 1, sizeof *p->pkgs);
    plan_pkg *pk = &p->pkgs[p->n++];
    memset(pk, 0, sizeof *pk);
    pk->wheel = wheel;
    return pk;
}

static void add_requested(install_plan *p, const char *spec)
{
    for (size_t i = 0; i < p->nrequested; i++)
        if (strcmp(p->requested[i], spec) == 0)
            return;
    p->requested = hb_reallocarray(p->requested, p->nrequested + 2, sizeof *p->requested);
    p->requested[p->nrequested++] = hb_strdup(spec);
    p->requested[p->nrequested] = NULL;   /* a NULL-terminated list too */
}

static char *major_minor(const char *version)
{
    int a = 0, b = 0;
    if (!version || sscanf(version, "%d.%d", &a, &b) != 2)
        return NULL;
    char buf[32];
    snprintf(buf, sizeof buf, "%d.%d", a, b);
    return hb_strdup(buf);
}

/* The name a spec asks for: "pypi::requests[socks]>=2" -> requests, "numpy >=1" -> numpy. */
static char *spec_name(const char *spec)
{
    const char *s = strstr(spec, "::") ? strstr(spec, "::") + 2 : spec;
    return hb_strndup(s, strcspn(s, " =<>!~[;(@"));
}

static bool spec_names(const char *spec, const char *name)
{
    char *a = spec_name(spec);
    bool same = pyname_equal(a, strlen(a), name, strlen(name));
    free(a);
    return same;
}

/* Two specs ask for the same package name. */
static bool spec_name_of(const char *a, const char *b)
{
    char *n = spec_name(b);
    bool same = spec_names(a, n);
    free(n);
    return same;
}

/* --- solving ----------------------------------------------------------------------------------- */

int install_plan_solve(install_plan *p, solve_options *o, const prefix_state *st)
{
    const char *python = o->py.python ? o->py.python : st->python;
    p->kind = hb_strdup(st->kind ? st->kind : python ? "venv" : "conda");
    if (strcmp(p->kind, "venv") == 0) {
        if (!python)
            return cli_fail(CLI_USAGE, "%s is a venv but records no interpreter: give --python PATH", p->prefix);
        char *real = realpath(python, NULL);
        if (!real && !strchr(python, '/'))
            real = hb_strdup(python);
        if (!real)
            return cli_fail(CLI_USAGE, "invalid --python '%s': no such interpreter", python);
        p->python = real;
        /* the options outlive this plan; python may be o->python_owned itself */
        char *owned = hb_strdup(real);
        free(o->python_owned);
        o->python_owned = owned;
        o->py.python = o->python_owned;
        o->pypi = true;   /* the target interpreter decides markers and tags */
    } else {
        if (o->py.python)
            return cli_fail(CLI_USAGE, "%s is a conda environment: --python applies to new or venv prefixes",
                            p->prefix);
        o->py.ignore_installed = true;   /* a conda env does not see a site Python's packages */
    }
    /* what this environment asked for before (unless a new spec names the same package: it
     * replaces the old one, as conda's update specs do), then the new specs */
    for (size_t i = 0; i < st->nrequested; i++) {
        bool replaced = false;
        for (size_t k = 0; k < o->nspecs && !replaced; k++)
            replaced = spec_name_of(st->requested[i], o->specs[k]);
        if (!replaced)
            add_requested(p, st->requested[i]);
    }
    for (size_t i = 0; i < o->nspecs; i++)
        add_requested(p, o->specs[i]);
    p->requested_changed = p->nrequested != st->nrequested;   /* the same set, whatever the order? */
    for (size_t i = 0; i < p->nrequested && !p->requested_changed; i++) {
        bool found = false;
        for (size_t k = 0; k < st->nrequested && !found; k++)
            found = strcmp(p->requested[i], st->requested[k]) == 0;
        p->requested_changed = !found;
    }
    const char **specs = hb_calloc(p->nrequested + 1, sizeof *specs);
    for (size_t i = 0; i < p->nrequested; i++)
        specs[i] = p->requested[i];
    if (o->spec_owned) {   /* a second pass (after building sdists): checked again */
        for (size_t i = 0; i < o->nspecs; i++)
            free(o->spec_owned[i]);
        free(o->spec_owned);
        o->spec_owned = NULL;
    }
    free(o->specs);
    o->specs = specs;
    o->nspecs = p->nrequested;
    int status = solve_options_finish(o);
    if (status != CLI_OK)
        return status;
    p->platform = hb_strdup(o->platform);
    solve_session s;
    status = solve_session_open(o, &s);
    hb_solve_result res = {0};
    if (status == CLI_OK) {
        status = solve_session_solve(o, &s, &res);
        if (status != CLI_OK && res.problems)
            solve_print_problems(&res);
    }
    for (size_t i = 0; status == CLI_OK && i < res.npicks; i++) {
        const hb_pool_pick *pick = &res.picks[i];
        if (pick->site)
            continue;
        const hb_pypi_dist *d = pick->dist;
        plan_pkg *pk = add_pkg(p, d != NULL);
        pk->sdist = d && !d->wheel;
        if (d) {
            pk->rec.name = hb_strdup(d->name);
            pk->rec.version = hb_strdup(d->version);
            pk->rec.build = hb_strdup("pypi_0");
            pk->rec.channel = hb_strdup("pypi");
            pk->rec.subdir = hb_strdup("pypi");
            pk->rec.fn = hb_strdup(d->filename);
            pk->rec.url = hb_strdup(d->url);
            pk->rec.sha256 = dup0(d->sha256);
            pk->rec.depends = hb_strv_dup((const char *const *)d->requires_dist);
        } else {
            copy_record(&pk->rec, pick->rec);
            if (strcmp(pick->rec->name, "python") == 0 && strcmp(p->kind, "conda") == 0)
                p->python_version = hb_strdup(pick->rec->version);
        }
    }
    if (status == CLI_OK && strcmp(p->kind, "venv") == 0 && s.py)
        p->python_version = hb_strdup(pypi_ctx_python_version(s.py));
    if (p->transient) {   /* remember only what was asked for before */
        for (size_t i = 0; i < p->nrequested; i++)
            free(p->requested[i]);
        p->nrequested = 0;
        if (p->requested)
            p->requested[0] = NULL;
        for (size_t i = 0; i < st->nrequested; i++)
            add_requested(p, st->requested[i]);
        p->requested_changed = false;
    }
    hb_solve_result_free(&res);
    if (status == CLI_OK)
        hb_channel_set_save_caches(&s.cs, s.pool, NULL);
    solve_session_close(&s);
    return status;
}

/* --- lock files -------------------------------------------------------------------------------- */

static void put_str(hb_json_writer *w, const char *key, const char *v)
{
    if (!v)
        return;
    hb_json_key(w, key);
    hb_json_string(w, v);
}

void install_plan_lock_json(const install_plan *p, strbuf *out)
{
    hb_json_writer w;
    hb_json_writer_init(&w, out, 1);
    hb_json_begin_object(&w);
    hb_json_key(&w, "version");
    hb_json_int64(&w, 1);
    put_str(&w, "platform", p->platform);
    put_str(&w, "kind", p->kind);
    put_str(&w, "python", p->python);
    put_str(&w, "python_version", p->python_version);
    hb_json_key(&w, "requested");
    hb_json_string_list(&w, p->requested);
    hb_json_key(&w, "packages");
    hb_json_begin_array(&w);
    for (size_t i = 0; i < p->n; i++) {
        const conda_record *r = &p->pkgs[i].rec;
        if (p->pkgs[i].sdist)
            continue;   /* installed as the wheel built from it, which a later pass records */
        hb_json_begin_object(&w);
        put_str(&w, "kind", p->pkgs[i].wheel ? "wheel" : "conda");
        put_str(&w, "name", r->name);
        put_str(&w, "version", r->version);
        put_str(&w, "build", r->build);
        if (!p->pkgs[i].wheel) {
            hb_json_key(&w, "build_number");
            hb_json_int64(&w, r->build_number);
        }
        put_str(&w, "channel", r->channel);
        put_str(&w, "subdir", r->subdir);
        put_str(&w, "fn", r->fn);
        put_str(&w, "url", r->url);
        put_str(&w, "sha256", r->sha256);
        put_str(&w, "md5", r->md5);
        hb_json_key(&w, "depends");
        hb_json_string_list(&w, r->depends);
        hb_json_end_object(&w);
    }
    hb_json_end_array(&w);
    hb_json_end_object(&w);
    strbuf_putc(out, '\n');
}

int install_plan_from_lock(install_plan *p, const char *lockfile, const prefix_state *st)
{
    hb_error err;
    hb_json_doc *doc = hb_json_parse_file(lockfile, &err);
    if (!doc)
        return cli_fail(CLI_USAGE, "%s", err.msg);
    const hb_json_node *root = hb_json_root(doc);
    const hb_json_node *pkgs = hb_json_object_get(doc, root, "packages");
    int status = CLI_OK;
    int64_t version = 0;
    const hb_json_node *vn = hb_json_object_get(doc, root, "version");
    if (!vn || hb_json_get_int64(doc, vn, &version, NULL) != 0 || version != 1 || !pkgs ||
        hb_json_type(pkgs) != HB_JSON_ARRAY) {
        hb_json_free(doc);
        return cli_fail(CLI_USAGE, "invalid lock file '%s': expected {\"version\": 1, \"packages\": [...]}",
                        lockfile);
    }
    p->platform = hb_json_get_strdup(doc, root, "platform");
    p->kind = hb_json_get_strdup(doc, root, "kind");
    p->python = hb_json_get_strdup(doc, root, "python");
    p->python_version = hb_json_get_strdup(doc, root, "python_version");
    if (!p->kind)
        p->kind = hb_strdup("conda");
    if (st->kind && strcmp(st->kind, p->kind) != 0)
        status = cli_fail(CLI_USAGE, "lock file '%s' is for a %s environment; %s is a %s one", lockfile, p->kind,
                          p->prefix, st->kind);
    char **req = hb_json_get_strv(doc, root, "requested");
    for (char **r = req; *r; r++) {
        add_requested(p, *r);
        free(*r);
    }
    free(req);
    p->requested_changed = true;
    hb_json_iter it = hb_json_iter_init(pkgs);
    const hb_json_node *e;
    size_t index = 0;
    while (status == CLI_OK && hb_json_array_next(&it, &e)) {
        char *kind = hb_json_get_strdup(doc, e, "kind");
        bool wheel = kind && strcmp(kind, "wheel") == 0;
        plan_pkg *pk = add_pkg(p, wheel);
        conda_record *r = &pk->rec;
        r->name = hb_json_get_strdup(doc, e, "name");
        r->version = hb_json_get_strdup(doc, e, "version");
        r->build = hb_json_get_strdup(doc, e, "build");
        r->channel = hb_json_get_strdup(doc, e, "channel");
        r->subdir = hb_json_get_strdup(doc, e, "subdir");
        r->fn = hb_json_get_strdup(doc, e, "fn");
        r->url = hb_json_get_strdup(doc, e, "url");
        r->sha256 = hb_json_get_strdup(doc, e, "sha256");
        r->md5 = hb_json_get_strdup(doc, e, "md5");
        r->depends = hb_json_get_strv(doc, e, "depends");
        const hb_json_node *bn = hb_json_object_get(doc, e, "build_number");
        if (bn)
            hb_json_get_int64(doc, bn, &r->build_number, NULL);
        if (!kind || (!wheel && strcmp(kind, "conda") != 0) || !r->name || !r->version || !r->url || !r->fn ||
            (!r->sha256 && !r->md5))
            status = cli_fail(CLI_USAGE,
                              "invalid lock file '%s': packages[%zu]: expected kind (conda|wheel), name, "
                              "version, fn, url and sha256 or md5",
                              lockfile, index);
        free(kind);
        index++;
    }
    hb_json_free(doc);
    return status;
}

int install_plan_from_state(install_plan *p, const prefix_state *st)
{
    strbuf lock = STRBUF_INIT;
    strbuf_printf(&lock, "%s/hpcbuild.lock", p->prefix);
    hb_json_doc *doc = hb_json_parse_file(strbuf_str(&lock), NULL);
    strbuf_free(&lock);
    if (doc) {
        const hb_json_node *root = hb_json_root(doc);
        p->platform = hb_json_get_strdup(doc, root, "platform");
        p->python_version = hb_json_get_strdup(doc, root, "python_version");
        hb_json_free(doc);
    }
    p->kind = hb_strdup(st->kind ? st->kind : "conda");
    p->python = dup0(st->python);
    for (size_t i = 0; i < st->nrequested; i++)
        add_requested(p, st->requested[i]);
    p->remove = hb_calloc(st->n + 1, sizeof *p->remove);
    for (size_t i = 0; i < st->n; i++) {
        const installed_pkg *ip = &st->pkgs[i];
        plan_pkg *pk = add_pkg(p, ip->wheel);
        pk->keep = true;
        pk->rec.name = hb_strdup(ip->name);
        pk->rec.version = hb_strdup(ip->version);
        pk->rec.build = dup0(ip->build);
        pk->rec.channel = dup0(ip->channel);
        pk->rec.fn = dup0(ip->fn);
        pk->rec.url = dup0(ip->url);
        pk->rec.sha256 = dup0(ip->sha256);
        pk->rec.md5 = dup0(ip->md5);
        pk->rec.depends = hb_strv_dup((const char *const *)ip->depends);
    }
    return CLI_OK;
}

bool install_plan_drop(install_plan *p, const prefix_state *st, const char *name)
{
    for (int wheel = 0; wheel < 2; wheel++) {
        for (size_t i = 0; i < p->n; i++) {
            plan_pkg *pk = &p->pkgs[i];
            if (pk->wheel != (wheel == 1) || !pyname_equal(pk->rec.name, strlen(pk->rec.name), name, strlen(name)))
                continue;
            for (size_t k = 0; k < st->n; k++)
                if (st->pkgs[k].wheel == pk->wheel && strcmp(st->pkgs[k].name, pk->rec.name) == 0)
                    p->remove[p->nremove++] = &st->pkgs[k];
            conda_record_free(&pk->rec);
            hb_pkg_item_free(&pk->item);
            memmove(pk, pk + 1, (p->n - i - 1) * sizeof *pk);
            p->n--;
            size_t k = 0;
            for (size_t r = 0; r < p->nrequested; r++) {
                if (spec_names(p->requested[r], name))
                    free(p->requested[r]);
                else
                    p->requested[k++] = p->requested[r];
            }
            p->nrequested = k;
            if (p->requested)
                p->requested[k] = NULL;
            p->requested_changed = true;
            return true;
        }
    }
    return false;
}

/* --- the difference ---------------------------------------------------------------------------- */

static bool same_pkg(const plan_pkg *pk, const installed_pkg *ip)
{
    const conda_record *r = &pk->rec;
    if (pk->wheel != ip->wheel || strcmp(r->name, ip->name) != 0 || strcmp(r->version, ip->version) != 0)
        return false;
    if (!pk->wheel && (!r->build || !ip->build || strcmp(r->build, ip->build) != 0))
        return false;
    if (r->sha256 && ip->sha256)
        return strcmp(r->sha256, ip->sha256) == 0;
    return r->fn && ip->fn && strcmp(r->fn, ip->fn) == 0;
}

int install_plan_diff(install_plan *p, const prefix_state *st)
{
    p->remove = hb_calloc(st->n + 1, sizeof *p->remove);
    for (size_t i = 0; i < st->n; i++) {
        const installed_pkg *ip = &st->pkgs[i];
        bool kept = false;
        for (size_t k = 0; k < p->n && !kept; k++)
            if (!p->pkgs[k].keep && same_pkg(&p->pkgs[k], ip))
                kept = p->pkgs[k].keep = true;
        if (!kept)
            p->remove[p->nremove++] = ip;
    }
    return CLI_OK;
}

bool install_plan_changes(const install_plan *p)
{
    if (p->nremove || p->requested_changed)
        return true;
    for (size_t i = 0; i < p->n; i++)
        if (!p->pkgs[i].keep)
            return true;
    return false;
}

void install_plan_print(const install_plan *p, FILE *out)
{
    for (size_t i = 0; i < p->nremove; i++)
        fprintf(out, "- %s %s %s\n", p->remove[i]->name, p->remove[i]->version,
                p->remove[i]->wheel ? "wheel" : p->remove[i]->build ? p->remove[i]->build : "");
    for (size_t i = 0; i < p->n; i++) {
        const plan_pkg *pk = &p->pkgs[i];
        if (!pk->keep)
            fprintf(out, "+ %s %s %s %s\n", pk->rec.name, pk->rec.version,
                    pk->sdist ? "sdist (build)" : pk->wheel ? "wheel" : pk->rec.build,
                    pk->wheel ? pk->rec.fn : pk->rec.channel ? pk->rec.channel : "");
    }
}

/* --- fetching ---------------------------------------------------------------------------------- */

typedef struct progress {
    bool tty;
    size_t n, done;
} progress;

static void on_progress(void *user, size_t index, const hb_fetch *f, hb_fetch_event ev, long long done,
                        long long total)
{
    progress *pr = user;
    (void)index;
    (void)f;
    (void)done;
    (void)total;
    if (ev == HB_FETCH_DONE)
        pr->done++;
    if (pr->tty && (ev == HB_FETCH_DONE || ev == HB_FETCH_RETRY))
        fprintf(stderr, "\r  fetching and unpacking: %zu/%zu%s", pr->done > pr->n ? pr->n : pr->done, pr->n,
                ev == HB_FETCH_RETRY ? " (retrying)" : "");
}

int install_plan_fetch(install_plan *p, hb_pkg_cache *pc, bool tty)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += !p->pkgs[i].keep;
    if (!n)
        return CLI_OK;
    hb_pkg_item *items = hb_calloc(n, sizeof *items);
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++) {
        plan_pkg *pk = &p->pkgs[i];
        if (pk->keep)
            continue;
        hb_pkg_item *it = &items[k++];
        it->url = pk->rec.url;
        it->filename = pk->rec.fn;
        it->sha256 = pk->rec.sha256;
        it->md5 = pk->rec.md5;
        it->size = -1;
    }
    progress pr = {tty, n, 0};
    hb_error err;
    int rc = hb_pkg_cache_fetch(pc, items, n, NULL, NULL, on_progress, &pr, &err);
    if (tty)
        fputc('\n', stderr);
    int status = CLI_OK;
    k = 0;
    for (size_t i = 0; i < p->n; i++) {
        plan_pkg *pk = &p->pkgs[i];
        if (pk->keep)
            continue;
        pk->item = items[k++];
        if (pk->item.ok && !pk->rec.sha256 && !pk->rec.md5) {   /* a find-links file: hash it for the lock */
            char hex[HB_HASH_HEX_MAX];
            if (hb_hash_file_hex(HB_HASH_SHA256, pk->item.archive, hex, NULL) == 0)
                pk->rec.sha256 = hb_strdup(hex);
        }
        if (!pk->item.ok) {
            fprintf(stderr, "hpcbuild: %s %s: %s\n", pk->rec.name, pk->rec.version, pk->item.err.msg);
            status = CLI_FAILED;
        }
    }
    free(items);
    if (rc != 0 && status == CLI_OK)
        status = cli_fail(CLI_FAILED, "%s", err.msg);
    return status;
}

/* --- applying ---------------------------------------------------------------------------------- */

static char *site_packages(const install_plan *p)
{
    char *mm = major_minor(p->python_version);
    if (!mm)
        return NULL;
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "lib/python%s/site-packages", mm);
    free(mm);
    return strbuf_detach(&sb);
}

/* pyvenv.cfg and bin/python* of a new venv over p->python. */
static int stage_venv(hb_txn *t, const install_plan *p, hb_error *err)
{
    strbuf cfg = STRBUF_INIT;
    char *home = hb_strdup(p->python);
    char *slash = strrchr(home, '/');
    if (slash)
        *slash = '\0';
    strbuf_printf(&cfg,
                  "home = %s\ninclude-system-site-packages = true\nversion = %s\nexecutable = %s\n"
                  "command = hpcbuild install -p %s --python %s\n",
                  home, p->python_version ? p->python_version : "", p->python, p->prefix, p->python);
    free(home);
    int rc = hb_txn_put_data(t, "pyvenv.cfg", cfg.buf, cfg.len, 0644, err);
    strbuf_free(&cfg);
    char *mm = major_minor(p->python_version);
    if (rc == 0)
        rc = hb_txn_put_symlink(t, "bin/python", p->python, err);
    if (rc == 0)
        rc = hb_txn_put_symlink(t, "bin/python3", "python", err);
    if (rc == 0 && mm) {
        strbuf name = STRBUF_INIT;
        strbuf_printf(&name, "bin/python%s", mm);
        rc = hb_txn_put_symlink(t, strbuf_str(&name), "python", err);
        strbuf_free(&name);
    }
    free(mm);
    return rc;
}

/* conda-meta/<name>-<version>-pypi_0.json: how conda lists a pip-installed distribution. */
static int stage_wheel_record(hb_txn *t, const plan_pkg *pk, char **files, size_t nfiles, hb_error *err)
{
    strbuf out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 1);
    hb_json_begin_object(&w);
    put_str(&w, "name", pk->rec.name);
    put_str(&w, "version", pk->rec.version);
    put_str(&w, "build", "pypi_0");
    hb_json_key(&w, "build_number");
    hb_json_int64(&w, 0);
    put_str(&w, "channel", "pypi");
    put_str(&w, "subdir", "pypi");
    put_str(&w, "fn", pk->rec.fn);
    put_str(&w, "url", pk->rec.url);
    put_str(&w, "sha256", pk->rec.sha256);
    put_str(&w, "installer", "hpcbuild");
    hb_json_key(&w, "depends");
    hb_json_string_list(&w, NULL);
    hb_json_key(&w, "files");
    hb_json_begin_array(&w);
    for (size_t i = 0; i < nfiles; i++)
        hb_json_string(&w, files[i]);
    hb_json_end_array(&w);
    hb_json_end_object(&w);
    strbuf_putc(&out, '\n');
    strbuf rel = STRBUF_INIT;
    strbuf_printf(&rel, "conda-meta/%s-%s-pypi_0.json", pk->rec.name, pk->rec.version);
    int rc = hb_txn_put_data(t, strbuf_str(&rel), out.buf, out.len, 0644, err);
    strbuf_free(&rel);
    strbuf_free(&out);
    return rc;
}

static void history_ident(strbuf *sb, char sign, const char *channel, const char *subdir, const char *name,
                          const char *version, const char *build)
{
    strbuf_printf(sb, "%c%s/%s::%s-%s-%s\n", sign, channel ? channel : "", subdir ? subdir : "", name, version,
                  build ? build : "");
}

/* conda-meta/history with this change's block appended. */
static int stage_history(hb_txn *t, const install_plan *p, hb_error *err)
{
    strbuf sb = STRBUF_INIT;
    strbuf path = STRBUF_INIT;
    strbuf_printf(&path, "%s/conda-meta/history", p->prefix);
    hb_error ignored;
    hb_read_file(strbuf_str(&path), &sb, &ignored);   /* none yet: a new history */
    strbuf_free(&path);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[64];
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    strbuf_printf(&sb, "==> %s <==\n# cmd: %s\n# hpcbuild version: %s\n", stamp,
                  p->cmdline ? p->cmdline : "hpcbuild install", HPCBUILD_VERSION);
    for (size_t i = 0; i < p->nremove; i++) {
        const installed_pkg *ip = p->remove[i];
        history_ident(&sb, '-', ip->channel, ip->wheel ? "pypi" : NULL, ip->name, ip->version, ip->build);
    }
    for (size_t i = 0; i < p->n; i++) {
        const plan_pkg *pk = &p->pkgs[i];
        if (!pk->keep && !pk->sdist)
            history_ident(&sb, '+', pk->rec.channel, pk->rec.subdir, pk->rec.name, pk->rec.version, pk->rec.build);
    }
    strbuf_puts(&sb, "# update specs: [");
    for (size_t i = 0; i < p->nrequested; i++)
        strbuf_printf(&sb, "%s'%s'", i ? ", " : "", p->requested[i]);
    strbuf_puts(&sb, "]\n");
    int rc = hb_txn_put_data(t, "conda-meta/history", sb.buf, sb.len, 0644, err);
    strbuf_free(&sb);
    return rc;
}

static int stage_state(hb_txn *t, const install_plan *p, hb_error *err)
{
    prefix_state st;
    memset(&st, 0, sizeof st);
    st.kind = p->kind;
    st.python = p->python;
    st.requested = p->requested;
    st.nrequested = p->nrequested;
    strbuf sb = STRBUF_INIT;
    prefix_state_format(&st, &sb);
    int rc = hb_txn_put_data(t, "conda-meta/hpcbuild", sb.buf, sb.len, 0644, err);
    strbuf_truncate(&sb, 0);
    install_plan_lock_json(p, &sb);
    if (rc == 0)
        rc = hb_txn_put_data(t, "hpcbuild.lock", sb.buf, sb.len, 0644, err);
    strbuf_free(&sb);
    return rc;
}

static void free_files(char **files, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
}

static int link_pkg(hb_txn *t, const install_plan *p, const plan_pkg *pk, const char *sp, enum hb_link_mode mode,
                    hb_error *err)
{
    char **files = NULL;
    size_t nfiles = 0;
    int rc;
    if (pk->wheel) {
        if (!sp)
            return hb_error_set(err, HB_EINVAL, "cannot install wheel %s: the environment has no Python",
                                pk->rec.fn);
        char *mm = major_minor(p->python_version);
        strbuf python = STRBUF_INIT, headers = STRBUF_INIT;
        strbuf_printf(&python, "%s/bin/python", p->prefix);
        strbuf_printf(&headers, "include/python%s/%s", mm ? mm : "3", pk->rec.name);
        free(mm);
        bool requested = false;
        for (size_t i = 0; i < p->nrequested && !requested; i++) {
            const char *r = p->requested[i];
            if (strncmp(r, "pypi::", 6) == 0)
                r += 6;
            size_t n = strlen(pk->rec.name);
            requested = strncmp(r, pk->rec.name, n) == 0 &&
                        (r[n] == '\0' || !strchr("abcdefghijklmnopqrstuvwxyz0123456789-_.", r[n]));
        }
        /* the cache entry remembers that its unpacked tree matched RECORD: no re-hashing */
        char *entry = hb_strdup(pk->item.extracted);
        char *slash = strrchr(entry, '/');
        if (slash)
            *slash = '\0';
        char *verified = hb_path_join(entry, "record-verified");
        free(entry);
        hb_wheel_install_opts wo = {
            .python = strbuf_str(&python),
            .scheme = {sp, sp, "bin", "", strbuf_str(&headers)},
            .project = pk->rec.name,
            .requested = requested,
            .direct_url_json = NULL,
            .mode = mode,
            .verified = verified,
        };
        rc = hb_wheel_install(t, pk->item.extracted, &wo, &files, &nfiles, err);
        free(verified);
        if (rc == 0)
            rc = stage_wheel_record(t, pk, files, nfiles, err);
        strbuf_free(&python);
        strbuf_free(&headers);
    } else {
        hb_conda_link_opts co = {
            .site_packages = sp,
            .mode = mode,
            .requested_specs = NULL,
            .archive = pk->item.archive,
        };
        rc = hb_conda_link(t, pk->item.extracted, &pk->rec, &co, &files, &nfiles, err);
    }
    free_files(files, nfiles);
    if (rc != 0)
        return hb_error_prefix(err, "%s %s", pk->rec.name, pk->rec.version);
    return 0;
}

/* --- link scripts (CEP 34: installers MUST run them) --------------------------------------- */

/* Runs <dir>/bin/.<name>-<which>.sh when it exists, with PREFIX, PKG_NAME, PKG_VERSION,
 * PKG_BUILDNUM and ROOT_PREFIX set and the script's directory first on PATH; what it writes to
 * $PREFIX/.messages.txt is shown and removed.  0 when there is no script or it succeeded. */
static int run_link_script(const char *prefix, const char *dir, const conda_record *rec, const char *which,
                           hb_error *err)
{
    strbuf script = STRBUF_INIT;
    strbuf_printf(&script, "%s/bin/.%s-%s.sh", dir, rec->name, which);
    struct stat st;
    if (stat(strbuf_str(&script), &st) != 0) {
        strbuf_free(&script);
        return 0;
    }
    strbuf e[6] = {STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT};
    const char *path = getenv("PATH");
    strbuf_printf(&e[0], "PREFIX=%s", prefix);
    strbuf_printf(&e[1], "PKG_NAME=%s", rec->name);
    strbuf_printf(&e[2], "PKG_VERSION=%s", rec->version);
    strbuf_printf(&e[3], "PKG_BUILDNUM=%lld", (long long)rec->build_number);
    strbuf_printf(&e[4], "ROOT_PREFIX=%s", prefix);
    strbuf_printf(&e[5], "PATH=%s/bin:%s", dir, path ? path : "/usr/bin:/bin");
    const char *argv[] = {"/usr/bin/env", e[0].buf, e[1].buf, e[2].buf, e[3].buf, e[4].buf, e[5].buf,
                          "/bin/sh", strbuf_str(&script), NULL};
    process_result r;
    int rc = process_run(argv, &r, err);
    if (rc == 0) {
        if (r.exit_status != 0)
            rc = hb_error_set(err, HB_EIO, "%s's %s script %s failed (exit status %d): %.300s", rec->name, which,
                              strbuf_str(&script), r.exit_status, r.err_len ? r.err : r.out);
        process_result_free(&r);
    }
    strbuf messages = STRBUF_INIT;
    strbuf_printf(&messages, "%s/.messages.txt", prefix);
    FILE *f = fopen(strbuf_str(&messages), "r");
    if (f) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            fwrite(buf, 1, n, stdout);
        fclose(f);
        unlink(strbuf_str(&messages));
    }
    strbuf_free(&messages);
    for (int i = 0; i < 6; i++)
        strbuf_free(&e[i]);
    strbuf_free(&script);
    return rc;
}

/* True when site-packages holds a .dist-info of name. */
static bool dist_present(const char *prefix, const char *sp, const char *name)
{
    hb_installed_dist *d = NULL;
    size_t n = 0;
    if (hb_wheel_list(prefix, sp, &d, &n, NULL) != 0)
        return false;
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        found = pyname_equal(d[i].name, strlen(d[i].name), name, strlen(name));
    hb_installed_dists_free(d, n);
    return found;
}

int install_plan_apply(install_plan *p, const prefix_state *st, enum hb_link_mode mode)
{
    hb_error err;
    hb_txn *t;
    if (hb_txn_begin(&t, p->prefix, 60, &err) != 0)
        return cli_fail(CLI_FAILED, "%s", err.msg);
    char *sp = site_packages(p);
    int rc = 0;
    if (strcmp(p->kind, "venv") == 0 && !st->kind)
        rc = stage_venv(t, p, &err);
    for (size_t i = 0; rc == 0 && i < p->nremove; i++) {
        const installed_pkg *ip = p->remove[i];
        if (ip->wheel) {
            if (sp && dist_present(p->prefix, sp, ip->name))
                rc = hb_wheel_uninstall(t, sp, ip->name, &err);
            else   /* another tool (pip) uninstalled it: only our record is left */
                fprintf(stderr, "hpcbuild: %s %s was already uninstalled (by another tool); forgetting it\n",
                        ip->name, ip->version);
            if (rc == 0)
                rc = hb_txn_remove(t, ip->record, &err);
        } else {
            conda_record r = {.name = ip->name, .version = ip->version};
            rc = run_link_script(p->prefix, p->prefix, &r, "pre-unlink", &err);
            if (rc == 0)
                rc = hb_conda_unlink(t, ip->record, &err);
        }
        if (rc != 0)
            hb_error_prefix(&err, "removing %s %s", ip->name, ip->version);
    }
    /* conda packages first (a conda python brings site-packages), then wheels */
    for (size_t i = 0; rc == 0 && i < p->n; i++)
        if (!p->pkgs[i].keep && !p->pkgs[i].wheel)
            rc = run_link_script(p->prefix, p->pkgs[i].item.extracted, &p->pkgs[i].rec, "pre-link", &err);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; rc == 0 && i < p->n; i++)
            if (!p->pkgs[i].keep && !p->pkgs[i].sdist && p->pkgs[i].wheel == (pass == 1))
                rc = link_pkg(t, p, &p->pkgs[i], sp, mode, &err);
    if (rc == 0)
        rc = stage_history(t, p, &err);
    if (rc == 0)
        rc = stage_state(t, p, &err);
    free(sp);
    if (rc != 0) {
        hb_txn_abort(t);
        return cli_fail(CLI_FAILED, "%s (nothing was changed in %s)", err.msg, p->prefix);
    }
    if (hb_txn_commit(t, &err) != 0)
        return cli_fail(CLI_FAILED, "%s (the next hpcbuild command on %s completes the change)", err.msg,
                        p->prefix);
    /* post-link scripts run in the committed prefix; a failure cannot undo the change, so it is
     * reported (exit status 1) with the package's name */
    int status = CLI_OK;
    for (size_t i = 0; i < p->n; i++)
        if (!p->pkgs[i].keep && !p->pkgs[i].wheel &&
            run_link_script(p->prefix, p->prefix, &p->pkgs[i].rec, "post-link", &err) != 0)
            status = cli_fail(CLI_FAILED, "%s (the package is installed)", err.msg);
    size_t added = 0, kept = 0;
    for (size_t i = 0; i < p->n; i++) {
        added += !p->pkgs[i].keep && !p->pkgs[i].sdist;
        kept += p->pkgs[i].keep;
    }
    printf("%s: %zu added, %zu removed, %zu kept\n", p->prefix, added, p->nremove, kept);
    return status;
}

/* --- sdists ------------------------------------------------------------------------------------ */

bool install_plan_has_sdists(const install_plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->pkgs[i].sdist && !p->pkgs[i].keep)
            return true;
    return false;
}

void install_plan_skip_sdists(install_plan *p)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->pkgs[i].sdist) {
            conda_record_free(&p->pkgs[i].rec);
            hb_pkg_item_free(&p->pkgs[i].item);
        } else {
            p->pkgs[k++] = p->pkgs[i];
        }
    }
    p->n = k;
}

int install_plan_build_sdists(install_plan *p, hb_pkg_cache *pc, const char *site_file, const char *out_dir,
                              struct build_requires_ctx *requires, bool repair)
{
    hb_error err;
    hb_site site = {0};
    bool have_site = site_file && hb_site_load(&site, site_file, &err) == 0;
    if (site_file && !have_site)
        return cli_fail(CLI_USAGE, "%s", err.msg);
    strbuf python = STRBUF_INIT;
    strbuf_printf(&python, "%s/bin/python", p->prefix);
    int status = CLI_OK;
    for (size_t i = 0; status == CLI_OK && i < p->n; i++) {
        plan_pkg *pk = &p->pkgs[i];
        if (!pk->sdist || pk->keep)
            continue;
        printf("building %s %s from %s (without isolation, in %s)\n", pk->rec.name, pk->rec.version, pk->rec.fn,
               p->prefix);
        fflush(stdout);
        hb_wheel_build_request req = {
            .source = pk->item.archive,
            .python = strbuf_str(&python),
            .site = have_site ? &site : NULL,
            .cache = pc->root,
            .out_dir = out_dir,
            .requires_fn = build_requires_install,
            .ctx = requires,
        };
        hb_wheel_build_result res;
        memset(&res, 0, sizeof res);
        if (hb_wheel_build(&req, &res, &err) != 0) {
            if (res.log_tail)
                fprintf(stderr, "%s\n", res.log_tail);
            status = cli_fail(CLI_FAILED, "building %s %s failed: %s", pk->rec.name, pk->rec.version, err.msg);
            if (res.log_path && !strstr(err.msg, res.log_path))
                fprintf(stderr, "hpcbuild: the build log: %s\n", res.log_path);
        } else {
            for (char **w = res.wheels; w && *w; w++)
                printf("  %s %s\n", res.cache_hit ? "cached:" : "built:", *w);
            /* relocatable: private libraries vendored, site ones declared (repair.h) */
            if (repair && build_repair_wheels(res.wheels, have_site ? &site : NULL, &err) != 0)
                status = cli_fail(CLI_FAILED, "%s", err.msg);
        }
        hb_wheel_build_result_free(&res);
    }
    strbuf_free(&python);
    if (have_site)
        hb_site_free(&site);
    return status;
}
