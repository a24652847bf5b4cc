"""A deterministic synthetic PyPI-style index for resolver benchmarks.

usage: /usr/bin/python3 bench/pypi_index_gen.py ROOT [--projects 5000] [--versions 30] [--seed 1]

Writes ROOT/simple/ (PEP 503 HTML and PEP 691 JSON pages, the root project list in both
forms) and ROOT/files/<project>/ (one tiny pure wheel per version plus its PEP 658
.metadata file).  Projects are p0000, p0001, ...; versions 1.0.0 ... (versions/10 + 1).9.0.

The dependency graph: each project requires 0-3 lower-numbered projects, mostly from a
"core" of the first 5 % (as real indices lean on a few popular libraries), with version
ranges.  Every project has a known-good version good[p] (the newest for 80 % of them, one or
two below it for the rest); every requirement written by a version <= good[p] admits good[d]
of its dependency, so {p: good[p]} is always a solution.  Versions newer than good[p] ask
for versions of their dependencies above good[d], and the ranges have upper bounds, so a
resolver that starts from the newest versions meets conflicts and has to backtrack (but
only a little: pip 23.0 spends its whole time backtracking when half the versions are bad).

Every version gets a real wheel: pip 23.0 downloads the wheels it chose even with
--dry-run, and backtracking can settle on any version, so a sparse index (files for the
newest few versions only) would make the peer fail.  Wheels are small and stored
(uncompressed); the WHEEL member and the module are the same bytes for all of them.
Output is byte-identical for the same arguments.
"""
import argparse
import os
import random
import sys
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import pyindex  # noqa: E402


def version(j):
    return "%d.%d.0" % (1 + j // 10, j % 10)


def plan(projects, versions, seed):
    """good[i] and deps[i] = [(d, slack)] for every project: a pure function of the seed."""
    rng = random.Random(seed)
    core = max(1, projects // 20)
    good, deps = [], []
    for i in range(projects):
        good.append(versions - 1 - (rng.randrange(1, 3) if rng.random() < 0.2 else 0))
        picks = set()
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3)) if i else 0):
            pool = core if i > core and rng.random() < 0.7 else i
            lo = max(0, i - 50) if pool == i and i > core else 0
            picks.add(rng.randrange(lo, pool))
        deps.append([(d, rng.randrange(1, 6)) for d in sorted(picks)])
    return good, deps


def requirement(dep, j, good_p, good_d, slack, versions):
    """What version j of a project asks of dep (whose good version is good_d)."""
    name = "p%04d" % dep
    if j > good_p:   # newer than good: wants dep above its good version (if there is one)
        return "%s>=%s" % (name, version(min(versions - 1, good_d + 1)))
    lo = max(0, good_d - slack - (good_p - j) // 3)
    hi = good_d + 1 + slack // 2
    if hi >= versions:
        return "%s>=%s" % (name, version(lo))
    return "%s>=%s,<%s" % (name, version(lo), version(hi))


def generate(root, projects, versions, seed):
    good, deps = plan(projects, versions, seed)
    simple = os.path.join(root, "simple")
    count = 0
    for i in range(projects):
        name = "p%04d" % i
        files_dir = os.path.join(root, "files", name)
        os.makedirs(files_dir, exist_ok=True)
        module = {name + ".py": b"__version__ = None\n"}
        entries = []
        for j in range(versions):
            reqs = [requirement(d, j, good[i], good[d], slack, versions) for d, slack in deps[i]]
            metadata = pyindex.core_metadata(name, version(j), requires_dist=reqs,
                                             requires_python=">=3.8")
            filename, data = pyindex.wheel_bytes(name, version(j), "py3-none-any", module,
                                                 metadata, compress=zipfile.ZIP_STORED)
            path = os.path.join(files_dir, filename)
            with open(path, "wb") as f:
                f.write(data)
            with open(path + ".metadata", "wb") as f:
                f.write(metadata)
            entries.append(pyindex.dist_entry(filename, data, metadata,
                                              "../../files/%s/%s" % (name, filename)))
            count += 1
        pyindex.write_project_page(simple, name, entries)
    pyindex.write_project_list(simple, ["p%04d" % i for i in range(projects)])
    return count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root")
    ap.add_argument("--projects", type=int, default=5000)
    ap.add_argument("--versions", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not 1 <= args.projects <= 10000 or not 1 <= args.versions:
        ap.error("--projects must be 1..10000 (names are p0000..p9999), --versions >= 1")
    start = time.monotonic()
    n = generate(args.root, args.projects, args.versions, args.seed)
    print("wrote %d wheels of %d projects under %s in %.1f s" % (
        n, args.projects, args.root, time.monotonic() - start))


if __name__ == "__main__":
    main()
