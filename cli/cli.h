/* cli.h — the hpcbuild command line: one handler per top-level command.
 *
 * Each handler gets argv with argv[0] being the command's name and returns
 * the process exit status: 0 success, 1 a negative answer or runtime failure,
 * 2 invalid input or usage.  Only the CLI prints; cli_fail prints
 * "hpcbuild: <msg>" to stderr.
 */
#ifndef HPCBUILD_CLI_H
#define HPCBUILD_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "hpcbuild/error.h"

enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

typedef struct cli_command {
    const char *name;
    const char *summary;   /* one line for `hpcbuild --help` */
    int (*run)(int argc, char **argv);
} cli_command;

int cmd_version(int argc, char **argv);
int cmd_elf(int argc, char **argv);
int cmd_spec(int argc, char **argv);
int cmd_matchspec(int argc, char **argv);
int cmd_requirement(int argc, char **argv);
int cmd_marker(int argc, char **argv);
int cmd_depurl(int argc, char **argv);
int cmd_solve(int argc, char **argv);
int cmd_site(int argc, char **argv);
int cmd_install(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_check_wheel(int argc, char **argv);
int cmd_repair(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_tags(int argc, char **argv);
int cmd_distname(int argc, char **argv);
int cmd_index_page(int argc, char **argv);
int cmd_wheel_metadata(int argc, char **argv);
int cmd_sdist_info(int argc, char **argv);
int cmd_pep517(int argc, char **argv);
int cmd_mapping(int argc, char **argv);
int cmd_txn(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_fetch_pkg(int argc, char **argv);
int cmd_conda_link(int argc, char **argv);
int cmd_wheel_install(int argc, char **argv);
int cmd_recipe(int argc, char **argv);
int cmd_channel(int argc, char **argv);

/* Prints "hpcbuild: <formatted>" on stderr and returns `status`. */
int cli_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints err->msg and returns 2 for invalid input, 1 otherwise. */
int cli_fail_error(const hb_error *err);
/* True when argv[i] is -h or --help. */
bool cli_is_help(const char *arg);
/* Reads all of stdin into lines (the caller frees each and the array). */
char **cli_read_lines(FILE *in, size_t *n);

#endif
