/* Unit tests for simple_index.h: project URLs, the Accept header, content-type
 * dispatch, HTML and JSON project pages, find-links pages, project lists. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hpcbuild/simple_index.h"

#define PAGE "https://idx.example/simple/foo/"
#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_project_url(void)
{
    char *u = hb_index_project_url("https://pypi.org/simple", "Foo_Bar.baz");
    CHECK_STR(u, "https://pypi.org/simple/foo-bar-baz/");
    free(u);
    u = hb_index_project_url("https://pypi.org/simple/", "numpy");
    CHECK_STR(u, "https://pypi.org/simple/numpy/");
    free(u);
    CHECK(strstr(hb_index_accept, "application/vnd.pypi.simple.v1+json") == hb_index_accept);
    CHECK(strstr(hb_index_accept, "text/html; q=0.01") != NULL);
}

static int parse(hb_index_page *p, const char *text, const char *ctype, strbuf *warnings, hb_error *err)
{
    return hb_index_page_parse(p, text, strlen(text), ctype, PAGE, warnings, err);
}

static void test_html(void)
{
    static const char page[] =
        "<!DOCTYPE html><html><head><meta name='pypi:repository-version' content='1.1'>"
        "<base href='../files/'></head><body>\n"
        "<a href=\"foo-1.0.tar.gz#sha256=" SHA "\" data-requires-python=\"&gt;=3.8\">x</a>\n"
        "<a href='foo-2.0-py3-none-any.whl' data-yanked data-core-metadata=\"sha256=" SHA "\">y</a>\n"
        "<a>no href</a><a href=''>empty</a>\n"
        "<a href=/x/foo%2d3.0.zip data-yanked='gone &amp; done' data-dist-info-metadata=true>z</a>";
    hb_index_page p;
    hb_error err;
    strbuf w = STRBUF_INIT;
    CHECK_INT(parse(&p, page, "text/html; charset=utf-8", &w, &err), 0);
    CHECK_STR(p.api_version, "1.1");
    CHECK(p.name == NULL && p.status == NULL && p.nversions == 0);
    CHECK_INT(p.nfiles, 3);
    if (p.nfiles == 3) {
        CHECK_STR(p.files[0].filename, "foo-1.0.tar.gz");
        CHECK_STR(p.files[0].url, "https://idx.example/simple/files/foo-1.0.tar.gz");
        CHECK_STR(hb_index_file_sha256(&p.files[0]), SHA);
        CHECK_STR(p.files[0].requires_python, ">=3.8");
        CHECK(!p.files[0].yanked && !p.files[0].core_metadata && p.files[0].size == -1);
        CHECK(p.files[1].yanked && p.files[1].yanked_reason == NULL);
        CHECK(p.files[1].core_metadata);
        CHECK_STR(p.files[1].core_metadata_sha256, SHA);
        CHECK(hb_index_file_sha256(&p.files[1]) == NULL);
        CHECK_STR(p.files[2].filename, "foo-3.0.zip");
        CHECK_STR(p.files[2].url, "https://idx.example/x/foo%2d3.0.zip");
        CHECK_STR(p.files[2].yanked_reason, "gone & done");
        CHECK(p.files[2].core_metadata && p.files[2].core_metadata_sha256 == NULL);
    }
    CHECK_INT(w.len, 0);
    hb_index_page_free(&p);
    strbuf_free(&w);
}

static void test_json(void)
{
    static const char page[] =
        "{\"meta\": {\"api-version\": \"1.5\", \"project-status\": {\"status\": \"archived\"}},"
        " \"name\": \"foo\", \"versions\": [\"1.0\"], \"_private\": 1, \"files\": ["
        "{\"filename\": \"foo-1.0.tar.gz\", \"url\": \"../../pkgs/foo-1.0.tar.gz\", \"unknown\": [1],"
        " \"hashes\": {\"sha256\": \"" SHA "\"}, \"yanked\": \"bad\", \"size\": 12,"
        " \"upload-time\": \"2026-01-02T03:04:05Z\", \"core-metadata\": {\"sha256\": \"" SHA "\"}}]}";
    hb_index_page p;
    hb_error err;
    strbuf w = STRBUF_INIT;
    CHECK_INT(parse(&p, page, "application/vnd.pypi.simple.v1+json", &w, &err), 0);
    CHECK_STR(p.name, "foo");
    CHECK_STR(p.status, "archived");
    CHECK_INT(p.nversions, 1);
    CHECK_INT(p.nfiles, 1);
    if (p.nfiles == 1) {
        CHECK_STR(p.files[0].url, "https://idx.example/pkgs/foo-1.0.tar.gz");
        CHECK_STR(p.files[0].yanked_reason, "bad");
        CHECK_INT(p.files[0].size, 12);
        CHECK_STR(p.files[0].upload_time, "2026-01-02T03:04:05Z");
        CHECK_STR(p.files[0].core_metadata_sha256, SHA);
    }
    CHECK(strstr(strbuf_str(&w), PAGE ": unknown repository API version 1.5") == strbuf_str(&w));
    hb_index_page_free(&p);
    strbuf_free(&w);

    CHECK_INT(parse(&p, "{\"files\": [{\"filename\": \"a\"}]}", "application/vnd.pypi.simple.v1+json", NULL,
                    &err), -1);
    CHECK_STR(err.msg, PAGE ": files[0].url: expected a string, found no value");
    CHECK_INT(parse(&p, "{\"files\": [7]}", "application/vnd.pypi.simple.latest+json", NULL, &err), -1);
    CHECK_STR(err.msg, PAGE ": files[0]: expected an object, found number");
    CHECK_INT(parse(&p, "<a href=x>", "application/vnd.pypi.simple.v2+json", NULL, &err), -1);
    CHECK(strstr(err.msg, "unsupported Content-Type 'application/vnd.pypi.simple.v2+json'") != NULL);
    CHECK_INT(hb_index_page_parse(&p, "", 0, NULL, "relative/page", NULL, &err), -1);
    CHECK(strstr(err.msg, "page URL: base URL 'relative/page' is not absolute") != NULL);
}

static void test_links_and_projects(void)
{
    static const char links[] = "<a href='a-1.0-py3-none-any.whl'>a</a><a href='b-1.0.tar.bz2'>b</a>"
                                "<a href='index.html'>i</a><a href='sub/'>s</a>";
    hb_index_page p;
    hb_error err;
    CHECK_INT(hb_index_links_parse(&p, links, strlen(links), "file:///srv/wheels/", NULL, &err), 0);
    CHECK_INT(p.nfiles, 2);
    if (p.nfiles == 2)
        CHECK_STR(p.files[1].url, "file:///srv/wheels/b-1.0.tar.bz2");
    hb_index_page_free(&p);

    static const char list[] = "<a href='/simple/b/'> B_ </a><a href='/simple/a/'>A.<b>x</b></a><a>b-</a>";
    char **names;
    size_t n;
    CHECK_INT(hb_index_projects_parse(&names, &n, list, strlen(list), NULL, "https://h/simple/", &err), 0);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(names[0], "a-x");
        CHECK_STR(names[1], "b-");
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    CHECK_INT(hb_index_projects_parse(&names, &n, "{\"projects\": 1}", 15, "application/vnd.pypi.simple.v1+json",
                                      "https://h/simple/", &err), -1);
    CHECK(names == NULL && n == 0);
    CHECK_STR(err.msg, "https://h/simple/: projects: expected an array, found number");
}

int main(void)
{
    test_project_url();
    test_html();
    test_json();
    test_links_and_projects();
    return check_finish();
}
