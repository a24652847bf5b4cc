/* channel_job.c — `hpcbuild channel run-job DIR`: one channel job, on this machine or a Slurm
 * node (channel_build.h).  Reads DIR/job.json; everything it runs prints into its stdout (the
 * job's log); ends by writing DIR/result.json. */
#include "channel_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hpcbuild/alloc.h"
#include "hpcbuild/build_fs.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/json.h"
#include "hpcbuild/repair.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/toml.h"
#include "hpcbuild/wheel_zip.h"

extern char **environ;

typedef struct job_spec {
    char *dir, *label, *name, *version, *local, *python, *site, *key;
    char **env, **config, **requires, **find_links, **solve_args, **tests;
} job_spec;

static void job_spec_free(job_spec *s)
{
    free(s->label);
    free(s->name);
    free(s->version);
    free(s->local);
    free(s->python);
    free(s->site);
    free(s->key);
    hb_strv_free(s->env);
    hb_strv_free(s->config);
    hb_strv_free(s->requires);
    hb_strv_free(s->find_links);
    hb_strv_free(s->solve_args);
    hb_strv_free(s->tests);
}

static int job_spec_load(job_spec *s, const char *dir, hb_error *err)
{
    memset(s, 0, sizeof *s);
    s->dir = (char *)dir;
    char *path = hb_path_join(dir, "job.json");
    hb_json_doc *doc = hb_json_parse_file(path, err);
    free(path);
    if (!doc)
        return -1;
    const hb_json_node *r = hb_json_root(doc);
    s->label = hb_json_get_strdup(doc, r, "label");
    s->name = hb_json_get_strdup(doc, r, "name");
    s->version = hb_json_get_strdup(doc, r, "version");
    s->local = hb_json_get_strdup(doc, r, "local");
    s->python = hb_json_get_strdup(doc, r, "python");
    s->site = hb_json_get_strdup(doc, r, "site");
    s->key = hb_json_get_strdup(doc, r, "key");
    s->env = hb_json_get_strv(doc, r, "env");
    s->config = hb_json_get_strv(doc, r, "config-settings");
    s->requires = hb_json_get_strv(doc, r, "requires");
    s->find_links = hb_json_get_strv(doc, r, "find-links");
    s->solve_args = hb_json_get_strv(doc, r, "solve-args");
    s->tests = hb_json_get_strv(doc, r, "tests");
    hb_json_free(doc);
    if (!s->name || !s->version || !s->python || !s->key)
        return hb_error_set(err, HB_EINVAL, "%s/job.json: expected name, version, python and key", dir);
    return 0;
}

/* ---- running things into the log ------------------------------------------------------------ */

typedef struct argvec {
    const char **v;
    size_t n, cap;
} argvec;

static void arg(argvec *a, const char *s)
{
    if (a->n + 2 > a->cap) {
        a->cap = a->cap ? a->cap * 2 : 32;
        a->v = hb_reallocarray(a->v, a->cap, sizeof *a->v);
    }
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

static void args(argvec *a, char *const *v, const char *option)
{
    for (size_t i = 0; v && v[i]; i++) {
        if (option)
            arg(a, option);
        arg(a, v[i]);
    }
}

/* Runs argv (cwd: dir or unchanged; extra "K=V" put into the environment) with this process's
 * stdout and stderr; its exit status, or -1 when it could not start. */
static int run_logged(const char *const *argv, const char *cwd, char *const *extra)
{
    printf("== hpcbuild:");
    for (size_t i = 0; argv[i]; i++)
        printf(" %s", argv[i]);
    printf("\n");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (cwd && chdir(cwd) != 0)
            _exit(127);
        for (size_t i = 0; extra && extra[i]; i++)
            putenv(extra[i]);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "hpcbuild: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The common tail of the install/build commands: site, find-links, forwarded solve options. */
static void solve_tail(argvec *a, const job_spec *s)
{
    if (s->site) {
        arg(a, "--site");
        arg(a, s->site);
    } else {
        arg(a, "--site");
        arg(a, "none");
    }
    args(a, s->find_links, "--find-links");
    args(a, s->solve_args, NULL);
}

/* [build-system] requires of the prepared tree (setuptools' default without one). */
static char **build_system_requires(const char *src)
{
    char *pp = hb_path_join(src, "pyproject.toml");
    hb_error err;
    toml_value *root = access(pp, F_OK) == 0 ? toml_parse_file(pp, &err) : NULL;
    free(pp);
    const toml_value *a = root ? toml_lookup(root, "build-system.requires") : NULL;
    size_t n = 0;
    char **v = hb_calloc(1, sizeof *v);
    for (size_t i = 0; a && toml_array_at(a, i); i++) {
        const char *str = toml_string(toml_array_at(a, i), NULL);
        if (!str)
            continue;
        v = hb_reallocarray(v, n + 2, sizeof *v);
        v[n++] = hb_strdup(str);
        v[n] = NULL;
    }
    if (!a) {
        free(v);
        v = hb_calloc(2, sizeof *v);
        v[0] = hb_strdup("setuptools>=40.8.0");
    }
    toml_free(root);
    return v;
}

static char **pypi_specs(char *const *reqs)
{
    size_t n = 0;
    while (reqs && reqs[n])
        n++;
    char **v = hb_calloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        strbuf sb = STRBUF_INIT;
        strbuf_printf(&sb, "pypi::%s", reqs[i]);
        v[i] = strbuf_detach(&sb);
    }
    return v;
}

/* ---- the steps ------------------------------------------------------------------------------ */

/* The venv DIR/env over the interpreter, with [build-system] requires and the recipe's extra
 * build requirements. */
static int step_env(const job_spec *s, const char *self, const char *env, const char *src, strbuf *why)
{
    char **reqs = build_system_requires(src);
    size_t n = 0;
    while (reqs[n])
        n++;
    for (size_t i = 0; s->requires && s->requires[i]; i++) {
        reqs = hb_reallocarray(reqs, n + 2, sizeof *reqs);
        reqs[n++] = hb_strdup(s->requires[i]);
        reqs[n] = NULL;
    }
    char **specs = pypi_specs(reqs);
    argvec a = {0};
    arg(&a, self);
    arg(&a, "install");
    arg(&a, "-p");
    arg(&a, env);
    arg(&a, "--python");
    arg(&a, s->python);
    solve_tail(&a, s);
    args(&a, specs, NULL);
    int rc = run_logged(a.v, NULL, NULL);
    if (rc != 0)
        strbuf_printf(why, "installing the build requirements into %s failed (exit %d)", env, rc);
    free(a.v);
    hb_strv_free(specs);
    hb_strv_free(reqs);
    return rc == 0 ? 0 : -1;
}

static int step_build(const job_spec *s, const char *self, const char *env, const char *src, const char *built,
                      strbuf *why)
{
    strbuf keyenv = STRBUF_INIT;
    strbuf_printf(&keyenv, "HPCBUILD_CHANNEL_KEY=%s", s->key);   /* the build cache keys on it */
    argvec a = {0};
    arg(&a, self);
    arg(&a, "build");
    arg(&a, src);
    arg(&a, "-p");
    arg(&a, env);
    arg(&a, "-o");
    arg(&a, built);
    arg(&a, "--env");
    arg(&a, keyenv.buf);
    args(&a, s->env, "--env");
    args(&a, s->config, "--config-setting");
    solve_tail(&a, s);
    int rc = run_logged(a.v, NULL, NULL);
    if (rc != 0)
        strbuf_printf(why, "the build failed (exit %d)", rc);
    free(a.v);
    strbuf_free(&keyenv);
    return rc == 0 ? 0 : -1;
}

static bool is_wheel_name(const char *n)
{
    size_t len = strlen(n);
    return n[0] != '.' && len > 4 && strcmp(n + len - 4, ".whl") == 0;
}

/* The built wheels into DIR/wheels, with the variant's local version label. */
static int step_label(const job_spec *s, const char *built, const char *wheels, char ***names, strbuf *why)
{
    hb_error err;
    if (hb_remove_tree(wheels, &err) != 0 || hb_mkdir_p(wheels, &err) != 0) {
        strbuf_puts(why, err.msg);
        return -1;
    }
    char **files = NULL;
    size_t nfiles = 0;
    if (hb_tree_files(built, &files, &nfiles, &err) != 0) {
        strbuf_puts(why, err.msg);
        return -1;
    }
    size_t n = 0;
    *names = hb_calloc(nfiles + 1, sizeof **names);
    int rc = 0;
    for (size_t i = 0; i < nfiles && rc == 0; i++) {
        if (!is_wheel_name(files[i]))
            continue;
        char *from = hb_path_join(built, files[i]), *out = NULL;
        if (s->local) {
            rc = hb_wheel_set_local_version(from, s->local, wheels, &out, &err);
        } else {
            out = hb_path_join(wheels, files[i]);
            rc = hb_copy_file(from, out, &err);
        }
        if (rc == 0) {
            const char *slash = strrchr(out, '/');
            (*names)[n++] = hb_strdup(slash ? slash + 1 : out);
            printf("== hpcbuild: wheel %s\n", slash ? slash + 1 : out);
        } else {
            strbuf_puts(why, err.msg);
        }
        free(out);
        free(from);
    }
    if (rc == 0 && n == 0) {
        strbuf_printf(why, "the build made no wheel in %s", built);
        rc = -1;
    }
    hb_strv_free(files);
    return rc;
}

/* A fresh venv with the job's wheel installed (from DIR/wheels and the find-links), then each
 * test command through /bin/sh in an empty directory, the venv's bin first on PATH. */
static int step_test(const job_spec *s, const char *self, const char *wheels, strbuf *why)
{
    if (!s->tests || !s->tests[0])
        return 0;
    char *env = hb_path_join(s->dir, "test-env"), *cwd = hb_path_join(s->dir, "test");
    hb_error err;
    hb_remove_tree(env, NULL);
    hb_remove_tree(cwd, NULL);
    hb_mkdir_p(cwd, &err);
    strbuf spec = STRBUF_INIT;
    strbuf_printf(&spec, "pypi::%s==%s%s%s", s->name, s->version, s->local ? "+" : "", s->local ? s->local : "");
    argvec a = {0};
    arg(&a, self);
    arg(&a, "install");
    arg(&a, "-p");
    arg(&a, env);
    arg(&a, "--python");
    arg(&a, s->python);
    arg(&a, "--find-links");
    arg(&a, wheels);
    solve_tail(&a, s);
    arg(&a, spec.buf);
    int rc = run_logged(a.v, NULL, NULL);
    if (rc != 0)
        strbuf_printf(why, "installing %s into a fresh environment for the test failed (exit %d)", spec.buf + 6, rc);
    strbuf path = STRBUF_INIT, venv = STRBUF_INIT;
    const char *old = getenv("PATH");
    strbuf_printf(&path, "PATH=%s/bin:%s", env, old ? old : "/usr/bin:/bin");
    strbuf_printf(&venv, "VIRTUAL_ENV=%s", env);
    char *extra[] = {path.buf, venv.buf, NULL};
    for (size_t i = 0; rc == 0 && s->tests[i]; i++) {
        const char *argv[] = {"/bin/sh", "-c", s->tests[i], NULL};
        rc = run_logged(argv, cwd, extra);
        if (rc != 0)
            strbuf_printf(why, "the test `%s` failed (exit %d)", s->tests[i], rc);
    }
    free(a.v);
    strbuf_free(&spec);
    strbuf_free(&path);
    strbuf_free(&venv);
    free(env);
    free(cwd);
    return rc == 0 ? 0 : -1;
}

static void write_result(const char *dir, bool ok, const char *stage, char *const *wheels, const char *message,
                         bool tested, double seconds)
{
    strbuf out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 1);
    hb_json_begin_object(&w);
    hb_json_key(&w, "ok");
    hb_json_bool(&w, ok);
    hb_json_member(&w, "stage", stage);
    hb_json_key(&w, "message");
    hb_json_string_or_null(&w, message);
    hb_json_key(&w, "wheels");
    hb_json_begin_array(&w);
    for (size_t i = 0; wheels && wheels[i]; i++)
        hb_json_string(&w, wheels[i]);
    hb_json_end_array(&w);
    hb_json_key(&w, "tested");
    hb_json_bool(&w, tested);
    hb_json_key(&w, "seconds");
    hb_json_double(&w, seconds);
    hb_json_end_object(&w);
    strbuf_putc(&out, '\n');
    char *path = hb_path_join(dir, "result.json");
    hb_error err;
    if (hb_write_file_atomic(path, out.buf, out.len, &err) != 0)
        fprintf(stderr, "hpcbuild: %s\n", err.msg);
    free(path);
    strbuf_free(&out);
}


int channel_run_job(int argc, char **argv)
{
    if (argc != 2 || cli_is_help(argv[1])) {
        fputs("usage: hpcbuild channel run-job DIR\n\n"
              "Runs one job that `hpcbuild channel build` prepared in DIR (job.json): the build in a\n"
              "venv DIR/env, the wheels into DIR/wheels (variants get their local version label), the\n"
              "recipe's test in a fresh venv; writes DIR/result.json.  The local and Slurm executors\n"
              "run it; run it by hand to debug one job.\n",
              argc == 2 ? stdout : stderr);
        return argc == 2 ? CLI_OK : CLI_USAGE;
    }
    char *dir = hb_path_absolute(argv[1]);
    job_spec s;
    hb_error err;
    if (job_spec_load(&s, dir, &err) != 0) {
        job_spec_free(&s);
        free(dir);
        return cli_fail_error(&err);
    }
    double t0 = channel_now();
    char *self = channel_self();
    char *env = hb_path_join(dir, "env"), *src = hb_path_join(dir, "src");
    char *built = hb_path_join(dir, "built"), *wheels = hb_path_join(dir, "wheels");
    char **names = NULL;
    strbuf why = STRBUF_INIT;
    printf("== hpcbuild: job %s (key %.12s)\n", s.label ? s.label : s.name, s.key);
    const char *stage = "env";
    hb_remove_tree(env, NULL);
    hb_remove_tree(built, NULL);
    int rc = step_env(&s, self, env, src, &why);
    if (rc == 0) {
        stage = "build";
        rc = step_build(&s, self, env, src, built, &why);
    }
    if (rc == 0) {
        stage = "wheels";
        rc = step_label(&s, built, wheels, &names, &why);
    }
    if (rc == 0) {
        stage = "test";
        rc = step_test(&s, self, wheels, &why);
    }
    double secs = channel_now() - t0;
    printf("== hpcbuild: %s %s after %.1f s%s%s\n", s.label ? s.label : s.name, rc == 0 ? "passed" : "FAILED", secs,
           rc == 0 ? "" : ": ", rc == 0 ? "" : strbuf_str(&why));
    fflush(stdout);
    write_result(dir, rc == 0, stage, rc == 0 ? names : NULL, rc == 0 ? NULL : strbuf_str(&why),
                 rc == 0 && s.tests && s.tests[0], secs);
    hb_strv_free(names);
    strbuf_free(&why);
    free(env);
    free(src);
    free(built);
    free(wheels);
    job_spec_free(&s);
    free(self);
    free(dir);
    return rc == 0 ? CLI_OK : CLI_FAILED;
}
