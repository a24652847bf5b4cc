/* hpcbuild depurl parse [--json] DEPURL: a PEP 725 external dependency
 * specifier (DepURL, optionally "; marker") in its normalized form. */
#include "cli.h"
#include "args.h"

#include <stdio.h>
#include <string.h>

#include "hpcbuild/depurl.h"
#include "hpcbuild/json.h"

static const char depurl_help[] =
    "usage: hpcbuild depurl parse [--json] DEPURL\n\n"
    "Parses a PEP 725 DepURL, dep:TYPE[/NAMESPACE]/NAME[@VERSION][?QUALIFIERS][#SUBPATH],\n"
    "optionally followed by '; MARKER', and prints its normalized form: lowercase\n"
    "type, PURL percent-encoding, sorted qualifiers, the version as a normalized PEP 440\n"
    "specifier set (a bare version V means ==V; only >=, >, <, <=, == are allowed).\n"
    "The old spellings pkg:X and virtual:X are read as dep:X and dep:virtual/X, and\n"
    "dep:virtual/compiler/cpp as .../cxx, each with a warning on stderr.\n"
    "--json prints the parts as a JSON object instead.\n\n"
    "Example: hpcbuild depurl parse 'virtual:interface/lapack'   ->  dep:virtual/interface/lapack\n"
    "         hpcbuild depurl parse 'dep:pypi/NumPy@>= 2.0'      ->  dep:pypi/numpy@>=2.0\n";

static void print_json(const depurl *d)
{
    strbuf s = STRBUF_INIT, out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 0);
    hb_json_begin_object(&w);
    depurl_format(d, &s);
    hb_json_key(&w, "depurl");
    hb_json_string(&w, strbuf_str(&s));
    strbuf_truncate(&s, 0);
    depurl_format_spec(d, &s);
    hb_json_key(&w, "specifier");
    hb_json_string(&w, strbuf_str(&s));
    hb_json_key(&w, "type");
    hb_json_string_or_null(&w, d->type);
    hb_json_key(&w, "namespace");
    hb_json_string_or_null(&w, d->ns);
    hb_json_key(&w, "name");
    hb_json_string_or_null(&w, d->name);
    hb_json_key(&w, "version");
    hb_json_string_or_null(&w, d->version);
    hb_json_key(&w, "version_literal");
    hb_json_bool(&w, d->version_is_literal);
    hb_json_key(&w, "qualifiers");
    hb_json_begin_object(&w);
    for (size_t i = 0; i < d->nqualifiers; i++) {
        hb_json_key(&w, d->qualifiers[i].key);
        hb_json_string_or_null(&w, d->qualifiers[i].value);
    }
    hb_json_end_object(&w);
    hb_json_key(&w, "subpath");
    hb_json_string_or_null(&w, d->subpath);
    hb_json_key(&w, "marker");
    hb_json_string_or_null(&w, d->marker);
    hb_json_end_object(&w);
    puts(strbuf_str(&out));
    strbuf_free(&out);
    strbuf_free(&s);
}

int cmd_depurl(int argc, char **argv)
{
    static const char *const subs[] = {"parse", NULL};
    int status;
    if (!cli_subcommand(argc, argv, depurl_help, "depurl", subs, "parse", &status))
        return status;
    bool json = false;
    const char *input;
    const cli_one_arg spec = {
        .help = depurl_help,
        .too_many = "depurl parse takes one DEPURL (quote it if it has a marker)",
        .missing = "depurl parse needs a DEPURL, e.g. dep:generic/openssl",
        .json = &json,
    };
    if (!cli_parse_one_arg(&spec, argc, argv, 2, &input, &status))
        return status;
    depurl d;
    hb_error err;
    strbuf warnings = STRBUF_INIT;
    if (depurl_parse_spec(&d, input, strlen(input), &warnings, &err) != 0) {
        strbuf_free(&warnings);   /* invalid input: the error line alone */
        return cli_fail_error(&err);
    }
    const char *w = strbuf_str(&warnings);
    while (*w) {
        const char *nl = strchr(w, '\n');
        fprintf(stderr, "hpcbuild: warning: %.*s\n", (int)(nl - w), w);
        w = nl + 1;
    }
    strbuf_free(&warnings);
    if (json) {
        print_json(&d);
    } else {
        strbuf s = STRBUF_INIT;
        depurl_format_spec(&d, &s);
        puts(strbuf_str(&s));
        strbuf_free(&s);
    }
    depurl_free(&d);
    return CLI_OK;
}
