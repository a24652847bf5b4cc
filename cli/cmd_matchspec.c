/* hpcbuild matchspec parse [--json] SPEC: conda's canonical MatchSpec string. */
#include "cli.h"

#include <string.h>

#include "hpcbuild/matchspec.h"

static const char matchspec_help[] =
    "usage: hpcbuild matchspec parse [--json] SPEC\n\n"
    "Parses a conda MatchSpec (CEP 29, conda 26.x rules) and prints its canonical\n"
    "form, str(MatchSpec(SPEC)); with --json its components as a JSON object.\n"
    "  hpcbuild matchspec parse 'numpy 1.8*'              -> numpy=1.8\n"
    "  hpcbuild matchspec parse 'conda-forge::numpy>=1.8' -> conda-forge::numpy[version='>=1.8']\n"
    "  hpcbuild matchspec parse --json 'numpy=1.8=py27_0' -> {\"name\":\"numpy\",\"version\":\"1.8\",\"build\":\"py27_0\"}\n"
    "An invalid spec exits with status 2 and one line on stderr naming it.\n";

int cmd_matchspec(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(matchspec_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "parse") != 0)
        return cli_fail(CLI_USAGE, "unknown subcommand 'matchspec %s': expected parse", argv[1]);
    bool json = false, only_pos = false;
    const char *spec = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && cli_is_help(a)) {
            fputs(matchspec_help, stdout);
            return CLI_OK;
        } else if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = true;
        } else if (!only_pos && strcmp(a, "--json") == 0) {
            json = true;
        } else if (!only_pos && a[0] == '-' && a[1] == '-') {
            return cli_fail(CLI_USAGE, "unknown option '%s'", a);
        } else if (spec) {
            return cli_fail(CLI_USAGE, "matchspec parse takes one SPEC (quote it: 'numpy >=1.8')");
        } else {
            spec = a;
        }
    }
    if (!spec)
        return cli_fail(CLI_USAGE, "matchspec parse needs a SPEC");
    hb_error err;
    matchspec *ms = matchspec_parse(spec, strlen(spec), &err);
    if (!ms)
        return cli_fail_error(&err);
    strbuf out = STRBUF_INIT;
    if (json)
        matchspec_to_json(ms, &out);
    else
        matchspec_format(ms, &out);
    puts(strbuf_str(&out));
    strbuf_free(&out);
    matchspec_free(ms);
    return CLI_OK;
}
