/* python_dists.c — an interpreter's installed distributions (python_dists.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/process.h"
#include "hpcbuild/pyname.h"
#include "hpcbuild/python_dists.h"

/* Prints "hpcbuild-dists", a "\tPATH" line per sys.path entry, then "name\tversion" lines;
 * names and versions with control characters are skipped (they cannot be real). */
static const char dists_script[] =
    "import importlib.metadata as m, sys\n"
    "print('hpcbuild-dists')\n"
    "import os\n"
    "for p in sys.path + [os.path.join(sys.prefix, 'pyvenv.cfg')]:\n"
    "    if p and '\\n' not in p and '\\t' not in p:\n"
    "        print('\\t' + p)\n"
    "seen = set()\n"
    "for d in m.distributions():\n"
    "    try:\n"
    "        n, v = d.metadata['Name'], d.version\n"
    "    except Exception:\n"
    "        continue\n"
    "    if not n or not v or any(ord(c) < 32 for c in n + v):\n"
    "        continue\n"
    "    k = n.lower().replace('_', '-').replace('.', '-')\n"
    "    if k in seen:\n"
    "        continue\n"
    "    seen.add(k)\n"
    "    print(n + '\\t' + v)\n";

static int run_dists(const char *python, hb_python_dist **dists, size_t *n, strbuf *paths, hb_error *err)
{
    *dists = NULL;
    *n = 0;
    const char *argv[] = {python, "-I", "-c", dists_script, NULL};
    process_result r;
    if (process_run(argv, &r, err) != 0)
        return hb_error_prefix(err, "listing the distributions of '%s'", python);
    if (r.exit_status != 0 || strncmp(r.out, "hpcbuild-dists\n", 15) != 0) {
        int rc = hb_error_set(err, HB_EIO, "listing the distributions of '%s': it exited with status %d: %.200s",
                              python, r.exit_status, r.err ? r.err : "");
        process_result_free(&r);
        return rc;
    }
    size_t cap = 0;
    for (char *line = r.out + 15; *line;) {
        char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        char *tab = memchr(line, '\t', (size_t)(end - line));
        if (tab == line) {   /* a sys.path entry */
            if (paths)
                strbuf_printf(paths, "%.*s\n", (int)(end - line - 1), line + 1);
        } else if (tab) {
            if (*n == cap)
                *dists = hb_reallocarray(*dists, cap = cap ? 2 * cap : 64, sizeof **dists);
            (*dists)[*n].name = hb_strndup(line, (size_t)(tab - line));
            (*dists)[*n].version = hb_strndup(tab + 1, (size_t)(end - tab - 1));
            (*n)++;
        }
        line = *end ? end + 1 : end;
    }
    process_result_free(&r);
    return 0;
}

void hb_python_dists_free(hb_python_dist *dists, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(dists[i].name);
        free(dists[i].version);
    }
    free(dists);
}

int hb_python_dists(const char *python, hb_python_dist **dists, size_t *n, hb_error *err)
{
    return run_dists(python, dists, n, NULL, err);
}

/* "path SEC.NSEC DIR" for a directory that is there, "path - DIR" for one that is not.  False
 * when it changed at or after `since` (it may have changed while the interpreter listed it). */
static bool put_path_line(strbuf *out, const char *dir, time_t since)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        strbuf_printf(out, "path - %s\n", dir);
        return true;
    }
    strbuf_printf(out, "path %lld.%09ld %s\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, dir);
    return st.st_mtim.tv_sec < since;
}

/* The cached list when every recorded sys.path entry is as it was; else false. */
static bool cache_read(const char *path, hb_python_dist **dists, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char *line = NULL;
    size_t cap = 0, dcap = 0;
    ssize_t len;
    bool ok = getline(&line, &cap, f) > 0 && strcmp(line, "hpcbuild-dists 1\n") == 0;
    while (ok && (len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (strncmp(line, "path ", 5) == 0) {
            const char *sp = strchr(line + 5, ' ');
            if (!sp) {
                ok = false;
                break;
            }
            strbuf now = STRBUF_INIT;
            put_path_line(&now, sp + 1, 0);
            ok = now.len == (size_t)len + 1 && strncmp(now.buf, line, (size_t)len) == 0;
            strbuf_free(&now);
        } else if (strncmp(line, "dist ", 5) == 0 && strchr(line + 5, '\t')) {
            char *tab = strchr(line + 5, '\t');
            if (*n == dcap)
                *dists = hb_reallocarray(*dists, dcap = dcap ? 2 * dcap : 64, sizeof **dists);
            (*dists)[*n].name = hb_strndup(line + 5, (size_t)(tab - line - 5));
            (*dists)[*n].version = hb_strdup(tab + 1);
            (*n)++;
        } else {
            ok = false;
        }
    }
    free(line);
    fclose(f);
    if (!ok) {
        hb_python_dists_free(*dists, *n);
        *dists = NULL;
        *n = 0;
    }
    return ok;
}

int hb_python_dists_cached(const char *python, const char *cache_path, hb_python_dist **dists, size_t *n,
                           hb_error *err)
{
    *dists = NULL;
    *n = 0;
    if (cache_path && cache_read(cache_path, dists, n))
        return 0;
    strbuf paths = STRBUF_INIT;
    /* a directory changed from 2 s before the listing on (coarse mtimes, e.g. Lustre's) may have
     * changed during it: then the answer is used but not kept */
    time_t since = time(NULL) - 2;
    int rc = run_dists(python, dists, n, &paths, err);
    if (rc == 0 && cache_path) {
        strbuf out = STRBUF_INIT;
        strbuf_puts(&out, "hpcbuild-dists 1\n");
        bool settled = true;
        for (char *p = paths.buf, *nl; p && *p; p = nl + 1) {
            nl = strchr(p, '\n');
            *nl = '\0';
            settled = put_path_line(&out, p, since) && settled;
        }
        for (size_t i = 0; i < *n; i++)
            strbuf_printf(&out, "dist %s\t%s\n", (*dists)[i].name, (*dists)[i].version);
        hb_error ignored;
        if (settled)
            hb_write_file_atomic(cache_path, out.buf, out.len, &ignored);   /* a cache: best effort */
        strbuf_free(&out);
    }
    strbuf_free(&paths);
    return rc;
}
