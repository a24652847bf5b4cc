/* hpcbuild matchspec parse [--json] SPEC: conda's canonical MatchSpec string. */
#include "cli.h"
#include "args.h"

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
    static const char *const subs[] = {"parse", NULL};
    int status;
    if (!cli_subcommand(argc, argv, matchspec_help, "matchspec", subs, "parse", &status))
        return status;
    bool json = false;
    const char *spec;
    const cli_one_arg args = {
        .help = matchspec_help,
        .too_many = "matchspec parse takes one SPEC (quote it: 'numpy >=1.8')",
        .missing = "matchspec parse needs a SPEC",
        .json = &json,
    };
    if (!cli_parse_one_arg(&args, argc, argv, 2, &spec, &status))
        return status;
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
