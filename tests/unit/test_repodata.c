/* Unit tests for the conda channel loader (include/hpcbuild/repodata.h);
 * the oracle test tests/repodata_oracle.py covers the shared repodata files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/matchspec.h"
#include "hpcbuild/repodata.h"

#include "check.h"

static repodata *parse(const char *json, const repodata_options *opt)
{
    hb_error err;
    repodata *rd = repodata_parse(json, strlen(json), "t.json", opt, &err);
    if (!rd)
        fprintf(stderr, "parse failed: %s\n", err.msg);
    return rd;
}

static const char DOC[] =
    "{\"info\": {\"subdir\": \"linux-64\", \"repodata_version\": 2, \"base_url\": \"../pkgs/\"},"
    " \"packages\": {"
    "  \"a-1.0-0.tar.bz2\": {\"name\": \"a\", \"version\": \"1.0\", \"build\": \"0\", \"build_number\": 0,"
    "     \"depends\": [\"b >=2\"], \"timestamp\": 1600000000, \"track_features\": \"x, y x\"},"
    "  \"b-2.0-1.tar.bz2\": {\"name\": \"b\", \"version\": \"2.0\", \"build\": \"1\", \"build_number\": 1,"
    "     \"depends\": [\"c\"], \"constrains\": [\"a <2\"], \"noarch\": true, \"size\": 10}},"
    " \"packages.conda\": {"
    "  \"a-1.0-0.conda\": {\"name\": \"a\", \"version\": \"1.0\", \"build\": \"0\", \"build_number\": 0,"
    "     \"depends\": [\"b >=2\"], \"timestamp\": 1600000000123, \"subdir\": \"linux-64\"}},"
    " \"removed\": [\"old-0.1-0.tar.bz2\"]}";

static void test_document(void)
{
    repodata_options opt = {"https://h.org/c/linux-64/repodata.json", "c", 0};
    repodata *rd = parse(DOC, &opt);
    CHECK(rd && rd->count == 2 && rd->n_duplicates == 1);
    if (!rd)
        return;
    CHECK(rd->repodata_version == 2);   /* from info (CEP 36) */
    CHECK_STR(rd->base_url, "https://h.org/c/pkgs/");
    CHECK_STR(rd->subdir, "linux-64");
    CHECK(rd->n_removed == 1 && strcmp(rd->removed[0], "old-0.1-0.tar.bz2") == 0 && !rd->removed[1]);
    const repodata_record *a = &rd->records[0], *b = &rd->records[1];
    CHECK_STR(a->rec.fn, "a-1.0-0.conda");
    CHECK(a->from_conda_section && !b->from_conda_section);
    CHECK_STR(a->rec.url, "https://h.org/c/pkgs/a-1.0-0.conda");
    CHECK_STR(a->rec.channel, "c");
    CHECK(a->timestamp == 1600000000123);
    CHECK(a->size == -1 && a->noarch == NULL && a->rec.track_features == NULL);
    CHECK_STR(b->rec.subdir, "linux-64");   /* from info */
    CHECK_STR(b->noarch, "generic");
    CHECK(b->size == 10 && b->rec.build_number == 1);
    CHECK_STR(b->constrains[0], "a <2");
    CHECK(b->constrains[1] == NULL && a->constrains[0] == NULL);
    /* equal strings are shared (interned) */
    CHECK(a->rec.depends[0] != NULL && a->rec.name != b->rec.name);
    CHECK(strcmp(b->rec.subdir, a->rec.subdir) == 0 && b->rec.subdir == a->rec.subdir);
    CHECK(repodata_memory(rd) > 0);
    /* the records are conda_records for MatchSpec */
    hb_error err;
    const char *specs[] = {"a 1.0 0", "b >=2", "c::b", "a[build_number=1]"};
    bool want[] = {true, false, true, false};
    for (int i = 0; i < 4; i++) {
        matchspec *ms = matchspec_parse(specs[i], strlen(specs[i]), &err);
        bool m = false;
        CHECK(ms && matchspec_match(ms, i == 1 ? &a->rec : i == 2 ? &b->rec : &a->rec, &m, &err) == 0);
        CHECK(m == want[i]);
        matchspec_free(ms);
    }
    repodata_free(rd);

    /* only .tar.bz2: the twin is kept; seconds become milliseconds; features split */
    opt.flags = REPODATA_ONLY_TAR_BZ2;
    rd = parse(DOC, &opt);
    CHECK(rd && rd->count == 2 && rd->n_duplicates == 0);
    if (rd) {
        CHECK_STR(rd->records[0].rec.fn, "a-1.0-0.tar.bz2");
        CHECK(rd->records[0].timestamp == 1600000000000);
        char **tf = rd->records[0].rec.track_features;
        CHECK(tf && strcmp(tf[0], "x") == 0 && strcmp(tf[1], "y") == 0 && tf[2] == NULL);
    }
    repodata_free(rd);

    /* no URL: relative base URLs cannot be resolved, absolute ones are kept */
    rd = parse(DOC, NULL);
    CHECK(rd && rd->base_url == NULL && rd->records[0].rec.url == NULL && rd->records[0].rec.channel == NULL);
    repodata_free(rd);
    rd = parse("{\"repodata_version\": 2, \"info\": {\"base_url\": \"https://m.org/x\"}, \"packages\": "
               "{\"z-1-0.tar.bz2\": {\"name\": \"z\", \"version\": \"1\", \"build\": \"0\"}}}", NULL);
    CHECK(rd && rd->count == 1);
    if (rd)
        CHECK_STR(rd->records[0].rec.url, "https://m.org/x/z-1-0.tar.bz2");
    repodata_free(rd);
    /* base_url is ignored in version 1 (conda) */
    opt = (repodata_options){"file:///c/noarch/repodata.json", NULL, 0};
    rd = parse("{\"info\": {\"base_url\": \"https://m.org/x\"}, \"packages\": "
               "{\"z-1-0.tar.bz2\": {\"name\": \"z\", \"version\": \"1\", \"build\": \"0\"}}}", &opt);
    if (rd)
        CHECK_STR(rd->records[0].rec.url, "file:///c/noarch/z-1-0.tar.bz2");
    repodata_free(rd);
}

static void test_errors(void)
{
    struct { const char *json, *msg; } cases[] = {
        {"{\"packages\": {\"a-1-0.tar.bz2\": {\"name\": \"a\", \"version\": \"1\", \"build\": \"0\", "
         "\"depends\": {}}}}",
         "t.json: packages[\"a-1-0.tar.bz2\"].depends: expected an array of strings, found object"},
        {"{\"packages.conda\": {\"a-1-0.conda\": {\"name\": \"a\", \"version\": 1, \"build\": \"0\"}}}",
         "t.json: packages.conda[\"a-1-0.conda\"].version: expected a string, found number"},
        {"{\"packages\": {\"a\": {\"name\": \"a\", \"version\": \"1\", \"build\": \"0\", \"noarch\": \"x\"}}}",
         "t.json: packages[\"a\"].noarch: expected \"generic\", \"python\" or a boolean, found \"x\""},
        {"{\"packages\": 1}", "t.json: packages: expected an object, found number"},
        {"{\"repodata_version\": 9}", "t.json: repodata_version 9 is not supported (expected 1, 2 or 3)"},
        {"{\"packages\": {", "t.json: line 1, column 15 (byte offset 14): expected a string key, found end of input"},
        {"[1]", "t.json: expected a JSON object at the top level, found array"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        hb_error err = {0};
        repodata *rd = repodata_parse(cases[i].json, strlen(cases[i].json), "t.json", NULL, &err);
        CHECK(rd == NULL);
        CHECK_STR(err.msg, cases[i].msg);
        repodata_free(rd);
    }
    repodata *rd = parse("", NULL);   /* an empty file is {} */
    CHECK(rd && rd->count == 0 && rd->removed && !rd->removed[0]);
    repodata_free(rd);
}

static void test_shards(void)
{
    const char *shared = getenv("HPCBUILD_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/testdata/repodata/channels/conda_format_repo/linux-64/repodata_shards.msgpack.zst",
             shared ? shared : "../shared");
    hb_error err;
    repodata_shard_index *idx = repodata_shard_index_load(path, &err);
    CHECK(idx != NULL);
    if (!idx) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK(repodata_shard_index_count(idx) == 2);
    CHECK_STR(repodata_shard_index_name(idx, 0), "libgcc-ng");
    CHECK_STR(repodata_shard_index_subdir(idx), "linux-64");
    CHECK(repodata_shard_index_hash(idx, "zlib") && !repodata_shard_index_hash(idx, "nope"));
    char *url = repodata_shard_url(idx, "zlib");
    CHECK(url && strstr(url, "/linux-64/56a0c19b47ba1a2d0f1390eda489b1c49a00d35814571057e6d81e0c93dfd157.msgpack.zst"));
    free(url);
    CHECK(repodata_shard_url(idx, "nope") == NULL);
    repodata *rd = repodata_new_sharded(idx, NULL);
    CHECK(rd && rd->count == 0);
    CHECK(repodata_add_shard(rd, idx, "zlib", "x", 1, &err) < 0 && strstr(err.msg, "sha256 mismatch"));
    CHECK(repodata_add_shard(rd, idx, "nope", "x", 1, &err) < 0 && strstr(err.msg, "no shard for 'nope'"));
    repodata_free(rd);
    repodata_shard_index_free(idx);
    const char *names[] = {"zlib"};
    rd = repodata_load_shards(path, names, 1, NULL, &err);
    CHECK(rd && rd->count == 1 && rd->n_duplicates == 1);
    if (rd) {
        CHECK_STR(rd->records[0].rec.fn, "zlib-1.2.11-h7b6447c_3.conda");
        CHECK_STR(rd->records[0].rec.md5, "cb23839f06da92ec92c6d2d2d5e0cb4a");
        CHECK_STR(rd->records[0].rec.depends[0], "libgcc-ng >=7.3.0");
    }
    repodata_free(rd);
}

static void test_urls(void)
{
    struct { const char *base, *ref, *want; } cases[] = {
        {"https://a.org/c/linux-64/repodata.json", "../noarch/", "https://a.org/c/noarch/"},
        {"https://a.org/c/linux-64/repodata.json", "", "https://a.org/c/linux-64/repodata.json"},
        {"https://a.org", "x", "https://a.org/x"},
        {"file:///c/linux-64/repodata.json", "../../../../x", "file:///x"},
        {"file:///c/linux-64/repodata.json", "//h/p", "file://h/p"},
        {"file:///c/linux-64/repodata.json", "s3://b/k", "s3://b/k"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *r = repodata_url_resolve(cases[i].base, cases[i].ref);
        CHECK_STR(r, cases[i].want);
        free(r);
    }
}

int main(void)
{
    test_document();
    test_errors();
    test_shards();
    test_urls();
    return check_finish();
}
