/* hpcbuild extract [--max-bytes N] [--max-entries N] [--max-ratio N] ARCHIVE DEST: unpacks one
 * package archive safely (extract.h); a debugging entry to the installer's extraction. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/extract.h"

static const char extract_help[] =
    "usage: hpcbuild extract [--max-bytes N] [--max-entries N] [--max-ratio N] ARCHIVE DEST\n\n"
    "Unpacks ARCHIVE (.conda, .tar.bz2, .whl, .zip, .tar.gz, .tgz, .tar.xz, .tar.zst, .tar) into\n"
    "DEST, which must not exist.  Entries that would land outside DEST (absolute paths, '..',\n"
    "symlinks leaving DEST, hard links to files outside the archive), devices, FIFOs, duplicates\n"
    "and archives over the limits (default 8 GiB, 1,000,000 entries, compression ratio 1000)\n"
    "are refused, and then DEST is removed again.  Prints the number of files written.\n\n"
    "Exit status: 0 unpacked, 1 unreadable archive or a system error, 2 refused content.\n"
    "Example: hpcbuild extract numpy-1.26.4-py311h64a7726_0.conda /tmp/numpy\n";

static int parse_count(const char *opt, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || v == 0)
        return cli_fail(CLI_USAGE, "invalid value '%s' for %s: expected a positive integer", s, opt);
    *out = v;
    return 0;
}

int cmd_extract(int argc, char **argv)
{
    hb_extract_limits lim = {0, 0, 0};
    const char *pos[2];
    int npos = 0;
    bool opts = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts && cli_is_help(a)) {
            fputs(extract_help, stdout);
            return CLI_OK;
        }
        if (opts && strcmp(a, "--") == 0) {
            opts = false;
            continue;
        }
        if (opts && a[0] == '-' && a[1] == '-') {
            uint64_t *slot = strcmp(a, "--max-bytes") == 0     ? &lim.max_bytes
                             : strcmp(a, "--max-entries") == 0 ? &lim.max_entries
                             : strcmp(a, "--max-ratio") == 0   ? &lim.max_ratio
                                                               : NULL;
            if (!slot)
                return cli_fail(CLI_USAGE, "unknown option '%s'", a);
            if (i + 1 >= argc)
                return cli_fail(CLI_USAGE, "%s needs a value", a);
            if (parse_count(a, argv[++i], slot) != 0)
                return CLI_USAGE;
            continue;
        }
        if (npos == 2)
            return cli_fail(CLI_USAGE, "unexpected argument '%s': expected ARCHIVE DEST", a);
        pos[npos++] = a;
    }
    if (npos != 2) {
        fputs(extract_help, stderr);
        return cli_fail(CLI_USAGE, "expected ARCHIVE DEST");
    }
    hb_error err;
    uint64_t files = 0;
    if (hb_extract(pos[0], pos[1], &lim, &files, &err) != 0)
        return cli_fail_error(&err);
    printf("%" PRIu64 " files\n", files);
    return CLI_OK;
}
