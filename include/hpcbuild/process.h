/* process.h — run a program and capture what it prints.
 *
 * process_run starts argv[0] (looked up on PATH when it has no '/') with
 * posix_spawnp: no shell, stdin from /dev/null, stdout and stderr captured.
 * It waits for the child and reports how it ended.  Returns 0 when the child
 * ran (whatever its exit status), -1 with err set when it could not be started
 * or waited for.  The caller frees the result with process_result_free.
 */
#ifndef HPCBUILD_PROCESS_H
#define HPCBUILD_PROCESS_H

#include <stddef.h>

#include "hpcbuild/error.h"

typedef struct process_result {
    int exit_status;   /* exit code, or -1 when killed by a signal */
    int term_signal;   /* the signal that ended it, or 0 */
    char *out;         /* captured stdout, NUL-terminated (may contain NULs) */
    size_t out_len;
    char *err;         /* captured stderr, NUL-terminated */
    size_t err_len;
} process_result;

int process_run(const char *const argv[], process_result *res, hb_error *err);
void process_result_free(process_result *res);

#endif
