/* repodata_dump — prints what the repodata loader read, as JSON, for the
 * oracle test (tests/repodata_oracle.py).
 *
 *   repodata_dump [--url URL] [--channel C] [--only-tar-bz2] FILE
 *   repodata_dump [...] --subdir DIR
 *   repodata_dump [...] --shards INDEX NAME...
 *   repodata_dump --resolve     stdin: lines "BASE<TAB>REF"; stdout: one resolved URL a line
 *
 * stdout: {"subdir", "base_url", "repodata_version", "flat_index", "removed",
 * "n_duplicates", "n_skipped", "records": [...]}; on failure "error: MSG" on
 * stdout and exit status 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/json.h"
#include "hpcbuild/repodata.h"

static void str_or_null(hb_json_writer *w, const char *key, const char *s)
{
    hb_json_key(w, key);
    if (s)
        hb_json_string(w, s);
    else
        hb_json_null(w);
}

static void list_or_null(hb_json_writer *w, const char *key, char **l)
{
    hb_json_key(w, key);
    if (!l) {
        hb_json_null(w);
        return;
    }
    hb_json_string_list(w, l);
}

static int resolve_lines(void)
{
    char line[8192];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab)
            return 2;
        *tab = '\0';
        char *r = repodata_url_resolve(line, tab + 1);
        printf("%s\n", r);
        free(r);
    }
    return 0;
}

int main(int argc, char **argv)
{
    repodata_options opt = {0};
    int i = 1;
    const char *mode = "file";
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            opt.url = argv[++i];
        else if (strcmp(argv[i], "--channel") == 0 && i + 1 < argc)
            opt.channel = argv[++i];
        else if (strcmp(argv[i], "--only-tar-bz2") == 0)
            opt.flags |= REPODATA_ONLY_TAR_BZ2;
        else if (strcmp(argv[i], "--subdir") == 0)
            mode = "subdir";
        else if (strcmp(argv[i], "--shards") == 0)
            mode = "shards";
        else if (strcmp(argv[i], "--resolve") == 0)
            return resolve_lines();
        else
            break;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: repodata_dump [--url URL] [--channel C] [--only-tar-bz2] "
                        "[--subdir|--shards] PATH [NAME...]\n");
        return 2;
    }
    hb_error err = {0};
    repodata *rd;
    if (strcmp(mode, "subdir") == 0)
        rd = repodata_load_subdir(argv[i], &opt, &err);
    else if (strcmp(mode, "shards") == 0)
        rd = repodata_load_shards(argv[i], (const char *const *)argv + i + 1, (size_t)(argc - i - 1),
                                  &opt, &err);
    else
        rd = repodata_load_file(argv[i], &opt, &err);
    if (!rd) {
        printf("error: %s\n", err.msg);
        return 1;
    }
    strbuf out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 0);
    hb_json_begin_object(&w);
    str_or_null(&w, "subdir", rd->subdir);
    str_or_null(&w, "base_url", rd->base_url);
    hb_json_key(&w, "repodata_version");
    hb_json_int64(&w, rd->repodata_version);
    hb_json_key(&w, "flat_index");
    hb_json_bool(&w, rd->flat_index);
    list_or_null(&w, "removed", rd->removed);
    hb_json_key(&w, "n_duplicates");
    hb_json_int64(&w, (int64_t)rd->n_duplicates);
    hb_json_key(&w, "n_skipped");
    hb_json_int64(&w, (int64_t)rd->n_skipped);
    hb_json_key(&w, "n_invalid");
    hb_json_int64(&w, (int64_t)rd->n_invalid);
    hb_json_key(&w, "records");
    hb_json_begin_array(&w);
    for (size_t k = 0; k < rd->count; k++) {
        const repodata_record *r = &rd->records[k];
        hb_json_begin_object(&w);
        str_or_null(&w, "fn", r->rec.fn);
        str_or_null(&w, "name", r->rec.name);
        str_or_null(&w, "version", r->rec.version);
        str_or_null(&w, "build", r->rec.build);
        hb_json_key(&w, "build_number");
        hb_json_int64(&w, r->rec.build_number);
        str_or_null(&w, "channel", r->rec.channel);
        str_or_null(&w, "subdir", r->rec.subdir);
        str_or_null(&w, "md5", r->rec.md5);
        str_or_null(&w, "sha256", r->rec.sha256);
        str_or_null(&w, "license", r->rec.license);
        str_or_null(&w, "license_family", r->rec.license_family);
        str_or_null(&w, "url", r->rec.url);
        list_or_null(&w, "depends", r->rec.depends);
        list_or_null(&w, "constrains", r->constrains);
        list_or_null(&w, "track_features", r->rec.track_features);
        list_or_null(&w, "features", r->rec.features);
        list_or_null(&w, "flags", r->rec.flags);
        str_or_null(&w, "noarch", r->noarch);
        hb_json_key(&w, "size");
        hb_json_int64(&w, r->size);
        hb_json_key(&w, "timestamp");
        hb_json_int64(&w, r->timestamp);
        str_or_null(&w, "python_site_packages_path", r->python_site_packages_path);
        hb_json_key(&w, "conda");
        hb_json_bool(&w, r->from_conda_section);
        hb_json_end_object(&w);
    }
    hb_json_end_array(&w);
    hb_json_end_object(&w);
    fwrite(out.buf, 1, out.len, stdout);
    putchar('\n');
    strbuf_free(&out);
    repodata_free(rd);
    return 0;
}
