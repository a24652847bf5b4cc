"""Issue 4's bench: resolve a 50-project request against a synthetic index on loopback, with
hpcbuild and pip side by side in one run, cold and warm.

usage: /usr/bin/python3 bench/pypi_solve.py ROOT [--names 50] [--hpcbuild build/hpcbuild]
                                            [--pip-timeout 900] [--no-pip]

ROOT is written by bench/pypi_index_gen.py (5,000 projects x 30 versions for the issue's figure).
One server (tests/lib/testserver.py) serves it to both tools.  hpcbuild: `hpcbuild solve --index
URL --python /usr/bin/python3 --ignore-installed pypi::NAME...` with a fresh $HPCBUILD_CACHE (cold)
and the same cache again (warm).  pip: `pip install --dry-run --report -` with a fresh --cache-dir
and then the same one (bench/pypi_peer.py).  Prints one JSON object: wall times, the server's
request counts (pages, .metadata, wheels) per run, how many packages each chose, and the ratios.
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
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import pyindex  # noqa: E402
import pypi_peer  # noqa: E402


def run_hpcbuild(hpcbuild, base, cache, names):
    cmd = [hpcbuild, "solve", "--python", pyindex.TARGET_PYTHON, "--ignore-installed", "--json", "--stats",
           "--index", base + "/simple/"] + ["pypi::" + n for n in names]
    env = dict(pyindex.no_proxy_env(), HPCBUILD_CACHE=cache)
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.monotonic() - start
    out = json.loads(proc.stdout) if proc.stdout.strip() else {}
    stats = {}
    for line in proc.stderr.splitlines():
        if line.startswith("{"):
            stats = json.loads(line)
    return {"wall_s": round(wall, 3), "rc": proc.returncode,
            "packages": len(out.get("packages", [])) if out.get("success") else None,
            "stats": stats, "stderr_tail": proc.stderr[-400:] if proc.returncode else ""}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root")
    ap.add_argument("--names", type=int, default=50)
    ap.add_argument("--hpcbuild", default=os.path.join(HERE, "..", "build", "hpcbuild"))
    ap.add_argument("--pip-timeout", type=int, default=900)
    ap.add_argument("--no-pip", action="store_true")
    args = ap.parse_args()
    names = pypi_peer.request_names(args.root, args.names)
    base, stop, log = pyindex.serve(args.root)
    hb_cache = tempfile.mkdtemp(prefix="hb-bench-pypi-")
    pip_cache = tempfile.mkdtemp(prefix="hb-bench-pip-")
    result = {"root": args.root, "names": len(names), "hpcbuild": {}, "pip": {}}
    try:
        for run in ("cold", "warm"):
            log(reset=True)
            r = run_hpcbuild(args.hpcbuild, base, hb_cache, names)
            r["server"] = pypi_peer.summarize(log(reset=True))
            result["hpcbuild"][run] = r
        if not args.no_pip:
            for run in ("cold", "warm"):
                log(reset=True)
                r = pypi_peer.run_pip(base, pip_cache, names, args.pip_timeout)
                r["server"] = pypi_peer.summarize(log(reset=True))
                result["pip"][run] = r
            for run in ("cold", "warm"):
                ours, peer = result["hpcbuild"][run]["wall_s"], result["pip"][run]["wall_s"]
                if ours and peer:
                    result["speedup_" + run] = round(peer / ours, 1)
    finally:
        stop()
        shutil.rmtree(hb_cache, ignore_errors=True)
        shutil.rmtree(pip_cache, ignore_errors=True)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
