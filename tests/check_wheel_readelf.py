"""`hpcbuild check-wheel` against readelf (issue 7): on wheels made of Debian-built extension modules
(numpy's, from /usr/lib/python3/dist-packages, packed into a wheel here) and on a wheel pip builds
(`pip wheel --no-build-isolation` of the Cython test package), every ELF's DT_NEEDED list and its
highest GLIBC_ version must be what `readelf -d -W` and `readelf -V -W` say.
"""
import base64
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import buildpkgs  # noqa: E402
import hbtest  # noqa: E402

T = hbtest.Tally()
PY = "/usr/bin/python3"


def readelf(path):
    d = subprocess.run(["readelf", "-d", "-W", path], capture_output=True, text=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", d)
    v = subprocess.run(["readelf", "-V", "-W", path], capture_output=True, text=True).stdout
    glibc = [tuple(int(x) for x in m.split(".")) for m in re.findall(r"Name: GLIBC_([0-9.]+)", v)]
    return needed, (".".join(map(str, max(glibc))) if glibc else None)


def make_wheel(out, name, files):
    """A wheel (tag cp311-cp311-linux_x86_64) holding files {arcname: path}."""
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "%s-1.0-cp311-cp311-linux_x86_64.whl" % name)
    di = "%s-1.0.dist-info" % name
    meta = {di + "/METADATA": b"Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % name.encode(),
            di + "/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n"
                           b"Tag: cp311-cp311-linux_x86_64\n"}
    rows = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for arc, src in sorted(files.items()):
            data = open(src, "rb").read()
            z.writestr(arc, data)
            rows.append((arc, data))
        for arc, data in meta.items():
            z.writestr(arc, data)
            rows.append((arc, data))
        record = "".join("%s,sha256=%s,%d\n" % (a, base64.urlsafe_b64encode(hashlib.sha256(d).digest())
                                                 .rstrip(b"=").decode(), len(d)) for a, d in rows)
        record += di + "/RECORD,,\n"
        z.writestr(di + "/RECORD", record)
    return path


def check(wheel, label):
    rc, out, err = hbtest.run_cli("check-wheel", wheel, "--site", "none", "--json")
    try:
        rep = json.loads(out)
    except ValueError:
        T.check(label + ".json", False, out + err)
        return
    with tempfile.TemporaryDirectory() as x:
        with zipfile.ZipFile(wheel) as z:
            z.extractall(x)
        for e in rep.get("elf", []):
            needed, glibc = readelf(os.path.join(x, e["file"]))
            ours = [n["name"] for n in e["needs"]]
            T.check(label + ".needed", ours == needed, (e["file"], ours, needed))
            T.check(label + ".glibc", e.get("glibc") == glibc, (e["file"], e.get("glibc"), glibc))
        T.check(label + ".elfs", len(rep.get("elf", [])) > 0, out)


def main():
    tmp = tempfile.mkdtemp(prefix="hb-check-wheel-")
    try:
        # Debian-built: numpy's extension modules (python3-numpy), a wheel of them
        sos = sorted(glob.glob("/usr/lib/python3/dist-packages/numpy/**/*.so", recursive=True))[:12]
        if sos:
            files = {os.path.relpath(p, "/usr/lib/python3/dist-packages"): p for p in sos}
            check(make_wheel(os.path.join(tmp, "deb"), "debnumpy", files), "debian")
        else:
            print("SKIP debian: python3-numpy has no extension modules here")
        # pip-built: the Cython test package through pip wheel --no-build-isolation
        tree = buildpkgs.write(os.path.join(tmp, "src"), "cysum")
        out = os.path.join(tmp, "pip")
        p = subprocess.run([PY, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q", "-w", out, tree],
                           capture_output=True, text=True, env=dict(os.environ, PIP_NO_INDEX="1"))
        wheels = glob.glob(os.path.join(out, "*.whl"))
        T.check("pip.built", p.returncode == 0 and wheels, p.stdout + p.stderr[-1500:])
        for w in wheels:
            check(w, "pip")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    T.finish()


if __name__ == "__main__":
    main()
