"""Issue 8's bench: `hpcbuild channel build -j 2` against the sum of the single builds of the same
recipe set, in the same run; the Slurm executor on the single-node test Slurm when it can run;
`hpcbuild channel index` on a synthetic channel of 10,000 wheels.

usage: /usr/bin/python3 bench/channel_bench.py [--hpcbuild build/hpcbuild] [--runs 3] [--no-slurm]

The recipe set is the tests' (tests/lib/channelset.py: 5 recipes, 6 jobs, one MPI variant matrix).
Every round builds the whole set into a fresh channel with a fresh HPCBUILD_CACHE (no cache hits),
once with -j 1 (one job after another: the sum of single builds) and once with -j 2, alternating;
the per-job seconds printed by the -j 1 run are summed too.  Best of --runs.  Then the index: 10,000
wheels (200 projects x 50 versions, made with tests/lib/pyindex.py) indexed from scratch, best of 3.
Prints JSON and a markdown table.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import channelset  # noqa: E402
import pyindex  # noqa: E402

PY = "/usr/bin/python3"


def channel_build(hb, recipes, site, work, tag, extra, env):
    out = os.path.join(work, "chan-" + tag)
    cache = os.path.join(work, "cache-" + tag)
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    t0 = time.perf_counter()
    p = subprocess.run([hb, "channel", "build", recipes, "--out", out, "--site", site, "--python", PY,
                        "--platform", "linux-64", *extra], capture_output=True, text=True,
                       env=dict(env, HPCBUILD_CACHE=cache))
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("channel build %s failed:\n%s%s" % (" ".join(extra), p.stdout, p.stderr[-3000:]))
    jobs = [float(s) for s in re.findall(r"built(?: and tested)? in ([\d.]+) s", p.stdout)]
    return wall, jobs


def index_bench(hb, work):
    chan = os.path.join(work, "index-10k")
    files = os.path.join(chan, "files")
    os.makedirs(files, exist_ok=True)
    if len(os.listdir(files)) < 10000:
        for p in range(200):
            for v in range(50):
                pyindex.make_wheel(files, "p%03d" % p, "1.%d" % v, requires_dist=["p%03d>=1.0" % ((p + 1) % 200)])
    best = None
    for _ in range(3):
        for sub in ("simple", "channel.json"):
            path = os.path.join(chan, sub)
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else None
        for f in os.listdir(files):
            if f.endswith(".metadata"):
                os.unlink(os.path.join(files, f))
        t0 = time.perf_counter()
        subprocess.run([hb, "channel", "index", "--quiet", chan], check=True)
        t = time.perf_counter() - t0
        best = t if best is None else min(best, t)
    return len([f for f in os.listdir(files) if f.endswith(".whl")]), best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hpcbuild", default=os.path.join(HERE, "..", "build", "hpcbuild"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-slurm", action="store_true")
    args = ap.parse_args()
    hb = os.path.abspath(args.hpcbuild)
    work = tempfile.mkdtemp(prefix="hb-channel-bench-")
    env = dict(os.environ)
    results = {}
    try:
        src = os.path.join(work, "src")
        for name in channelset.PACKAGES:
            channelset.write_tree(src, name)
        dists = os.path.join(work, "dists")
        os.makedirs(dists)
        sd = channelset.make_sdist(os.path.join(src, "hbcore"), dists)
        sha = hashlib.sha256(open(sd, "rb").read()).hexdigest()
        base, stop, _ = pyindex.serve(work)
        try:
            recipes = channelset.write_recipes(work, src, base + "/dists/hbcore-1.0.tar.gz", sha)
            site = channelset.site_file(work)
            j1 = j2 = None
            job_sum = None
            for _ in range(args.runs):
                w1, jobs = channel_build(hb, recipes, site, work, "j1", ["-j", "1"], env)
                w2, _ = channel_build(hb, recipes, site, work, "j2", ["-j", "2"], env)
                j1 = w1 if j1 is None else min(j1, w1)
                j2 = w2 if j2 is None else min(j2, w2)
                job_sum = sum(jobs) if job_sum is None else min(job_sum, sum(jobs))
            results.update({"jobs": 6, "j1_wall_s": round(j1, 2), "sum_of_jobs_s": round(job_sum, 2),
                            "j2_wall_s": round(j2, 2), "speedup_j2_vs_sum": round(job_sum / j2, 2),
                            "speedup_j2_vs_j1": round(j1 / j2, 2)})
            if not args.no_slurm:
                import slurm
                why = slurm.Cluster.available()
                if why:
                    results["slurm"] = "not run: " + why
                else:
                    with slurm.Cluster(os.path.join(work, "slurm")) as c:
                        ws, _ = channel_build(hb, recipes, site, work, "slurm", ["--executor", "slurm"],
                                              dict(env, **c.env))
                    results["slurm_wall_s"] = round(ws, 2)
        finally:
            stop()
        n, t = index_bench(hb, work)
        results.update({"index_wheels": n, "index_s": round(t, 2)})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=1))
    print("\n| what | seconds |\n|---|---|")
    print("| 6 jobs, -j 1 (wall) | %.2f |" % results["j1_wall_s"])
    print("| sum of the 6 jobs' own times (-j 1) | %.2f |" % results["sum_of_jobs_s"])
    print("| 6 jobs, -j 2 (wall) | %.2f (%.2fx faster than the sum) |" % (results["j2_wall_s"],
                                                                      results["speedup_j2_vs_sum"]))
    if "slurm_wall_s" in results:
        print("| 6 jobs, --executor slurm, 1 node (wall) | %.2f |" % results["slurm_wall_s"])
    print("| channel index, %d wheels | %.2f |" % (results["index_wheels"], results["index_s"]))


main()
