"""Issue 7's bench: `hpcbuild repair` of a wheel with ~50 MB of shared objects and 20 vendored
libraries, against zipping the same tree with Python's zipfile, in the same run.

usage: /usr/bin/python3 bench/repair_bench.py [--hpcbuild build/hpcbuild] [--runs 3] [--mb 50]

It compiles 20 private libraries (libpriv00..19.so, each ~mb/20 MB of initialized data) and one
Python extension module linked against all of them with an absolute RUNPATH to the build directory,
packs the module into a wheel, then times `hpcbuild repair WHEEL -o OUT --site none` (which
vendors the 20 libraries under hashed names, rewrites DT_NEEDED and RUNPATHs with patchelf, RECORD
and the zip) against `zipfile` (ZIP_DEFLATED) of the repaired tree's files.  patchelf calls are
counted with strace when it is installed.  Prints JSON and a markdown table.
"""
import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"


def sh(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise SystemExit("repair_bench: %s failed:\n%s" % (" ".join(cmd), (p.stdout + p.stderr)[-2000:]))
    return p


def build_tree(tmp, mb):
    libdir = os.path.join(tmp, "build", "lib")
    os.makedirs(libdir)
    size = mb * 1024 * 1024 // 20
    for i in range(20):
        src = os.path.join(libdir, "priv%02d.c" % i)
        with open(src, "w") as f:
            # initialized, non-zero data: it is in the file (and does not compress to nothing)
            f.write("static const unsigned char blob[%d] = {%s};\n" % (size, ",".join(str((i * 7 + k) % 251 + 1)
                                                                                 for k in range(64))))
            f.write("int priv%02d(int x) { return x + blob[x %% %d]; }\n" % (i, size))
        sh(["gcc", "-shared", "-fPIC", "-O1", "-o", os.path.join(libdir, "libpriv%02d.so" % i), src])
    inc = sysconfig.get_paths()["include"]
    ext = os.path.join(tmp, "build", "benchext.c")
    calls = "".join("s += priv%02d(%d); " % (i, i) for i in range(20))
    with open(ext, "w") as f:
        f.write("#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n")
        f.write("".join("int priv%02d(int);\n" % i for i in range(20)))
        f.write("static PyObject *run(PyObject *s_, PyObject *a) { long s = 0; %s return PyLong_FromLong(s); }\n"
                % calls)
        f.write("static PyMethodDef m[] = {{\"run\", run, METH_NOARGS, NULL}, {NULL}};\n"
                "static struct PyModuleDef d = {PyModuleDef_HEAD_INIT, \"benchext\", NULL, -1, m};\n"
                "PyMODINIT_FUNC PyInit_benchext(void) { return PyModule_Create(&d); }\n")
    so = os.path.join(tmp, "build", "benchext.cpython-311-x86_64-linux-gnu.so")
    sh(["gcc", "-shared", "-fPIC", "-O1", "-I" + inc, "-o", so, ext, "-L" + libdir]
       + ["-lpriv%02d" % i for i in range(20)] + ["-Wl,-rpath," + libdir])
    return so


def make_wheel(out, so):
    name = "benchext"
    path = os.path.join(out, "%s-1.0-cp311-cp311-linux_x86_64.whl" % name)
    di = name + "-1.0.dist-info"
    files = {os.path.basename(so): open(so, "rb").read(),
             di + "/METADATA": b"Metadata-Version: 2.1\nName: benchext\nVersion: 1.0\n",
             di + "/WHEEL": b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: false\n"
                            b"Tag: cp311-cp311-linux_x86_64\n"}
    rec = "".join("%s,sha256=%s,%d\n" % (a, base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=")
                                         .decode(), len(d)) for a, d in files.items()) + di + "/RECORD,,\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for a, d in files.items():
            z.writestr(a, d)
        z.writestr(di + "/RECORD", rec)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hpcbuild", default=os.path.join(HERE, "..", "build", "hpcbuild"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mb", type=int, default=50)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="hb-repair-bench-")
    try:
        so = build_tree(tmp, args.mb)
        wheel = make_wheel(tmp, so)
        env = dict(os.environ, HPCBUILD_CACHE=os.path.join(tmp, "cache"))
        best_repair = best_zip = None
        repaired = None
        for r in range(args.runs):
            out = os.path.join(tmp, "out%d" % r)
            t0 = time.monotonic()
            p = sh([args.hpcbuild, "repair", wheel, "--site", "none", "-o", out], env=env)
            t = time.monotonic() - t0
            best_repair = t if best_repair is None else min(best_repair, t)
            repaired = p.stdout.strip().splitlines()[-1]
            # the peer: zipfile of the repaired tree (the same bytes hpcbuild wrote)
            tree = os.path.join(tmp, "tree%d" % r)
            with zipfile.ZipFile(repaired) as z:
                z.extractall(tree)
            t0 = time.monotonic()
            with zipfile.ZipFile(os.path.join(tmp, "peer%d.zip" % r), "w", zipfile.ZIP_DEFLATED) as z:
                for root, _, names in sorted(os.walk(tree)):
                    for n in sorted(names):
                        full = os.path.join(root, n)
                        z.write(full, os.path.relpath(full, tree))
            t = time.monotonic() - t0
            best_zip = t if best_zip is None else min(best_zip, t)
        patchelf_calls = None
        if shutil.which("strace"):
            trace = os.path.join(tmp, "trace")
            sh(["strace", "-f", "-e", "trace=execve", "-o", trace, args.hpcbuild, "repair", wheel, "--site",
                "none", "-o", os.path.join(tmp, "outtrace")], env=env)
            patchelf_calls = sum(1 for line in open(trace) if "execve(" in line and "patchelf" in line
                                 and "= 0" in line)
        with zipfile.ZipFile(repaired) as z:
            names = z.namelist()
            size = sum(i.file_size for i in z.infolist())
        vendored = [n for n in names if ".libs/" in n]
        result = {"mb_of_shared_objects": round(size / 1e6, 1), "elf_files": 1 + len(vendored),
                  "vendored": len(vendored), "repair_best_s": round(best_repair, 3),
                  "zipfile_best_s": round(best_zip, 3), "ratio": round(best_repair / best_zip, 2),
                  "patchelf_calls": patchelf_calls}
        print(json.dumps(result, indent=1))
        print("\n| MB | ELF files | vendored | hpcbuild repair s | zipfile s | ratio | patchelf calls |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        print("| %.1f | %d | %d | %.2f | %.2f | %.2fx | %s |" % (size / 1e6, 1 + len(vendored), len(vendored),
                                                              best_repair, best_zip, best_repair / best_zip,
                                                              patchelf_calls))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
