/* hpcbuild remove | list | export: an environment's packages, from its records
 * (prefix_state.h), changed through the same transaction as install (install_plan.h). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/json.h"
#include "hpcbuild/txn.h"
#include "install_plan.h"
#include "prefix_state.h"

static const char env_help[] =
    "usage: hpcbuild remove -p PREFIX NAME...\n"
    "       hpcbuild list   -p PREFIX [--json]\n"
    "       hpcbuild export -p PREFIX [--format hpcbuild|pylock|conda-explicit]\n\n"
    "remove   uninstalls exactly what was installed for each NAME (a conda package's paths, a\n"
    "         wheel's RECORD) as one transaction, and forgets the requests that named it;\n"
    "         packages that depend on it are named in a warning, not removed.\n"
    "list     the environment's packages: name, version, build (wheels: pypi_0), channel\n"
    "         (wheels: pypi), as conda lists them.\n"
    "export   hpcbuild: the environment's hpcbuild.lock (for `install --from-lock`);\n"
    "         pylock: a PEP 751 pylock.toml of its wheels; conda-explicit: a conda\n"
    "         @EXPLICIT list of its conda packages (for `conda create --file`).\n"
    "Exit status: 0 done, 1 failed, 2 invalid input (an unknown NAME).\n"
    "Example: hpcbuild list -p ~/envs/sim\n";

typedef struct env_opts {
    const char *prefix;
    const char **names;
    size_t nnames;
    bool json;
    const char *format;
} env_opts;

static int parse(int argc, char **argv, env_opts *o, bool *help)
{
    o->names = hb_calloc((size_t)argc + 1, sizeof *o->names);
    o->format = "hpcbuild";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            *help = true;
            return CLI_OK;
        } else if (strcmp(a, "-p") == 0 || strcmp(a, "--prefix") == 0) {
            if (i + 1 >= argc)
                return cli_fail(CLI_USAGE, "%s needs a PREFIX", a);
            o->prefix = argv[++i];
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--format") == 0) {
            if (i + 1 >= argc)
                return cli_fail(CLI_USAGE, "--format needs hpcbuild, pylock or conda-explicit");
            o->format = argv[++i];
        } else if (a[0] == '-') {
            return cli_fail(CLI_USAGE, "unknown option '%s' (see hpcbuild %s --help)", a, argv[0]);
        } else {
            o->names[o->nnames++] = a;
        }
    }
    if (!o->prefix)
        return cli_fail(CLI_USAGE, "%s needs -p PREFIX", argv[0]);
    return CLI_OK;
}

static int with_state(int argc, char **argv, int (*fn)(env_opts *, prefix_state *))
{
    env_opts o = {0};
    bool help = false;
    int status = parse(argc, argv, &o, &help);
    if (status == CLI_OK && help) {
        fputs(env_help, stdout);
    } else if (status == CLI_OK) {
        hb_error err;
        const char *what = NULL;
        prefix_state st;
        if (hb_txn_recover(o.prefix, 30, &what, &err) != 0 || prefix_state_read(&st, o.prefix, &err) != 0) {
            status = cli_fail(CLI_FAILED, "%s", err.msg);
        } else {
            status = fn(&o, &st);
            prefix_state_free(&st);
        }
    }
    free(o.names);
    return status;
}

static int do_remove(env_opts *o, prefix_state *st)
{
    if (o->nnames == 0)
        return cli_fail(CLI_USAGE, "remove needs at least one NAME");
    install_plan plan;
    install_plan_init(&plan, o->prefix);
    install_plan_from_state(&plan, st);
    int status = CLI_OK;
    for (size_t i = 0; i < o->nnames && status == CLI_OK; i++)
        if (!install_plan_drop(&plan, st, o->names[i]))
            status = cli_fail(CLI_USAGE, "%s has no package named '%s' (see hpcbuild list -p %s)", o->prefix,
                              o->names[i], o->prefix);
    /* what still depends on a removed name: a warning, as the request was explicit */
    for (size_t i = 0; status == CLI_OK && i < plan.n; i++)
        for (char **d = plan.pkgs[i].rec.depends; d && *d; d++)
            for (size_t k = 0; k < plan.nremove; k++) {
                size_t n = strlen(plan.remove[k]->name);
                if (strncmp(*d, plan.remove[k]->name, n) == 0 && strchr(" =<>!~[;(", (*d)[n]))
                    fprintf(stderr, "hpcbuild: warning: %s %s depends on %s (%s)\n", plan.pkgs[i].rec.name,
                            plan.pkgs[i].rec.version, plan.remove[k]->name, *d);
            }
    if (status == CLI_OK) {
        strbuf cmd = STRBUF_INIT;
        strbuf_printf(&cmd, "hpcbuild remove -p %s", o->prefix);
        for (size_t i = 0; i < o->nnames; i++)
            strbuf_printf(&cmd, " %s", o->names[i]);
        plan.cmdline = strbuf_detach(&cmd);
        install_plan_print(&plan, stdout);
        status = install_plan_apply(&plan, st, HB_LINK_HARDLINK);
    }
    install_plan_free(&plan);
    return status;
}

static int do_list(env_opts *o, prefix_state *st)
{
    if (o->json) {
        strbuf out = STRBUF_INIT;
        hb_json_writer w;
        hb_json_writer_init(&w, &out, 0);
        hb_json_begin_array(&w);
        for (size_t i = 0; i < st->n; i++) {
            const installed_pkg *p = &st->pkgs[i];
            hb_json_begin_object(&w);
            hb_json_key(&w, "name");
            hb_json_string(&w, p->name);
            hb_json_key(&w, "version");
            hb_json_string(&w, p->version);
            hb_json_member(&w, "build", p->build);
            hb_json_member(&w, "channel", p->channel);
            hb_json_key(&w, "origin");
            hb_json_string(&w, p->wheel ? "wheel" : "conda");
            hb_json_end_object(&w);
        }
        hb_json_end_array(&w);
        puts(strbuf_str(&out));
        strbuf_free(&out);
        return CLI_OK;
    }
    printf("# packages in environment at %s:\n#\n# %-30s %-18s %-24s %s\n", o->prefix, "Name", "Version", "Build",
           "Channel");
    for (size_t i = 0; i < st->n; i++) {
        const installed_pkg *p = &st->pkgs[i];
        printf("%-32s %-18s %-24s %s\n", p->name, p->version, p->build ? p->build : "",
               p->channel ? p->channel : "");
    }
    return CLI_OK;
}

static void toml_string(strbuf *out, const char *s)
{
    strbuf_putc(out, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            strbuf_printf(out, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            strbuf_printf(out, "\\u%04x", (unsigned char)*s);
        else
            strbuf_putc(out, *s);
    }
    strbuf_putc(out, '"');
}

static int do_export(env_opts *o, prefix_state *st)
{
    if (strcmp(o->format, "hpcbuild") == 0) {
        install_plan plan;
        install_plan_init(&plan, o->prefix);
        install_plan_from_state(&plan, st);
        strbuf out = STRBUF_INIT;
        install_plan_lock_json(&plan, &out);
        fputs(strbuf_str(&out), stdout);
        strbuf_free(&out);
        install_plan_free(&plan);
        return CLI_OK;
    }
    strbuf out = STRBUF_INIT;
    if (strcmp(o->format, "pylock") == 0) {
        /* PEP 751: one [[packages]] per wheel, each with its one wheel, url and hashes */
        strbuf_puts(&out, "lock-version = \"1.0\"\ncreated-by = \"hpcbuild\"\n");
        for (size_t i = 0; i < st->n; i++) {
            const installed_pkg *p = &st->pkgs[i];
            if (!p->wheel)
                continue;
            strbuf_puts(&out, "\n[[packages]]\nname = ");
            toml_string(&out, p->name);
            strbuf_puts(&out, "\nversion = ");
            toml_string(&out, p->version);
            strbuf_puts(&out, "\n\n[[packages.wheels]]\nname = ");
            toml_string(&out, p->fn ? p->fn : "");
            strbuf_puts(&out, "\nurl = ");
            toml_string(&out, p->url ? p->url : "");
            strbuf_puts(&out, "\nhashes = {");
            if (p->sha256) {
                strbuf_puts(&out, "sha256 = ");
                toml_string(&out, p->sha256);
            }
            strbuf_puts(&out, "}\n");
        }
    } else if (strcmp(o->format, "conda-explicit") == 0) {
        strbuf_puts(&out, "# This file may be used to create an environment using:\n"
                          "# $ conda create --name <env> --file <this file>\n@EXPLICIT\n");
        for (size_t i = 0; i < st->n; i++) {
            const installed_pkg *p = &st->pkgs[i];
            if (p->wheel || !p->url)
                continue;
            if (p->md5)
                strbuf_printf(&out, "%s#%s\n", p->url, p->md5);
            else if (p->sha256)
                strbuf_printf(&out, "%s#sha256:%s\n", p->url, p->sha256);
            else
                strbuf_printf(&out, "%s\n", p->url);
        }
    } else {
        strbuf_free(&out);
        return cli_fail(CLI_USAGE, "invalid --format '%s': expected hpcbuild, pylock or conda-explicit", o->format);
    }
    fputs(strbuf_str(&out), stdout);
    strbuf_free(&out);
    return CLI_OK;
}

int cmd_remove(int argc, char **argv)
{
    return with_state(argc, argv, do_remove);
}

int cmd_list(int argc, char **argv)
{
    return with_state(argc, argv, do_list);
}

int cmd_export(int argc, char **argv)
{
    return with_state(argc, argv, do_export);
}
