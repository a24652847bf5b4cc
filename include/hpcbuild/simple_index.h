/* simple_index.h — Python package index pages (the "simple" repository API:
 * PEP 503, 629, 658, 691, 700, 714, 792) and --find-links pages, parsed into
 * one shape whichever form the server answered with.
 *
 * A project page lists files; each file has an absolute URL (resolved as RFC
 * 3986 says against the page URL or the page's <base href>, fragment removed),
 * its name (JSON "filename"; for HTML the percent-decoded last path segment of
 * the URL, never the anchor text), hashes, requires-python, yanked (with
 * reason), whether a PEP 658 .metadata file exists (and its sha256), size and
 * upload time.  The form is chosen by the response's Content-Type, never by
 * what was asked for.  API major version > 1 fails; an unknown minor version
 * adds a warning.  HTML is read tolerantly (see html.h); malformed JSON or a
 * JSON field of the wrong type fails with a message naming the page URL and
 * the field.  Warnings are lines "PAGE_URL: message\n" appended to a strbuf.
 * Where this differs from pip: `data-yanked` without a value means yanked (pip:
 * not yanked); a relative <base href> is resolved against the page URL first;
 * an empty requires-python is NULL; hrefs are not re-quoted.
 */
#ifndef HPCBUILD_SIMPLE_INDEX_H
#define HPCBUILD_SIMPLE_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "hpcbuild/error.h"
#include "hpcbuild/strbuf.h"

typedef struct hb_index_hash {
    char *algo;   /* lowercase: sha256, md5, ... */
    char *hex;    /* lowercase hex digits */
} hb_index_hash;

typedef struct hb_index_file {
    char *filename;          /* percent-decoded last path segment of the URL for HTML (the anchor
                                text is NOT trusted), the "filename" key for JSON */
    char *url;               /* absolute, resolved against the page URL / <base href>, fragment removed */
    hb_index_hash *hashes;   /* from JSON "hashes" or an HTML #algo=hex fragment */
    size_t nhashes;
    char *requires_python;   /* unescaped, or NULL (absent or empty) */
    bool yanked;
    char *yanked_reason;     /* NULL when not yanked or no reason */
    bool core_metadata;      /* PEP 658/714: a .metadata file exists (core-metadata, else the legacy key) */
    char *core_metadata_sha256;  /* its hash when given, else NULL */
    long long size;          /* -1 when unknown */
    char *upload_time;       /* or NULL */
} hb_index_file;

typedef struct hb_index_page {
    char *name;                      /* JSON "name", or NULL (HTML) */
    char *api_version;               /* "1.0" when absent */
    char *status, *status_reason;    /* project status (JSON top level or meta; HTML meta), or NULL */
    char **versions;                 /* JSON "versions" (API 1.1), else none */
    size_t nversions;
    hb_index_file *files;
    size_t nfiles;
} hb_index_page;

/* Returns the sha256 hex of a file, or NULL. */
const char *hb_index_file_sha256(const hb_index_file *f);

/* Parses a project page.  content_type is the response's Content-Type (parameters allowed;
   application/vnd.pypi.simple.v1+json -> JSON; v1+html, text/html, or NULL -> HTML; "latest"
   versions are accepted; anything else is an error naming it).  page_url is the absolute URL
   the page was fetched from (for relative links).  warnings may be NULL. */
int hb_index_page_parse(hb_index_page *p, const char *data, size_t len, const char *content_type,
                        const char *page_url, strbuf *warnings, hb_error *err);
void hb_index_page_free(hb_index_page *p);
/* Frees what one file holds (not the struct itself). */
void hb_index_file_clear(hb_index_file *f);

/* A --find-links HTML page: every <a href> whose file name ends in .whl, .tar.gz, .zip,
   .tar.bz2, .tar.xz, .tgz (any case; other links ignored), same fields as above. */
int hb_index_links_parse(hb_index_page *p, const char *data, size_t len, const char *page_url,
                         strbuf *warnings, hb_error *err);

/* The project list ("/"), JSON ("projects"[]."name") or HTML (the anchors' text):
   normalized (PEP 503) names, sorted, unique.  Free each name and the array. */
int hb_index_projects_parse(char ***names, size_t *n, const char *data, size_t len,
                            const char *content_type, const char *page_url, hb_error *err);

/* The URL of a project's page: base (with or without trailing '/') + normalized name + '/'. */
char *hb_index_project_url(const char *base, const char *project);

/* The Accept header to send (pip's): JSON first, then v1 HTML, then text/html. */
extern const char hb_index_accept[];

#endif
