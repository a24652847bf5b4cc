/* channel_plan.c — recipes to jobs: variants, needs, order, keys, what is up to date, job
 * directories (channel_build.h). */
#include "channel_build.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "hpcbuild/alloc.h"
#include "hpcbuild/build_cache.h"
#include "hpcbuild/build_fs.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/hash.h"
#include "hpcbuild/http.h"
#include "hpcbuild/json.h"
#include "hpcbuild/pkg_cache.h"
#include "hpcbuild/process.h"
#include "hpcbuild/pyname.h"
#include "hpcbuild/recipe_source.h"
#include "hpcbuild/site.h"
#include "hpcbuild/site_detect.h"
#include "hpcbuild/strbuf.h"

/* ---- recipe files ------------------------------------------------------------------------- */

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void push(char ***v, size_t *n, char *s)
{
    *v = hb_reallocarray(*v, *n + 2, sizeof **v);
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

/* A directory's *.yaml, *.yml and SUBDIR/recipe.yaml, sorted. */
static int dir_recipes(const char *dir, char ***files, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return cli_fail(CLI_USAGE, "%s: cannot list: %s", dir, strerror(errno));
    char **found = NULL;
    size_t k = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = hb_path_join(dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            char *r = hb_path_join(p, "recipe.yaml");
            if (access(r, F_OK) == 0)
                push(&found, &k, r);
            else
                free(r);
            free(p);
        } else if (has_suffix(e->d_name, ".yaml") || has_suffix(e->d_name, ".yml")) {
            push(&found, &k, p);
        } else {
            free(p);
        }
    }
    closedir(d);
    if (k)
        qsort(found, k, sizeof *found, cmp_str);
    for (size_t i = 0; i < k; i++)
        push(files, n, found[i]);
    free(found);
    return CLI_OK;
}

/* ---- jobs --------------------------------------------------------------------------------- */

/* Letters and digits kept, runs of anything else become one `sep`. */
static void put_clean(strbuf *sb, const char *s, char sep)
{
    bool gap = false, wrote = false;
    for (; *s; s++) {
        bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9');
        if (!ok) {
            gap = wrote;
            continue;
        }
        wrote = true;
        if (gap)
            strbuf_putc(sb, sep);
        gap = false;
        strbuf_putc(sb, *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s);
    }
}

static void job_names(channel_job *j)
{
    const hb_recipe *r = &j->recipe;
    j->name = pyname_canonicalize(r->name.text, strlen(r->name.text));
    strbuf id = STRBUF_INIT, label = STRBUF_INIT, local = STRBUF_INIT;
    strbuf_printf(&id, "%s-%s", j->name, r->version.text);
    strbuf_printf(&label, "%s %s", j->name, r->version.text);
    for (size_t i = 0; i < r->nchosen; i++) {
        strbuf_printf(&id, "-%s-", r->chosen[i].key);
        put_clean(&id, r->chosen[i].value, '_');
        strbuf_printf(&label, "%s%s=%s", i ? " " : " (", r->chosen[i].key, r->chosen[i].value);
        bool dot = local.len > 0;
        if (dot)
            strbuf_putc(&local, '.');
        size_t before = local.len;
        put_clean(&local, r->chosen[i].value, '.');
        if (dot && local.len == before)   /* nothing of the value was usable */
            local.buf[--local.len] = '\0';
    }
    if (r->nchosen)
        strbuf_putc(&label, ')');
    j->id = strbuf_detach(&id);
    j->label = strbuf_detach(&label);
    j->local = local.len ? strbuf_detach(&local) : NULL;
    strbuf_free(&local);
}

static int fetch_sources(channel_job *j, hb_pkg_cache *pc, bool *http_ready)
{
    const hb_recipe *r = &j->recipe;
    j->fetched = hb_calloc(r->nsources + 1, sizeof *j->fetched);
    j->unpacked = hb_calloc(r->nsources + 1, sizeof *j->unpacked);
    for (size_t i = 0; i < r->nsources; i++) {
        const hb_recipe_source *s = &r->sources[i];
        if (!s->url.text)
            continue;
        hb_error err;
        if (!*http_ready) {
            if (hb_http_global_init(&err) != 0)
                return cli_fail(CLI_FAILED, "%s", err.msg);
            *http_ready = true;
        }
        hb_pkg_item it = {.url = s->url.text, .sha256 = s->sha256.text, .size = -1};
        if (hb_pkg_cache_fetch(pc, &it, 1, NULL, NULL, NULL, NULL, &err) != 0 || !it.ok) {
            int st = cli_fail(CLI_FAILED, "%s:%zu: cannot fetch %s: %s", r->path, s->url.line, s->url.text,
                              it.err.msg[0] ? it.err.msg : err.msg);
            hb_pkg_item_free(&it);
            return st;
        }
        j->fetched[i] = hb_strdup(it.archive);
        j->unpacked[i] = it.extracted ? hb_strdup(it.extracted) : NULL;
        hb_pkg_item_free(&it);
    }
    return CLI_OK;
}

static char **recipe_strings(const hb_recipe_list *l)
{
    char **v = hb_calloc(l->n + 1, sizeof *v);
    for (size_t i = 0; i < l->n; i++)
        v[i] = hb_strdup(l->items[i].text);
    return v;
}

static int add_recipe_file(const char *path, channel_plan *plan, hb_pkg_cache *pc, bool *http_ready)
{
    hb_recipe r;
    hb_recipe_problems probs = {0};
    hb_recipe *expanded = NULL;
    size_t n = 0;
    int rc = hb_recipe_parse(path, &r, &probs);
    if (rc == 0)
        rc = hb_recipe_expand_variants(&r, &expanded, &n, &probs);
    if (rc != 0) {
        for (size_t i = 0; i < n; i++)
            hb_recipe_free(&expanded[i]);
        free(expanded);
        strbuf sb = STRBUF_INIT;
        hb_recipe_problems_format(&probs, path, &sb);
        fputs(strbuf_str(&sb), stderr);
        strbuf_free(&sb);
        hb_recipe_problems_free(&probs);
        hb_recipe_free(&r);
        return cli_fail(CLI_USAGE, "%s: fix the recipe first (hpcbuild recipe lint %s)", path, path);
    }
    hb_recipe_problems_free(&probs);
    /* absolute: jobs run elsewhere (another directory, a Slurm node) */
    char *dir = hb_path_absolute(path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    int status = CLI_OK;
    for (size_t i = 0; i < n; i++) {
        plan->jobs = hb_reallocarray(plan->jobs, plan->njobs + 1, sizeof *plan->jobs);
        channel_job *j = &plan->jobs[plan->njobs++];
        memset(j, 0, sizeof *j);
        j->recipe = expanded[i];
        j->recipe_dir = hb_strdup(dir);
        job_names(j);
        if (status == CLI_OK)
            status = fetch_sources(j, pc, http_ready);
        if (status == CLI_OK) {
            hb_error err;
            char **extra = recipe_strings(&j->recipe.build_requires);
            if (hb_recipe_source_requires(&j->recipe, dir, j->fetched, extra, &j->needs, &err) != 0)
                status = cli_fail_error(&err);
            hb_strv_free(extra);
        }
    }
    free(expanded);
    free(dir);
    hb_recipe_free(&r);
    return status;
}

/* ---- the graph ---------------------------------------------------------------------------- */

static void link_deps(channel_plan *plan)
{
    for (size_t i = 0; i < plan->njobs; i++) {
        channel_job *j = &plan->jobs[i];
        for (size_t k = 0; k < plan->njobs; k++) {
            const channel_job *d = &plan->jobs[k];
            if (strcmp(d->name, j->name) == 0)
                continue;
            for (char **n = j->needs; n && *n; n++)
                if (strcmp(*n, d->name) == 0) {
                    j->deps = hb_reallocarray(j->deps, j->ndeps + 1, sizeof *j->deps);
                    j->deps[j->ndeps++] = k;
                    break;
                }
        }
    }
}

/* Depth-first: mark 1 on the way in, 2 when done; a 1 met again is a cycle. */
static int visit(channel_plan *plan, size_t i, int *mark, size_t *n, strbuf *cycle)
{
    if (mark[i] == 2)
        return 0;
    if (mark[i] == 1) {
        strbuf_printf(cycle, "%s", plan->jobs[i].label);
        return -1;
    }
    mark[i] = 1;
    for (size_t k = 0; k < plan->jobs[i].ndeps; k++)
        if (visit(plan, plan->jobs[i].deps[k], mark, n, cycle) != 0) {
            strbuf_printf(cycle, " <- %s", plan->jobs[i].label);
            return -1;
        }
    mark[i] = 2;
    plan->order[(*n)++] = i;
    return 0;
}

static int order_jobs(channel_plan *plan)
{
    plan->order = hb_calloc(plan->njobs + 1, sizeof *plan->order);
    int *mark = hb_calloc(plan->njobs + 1, sizeof *mark);
    size_t n = 0;
    strbuf cycle = STRBUF_INIT;
    int rc = CLI_OK;
    for (size_t i = 0; i < plan->njobs && rc == CLI_OK; i++)
        if (visit(plan, i, mark, &n, &cycle) != 0)
            rc = cli_fail(CLI_USAGE, "the recipes need each other in a cycle: %s", strbuf_str(&cycle));
    free(mark);
    strbuf_free(&cycle);
    return rc;
}

static void closure(const channel_plan *plan, size_t i, bool *in)
{
    for (size_t k = 0; k < plan->jobs[i].ndeps; k++) {
        size_t d = plan->jobs[i].deps[k];
        if (!in[d]) {
            in[d] = true;
            closure(plan, d, in);
        }
    }
}

void channel_plan_skip_dependants(channel_plan *plan, size_t i)
{
    for (size_t k = 0; k < plan->njobs; k++) {
        channel_job *j = &plan->jobs[k];
        if (j->state != JOB_PENDING && j->state != JOB_RUNNING)   /* running: queued in Slurm behind it */
            continue;
        bool *in = hb_calloc(plan->njobs, sizeof *in);
        closure(plan, k, in);
        if (in[i]) {
            j->state = JOB_SKIPPED;
            free(j->message);
            strbuf sb = STRBUF_INIT;
            strbuf_printf(&sb, "not built: it needs %s, which failed", plan->jobs[i].label);
            j->message = strbuf_detach(&sb);
        }
        free(in);
    }
}

/* ---- sites -------------------------------------------------------------------------------- */

static bool provides(const hb_site_external *x, const char *depurl)
{
    for (size_t i = 0; i < x->nprovides; i++)
        if (strcmp(x->provides[i], depurl) == 0)
            return true;
    return false;
}

/* The variant keys that pick one site external among those providing an interface. */
static const struct {
    const char *key, *depurl;
    bool by_version;
} picks[] = {
    {"mpi", "dep:virtual/interface/mpi", false},
    {"blas", "dep:virtual/interface/blas", false},
    {"cuda", "dep:generic/cuda", true},
};

static bool external_matches(const hb_site_external *x, const char *value, bool by_version)
{
    if (by_version) {
        size_t n = strlen(value);
        return strncmp(x->version, value, n) == 0 && (x->version[n] == '\0' || x->version[n] == '.');
    }
    return strcmp(x->name, value) == 0;
}

/* The job's site: the base site with, for each picking variant key, only the chosen provider. */
static int job_site_yaml(const channel_job *j, const hb_site *base, const char *base_path, char **yaml)
{
    *yaml = NULL;
    if (!base)
        return CLI_OK;
    bool *drop = hb_calloc(base->nexternals + 1, sizeof *drop);
    int status = CLI_OK;
    for (size_t c = 0; c < j->recipe.nchosen && status == CLI_OK; c++)
        for (size_t p = 0; p < sizeof picks / sizeof picks[0]; p++) {
            if (strcmp(j->recipe.chosen[c].key, picks[p].key) != 0)
                continue;
            const char *value = j->recipe.chosen[c].value;
            bool found = false;
            strbuf have = STRBUF_INIT;
            for (size_t x = 0; x < base->nexternals; x++) {
                const hb_site_external *e = &base->externals[x];
                if (!provides(e, picks[p].depurl))
                    continue;
                strbuf_printf(&have, "%s%s %s", have.len ? ", " : "", e->name, e->version);
                if (external_matches(e, value, picks[p].by_version))
                    found = true;
                else
                    drop[x] = true;
            }
            if (!found)
                status = cli_fail(CLI_USAGE, "%s: variant %s=%s: the site file %s has no %s external %s %s "
                                  "(it has: %s)", j->recipe.path, picks[p].key, value, base_path, picks[p].key,
                                  picks[p].by_version ? "of version" : "named", value,
                                  have.len ? have.buf : "none");
            strbuf_free(&have);
        }
    if (status == CLI_OK) {
        hb_site s = *base;
        s.externals = hb_calloc(base->nexternals + 1, sizeof *s.externals);
        s.nexternals = 0;
        for (size_t x = 0; x < base->nexternals; x++)
            if (!drop[x])
                s.externals[s.nexternals++] = base->externals[x];
        strbuf out = STRBUF_INIT;
        hb_site_write(&s, &out);
        *yaml = strbuf_detach(&out);
        free(s.externals);
    }
    free(drop);
    return status;
}

/* ---- keys and state ----------------------------------------------------------------------- */

static char *python_identity(const char *python)
{
    const char *argv[] = {python, "-c", "import sys; print(sys.executable, sys.version.split()[0])", NULL};
    process_result r;
    hb_error err;
    if (process_run(argv, &r, &err) != 0)
        return NULL;
    char *id = r.exit_status == 0 && r.out ? hb_strdup(r.out) : NULL;
    process_result_free(&r);
    return id;
}

static int job_key(const channel_opts *o, channel_plan *plan, channel_job *j, const char *site_yaml,
                   const char *python_id)
{
    hb_build_key key;
    hb_build_key_init(&key);
    hb_build_key_add(&key, "hpcbuild", HPCBUILD_VERSION);
    char hex[HB_HASH_HEX_MAX];
    hb_error err;
    if (hb_hash_file_hex(HB_HASH_SHA256, j->recipe.path, hex, &err) != 0) {
        hb_build_key_free(&key);
        return cli_fail_error(&err);
    }
    hb_build_key_add(&key, "recipe", hex);
    for (size_t i = 0; i < j->recipe.nchosen; i++) {
        strbuf v = STRBUF_INIT;
        strbuf_printf(&v, "%s=%s", j->recipe.chosen[i].key, j->recipe.chosen[i].value);
        hb_build_key_add(&key, "variant", v.buf);
        strbuf_free(&v);
    }
    hb_hasher *h = hb_hasher_new(HB_HASH_SHA256);
    int rc = hb_recipe_source_digest(&j->recipe, j->recipe_dir, j->fetched, h, &err);
    hb_hasher_final_hex(h, hex);
    hb_hasher_free(h);
    if (rc != 0) {
        hb_build_key_free(&key);
        return cli_fail_error(&err);
    }
    hb_build_key_add(&key, "sources", hex);
    hb_hash_buffer_hex(HB_HASH_SHA256, site_yaml ? site_yaml : "", site_yaml ? strlen(site_yaml) : 0, hex);
    hb_build_key_add(&key, "site", hex);
    hb_build_key_add(&key, "python", python_id ? python_id : o->python);
    for (size_t i = 0; i < o->nsolve_args; i++)
        hb_build_key_add(&key, "solve-arg", o->solve_args[i]);
    hb_build_key_add(&key, "test", o->no_test ? "no" : "yes");
    for (size_t i = 0; i < j->ndeps; i++)
        hb_build_key_add(&key, "needs", plan->jobs[j->deps[i]].key);
    hb_build_key_finish(&key);
    snprintf(j->key, sizeof j->key, "%s", key.hex);
    hb_build_key_free(&key);
    return CLI_OK;
}

static void load_state(channel_plan *plan)
{
    char *path = hb_path_join(plan->state_dir, "state.json");
    hb_error err;
    hb_json_doc *doc = access(path, F_OK) == 0 ? hb_json_parse_file(path, &err) : NULL;
    const hb_json_node *jobs = doc ? hb_json_object_get(doc, hb_json_root(doc), "jobs") : NULL;
    for (size_t i = 0; jobs && i < plan->njobs; i++) {
        channel_job *j = &plan->jobs[i];
        const hb_json_node *e = hb_json_object_get(doc, jobs, j->id);
        char *key = e ? hb_json_get_strdup(doc, e, "key") : NULL;
        if (e)
            j->old_wheels = hb_json_get_strv(doc, e, "wheels");
        if (key && strcmp(key, j->key) == 0)
            j->state = JOB_UP_TO_DATE;
        j->old_key = key;
    }
    hb_json_free(doc);
    free(path);
}

static bool wheels_present(const channel_opts *o, char *const *wheels)
{
    if (!wheels || !wheels[0])
        return false;
    for (size_t i = 0; wheels[i]; i++) {
        strbuf p = STRBUF_INIT;
        strbuf_printf(&p, "%s/files/%s", o->out, wheels[i]);
        bool ok = access(p.buf, F_OK) == 0;
        strbuf_free(&p);
        if (!ok)
            return false;
    }
    return true;
}

static bool asked_to_rebuild(const channel_opts *o, const channel_job *j)
{
    for (size_t i = 0; i < o->nrebuild; i++) {
        char *n = pyname_canonicalize(o->rebuild[i], strlen(o->rebuild[i]));
        bool hit = strcmp(n, j->name) == 0 || strcmp(o->rebuild[i], j->id) == 0;
        free(n);
        if (hit)
            return true;
    }
    return false;
}

int channel_plan_make(const channel_opts *o, channel_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    char **files = NULL;
    size_t nfiles = 0;
    int status = CLI_OK;
    for (size_t i = 0; i < o->ninputs && status == CLI_OK; i++) {
        struct stat st;
        if (stat(o->inputs[i], &st) != 0)
            status = cli_fail(CLI_USAGE, "%s: %s (expected a recipe file or a directory of recipes)", o->inputs[i],
                              strerror(errno));
        else if (S_ISDIR(st.st_mode))
            status = dir_recipes(o->inputs[i], &files, &nfiles);
        else
            push(&files, &nfiles, hb_strdup(o->inputs[i]));
    }
    if (status == CLI_OK && !nfiles)
        status = cli_fail(CLI_USAGE, "no recipes found in the arguments given");
    hb_pkg_cache pc = {0};
    hb_error err;
    bool have_pc = false, http_ready = false;
    if (status == CLI_OK) {
        if (hb_pkg_cache_open(&pc, NULL, &err) != 0)
            status = cli_fail(CLI_FAILED, "%s", err.msg);
        else
            have_pc = true;
    }
    for (size_t i = 0; i < nfiles && status == CLI_OK; i++)
        status = add_recipe_file(files[i], plan, &pc, &http_ready);
    hb_strv_free(files);
    if (have_pc)
        hb_pkg_cache_close(&pc);
    if (http_ready)
        hb_http_global_cleanup();
    for (size_t i = 0; i < plan->njobs && status == CLI_OK; i++)
        for (size_t k = 0; k < i; k++)
            if (strcmp(plan->jobs[i].id, plan->jobs[k].id) == 0)
                status = cli_fail(CLI_USAGE, "%s and %s both build %s", plan->jobs[k].recipe.path,
                                  plan->jobs[i].recipe.path, plan->jobs[i].label);
    if (status != CLI_OK)
        return status;
    link_deps(plan);
    if ((status = order_jobs(plan)) != CLI_OK)
        return status;

    plan->state_dir = hb_path_join(o->out, ".hpcbuild");
    hb_site base;
    bool have_base = false;
    if (o->site) {
        if (hb_site_load(&base, o->site, &err) != 0)
            return cli_fail(CLI_USAGE, "%s", err.msg);
        have_base = true;
    }
    char *python_id = python_identity(o->python);
    if (!python_id)
        status = cli_fail(CLI_USAGE, "--python %s: cannot run it", o->python);
    else
        plan->python = hb_strndup(python_id, strcspn(python_id, " \n"));
    for (size_t n = 0; n < plan->njobs && status == CLI_OK; n++) {
        channel_job *j = &plan->jobs[plan->order[n]];
        char *yaml = NULL;
        status = job_site_yaml(j, have_base ? &base : NULL, o->site, &yaml);
        if (status == CLI_OK)
            status = job_key(o, plan, j, yaml, python_id);
        free(yaml);
    }
    free(python_id);
    if (have_base)
        hb_site_free(&base);
    if (status != CLI_OK)
        return status;
    for (size_t i = 0; i < plan->njobs; i++)
        plan->jobs[i].state = JOB_PENDING;
    load_state(plan);
    for (size_t i = 0; i < plan->njobs; i++) {
        channel_job *j = &plan->jobs[i];
        if (j->state == JOB_UP_TO_DATE && (!wheels_present(o, j->old_wheels) || asked_to_rebuild(o, j)))
            j->state = JOB_PENDING;
        j->dir = hb_path_join(plan->state_dir, "jobs");
        char *d = hb_path_join(j->dir, j->id);
        free(j->dir);
        j->dir = d;
    }
    /* a job that needs a job that runs runs too (its key may not say so: --rebuild, lost wheels) */
    for (size_t n = 0; n < plan->njobs; n++) {
        channel_job *j = &plan->jobs[plan->order[n]];
        for (size_t k = 0; k < j->ndeps && j->state == JOB_UP_TO_DATE; k++)
            if (plan->jobs[j->deps[k]].state == JOB_PENDING)
                j->state = JOB_PENDING;
    }
    plan->self = channel_self();
    return CLI_OK;
}

/* ---- job directories ---------------------------------------------------------------------- */

static void put_strv(hb_json_writer *w, const char *key, char *const *v)
{
    hb_json_key(w, key);
    hb_json_begin_array(w);
    for (size_t i = 0; v && v[i]; i++)
        hb_json_string(w, v[i]);
    hb_json_end_array(w);
}

static char **kv_strings(const hb_recipe_kv *kv, size_t n)
{
    char **v = hb_calloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        strbuf sb = STRBUF_INIT;
        strbuf_printf(&sb, "%s=%s", kv[i].key, kv[i].value);
        v[i] = strbuf_detach(&sb);
    }
    return v;
}

/* Hard links (copies across file systems) of the up-to-date jobs' wheels it needs, in dir/deps;
 * the wheels directories of the jobs it needs that run now; all as --find-links. */
static char **find_links(const channel_opts *o, const channel_plan *plan, size_t i, hb_error *err, int *rc)
{
    const channel_job *j = &plan->jobs[i];
    bool *in = hb_calloc(plan->njobs, sizeof *in);
    closure(plan, i, in);
    char **v = NULL;
    size_t n = 0;
    char *deps = hb_path_join(j->dir, "deps");
    *rc = hb_mkdir_p(deps, err);
    push(&v, &n, hb_strdup(deps));
    for (size_t k = 0; k < plan->njobs && *rc == 0; k++) {
        if (!in[k])
            continue;
        const channel_job *d = &plan->jobs[k];
        if (d->state != JOB_UP_TO_DATE) {
            push(&v, &n, hb_path_join(d->dir, "wheels"));
            continue;
        }
        for (size_t w = 0; d->old_wheels && d->old_wheels[w] && *rc == 0; w++) {
            strbuf from = STRBUF_INIT;
            strbuf_printf(&from, "%s/files/%s", o->out, d->old_wheels[w]);
            char *to = hb_path_join(deps, d->old_wheels[w]);
            if (link(from.buf, to) != 0)
                *rc = hb_copy_file(from.buf, to, err);
            free(to);
            strbuf_free(&from);
        }
    }
    free(deps);
    free(in);
    return v;
}

static int write_job(const channel_opts *o, const channel_plan *plan, size_t i, const char *site_yaml, hb_error *err)
{
    const channel_job *j = &plan->jobs[i];
    int rc = 0;
    char *site = site_yaml ? hb_path_join(j->dir, "site.yaml") : NULL;
    if (site)
        rc = hb_write_file_atomic(site, site_yaml, strlen(site_yaml), err);
    char **links = rc == 0 ? find_links(o, plan, i, err, &rc) : NULL;
    strbuf out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 1);
    hb_json_begin_object(&w);
    hb_json_member(&w, "label", j->label);
    hb_json_member(&w, "name", j->name);
    hb_json_member(&w, "version", j->recipe.version.text);
    hb_json_key(&w, "local");
    hb_json_string_or_null(&w, j->local);
    hb_json_member(&w, "python", plan->python ? plan->python : o->python);
    hb_json_key(&w, "site");
    hb_json_string_or_null(&w, site);
    hb_json_member(&w, "key", j->key);
    char **env = kv_strings(j->recipe.env, j->recipe.nenv);
    char **config = kv_strings(j->recipe.config_settings, j->recipe.nconfig_settings);
    char **requires = recipe_strings(&j->recipe.build_requires);
    char **tests = o->no_test ? hb_calloc(1, sizeof(char *)) : recipe_strings(&j->recipe.test_commands);
    put_strv(&w, "env", env);
    put_strv(&w, "config-settings", config);
    put_strv(&w, "requires", requires);
    put_strv(&w, "find-links", links);
    put_strv(&w, "solve-args", (char *const *)o->solve_args);
    put_strv(&w, "tests", tests);
    hb_json_end_object(&w);
    strbuf_putc(&out, '\n');
    char *path = hb_path_join(j->dir, "job.json");
    if (rc == 0)
        rc = hb_write_file_atomic(path, out.buf, out.len, err);
    hb_strv_free(env);
    hb_strv_free(config);
    hb_strv_free(requires);
    hb_strv_free(tests);
    hb_strv_free(links);
    free(path);
    free(site);
    strbuf_free(&out);
    return rc;
}

int channel_plan_prepare(const channel_opts *o, channel_plan *plan)
{
    hb_site base;
    hb_error err;
    bool have_base = false;
    if (o->site) {
        if (hb_site_load(&base, o->site, &err) != 0)
            return cli_fail(CLI_USAGE, "%s", err.msg);
        have_base = true;
    }
    int status = CLI_OK;
    for (size_t n = 0; n < plan->njobs && status == CLI_OK; n++) {
        size_t i = plan->order[n];
        channel_job *j = &plan->jobs[i];
        if (j->state != JOB_PENDING)
            continue;
        char *src = hb_path_join(j->dir, "src"), *yaml = NULL;
        if (hb_remove_tree(j->dir, &err) != 0 || hb_mkdir_p(j->dir, &err) != 0 ||
            hb_recipe_source_prepare(&j->recipe, j->recipe_dir, j->unpacked, src, &err) != 0)
            status = cli_fail_error(&err);
        if (status == CLI_OK)
            status = job_site_yaml(j, have_base ? &base : NULL, o->site, &yaml);
        if (status == CLI_OK && write_job(o, plan, i, yaml, &err) != 0)
            status = cli_fail_error(&err);
        free(yaml);
        free(src);
    }
    if (have_base)
        hb_site_free(&base);
    return status;
}

/* ---- results ------------------------------------------------------------------------------ */

void channel_job_read_result(channel_job *j)
{
    char *path = hb_path_join(j->dir, "result.json");
    hb_error err;
    hb_json_doc *doc = access(path, F_OK) == 0 ? hb_json_parse_file(path, &err) : NULL;
    const hb_json_node *root = doc ? hb_json_root(doc) : NULL;
    bool ok = false;
    const hb_json_node *okv = root ? hb_json_object_get(doc, root, "ok") : NULL;
    if (okv)
        hb_json_get_bool(okv, &ok, &err);
    hb_strv_free(j->wheels);
    j->wheels = root ? hb_json_get_strv(doc, root, "wheels") : NULL;
    free(j->message);
    j->message = root ? hb_json_get_strdup(doc, root, "message") : NULL;
    if (!root)
        j->message = hb_strdup("it left no result.json: it was killed, or never started");
    j->state = ok && j->wheels && j->wheels[0] ? JOB_DONE : JOB_FAILED;
    const hb_json_node *tested = root ? hb_json_object_get(doc, root, "tested") : NULL;
    j->tested = false;
    if (tested)
        hb_json_get_bool(tested, &j->tested, &err);
    hb_json_free(doc);
    free(path);
}

char *channel_job_log_tail(const channel_job *j, size_t max)
{
    char *path = hb_path_join(j->dir, "log.txt");
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f)
        return hb_strdup("");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    if (size < 0) {
        fclose(f);
        return hb_strdup("");
    }
    long from = size > (long)max ? size - (long)max : 0;
    fseek(f, from, SEEK_SET);
    char *buf = hb_calloc((size_t)(size - from) + 1, 1);
    size_t got = fread(buf, 1, (size_t)(size - from), f);
    buf[got] = '\0';
    fclose(f);
    char *nl = from ? strchr(buf, '\n') : NULL;   /* start at a whole line */
    if (nl) {
        char *rest = hb_strdup(nl + 1);
        free(buf);
        buf = rest;
    }
    return buf;
}

void channel_plan_free(channel_plan *plan)
{
    for (size_t i = 0; i < plan->njobs; i++) {
        channel_job *j = &plan->jobs[i];
        free(j->id);
        free(j->label);
        free(j->name);
        free(j->local);
        for (size_t k = 0; k < j->recipe.nsources; k++) {
            free(j->fetched ? j->fetched[k] : NULL);
            free(j->unpacked ? j->unpacked[k] : NULL);
        }
        free(j->fetched);
        free(j->unpacked);
        hb_recipe_free(&j->recipe);
        free(j->recipe_dir);
        hb_strv_free(j->needs);
        free(j->deps);
        hb_strv_free(j->old_wheels);
        free(j->old_key);
        hb_strv_free(j->wheels);
        free(j->dir);
        free(j->slurm_id);
        free(j->message);
    }
    free(plan->jobs);
    free(plan->order);
    free(plan->state_dir);
    free(plan->self);
    free(plan->python);
    memset(plan, 0, sizeof *plan);
}
