/* channel_exec.c — running a channel's jobs: here (-j N children) or through Slurm (one sbatch
 * per job, --dependency=afterok mirroring the graph) (channel_build.h). */
#include "channel_build.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hpcbuild/alloc.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/process.h"
#include "hpcbuild/strbuf.h"
#include "hpcbuild/wheel_scripts.h"

double channel_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *channel_self(void)
{
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    self[len > 0 ? len : 0] = '\0';
    return hb_strdup(len > 0 ? self : "hpcbuild");
}

static size_t count_pending(const channel_plan *plan)
{
    size_t n = 0;
    for (size_t i = 0; i < plan->njobs; i++)
        n += plan->jobs[i].state == JOB_PENDING;
    return n;
}

static bool deps_done(const channel_plan *plan, const channel_job *j)
{
    for (size_t k = 0; k < j->ndeps; k++) {
        channel_job_state s = plan->jobs[j->deps[k]].state;
        if (s != JOB_UP_TO_DATE && s != JOB_DONE)
            return false;
    }
    return true;
}

/* One line per finished job; a failure gets its log's tail. */
static void report(channel_plan *plan, size_t i, size_t done, size_t total, const char *where)
{
    channel_job *j = &plan->jobs[i];
    if (j->state == JOB_DONE) {
        printf("[%zu/%zu] %s: built%s in %.1f s%s\n", done, total, j->label, j->tested ? " and tested" : "",
               j->seconds, where);
    } else {
        char *tail = channel_job_log_tail(j, 2000);
        printf("[%zu/%zu] %s: FAILED%s: %s\n  log: %s/log.txt\n", done, total, j->label, where,
               j->message ? j->message : "", j->dir);
        fprintf(stderr, "hpcbuild: the last lines of %s/log.txt:\n%s\n", j->dir, tail);
        free(tail);
        channel_plan_skip_dependants(plan, i);
    }
    fflush(stdout);
}

/* ---- local ------------------------------------------------------------------------------- */

static int start_local(const channel_plan *plan, channel_job *j)
{
    char *log = hb_path_join(j->dir, "log.txt");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        free(log);
        return -1;
    }
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || in < 0)
            _exit(127);
        dup2(in, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(plan->self, plan->self, "channel", "run-job", j->dir, (char *)NULL);
        _exit(127);
    }
    free(log);
    j->pid = pid;
    j->state = JOB_RUNNING;
    j->started = channel_now();
    return 0;
}

int channel_exec_local(const channel_opts *o, channel_plan *plan)
{
    size_t total = count_pending(plan), done = 0, running = 0;
    int width = o->jobs > 0 ? o->jobs : 1;
    bool tty = isatty(STDERR_FILENO);
    for (;;) {
        for (size_t n = 0; n < plan->njobs && running < (size_t)width; n++) {
            channel_job *j = &plan->jobs[plan->order[n]];
            if (j->state != JOB_PENDING || !deps_done(plan, j))
                continue;
            if (start_local(plan, j) != 0)
                return cli_fail(CLI_FAILED, "cannot start a job: %s", strerror(errno));
            running++;
            if (tty)
                fprintf(stderr, "  building %s ...\n", j->label);
        }
        if (!running)
            break;
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            return cli_fail(CLI_FAILED, "waiting for the jobs: %s", strerror(errno));
        }
        for (size_t i = 0; i < plan->njobs; i++) {
            channel_job *j = &plan->jobs[i];
            if (j->state != JOB_RUNNING || j->pid != pid)
                continue;
            running--;
            j->seconds = channel_now() - j->started;
            channel_job_read_result(j);
            report(plan, i, ++done, total, "");
        }
    }
    return CLI_OK;
}

/* ---- slurm ------------------------------------------------------------------------------- */

static char *run_capture(const char *const *argv, int *status)
{
    process_result r;
    hb_error err;
    if (process_run(argv, &r, &err) != 0) {
        *status = -1;
        return hb_strdup(err.msg);
    }
    *status = r.exit_status;
    strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, r.out ? r.out : "");
    if (r.exit_status != 0)
        strbuf_puts(&sb, r.err ? r.err : "");
    process_result_free(&r);
    return strbuf_detach(&sb);
}

static int submit(const channel_opts *o, channel_plan *plan, channel_job *j)
{
    char *script = hb_path_join(j->dir, "job.sh"), *log = hb_path_join(j->dir, "log.txt");
    strbuf body = STRBUF_INIT, dep = STRBUF_INIT, name = STRBUF_INIT;
    strbuf_puts(&body, "#!/bin/sh\n# ");
    for (const char *c = j->label; *c; c++)   /* a comment line: no control characters */
        strbuf_putc(&body, (unsigned char)*c < 0x20 ? ' ' : *c);
    strbuf_puts(&body, "\nexec ");
    hb_shell_quote(&body, plan->self);
    strbuf_puts(&body, " channel run-job ");
    hb_shell_quote(&body, j->dir);
    strbuf_putc(&body, '\n');
    hb_error err;
    int rc = hb_write_file_atomic(script, body.buf, body.len, &err);
    for (size_t k = 0; k < j->ndeps; k++) {
        const channel_job *d = &plan->jobs[j->deps[k]];
        if (d->slurm_id && d->state != JOB_DONE)
            strbuf_printf(&dep, "%s%s", dep.len ? ":" : "--dependency=afterok:", d->slurm_id);
    }
    strbuf_printf(&name, "--job-name=hpcbuild:%s", j->id);
    const char **argv = hb_calloc(o->nslurm_args + 32, sizeof *argv);
    size_t n = 0;
    argv[n++] = "sbatch";
    argv[n++] = "--parsable";
    argv[n++] = name.buf;
    argv[n++] = "--output";
    argv[n++] = log;
    argv[n++] = "--chdir";
    argv[n++] = j->dir;
    if (dep.len) {
        argv[n++] = dep.buf;
        argv[n++] = "--kill-on-invalid-dep=yes";   /* Slurm cancels it when a dependency fails */
    }
    char **res = channel_slurm_resources(&j->recipe);
    for (size_t i = 0; res && res[i]; i++)
        argv[n++] = res[i];
    for (size_t i = 0; i < o->nslurm_args; i++)
        argv[n++] = o->slurm_args[i];
    argv[n++] = script;
    int status = 0;
    char *out = rc == 0 ? run_capture(argv, &status) : NULL;
    if (rc != 0) {
        rc = cli_fail_error(&err);
    } else if (status != 0 || !out || !*out) {
        rc = cli_fail(CLI_FAILED, "sbatch refused %s: %s", j->label, out ? out : "");
    } else {
        out[strcspn(out, ";\n")] = '\0';   /* "<id>" or "<id>;<cluster>" */
        j->slurm_id = hb_strdup(out);
        j->state = JOB_RUNNING;
        printf("  submitted %s as Slurm job %s%s%s\n", j->label, j->slurm_id, dep.len ? " " : "",
               dep.len ? dep.buf : "");
    }
    free(out);
    hb_strv_free(res);
    free(argv);
    free(script);
    free(log);
    strbuf_free(&body);
    strbuf_free(&dep);
    strbuf_free(&name);
    return rc;
}

/* Slurm's state of each job of ours it still lists ("ID STATE" lines). */
static bool still_active(const char *squeue, const char *id)
{
    size_t n = strlen(id);
    for (const char *line = squeue; line && *line;) {
        if (strncmp(line, id, n) == 0 && line[n] == ' ') {
            const char *st = line + n + 1;
            return strncmp(st, "PENDING", 7) == 0 || strncmp(st, "RUNNING", 7) == 0 ||
                   strncmp(st, "CONFIGURING", 11) == 0 || strncmp(st, "COMPLETING", 10) == 0 ||
                   strncmp(st, "SUSPENDED", 9) == 0 || strncmp(st, "REQUEUED", 8) == 0;
        }
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : NULL;
    }
    return false;
}

static void cancel_skipped(channel_plan *plan)
{
    for (size_t i = 0; i < plan->njobs; i++) {
        channel_job *j = &plan->jobs[i];
        if (j->state != JOB_SKIPPED || !j->slurm_id)
            continue;
        const char *argv[] = {"scancel", j->slurm_id, NULL};
        int st;
        free(run_capture(argv, &st));
        printf("  cancelled Slurm job %s (%s): %s\n", j->slurm_id, j->label, j->message ? j->message : "");
        free(j->slurm_id);
        j->slurm_id = NULL;
    }
}

int channel_exec_slurm(const channel_opts *o, channel_plan *plan)
{
    size_t total = count_pending(plan), done = 0;
    int rc = CLI_OK;
    for (size_t n = 0; n < plan->njobs && rc == CLI_OK; n++) {
        channel_job *j = &plan->jobs[plan->order[n]];
        if (j->state == JOB_PENDING)
            rc = submit(o, plan, j);
    }
    if (rc != CLI_OK) {   /* nothing half-submitted stays queued */
        for (size_t i = 0; i < plan->njobs; i++)
            if (plan->jobs[i].state == JOB_RUNNING)
                plan->jobs[i].state = JOB_SKIPPED;
        cancel_skipped(plan);
        return rc;
    }
    double t0 = channel_now();
    for (;;) {
        strbuf ids = STRBUF_INIT;
        for (size_t i = 0; i < plan->njobs; i++)
            if (plan->jobs[i].state == JOB_RUNNING)
                strbuf_printf(&ids, "%s%s", ids.len ? "," : "", plan->jobs[i].slurm_id);
        if (!ids.len) {
            strbuf_free(&ids);
            break;
        }
        const char *argv[] = {"squeue", "-h", "-t", "all", "-o", "%i %T", "-j", ids.buf, NULL};
        int st;
        char *out = run_capture(argv, &st);
        for (size_t n = 0; n < plan->njobs; n++) {   /* dependencies first: their failure skips */
            size_t i = plan->order[n];
            channel_job *j = &plan->jobs[i];
            if (j->state != JOB_RUNNING || (st == 0 && still_active(out, j->slurm_id)))
                continue;
            if (st != 0 && strstr(out, "Invalid job id") == NULL)
                continue;   /* squeue failed for another reason: ask again */
            j->seconds = channel_now() - t0;
            channel_job_read_result(j);
            char where[64];
            snprintf(where, sizeof where, " (Slurm job %s)", j->slurm_id);
            report(plan, i, ++done, total, where);
            cancel_skipped(plan);
        }
        free(out);
        strbuf_free(&ids);
        usleep(500 * 1000);
    }
    return CLI_OK;
}

char **channel_slurm_resources(const hb_recipe *r)
{
    const struct {
        const char *option;
        const hb_recipe_str *value;
    } map[] = {
        {"--cpus-per-task", &r->resources.cpus},   {"--mem", &r->resources.memory},
        {"--time", &r->resources.time},            {"--partition", &r->resources.partition},
        {"--gpus", &r->resources.gpus},
    };
    char **v = hb_calloc(sizeof map / sizeof map[0] + 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].value->text) {
            strbuf sb = STRBUF_INIT;
            strbuf_printf(&sb, "%s=%s", map[i].option, map[i].value->text);
            v[n++] = strbuf_detach(&sb);
        }
    return v;
}
