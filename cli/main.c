/* hpcbuild — entry point: dispatches to the command handlers in cli/. */
#include "cli.h"

#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"

static const cli_command commands[] = {
    {"version", "sort or compare versions (PEP 440 or conda)", cmd_version},
    {"spec", "test versions against a specifier set or conda VersionSpec", cmd_spec},
    {"matchspec", "parse a conda MatchSpec into its canonical form", cmd_matchspec},
    {"requirement", "parse a PEP 508 requirement into its normalized form", cmd_requirement},
    {"marker", "evaluate a PEP 508 environment marker", cmd_marker},
    {"depurl", "parse a PEP 725 DepURL into its normalized dep: form", cmd_depurl},
    {"site", "detect what this machine provides (MPI, BLAS, CUDA, ...) as site.yaml; show one", cmd_site},
    {"solve", "solve conda packages and wheels together: what would be installed", cmd_solve},
    {"install", "solve, fetch and install conda packages and wheels into a prefix", cmd_install},
    {"remove", "uninstall packages from a prefix (one transaction)", cmd_remove},
    {"build", "build a wheel from an sdist without isolation against the site (cached)", cmd_build},
    {"recipe", "check build recipes (lint), draft one from an sdist (new), list variants", cmd_recipe},
    {"check-wheel", "is a built wheel relocatable: its ELF files, their needs, the platform tag", cmd_check_wheel},
    {"repair", "make a built wheel relocatable: vendor private libraries, declare site externals", cmd_repair},
    {"list", "the packages of a prefix", cmd_list},
    {"channel", "publish a directory of wheels and sdists as a static channel: channel index DIR", cmd_channel},
    {"export", "a prefix as hpcbuild.lock, PEP 751 pylock.toml or a conda @EXPLICIT list", cmd_export},
    {"tags", "list the wheel tags an interpreter supports, best first", cmd_tags},
    {"distname", "parse wheel and sdist file names (name, version, build, tags)", cmd_distname},
    {"index-page", "parse a saved Python package index page and print it as JSON", cmd_index_page},
    {"wheel-metadata", "a wheel's METADATA via PEP 658 or ranged reads (debugging)", cmd_wheel_metadata},
    {"pep517", "build one wheel with PEP 517 hooks through the build cache (debugging)", cmd_pep517},
    {"sdist-info", "what an sdist declares: PKG-INFO deps, build requires, PEP 725 [external]", cmd_sdist_info},
    {"mapping", "conda <-> PyPI names and PEP 725 DepURL -> conda-forge specs", cmd_mapping},
    {"txn", "apply a plan of puts and removals to a prefix as one transaction (debugging)", cmd_txn},
    {"extract", "unpack a package archive safely into a new directory (debugging)", cmd_extract},
    {"fetch-pkg", "download, verify and unpack packages into the package cache (debugging)", cmd_fetch_pkg},
    {"conda-link", "link an unpacked conda package into a prefix, or unlink one (debugging)", cmd_conda_link},
    {"wheel-install", "install an unpacked wheel into a prefix; --uninstall, --list (debugging)", cmd_wheel_install},
    {"elf", "an ELF file's needed libraries, rpaths and symbol versions; --resolve (debugging)", cmd_elf},
};

int cli_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hpcbuild: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

int cli_fail_error(const hb_error *err)
{
    return cli_fail(err->code == HB_EINVAL ? CLI_USAGE : CLI_FAILED, "%s", err->msg);
}

bool cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

char **cli_read_lines(FILE *in, size_t *n)
{
    char **lines = NULL;
    size_t count = 0, cap = 0;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t len;
    while ((len = getline(&line, &linecap, in)) >= 0) {
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            lines = hb_reallocarray(lines, cap, sizeof *lines);
        }
        lines[count++] = hb_strndup(line, (size_t)len);
    }
    free(line);
    *n = count;
    return lines;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: hpcbuild COMMAND [ARGS...]\n\n"
                 "hpcbuild builds and installs Python packages for HPC sites: one solve over\n"
                 "conda channels, wheel indices and the site's own MPI/BLAS/CUDA.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`hpcbuild COMMAND --help` describes each command.\n");
}

int main(int argc, char **argv)
{
    /* Big arrays (libsolv's solvables and id arrays, repodata) grow by realloc; above
     * 1 MiB they are mmap'd, so growing them remaps pages instead of copying them. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (cli_is_help(argv[1])) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("hpcbuild %s\n", HPCBUILD_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    usage(stderr);
    return cli_fail(CLI_USAGE, "unknown command '%s'", argv[1]);
}
