/* pep517.c — [build-system] and PEP 517 hook calls in the target Python (pep517.h). */
#include "hpcbuild/pep517.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/build_fs.h"
#include "hpcbuild/envlist.h"
#include "hpcbuild/extract.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/json.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/toml.h"
#include "pep517_shim.h"

extern char **environ;

/* ---- [build-system] ---------------------------------------------------------------------- */

static int read_string_array(const toml_value *a, char ***out, hb_error *err)
{
    if (!toml_expect(a, TOML_ARRAY, err))
        return -1;
    for (size_t i = 0; i < toml_array_size(a); i++) {
        const toml_value *v = toml_expect(toml_array_at(a, i), TOML_STRING, err);
        if (!v)
            return -1;
        *out = hb_strlist_push(*out, hb_strdup(toml_string(v, NULL)));
    }
    return 0;
}

static int add_backend_path(hb_build_system *bs, const char *real_src, const toml_value *v,
                            hb_error *err)
{
    strbuf p = STRBUF_INIT;
    strbuf_printf(&p, "%s/%s", real_src, toml_string(v, NULL));
    char *real = realpath(strbuf_str(&p), NULL);
    size_t n = strlen(real_src);
    int rc = 0;
    if (!real || strncmp(real, real_src, n) != 0 || (real[n] != '/' && real[n] != '\0'))
        rc = toml_error_at(err, v, "expected build-system.backend-path '%s' to be a directory "
                                   "inside the source tree",
                           toml_string(v, NULL));
    else
        bs->backend_path = hb_strlist_push(bs->backend_path, hb_strdup(real));
    free(real);
    strbuf_free(&p);
    return rc;
}

static int read_table(hb_build_system *bs, const toml_value *t, const char *real_src, hb_error *err)
{
    const toml_value *req = toml_table_get(t, "requires");
    if (!req)
        return toml_error_at(err, t, "expected build-system.requires (a list of requirements)");
    if (read_string_array(req, &bs->requires, err) != 0)
        return -1;
    const toml_value *be = toml_table_get(t, "build-backend");
    if (be) {
        if (!toml_expect(be, TOML_STRING, err))
            return -1;
        free(bs->backend);
        bs->backend = hb_strdup(toml_string(be, NULL));
    }
    const toml_value *bp = toml_table_get(t, "backend-path");
    if (bp && !toml_expect(bp, TOML_ARRAY, err))
        return -1;
    for (size_t i = 0; i < toml_array_size(bp); i++) {
        const toml_value *v = toml_expect(toml_array_at(bp, i), TOML_STRING, err);
        if (!v || add_backend_path(bs, real_src, v, err) != 0)
            return -1;
    }
    return 0;
}

int hb_build_system_read(hb_build_system *bs, const char *source_dir, hb_error *err)
{
    memset(bs, 0, sizeof *bs);
    bs->requires = hb_strlist_new();
    bs->backend_path = hb_strlist_new();
    bs->backend = hb_strdup(HB_PEP517_DEFAULT_BACKEND);
    char *real_src = realpath(source_dir, NULL);
    if (!real_src)
        return hb_error_set(err, HB_EIO, "%s: %s", source_dir, strerror(errno));
    strbuf path = STRBUF_INIT;
    strbuf_printf(&path, "%s/pyproject.toml", real_src);
    int rc = 0;
    if (access(strbuf_str(&path), F_OK) != 0) {
        bs->requires = hb_strlist_push(bs->requires, hb_strdup("setuptools>=40.8.0"));
    } else {
        toml_value *doc = toml_parse_file(strbuf_str(&path), err);
        const toml_value *t = toml_table_get(doc, "build-system");
        if (!doc)
            rc = -1;
        else if (!t)
            bs->requires = hb_strlist_push(bs->requires, hb_strdup("setuptools>=40.8.0"));
        else if (!toml_expect(t, TOML_TABLE, err) || read_table(bs, t, real_src, err) != 0)
            rc = -1;
        bs->has_table = t != NULL;
        toml_free(doc);
    }
    strbuf_free(&path);
    free(real_src);
    return rc;
}

void hb_build_system_free(hb_build_system *bs)
{
    hb_strlist_free(bs->requires);
    hb_strlist_free(bs->backend_path);
    free(bs->backend);
    memset(bs, 0, sizeof *bs);
}

/* ---- the hook call ----------------------------------------------------------------------- */

const char *hb_pep517_hook_name(hb_pep517_hook_kind hook)
{
    switch (hook) {
    case HB_HOOK_GET_REQUIRES_FOR_BUILD_WHEEL:
        return "get_requires_for_build_wheel";
    case HB_HOOK_PREPARE_METADATA_FOR_BUILD_WHEEL:
        return "prepare_metadata_for_build_wheel";
    case HB_HOOK_BUILD_WHEEL:
        return "build_wheel";
    }
    return "?";
}

/* config_settings as a JSON object: K=V, a repeated key becomes a list (in order). */
static int write_config_settings(hb_json_writer *w, const char *const *cs, hb_error *err)
{
    size_t n = hb_strlist_len((char *const *)cs);
    hb_json_begin_object(w);
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(cs[i], '=');
        if (!eq || eq == cs[i])
            return hb_error_set(err, HB_EINVAL, "invalid config setting '%s': expected KEY=VALUE",
                                cs[i]);
        size_t klen = (size_t)(eq - cs[i]);
        bool seen = false, repeated = false;
        for (size_t j = 0; j < n; j++) {
            bool same = strncmp(cs[j], cs[i], klen + 1) == 0;
            if (same && j < i)
                seen = true;
            if (same && j != i)
                repeated = true;
        }
        if (seen)
            continue;
        hb_json_keyn(w, cs[i], klen);
        if (!repeated) {
            hb_json_string(w, eq + 1);
            continue;
        }
        hb_json_begin_array(w);
        for (size_t j = i; j < n; j++)
            if (strncmp(cs[j], cs[i], klen + 1) == 0)
                hb_json_string(w, cs[j] + klen + 1);
        hb_json_end_array(w);
    }
    hb_json_end_object(w);
    return 0;
}

static int write_input(const char *control, hb_pep517_hook_kind hook, const hb_pep517_request *req,
                       hb_error *err)
{
    strbuf text = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &text, 0);
    hb_json_begin_object(&w);
    hb_json_key(&w, "kwargs");
    hb_json_begin_object(&w);
    char *out = req->out_dir ? hb_path_absolute(req->out_dir) : NULL;
    char *md = req->metadata_dir ? hb_path_absolute(req->metadata_dir) : NULL;
    if (hook == HB_HOOK_BUILD_WHEEL) {
        hb_json_key(&w, "wheel_directory");
        hb_json_string(&w, out);
        hb_json_key(&w, "metadata_directory");
        hb_json_string_or_null(&w, md);
    } else if (hook == HB_HOOK_PREPARE_METADATA_FOR_BUILD_WHEEL) {
        hb_json_key(&w, "metadata_directory");
        hb_json_string(&w, out);
    }
    free(out);
    free(md);
    hb_json_key(&w, "config_settings");
    int rc = write_config_settings(&w, req->config_settings, err);
    hb_json_end_object(&w);
    hb_json_end_object(&w);
    strbuf path = STRBUF_INIT;
    strbuf_printf(&path, "%s/input.json", control);
    if (rc == 0)
        rc = hb_write_file_atomic(strbuf_str(&path), text.buf, text.len, err);
    strbuf_free(&path);
    strbuf_free(&text);
    return rc;
}

/* Variables that make pip, uv, cargo and proxy-honouring tools fail fast instead of
 * downloading; set before req->env, which may override them. */
static const char *const offline_env[] = {
    "PIP_NO_INDEX=1",          "PIP_DISABLE_PIP_VERSION_CHECK=1",
    "UV_OFFLINE=1",            "CARGO_NET_OFFLINE=true",
    "http_proxy=http://127.0.0.1:9",  "https_proxy=http://127.0.0.1:9",
    "HTTP_PROXY=http://127.0.0.1:9",  "HTTPS_PROXY=http://127.0.0.1:9",
    "all_proxy=http://127.0.0.1:9",   "ALL_PROXY=http://127.0.0.1:9",
    "ftp_proxy=http://127.0.0.1:9",   "no_proxy=", "NO_PROXY=",
    NULL,
};

static char **hook_environment(const hb_pep517_request *req, const hb_build_system *bs,
                               hb_error *err)
{
    char **envp = hb_strlist_new();
    for (size_t i = 0; environ[i]; i++)
        envp = hb_env_set(envp, environ[i]);
    for (size_t i = 0; offline_env[i]; i++)
        envp = hb_env_set(envp, offline_env[i]);
    for (size_t i = 0; req->env && req->env[i]; i++) {
        if (!strchr(req->env[i], '=') || req->env[i][0] == '=') {
            hb_error_set(err, HB_EINVAL, "invalid environment setting '%s': expected KEY=VALUE",
                         req->env[i]);
            hb_strlist_free(envp);
            return NULL;
        }
        envp = hb_env_set(envp, req->env[i]);
    }
    envp = hb_env_setf(envp, "_HB_BUILD_BACKEND", bs->backend);
    strbuf bp = STRBUF_INIT;
    for (size_t i = 0; bs->backend_path[i]; i++)
        strbuf_printf(&bp, "%s%s", i ? ":" : "", bs->backend_path[i]);
    envp = hb_env_setf(envp, "_HB_BACKEND_PATH", strbuf_str(&bp));
    envp = hb_env_set(envp, "PYTHONUNBUFFERED=1");
    /* The interpreter's own bin directory first: the build requirements' console scripts. */
    const char *slash = strrchr(req->python, '/');
    if (slash) {
        const char *path = hb_env_get(envp, "PATH");
        strbuf_truncate(&bp, 0);
        strbuf_printf(&bp, "%.*s%s%s", (int)(slash - req->python), req->python, path ? ":" : "",
                      path ? path : "");
        envp = hb_env_setf(envp, "PATH", strbuf_str(&bp));
    }
    strbuf_free(&bp);
    return envp;
}

/* Runs PYTHON SHIM HOOK CONTROL in the source tree, output appended to logfd. */
static int run_shim(const hb_pep517_request *req, const char *hook, const char *control,
                    char **envp, int logfd, int *status, hb_error *err)
{
    strbuf shim = STRBUF_INIT;
    strbuf_printf(&shim, "%s/hpcbuild_pep517_shim.py", control);
    const char *argv[] = {req->python, strbuf_str(&shim), hook, control, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, logfd, 1);
    posix_spawn_file_actions_adddup2(&fa, logfd, 2);
    posix_spawn_file_actions_addchdir_np(&fa, req->source_dir);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    strbuf_free(&shim);
    if (rc != 0)
        return hb_error_set(err, HB_ESYS, "cannot run %s in %s: %s", req->python, req->source_dir,
                            strerror(rc));
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return hb_error_set(err, HB_ESYS, "waiting for %s: %s", req->python, strerror(errno));
    return 0;
}

static int write_shim(const char *control, hb_error *err)
{
    strbuf path = STRBUF_INIT;
    strbuf_printf(&path, "%s/hpcbuild_pep517_shim.py", control);
    int rc = hb_write_file_atomic(strbuf_str(&path), hb_pep517_shim, sizeof hb_pep517_shim - 1, err);
    strbuf_free(&path);
    return rc;
}

static int hook_failed(hb_pep517_result *res, const hb_pep517_request *req, const char *hook,
                       const char *why, hb_error *err)
{
    res->log_tail = hb_file_tail(req->log_path, HB_PEP517_TAIL_LINES);
    return hb_error_set(err, HB_ESYS, "%s: %s failed: %s (log: %s)", req->source_dir, hook, why,
                        req->log_path);
}

static int read_output(hb_pep517_hook_kind hook, const hb_pep517_request *req, const char *control,
                       int status, hb_pep517_result *res, hb_error *err)
{
    const char *name = hb_pep517_hook_name(hook);
    strbuf path = STRBUF_INIT, why = STRBUF_INIT;
    strbuf_printf(&path, "%s/output.json", control);
    hb_error jerr;
    hb_json_doc *doc = access(strbuf_str(&path), F_OK) == 0
                           ? hb_json_parse_file(strbuf_str(&path), &jerr)
                           : NULL;
    const hb_json_node *root = hb_json_root(doc);
    const hb_json_node *ret = hb_json_object_get(doc, root, "return_val");
    const hb_json_node *exc = hb_json_object_get(doc, root, "exception");
    const hb_json_node *berr = hb_json_object_get(doc, root, "backend_error");
    int rc = 0;
    if (!doc) {
        if (WIFSIGNALED(status))
            strbuf_printf(&why, "the hook process was killed by signal %d", WTERMSIG(status));
        else
            strbuf_printf(&why, "the hook process exited with status %d and no result",
                          WEXITSTATUS(status));
    } else if (exc || berr) {
        char *s = hb_json_strdup(doc, exc ? exc : berr);
        strbuf_puts(&why, s ? s : "unknown error");
        free(s);
    } else if (hook == HB_HOOK_GET_REQUIRES_FOR_BUILD_WHEEL) {
        if (hb_json_type(ret) != HB_JSON_ARRAY)
            strbuf_puts(&why, "expected a list of requirements from the backend");
        res->requires = hb_strlist_new();
        hb_json_iter it = hb_json_iter_init(ret);
        const hb_json_node *e;
        while (why.len == 0 && hb_json_array_next(&it, &e)) {
            char *s = hb_json_strdup(doc, e);
            if (!s)
                strbuf_puts(&why, "expected requirement strings from the backend");
            else
                res->requires = hb_strlist_push(res->requires, s);
        }
    } else {
        res->basename = hb_json_strdup(doc, ret);
        if (!res->basename || !res->basename[0] || strchr(res->basename, '/'))
            strbuf_puts(&why, "expected a file name from the backend");
    }
    if (why.len)
        rc = hook_failed(res, req, name, strbuf_str(&why), err);
    hb_json_free(doc);
    strbuf_free(&path);
    strbuf_free(&why);
    return rc;
}

static int make_control_dir(char **control, hb_error *err)
{
    const char *tmp = getenv("TMPDIR");
    strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/hpcbuild-pep517-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(sb.buf)) {
        int e = errno;
        hb_error_set(err, HB_EIO, "%s: cannot create a temporary directory: %s", strbuf_str(&sb),
                     strerror(e));
        strbuf_free(&sb);
        return -1;
    }
    *control = strbuf_detach(&sb);
    return 0;
}

static int open_log(const hb_pep517_request *req, const char *hook, hb_error *err)
{
    int fd = open(req->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return hb_error_set(err, HB_EIO, "%s: cannot open the build log: %s", req->log_path,
                            strerror(errno));
    dprintf(fd, "== hpcbuild: %s in %s with %s\n", hook, req->source_dir, req->python);
    return fd;
}

int hb_pep517_hook(hb_pep517_hook_kind hook, const hb_pep517_request *req, hb_pep517_result *res,
                   hb_error *err)
{
    memset(res, 0, sizeof *res);
    const char *name = hb_pep517_hook_name(hook);
    if (hook != HB_HOOK_GET_REQUIRES_FOR_BUILD_WHEEL &&
        (!req->out_dir || hb_mkdir_p(req->out_dir, err) != 0))
        return req->out_dir ? -1 : hb_error_set(err, HB_EINVAL, "%s: no output directory", name);
    hb_build_system bs;
    if (hb_build_system_read(&bs, req->source_dir, err) != 0) {
        hb_build_system_free(&bs);
        return -1;
    }
    char **envp = hook_environment(req, &bs, err);
    hb_build_system_free(&bs);
    if (!envp)
        return -1;
    char *control = NULL;
    int rc = make_control_dir(&control, err);
    if (rc == 0)
        rc = write_shim(control, err);
    if (rc == 0)
        rc = write_input(control, hook, req, err);
    int logfd = rc == 0 ? open_log(req, name, err) : -1;
    int status = 0;
    if (logfd < 0)
        rc = -1;
    else {
        rc = run_shim(req, name, control, envp, logfd, &status, err);
        close(logfd);
    }
    if (rc == 0)
        rc = read_output(hook, req, control, status, res, err);
    if (control)
        hb_remove_tree(control, NULL);
    free(control);
    hb_strlist_free(envp);
    return rc;
}

void hb_pep517_result_free(hb_pep517_result *res)
{
    free(res->basename);
    hb_strlist_free(res->requires);
    free(res->log_tail);
    memset(res, 0, sizeof *res);
}

/* ---- sdists and logs --------------------------------------------------------------------- */

int hb_pep517_unpack_sdist(const char *sdist, const char *work_dir, char **tree, hb_error *err)
{
    *tree = NULL;
    strbuf src = STRBUF_INIT;
    strbuf_printf(&src, "%s/src", work_dir);
    int rc = hb_extract(sdist, strbuf_str(&src), NULL, NULL, err);
    DIR *d = rc == 0 ? opendir(strbuf_str(&src)) : NULL;
    if (rc == 0 && !d)
        rc = hb_error_set(err, HB_EIO, "%s: %s", strbuf_str(&src), strerror(errno));
    char *top = NULL;
    struct dirent *e;
    while (d && rc == 0 && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (top)
            rc = hb_error_set(err, HB_EINVAL, "%s: expected one top-level directory, found '%s' "
                                              "and '%s'", sdist, top, e->d_name);
        else
            top = hb_strdup(e->d_name);
    }
    if (d)
        closedir(d);
    if (rc == 0 && !top)
        rc = hb_error_set(err, HB_EINVAL, "%s: expected one top-level directory, found none",
                          sdist);
    if (rc == 0) {
        strbuf_printf(&src, "/%s", top);
        struct stat st;
        if (stat(strbuf_str(&src), &st) != 0 || !S_ISDIR(st.st_mode))
            rc = hb_error_set(err, HB_EINVAL, "%s: expected a top-level directory, found file '%s'",
                              sdist, top);
        else
            *tree = strbuf_detach(&src);
    }
    free(top);
    strbuf_free(&src);
    return rc;
}

char *hb_file_tail(const char *path, int lines)
{
    FILE *f = fopen(path, "rb");
    strbuf sb = STRBUF_INIT;
    if (!f)
        return hb_strdup("");
    /* Reads at most the last 64 KiB: enough for 30 lines of compiler output. */
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size > 65536)
            fseek(f, size - 65536, SEEK_SET);
        else
            rewind(f);
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_append(&sb, buf, n);
    fclose(f);
    size_t end = sb.len;
    if (end && sb.buf[end - 1] == '\n')
        end--;
    size_t start = end;
    int seen = 0;
    while (start > 0) {
        if (sb.buf[start - 1] == '\n' && ++seen == lines)
            break;
        start--;
    }
    char *out = hb_strndup(sb.buf ? sb.buf + start : "", sb.len - start);
    strbuf_free(&sb);
    return out;
}
