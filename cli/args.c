/* The argument loop shared by the parse-one-thing commands (see args.h). */
#include "args.h"

#include <string.h>

#include "cli.h"

bool cli_subcommand(int argc, char **argv, const char *help, const char *cmd, const char *const *subs,
                    const char *expected, int *status)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(help, argc < 2 ? stderr : stdout);
        *status = argc < 2 ? CLI_USAGE : CLI_OK;
        return false;
    }
    for (size_t i = 0; subs[i]; i++)
        if (strcmp(argv[1], subs[i]) == 0)
            return true;
    *status = cli_fail(CLI_USAGE, "unknown subcommand '%s %s': expected %s", cmd, argv[1], expected);
    return false;
}

bool cli_parse_one_arg(const cli_one_arg *spec, int argc, char **argv, int first, const char **arg,
                       int *status)
{
    bool only_pos = false;
    *arg = NULL;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = true;
        } else if (!only_pos && spec->json && strcmp(a, "--json") == 0) {
            *spec->json = true;
        } else if (!only_pos && cli_is_help(a)) {
            fputs(spec->help, stdout);
            *status = CLI_OK;
            return false;
        } else if (!only_pos && a[0] == '-' && a[1] == '-') {
            int rc = spec->option ? spec->option(spec->ctx, argc, argv, &i) : -1;
            if (rc < 0)
                rc = cli_fail(CLI_USAGE, "unknown option '%s'", a);
            if (rc != CLI_OK) {
                *status = rc;
                return false;
            }
        } else if (*arg) {
            *status = cli_fail(CLI_USAGE, "%s", spec->too_many);
            return false;
        } else {
            *arg = a;
        }
    }
    if (!*arg) {
        *status = cli_fail(CLI_USAGE, "%s", spec->missing);
        return false;
    }
    return true;
}
