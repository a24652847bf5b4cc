/* hpcbuild wheel-metadata [options] URL: a wheel's METADATA by the cheapest
 * route (metadata cache, PEP 658, ranged reads, the whole file); a debugging
 * command over include/hpcbuild/dist_metadata.h. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/dist_metadata.h"
#include "hpcbuild/json.h"
#include "hpcbuild/pyname.h"

static const char wheel_metadata_help[] =
    "usage: hpcbuild wheel-metadata [--sha256 HEX] [--pep658 [--metadata-sha256 HEX]]\n"
    "                               [--project NAME] [--no-cache] [--json] URL...\n\n"
    "Prints the .dist-info/METADATA of the wheel at each URL (http(s), file:// or a\n"
    "path) without downloading the whole wheel when it can: the metadata cache\n"
    "($HPCBUILD_CACHE/metadata, keyed by a known sha256), the PEP 658 file URL.metadata\n"
    "(--pep658: the index offers it; --metadata-sha256: its digest), else ranged reads\n"
    "of the zip's tail and the METADATA member, else the whole file (verified against\n"
    "--sha256, or a URL's own #sha256=HEX fragment).  --project names the project whose\n"
    ".dist-info to read (default: from the file name).  All URLs are fetched in\n"
    "parallel.  --json prints one line {\"url\",\"how\",\"requests\",\"metadata\"} per URL.\n\n"
    "Example: hpcbuild wheel-metadata --json https://host/simple/x/x-1.0-py3-none-any.whl\n";

typedef struct wm_opts {
    const char *sha256, *metadata_sha256, *project;
    bool pep658, no_cache, json;
} wm_opts;

/* --opt VALUE: the value, or NULL after reporting it missing (*status set). */
static const char *option_value(int argc, char **argv, int *i, int *status)
{
    if (*i + 1 >= argc) {
        *status = cli_fail(CLI_USAGE, "option '%s' needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

/* One option at argv[*i]: 0, an exit status, or -1 when it is not one. */
static int wm_option(wm_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    int status = 0;
    if (strcmp(a, "--pep658") == 0)
        o->pep658 = true;
    else if (strcmp(a, "--no-cache") == 0)
        o->no_cache = true;
    else if (strcmp(a, "--json") == 0)
        o->json = true;
    else if (strcmp(a, "--sha256") == 0)
        o->sha256 = option_value(argc, argv, i, &status);
    else if (strcmp(a, "--metadata-sha256") == 0)
        o->metadata_sha256 = option_value(argc, argv, i, &status);
    else if (strcmp(a, "--project") == 0)
        o->project = option_value(argc, argv, i, &status);
    else
        return -1;
    return status;
}

/* The project from a wheel URL's file name (before its first '-'), normalized; or NULL. */
static char *project_from_url(const char *url)
{
    const char *base = strrchr(url, '/');
    base = base ? base + 1 : url;
    size_t len = strcspn(base, "-?#");
    if (base[len] != '-' || len == 0)
        return NULL;
    return pyname_canonicalize(base, len);
}

static void print_json(const hb_meta_request *r)
{
    strbuf out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 0);
    hb_json_begin_object(&w);
    hb_json_key(&w, "url");
    hb_json_string(&w, r->url);
    hb_json_key(&w, "how");
    hb_json_string(&w, hb_meta_how_name(r->how));
    hb_json_key(&w, "requests");
    hb_json_int64(&w, r->requests);
    hb_json_key(&w, "metadata");
    hb_json_stringn(&w, r->metadata.buf ? r->metadata.buf : "", r->metadata.len);
    hb_json_end_object(&w);
    puts(strbuf_str(&out));
    strbuf_free(&out);
}

/* Reads the options and URLs; false with *status when the command ends here. */
static bool parse_args(int argc, char **argv, wm_opts *o, char ***urls, size_t *n, int *status)
{
    bool only_pos = false;
    *urls = hb_calloc((size_t)argc, sizeof **urls);
    *n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = true;
        } else if (!only_pos && cli_is_help(a)) {
            fputs(wheel_metadata_help, stdout);
            *status = CLI_OK;
            return false;
        } else if (!only_pos && a[0] == '-' && a[1] == '-') {
            int rc = wm_option(o, argc, argv, &i);
            if (rc < 0)
                rc = cli_fail(CLI_USAGE, "unknown option '%s'", a);
            if (rc != CLI_OK) {
                *status = rc;
                return false;
            }
        } else {
            (*urls)[(*n)++] = argv[i];
        }
    }
    if (*n == 0) {
        *status = cli_fail(CLI_USAGE, "wheel-metadata needs the URL of a wheel");
        return false;
    }
    return true;
}

/* Fills r for url: a "#sha256=HEX" fragment is the wheel's digest. */
static void request_init(hb_meta_request *r, const char *url, const wm_opts *o)
{
    memset(r, 0, sizeof *r);
    const char *frag = strstr(url, "#sha256=");
    r->url = frag ? hb_strndup(url, (size_t)(frag - url)) : hb_strdup(url);
    r->sha256 = frag ? hb_strdup(frag + 8) : o->sha256 ? hb_strdup(o->sha256) : NULL;
    r->project = o->project ? pyname_canonicalize(o->project, strlen(o->project))
                            : project_from_url(r->url);
    r->core_metadata = o->pep658;
    r->core_metadata_sha256 = o->metadata_sha256;
}

static void request_free(hb_meta_request *r)
{
    free((char *)r->url);
    free((char *)r->sha256);
    free((char *)r->project);
    hb_meta_request_free(r);
}

int cmd_wheel_metadata(int argc, char **argv)
{
    wm_opts o = {0};
    char **urls;
    size_t n;
    int status;
    if (!parse_args(argc, argv, &o, &urls, &n, &status)) {
        free(urls);
        return status;
    }
    hb_error err;
    hb_fetch_cache cache = {0};
    bool have_cache = false;
    if (hb_http_global_init(&err) != 0) {
        free(urls);
        return cli_fail_error(&err);
    }
    if (!o.no_cache) {
        if (hb_fetch_cache_open(&cache, NULL, &err) != 0) {
            free(urls);
            hb_http_global_cleanup();
            return cli_fail_error(&err);
        }
        have_cache = true;
    }
    hb_meta_request *reqs = hb_calloc(n, sizeof *reqs);
    for (size_t i = 0; i < n; i++)
        request_init(&reqs[i], urls[i], &o);
    hb_wheel_metadata_fetch(reqs, n, NULL, have_cache ? &cache : NULL, &err);
    status = CLI_OK;
    for (size_t i = 0; i < n; i++) {
        if (!reqs[i].ok) {
            int rc = cli_fail_error(&reqs[i].err);
            status = status > rc ? status : rc;
        } else if (o.json) {
            print_json(&reqs[i]);
        } else {
            fwrite(reqs[i].metadata.buf, 1, reqs[i].metadata.len, stdout);
        }
        request_free(&reqs[i]);
    }
    free(reqs);
    free(urls);
    if (have_cache)
        hb_fetch_cache_close(&cache);
    hb_http_global_cleanup();
    return status;
}
