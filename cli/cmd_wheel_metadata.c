/* hpcbuild wheel-metadata [options] URL: a wheel's METADATA by the cheapest
 * route (metadata cache, PEP 658, ranged reads, the whole file); a debugging
 * command over include/hpcbuild/dist_metadata.h. */
#include "cli.h"
#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/dist_metadata.h"
#include "hpcbuild/json.h"
#include "hpcbuild/pyname.h"

static const char wheel_metadata_help[] =
    "usage: hpcbuild wheel-metadata [--sha256 HEX] [--pep658 [--metadata-sha256 HEX]]\n"
    "                               [--project NAME] [--no-cache] [--json] URL\n\n"
    "Prints the .dist-info/METADATA of the wheel at URL (http(s), file:// or a path)\n"
    "without downloading the whole wheel when it can: the metadata cache\n"
    "($HPCBUILD_CACHE/metadata, keyed by a known sha256), the PEP 658 file URL.metadata\n"
    "(--pep658: the index offers it; --metadata-sha256: its digest), else ranged reads\n"
    "of the zip's tail and the METADATA member, else the whole file (verified against\n"
    "--sha256).  --project names the project whose .dist-info to read (default: from\n"
    "the file name).  --json prints {\"url\",\"how\",\"requests\",\"metadata\"} instead.\n\n"
    "Example: hpcbuild wheel-metadata --json https://host/simple/x/x-1.0-py3-none-any.whl\n";

typedef struct wm_opts {
    hb_meta_request req;
    bool no_cache;
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

static int wm_option(void *ctx, int argc, char **argv, int *i)
{
    wm_opts *o = ctx;
    const char *a = argv[*i];
    int status = 0;
    if (strcmp(a, "--pep658") == 0)
        o->req.core_metadata = true;
    else if (strcmp(a, "--no-cache") == 0)
        o->no_cache = true;
    else if (strcmp(a, "--sha256") == 0)
        o->req.sha256 = option_value(argc, argv, i, &status);
    else if (strcmp(a, "--metadata-sha256") == 0)
        o->req.core_metadata_sha256 = option_value(argc, argv, i, &status);
    else if (strcmp(a, "--project") == 0)
        o->req.project = option_value(argc, argv, i, &status);
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

int cmd_wheel_metadata(int argc, char **argv)
{
    wm_opts o = {0};
    bool json = false;
    int status;
    const cli_one_arg spec = {
        .help = wheel_metadata_help,
        .too_many = "wheel-metadata takes one URL",
        .missing = "wheel-metadata needs the URL of a wheel",
        .json = &json,
        .option = wm_option,
        .ctx = &o,
    };
    if (!cli_parse_one_arg(&spec, argc, argv, 1, &o.req.url, &status))
        return status;
    char *project = o.req.project ? pyname_canonicalize(o.req.project, strlen(o.req.project))
                                  : project_from_url(o.req.url);
    o.req.project = project;
    hb_error err;
    hb_fetch_cache cache = {0};
    bool have_cache = false;
    if (hb_http_global_init(&err) != 0) {
        free(project);
        return cli_fail_error(&err);
    }
    if (!o.no_cache) {
        if (hb_fetch_cache_open(&cache, NULL, &err) != 0) {
            free(project);
            hb_http_global_cleanup();
            return cli_fail_error(&err);
        }
        have_cache = true;
    }
    if (hb_wheel_metadata_fetch(&o.req, 1, NULL, have_cache ? &cache : NULL, &err) != 0) {
        status = cli_fail_error(&o.req.err);
    } else {
        status = CLI_OK;
        if (json)
            print_json(&o.req);
        else
            fwrite(o.req.metadata.buf, 1, o.req.metadata.len, stdout);
    }
    hb_meta_request_free(&o.req);
    if (have_cache)
        hb_fetch_cache_close(&cache);
    hb_http_global_cleanup();
    free(project);
    return status;
}
