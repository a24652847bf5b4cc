"""Issue 6's bench: build overhead of `hpcbuild build` against `pip wheel --no-build-isolation --no-deps`
on the same sdists, in the same run, and the cache-hit time.

usage: /usr/bin/python3 bench/build_bench.py [--hpcbuild build/hpcbuild] [--runs 3] [--site FILE]

The sdists are the build tests' packages (tests/lib/buildpkgs.py): mpihello (setuptools + MPICC),
cysum (Cython against numpy), blasdot (meson-python + BLAS).  Each round builds every sdist once
with each tool, alternating, hpcbuild with --no-cache (a real build every time) and the site file
from `hpcbuild site detect` (so the builds see the same MPICC/BLAS as pip's, which gets the same
variables exported).  Then `hpcbuild build` without --no-cache: the cache hit.  Prints JSON and a
markdown table: best times, overhead = (hpcbuild - pip) / pip, cache-hit time.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import buildpkgs  # noqa: E402

PY = "/usr/bin/python3"
PACKAGES = ["mpihello", "cysum", "blasdot"]


def timed(cmd, env):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit("build_bench: %s failed:\n%s" % (" ".join(cmd), (p.stdout + p.stderr)[-2000:]))
    return wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hpcbuild", default=os.path.join(HERE, "..", "build", "hpcbuild"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="hb-build-bench-")
    try:
        env = dict(os.environ, HPCBUILD_CACHE=os.path.join(tmp, "cache"))
        site = os.path.join(tmp, "site.yaml")
        subprocess.run([args.hpcbuild, "site", "detect", "-o", site, "--base", "none"], check=True,
                       capture_output=True, env=env)
        # pip gets the same tool variables the builder derives from the site
        pip_env = dict(env, MPICC=shutil.which("mpicc") or "mpicc", HPCBUILD_BLAS="openblas",
                       PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
        sdists = {}
        for name in PACKAGES:
            sdists[name] = buildpkgs.sdist(buildpkgs.write(os.path.join(tmp, "src"), name), tmp)
        best = {n: {"hpcbuild": None, "pip": None} for n in PACKAGES}
        for _ in range(args.runs):
            for name, sd in sdists.items():
                out = os.path.join(tmp, "out-hb")
                t = timed([args.hpcbuild, "build", sd, "--python", PY, "--site", site, "--no-cache", "-o", out], env)
                best[name]["hpcbuild"] = t if best[name]["hpcbuild"] is None else min(best[name]["hpcbuild"], t)
                out = os.path.join(tmp, "out-pip")
                t = timed([PY, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q", "-w", out, sd],
                          pip_env)
                best[name]["pip"] = t if best[name]["pip"] is None else min(best[name]["pip"], t)
        hits = {}
        for name, sd in sdists.items():
            out = os.path.join(tmp, "out-hit")
            hits[name] = min(timed([args.hpcbuild, "build", sd, "--python", PY, "--site", site, "-o", out], env)
                             for _ in range(3))
        result = {"runs": args.runs, "builds": best, "cache_hit_s": hits}
        print(json.dumps(result, indent=1))
        print("\n| package | hpcbuild build s | pip wheel s | overhead | cache hit s |")
        print("|---|---:|---:|---:|---:|")
        for name in PACKAGES:
            h, p = best[name]["hpcbuild"], best[name]["pip"]
            print("| %s | %.2f | %.2f | %+.0f%% | %.3f |" % (name, h, p, 100 * (h - p) / p, hits[name]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
