/* hpcbuild version sort|compare and hpcbuild spec contains|filter, for both
 * ecosystems.  The two version orders sit behind one small table so the
 * commands are written once. */
#include "cli.h"
#include "args.h"

#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/conda_version.h"
#include "hpcbuild/pep440.h"

/* One ecosystem's version order, seen through opaque pointers. */
typedef struct ecosystem {
    const char *name;
    size_t size;   /* sizeof the version struct */
    int (*parse)(void *v, const char *s, size_t len, hb_error *err);
    void (*release)(void *v);
    int (*compare)(const void *a, const void *b);
} ecosystem;

static int pypi_parse(void *v, const char *s, size_t len, hb_error *err)
{
    return pep440_version_parse(v, s, len, err);
}
static void pypi_release(void *v) { pep440_version_free(v); }
static int pypi_compare(const void *a, const void *b) { return pep440_version_compare(a, b); }
static int conda_parse(void *v, const char *s, size_t len, hb_error *err)
{
    return conda_version_parse(v, s, len, err);
}
static void conda_release(void *v) { conda_version_free(v); }
static int conda_compare(const void *a, const void *b) { return conda_version_compare(a, b); }

static const ecosystem ecosystems[] = {
    {"pypi", sizeof(pep440_version), pypi_parse, pypi_release, pypi_compare},
    {"conda", sizeof(conda_version), conda_parse, conda_release, conda_compare},
};

/* Common options: --ecosystem NAME, --pre, --no-pre; the rest stay positional. */
typedef struct options {
    const ecosystem *eco;
    int prereleases;
    char **pos;
    int npos;
} options;

static int parse_options(int argc, char **argv, int first, options *o)
{
    o->eco = NULL;
    o->prereleases = PEP440_PRE_UNSET;
    o->pos = hb_calloc((size_t)argc + 1, sizeof *o->pos);
    o->npos = 0;
    bool only_pos = false;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = true;
        } else if (!only_pos && (strcmp(a, "--ecosystem") == 0 || strncmp(a, "--ecosystem=", 12) == 0)) {
            const char *name = a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : NULL);
            if (!name)
                return cli_fail(CLI_USAGE, "--ecosystem needs a value: pypi or conda");
            for (size_t k = 0; k < sizeof ecosystems / sizeof *ecosystems; k++)
                if (strcmp(name, ecosystems[k].name) == 0)
                    o->eco = &ecosystems[k];
            if (!o->eco)
                return cli_fail(CLI_USAGE, "unknown ecosystem '%s': expected pypi or conda", name);
        } else if (!only_pos && strcmp(a, "--pre") == 0) {
            o->prereleases = PEP440_PRE_ALLOW;
        } else if (!only_pos && strcmp(a, "--no-pre") == 0) {
            o->prereleases = PEP440_PRE_DENY;
        } else if (!only_pos && a[0] == '-' && a[1] == '-') {
            return cli_fail(CLI_USAGE, "unknown option '%s'", a);
        } else {
            o->pos[o->npos++] = argv[i];
        }
    }
    if (!o->eco)
        return cli_fail(CLI_USAGE, "--ecosystem pypi|conda is required");
    return 0;
}

/* --- version sort / compare --- */

typedef struct sort_item {
    const char *text;
    size_t index;     /* input position, for a stable sort */
    void *version;
} sort_item;

static const ecosystem *sort_eco;   /* qsort has no context argument */

static int sort_item_cmp(const void *pa, const void *pb)
{
    const sort_item *a = pa, *b = pb;
    int c = sort_eco->compare(a->version, b->version);
    if (c)
        return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

static int version_sort(const options *o)
{
    size_t n;
    char **lines = cli_read_lines(stdin, &n);
    sort_item *items = hb_calloc(n ? n : 1, sizeof *items);
    char *store = hb_calloc(n ? n : 1, o->eco->size);
    size_t count = 0;
    int status = CLI_OK;
    for (size_t i = 0; i < n; i++) {
        if (lines[i][strspn(lines[i], " \t")] == '\0')
            continue;   /* blank lines carry no version */
        void *v = store + count * o->eco->size;
        hb_error err;
        if (o->eco->parse(v, lines[i], strlen(lines[i]), &err) != 0) {
            status = cli_fail(CLI_USAGE, "stdin line %zu: %s", i + 1, err.msg);
            break;
        }
        items[count] = (sort_item){lines[i], count, v};
        count++;
    }
    if (status == CLI_OK) {
        sort_eco = o->eco;
        qsort(items, count, sizeof *items, sort_item_cmp);
        for (size_t i = 0; i < count; i++)
            puts(items[i].text);
    }
    for (size_t i = 0; i < count; i++)
        o->eco->release(store + i * o->eco->size);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    free(items);
    free(store);
    return status;
}

static int version_compare(const options *o)
{
    if (o->npos != 2)
        return cli_fail(CLI_USAGE, "version compare needs two versions, A and B");
    void *a = hb_calloc(1, o->eco->size), *b = hb_calloc(1, o->eco->size);
    hb_error err;
    int status = CLI_OK;
    if (o->eco->parse(a, o->pos[0], strlen(o->pos[0]), &err) != 0) {
        status = cli_fail_error(&err);
        free(a);
        free(b);
        return status;
    }
    if (o->eco->parse(b, o->pos[1], strlen(o->pos[1]), &err) != 0) {
        status = cli_fail_error(&err);
    } else {
        int c = o->eco->compare(a, b);
        puts(c < 0 ? "<" : c > 0 ? ">" : "=");
        o->eco->release(b);
    }
    o->eco->release(a);
    free(a);
    free(b);
    return status;
}

static const char version_help[] =
    "usage: hpcbuild version sort --ecosystem pypi|conda     < versions\n"
    "       hpcbuild version compare --ecosystem pypi|conda A B\n\n"
    "sort     reads one version a line on stdin and prints them in ascending order\n"
    "         (stable: equal versions keep their input order; blank lines are skipped)\n"
    "compare  prints <, = or > for A against B\n\n"
    "pypi orders by PEP 440 (1.0.dev0 < 1.0a1 < 1.0 < 1.0+local < 1.0.post1);\n"
    "conda by conda's VersionOrder (1.0dev0 < 1.0a1 < 1.0 == 1.0.0 < 1.0post1).\n"
    "An invalid version exits with status 2 and names the input and position.\n";

int cmd_version(int argc, char **argv)
{
    static const char *const subs[] = {"sort", "compare", NULL};
    int status;
    if (!cli_subcommand(argc, argv, version_help, "version", subs, "sort or compare", &status))
        return status;
    options o;
    status = parse_options(argc, argv, 2, &o);
    if (status == 0) {
        if (strcmp(argv[1], "sort") == 0)
            status = o.npos ? cli_fail(CLI_USAGE, "version sort reads versions on stdin, not arguments")
                            : version_sort(&o);
        else
            status = version_compare(&o);
    }
    free(o.pos);
    return status;
}

/* --- spec contains / filter --- */

static int spec_contains_pypi(const options *o)
{
    hb_error err;
    pep440_specset set;
    if (pep440_specset_parse(&set, o->pos[0], strlen(o->pos[0]), &err) != 0)
        return cli_fail_error(&err);
    for (int i = 1; i < o->npos; i++) {
        bool in = pep440_specset_contains(&set, o->pos[i], strlen(o->pos[i]), o->prereleases, false);
        printf("%s\t%s\n", o->pos[i], in ? "true" : "false");
    }
    pep440_specset_free(&set);
    return CLI_OK;
}

static int spec_contains_conda(const options *o)
{
    hb_error err;
    conda_versionspec *vs = conda_versionspec_parse(o->pos[0], strlen(o->pos[0]), &err);
    if (!vs)
        return cli_fail_error(&err);
    int status = CLI_OK;
    for (int i = 1; i < o->npos && status == CLI_OK; i++) {
        bool in;
        if (conda_versionspec_contains(vs, o->pos[i], strlen(o->pos[i]), &in, &err) != 0)
            status = cli_fail_error(&err);
        else
            printf("%s\t%s\n", o->pos[i], in ? "true" : "false");
    }
    conda_versionspec_free(vs);
    return status;
}

static int spec_filter_pypi(const options *o)
{
    hb_error err;
    pep440_specset set;
    if (pep440_specset_parse(&set, o->pos[0], strlen(o->pos[0]), &err) != 0)
        return cli_fail_error(&err);
    size_t n;
    char **lines = cli_read_lines(stdin, &n);
    size_t *lens = hb_calloc(n ? n : 1, sizeof *lens);
    size_t *keep = hb_calloc(n ? n : 1, sizeof *keep);
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(lines[i]);
    size_t kept = pep440_specset_filter(&set, (const char *const *)lines, lens, n, o->prereleases, keep);
    for (size_t i = 0; i < kept; i++)
        puts(lines[keep[i]]);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    free(lens);
    free(keep);
    pep440_specset_free(&set);
    return CLI_OK;
}

static const char spec_help[] =
    "usage: hpcbuild spec contains --ecosystem pypi [--pre|--no-pre] SPECSET V...\n"
    "       hpcbuild spec filter --ecosystem pypi [--pre|--no-pre] SPECSET   < versions\n"
    "       hpcbuild spec contains --ecosystem conda VERSIONSPEC V...\n\n"
    "contains  prints \"V<TAB>true|false\" for each V.  pypi: packaging's\n"
    "          SpecifierSet(SPECSET).contains(V) (26.x rules: a single matching\n"
    "          pre-release is accepted unless --no-pre); an invalid V is false\n"
    "          unless SPECSET is empty or uses ===.\n"
    "          conda: VersionSpec(VERSIONSPEC).match(V); an invalid V is an error.\n"
    "filter    prints the versions on stdin that SpecifierSet.filter keeps, in order:\n"
    "          pre-releases only when asked (--pre), named by the set, or when no\n"
    "          final release matches.\n"
    "Examples: hpcbuild spec contains --ecosystem pypi '~=1.4.5a4,!=1.4.7' 1.4.6 1.5\n"
    "          hpcbuild spec contains --ecosystem conda '>=1.2,<2|3.*' 1.8 2.0 3.1\n";

int cmd_spec(int argc, char **argv)
{
    static const char *const subs[] = {"contains", "filter", NULL};
    int status;
    if (!cli_subcommand(argc, argv, spec_help, "spec", subs, "contains or filter", &status))
        return status;
    options o;
    status = parse_options(argc, argv, 2, &o);
    if (status == 0) {
        bool pypi = strcmp(o.eco->name, "pypi") == 0;
        if (o.npos < 1)
            status = cli_fail(CLI_USAGE, "spec %s needs a specifier", argv[1]);
        else if (strcmp(argv[1], "contains") == 0)
            status = pypi ? spec_contains_pypi(&o) : spec_contains_conda(&o);
        else if (!pypi)
            status = cli_fail(CLI_USAGE, "spec filter is defined for --ecosystem pypi only");
        else if (o.npos != 1)
            status = cli_fail(CLI_USAGE, "spec filter reads versions on stdin, not arguments");
        else
            status = spec_filter_pypi(&o);
    }
    free(o.pos);
    return status;
}
