/* hpcbuild index-page FILE --url PAGE_URL [--content-type T] [--links|--projects]:
 * a saved package-index page (simple API, HTML or JSON) parsed and printed as JSON. */
#include "cli.h"
#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/fs.h"
#include "hpcbuild/json.h"
#include "hpcbuild/simple_index.h"

static const char index_page_help[] =
    "usage: hpcbuild index-page FILE --url PAGE_URL [--content-type TYPE] [--links | --projects]\n\n"
    "Parses a saved Python package index page and prints it as one line of JSON:\n"
    "the project page (HTML or PEP 691 JSON, chosen by --content-type as a server's\n"
    "Content-Type header would choose it; HTML when absent) with every file's name,\n"
    "absolute URL (resolved against PAGE_URL or the page's <base href>), hashes,\n"
    "requires-python, yanked, core metadata, size and upload time.\n"
    "--links reads a --find-links page instead (archive links only); --projects reads\n"
    "the project list (\"/\") and prints its normalized names.  Warnings go to stderr.\n\n"
    "Example: hpcbuild index-page foo.html --url https://pypi.org/simple/foo/\n";

typedef struct index_opts {
    const char *url, *content_type;
    bool links, projects;
} index_opts;

static int index_option(void *ctx, int argc, char **argv, int *i)
{
    index_opts *o = ctx;
    const char *a = argv[*i];
    if (strcmp(a, "--links") == 0) {
        o->links = true;
        return CLI_OK;
    }
    if (strcmp(a, "--projects") == 0) {
        o->projects = true;
        return CLI_OK;
    }
    const char **slot = strcmp(a, "--url") == 0 ? &o->url : strcmp(a, "--content-type") == 0 ? &o->content_type : NULL;
    if (!slot)
        return -1;
    if (*i + 1 >= argc)
        return cli_fail(CLI_USAGE, "%s needs a value", a);
    *slot = argv[++*i];
    return CLI_OK;
}

static void print_page(const hb_index_page *p)
{
    strbuf out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 0);
    hb_json_begin_object(&w);
    hb_json_key(&w, "name");
    hb_json_string_or_null(&w, p->name);
    hb_json_key(&w, "api_version");
    hb_json_string(&w, p->api_version);
    hb_json_key(&w, "status");
    hb_json_string_or_null(&w, p->status);
    hb_json_key(&w, "status_reason");
    hb_json_string_or_null(&w, p->status_reason);
    hb_json_key(&w, "versions");
    hb_json_begin_array(&w);
    for (size_t i = 0; i < p->nversions; i++)
        hb_json_string(&w, p->versions[i]);
    hb_json_end_array(&w);
    hb_json_key(&w, "files");
    hb_json_begin_array(&w);
    for (size_t i = 0; i < p->nfiles; i++) {
        const hb_index_file *f = &p->files[i];
        hb_json_begin_object(&w);
        hb_json_key(&w, "filename");
        hb_json_string(&w, f->filename);
        hb_json_key(&w, "url");
        hb_json_string(&w, f->url);
        hb_json_key(&w, "hashes");
        hb_json_begin_object(&w);
        for (size_t h = 0; h < f->nhashes; h++) {
            hb_json_key(&w, f->hashes[h].algo);
            hb_json_string(&w, f->hashes[h].hex);
        }
        hb_json_end_object(&w);
        hb_json_key(&w, "requires_python");
        hb_json_string_or_null(&w, f->requires_python);
        hb_json_key(&w, "yanked");
        hb_json_bool(&w, f->yanked);
        hb_json_key(&w, "yanked_reason");
        hb_json_string_or_null(&w, f->yanked_reason);
        hb_json_key(&w, "core_metadata");
        hb_json_bool(&w, f->core_metadata);
        hb_json_key(&w, "core_metadata_sha256");
        hb_json_string_or_null(&w, f->core_metadata_sha256);
        hb_json_key(&w, "size");
        if (f->size >= 0)
            hb_json_int64(&w, f->size);
        else
            hb_json_null(&w);
        hb_json_key(&w, "upload_time");
        hb_json_string_or_null(&w, f->upload_time);
        hb_json_end_object(&w);
    }
    hb_json_end_array(&w);
    hb_json_end_object(&w);
    puts(strbuf_str(&out));
    strbuf_free(&out);
}

static void print_projects(char **names, size_t n)
{
    strbuf out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 0);
    hb_json_begin_object(&w);
    hb_json_key(&w, "projects");
    hb_json_begin_array(&w);
    for (size_t i = 0; i < n; i++)
        hb_json_string(&w, names[i]);
    hb_json_end_array(&w);
    hb_json_end_object(&w);
    puts(strbuf_str(&out));
    strbuf_free(&out);
}

static void print_warnings(const char *w)
{
    for (const char *nl; (nl = strchr(w, '\n')); w = nl + 1)
        fprintf(stderr, "hpcbuild: warning: %.*s\n", (int)(nl - w), w);
}

static int run_projects(const strbuf *data, const index_opts *o)
{
    char **names;
    size_t n;
    hb_error err;
    if (hb_index_projects_parse(&names, &n, data->buf, data->len, o->content_type, o->url, &err) != 0)
        return cli_fail_error(&err);
    print_projects(names, n);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return CLI_OK;
}

int cmd_index_page(int argc, char **argv)
{
    index_opts o = {0};
    const char *path;
    int status;
    const cli_one_arg spec = {
        .help = index_page_help,
        .too_many = "index-page takes one FILE",
        .missing = "index-page needs a FILE (a saved index page) and --url PAGE_URL",
        .option = index_option,
        .ctx = &o,
    };
    if (!cli_parse_one_arg(&spec, argc, argv, 1, &path, &status))
        return status;
    if (!o.url)
        return cli_fail(CLI_USAGE, "index-page needs --url PAGE_URL (the URL the page was fetched from)");
    if (o.links && (o.projects || o.content_type))
        return cli_fail(CLI_USAGE, "--links reads an HTML page: it takes neither --projects nor --content-type");
    strbuf data = STRBUF_INIT;
    hb_error err;
    if (hb_read_file(path, &data, &err) != 0) {
        strbuf_free(&data);
        return cli_fail_error(&err);
    }
    if (o.projects) {
        status = run_projects(&data, &o);
        strbuf_free(&data);
        return status;
    }
    hb_index_page page;
    strbuf warnings = STRBUF_INIT;
    int rc = o.links ? hb_index_links_parse(&page, data.buf, data.len, o.url, &warnings, &err)
                     : hb_index_page_parse(&page, data.buf, data.len, o.content_type, o.url, &warnings, &err);
    strbuf_free(&data);
    print_warnings(strbuf_str(&warnings));
    strbuf_free(&warnings);
    if (rc != 0)
        return cli_fail_error(&err);
    print_page(&page);
    hb_index_page_free(&page);
    return CLI_OK;
}
