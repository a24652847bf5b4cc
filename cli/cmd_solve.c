/* hpcbuild solve: one libsolv solve over conda channels (conda-forge by default), this
 * machine's virtual packages and the site's externals (site.yaml); prints what would be
 * installed, or why nothing can be. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/channel.h"
#include "hpcbuild/conda_version.h"
#include "hpcbuild/depurl.h"
#include "hpcbuild/fetch_cache.h"
#include "hpcbuild/http.h"
#include "hpcbuild/json.h"
#include "hpcbuild/matchspec.h"
#include "hpcbuild/pep508.h"
#include "hpcbuild/pool.h"
#include "hpcbuild/pool_pypi.h"
#include "hpcbuild/pyname.h"
#include "hpcbuild/pypi_source.h"
#include "hpcbuild/site.h"
#include "solve.h"
#include "solve_pypi.h"

#define DEFAULT_CHANNEL "https://conda.anaconda.org/conda-forge"
#define DEFAULT_SITE_FILE "/etc/hpcbuild/site.yaml"

static const char solve_help[] =
    "usage: hpcbuild solve [-c CHANNEL]... [--override-channels] [--platform SUBDIR]\n"
    "                      [--site FILE|none] [--virtual NAME=VERSION[=BUILD]]...\n"
    "                      [--channel-priority MODE] [--index URL]... [--find-links PATH]...\n"
    "                      [--python PATH] [--no-binary NAME|:all:] [--only-binary NAME|:all:]\n"
    "                      [--index-strategy first|unsafe-best-match] [--prefer-binary]\n"
    "                      [--prefer conda|wheel] [--pre] [--ignore-installed] [--stats]\n"
    "                      [--json] SPEC...\n\n"
    "Solves \"install all of SPEC\" (conda MatchSpecs, or DepURLs such as\n"
    "dep:virtual/interface/mpi that site externals provide) over the channels given with -c, in\n"
    "priority order (the first is the highest), and prints one line per package to install:\n"
    "`name version build channel`, sorted by name.  A channel is a local directory or a\n"
    "file:// or http(s):// URL holding <platform>/repodata.json and/or noarch/repodata.json\n"
    "(.zst preferred).  Remote repodata are cached under $HPCBUILD_CACHE (default\n"
    "~/.cache/hpcbuild) and revalidated with conditional requests.  Without -c the channel\n"
    "is $HPCBUILD_DEFAULT_CHANNEL, else " DEFAULT_CHANNEL ".\n\n"
    "  -c, --channel CHANNEL      add a channel (repeatable; replaces the default channel)\n"
    "  --override-channels        use only the channels given with -c (then -c is required)\n"
    "  --platform SUBDIR          the target subdir (default: this machine's, e.g. linux-64)\n"
    "  --virtual NAME=VERSION     set a virtual package (e.g. __cuda=12.4, __glibc=2.17,\n"
    "                             __archspec=1=zen3); NAME= removes it.  Detected: __unix,\n"
    "                             __linux, __glibc, __archspec (never __cuda)\n"
    "  --site FILE                the site externals file (docs/site.md): the site's MPI,\n"
    "                             BLAS, CUDA... as installed packages, and virtual package\n"
    "                             values.  Default: $HPCBUILD_SITE, else " DEFAULT_SITE_FILE "\n"
    "                             when it exists; `none` uses no site file.  Precedence:\n"
    "                             detected virtuals < site file < --virtual\n"
    "  --channel-priority MODE    strict (default), flexible or disabled\n\n"
    "Python packages (docs/solve-pypi.md): a SPEC `pypi::REQ` is a PEP 508 requirement\n"
    "(`pypi::mpi4py>=4`, `pypi::requests[socks]`), `conda::SPEC` a MatchSpec; a bare SPEC\n"
    "valid in both may come from either (--prefer decides).  A conda package that installs\n"
    "the same distribution satisfies a wheel's requirement, and the two are never both chosen.\n"
    "  --index URL                a PEP 503/691 simple index (repeatable, in priority order:\n"
    "                             the first index that has a name is the only one used for it)\n"
    "  --find-links PATH          a directory of wheels/sdists, or an HTML page of links\n"
    "  --python PATH              the target interpreter (markers, wheel tags, Requires-Python,\n"
    "                             its installed distributions): default $HPCBUILD_PYTHON, else\n"
    "                             python3 on PATH\n"
    "  --no-binary NAME|:all:     never use wheels for NAME (comma-separated, repeatable)\n"
    "  --only-binary NAME|:all:   never use sdists for NAME\n"
    "  --index-strategy S         first (default) or unsafe-best-match (merge every index)\n"
    "  --prefer-binary            any wheel over a newer sdist\n"
    "  --prefer conda|wheel       which ecosystem a bare SPEC prefers (default conda)\n"
    "  --pre                      allow pre-releases everywhere\n"
    "  --ignore-installed         the target Python's installed distributions do not count\n"
    "  --stats                    print request and round counts (JSON) on stderr\n"
    "  --json                     {\"success\":true,\"packages\":[...]} or\n"
    "                             {\"success\":false,\"problems\":[...]} on one line\n\n"
    "Site externals the answer uses are listed with channel @site (they are not installed:\n"
    "they are already there); with --json their origin is \"site\".\n\n"
    "Exit status: 0 solved, 1 unsatisfiable (the explanation names the packages and\n"
    "constraints) or unreadable repodata, 2 invalid spec, option, channel or site file.\n"
    "Example: hpcbuild solve -c ./my-channel --site site.yaml --virtual __glibc=2.17 mpi4py\n";


/* Adds each comma-separated name of v to a --no-binary / --only-binary list (normalized). */
static int add_name_list(const char ***list, size_t *n, const char *v, const char *opt, char ***owned,
                         size_t *nowned)
{
    if (!*v)
        return cli_fail(CLI_USAGE, "%s needs NAME[,NAME...] or :all:", opt);
    for (const char *p = v; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len) {
            char *name = len == 5 && strncmp(p, ":all:", 5) == 0 ? hb_strdup(":all:")
                         : len == 6 && strncmp(p, ":none:", 6) == 0 ? NULL
                                                                    : pyname_canonicalize(p, len);
            if (!name) {
                *n = 0;   /* :none: clears the list, as pip does */
            } else {
                *owned = hb_reallocarray(*owned, *nowned + 1, sizeof **owned);
                (*owned)[(*nowned)++] = name;
                *list = hb_reallocarray(*list, *n + 1, sizeof **list);
                (*list)[(*n)++] = name;
            }
        }
        p += len + (comma ? 1 : 0);
    }
    return CLI_OK;
}

/* The value of option argv[*i] (`--opt VALUE` or `--opt=VALUE`); NULL when missing. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) == 0 && a[n] == '=')
        return a + n + 1;
    if (*i + 1 < argc)
        return argv[++*i];
    return NULL;
}

static bool is_option(const char *a, const char *name)
{
    size_t n = strlen(name);
    return strncmp(a, name, n) == 0 && (a[n] == '\0' || (a[n] == '=' && name[1] == '-'));
}

static int parse_virtual(solve_options *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return cli_fail(CLI_USAGE, "invalid --virtual '%s': expected NAME=VERSION (NAME= removes it)",
                        arg);
    char *name = hb_strndup(arg, (size_t)(eq - arg));
    const char *rest = eq + 1;
    const char *eq2 = strchr(rest, '=');
    char *version = eq2 ? hb_strndup(rest, (size_t)(eq2 - rest)) : hb_strdup(rest);
    const char *build = eq2 ? eq2 + 1 : NULL;
    int status = CLI_OK;
    if (strchr(name, ' ') || (build && (!*version || strchr(build, '='))))
        status = cli_fail(CLI_USAGE, "invalid --virtual '%s': expected NAME=VERSION[=BUILD]", arg);
    else if (*version) {
        hb_error err;
        conda_version v;
        if (conda_version_parse(&v, version, strlen(version), &err) != 0)
            status = cli_fail(CLI_USAGE, "invalid --virtual '%s': %s", arg, err.msg);
        else
            conda_version_free(&v);
    }
    if (status == CLI_OK) {
        /* Kept in order, including removals: applied after detection. */
        if (o->overrides.n == o->overrides.cap) {
            o->overrides.cap = o->overrides.cap ? 2 * o->overrides.cap : 8;
            o->overrides.v = hb_reallocarray(o->overrides.v, o->overrides.cap, sizeof *o->overrides.v);
        }
        o->overrides.v[o->overrides.n++] =
            (hb_virtual){hb_strdup(name), hb_strdup(version), build ? hb_strdup(build) : NULL};
    }
    free(name);
    free(version);
    return status;
}

int solve_parse_option(int argc, char **argv, int *ip, solve_options *o, bool *used)
{
    int i = *ip;
    const char *a = argv[i];
    const char *v;
    *used = true;
    {
        if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--override-channels") == 0) {
            o->override_channels = true;   /* no configuration file yet: only -c counts */
        } else if (is_option(a, "-c") || is_option(a, "--channel")) {
            if (!(v = option_value(argc, argv, &i, a[1] == 'c' ? "-c" : "--channel")))
                return cli_fail(CLI_USAGE, "%s needs a CHANNEL (a directory or URL)", a);
            o->channels[o->nchannels++] = v;
        } else if (strncmp(a, "-c", 2) == 0 && a[1] == 'c') {
            o->channels[o->nchannels++] = a + 2;   /* -cCHANNEL */
        } else if (is_option(a, "--platform")) {
            if (!(v = option_value(argc, argv, &i, "--platform")) || !*v)
                return cli_fail(CLI_USAGE, "--platform needs a SUBDIR such as linux-64");
            if (strchr(v, '/') || strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
                return cli_fail(CLI_USAGE, "invalid --platform '%s': expected a subdir such as linux-64", v);
            o->platform = v;
        } else if (is_option(a, "--site")) {
            if (!(v = option_value(argc, argv, &i, "--site")) || !*v)
                return cli_fail(CLI_USAGE, "--site needs a FILE (a site.yaml) or none");
            o->site = v;
        } else if (is_option(a, "--virtual")) {
            if (!(v = option_value(argc, argv, &i, "--virtual")))
                return cli_fail(CLI_USAGE, "--virtual needs NAME=VERSION");
            int rc = parse_virtual(o, v);
            if (rc)
                return rc;
        } else if (is_option(a, "--channel-priority")) {
            hb_error err;
            if (!(v = option_value(argc, argv, &i, "--channel-priority")))
                return cli_fail(CLI_USAGE, "--channel-priority needs strict, flexible or disabled");
            if (hb_channel_priority_parse(v, &o->priority, &err) != 0)
                return cli_fail(CLI_USAGE, "%s", err.msg);
        } else if (is_option(a, "--index") || is_option(a, "--index-url") || is_option(a, "-i")) {
            const char *opt = is_option(a, "-i") ? "-i" : is_option(a, "--index-url") ? "--index-url" : "--index";
            if (!(v = option_value(argc, argv, &i, opt)) || !*v)
                return cli_fail(CLI_USAGE, "%s needs an index URL", opt);
            o->py.indices[o->py.nindices++] = v;
            o->pypi = true;
        } else if (is_option(a, "--find-links") || is_option(a, "-f")) {
            if (!(v = option_value(argc, argv, &i, a[1] == 'f' ? "-f" : "--find-links")) || !*v)
                return cli_fail(CLI_USAGE, "%s needs a directory or a page URL", a);
            o->py.find_links[o->py.nfind_links++] = v;
            o->pypi = true;
        } else if (is_option(a, "--python")) {
            if (!(v = option_value(argc, argv, &i, "--python")) || !*v)
                return cli_fail(CLI_USAGE, "--python needs an interpreter path");
            o->py.python = v;
        } else if (is_option(a, "--no-binary") || is_option(a, "--only-binary")) {
            bool no = strncmp(a, "--no-", 5) == 0;
            const char *opt = no ? "--no-binary" : "--only-binary";
            if (!(v = option_value(argc, argv, &i, opt)))
                return cli_fail(CLI_USAGE, "%s needs NAME[,NAME...] or :all:", opt);
            int rc = no ? add_name_list(&o->py.no_binary, &o->py.nno_binary, v, opt, &o->owned, &o->nowned)
                        : add_name_list(&o->py.only_binary, &o->py.nonly_binary, v, opt, &o->owned, &o->nowned);
            if (rc)
                return rc;
        } else if (is_option(a, "--index-strategy")) {
            if (!(v = option_value(argc, argv, &i, "--index-strategy")))
                return cli_fail(CLI_USAGE, "--index-strategy needs first or unsafe-best-match");
            if (strcmp(v, "unsafe-best-match") == 0)
                o->py.unsafe_best_match = true;
            else if (strcmp(v, "first") == 0 || strcmp(v, "first-index") == 0)
                o->py.unsafe_best_match = false;
            else
                return cli_fail(CLI_USAGE, "invalid --index-strategy '%s': expected first or unsafe-best-match", v);
        } else if (strcmp(a, "--prefer-binary") == 0) {
            o->py.prefer_binary = true;
        } else if (strcmp(a, "--pre") == 0) {
            o->py.pre = true;
        } else if (strcmp(a, "--ignore-installed") == 0) {
            o->py.ignore_installed = true;
        } else if (strcmp(a, "--stats") == 0) {
            o->stats = true;
        } else if (is_option(a, "--prefer")) {
            if (!(v = option_value(argc, argv, &i, "--prefer")))
                return cli_fail(CLI_USAGE, "--prefer needs conda or wheel");
            if (strcmp(v, "conda") == 0)
                o->py.prefer = HB_PREFER_CONDA;
            else if (strcmp(v, "wheel") == 0 || strcmp(v, "pypi") == 0)
                o->py.prefer = HB_PREFER_PYPI;
            else
                return cli_fail(CLI_USAGE, "invalid --prefer '%s': expected conda or wheel", v);
        } else {
            *used = false;
        }
    }
    *ip = i;
    return CLI_OK;
}

static int parse_args(int argc, char **argv, solve_options *o, bool *help)
{
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool used;
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            o->specs[o->nspecs++] = a;
        } else if (strcmp(a, "--") == 0) {
            only_pos = true;
        } else if (cli_is_help(a)) {
            *help = true;
            return CLI_OK;
        } else {
            int rc = solve_parse_option(argc, argv, &i, o, &used);
            if (rc != CLI_OK)
                return rc;
            if (!used)
                return cli_fail(CLI_USAGE, "unknown option '%s' (see hpcbuild solve --help)", a);
        }
    }
    return CLI_OK;
}

static void put_list(hb_json_writer *w, const char *key, char **l)
{
    hb_json_key(w, key);
    hb_json_string_list(w, l);
}

/* A PyPI pick: origin wheel|sdist, file, URL, hashes, its requirements and DepURLs; an sdist
 * is built from source ("build": true; "dynamic": its dependencies are known after a build). */
static void put_dist_json(hb_json_writer *w, const hb_pypi_dist *d)
{
    hb_json_begin_object(w);
    hb_json_member(w, "name", d->name);
    hb_json_member(w, "version", d->version);
    hb_json_member(w, "origin", d->wheel ? "wheel" : "sdist");
    hb_json_member(w, "filename", d->filename);
    hb_json_member(w, "url", d->url);
    hb_json_member(w, "index", d->index);
    hb_json_key(w, "hashes");
    hb_json_begin_object(w);
    if (d->sha256) {
        hb_json_key(w, "sha256");
        hb_json_string(w, d->sha256);
    }
    hb_json_end_object(w);
    put_list(w, "requires_dist", d->requires_dist);
    put_list(w, "external", d->external);
    if (d->requires_python)
        hb_json_member(w, "requires_python", d->requires_python);
    if (d->yanked) {
        hb_json_key(w, "yanked");
        hb_json_string_or_null(w, d->yanked_reason ? d->yanked_reason : "");
    }
    hb_json_key(w, "build");
    hb_json_bool(w, !d->wheel);
    if (!d->wheel) {
        hb_json_key(w, "dynamic");
        hb_json_bool(w, d->needs_build);
    }
    hb_json_end_object(w);
}

static void print_stats(const hb_pypi_stats *st)
{
    fprintf(stderr,
            "{\"rounds\":%zu,\"names\":%zu,\"page_requests\":%zu,\"files\":%zu,\"metadata\":%zu,"
            "\"metadata_requests\":%zu,\"metadata_cached\":%zu}\n",
            st->rounds, st->names, st->page_requests, st->files, st->metadata, st->metadata_requests,
            st->metadata_cached);
}

static void print_json(const hb_solve_result *res)
{
    strbuf out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 0);
    hb_json_begin_object(&w);
    hb_json_key(&w, "success");
    hb_json_bool(&w, res->ok);
    if (res->ok) {
        hb_json_key(&w, "packages");
        hb_json_begin_array(&w);
        for (size_t i = 0; i < res->npicks; i++) {
            const conda_record *r = res->picks[i].rec;
            if (res->picks[i].dist) {
                put_dist_json(&w, res->picks[i].dist);
                continue;
            }
            hb_json_begin_object(&w);
            hb_json_member(&w, "name", r->name);
            hb_json_member(&w, "version", r->version);
            hb_json_member(&w, "build", r->build ? r->build : "");
            hb_json_key(&w, "build_number");
            hb_json_int64(&w, r->build_number);
            hb_json_member(&w, "channel", r->channel);
            hb_json_member(&w, "subdir", r->subdir);
            hb_json_member(&w, "fn", r->fn);
            hb_json_member(&w, "url", r->url);
            hb_json_member(&w, "sha256", r->sha256);
            hb_json_member(&w, "md5", r->md5);
            put_list(&w, "depends", r->depends);
            hb_json_member(&w, "origin", res->picks[i].site ? "site" : "conda");
            if (res->picks[i].site && r->build && strcmp(r->build, "python") == 0)
                hb_json_member(&w, "kind", "python-distribution");
            hb_json_end_object(&w);
        }
        hb_json_end_array(&w);
    } else {
        hb_json_key(&w, "problems");
        hb_json_begin_array(&w);
        for (size_t i = 0; i < res->nproblems; i++)
            hb_json_string(&w, res->problems[i]);
        hb_json_end_array(&w);
    }
    hb_json_end_object(&w);
    puts(strbuf_str(&out));
    strbuf_free(&out);
}

static void print_text(const hb_solve_result *res)
{
    if (res->ok) {
        for (size_t i = 0; i < res->npicks; i++) {
            const conda_record *r = res->picks[i].rec;
            /* virtual packages are not listed; site externals are, with channel @site */
            const hb_pypi_dist *d = res->picks[i].dist;
            if (d)
                printf("%s %s %s %s\n", d->name, d->version, d->wheel ? "wheel" : "sdist",
                       d->index ? d->index : "");
            else if (!res->picks[i].site || strncmp(r->name, "__", 2) != 0)
                printf("%s %s %s %s\n", r->name, r->version, r->build ? r->build : "",
                       r->channel ? r->channel : "");
        }
        return;
    }
    solve_print_problems(res);
}

void solve_print_problems(const hb_solve_result *res)
{
    fprintf(stderr, "hpcbuild: the request cannot be satisfied:\n");
    for (size_t i = 0; i < res->nproblems; i++) {
        /* a problem is one line, or a heading and "\n  - " lines: all indented by two */
        if (i > 0 && strchr(res->problems[i - 1], '\n'))
            fputc('\n', stderr);
        fputs("  ", stderr);
        for (const char *c = res->problems[i]; *c; c++) {
            fputc(*c, stderr);
            if (*c == '\n')
                fputs("  ", stderr);
        }
        fputc('\n', stderr);
    }
}

static const char *cli_getenv(const char *name)
{
    return getenv(name);
}

/* The site file to use: --site FILE, else $HPCBUILD_SITE (an error when missing), else
 * DEFAULT_SITE_FILE when it exists; NULL for none.  "none" disables either way. */
const char *solve_site_path(const solve_options *o)
{
    const char *path = o->site;
    if (!path) {
        const char *env = getenv("HPCBUILD_SITE");
        if (env && *env)
            path = env;
    }
    if (!path) {
        struct stat st;
        return stat(DEFAULT_SITE_FILE, &st) == 0 ? DEFAULT_SITE_FILE : NULL;
    }
    return strcmp(path, "none") == 0 ? NULL : path;
}

/* Checks every SPEC: a MatchSpec, or a DepURL capability (dep:, or the older pkg: /
 * virtual:) that site externals provide, which is replaced by its normalized dep: form
 * (kept in *owned, freed by the caller).  Capabilities match by their exact text, so a
 * version on one is refused. */
static int check_specs(solve_options *o, char **owned)
{
    hb_error err;
    for (size_t i = 0; i < o->nspecs; i++) {
        const char *spec = o->specs[i];
        if (strncmp(spec, "dep:", 4) == 0 || strncmp(spec, "pkg:", 4) == 0 ||
            strncmp(spec, "virtual:", 8) == 0) {
            depurl d;
            if (depurl_parse(&d, spec, strlen(spec), NULL, &err) != 0)
                return cli_fail(CLI_USAGE, "%s", err.msg);
            bool versioned = d.version != NULL;
            strbuf norm = STRBUF_INIT;
            depurl_format(&d, &norm);
            depurl_free(&d);
            owned[i] = strbuf_detach(&norm);
            if (versioned)
                return cli_fail(CLI_USAGE, "invalid request '%s': expected a DepURL without a "
                                "version (a capability is matched by name; ask for the package "
                                "instead, e.g. 'openmpi >=4.1')", spec);
            o->specs[i] = owned[i];
            continue;
        }
        if (strncmp(spec, "pypi::", 6) == 0) {
            pep508_requirement req;
            if (pep508_requirement_parse(&req, spec + 6, strlen(spec + 6), &err) != 0)
                return cli_fail(CLI_USAGE, "%s", err.msg);
            pep508_requirement_free(&req);
            continue;
        }
        const char *ms_text = strncmp(spec, "conda::", 7) == 0 ? spec + 7 : spec;
        matchspec *ms = matchspec_parse(ms_text, strlen(ms_text), &err);
        if (ms) {
            matchspec_free(ms);
            continue;
        }
        pep508_requirement req;
        hb_error perr;
        if (o->pypi && ms_text == spec && pep508_requirement_parse(&req, spec, strlen(spec), &perr) == 0) {
            pep508_requirement_free(&req);   /* a bare requirement only PyPI can read */
            continue;
        }
        return cli_fail(CLI_USAGE, "%s", err.msg);
    }
    return CLI_OK;
}

/* The specs the conda channels see: pypi:: ones dropped, conda:: stripped, bare ones that
 * are not MatchSpecs (`foo[extra]`) dropped. */
static size_t conda_specs(const solve_options *o, const char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < o->nspecs; i++) {
        const char *s = o->specs[i];
        if (strncmp(s, "pypi::", 6) == 0)
            continue;
        if (strncmp(s, "conda::", 7) == 0)
            s += 7;
        matchspec *ms = matchspec_parse(s, strlen(s), NULL);
        if (!ms && strncmp(s, "dep:", 4) != 0)
            continue;
        matchspec_free(ms);
        out[n++] = s;
    }
    return n;
}

/* Opens the session: the site file and virtual packages, the cache, the pool with the site,
 * the PyPI side and the conda channels loaded.  A CLI status (messages printed). */
int solve_session_open(solve_options *o, solve_session *s)
{
    memset(s, 0, sizeof *s);
    hb_error err;
    hb_channel_set init = HB_CHANNEL_SET_INIT;
    s->cs = init;
    const char *sitefile = solve_site_path(o);
    if (sitefile && hb_site_load(&s->site, sitefile, &err) != 0)
        return cli_fail(CLI_USAGE, "%s", err.msg);   /* missing or invalid: exit 2 either way */
    hb_virtuals vinit = HB_VIRTUALS_INIT;
    s->virt = vinit;
    hb_virtuals_detect(&s->virt, o->platform);
    hb_site_apply_virtuals(&s->site, &s->virt);
    /* detected < site file < CONDA_OVERRIDE_* < --virtual */
    if (hb_virtuals_apply_overrides(&s->virt, o->platform, cli_getenv, &err) != 0)
        return cli_fail(CLI_USAGE, "%s", err.msg);
    for (size_t i = 0; i < o->overrides.n; i++)
        hb_virtuals_set(&s->virt, o->overrides.v[i].name, o->overrides.v[i].version,
                        o->overrides.v[i].build);
    s->pool = hb_pool_new();
    hb_pool_set_channel_priority(s->pool, o->priority);
    /* The cache holds downloads and every channel's .solv files; local channels work
     * without one (only slower), remote ones need it. */
    bool remote = false;
    for (size_t i = 0; i < o->nchannels; i++)
        remote = remote || hb_channel_is_remote(o->channels[i]);
    for (size_t i = 0; i < o->py.nindices; i++)
        remote = remote || strncmp(o->py.indices[i], "http", 4) == 0;
    for (size_t i = 0; i < o->py.nfind_links; i++)
        remote = remote || strncmp(o->py.find_links[i], "http", 4) == 0;
    if (hb_http_global_init(&err) != 0)
        return cli_fail(CLI_FAILED, "%s", err.msg);
    s->http = true;
    if (remote) {
        if (hb_fetch_cache_open(&s->cache, NULL, &err) != 0)
            return cli_fail(CLI_FAILED, "%s", err.msg);
        s->have_cache = true;
    } else {
        hb_error cerr;
        s->have_cache = hb_fetch_cache_open(&s->cache, NULL, &cerr) == 0;
    }
    for (size_t i = 0; i < s->virt.n; i++)
        if (hb_pool_add_virtual(s->pool, s->virt.v[i].name, s->virt.v[i].version, s->virt.v[i].build, &err) != 0)
            return cli_fail(CLI_USAGE, "%s", err.msg);
    if (hb_site_add_externals(&s->site, s->pool, &err) != 0)
        return cli_fail(CLI_USAGE, "%s", err.msg);
    if (o->pypi && !(s->py = pypi_ctx_new(&o->py, s->pool, s->have_cache ? &s->cache : NULL, &err)))
        return cli_fail(CLI_USAGE, "%s", err.msg);
    /* One loader for all channels: sharded subdirs fetch only what the specs reach. */
    hb_channel_loader *loader = hb_channel_loader_new(o->platform, s->have_cache ? &s->cache : NULL);
    for (size_t i = 0; i < o->nchannels; i++)
        hb_channel_loader_add(loader, o->channels[i], (int)(o->nchannels - i));
    const char **cspecs = hb_calloc(o->nspecs + 1, sizeof *cspecs);
    size_t ncspecs = conda_specs(o, cspecs);
    int status = CLI_OK;
    if (o->nchannels && hb_channel_loader_load(loader, &s->cs, s->pool, cspecs, ncspecs, &err) != 0)
        status = cli_fail_error(&err);
    free(cspecs);
    hb_channel_loader_free(loader);
    return status;
}

int solve_session_solve(solve_options *o, solve_session *s, hb_solve_result *res)
{
    hb_error err;
    memset(res, 0, sizeof *res);
    int rc = s->py ? hb_pypi_solve(pypi_ctx_source(s->py), s->pool, o->specs, o->nspecs, res, &err)
                   : hb_pool_solve(s->pool, o->specs, o->nspecs, res, &err);
    if (s->py && o->stats)
        print_stats(hb_pypi_source_stats(pypi_ctx_source(s->py)));
    if (rc != 0)
        return cli_fail(err.code == HB_EINVAL ? CLI_USAGE : CLI_FAILED, "%s", err.msg);
    return res->ok ? CLI_OK : CLI_FAILED;
}

void solve_session_close(solve_session *s)
{
    hb_pool_free(s->pool);
    pypi_ctx_free(s->py);   /* after the pool: it owns the distributions the pool borrows */
    hb_channel_set_free(&s->cs);
    hb_virtuals_free(&s->virt);
    hb_site_free(&s->site);
    if (s->have_cache)
        hb_fetch_cache_close(&s->cache);
    if (s->http)
        hb_http_global_cleanup();
    memset(s, 0, sizeof *s);
}

static int run_solve(solve_options *o)
{
    solve_session s;
    int status = solve_session_open(o, &s);
    hb_solve_result res = {0};
    if (status == CLI_OK) {
        status = solve_session_solve(o, &s, &res);
        if (status == CLI_OK || (status == CLI_FAILED && res.problems)) {
            if (o->json)
                print_json(&res);
            else
                print_text(&res);
            /* the answer first; then the .solv caches of what was parsed, for next time */
            fflush(stdout);
            hb_channel_set_save_caches(&s.cs, s.pool, NULL);
        }
    }
    hb_solve_result_free(&res);
    solve_session_close(&s);
    return status;
}

void solve_options_init(solve_options *o, int argc)
{
    memset(o, 0, sizeof *o);
    o->channels = hb_calloc((size_t)argc + 1, sizeof *o->channels);
    o->specs = hb_calloc((size_t)argc + 1, sizeof *o->specs);
    o->py.indices = hb_calloc((size_t)argc + 1, sizeof *o->py.indices);
    o->py.find_links = hb_calloc((size_t)argc + 1, sizeof *o->py.find_links);
    o->priority = HB_CHANNEL_PRIORITY_STRICT;
}

int solve_options_finish(solve_options *o)
{
    if (o->nchannels == 0 && o->override_channels)
        return cli_fail(CLI_USAGE, "--override-channels needs at least one -c CHANNEL");
    for (size_t i = 0; i < o->nspecs; i++)
        o->pypi = o->pypi || strncmp(o->specs[i], "pypi::", 6) == 0;
    if (o->nchannels == 0 && !o->pypi) {
        const char *def = getenv("HPCBUILD_DEFAULT_CHANNEL");
        o->channels[o->nchannels++] = def && *def ? def : DEFAULT_CHANNEL;
    }
    if (!o->platform)
        o->platform = hb_platform_native();
    if (!o->platform)
        return cli_fail(CLI_USAGE, "cannot tell this machine's platform: give --platform SUBDIR");
    o->spec_owned = hb_calloc(o->nspecs + 1, sizeof *o->spec_owned);
    return check_specs(o, o->spec_owned);
}

void solve_options_free(solve_options *o)
{
    for (size_t i = 0; i < o->overrides.n; i++) {
        free(o->overrides.v[i].name);
        free(o->overrides.v[i].version);
        free(o->overrides.v[i].build);
    }
    free(o->overrides.v);
    for (size_t i = 0; o->spec_owned && i < o->nspecs; i++)
        free(o->spec_owned[i]);
    free(o->spec_owned);
    free(o->python_owned);
    free(o->channels);
    free(o->specs);
    free(o->py.indices);
    free(o->py.find_links);
    free(o->py.no_binary);
    free(o->py.only_binary);
    for (size_t i = 0; i < o->nowned; i++)
        free(o->owned[i]);
    free(o->owned);
}

int cmd_solve(int argc, char **argv)
{
    solve_options o;
    solve_options_init(&o, argc);
    bool help = false;
    int status = parse_args(argc, argv, &o, &help);
    if (status == CLI_OK && help) {
        fputs(solve_help, stdout);
    } else if (status == CLI_OK && o.nspecs == 0) {
        fputs(solve_help, stderr);
        status = cli_fail(CLI_USAGE, "solve needs at least one SPEC");
    } else if (status == CLI_OK) {
        status = solve_options_finish(&o);
        if (status == CLI_OK)
            status = run_solve(&o);
    }
    solve_options_free(&o);
    return status;
}
