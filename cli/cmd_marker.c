/* hpcbuild marker evaluate|parse: PEP 508 environment markers. */
#include "cli.h"
#include "args.h"

#include <stdlib.h>
#include <string.h>

#include "hpcbuild/alloc.h"
#include "hpcbuild/marker.h"

static const char marker_help[] =
    "usage: hpcbuild marker evaluate MARKER [--env NAME=VALUE]... [--python PATH]\n"
    "       hpcbuild marker parse MARKER\n\n"
    "evaluate  prints true or false: MARKER evaluated as packaging 26.3 does.\n"
    "          Variables not given with --env come from the target interpreter\n"
    "          (--python PATH, default python3 on PATH), as packaging's\n"
    "          default_environment() reports them; it is only run when needed.\n"
    "          extra is \"\" unless given.  extras and dependency_groups (lock-file\n"
    "          markers) take comma-separated lists: --env extras=socks,tests.\n"
    "parse     prints the normalized marker (str(Marker(MARKER))).\n\n"
    "Variables: implementation_name implementation_version os_name platform_machine\n"
    "platform_release platform_system platform_version python_full_version\n"
    "platform_python_implementation python_version sys_platform extra extras\n"
    "dependency_groups.\n\n"
    "Example: hpcbuild marker evaluate 'python_version >= \"3.8\" and extra == \"DB_Support\"' \\\n"
    "             --env python_version=3.12 --env extra=db-support\n"
    "         true\n"
    "Invalid markers, unknown variables and undefined comparisons (such as\n"
    "os_name ~= \"1.0\") exit with status 2.\n";

static const char *const set_variables[] = {"extras", "dependency_groups", NULL};

static bool in_list(const char *const *list, const char *name, size_t len)
{
    for (size_t i = 0; list[i]; i++)
        if (strlen(list[i]) == len && memcmp(list[i], name, len) == 0)
            return true;
    return false;
}

static bool known_variable(const char *name, size_t len)
{
    return in_list(marker_default_variables, name, len) || in_list(set_variables, name, len) ||
           (len == 5 && memcmp(name, "extra", 5) == 0);
}

static int set_env(marker_env *env, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return cli_fail(CLI_USAGE, "--env needs NAME=VALUE, got '%s'", arg);
    size_t nlen = (size_t)(eq - arg);
    if (!known_variable(arg, nlen))
        return cli_fail(CLI_USAGE, "unknown marker variable '%.*s' in --env: expected one of "
                        "python_version, python_full_version, os_name, sys_platform, "
                        "platform_machine, platform_release, platform_system, platform_version, "
                        "platform_python_implementation, implementation_name, "
                        "implementation_version, extra, extras, dependency_groups", (int)nlen, arg);
    char *name = hb_strndup(arg, nlen);
    if (in_list(set_variables, arg, nlen)) {
        char *copy = hb_strdup(eq + 1);
        size_t n = 0;
        const char **items = hb_calloc(strlen(copy) + 1, sizeof *items);
        for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
            items[n++] = tok;
        marker_env_set_items(env, name, items, n);
        free(items);
        free(copy);
    } else {
        marker_env_set(env, name, eq + 1);
    }
    free(name);
    return 0;
}

typedef struct need_ctx {
    const marker_env *env;
    bool missing;
} need_ctx;

static void note_variable(const char *name, void *ctx)
{
    need_ctx *n = ctx;
    if (!marker_env_get(n->env, name, strlen(name)) && in_list(marker_default_variables, name, strlen(name)))
        n->missing = true;
}

typedef struct marker_opts {
    bool evaluate;
    marker_env *env;
    const char *python;
} marker_opts;

/* --env NAME=VALUE and --python PATH (evaluate only), for cli_parse_one_arg. */
static int marker_option(void *ctx, int argc, char **argv, int *i)
{
    marker_opts *o = ctx;
    const char *a = argv[*i];
    if (!o->evaluate)
        return -1;
    if (strcmp(a, "--env") == 0 || strncmp(a, "--env=", 6) == 0) {
        const char *v = a[5] == '=' ? a + 6 : (*i + 1 < argc ? argv[++*i] : NULL);
        return v ? set_env(o->env, v) : cli_fail(CLI_USAGE, "--env needs NAME=VALUE");
    }
    if (strcmp(a, "--python") == 0 || strncmp(a, "--python=", 9) == 0) {
        o->python = a[8] == '=' ? a + 9 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (!o->python || !*o->python)
            return cli_fail(CLI_USAGE, "--python needs the path of an interpreter");
        return CLI_OK;
    }
    return -1;
}

int cmd_marker(int argc, char **argv)
{
    static const char *const subs[] = {"evaluate", "parse", NULL};
    int status;
    if (!cli_subcommand(argc, argv, marker_help, "marker", subs, "evaluate or parse", &status))
        return status;
    bool evaluate = strcmp(argv[1], "evaluate") == 0;
    marker_env env = MARKER_ENV_INIT;
    marker_opts opts = {evaluate, &env, "python3"};
    char too_many[64], missing[96];
    snprintf(too_many, sizeof too_many, "marker %s takes one marker (quote it)", argv[1]);
    snprintf(missing, sizeof missing, "marker %s needs a marker, e.g. 'python_version >= \"3.8\"'", argv[1]);
    const cli_one_arg spec = {
        .help = marker_help,
        .too_many = too_many,
        .missing = missing,
        .option = marker_option,
        .ctx = &opts,
    };
    const char *text, *python;
    if (!cli_parse_one_arg(&spec, argc, argv, 2, &text, &status)) {
        marker_env_free(&env);
        return status;
    }
    python = opts.python;
    status = CLI_OK;
    marker *m = NULL;
    hb_error err;
    if (status == CLI_OK && !(m = marker_parse(text, strlen(text), &err)))
        status = cli_fail_error(&err);
    if (status == CLI_OK && !evaluate) {
        strbuf s = STRBUF_INIT;
        if (marker_format(m, &s, &err) != 0)
            status = cli_fail_error(&err);
        else
            puts(strbuf_str(&s));
        strbuf_free(&s);
    } else if (status == CLI_OK) {
        if (!marker_env_get(&env, "extra", 5))
            marker_env_set(&env, "extra", "");
        need_ctx need = {&env, false};
        marker_each_variable(m, note_variable, &need);
        bool result;
        if (need.missing && marker_env_from_python(&env, python, &err) != 0)
            status = cli_fail_error(&err);
        else if (marker_evaluate(m, &env, &result, &err) != 0)
            status = cli_fail(CLI_USAGE, "cannot evaluate marker '%s': %s", text, err.msg);
        else
            puts(result ? "true" : "false");
    }
    marker_free(m);
    marker_env_free(&env);
    return status;
}
