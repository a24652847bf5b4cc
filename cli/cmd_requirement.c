/* hpcbuild requirement parse [--json] REQ: a PEP 508 requirement in its
 * normalized form (str(packaging.requirements.Requirement(REQ))) or its fields. */
#include "cli.h"
#include "args.h"

#include <stdlib.h>
#include <string.h>

#include "hpcbuild/json.h"
#include "hpcbuild/pep508.h"
#include "hpcbuild/pyname.h"

static const char requirement_help[] =
    "usage: hpcbuild requirement parse [--json] REQ\n\n"
    "Parses REQ as a PEP 508 dependency specifier (packaging 26.3 rules) and prints\n"
    "its normalized form: extras sorted, specifiers sorted without spaces, one space\n"
    "around '@', markers with single spaces and double quotes, extra names in\n"
    "markers normalized (PEP 685).\n\n"
    "--json  print the fields instead: name, canonical_name (PEP 503), extras,\n"
    "        specifier, url (or null), marker (or null)\n\n"
    "Example: hpcbuild requirement parse 'Scikit_Learn [alldeps] (>=1.0.1) ; extra == \"ML\"'\n"
    "         Scikit_Learn[alldeps]>=1.0.1; extra == \"ml\"\n"
    "Invalid input exits with status 2 and names the position.\n";

static int print_json(const pep508_requirement *req)
{
    hb_error err;
    strbuf m = STRBUF_INIT;
    if (req->marker && marker_format(req->marker, &m, &err) != 0) {
        strbuf_free(&m);
        return cli_fail_error(&err);
    }
    char *canon = pyname_canonicalize(req->name, strlen(req->name));
    strbuf out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 0);
    hb_json_begin_object(&w);
    hb_json_key(&w, "name");
    hb_json_string(&w, req->name);
    hb_json_key(&w, "canonical_name");
    hb_json_string(&w, canon);
    hb_json_key(&w, "extras");
    hb_json_begin_array(&w);
    for (size_t i = 0; i < req->nextras; i++)
        hb_json_string(&w, req->extras[i]);
    hb_json_end_array(&w);
    hb_json_key(&w, "specifier");
    hb_json_string(&w, req->specifier);
    hb_json_key(&w, "url");
    hb_json_string_or_null(&w, req->url);
    hb_json_key(&w, "marker");
    hb_json_string_or_null(&w, req->marker ? strbuf_str(&m) : NULL);
    hb_json_end_object(&w);
    puts(strbuf_str(&out));
    strbuf_free(&out);
    free(canon);
    strbuf_free(&m);
    return CLI_OK;
}

int cmd_requirement(int argc, char **argv)
{
    static const char *const subs[] = {"parse", NULL};
    int status;
    if (!cli_subcommand(argc, argv, requirement_help, "requirement", subs, "parse", &status))
        return status;
    bool json = false;
    const char *text;
    const cli_one_arg spec = {
        .help = requirement_help,
        .too_many = "requirement parse takes one requirement (quote it)",
        .missing = "requirement parse needs a requirement, e.g. 'requests>=2.8'",
        .json = &json,
    };
    if (!cli_parse_one_arg(&spec, argc, argv, 2, &text, &status))
        return status;
    hb_error err;
    pep508_requirement req;
    if (pep508_requirement_parse(&req, text, strlen(text), &err) != 0)
        return cli_fail_error(&err);
    status = CLI_OK;
    if (json) {
        status = print_json(&req);
    } else {
        strbuf s = STRBUF_INIT;
        if (pep508_requirement_format(&req, &s, &err) != 0)
            status = cli_fail_error(&err);
        else
            puts(strbuf_str(&s));
        strbuf_free(&s);
    }
    pep508_requirement_free(&req);
    return status;
}
