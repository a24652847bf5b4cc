/* Reading PKG-INFO and pyproject.toml out of an sdist with libarchive; see sdist.h. */
#include "hpcbuild/sdist.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/metadata.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/toml.h"

void hb_sdist_info_free(hb_sdist_info *info)
{
    if (!info)
        return;
    free(info->top);
    free(info->pkg_info);
    free(info->name);
    free(info->version);
    hb_external_strv_free(info->requires_dist);
    free(info->requires_python);
    hb_external_strv_free(info->provides_extra);
    hb_external_strv_free(info->dynamic);
    free(info->pyproject);
    hb_external_deps_free(&info->external);
    hb_external_strv_free(info->build_requires);
    free(info->warnings);
    memset(info, 0, sizeof *info);
}

/* ---- the archive ---- */

/* Reads the current member's data (at most HB_SDIST_MEMBER_MAX bytes). */
static int read_member(struct archive *a, const char *path, const char *member, char **data, size_t *len,
                       hb_error *err)
{
    strbuf sb = STRBUF_INIT;
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
        if (sb.len + (size_t)n > HB_SDIST_MEMBER_MAX) {
            strbuf_free(&sb);
            return hb_error_set(err, HB_EINVAL, "%s: %s: member larger than %u MiB", path, member,
                                HB_SDIST_MEMBER_MAX >> 20);
        }
        strbuf_append(&sb, buf, (size_t)n);
    }
    if (n < 0) {
        strbuf_free(&sb);
        return hb_error_set(err, HB_EIO, "%s: %s: %s", path, member, archive_error_string(a));
    }
    strbuf_reserve(&sb, 1);   /* an empty member is still a (NUL-terminated) buffer */
    free(*data);              /* a repeated member: the last one counts, as when extracting */
    *len = sb.len;
    *data = strbuf_detach(&sb);
    return 0;
}

/* One archive member: tracks the top-level directory and keeps the two files. */
static int take_member(struct archive *a, struct archive_entry *entry, const char *path,
                       hb_sdist_info *info, hb_error *err)
{
    const char *name = archive_entry_pathname(entry);
    if (!name)
        return 0;
    for (;;) {
        if (name[0] == '/')
            name++;
        else if (name[0] == '.' && name[1] == '/')
            name += 2;
        else
            break;
    }
    size_t toplen = strcspn(name, "/");
    bool is_dir = archive_entry_filetype(entry) == AE_IFDIR;
    if (toplen == 0 || (name[toplen] == '\0' && !is_dir))
        return 0;   /* the root itself, or a file outside the top-level directory */
    if (!info->top)
        info->top = hb_strndup(name, toplen);
    else if (strlen(info->top) != toplen || strncmp(info->top, name, toplen) != 0)
        return hb_error_set(err, HB_EINVAL, "%s: expected exactly one top-level directory, found '%s' "
                            "and '%.*s'", path, info->top, (int)toplen, name);
    const char *rest = name[toplen] ? name + toplen + 1 : "";
    char **data = NULL;
    size_t *len = NULL;
    if (strcmp(rest, "PKG-INFO") == 0)
        data = &info->pkg_info, len = &info->pkg_info_len;
    else if (strcmp(rest, "pyproject.toml") == 0)
        data = &info->pyproject, len = &info->pyproject_len;
    if (!data || archive_entry_filetype(entry) != AE_IFREG)
        return 0;
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > (la_int64_t)HB_SDIST_MEMBER_MAX)
        return hb_error_set(err, HB_EINVAL, "%s: %s: member of %lld bytes, larger than %u MiB", path, name,
                            (long long)archive_entry_size(entry), HB_SDIST_MEMBER_MAX >> 20);
    return read_member(a, path, name, data, len, err);
}

static int scan_archive(hb_sdist_info *info, const char *path, hb_error *err)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_zip(a);
    int rc = 0;
    if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
        rc = hb_error_set(err, HB_EIO, "%s: %s", path, archive_error_string(a));
    } else {
        struct archive_entry *entry;
        int r;
        while (rc == 0 && (r = archive_read_next_header(a, &entry)) != ARCHIVE_EOF) {
            if (r < ARCHIVE_WARN)
                rc = hb_error_set(err, HB_EINVAL, "%s: not a readable sdist archive: %s", path,
                                  archive_error_string(a));
            else
                rc = take_member(a, entry, path, info, err);
        }
        if (rc == 0 && !info->top)
            rc = hb_error_set(err, HB_EINVAL, "%s: expected one top-level directory, found none", path);
    }
    archive_read_free(a);
    return rc;
}

/* ---- PKG-INFO ---- */

static char **list_copy(const metadata_list *l)
{
    if (l->n == 0)
        return NULL;
    char **v = hb_calloc(l->n + 1, sizeof *v);
    for (size_t i = 0; i < l->n; i++)
        v[i] = hb_strdup(l->v[i]);
    return v;
}

static bool listed(const metadata_list *l, const char *field)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcasecmp(l->v[i], field) == 0)
            return true;
    return false;
}

static int read_pkg_info(hb_sdist_info *info, const char *path, strbuf *warnings, hb_error *err)
{
    metadata md = METADATA_INIT;
    metadata_core core;
    memset(&core, 0, sizeof core);
    int rc = metadata_parse(&md, info->pkg_info, info->pkg_info_len, err);
    if (rc == 0)
        rc = metadata_core_view(&md, &core, warnings, err);
    if (rc != 0) {
        metadata_free(&md);
        return hb_error_prefix(err, "%s: %s/PKG-INFO", path, info->top);
    }
    info->md_major = core.version_major;
    info->md_minor = core.version_minor;
    info->name = hb_strdup(core.name);
    info->version = hb_strdup(core.version);
    info->requires_dist = list_copy(&core.requires_dist);
    info->provides_extra = list_copy(&core.provides_extra);
    info->dynamic = list_copy(&core.dynamic);
    info->requires_python = core.requires_python ? hb_strdup(core.requires_python) : NULL;
    static const char *const dep_fields[] = {"Requires-Dist", "Requires-Python", "Requires-External",
                                             "Provides-Extra"};
    info->static_deps = info->md_major > 2 || (info->md_major == 2 && info->md_minor >= 2);
    for (size_t i = 0; i < sizeof dep_fields / sizeof *dep_fields; i++)
        if (listed(&core.dynamic, dep_fields[i]))
            info->static_deps = false;
    metadata_core_free(&core);
    metadata_free(&md);
    return 0;
}

/* ---- pyproject.toml ---- */

static int read_build_requires(hb_sdist_info *info, const toml_value *root, hb_error *err)
{
    const toml_value *bs = toml_table_get(root, "build-system");
    if (!bs)
        return 0;
    if (!toml_expect(bs, TOML_TABLE, err))
        return -1;
    const toml_value *req = toml_table_get(bs, "requires");
    if (!req)
        return 0;
    if (!toml_expect(req, TOML_ARRAY, err))
        return -1;
    size_t n = toml_array_size(req);
    info->build_requires = hb_calloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        const toml_value *v = toml_array_at(req, i);
        if (!toml_expect(v, TOML_STRING, err))
            return -1;
        info->build_requires[i] = hb_strdup(toml_string(v, NULL));
    }
    return 0;
}

static int read_pyproject(hb_sdist_info *info, const char *path, strbuf *warnings, hb_error *err)
{
    strbuf source = STRBUF_INIT;
    strbuf_printf(&source, "%s!%s/pyproject.toml", path, info->top);
    toml_value *root = toml_parse(info->pyproject, info->pyproject_len, strbuf_str(&source), err);
    strbuf_free(&source);
    if (!root)
        return -1;
    int rc = read_build_requires(info, root, err);
    if (rc == 0)
        rc = hb_external_from_pyproject(&info->external, root, warnings, err);
    toml_free(root);
    return rc;
}

int hb_sdist_read(hb_sdist_info *info, const char *path, hb_error *err)
{
    memset(info, 0, sizeof *info);
    strbuf warnings = STRBUF_INIT;
    int rc = scan_archive(info, path, err);
    if (rc == 0 && info->pkg_info)
        rc = read_pkg_info(info, path, &warnings, err);
    if (rc == 0 && info->pyproject)
        rc = read_pyproject(info, path, &warnings, err);
    info->warnings = warnings.len ? strbuf_detach(&warnings) : NULL;
    strbuf_free(&warnings);
    return rc;
}
