"""explain.cli: explanations of unsatisfiable solves, through `hpcbuild solve` (text and --json)
and, for site externals (which the CLI does not take yet), through the pool's solve_tool.

Every case checks: exit status 1; the text form is the heading line and then each problem
indented by two spaces; --json gives {"success":false,"problems":[...]} with exactly the same
problems; no libsolv vocabulary ("rule", solvable ids); the same answer when the channel's
records come in the opposite order; and the chain itself: from "you asked for SPEC" through
the records (name, version, build where the version has other builds, channel) to the
clashing constraints.  Usage: explain_cli.py SOLVE_TOOL
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from hbtest import SOURCE, Tally, check_sanitizers, json_line, run_cli, testdata  # noqa: E402

TOOL = sys.argv[1]
T = Tally()
EXAMPLE = os.path.join(SOURCE, "examples", "channel")
HEADING = "hpcbuild: the request cannot be satisfied:\n"


def write_channel(root, name, records, reverse=False):
    """A one-subdir (noarch) channel; reverse writes the records in the opposite order."""
    chan = os.path.join(root, name)
    os.makedirs(os.path.join(chan, "noarch"), exist_ok=True)
    pkgs = []
    for r in records:
        r = dict({"build": "0", "build_number": 0, "depends": [], "subdir": "noarch"}, **r)
        pkgs.append(("%s-%s-%s.tar.bz2" % (r["name"], r["version"], r["build"]), r))
    if reverse:
        pkgs.reverse()
    with open(os.path.join(chan, "noarch", "repodata.json"), "w", encoding="utf-8") as f:
        json.dump({"info": {"subdir": "noarch"}, "packages": dict(pkgs)}, f)
    return chan


def unsat(group, args):
    """Runs `hpcbuild solve ARGS` as text and as --json; checks they agree; returns the problems."""
    rc, out, err = run_cli("solve", *args)
    jrc, jout, jerr = run_cli("solve", "--json", *args)
    d = json_line(jout)
    ok = rc == 1 and jrc == 1 and out == "" and jerr == "" and d is not None and d.get("success") is False
    if not ok:
        T.check(group, False, "expected exit 1 and a --json failure for %s: rc=%d %r %r / rc=%d %r %r"
                % (args, rc, out, err, jrc, jout, jerr))
        return None
    problems = d["problems"]
    # text: each problem indented by two (its "- " lines too), a blank line after a
    # multi-line problem when another follows
    want = HEADING
    for i, p in enumerate(problems):
        if i and "\n" in problems[i - 1]:
            want += "\n"
        want += "  " + p.replace("\n", "\n  ") + "\n"
    T.check(group, err == want,
            "text and --json differ for %s:\n%s\n%r" % (args, err, problems))
    plain(group, problems)
    return problems


def plain(group, problems):
    text = "\n".join(problems)
    T.check(group, problems and "rule" not in text.lower() and "@" not in text and "#" not in text,
            "libsolv vocabulary in %r" % text)


def expect(group, problems, *lines):
    """Each of lines is a whole line of some problem (a problem may span several lines)."""
    if problems is None:
        return
    have = [ln for p in problems for ln in p.split("\n")]
    have = [ln[4:] if ln.startswith("  - ") else ln for ln in have]
    missing = [ln for ln in lines if ln not in have]
    T.check(group, not missing, "missing line(s) %r in %r" % (missing, problems))


def contains(group, problems, *needles):
    if problems is None:
        return
    text = "\n".join(problems)
    missing = [n for n in needles if n not in text]
    T.check(group, not missing, "%r lacks %r" % (text, missing))


def example_channel():
    base = ["-c", EXAMPLE, "--platform", "linux-64", "--virtual", "__glibc=2.28"]
    # the MPI clash: every mpi4py build is ruled out, each by its own chain
    p = unsat("mpi", base + ["python=3.11", "mpi4py", "openmpi>=5"])
    T.check("mpi", p and len(p) == 1 and p[0].split("\n")[0] ==
            "you asked for python=3.11, mpi4py and openmpi>=5, which cannot all be installed:", str(p))
    expect("mpi", p,
           "you asked for python=3.11, but you asked for mpi4py -> mpi4py 3.1.6 builds py312h4a4f8d5_1 "
           "and py312h0a5e5b6_1 (%s) require python >=3.12,<3.13.0a0" % EXAMPLE,
           "you asked for openmpi>=5, but you asked for mpi4py -> mpi4py 3.1.6 py311h4a4f8d5_1 (%s) "
           "requires openmpi >=4.1.6,<5.0a0" % EXAMPLE,
           "you asked for openmpi>=5 -> openmpi 5.0.3 (%s) requires mpi 1.0 openmpi, but you asked for "
           "mpi4py -> mpi4py 3.1.6 py311h0a5e5b6_1 (%s) -> mpich 4.2.1 (%s) requires mpi 1.0 mpich: "
           "only one mpi can be installed" % (EXAMPLE, EXAMPLE, EXAMPLE))
    T.check("mpi", p and p[0].count("\n  - ") == 3, "three chains: %r" % p)
    # a build-string pin: the chain names the build
    p = unsat("mpi", base + ["python=3.12", "numpy=1.26.4=py311h64a7726_0"])
    expect("mpi", p, "you asked for python=3.12, but you asked for numpy=1.26.4=py311h64a7726_0 -> "
           "numpy 1.26.4 py311h64a7726_0 (%s) requires python >=3.11,<3.12.0a0" % EXAMPLE)
    # a BLAS mutex through build strings: the other build is named
    p = unsat("mutex", base + ["libblas=*=*netlib", "liblapack=*=*openblas"])
    expect("mutex", p, "you asked for libblas=*=*netlib, but you asked for liblapack=*=*openblas -> "
           "liblapack 3.9.0 22_linux64_openblas (%s) requires libblas 3.9.0 22_linux64_openblas" % EXAMPLE)
    # __glibc too old: what the site has instead
    p = unsat("__glibc", ["-c", EXAMPLE, "--platform", "linux-64", "--virtual", "__glibc=2.12", "python"])
    expect("__glibc", p, "you asked for python -> python 3.12.3 and 3.11.9 (%s) require __glibc "
           ">=2.17,<3.0.a0, but no package matches it (available: __glibc 2.12 0 (site))" % EXAMPLE)


CHAIN = [
    {"name": "app", "version": "1.0", "depends": ["liba >=2"]},
    {"name": "liba", "version": "2.0", "depends": ["core >=3"]},
    {"name": "liba", "version": "1.0", "depends": ["core >=1"]},
    {"name": "core", "version": "3.1"},
    {"name": "core", "version": "2.0"},
    {"name": "x", "version": "1", "depends": ["a"]},
    {"name": "a", "version": "1", "constrains": ["b <2"]},
    {"name": "b", "version": "1"},
    {"name": "b", "version": "2"},
    # a mutex: two flavours of one metapackage
    {"name": "fft", "version": "1.0", "build": "fftw"},
    {"name": "fft", "version": "1.0", "build": "mkl"},
    {"name": "fftw", "version": "3.3", "depends": ["fft 1.0 fftw"]},
    {"name": "mkl-fft", "version": "1.3", "depends": ["fft 1.0 mkl"]},
    {"name": "solver", "version": "2.0", "build": "h_0", "depends": ["fftw >=3"]},
    {"name": "solver", "version": "2.0", "build": "h_1", "depends": ["fftw >=3", "x"]},
    {"name": "mpi4py", "version": "3.1.4", "depends": ["openmpi >=4.1,<5"]},
    {"name": "openmpi", "version": "4.1.6", "build": "h1_0"},
]


def hand_made(tmp):
    first = None
    for reverse in (False, True):
        chan = write_channel(tmp, "ch-%d" % reverse, CHAIN, reverse)
        got = {}
        # a version conflict through two levels of depends
        got["two levels"] = p = unsat("two levels", ["-c", chan, "--platform", "linux-64", "app", "core=2"])
        expect("two levels", p, "you asked for core=2, but you asked for app -> app 1.0 (%s) -> liba 2.0 (%s) "
               "requires core >=3" % (chan, chan))
        # a constrains clash, one level down
        got["constrains"] = p = unsat("constrains", ["-c", chan, "--platform", "linux-64", "x", "b>=2"])
        expect("constrains", p, "you asked for b>=2, but you asked for x -> x 1 (%s) -> a 1 (%s) "
               "constrains b <2, which excludes b 2 (%s)" % (chan, chan, chan))
        # a mutex: both flavours' depends, and "only one"
        got["mutex"] = p = unsat("mutex", ["-c", chan, "--platform", "linux-64", "solver", "mkl-fft"])
        expect("mutex", p, "you asked for mkl-fft -> mkl-fft 1.3 (%s) requires fft 1.0 mkl, but you asked "
               "for solver -> solver 2.0 h_1 (%s) -> fftw 3.3 (%s) requires fft 1.0 fftw: only one fft can be "
               "installed" % (chan, chan, chan))
        # two problems are two strings, each with its own chain
        got["two problems"] = p = unsat("two problems", ["-c", chan, "--platform", "linux-64",
                                                         "app", "core<3", "x", "b>=2"])
        T.check("two problems", p and len(p) == 2, str(p))
        contains("two problems", p, "you asked for core<3, but you asked for app", "requires core >=3",
                 "you asked for b>=2, but you asked for x", "constrains b <2, which excludes b 2")
        if reverse:
            T.check("deterministic", got == first, "record order changed the answer:\n%r\n%r" % (first, got))
        else:   # the same answer expected from the reversed channel (named ch-1)
            first = {k: [x.replace(os.path.join(tmp, "ch-0"), os.path.join(tmp, "ch-1")) for x in v]
                     for k, v in got.items() if v is not None}


def strict_priority(tmp):
    hi = write_channel(tmp, "hi", [{"name": "c", "version": "1"}])
    lo = write_channel(tmp, "lo", [{"name": "c", "version": "2"},
                                   {"name": "k", "version": "1", "depends": ["c >=2"]}])
    p = unsat("strict priority", ["-c", hi, "-c", lo, "--platform", "linux-64", "k"])
    expect("strict priority", p, "you asked for k -> k 1 (%s) requires c >=2, but no package matches it "
           "(available: c 2 (%s) and c 1 (%s); strict channel priority takes c only from %s)" % (lo, lo, hi, hi))
    p = unsat("strict priority", ["-c", hi, "-c", lo, "--platform", "linux-64", "c>=2"])
    expect("strict priority", p, "you asked for c>=2, but no package matches it (available: c 2 (%s) and "
           "c 1 (%s); strict channel priority takes c only from %s)" % (lo, hi, hi))


def tool(*args):
    proc = subprocess.run([TOOL, *args], capture_output=True, text=True)
    check_sanitizers(proc.stderr, " ".join(args))
    d = json.loads(proc.stdout) if proc.stdout else {}
    ok = proc.returncode == 1 and d.get("success") is False
    T.check("site", ok, "expected unsatisfiable: %s %r" % (args, proc.stdout + proc.stderr))
    if ok:
        plain("site", d["problems"])
    return d.get("problems") if ok else None


def site(tmp):
    chan = write_channel(tmp, "site-ch", CHAIN)
    repodata = os.path.join(chan, "noarch", "repodata.json")
    p = tool("--channel", "cf", repodata, "--external", "openmpi=5.0.0=external_site", "mpi4py")
    expect("site", p, "you asked for mpi4py -> mpi4py 3.1.4 (cf) requires openmpi >=4.1,<5, but the site "
           "provides openmpi 5.0.0 external_site (site), which cannot be changed")
    p = tool("--channel", "cf", repodata, "--external", "core=2.0=ext", "app")
    expect("site", p, "you asked for app -> app 1.0 (cf) -> liba 2.0 (cf) requires core >=3, but the site "
           "provides core 2.0 ext (site), which cannot be changed")


def long_problem():
    # mamba's sudoku.json is unsatisfiable in dozens of ways: the list is capped
    sudoku = testdata("repodata", "libmamba", "sudoku.json")
    proc = subprocess.run([TOOL, "--channel", "sudoku", sudoku, "sudoku_0_0 ==5", "sudoku_0_1 ==3",
                           "sudoku_0_4 ==7"], capture_output=True, text=True)
    check_sanitizers(proc.stderr, "sudoku")
    p = json.loads(proc.stdout)["problems"]
    lines = p[0].split("\n")
    T.check("cap", len(p) == 1 and len(lines) == 10 and lines[-1].startswith("  - and ") and
            lines[-1].endswith(" more") and lines[0].startswith(
                "you asked for sudoku_0_0 ==5, sudoku_0_1 ==3 and sudoku_0_4 ==7"), str(p))
    T.check("cap", all(" requires sudoku_" in ln for ln in lines[1:-1]), str(lines))


def main():
    example_channel()
    with tempfile.TemporaryDirectory() as tmp:
        hand_made(tmp)
        strict_priority(tmp)
        site(tmp)
    long_problem()
    T.finish()


main()
