"""hpcbuild check-wheel and hpcbuild repair, end to end with real builds (issue 7).

The packages of tests/lib/buildpkgs.py (mpihello, blasdot, cysum; cudaadd when nvcc exists) are
built with `hpcbuild pep517` against a site file from `hpcbuild site detect`, plus "helper": a
wheel put together here whose extension needs a private libhelper.so through an absolute RUNPATH
into its build directory (and a variant shipping libhelper.so inside, off the search path).  check-wheel says each is not relocatable (or, without private needs,
lists the site externals); repair vendors libhelper into helper.libs/ ($ORIGIN RUNPATH, hashed
soname), declares MPI/BLAS/CUDA as Requires-External-Dep (PEP 725) and recomputes the tag; check-wheel is
then clean.  Each repaired wheel is installed into two prefixes, the build trees are deleted,
and it imports and runs (MPI under mpirun -n 2).  A corrupt ELF, a truncated wheel and a bad
RECORD are clear errors and write nothing.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import buildpkgs  # noqa: E402
from hbtest import Tally, run_cli  # noqa: E402

PY = "/usr/bin/python3"
NVCC = "/usr/local/cuda/bin/nvcc"
t = Tally()
work = tempfile.mkdtemp(prefix="hb-repair-")
cache = os.path.join(work, "cache")
build_dir = os.path.join(work, "build")
SITE = os.path.join(work, "site.yaml")

HELPER_LIB = "int helper_twice(int x) { return 2 * x; }\n"
HELPER_EXT = buildpkgs.PY_HEADER + (
    "int helper_twice(int x);\n"
    "static PyObject *twice(PyObject *self, PyObject *args)\n"
    "{\n    int x;\n    if (!PyArg_ParseTuple(args, \"i\", &x))\n        return NULL;\n"
    "    return PyLong_FromLong(helper_twice(x));\n}\n") + buildpkgs.module_init("helperext", ["twice"])


def record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_wheel(path, files, record=True):
    """files: {arcname: bytes}; writes a wheel with WHEEL, METADATA and RECORD."""
    di = "helper-1.0.dist-info"
    files = dict(files)
    files[di + "/METADATA"] = b"Metadata-Version: 2.1\nName: helper\nVersion: 1.0\n\nThe helper.\n"
    files[di + "/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n" \
                           b"Tag: cp311-cp311-linux_x86_64\n"
    rows = ["%s,%s,%d" % (n, record_hash(d), len(d)) for n, d in files.items()]
    rows.append(di + "/RECORD,,")
    files[di + "/RECORD"] = ("\n".join(rows) + "\n").encode() if record is True else record
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in files.items():
            z.writestr(n, d)
    return path


def helper_wheel():
    """helperext.so needs libhelper.so, found through RUNPATH=<build dir> (absolute)."""
    os.makedirs(build_dir, exist_ok=True)
    c = os.path.join(build_dir, "helper.c")
    with open(c, "w") as f:
        f.write(HELPER_LIB)
    lib = os.path.join(build_dir, "libhelper.so")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", lib, c, "-Wl,-soname,libhelper.so"], check=True)
    ext_c = os.path.join(build_dir, "helperext.c")
    with open(ext_c, "w") as f:
        f.write(HELPER_EXT)
    inc = subprocess.run([PY, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    suffix = subprocess.run([PY, "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    so = os.path.join(build_dir, "helperext" + suffix)
    subprocess.run(["gcc", "-shared", "-fPIC", "-I" + inc, "-o", so, ext_c, "-L" + build_dir, "-lhelper",
                    "-Wl,--enable-new-dtags,-rpath," + build_dir], check=True)
    with open(so, "rb") as f:
        data = f.read()
    bare = os.path.join(build_dir, "bare" + suffix)
    subprocess.run(["gcc", "-shared", "-fPIC", "-I" + inc, "-o", bare, ext_c, "-L" + build_dir, "-lhelper"],
                   check=True)
    with open(bare, "rb") as f, open(lib, "rb") as g:
        inside = {"helperext" + suffix: f.read(), "helper/lib/libhelper.so": g.read()}
    return (write_wheel(os.path.join(work, "helper-1.0-cp311-cp311-linux_x86_64.whl"),
                        {"helperext" + suffix: data}),
            write_wheel(os.path.join(work, "inside", "helper-1.0-cp311-cp311-linux_x86_64.whl"), inside))


def check(wheel, *extra):
    rc, o, e = run_cli("check-wheel", wheel, "--site", SITE, "--json", *extra)
    try:
        return rc, json.loads(o), e
    except ValueError:
        return rc, None, e


def repair(wheel, out, *extra):
    return run_cli("repair", wheel, "--site", SITE, "-o", out, *extra)


def install_twice(wheel, name):
    targets = []
    for i in (1, 2):
        target = os.path.join(work, "prefix%d-%s" % (i, name))
        p = subprocess.run([PY, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                            "--disable-pip-version-check", "--target", target, wheel],
                           capture_output=True, text=True)
        t.check(name + ".install", p.returncode == 0, p.stderr[-1500:])
        targets.append(target)
    return targets


def run_py(target, code, mpirun=0):
    cmd = [PY, "-c", code]
    if mpirun:
        cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", str(mpirun)] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=target))


def classes(report):
    return {n["name"]: n["class"] for e in report["elf"] for n in e["needs"]}


def build(name):
    tree = buildpkgs.write(os.path.join(work, "src"), name)
    out = os.path.join(work, "wheels-" + name)
    rc, o, e = run_cli("pep517", tree, "--python", PY, "-o", out, "--cache", cache, "--site", SITE)
    ok = rc == 0 and len(o.split()) == 1
    t.check(name + ".build", ok, "rc=%d %s" % (rc, e[-1500:]))
    return o.split()[0] if ok else None


def repaired(name, whl, want_site):
    rc, rep, e = check(whl)
    t.check(name + ".check-before", rep is not None and rc == (0 if rep["relocatable"] else 1), e)
    out = os.path.join(work, "repaired-" + name)
    rc, o, e = repair(whl, out)
    t.check(name + ".repair", rc == 0 and os.path.isfile(o.strip()), "rc=%d %s" % (rc, e))
    if rc != 0:
        return None
    fixed = o.strip()
    rc, rep, e = check(fixed)
    t.check(name + ".check-after", rc == 0 and rep and rep["relocatable"] and not rep["problems"], rep or e)
    if rep:
        runpaths = [x["runpath"] or "" for x in rep["elf"]] + [x["rpath"] or "" for x in rep["elf"]]
        t.check(name + ".runpath", all(p == "" or p.startswith("$ORIGIN") for r in runpaths
                                       for p in r.split(":")), runpaths)
        for dep in want_site:
            t.check(name + ".requires-external", any(r.startswith(dep) for r in rep["requires_external"]), rep)
        with zipfile.ZipFile(fixed) as z:
            meta = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
            text = z.read(meta[0]).decode() if meta else ""
        for dep in want_site:
            t.check(name + ".metadata", "Requires-External-Dep: " + dep in text, text)
        plat = fixed.rsplit("-", 1)[1][:-4]
        t.check(name + ".tag", plat == rep["platform"] and
                (plat.startswith("linux_") if want_site else plat.startswith("manylinux_2_")), (plat, rep))
    return fixed


def main():
    rc, o, e = run_cli("site", "detect", "-o", SITE)
    if rc != 0:
        rc2, o2, e2 = run_cli("site", "detect")
        with open(SITE, "w") as f:
            f.write(o2)
        t.check("site", rc2 == 0, e2)
    runs = []
    # the private helper: not relocatable before, vendored after
    os.makedirs(os.path.join(work, "inside"))
    hw, inside = helper_wheel()
    # libhelper.so shipped in the wheel but not on the extension's search path: repair adds $ORIGIN/...
    rc, rep, e = check(inside)
    t.check("inside.check-before", rc == 1 and rep and classes(rep).get("libhelper.so") == "wheel" and
            any("not on its search path" in p for p in rep["problems"]), rep or e)
    fixed = repaired("inside", inside, [])
    if fixed:
        runs.append(("inside", fixed, "import helperext; print(helperext.twice(4))", "8", 0))
    rc, rep, e = check(hw)
    t.check("helper.check-before", rc == 1 and rep and not rep["relocatable"] and
            classes(rep).get("libhelper.so") == "private" and
            any("RUNPATH" in p and build_dir in p for p in rep["problems"]), rep or e)
    fixed = repaired("helper", hw, [])
    if fixed:
        with zipfile.ZipFile(fixed) as z:
            libs = [n for n in z.namelist() if n.startswith("helper.libs/")]
        t.check("helper.vendored", len(libs) == 1 and re.match(r"helper\.libs/libhelper-[0-9a-f]{8}\.so$", libs[0]),
                libs)
        runs.append(("helper", fixed, "import helperext; print(helperext.twice(21))", "42", 0))
    # the real builds
    wanted = [("mpihello", ["dep:virtual/interface/mpi"],
               "import mpihello; r, s, tot = mpihello.hello(); print('rank %d of %d sum %d' % (r, s, tot)); "
               "mpihello.finalize()", None, 2),
              ("blasdot", ["dep:virtual/interface/blas"], "import blasdot; print('ok')", "ok", 0),
              ("cysum", [], "import numpy, cysum; print(cysum.total(numpy.arange(4.0)))", "6.0", 0)]
    if os.access(NVCC, os.X_OK):
        wanted.append(("cudaadd", ["dep:generic/cuda"], "import cudaadd; print('ok')", "ok", 0))
    for name, site_deps, code, want, mpirun in wanted:
        whl = build(name)
        if whl:
            fixed = repaired(name, whl, site_deps)
            if fixed:
                runs.append((name, fixed, code, want, mpirun))
    # the build trees and the build environment's scratch go; the installs must not care
    shutil.rmtree(build_dir, ignore_errors=True)
    shutil.rmtree(os.path.join(work, "src"), ignore_errors=True)
    for name, fixed, code, want, mpirun in runs:
        for target in install_twice(fixed, name):
            p = run_py(target, code, mpirun)
            if mpirun:
                ranks = sorted(re.findall(r"rank (\d+) of (\d+) sum (\d+)", p.stdout))
                ok = p.returncode == 0 and ranks == [("0", "2", "1"), ("1", "2", "1")]
            else:
                ok = p.returncode == 0 and p.stdout.strip() == want
            t.check(name + ".run", ok, "%s rc=%d out=%r err=%s" % (target, p.returncode, p.stdout,
                                                                 p.stderr[-1500:]))
    bad_inputs()


def bad_inputs():
    so = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x03\x00\x3e\x00" + b"\xff" * 40
    cases = {
        "corrupt-elf": write_wheel(os.path.join(work, "bad1-1.0-cp311-cp311-linux_x86_64.whl"), {"m.so": so}),
        "bad-record": write_wheel(os.path.join(work, "bad2-1.0-cp311-cp311-linux_x86_64.whl"),
                                  {"m.py": b"x = 1\n"},
                                  record=b"m.py,sha256=AAAA,6\nhelper-1.0.dist-info/RECORD,,\n"),
    }
    good = write_wheel(os.path.join(work, "ok-1.0-cp311-cp311-linux_x86_64.whl"), {"m.py": b"x = 1\n"})
    with open(good, "rb") as f:
        data = f.read()
    trunc = os.path.join(work, "bad3-1.0-cp311-cp311-linux_x86_64.whl")
    with open(trunc, "wb") as f:
        f.write(data[: len(data) // 2])
    cases["truncated"] = trunc
    for what, whl in cases.items():
        out = os.path.join(work, "out-" + what)
        rc, o, e = repair(whl, out)
        t.check("bad." + what, rc in (1, 2) and o == "" and "hpcbuild: " in e and not os.path.exists(out),
                "rc=%d out=%r err=%r" % (rc, o, e))
        rc, o, e = run_cli("check-wheel", whl, "--site", SITE)
        t.check("bad." + what, rc in (1, 2) and "hpcbuild: " in e, "rc=%d err=%r" % (rc, e))
    # a pure wheel is relocatable as it is, for any platform
    rc, rep, e = check(good)
    t.check("pure", rc == 0 and rep and rep["relocatable"] and rep["platform"] is None, rep or e)


try:
    main()
finally:
    shutil.rmtree(work, ignore_errors=True)
t.finish()
