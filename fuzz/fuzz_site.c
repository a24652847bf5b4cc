/* libFuzzer harness for the site externals file reader: any bytes must parse or fail
 * cleanly.  A failure is HB_EINVAL with "site.yaml:LINE:COLUMN: ..."; a success holds only
 * valid entries (names, versions, builds, provides that re-parse to themselves), so adding
 * them to a pool and applying the virtuals must succeed. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/conda_version.h"
#include "hpcbuild/depurl.h"
#include "hpcbuild/site.h"
#include "hpcbuild/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_version(const char *v)
{
    conda_version cv;
    hb_error err;
    if (conda_version_parse(&cv, v, strlen(v), &err) != 0)
        abort();
    conda_version_free(&cv);
}

static void check_located(const char *msg)
{
    const char *p = msg;
    if (strncmp(p, "site.yaml:", 10) != 0)
        abort();
    p += 10;
    for (int part = 0; part < 2; part++) {
        if (!isdigit((unsigned char)*p) || *p == '0')
            abort();
        while (isdigit((unsigned char)*p))
            p++;
        if (*p++ != ':')
            abort();
    }
    if (*p != ' ')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hb_site site;
    hb_error err;
    if (hb_site_parse(&site, (const char *)data, size, "site.yaml", &err) != 0) {
        if (err.code != HB_EINVAL || site.externals || site.virtuals || site.info || site.path)
            abort();
        check_located(err.msg);
        return 0;
    }
    for (size_t i = 0; i < site.nvirtuals; i++) {
        const hb_site_virtual *v = &site.virtuals[i];
        if (strncmp(v->name, "__", 2) != 0 || v->line == 0)
            abort();
        if (*v->version)
            check_version(v->version);
    }
    for (size_t i = 0; i < site.nexternals; i++) {
        const hb_site_external *e = &site.externals[i];
        if (!*e->name || !e->build || !*e->build || !e->provides || e->provides[e->nprovides])
            abort();
        check_version(e->version);
        for (size_t j = 0; j < e->nprovides; j++) {
            depurl d;
            strbuf out = STRBUF_INIT;
            if (depurl_parse(&d, e->provides[j], strlen(e->provides[j]), NULL, &err) != 0)
                abort();
            depurl_format(&d, &out);
            if (strcmp(strbuf_str(&out), e->provides[j]) != 0 || d.version)
                abort();
            depurl_free(&d);
            strbuf_free(&out);
        }
        for (size_t j = 0; j < e->ninfo; j++)
            if (!e->info[j].key || (!e->info[j].is_list && e->info[j].nvalues != 1))
                abort();
    }
    hb_virtuals vs = HB_VIRTUALS_INIT;
    hb_virtuals_detect(&vs, "linux-64");
    hb_site_apply_virtuals(&site, &vs);
    if (site.nexternals || site.nvirtuals) {
        hb_pool *pool = hb_pool_new();
        for (size_t i = 0; i < vs.n; i++)
            if (hb_pool_add_virtual(pool, vs.v[i].name, vs.v[i].version, vs.v[i].build, &err) != 0)
                abort();
        if (hb_site_add_externals(&site, pool, &err) != 0)
            abort();
        hb_pool_free(pool);
    }
    hb_virtuals_free(&vs);
    hb_site_free(&site);
    return 0;
}
