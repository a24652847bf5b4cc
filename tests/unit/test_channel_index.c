/* Unit tests of builder/channel_index.c: the layout, notes for skipped files, escaping,
 * duplicates, determinism and errors (wheels made with hb_wheel_zip_dir). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "tmptree.h"

#include "hpcbuild/alloc.h"
#include "hpcbuild/channel_index.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/wheel_zip.h"

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    strbuf sb = STRBUF_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_append(&sb, buf, n);
    fclose(f);
    return sb.buf ? strbuf_detach(&sb) : hb_strdup("");
}

static bool file_contains(const char *path, const char *needle)
{
    char *s = read_all(path);
    bool found = s && strstr(s, needle);
    free(s);
    return found;
}

/* A wheel NAME-VERSION-py3-none-any.whl at rel whose METADATA says md_name / extra lines. */
static void make_wheel(const char *rel, const char *dist, const char *md_name, const char *extra)
{
    char tree[256], path[512];
    snprintf(tree, sizeof tree, "trees/%s", dist);
    snprintf(path, sizeof path, "%s/%s.dist-info/METADATA", tree, dist);
    strbuf md = STRBUF_INIT;
    strbuf_printf(&md, "Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n%s", md_name, extra);
    write_file(path, md.buf);
    strbuf_free(&md);
    hb_error err = {0};
    char dir[512];
    snprintf(dir, sizeof dir, "%s", at(rel));
    *strrchr(dir, '/') = '\0';
    CHECK(hb_mkdir_p(dir, NULL) == 0);
    CHECK_MSG(hb_wheel_zip_dir(at(tree), at(rel), &err) == 0, "%s", err.msg);
}

static void test_errors_and_empty(void)
{
    hb_error err = {0};
    CHECK(hb_channel_index(at("missing"), NULL, &err) == -1);
    CHECK_INT(err.code, HB_EINVAL);
    CHECK(strstr(err.msg, "missing") != NULL);

    CHECK(hb_mkdir_p(at("empty"), NULL) == 0);
    hb_channel_index_stats st;
    memset(&st, 0, sizeof st);
    CHECK_MSG(hb_channel_index(at("empty"), &st, &err) == 0, "%s", err.msg);
    CHECK_INT(st.projects, 0);
    CHECK(file_contains(at("empty/simple/index.json"), "\"projects\": []"));
    CHECK(file_contains(at("empty/channel.json"), "\"distributions\": []"));
    hb_channel_index_stats_free(&st);
}

static void test_layout(void)
{
    make_wheel("chan/files/foo-1.0-py3-none-any.whl", "foo-1.0", "Foo",
               "Requires-Python: >=3.8,<4\nRequires-Dist: bar\nRequires-External: libfoo\n");
    make_wheel("chan/baz-1.0-py3-none-any.whl", "baz-1.0", "baz", "");
    make_wheel("chan/files/qux-1.0-py3-none-any.whl", "qux-1.0", "qux", "");
    make_wheel("chan/qux-1.0-py3-none-any.whl", "qux-1.0", "qux", "");
    /* METADATA naming another project than the file name */
    make_wheel("chan/files/odd-1.0-py3-none-any.whl", "odd-1.0", "other", "");
    write_file("chan/files/notes.txt", "hello\n");

    hb_channel_index_stats st;
    memset(&st, 0, sizeof st);
    hb_error err = {0};
    CHECK_MSG(hb_channel_index(at("chan"), &st, &err) == 0, "%s", err.msg);
    CHECK_INT(st.wheels, 3);
    CHECK_INT(st.sdists, 0);
    CHECK_INT(st.projects, 3);
    CHECK_INT(st.skipped, 3);
    const char *notes = strbuf_str(&st.notes);
    CHECK_MSG(strstr(notes, "files/notes.txt: not a wheel or sdist file name") != NULL, "%s", notes);
    CHECK_MSG(strstr(notes, "qux-1.0-py3-none-any.whl: the same file name is already indexed"),
              "%s", notes);
    CHECK_MSG(strstr(notes, "files/odd-1.0-py3-none-any.whl: metadata Name 'other'"), "%s", notes);
    hb_channel_index_stats_free(&st);

    CHECK(file_contains(at("chan/simple/foo/index.html"), "data-requires-python=\"&gt;=3.8,&lt;4\""));
    CHECK(file_contains(at("chan/simple/foo/index.html"),
                        "href=\"../../files/foo-1.0-py3-none-any.whl#sha256="));
    CHECK(file_contains(at("chan/simple/baz/index.json"), "\"url\": \"../../baz-1.0-py3-none-any.whl\""));
    CHECK(file_contains(at("chan/simple/qux/index.json"),
                        "\"url\": \"../../files/qux-1.0-py3-none-any.whl\""));
    CHECK(file_contains(at("chan/files/foo-1.0-py3-none-any.whl.metadata"), "Name: Foo\n"));
    CHECK(file_contains(at("chan/baz-1.0-py3-none-any.whl.metadata"), "Name: baz\n"));
    CHECK(file_contains(at("chan/channel.json"), "\"requires_external\": [\n    \"libfoo\""));
    CHECK(file_contains(at("chan/simple/index.html"), "<a href=\"foo/\">foo</a>"));

    /* determinism, then removal */
    char *before = read_all(at("chan/channel.json"));
    char *page = read_all(at("chan/simple/foo/index.json"));
    memset(&st, 0, sizeof st);
    CHECK(hb_channel_index(at("chan"), &st, &err) == 0);
    hb_channel_index_stats_free(&st);
    char *after = read_all(at("chan/channel.json"));
    char *page2 = read_all(at("chan/simple/foo/index.json"));
    CHECK(before && after && strcmp(before, after) == 0);
    CHECK(page && page2 && strcmp(page, page2) == 0);
    free(before);
    free(after);
    free(page);
    free(page2);

    CHECK(remove(at("chan/baz-1.0-py3-none-any.whl")) == 0);
    CHECK(hb_channel_index(at("chan"), NULL, &err) == 0);
    CHECK(access(at("chan/simple/baz"), F_OK) != 0);
    CHECK(access(at("chan/baz-1.0-py3-none-any.whl.metadata"), F_OK) != 0);
    CHECK(!file_contains(at("chan/channel.json"), "baz"));
    CHECK(!file_contains(at("chan/simple/index.json"), "baz"));
}

int main(void)
{
    if (tmptree_init("chindex") < 0)
        return 1;
    test_errors_and_empty();
    test_layout();
    tmptree_done();
    return check_finish();
}
