/* hpcbuild channel index DIR: publish a directory of wheels and sdists as a static channel
 * (PEP 503/691 pages, PEP 658 files, channel.json); see channel_index.h. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "hpcbuild/channel_index.h"

static const char channel_help[] =
    "usage: hpcbuild channel index [--quiet] DIR\n\n"
    "Publishes the wheels and sdists in DIR/files/ (and DIR itself) as a static channel that\n"
    "pip and hpcbuild read from disk or from any static web server:\n"
    "  DIR/files/<wheel>.metadata                 PEP 658 core metadata of each wheel\n"
    "  DIR/simple/index.{html,json}               the project list (PEP 503 / PEP 691)\n"
    "  DIR/simple/<project>/index.{html,json}     its files with sha256, requires-python,\n"
    "                                             core-metadata, size and upload-time\n"
    "  DIR/channel.json                           every distribution's metadata in one file\n"
    "Re-running regenerates everything from the files present (removed ones disappear);\n"
    "the output is byte-identical when nothing changed.  Files that are not distributions\n"
    "are skipped with a note on stderr.\n\n"
    "Example: hpcbuild channel index /srv/channel\n"
    "         pip install --index-url file:///srv/channel/simple NAME\n";

static int channel_index(int argc, char **argv)
{
    const char *dir = NULL;
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(channel_help, stdout);
            return CLI_OK;
        }
        if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
            quiet = true;
        else if (argv[i][0] == '-' || dir)
            return cli_fail(CLI_USAGE, "channel index: unexpected argument '%s' (see --help)",
                            argv[i]);
        else
            dir = argv[i];
    }
    if (!dir)
        return cli_fail(CLI_USAGE, "channel index: expected a directory (see --help)");
    hb_channel_index_stats stats;
    memset(&stats, 0, sizeof stats);
    hb_error err = {0};
    int rc = hb_channel_index(dir, &stats, &err);
    if (stats.notes.len)
        fprintf(stderr, "%s", stats.notes.buf);
    if (rc < 0) {
        hb_channel_index_stats_free(&stats);
        return cli_fail_error(&err);
    }
    if (!quiet)
        printf("indexed %zu wheels and %zu sdists of %zu projects in %s (%zu skipped)\n",
               stats.wheels, stats.sdists, stats.projects, dir, stats.skipped);
    hb_channel_index_stats_free(&stats);
    return CLI_OK;
}

int cmd_channel(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(channel_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "index") == 0)
        return channel_index(argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "channel: unknown subcommand '%s' (expected index)", argv[1]);
}
