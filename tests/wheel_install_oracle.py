"""Wheel installation against pypa/installer (Debian's python3-installer) and pip.

Wheels are made here with zipfile and unpacked with zipfile (modes from external_attr, as an
extractor does).  Each is installed twice with the scheme of a venv-like prefix
(lib/pythonX.Y/site-packages, bin, include/site/pythonX.Y/<name>, data = the prefix): by
`hpcbuild wheel-install` and by installer's own install() with a SchemeDictionaryDestination
(what `python3 -m installer` runs, with the scheme given instead of Debian's /usr/local one).
Both trees must hold the same files with the same contents and executable bits (INSTALLER aside),
and the same RECORD rows.  Then, in a venv: the scripts run, `pip list --path` shows the
distribution, `pip uninstall` and `hpcbuild wheel-install --uninstall` remove it cleanly.
Broken wheels (a wrong hash, an unlisted file, an md5 row) are refused naming the file.
"""
import base64
import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import HPCBUILD, Tally, check_sanitizers  # noqa: E402

try:
    from installer import install as oracle_install
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile
except ImportError:   # python3-installer missing: the comparison is skipped, the rest runs
    oracle_install = None

PY = "/usr/bin/python3"
VER = sysconfig.get_python_version()
SITE = "lib/python%s/site-packages" % VER
t = Tally()
tmp = tempfile.mkdtemp(prefix="hb-wheelinst-")


def b64hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(name, version, files, purelib=True, record_edit=None, dist_name=None):
    """files: {path: bytes or (bytes, mode)}; the .dist-info gets METADATA, WHEEL and RECORD.
    record_edit(rows) may change the RECORD rows before they are written.  Returns the path."""
    dist = dist_name or "%s-%s" % (name.replace("-", "_"), version)
    files = dict(files)
    files["%s.dist-info/METADATA" % dist] = ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" %
                                            (name, version)).encode()
    files["%s.dist-info/WHEEL" % dist] = ("Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: %s\n"
                                         "Tag: py3-none-any\n" % ("true" if purelib else "false")).encode()
    rows = []
    for path, v in files.items():
        data = v[0] if isinstance(v, tuple) else v
        rows.append([path, b64hash(data), str(len(data))])
    rows.append(["%s.dist-info/RECORD" % dist, "", ""])
    if record_edit:
        rows = record_edit(rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path = os.path.join(tmp, "%s-py3-none-any.whl" % dist)   # installer 0.6 takes .data's name from it
    with zipfile.ZipFile(path, "w") as z:
        for p, v in files.items():
            data, mode = v if isinstance(v, tuple) else (v, 0o644)
            info = zipfile.ZipInfo(p)
            info.external_attr = (0o100000 | mode) << 16
            z.writestr(info, data)
        z.writestr("%s.dist-info/RECORD" % dist, out.getvalue())
    return path


def unpack(whl):
    dest = whl[:-4] + ".unpacked"
    shutil.rmtree(dest, ignore_errors=True)
    with zipfile.ZipFile(whl) as z:
        for info in z.infolist():
            z.extract(info, dest)
            os.chmod(os.path.join(dest, info.filename), (info.external_attr >> 16) & 0o777 or 0o644)
    return dest


def hb(*args):
    p = subprocess.run([HPCBUILD] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check_sanitizers(p.stderr, " ".join(args))
    return p


def scheme(prefix, name):
    site = os.path.join(prefix, SITE)
    return {"purelib": site, "platlib": site, "scripts": os.path.join(prefix, "bin"), "data": prefix,
            "headers": os.path.join(prefix, "include", "site", "python" + VER, name)}


def tree(prefix):
    """{relative path: (bytes, executable)} of the files under prefix, without .hpcbuild/ and
    __pycache__/."""
    out = {}
    for root, dirs, names in os.walk(prefix):
        dirs[:] = [d for d in dirs if d not in (".hpcbuild", "__pycache__")]
        for n in names:
            full = os.path.join(root, n)
            with open(full, "rb") as f:
                out[os.path.relpath(full, prefix)] = (f.read(), bool(os.stat(full).st_mode & 0o111))
    return out


def record_rows(prefix):
    for root, dirs, _ in os.walk(os.path.join(prefix, SITE)):
        for d in dirs:
            if d.endswith(".dist-info"):
                with open(os.path.join(root, d, "RECORD"), newline="") as f:
                    # normpath: installer 0.6 writes "./x.py" for a purelib file of a platlib wheel
                    return {os.path.normpath(r[0]): (r[1], r[2]) for r in csv.reader(f)}
    return {}


TRAMPOLINE = b"#!/bin/sh\n'''exec' "


def strip_shebang(data):
    """A script without its shebang (the /bin/sh trampoline's three lines, or one line)."""
    n = 3 if data.startswith(TRAMPOLINE) else 1
    return b"".join(data.splitlines(keepends=True)[n:])


def compare_with_installer(group, whl, name, python=PY):
    """hpcbuild and pypa/installer on the same wheel: same files, contents, modes, RECORD.
    One known difference: installer 0.6 rewrites '#!python' to '#!<python>' whatever its length,
    where hpcbuild uses the trampoline past 127 bytes (as installer does for entry points)."""
    ours, theirs = os.path.join(tmp, group, "hb"), os.path.join(tmp, group, "installer")
    p = hb("wheel-install", ours, unpack(whl), "--python", python, "--project", name)
    t.check(group, p.returncode == 0, "hpcbuild wheel-install failed: %s" % p.stderr)
    if oracle_install is None:
        return ours
    with WheelFile.open(whl) as source:
        dest = SchemeDictionaryDestination(scheme(theirs, name), interpreter=python, script_kind="posix")
        oracle_install(source, dest, {"INSTALLER": b"hpcbuild\n"})
    a, b = tree(ours), tree(theirs)
    rb_skip = set()   # RECORD rows of scripts whose shebangs differ as said above
    t.check(group, sorted(a) == sorted(b), "file lists differ: hpcbuild only %s, installer only %s" %
            (sorted(set(a) - set(b)), sorted(set(b) - set(a))))
    for path in sorted(set(a) & set(b)):
        if path.endswith("/RECORD"):
            continue
        ours_data, theirs_data = a[path][0], b[path][0]
        if ours_data.startswith(TRAMPOLINE) and theirs_data.startswith(b"#!" + python.encode() + b"\n"):
            ours_data, theirs_data = strip_shebang(ours_data), strip_shebang(theirs_data)
            rb_skip.add(os.path.relpath(os.path.join(ours, path), os.path.join(ours, SITE)))
        t.check(group, ours_data == theirs_data, "%s: contents differ:\n%r\n%r" % (path, a[path][0][:300],
                                                                                 b[path][0][:300]))
        t.check(group, a[path][1] == b[path][1], "%s: executable bit %s, installer %s" %
                (path, a[path][1], b[path][1]))
    ra, rb = record_rows(ours), record_rows(theirs)
    for path in rb_skip:
        t.check(group, path in ra and path in rb, "%s: not in both RECORDs" % path)
        ra.pop(path, None)
        rb.pop(path, None)
    t.check(group, ra == rb, "RECORD differs:\n%s\n%s" % (sorted(ra.items()), sorted(rb.items())))
    return ours


def run_script(prefix, script, env_site=True):
    env = dict(os.environ)
    if env_site:
        env["PYTHONPATH"] = os.path.join(prefix, SITE)
    return subprocess.run([os.path.join(prefix, "bin", script)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env)


DEMO_FILES = {
    "demo_pkg/__init__.py": b"def main():\n    print('console ok')\n\ndef gui():\n    print('gui ok')\n",
    "demo_pkg/data.txt": b"payload, with a comma\n",
    "Demo.Pkg-1.0.dist-info/entry_points.txt":
        b"[console_scripts]\ndemo = demo_pkg:main\nDemo-Upper = demo_pkg : main [extra]\n"
        b"[gui_scripts]\ndemo-gui = demo_pkg:gui\n[demo.plugins]\nx = demo_pkg\n",
    "Demo.Pkg-1.0.dist-info/licenses/LICENSE": b"MIT\n",
    "Demo.Pkg-1.0.data/scripts/demo-tool": (b"#!python\nimport demo_pkg\nprint('tool ok')\n", 0o755),
    "Demo.Pkg-1.0.data/scripts/demo-sh": (b"#!/bin/sh\necho sh ok\n", 0o755),
    "Demo.Pkg-1.0.data/headers/demo.h": b"#define DEMO 1\n",
    "Demo.Pkg-1.0.data/data/share/demo/notes.txt": b"notes\n",
}

# 1. a pure wheel with an uppercase dotted name, scripts of every kind, headers and data
demo = make_wheel("Demo.Pkg", "1.0", DEMO_FILES, dist_name="Demo.Pkg-1.0")
prefix = compare_with_installer("pure", demo, "Demo.Pkg")
for script, want in (("demo", "console ok"), ("Demo-Upper", "console ok"), ("demo-gui", "gui ok"),
                     ("demo-tool", "tool ok"), ("demo-sh", "sh ok")):
    r = run_script(prefix, script)
    t.check("pure.scripts", r.returncode == 0 and r.stdout.strip() == want,
            "%s: %d %r %r" % (script, r.returncode, r.stdout, r.stderr))
t.check("pure.layout", os.path.isfile(os.path.join(prefix, "include/site/python%s/Demo.Pkg/demo.h" % VER)),
        "headers not under include/site/pythonX.Y/Demo.Pkg")
t.check("pure.layout", not os.path.exists(os.path.join(prefix, SITE, "Demo.Pkg-1.0.data")),
        ".data left in site-packages")
rows = record_rows(prefix)
t.check("pure.record", rows.get("../../../bin/demo", ("", ""))[0].startswith("sha256=") and
        rows.get("Demo.Pkg-1.0.dist-info/RECORD") == ("", ""), "RECORD rows: %s" % sorted(rows))

# 2. Root-Is-Purelib: false, a purelib .data part, a name spelled differently in the .dist-info
plat = make_wheel("zope.thing", "2.0", {
    "zope/thing/__init__.py": b"X = 1\n",
    "zope/thing/_speedups.so": (b"\x7fELF fake\n", 0o755),
    "zope.thing-2.0.data/purelib/zope_thing_extra.py": b"Y = 2\n",
}, purelib=False, dist_name="zope.thing-2.0")
compare_with_installer("platlib", plat, "zope-thing")

# 3. a long interpreter path: the /bin/sh trampoline (identical to installer's), and it runs
deep = os.path.join(tmp, "d" * 60, "e" * 60)
os.makedirs(deep)
os.symlink(PY, os.path.join(deep, "python"))
long_prefix = compare_with_installer("trampoline", demo, "Demo.Pkg", python=os.path.join(deep, "python"))
with open(os.path.join(long_prefix, "bin", "demo"), "rb") as f:
    t.check("trampoline", f.read().startswith(b"#!/bin/sh\n'''exec' "), "no trampoline")
r = run_script(long_prefix, "demo")
t.check("trampoline", r.returncode == 0 and r.stdout.strip() == "console ok", r.stderr)


# 4. broken wheels are refused, naming the file, and the prefix is left alone
def refused(group, whl, expect):
    target = os.path.join(tmp, group)
    p = hb("wheel-install", target, unpack(whl), "--python", PY)
    t.check(group, p.returncode != 0 and expect in p.stderr, "exit %d, stderr %r (expected %r)" %
            (p.returncode, p.stderr, expect))
    t.check(group, not os.path.exists(os.path.join(target, "lib")), "the prefix changed")


def bad_hash(rows):
    return [[r[0], b64hash(b"other") if r[0] == "bad/__init__.py" else r[1], r[2]] for r in rows]


refused("refuse.hash", make_wheel("bad", "1.0", {"bad/__init__.py": b"x = 1\n"}, record_edit=bad_hash),
        "'bad/__init__.py' has sha256=")
refused("refuse.unlisted",
        make_wheel("bad", "1.1", {"bad/__init__.py": b"x = 1\n", "bad/extra.py": b""},
                   record_edit=lambda rows: [r for r in rows if r[0] != "bad/extra.py"]),
        "bad/extra.py' is not listed in RECORD")
refused("refuse.md5",
        make_wheel("bad", "1.2", {"bad/__init__.py": b"x = 1\n"},
                   record_edit=lambda rows: [[r[0], "md5=" + base64.urlsafe_b64encode(
                       hashlib.md5(b"x = 1\n").digest()).rstrip(b"=").decode(), r[2]]
                       if r[0] == "bad/__init__.py" else r for r in rows]),
        "'bad/__init__.py' is hashed with 'md5'")
refused("refuse.size",
        make_wheel("bad", "1.3", {"bad/__init__.py": b"x = 1\n"},
                   record_edit=lambda rows: [[r[0], r[1], "99"] if r[0] == "bad/__init__.py" else r
                                             for r in rows]),
        "'bad/__init__.py' has size '99'")

# 5. a venv: scripts run with its interpreter; pip sees it, and pip or hpcbuild uninstall it
venv = os.path.join(tmp, "venv")
subprocess.run([PY, "-m", "venv", "--without-pip", venv], check=True)
vpy = os.path.join(venv, "bin", "python")
before = tree(venv)


def venv_install(group):
    p = hb("wheel-install", venv, unpack(demo), "--python", vpy, "--requested")
    t.check(group, p.returncode == 0, p.stderr)
    r = run_script(venv, "demo", env_site=False)
    t.check(group, r.returncode == 0 and r.stdout.strip() == "console ok", r.stderr)
    # byte-compile, as Python would on import, so that uninstall has .pyc files to find
    subprocess.run([vpy, "-m", "compileall", "-q", os.path.join(venv, SITE)], check=True)
    pl = subprocess.run([PY, "-m", "pip", "list", "--path", os.path.join(venv, SITE), "--format=freeze"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t.check(group, "Demo.Pkg==1.0" in pl.stdout.split(), "pip list: %r %r" % (pl.stdout, pl.stderr))
    ls = hb("wheel-install", venv, "--list", "--python", vpy)
    t.check(group, ls.stdout == "Demo.Pkg 1.0 hpcbuild %s/Demo.Pkg-1.0.dist-info\n" % SITE,
            "--list: %r %r" % (ls.stdout, ls.stderr))


def dirs(root):
    return {os.path.relpath(os.path.join(r, d), root) for r, ds, _ in os.walk(root) for d in ds
            if not os.path.relpath(os.path.join(r, d), root).startswith(".hpcbuild")}


def left_over(group, dirs_before=None):
    """No file left behind; with dirs_before (not for pip, which leaves empty directories),
    no directory either."""
    after = tree(venv)
    t.check(group, sorted(after) == sorted(before), "left behind: %s" % sorted(set(after) - set(before)))
    if dirs_before is not None:   # empty ones pip left may go too; the venv's own stay
        venv_dirs = {"bin", "include", "lib", "lib/python" + VER, SITE}
        t.check(group, venv_dirs <= dirs(venv) <= dirs_before, "directories: %s, before: %s" %
                (sorted(dirs(venv)), sorted(dirs_before)))


venv_install("venv.pip")
un = subprocess.run([PY, "-m", "pip", "--python", vpy, "uninstall", "-y", "demo-pkg"], stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, text=True)
t.check("venv.pip", un.returncode == 0, "pip uninstall: %r %r" % (un.stdout, un.stderr))
left_over("venv.pip")

dirs_before = dirs(venv)
venv_install("venv.hpcbuild")
un = hb("wheel-install", venv, "--uninstall", "DEMO_pkg", "--python", vpy)
t.check("venv.hpcbuild", un.returncode == 0, un.stderr)
left_over("venv.hpcbuild", dirs_before)

# 6. a distribution without RECORD is refused, naming its installer
di = os.path.join(venv, SITE, "other-1.0.dist-info")
os.makedirs(di)
with open(os.path.join(di, "METADATA"), "w") as f:
    f.write("Metadata-Version: 2.1\nName: other\nVersion: 1.0\n")
with open(os.path.join(di, "INSTALLER"), "w") as f:
    f.write("conda\n")
un = hb("wheel-install", venv, "--uninstall", "other", "--python", vpy)
t.check("uninstall.norecord", un.returncode != 0 and "has no RECORD" in un.stderr and "conda" in un.stderr,
        un.stderr)
t.check("uninstall.norecord", os.path.exists(os.path.join(di, "METADATA")), "removed anyway")

shutil.rmtree(tmp, ignore_errors=True)
t.finish()
