/* args.h — the argument shape shared by `hpcbuild CMD SUB [options] [--] ARG`.
 *
 * cli_subcommand checks SUB against the accepted names (help on -h/--help or
 * when missing); cli_one_arg then reads the rest: -h/--help prints the help,
 * `--` ends the options, --json (when accepted) sets a flag, a command's own
 * options go to its hook, any other --option is an error, and exactly one
 * positional ARG is required.  Messages go through cli_fail (status 2).
 */
#ifndef HPCBUILD_CLI_ARGS_H
#define HPCBUILD_CLI_ARGS_H

#include <stdbool.h>

/* True when argv[1] is one of subs (NULL-terminated) and the caller goes on;
 * otherwise *status is what the command returns: help on stdout and 0 for
 * -h/--help, help on stderr and 2 with no SUB, an error naming cmd and the
 * expected subcommands (expected, e.g. "parse") and 2 for an unknown one. */
bool cli_subcommand(int argc, char **argv, const char *help, const char *cmd, const char *const *subs,
                    const char *expected, int *status);

typedef struct cli_one_arg {
    const char *help;       /* printed on stdout for -h/--help */
    const char *too_many;   /* the message for a second positional */
    const char *missing;    /* the message when there is none */
    bool *json;             /* when not NULL, --json is accepted and sets *json */
    /* A command's own options: called for each argument that starts with "--"
     * (before `--`, other than --json); returns -1 when arg is not its option,
     * else 0 or an exit status (it may consume argv[*i + 1] by advancing *i). */
    int (*option)(void *ctx, int argc, char **argv, int *i);
    void *ctx;
} cli_one_arg;

/* Reads argv[first..argc) as described above.  True with *arg set when the
 * caller goes on; false with *status set (0 after --help, else the error's). */
bool cli_parse_one_arg(const cli_one_arg *spec, int argc, char **argv, int first, const char **arg,
                       int *status);

#endif
