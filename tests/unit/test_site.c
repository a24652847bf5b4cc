/* Unit tests of the site externals file reader (solver/site.c): the full example of
 * docs/site.md, defaults, every error with its exact FILE:LINE:COLUMN, and the pool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpcbuild/channel.h"
#include "hpcbuild/pool.h"
#include "hpcbuild/site.h"

#include "check.h"

/* The example of docs/site.md (kept in step by hand). */
static const char example[] =
    "# written by hpcbuild site detect, then edited by hand\n"
    "format: 1\n"
    "info:\n"
    "  host: login01.cluster.example.org\n"
    "  detected: 2026-11-22T08:00:00Z\n"
    "virtual:\n"
    "  __glibc:\n"
    "    version: \"2.36\"\n"
    "    found-by: gnu_get_libc_version()\n"
    "  __cuda:\n"
    "    version: \"12.4\"\n"
    "    found-by: cuDriverGetVersion() = 12040\n"
    "  __archspec:\n"
    "    version: \"1\"\n"
    "    build: x86_64_v3\n"
    "    found-by: cpuid (AVX2, BMI2, FMA, MOVBE)\n"
    "externals:\n"
    "  - name: openmpi\n"
    "    version: 4.1.4\n"
    "    provides:\n"
    "      - dep:virtual/interface/mpi\n"
    "      - dep:generic/openmpi\n"
    "    prefix: /usr/lib/x86_64-linux-gnu/openmpi\n"
    "    found-by: mpicc --showme:version\n"
    "    module: openmpi/4.1.4\n"
    "    info:\n"
    "      mpicc: /usr/bin/mpicc\n"
    "      abi: openmpi-4\n"
    "      compile-flags: [-I/usr/lib/x86_64-linux-gnu/openmpi/include]\n"
    "      link-flags: [-L/usr/lib/x86_64-linux-gnu/openmpi/lib, -lmpi]\n"
    "  - name: openblas\n"
    "    version: 0.3.21\n"
    "    build: external_site_pthreads\n"
    "    provides: [dep:virtual/interface/blas, dep:virtual/interface/lapack, dep:generic/openblas]\n"
    "    prefix: /usr\n"
    "    found-by: pkg-config --modversion openblas\n"
    "    info:\n"
    "      pkg-config: openblas\n"
    "      threading: pthreads\n"
    "  - name: cuda-toolkit\n"
    "    version: 12.4.131\n"
    "    provides: [dep:generic/cuda]\n"
    "    prefix: /usr/local/cuda-12.4\n"
    "    found-by: nvcc --version\n"
    "    module: cuda/12.4\n"
    "    info:\n"
    "      nvcc: /usr/local/cuda-12.4/bin/nvcc\n"
    "      arch-list: ['8.0', '9.0']\n";

static int parse(hb_site *s, const char *text, hb_error *err)
{
    return hb_site_parse(s, text, strlen(text), "site.yaml", err);
}

static const hb_site_info *find_info(const hb_site_info *info, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(info[i].key, key) == 0)
            return &info[i];
    return NULL;
}

static void test_example(void)
{
    hb_site s;
    hb_error err;
    int rc = parse(&s, example, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc != 0)
        return;
    CHECK_STR(s.path, "site.yaml");
    CHECK_INT(s.ninfo, 2);
    const hb_site_info *host = find_info(s.info, s.ninfo, "host");
    CHECK(host && !host->is_list && host->nvalues == 1 &&
          strcmp(host->values[0], "login01.cluster.example.org") == 0);
    CHECK_INT(s.nvirtuals, 3);
    CHECK_STR(s.virtuals[0].name, "__glibc");
    CHECK_STR(s.virtuals[0].version, "2.36");
    CHECK(s.virtuals[0].build == NULL);
    CHECK_STR(s.virtuals[0].found_by, "gnu_get_libc_version()");
    CHECK_INT(s.virtuals[0].line, 7);
    CHECK_STR(s.virtuals[2].build, "x86_64_v3");
    CHECK_INT(s.nexternals, 3);
    const hb_site_external *mpi = &s.externals[0];
    CHECK_STR(mpi->name, "openmpi");
    CHECK_STR(mpi->version, "4.1.4");
    CHECK_STR(mpi->build, "external_site");
    CHECK_INT(mpi->nprovides, 2);
    CHECK_STR(mpi->provides[0], "dep:virtual/interface/mpi");
    CHECK_STR(mpi->provides[1], "dep:generic/openmpi");
    CHECK(mpi->provides[2] == NULL);
    CHECK_STR(mpi->prefix, "/usr/lib/x86_64-linux-gnu/openmpi");
    CHECK_STR(mpi->found_by, "mpicc --showme:version");
    CHECK_STR(mpi->module, "openmpi/4.1.4");
    CHECK_INT(mpi->line, 18);
    CHECK_INT(mpi->ninfo, 4);
    const hb_site_info *lf = find_info(mpi->info, mpi->ninfo, "link-flags");
    CHECK(lf && lf->is_list && lf->nvalues == 2 && strcmp(lf->values[1], "-lmpi") == 0);
    CHECK_STR(s.externals[1].build, "external_site_pthreads");
    CHECK_INT(s.externals[1].nprovides, 3);
    CHECK(s.externals[1].module == NULL);
    const hb_site_info *arch = find_info(s.externals[2].info, s.externals[2].ninfo, "arch-list");
    CHECK(arch && arch->nvalues == 2 && strcmp(arch->values[0], "8.0") == 0);
    hb_site_free(&s);
    CHECK(s.externals == NULL && s.nexternals == 0);
}

static void test_defaults_and_forms(void)
{
    hb_site s;
    hb_error err;
    /* empty file, comments only, empty document: an empty site */
    const char *empties[] = {"", "# nothing detected\n", "---\n", "format: 1\n", "externals: []\n"};
    for (size_t i = 0; i < sizeof empties / sizeof *empties; i++) {
        int rc = parse(&s, empties[i], &err);
        CHECK_MSG(rc == 0 && s.nexternals == 0 && s.nvirtuals == 0, "'%s': %s", empties[i],
                  rc ? err.msg : "");
        if (rc == 0)
            hb_site_free(&s);
    }
    /* scalar virtuals; an empty version removes; legacy DepURL spellings are normalized;
     * versions are kept as written (4.10 is not the float 4.1) */
    int rc = parse(&s,
                   "virtual: {__cuda: '', __glibc: 2.17}\n"
                   "externals:\n"
                   "- {name: mpich, version: 4.10, provides: ['virtual:interface/mpi', "
                   "'pkg:generic/mpich'], prefix: '', found-by: hand}\n",
                   &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc == 0) {
        CHECK_STR(s.virtuals[0].version, "");
        CHECK_STR(s.virtuals[1].version, "2.17");
        CHECK_STR(s.externals[0].version, "4.10");
        CHECK_STR(s.externals[0].provides[0], "dep:virtual/interface/mpi");
        CHECK_STR(s.externals[0].provides[1], "dep:generic/mpich");
        CHECK(s.externals[0].prefix == NULL);
        CHECK_STR(s.externals[0].found_by, "hand");
        hb_site_free(&s);
    }
    /* no provides: an empty list, never NULL */
    rc = parse(&s, "externals:\n  - name: gcc\n    version: '12.2.0'\n", &err);
    CHECK_MSG(rc == 0 && s.externals[0].provides && s.externals[0].provides[0] == NULL &&
              s.externals[0].nprovides == 0, "%s", rc ? err.msg : "");
    if (rc == 0)
        hb_site_free(&s);
}

/* Parsing text fails with exactly msg (after "site.yaml:"). */
static void expect_error(const char *text, const char *msg)
{
    hb_site s;
    hb_error err;
    int rc = parse(&s, text, &err);
    char want[600];
    snprintf(want, sizeof want, "site.yaml:%s", msg);
    CHECK_MSG(rc != 0 && err.code == HB_EINVAL && strcmp(err.msg, want) == 0,
              "'%s': rc=%d got '%s', want '%s'", text, rc, rc ? err.msg : "", want);
    CHECK(s.externals == NULL && s.virtuals == NULL && s.info == NULL && s.path == NULL);
    if (rc == 0)
        hb_site_free(&s);
}

static void test_errors(void)
{
    expect_error("externals:\n  - name: openmpi\n    version: 4.1.4\n    prefx: /usr\n",
                 "4:5: unknown key 'prefx' in external 'openmpi': expected name, version, build, "
                 "provides, prefix, found-by, module or info (free-form fields go under info)");
    expect_error("format: 1\nexternal:\n  - name: x\n",
                 "2:1: unknown key 'external' in the site file: expected format, info, virtual or "
                 "externals");
    expect_error("externals:\n  - name: openmpi\n    version: 4.1..4\n",
                 "3:14: external 'openmpi': invalid version '4.1..4': empty version component");
    expect_error("externals:\n  - version: 4.1.4\n    name: openmpi\n    prefix: [a]\n",
                 "4:13: 'prefix' of external 'openmpi' is a list: expected a text value");
    expect_error("externals:\n  - name: openmpi\n",
                 "2:5: external 'openmpi' has no version: expected 'version: <conda version>'");
    expect_error("externals:\n  - version: 1\n",
                 "2:5: externals entry 1 has no name: expected 'name: <conda package name>'");
    expect_error("externals:\n  - {name: OpenMPI, version: 1}\n",
                 "2:12: invalid name 'OpenMPI' of externals entry 1: expected a conda package name "
                 "(lowercase letters, digits, '_', '-', '.'; virtual packages go under 'virtual:')");
    expect_error("externals:\n  - {name: __cuda, version: 1}\n",
                 "2:12: invalid name '__cuda' of externals entry 1: expected a conda package name "
                 "(lowercase letters, digits, '_', '-', '.'; virtual packages go under 'virtual:')");
    expect_error("externals:\n  - {name: a, version: 1}\n  - {name: a, version: 2}\n",
                 "3:5: duplicate external 'a' (first at line 2): expected one per name");
    expect_error("externals:\n  - {name: a, version: 1, version: 2}\n",
                 "2:27: duplicate key 'version' in external 'a' (first at line 2): expected each "
                 "key once");
    expect_error("externals:\n  - {name: a, version: 1, build: 'ext site'}\n",
                 "2:34: invalid build 'ext site' of external 'a': expected letters, digits, '_', "
                 "'.' or '+'");
    expect_error("externals:\n  - {name: a, version: 1, provides: [mpi]}\n",
                 "2:38: provides of external 'a': invalid DepURL 'mpi' at position 0: expected "
                 "the scheme 'dep:': expected a DepURL such as "
                 "dep:virtual/interface/mpi");
    expect_error("externals:\n  - {name: a, version: 1, provides: ['dep:generic/a@1.0']}\n",
                 "2:38: provides of external 'a': 'dep:generic/a@1.0' has a version: expected a "
                 "DepURL without one (the external's version is its version)");
    expect_error("externals:\n  - {name: a, version: 1, provides: [dep:generic/a, 'pkg:generic/a']}\n",
                 "2:53: provides of external 'a': duplicate 'dep:generic/a': expected each "
                 "capability once");
    expect_error("externals:\n  - {name: a, version: 1, provides: dep:generic/a}\n",
                 "2:37: provides of external 'a' is a text value: expected a list");
    expect_error("externals:\n  - {name: a, version: 1, info: {k: {x: 1}}}\n",
                 "2:37: info 'k' of external 'a' is a mapping: expected a text value or a list of "
                 "them");
    expect_error("externals: {name: a}\n", "1:12: externals is a mapping: expected a list");
    expect_error("- a\n", "1:1: the site file is a list: expected a mapping");
    expect_error("format: 2\n", "1:9: unsupported format '2': expected 1");
    expect_error("virtual:\n  cuda: '12.4'\n",
                 "2:3: invalid virtual package name 'cuda': expected __ and a lowercase name such as "
                 "__cuda (externals go under 'externals:')");
    expect_error("virtual:\n  __cuda: 12..4\n",
                 "2:11: virtual package '__cuda': invalid version '12..4': empty version component");
    expect_error("virtual:\n  __cuda: {version: 12.4, bild: x}\n",
                 "2:27: unknown key 'bild' in virtual package '__cuda': expected version, build or "
                 "found-by");
    expect_error("virtual:\n  __cuda: {build: x}\n",
                 "2:11: virtual package '__cuda' has no version: expected 'version: ...' (\"\" "
                 "removes it)");
    expect_error("virtual:\n  __cuda: [1]\n",
                 "2:11: virtual package '__cuda' is a list: expected a version or a mapping with "
                 "version, build, found-by");
    expect_error("virtual:\n  __cuda: 1\n  __cuda: 2\n",
                 "3:3: duplicate key '__cuda' in virtual (first at line 2): expected each key once");
    expect_error("externals:\n  - name: a\n    version: 1\n   prefix: x\n",
                 "4:4: YAML syntax error: did not find expected '-' indicator while parsing a block "
                 "collection (started at line 2)");
    expect_error("externals: [\n", "2:1: YAML syntax error: did not find expected node content "
                 "while parsing a flow node (started at line 2)");
    expect_error("a: &x 1\nb: *x\n", "1:1: unknown key 'a' in the site file: expected format, "
                 "info, virtual or externals");
    expect_error("info: {a: &x v, b: *x}\n", "1:11: YAML aliases (*name) are not supported: "
                 "expected every value written out");
    expect_error("format: 1\n---\nformat: 1\n",
                 "3:1: a second YAML document: expected one site mapping");
    expect_error("info: {a: \"x\\0y\"}\n", "1:11: info 'a' of the site file contains a NUL "
                 "character: expected text");
}

static void test_load_and_pool(void)
{
    hb_site s;
    hb_error err;
    int rc = hb_site_load(&s, "/nonexistent/site.yaml", &err);
    CHECK(rc != 0 && err.code == HB_EIO);
    CHECK_STR(err.msg, "site file: cannot open '/nonexistent/site.yaml': No such file or directory");

    char path[] = "/tmp/hb-test-site-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK((size_t)write(fd, example, strlen(example)) == strlen(example));
    close(fd);
    rc = hb_site_load(&s, path, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    unlink(path);
    if (rc != 0)
        return;
    CHECK_STR(s.path, path);

    /* virtuals: detected < site */
    hb_virtuals vs = HB_VIRTUALS_INIT;
    hb_virtuals_detect(&vs, "linux-64");
    hb_site_apply_virtuals(&s, &vs);
    int seen = 0;
    for (size_t i = 0; i < vs.n; i++) {
        if (strcmp(vs.v[i].name, "__cuda") == 0 && strcmp(vs.v[i].version, "12.4") == 0)
            seen |= 1;
        if (strcmp(vs.v[i].name, "__archspec") == 0 && strcmp(vs.v[i].build, "x86_64_v3") == 0)
            seen |= 2;
        if (strcmp(vs.v[i].name, "__glibc") == 0 && strcmp(vs.v[i].version, "2.36") == 0)
            seen |= 4;
    }
    CHECK_INT(seen, 7);

    /* externals in the pool: they satisfy a name+version request and a DepURL */
    hb_pool *pool = hb_pool_new();
    for (size_t i = 0; i < vs.n; i++)
        CHECK(hb_pool_add_virtual(pool, vs.v[i].name, vs.v[i].version, vs.v[i].build, &err) == 0);
    CHECK_MSG(hb_site_add_externals(&s, pool, &err) == 0, "%s", err.msg);
    const char *specs[] = {"openmpi >=4.1,<5", "dep:virtual/interface/lapack", "__cuda >=12"};
    hb_solve_result res = {0};
    rc = hb_pool_solve(pool, specs, 3, &res, &err);
    CHECK_MSG(rc == 0 && res.ok, "%s", rc ? err.msg : res.nproblems ? res.problems[0] : "");
    if (rc == 0 && res.ok) {
        int found = 0;
        for (size_t i = 0; i < res.npicks; i++) {
            const conda_record *r = res.picks[i].rec;
            CHECK(res.picks[i].site);
            CHECK_STR(r->channel, "@site");
            if (strcmp(r->name, "openmpi") == 0 && strcmp(r->build, "external_site") == 0)
                found |= 1;
            if (strcmp(r->name, "openblas") == 0 && strcmp(r->version, "0.3.21") == 0)
                found |= 2;
            if (strcmp(r->name, "__cuda") == 0)
                found |= 4;
        }
        CHECK_INT(found, 7);
    }
    hb_solve_result_free(&res);
    const char *too_new[] = {"openmpi >=5"};
    rc = hb_pool_solve(pool, too_new, 1, &res, &err);
    CHECK(rc == 0 && !res.ok && res.nproblems >= 1 && strstr(res.problems[0], "openmpi 4.1.4"));
    hb_solve_result_free(&res);
    hb_pool_free(pool);
    hb_virtuals_free(&vs);
    hb_site_free(&s);
}

int main(void)
{
    test_example();
    test_defaults_and_forms();
    test_errors();
    test_load_and_pool();
    return check_finish();
}
