/* hpcbuild channel build|index|run-job: recipes built into a published wheel channel
 * (channel_build.h), a directory of wheels and sdists published as a static channel (PEP 503/691
 * pages, PEP 658 files, channel.json; channel_index.h). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "channel_build.h"
#include "hpcbuild/alloc.h"
#include "hpcbuild/build_fs.h"
#include "hpcbuild/channel_index.h"
#include "hpcbuild/fs.h"
#include "hpcbuild/json.h"
#include "hpcbuild/strbuf.h"
#include "solve.h"

static const char channel_usage[] =
    "usage: hpcbuild channel build RECIPE_OR_DIR... --out DIR [-j N] [--executor local|slurm]\n"
    "                              [--site FILE] [--python PATH] [solve options]\n"
    "       hpcbuild channel index [--quiet] DIR\n"
    "       hpcbuild channel run-job JOBDIR\n"
    "(hpcbuild channel build --help, hpcbuild channel index --help)\n";

static const char channel_help[] =
    "usage: hpcbuild channel index [--quiet] DIR\n\n"
    "Publishes the wheels and sdists in DIR/files/ (and DIR itself) as a static channel that\n"
    "pip and hpcbuild read from disk or from any static web server:\n"
    "  DIR/files/<wheel>.metadata                 PEP 658 core metadata of each wheel\n"
    "  DIR/simple/index.{html,json}               the project list (PEP 503 / PEP 691)\n"
    "  DIR/simple/<project>/index.{html,json}     its files with sha256, requires-python,\n"
    "                                             core-metadata, size and upload-time\n"
    "  DIR/channel.json                           every distribution's metadata in one file\n"
    "Re-running regenerates everything from the files present (removed ones disappear);\n"
    "the output is byte-identical when nothing changed.  Files that are not distributions\n"
    "are skipped with a note on stderr.\n\n"
    "Example: hpcbuild channel index /srv/channel\n"
    "         pip install --index-url file:///srv/channel/simple NAME\n";

static int channel_index(int argc, char **argv)
{
    const char *dir = NULL;
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(channel_help, stdout);
            return CLI_OK;
        }
        if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
            quiet = true;
        else if (argv[i][0] == '-' || dir)
            return cli_fail(CLI_USAGE, "channel index: unexpected argument '%s' (see --help)",
                            argv[i]);
        else
            dir = argv[i];
    }
    if (!dir)
        return cli_fail(CLI_USAGE, "channel index: expected a directory (see --help)");
    hb_channel_index_stats stats;
    memset(&stats, 0, sizeof stats);
    hb_error err = {0};
    int rc = hb_channel_index(dir, &stats, &err);
    if (stats.notes.len)
        fprintf(stderr, "%s", stats.notes.buf);
    if (rc < 0) {
        hb_channel_index_stats_free(&stats);
        return cli_fail_error(&err);
    }
    if (!quiet)
        printf("indexed %zu wheels and %zu sdists of %zu projects in %s (%zu skipped)\n",
               stats.wheels, stats.sdists, stats.projects, dir, stats.skipped);
    hb_channel_index_stats_free(&stats);
    return CLI_OK;
}

/* ---- channel build ---------------------------------------------------------------------- */

static const char build_help[] =
    "usage: hpcbuild channel build RECIPE_OR_DIR... --out DIR [-j N] [--executor local|slurm]\n"
    "                              [--site FILE] [--python PATH] [--no-test] [--rebuild NAME]...\n"
    "                              [--sbatch-arg ARG]... [solve options]\n\n"
    "Builds every recipe (a directory gives its *.yaml, *.yml and */recipe.yaml) into the wheel\n"
    "channel DIR: variants expanded (each gets a local version label: mpi4py 4.0.1+openmpi), jobs\n"
    "ordered by what they need of each other (a recipe's build requirements and dependencies may\n"
    "be another recipe's wheels), independent ones in parallel, each recipe's test run in a fresh\n"
    "environment, then DIR/files published as a PEP 503/691/658 index (hpcbuild channel index).\n"
    "A job whose key (recipe, sources, variant, site, interpreter, the keys of what it needs) is\n"
    "unchanged since the last build into DIR is up to date and not run: a change rebuilds that\n"
    "recipe and what depends on it.  Job directories and logs: DIR/.hpcbuild/jobs/<job>/.\n\n"
    "  --out DIR            the channel (created)\n"
    "  -j N                 jobs at once on this machine (default 1)\n"
    "  --executor slurm     one Slurm job per build (sbatch), --dependency=afterok as the graph;\n"
    "                       each recipe's `resources:` become sbatch options\n"
    "  --sbatch-arg ARG     an extra sbatch argument for every job (repeatable)\n"
    "  --site FILE          the site file (variant keys mpi, blas, cuda pick its externals)\n"
    "  --python PATH        the target interpreter (default python3)\n"
    "  --no-test            do not run the recipes' tests\n"
    "  --rebuild NAME       rebuild NAME (and what needs it) whatever the keys say\n"
    "  solve options        --index, --find-links, ... for build requirements from elsewhere\n\n"
    "Exit status: 0 every job built and tested (or up to date), 1 a job failed (the others are\n"
    "published; its log's tail is shown), 2 invalid recipes or arguments.\n"
    "Example: hpcbuild channel build recipes/ --out /srv/channel -j 4 --site /etc/hpcbuild/site.yaml\n"
    "         pip install --index-url file:///srv/channel/simple mpi4py\n";

static int parse_build(int argc, char **argv, channel_opts *o, solve_options *so)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-') {
            o->inputs[o->ninputs++] = a;
        } else if (strcmp(a, "--out") == 0 && v) {
            o->out = argv[++i];
        } else if (strcmp(a, "-j") == 0 && v) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 1024)
                return cli_fail(CLI_USAGE, "-j %s: expected a number of jobs from 1 to 1024", argv[i]);
            o->jobs = (int)n;
        } else if (strcmp(a, "--executor") == 0 && v) {
            o->executor = argv[++i];
            if (strcmp(o->executor, "local") != 0 && strcmp(o->executor, "slurm") != 0)
                return cli_fail(CLI_USAGE, "--executor %s: expected local or slurm", o->executor);
        } else if (strcmp(a, "--site") == 0 && v) {
            o->site = argv[++i];
        } else if (strcmp(a, "--python") == 0 && v) {
            o->python = argv[++i];
        } else if (strcmp(a, "--no-test") == 0) {
            o->no_test = true;
        } else if (strcmp(a, "--rebuild") == 0 && v) {
            o->rebuild[o->nrebuild++] = argv[++i];
        } else if (strcmp(a, "--sbatch-arg") == 0 && v) {
            o->slurm_args[o->nslurm_args++] = argv[++i];
        } else {
            int start = i;
            bool used;
            int rc = solve_parse_option(argc, argv, &i, so, &used);
            if (rc)
                return rc;
            if (!used)
                return cli_fail(CLI_USAGE, "unknown option or missing value '%s' (see hpcbuild channel build --help)",
                                a);
            for (int k = start; k <= i; k++)
                o->solve_args[o->nsolve_args++] = argv[k];
        }
    }
    if (!o->ninputs)
        return cli_fail(CLI_USAGE, "channel build needs recipes (files or directories)");
    if (!o->out)
        return cli_fail(CLI_USAGE, "channel build needs --out DIR (the channel)");
    return CLI_OK;
}

/* Old wheels of the rebuilt jobs out, new ones in, state.json rewritten, the index regenerated. */
static int publish(const channel_opts *o, channel_plan *plan, size_t *nwheels)
{
    char *files = hb_path_join(o->out, "files");
    hb_error err;
    int rc = hb_mkdir_p(files, &err);
    for (size_t i = 0; i < plan->njobs && rc == 0; i++) {
        channel_job *j = &plan->jobs[i];
        if (j->state != JOB_DONE)
            continue;
        for (size_t w = 0; j->old_wheels && j->old_wheels[w]; w++) {
            char *p = hb_path_join(files, j->old_wheels[w]);
            unlink(p);
            strbuf meta = STRBUF_INIT;
            strbuf_printf(&meta, "%s.metadata", p);
            unlink(meta.buf);
            strbuf_free(&meta);
            free(p);
        }
        for (size_t w = 0; j->wheels && j->wheels[w] && rc == 0; w++) {
            strbuf from = STRBUF_INIT;
            strbuf_printf(&from, "%s/wheels/%s", j->dir, j->wheels[w]);
            char *to = hb_path_join(files, j->wheels[w]);
            unlink(to);
            if (rename(from.buf, to) != 0)
                rc = hb_copy_file(from.buf, to, &err);
            (*nwheels)++;
            free(to);
            strbuf_free(&from);
        }
        /* what a passed job leaves besides its log and job.json is scratch */
        static const char *const scratch[] = {"src", "env", "test-env", "test", "built", "deps", "wheels"};
        for (size_t k = 0; k < sizeof scratch / sizeof scratch[0]; k++) {
            char *p = hb_path_join(j->dir, scratch[k]);
            hb_remove_tree(p, NULL);
            free(p);
        }
    }
    /* state.json: the passed and up-to-date jobs with their keys; a failed one keeps its old
     * wheels published and its old key (so it runs again next time) */
    strbuf out = STRBUF_INIT;
    hb_json_writer w;
    hb_json_writer_init(&w, &out, 1);
    hb_json_begin_object(&w);
    hb_json_key(&w, "jobs");
    hb_json_begin_object(&w);
    for (size_t i = 0; i < plan->njobs; i++) {
        const channel_job *j = &plan->jobs[i];
        bool fresh = j->state == JOB_DONE || j->state == JOB_UP_TO_DATE;
        char *const *wheels = j->state == JOB_DONE ? j->wheels : j->old_wheels;
        const char *key = fresh ? j->key : j->old_key;
        if (!wheels || !wheels[0] || !key)
            continue;
        hb_json_key(&w, j->id);
        hb_json_begin_object(&w);
        hb_json_member(&w, "label", j->label);
        hb_json_member(&w, "key", key);
        hb_json_key(&w, "wheels");
        hb_json_string_list(&w, wheels);
        hb_json_end_object(&w);
    }
    hb_json_end_object(&w);
    hb_json_end_object(&w);
    strbuf_putc(&out, '\n');
    char *state = hb_path_join(plan->state_dir, "state.json");
    if (rc == 0)
        rc = hb_mkdir_p(plan->state_dir, &err);
    if (rc == 0)
        rc = hb_write_file_atomic(state, out.buf, out.len, &err);
    free(state);
    strbuf_free(&out);
    free(files);
    hb_channel_index_stats stats;
    memset(&stats, 0, sizeof stats);
    if (rc == 0 && hb_channel_index(o->out, &stats, &err) < 0)
        rc = -1;
    hb_channel_index_stats_free(&stats);
    return rc == 0 ? CLI_OK : cli_fail_error(&err);
}

/* One channel build per DIR at a time: an flock on DIR/.hpcbuild/lock (released when the
 * process ends, however it ends).  -1 after printing why. */
static int lock_channel(const char *out)
{
    char *dir = hb_path_join(out, ".hpcbuild"), *path = hb_path_join(dir, "lock");
    hb_error err;
    int fd = -1;
    if (hb_mkdir_p(dir, &err) != 0)
        cli_fail_error(&err);
    else if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
        cli_fail(CLI_FAILED, "%s: %s", path, strerror(errno));
    else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        cli_fail(CLI_FAILED, "another `hpcbuild channel build` is building into %s (it holds %s)", out, path);
        close(fd);
        fd = -1;
    }
    free(dir);
    free(path);
    return fd;
}

static int channel_build(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (cli_is_help(argv[i])) {
            fputs(build_help, stdout);
            return CLI_OK;
        }
    channel_opts o;
    memset(&o, 0, sizeof o);
    size_t cap = (size_t)argc + 1;
    o.inputs = hb_calloc(cap, sizeof *o.inputs);
    o.rebuild = hb_calloc(cap, sizeof *o.rebuild);
    o.solve_args = hb_calloc(cap, sizeof *o.solve_args);
    o.slurm_args = hb_calloc(cap, sizeof *o.slurm_args);
    o.python = "python3";
    o.executor = "local";
    o.jobs = 1;
    solve_options so;
    solve_options_init(&so, argc);
    channel_plan plan;
    memset(&plan, 0, sizeof plan);
    int status = parse_build(argc, argv, &o, &so);
    so.site = o.site;   /* --site, $HPCBUILD_SITE, /etc/hpcbuild/site.yaml; "none": no site file */
    o.site = solve_site_path(&so);
    /* absolute: job files name them, and jobs run elsewhere (another directory, a Slurm node) */
    char *out_abs = o.out ? hb_path_absolute(o.out) : NULL, *site_abs = o.site ? hb_path_absolute(o.site) : NULL;
    if (out_abs)
        o.out = out_abs;
    if (site_abs)
        o.site = site_abs;
    int lock = -1;
    if (status == CLI_OK && (lock = lock_channel(o.out)) < 0)
        status = CLI_FAILED;
    if (status == CLI_OK)
        status = channel_plan_make(&o, &plan);
    size_t todo = 0, fresh = 0, nwheels = 0;
    for (size_t i = 0; status == CLI_OK && i < plan.njobs; i++) {
        todo += plan.jobs[i].state == JOB_PENDING;
        fresh += plan.jobs[i].state == JOB_UP_TO_DATE;
    }
    if (status == CLI_OK) {
        printf("channel %s: %zu jobs from the recipes, %zu up to date, %zu to build%s%s\n", o.out, plan.njobs,
               fresh, todo, todo && strcmp(o.executor, "slurm") == 0 ? " through Slurm" : "",
               todo ? "" : ": nothing to do");
        for (size_t n = 0; n < plan.njobs; n++) {
            const channel_job *j = &plan.jobs[plan.order[n]];
            if (j->state == JOB_UP_TO_DATE)
                printf("  up to date: %s\n", j->label);
        }
        fflush(stdout);
    }
    if (status == CLI_OK && todo)
        status = channel_plan_prepare(&o, &plan);
    if (status == CLI_OK && todo)
        status = strcmp(o.executor, "slurm") == 0 ? channel_exec_slurm(&o, &plan) : channel_exec_local(&o, &plan);
    size_t built = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < plan.njobs; i++) {
        built += plan.jobs[i].state == JOB_DONE;
        failed += plan.jobs[i].state == JOB_FAILED;
        skipped += plan.jobs[i].state == JOB_SKIPPED;
        if (plan.jobs[i].state == JOB_SKIPPED)
            printf("  %s: %s\n", plan.jobs[i].label, plan.jobs[i].message ? plan.jobs[i].message : "not built");
    }
    if (plan.njobs && (status == CLI_OK || built))
        status = publish(&o, &plan, &nwheels) != CLI_OK ? CLI_FAILED : status;
    if (plan.njobs && status == CLI_OK)
        printf("channel %s: %zu built, %zu up to date, %zu failed, %zu not built; %zu wheels newly published\n", o.out,
               built, fresh, failed, skipped, nwheels);
    if (status == CLI_OK && (failed || skipped))
        status = CLI_FAILED;
    channel_plan_free(&plan);
    if (lock >= 0)
        close(lock);
    free(out_abs);
    free(site_abs);
    solve_options_free(&so);
    free(o.inputs);
    free(o.rebuild);
    free(o.solve_args);
    free(o.slurm_args);
    return status;
}

int cmd_channel(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(channel_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "index") == 0)
        return channel_index(argc - 1, argv + 1);
    if (strcmp(argv[1], "build") == 0)
        return channel_build(argc - 1, argv + 1);
    if (strcmp(argv[1], "run-job") == 0)
        return channel_run_job(argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "channel: unknown subcommand '%s' (expected build, index or run-job)", argv[1]);
}
