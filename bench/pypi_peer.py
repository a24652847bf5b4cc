"""The peer for resolving against a synthetic index: pip 23.0 (Debian's /usr/bin/python3).

usage: /usr/bin/python3 bench/pypi_peer.py ROOT [--names 50] [--runs cold,warm] [--timeout 600]

ROOT is written by bench/pypi_index_gen.py.  Serves it with tests/lib/testserver.py on
127.0.0.1 and runs

    /usr/bin/python3 -m pip install --dry-run --report - --ignore-installed \\
        --cache-dir CACHE --trusted-host 127.0.0.1 --index-url URL p.... (--names projects,
        spread over the index; pip caches plain-http responses only from trusted hosts)

first cold (an empty CACHE), then warm (the same CACHE).  Prints one JSON object: per run
the wall time, pip's exit status, how many packages it chose, and the server's request
counts (pages, .metadata files, wheels; by status).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import pyindex  # noqa: E402


def request_names(root, count):
    with open(os.path.join(root, "simple", "index.json"), encoding="utf-8") as f:
        projects = [p["name"] for p in json.load(f)["projects"]]
    count = min(count, len(projects))
    return [projects[(k + 1) * len(projects) // count - 1] for k in range(count)]


def summarize(log):
    kinds = {"pages": 0, "metadata": 0, "wheels": 0, "other": 0}
    statuses = {}
    for e in log:
        path = e["path"].split("?")[0]
        kind = ("pages" if path.endswith("/") else "metadata" if path.endswith(".metadata")
                else "wheels" if path.endswith(".whl") else "other")
        kinds[kind] += 1
        statuses[str(e["status"])] = statuses.get(str(e["status"]), 0) + 1
    return dict(kinds, requests=len(log), status=statuses)


def run_pip(base, cache, names, timeout):
    cmd = [pyindex.TARGET_PYTHON, "-m", "pip", "install", "--dry-run", "--report", "-",
           "--quiet", "--ignore-installed", "--cache-dir", cache, "--trusted-host", "127.0.0.1",
           "--index-url", base + "/simple/", *names]
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=pyindex.pip_env(),
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"wall_s": None, "rc": None, "packages": None,
                "stderr_tail": "timed out after %d s" % timeout}
    wall = time.monotonic() - start
    chosen = len(json.loads(proc.stdout)["install"]) if proc.returncode == 0 else None
    return {"wall_s": round(wall, 2), "rc": proc.returncode, "packages": chosen,
            "stderr_tail": proc.stderr[-400:] if proc.returncode else ""}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root")
    ap.add_argument("--names", type=int, default=50)
    ap.add_argument("--runs", default="cold,warm")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per pip run")
    args = ap.parse_args()
    names = request_names(args.root, args.names)
    cache = tempfile.mkdtemp(prefix="hb-pip-cache-")
    base, stop, log = pyindex.serve(args.root)
    result = {"peer": "pip 23.0 (/usr/bin/python3)", "root": args.root, "names": len(names)}
    try:
        for run in args.runs.split(","):
            log(reset=True)
            r = run_pip(base, cache, names, args.timeout)
            r["server"] = summarize(log(reset=True))
            result[run] = r
    finally:
        stop()
        shutil.rmtree(cache, ignore_errors=True)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
