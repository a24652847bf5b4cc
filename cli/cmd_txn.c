/* hpcbuild txn apply|recover: prefix transactions from the command line (debugging, and the
 * kill test's subject): a plan of put/remove lines applied as one transaction (txn.h). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpcbuild/strbuf.h"
#include "hpcbuild/txn.h"

static const char txn_help[] =
    "usage: hpcbuild txn apply [--link-mode hardlink|copy|symlink] [--wait SECONDS] PREFIX PLAN\n"
    "       hpcbuild txn recover [--wait SECONDS] PREFIX\n\n"
    "apply stages every line of the file PLAN ('-': stdin) and commits them as one transaction:\n"
    "the prefix shows the old tree or the new one, never a mix, even when killed (the next\n"
    "hpcbuild run that takes the prefix's lock finishes or discards it).  Plan lines, fields\n"
    "separated by one tab ('#' lines and blank lines are skipped):\n"
    "  put     PATH  SOURCE  [MODE]   link (--link-mode, default hardlink) or copy SOURCE;\n"
    "                                 MODE: octal permission bits (a copy when they differ)\n"
    "  data    PATH  TEXT             a file holding TEXT and a newline\n"
    "  symlink PATH  TARGET\n"
    "  mkdir   PATH\n"
    "  remove  PATH                   a file or symlink of the prefix\n"
    "PATHs are relative to PREFIX.  apply prints how many entries were linked and copied.\n"
    "recover finishes or rolls back an interrupted transaction and prints 'none', 'rolled back'\n"
    "or 'completed'.  --wait: how long to wait for another writer's lock (default 0: fail).\n\n"
    "Example: printf 'put\\tbin/tool\\t/cache/tool-1.0/bin/tool\\nremove\\tbin/old-tool\\n' |\n"
    "             hpcbuild txn apply /opt/envs/demo -\n";

/* Splits line at tabs into at most max fields; returns the count. */
static size_t split_tabs(char *line, char **fields, size_t max)
{
    size_t n = 0;
    while (n < max) {
        fields[n++] = line;
        char *tab = strchr(line, '\t');
        if (!tab)
            break;
        *tab = '\0';
        line = tab + 1;
    }
    return n;
}

typedef struct plan_counts {
    size_t linked, copied, other;
} plan_counts;

static int stage_line(hb_txn *t, char *line, enum hb_link_mode mode, plan_counts *c, hb_error *err)
{
    char *f[5];
    size_t n = split_tabs(line, f, 5);
    const char *op = f[0];
    bool ok_arity = (strcmp(op, "put") == 0 && (n == 3 || n == 4)) ||
                    ((strcmp(op, "data") == 0 || strcmp(op, "symlink") == 0) && n == 3) ||
                    ((strcmp(op, "mkdir") == 0 || strcmp(op, "remove") == 0) && n == 2);
    if (!ok_arity)
        return hb_error_set(err, HB_EINVAL, "invalid plan line starting '%s': expected put, data, symlink, mkdir "
                            "or remove with its tab-separated fields", op);
    if (strcmp(op, "put") == 0) {
        char *end = NULL;
        unsigned long bits = n == 4 ? strtoul(f[3], &end, 8) : 0;
        if (n == 4 && (!*f[3] || *end || bits == 0 || bits > 07777))
            return hb_error_set(err, HB_EINVAL, "invalid mode '%s' for '%s': expected octal permission bits",
                                f[3], f[1]);
        enum hb_link_mode used;
        if (hb_txn_put_file(t, f[1], f[2], mode, (unsigned)bits, &used, err) != 0)
            return -1;
        if (used == HB_LINK_COPY)
            c->copied++;
        else
            c->linked++;
        return 0;
    }
    c->other++;
    if (strcmp(op, "data") == 0) {
        strbuf text = STRBUF_INIT;
        strbuf_printf(&text, "%s\n", f[2]);
        int rc = hb_txn_put_data(t, f[1], text.buf, text.len, 0, err);
        strbuf_free(&text);
        return rc;
    }
    if (strcmp(op, "symlink") == 0)
        return hb_txn_put_symlink(t, f[1], f[2], err);
    if (strcmp(op, "mkdir") == 0)
        return hb_txn_mkdir(t, f[1], err);
    return hb_txn_remove(t, f[1], err);
}

static int apply_plan(const char *prefix, const char *plan, enum hb_link_mode mode, double wait_s)
{
    FILE *in = strcmp(plan, "-") == 0 ? stdin : fopen(plan, "re");
    if (!in)
        return cli_fail(CLI_FAILED, "cannot read the plan '%s'", plan);
    size_t nlines;
    char **lines = cli_read_lines(in, &nlines);
    if (in != stdin)
        fclose(in);
    hb_error err;
    hb_txn *t = NULL;
    plan_counts c = {0, 0, 0};
    int rc = hb_txn_begin(&t, prefix, wait_s, &err);
    for (size_t i = 0; i < nlines && rc == 0; i++) {
        if (lines[i][0] == '\0' || lines[i][0] == '#')
            continue;
        if (stage_line(t, lines[i], mode, &c, &err) != 0) {
            hb_error_prefix(&err, "%s line %zu", plan, i + 1);
            rc = -1;
        }
    }
    for (size_t i = 0; i < nlines; i++)
        free(lines[i]);
    free(lines);
    if (rc != 0) {
        hb_txn_abort(t);
        return cli_fail_error(&err);
    }
    if (hb_txn_commit(t, &err) != 0)
        return cli_fail_error(&err);
    printf("%zu linked, %zu copied, %zu other\n", c.linked, c.copied, c.other);
    return CLI_OK;
}

static int parse_wait(const char *s, double *out)
{
    char *end = NULL;
    double v = s ? strtod(s, &end) : -1;
    if (!s || !*s || *end || !(v >= 0))
        return cli_fail(CLI_USAGE, "invalid --wait '%s': expected seconds, 0 or more", s ? s : "");
    *out = v;
    return CLI_OK;
}

int cmd_txn(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(txn_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    bool apply = strcmp(argv[1], "apply") == 0;
    if (!apply && strcmp(argv[1], "recover") != 0)
        return cli_fail(CLI_USAGE, "txn: unknown subcommand '%s': expected apply or recover", argv[1]);
    enum hb_link_mode mode = HB_LINK_HARDLINK;
    double wait_s = 0;
    const char *pos[2];
    size_t npos = 0;
    hb_error err;
    for (int i = 2; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(txn_help, stdout);
            return CLI_OK;
        }
        if (strcmp(argv[i], "--wait") == 0) {
            int rc = parse_wait(i + 1 < argc ? argv[++i] : NULL, &wait_s);
            if (rc != CLI_OK)
                return rc;
        } else if (apply && strcmp(argv[i], "--link-mode") == 0) {
            if (i + 1 >= argc)
                return cli_fail(CLI_USAGE, "--link-mode: expected hardlink, copy or symlink");
            if (hb_link_mode_parse(argv[++i], &mode, &err) != 0)
                return cli_fail_error(&err);
        } else if (strncmp(argv[i], "--", 2) == 0) {
            return cli_fail(CLI_USAGE, "txn %s: unknown option '%s'", argv[1], argv[i]);
        } else if (npos == (apply ? 2u : 1u)) {
            return cli_fail(CLI_USAGE, "txn %s: unexpected argument '%s'", argv[1], argv[i]);
        } else {
            pos[npos++] = argv[i];
        }
    }
    if (npos != (apply ? 2u : 1u))
        return cli_fail(CLI_USAGE, "txn %s: expected %s", argv[1], apply ? "PREFIX and PLAN" : "PREFIX");
    if (apply)
        return apply_plan(pos[0], pos[1], mode, wait_s);
    const char *what;
    if (hb_txn_recover(pos[0], wait_s, &what, &err) != 0)
        return cli_fail_error(&err);
    puts(what);
    return CLI_OK;
}
