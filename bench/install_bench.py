"""Issue 5's bench: install an environment of 200 packages (100 conda packages + 100 pure
wheels) from a warm cache, with hpcbuild and its peers side by side in one run.

usage: /usr/bin/python3 bench/install_bench.py [DATA] [--hpcbuild build/hpcbuild] [--runs 3]
                                               [--json-out FILE]

DATA (default /tmp/hpcbuild-bench-install) is made once, deterministically: a local channel
(DATA/channel, 100 linux-64 packages of 20-200 small files, text and binary files with the
prefix placeholder, a few softlinks and dependencies), 100 pure wheels of 10-100 files in a
find-links directory (DATA/wheels) and a PEP 503/691 index of them (DATA/index/simple).
Everything is local: no network, no server.

Measured (fresh prefixes under DATA/run, kept until the next run; on one filesystem with the cache so hard links
work): a cold hpcbuild install that fills the cache, then --runs rounds in which every tool
runs once, round-robin, so a busy machine's slow spells fall on all of them alike:
  hpcbuild   `hpcbuild install -p P --python /usr/bin/python3 -c CHANNEL --index INDEX
             --platform linux-64 --site none <conda names> pypi::<wheel names>`: once to fill
             $HPCBUILD_CACHE=DATA/cache (cold), then warm into fresh prefixes; and the
             wheels alone (pypi:: names only), warm, for the like-for-like ratios
  pip        `/usr/bin/python3 -m pip install --no-index --find-links DATA/wheels --no-deps
             --no-compile --prefix P <wheel names>`, plus one run (first round) with pip's
             default bytecode compilation, for context
  installer  pypa/installer's API (`installer.install`) over the 100 wheels in ONE Python
             process (its CLI takes one wheel per call), no bytecode
  cp -al     `cp -al` of the first warm hpcbuild prefix (exactly the files hpcbuild placed)
             into a fresh directory: the filesystem's own hard-link rate
Prints a JSON object, then a markdown table: best and median wall seconds, files placed,
files/s, and the ratios (peer time / hpcbuild time; cp -al rate / hpcbuild rate).
"""
import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import condapkg  # noqa: E402
import pyindex  # noqa: E402

PY = "/usr/bin/python3"
N_CONDA = 100
N_WHEELS = 100
LAYOUT_VERSION = 1          # bump when the generated data changes
CP_SOURCE = "hpcbuild-0"    # the first warm hpcbuild prefix: what cp -al copies


# --- the data ------------------------------------------------------------------------------

def conda_name(i):
    return "hbbench-c%03d" % i


def wheel_name(i):
    return "hbbench-w%03d" % i


def blob(seed, size):
    """size deterministic bytes that look like compiled data (do not compress well)."""
    out, block = [], seed.encode()
    while sum(map(len, out)) < size:
        block = hashlib.sha256(block).digest()
        out.append(block)
    return b"".join(out)[:size]


def text(rng, lines):
    words = ["alpha", "beta", "gamma", "delta", "solver", "channel", "wheel", "prefix", "link"]
    return "".join(" ".join(rng.choice(words) for _ in range(8)) + "\n"
                   for _ in range(lines)).encode()


def conda_package(outdir, i):
    """One linux-64 package: headers, data blobs, docs, a config script and pkg-config file with
    the text placeholder, every 5th a shared library with the binary placeholder and its .so
    softlink; every 10th depends on the one before; every 4th is a .tar.bz2."""
    rng = random.Random(1000 + i)
    name = conda_name(i)
    under = name.replace("-", "_")
    nfiles = rng.randint(20, 200)
    text_prefix = ["bin/%s-config" % name, "lib/pkgconfig/%s.pc" % name]
    binary_prefix, softlinks = [], {}
    if i % 5 == 0:
        lib = "lib/lib%s.so.1" % under
        binary_prefix.append(lib)
        softlinks["lib/lib%s.so" % under] = "lib%s.so.1" % under
    files = {}
    for k in range(nfiles - len(text_prefix) - len(binary_prefix)):
        kind = k % 3
        if kind == 0:
            files["include/%s/h%03d.h" % (name, k)] = text(rng, rng.randint(3, 40))
        elif kind == 1:
            files["lib/%s/data%03d.bin" % (under, k)] = blob("%s/%d" % (name, k),
                                                           rng.randint(64, 4096))
        else:
            files["share/%s/doc%03d.txt" % (name, k)] = text(rng, rng.randint(2, 60))
    depends = [conda_name(i - 1)] if i % 10 == 0 and i > 0 else []
    return condapkg.make_package(outdir, name, "1.%d.%d" % (i % 4, i % 7), "h%04d_0" % i,
                                 depends=depends, files=files, text_prefix=text_prefix,
                                 binary_prefix=binary_prefix, softlinks=softlinks,
                                 fmt="tar.bz2" if i % 4 == 3 else "conda")


def wheel(outdir, i):
    """One pure wheel: a package directory of 10-100 modules, a subpackage and a data file."""
    rng = random.Random(2000 + i)
    name = wheel_name(i)
    pkg = pyindex.escape(name)
    nfiles = rng.randint(10, 100)
    files = {pkg + "/__init__.py": ("__version__ = '2.%d'\n" % i).encode(),
             pkg + "/py.typed": b""}
    for k in range(nfiles - 2):
        sub = "/sub" if k % 4 == 3 else ""
        body = "".join("def f%d_%d(x):\n    return x * %d + %d\n\n" % (k, j, j, rng.randint(0, 99))
                       for j in range(rng.randint(1, 30)))
        files["%s%s/mod%03d.py" % (pkg, sub, k)] = body.encode()
    if any("/sub/" in p for p in files):
        files[pkg + "/sub/__init__.py"] = b""
    return pyindex.make_wheel(outdir, name, "2.%d" % i, files=files)


def generate(data):
    """Writes DATA/channel, DATA/wheels and DATA/index once; returns the layout stamp."""
    stamp_path = os.path.join(data, "layout.json")
    if os.path.exists(stamp_path):
        with open(stamp_path) as f:
            stamp = json.load(f)
        if stamp.get("version") == LAYOUT_VERSION:
            return stamp
    shutil.rmtree(data, ignore_errors=True)
    build = os.path.join(data, "build")
    conda = [conda_package(os.path.join(build, "conda"), i) for i in range(N_CONDA)]
    channel = condapkg.write_channel(data, "channel", conda)
    wheels = [wheel(os.path.join(build, "wheels"), i) for i in range(N_WHEELS)]
    find_links = pyindex.write_find_links(os.path.join(data, "wheels"), wheels)
    simple = pyindex.write_index(os.path.join(data, "index"), wheels)
    shutil.rmtree(build)
    stamp = {"version": LAYOUT_VERSION, "channel": channel, "find_links": find_links,
             "index": simple, "conda": [conda_name(i) for i in range(N_CONDA)],
             "wheels": [wheel_name(i) for i in range(N_WHEELS)]}
    with open(stamp_path, "w") as f:
        json.dump(stamp, f, indent=1)
    return stamp


# --- measuring -----------------------------------------------------------------------------

def timed(cmd, env=None):
    """Runs cmd; returns (wall s, CPU s of the child: user + system).  Exits on failure with
    the command and the tail of its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit("install_bench: exit %d from:\n  %s\n%s%s" % (
            proc.returncode, " ".join(cmd), proc.stdout[-2000:], proc.stderr[-2000:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def count_entries(root):
    """(regular files, symlinks) under root."""
    files = links = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for n in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            if os.path.islink(os.path.join(dirpath, n)):
                links += 1
            else:
                files += 1
    return files, links


def set_aside(data, paths):
    """Moves what an earlier run left (the cache, the prefixes) into DATA/trash, to be removed
    after this run has measured (see measure()).  Returns the trash directory."""
    trash = os.path.join(data, "trash")
    os.makedirs(trash, exist_ok=True)
    for n, path in enumerate(paths):
        if os.path.exists(path):
            os.rename(path, os.path.join(trash, "%d-%d-%s" % (os.getpid(), n, os.path.basename(path))))
    return trash


def measure(base, tools, rounds):
    """Runs the tools round-robin (each round: every tool once, in order), so a busy machine's
    slow spells fall on all of them alike.  tools: [(label, runs, make_cmd, env)]; make_cmd
    takes a fresh prefix DATA/run/<label>-<n>, counted after the tool's first run.  Nothing is
    removed while measuring: on ext4, creating files next to many just-deleted inodes is several
    times slower (the allocator skips recently deleted inodes; ext4 without a journal, as
    here), which would tax the tools that write new files (pip, installer) more than those
    that hard-link.  The prefixes stay until the next run sets them aside.
    Returns {label: summary}."""
    os.makedirs(base)
    out = {}
    for n in range(rounds):
        for label, count, make_cmd, env in tools:
            if n >= count:
                continue
            prefix = os.path.join(base, "%s-%d" % (label, n))
            wall, cpu = timed(make_cmd(prefix), env)
            print("  %-16s run %d: %.3f s wall, %.3f s CPU" % (label, n + 1, wall, cpu),
                  file=sys.stderr, flush=True)
            x = out.setdefault(label, {"runs": [], "cpu": []})
            x["runs"].append(round(wall, 4))
            x["cpu"].append(round(cpu, 4))
            if n == 0:
                x["files"], x["symlinks"] = count_entries(prefix)
    for x in out.values():
        x["best_s"] = min(x["runs"])
        x["median_s"] = round(statistics.median(x["runs"]), 4)
        x["cpu_best_s"] = min(x.pop("cpu"))
        x["files_per_s"] = round((x["files"] + x["symlinks"]) / x["best_s"])
    return out


def installer_script(wheels_dir, names):
    """A Python program installing every wheel with pypa/installer's API into sys.argv[1]."""
    return """
import os, sys, sysconfig
from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile
prefix = sys.argv[1]
v = "python%%d.%%d" %% sys.version_info[:2]
scheme = {"purelib": prefix + "/lib/" + v + "/site-packages",
          "platlib": prefix + "/lib/" + v + "/site-packages",
          "headers": prefix + "/include/" + v, "scripts": prefix + "/bin", "data": prefix}
dest = SchemeDictionaryDestination(scheme, interpreter=sys.executable, script_kind="posix",
                                   bytecode_optimization_levels=())
wheels = %r
names = set(%r)
for fn in sorted(os.listdir(wheels)):
    if fn.endswith(".whl") and fn.split("-")[0].replace("_", "-") in names:
        with WheelFile.open(os.path.join(wheels, fn)) as source:
            install(source, dest, {"INSTALLER": b"installer"})
""" % (wheels_dir, list(names))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", nargs="?", default="/tmp/hpcbuild-bench-install")
    ap.add_argument("--hpcbuild", default=os.path.join(HERE, "..", "build", "hpcbuild"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json-out")
    args = ap.parse_args()
    data = os.path.abspath(args.data)
    hpcbuild = os.path.abspath(args.hpcbuild)
    t0 = time.perf_counter()
    stamp = generate(data)
    print("install_bench: data in %s (%.1f s)" % (data, time.perf_counter() - t0),
          file=sys.stderr, flush=True)

    cache = os.path.join(data, "cache")
    base = os.path.join(data, "run")
    trash = set_aside(data, [cache, base, base + "-cold"])
    hb_env = dict(pyindex.no_proxy_env(), HPCBUILD_CACHE=cache)
    wheel_specs = ["pypi::" + n for n in stamp["wheels"]]

    def hb_cmd(specs, conda=True):
        chan = ["-c", stamp["channel"]] if conda else []
        return lambda prefix: ([hpcbuild, "install", "-p", prefix, "--python", PY] + chan
                               + ["--index", stamp["index"], "--platform", "linux-64",
                                  "--site", "none"] + specs)

    def pip_cmd(*extra):
        return lambda prefix: ([PY, "-m", "pip", "install", "--no-index", "--find-links",
                                stamp["find_links"], "--no-deps", "--prefix", prefix, "-q"]
                               + list(extra) + stamp["wheels"])

    both = hb_cmd(stamp["conda"] + wheel_specs)
    pip_env = pyindex.pip_env()
    script = installer_script(stamp["find_links"], stamp["wheels"])
    source = os.path.join(base, CP_SOURCE)
    result = {"data": data, "packages": {"conda": len(stamp["conda"]), "wheels": len(stamp["wheels"])},
              "commands": {"hpcbuild": " ".join(both("PREFIX")[1:])}}
    result.update(measure(base + "-cold", [("hpcbuild_cold", 1, both, hb_env)], 1))
    result.update(measure(base, [
        ("hpcbuild", args.runs, both, hb_env),
        ("hpcbuild_wheels", args.runs, hb_cmd(wheel_specs, conda=False), hb_env),
        ("pip", args.runs, pip_cmd("--no-compile"), pip_env),
        ("pip_compile", 1, pip_cmd(), pip_env),
        ("installer", args.runs, lambda prefix: [PY, "-c", script, prefix], None),
        ("cp_al", args.runs, lambda dest: ["cp", "-al", source, dest], None)], args.runs))
    result["commands"].update(
        pip=" ".join(pip_cmd("--no-compile")("PREFIX")[2:]),
        installer="installer.install(WheelFile, SchemeDictionaryDestination(..., "
                  "bytecode_optimization_levels=())) for each wheel, one process",
        cp_al="cp -al HPCBUILD_PREFIX DEST")
    hb, hbw = result["hpcbuild"], result["hpcbuild_wheels"]
    result["ratios"] = {
        "pip_over_hpcbuild_wheels": round(result["pip"]["best_s"] / hbw["best_s"], 1),
        "pip_compile_over_hpcbuild_wheels": round(result["pip_compile"]["best_s"] / hbw["best_s"], 1),
        "installer_over_hpcbuild_wheels": round(result["installer"]["best_s"] / hbw["best_s"], 1),
        "cp_al_rate_over_hpcbuild_rate": round(result["cp_al"]["files_per_s"] / hb["files_per_s"], 2),
    }
    shutil.rmtree(trash)
    doc = json.dumps(result, indent=1)
    print(doc)
    if args.json_out:
        with open(args.json_out, "w") as f:
            f.write(doc + "\n")
    print(table(result, args.runs))


def table(r, runs):
    rows = [("hpcbuild, 100 conda + 100 wheels, cold cache (fills it)", "hpcbuild_cold", None),
            ("hpcbuild, 100 conda + 100 wheels, warm", "hpcbuild", None),
            ("hpcbuild, 100 wheels alone, warm", "hpcbuild_wheels", None),
            ("pip install --no-index --find-links --no-compile, 100 wheels", "pip",
             "pip_over_hpcbuild_wheels"),
            ("pip install, same, default (compiles .pyc), 1 run", "pip_compile",
             "pip_compile_over_hpcbuild_wheels"),
            ("pypa/installer API, 100 wheels, one process, no .pyc", "installer",
             "installer_over_hpcbuild_wheels"),
            ("cp -al of the warm hpcbuild prefix", "cp_al", None)]
    out = ["| run (best of %d unless said) | best s | median s | CPU s | files + symlinks | "
           "files/s | peer / hpcbuild (wheels) |" % runs, "|---|---:|---:|---:|---:|---:|---:|"]
    for label, key, ratio in rows:
        x = r[key]
        out.append("| %s | %.3f | %.3f | %.3f | %d | %d | %s |" % (
            label, x["best_s"], x["median_s"], x["cpu_best_s"], x["files"] + x["symlinks"],
            x["files_per_s"], "%.1fx" % r["ratios"][ratio] if ratio else "-"))
    out.append("\ncp -al rate / hpcbuild rate (full warm install): %.2f"
               % r["ratios"]["cp_al_rate_over_hpcbuild_rate"])
    return "\n".join(out)


if __name__ == "__main__":
    main()
