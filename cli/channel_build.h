/* channel_build.h — `hpcbuild channel build`: recipes to a published wheel channel.  CLI-private.
 *
 * The plan (channel_plan.c): every recipe file (a directory gives its *.yaml, *.yml and
 * DIR/recipe.yaml) is linted, its variants expanded into jobs, url sources fetched into the
 * package cache (sha256 checked), and each job's needs read (pyproject [build-system] requires
 * and [project] dependencies, plus the recipe's build.requires).  A job depends on every job of a
 * package it needs (all its variants); a cycle is an error naming it.  A job's key is the sha256 of
 * the recipe file, the variant picked, the sources (channel_source digest), the job's site file,
 * the interpreter, the forwarded solve options and the keys of the jobs it depends on: a change
 * rebuilds the job and everything that depends on it.  OUT/.hpcbuild/state.json remembers each
 * job's key and wheels; a job whose key and wheels are there is up to date.
 * Each job to run gets OUT/.hpcbuild/jobs/<id>/: src/ (the prepared tree), site.yaml (the site
 * with only the variant's MPI/BLAS/CUDA kept), job.json; `hpcbuild channel run-job DIR` (the
 * same on a laptop and on a Slurm node) builds it into a venv DIR/env, labels variant wheels
 * with a local version (+openmpi), runs the recipe's test in a fresh venv, and writes
 * DIR/result.json.  Executors (channel_exec.c): local (-j N children) or slurm (one sbatch per
 * job, --dependency=afterok mirroring the graph).  Publishing copies the wheels into OUT/files
 * and indexes OUT (channel_index.h).
 */
#ifndef HPCBUILD_CLI_CHANNEL_BUILD_H
#define HPCBUILD_CLI_CHANNEL_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hpcbuild/recipe.h"

typedef enum channel_job_state {
    JOB_UP_TO_DATE,   /* key unchanged, wheels published */
    JOB_PENDING,      /* to run */
    JOB_RUNNING,
    JOB_DONE,         /* ran and passed */
    JOB_FAILED,       /* ran and failed (result.json says where) */
    JOB_SKIPPED,      /* not run: a job it depends on failed */
} channel_job_state;

typedef struct channel_job {
    char *id;            /* "mpi4py-4.0.1" or "mpi4py-4.0.1-mpi-openmpi": a directory name */
    char *label;         /* "mpi4py 4.0.1 (mpi=openmpi)" */
    char *name;          /* canonical project name */
    char *local;         /* the local version label of a variant ("openmpi"), or NULL */
    hb_recipe recipe;    /* expanded */
    char *recipe_dir;
    char **fetched;      /* per source: the fetched archive, or NULL */
    char **unpacked;     /* per source: where the package cache unpacked it, or NULL */
    char **needs;        /* canonical names it needs */
    char **build_requires;   /* PEP 508: [build-system] requires + build.requires */
    size_t *deps;        /* indices of the jobs it depends on (direct) */
    size_t ndeps;
    char key[72];
    char **old_wheels;   /* what state.json lists for it (file names), or NULL */
    char *old_key;       /* the key state.json has for it, or NULL */
    char **wheels;       /* after a run: the file names in dir/wheels */
    bool tested;         /* after a run: the recipe's test ran (and passed) */
    char *dir;           /* OUT/.hpcbuild/jobs/<id> */
    channel_job_state state;
    pid_t pid;           /* local executor */
    char *slurm_id;      /* slurm executor */
    double started, seconds;
    char *message;       /* why it failed / was skipped */
} channel_job;

typedef struct channel_opts {
    const char **inputs;     /* recipe files or directories */
    size_t ninputs;
    const char *out;
    const char *python;
    const char *site;        /* or NULL */
    const char *executor;    /* "local" or "slurm" */
    int jobs;
    bool no_test;
    const char **rebuild;    /* names to rebuild whatever their keys say */
    size_t nrebuild;
    const char **solve_args; /* forwarded to builds and test installs (--index, --find-links...) */
    size_t nsolve_args;
    const char **slurm_args; /* extra sbatch arguments */
    size_t nslurm_args;
} channel_opts;

typedef struct channel_plan {
    channel_job *jobs;
    size_t njobs;
    size_t *order;           /* topological: dependencies first */
    char *state_dir;         /* OUT/.hpcbuild */
    char *self;              /* this hpcbuild's absolute path */
    char *python;            /* the interpreter's sys.executable (what the key names) */
} channel_plan;

/* Builds the plan (prints lint problems and returns 2 on them); 0 or a CLI status. */
int channel_plan_make(const channel_opts *o, channel_plan *plan);
/* Writes each pending job's directory (src, site.yaml, job.json). */
int channel_plan_prepare(const channel_opts *o, channel_plan *plan);
/* Reads dir/result.json into the job (state DONE/FAILED, wheels, message). */
void channel_job_read_result(channel_job *j);
/* Marks every pending (or queued in Slurm) job that depends (transitively) on job i as skipped. */
void channel_plan_skip_dependants(channel_plan *plan, size_t i);
/* The last lines (at most max bytes) of the job's log, malloc'd. */
char *channel_job_log_tail(const channel_job *j, size_t max);
void channel_plan_free(channel_plan *plan);

/* Runs the pending jobs; prints progress.  0 when every job ran (passed or failed). */
int channel_exec_local(const channel_opts *o, channel_plan *plan);
int channel_exec_slurm(const channel_opts *o, channel_plan *plan);

/* The sbatch options of a recipe's resources (--cpus-per-task=N, --mem=M, --time=T,
 * --partition=P, --gpus=G), NULL-terminated, or NULL. */
char **channel_slurm_resources(const hb_recipe *r);

/* Seconds on the monotonic clock. */
double channel_now(void);
/* This hpcbuild's absolute path (what jobs run), malloc'd; "hpcbuild" when it cannot be read. */
char *channel_self(void);

/* `hpcbuild channel run-job DIR` */
int channel_run_job(int argc, char **argv);

#endif
