"""Linking conda packages (hb_conda_link / hb_conda_unlink through `hpcbuild conda-link`),
checked independently against each package's own paths.

Packages are made here (.tar.bz2 with tarfile, unpacked with tarfile into a cache directory):
a binary package with regular files, a text file and an ELF-like binary carrying the
placeholder, softlinks, a directory entry and a no_link file; a noarch: python package with
site-packages/, python-scripts/ and link.json entry points; a legacy package with only
info/files, info/has_prefix and info/no_link.  After linking, every file must be in place,
placeholders replaced (text: exactly as conda's rules give; binary: the same length, NUL
padded), modes kept, hard links sharing the cache's inode except placeholder and no_link files,
and the PrefixRecord's keys, files and sha256_in_prefix right; unlinking removes exactly those
files.  Errors: a prefix longer than a binary placeholder names the file and leaves the prefix
as it was; noarch: python without --site-packages.  Then packages from the shared fixtures
(tests/lib/condapkg.py) are linked and checked with their check_linked, a second oracle.
"""
import hashlib
import io
import json
import os
import re
import shlex
import stat
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import Tally, run_cli  # noqa: E402
import condapkg  # noqa: E402

t = Tally()
LONG_PH = ("/home/conda/feedstock_root/build_artifacts/demo_1700000000/_h_env_placehold_placehold"
           "_placehold_placehold_placehold_placehold_placehold_placehold_placehold_placehold_plac")
SHORT_PH = "/opt/anaconda1anaconda2anaconda3"
SITE = "lib/python3.11/site-packages"


# ---- conda's rules, written from SPECS §9.6 (the oracle) ------------------------------------

def text_replace(data, ph, prefix):
    ph_b, pre_b = ph.encode(), prefix.encode()
    nl = data.find(b"\n")
    if nl >= 0 and b"#!" + ph_b in data[:nl]:
        data = data[:nl].replace(b"#!" + ph_b, b"#!" + pre_b.replace(b" ", b"\\ ")) + data[nl:]
    data = data.replace(ph_b, pre_b)
    m = re.match(rb"^(#!(?:[ ]*)(/(?:\\ |[^ \n\r\t])*)(.*))$", data, re.MULTILINE)
    if m:
        whole, exe, opts = m.groups()
        head, name = exe.rsplit(b"/", 1)
        if len(whole) > 127 or b"\\ " in head:
            data = data.replace(whole, b"#!/usr/bin/env " + name + opts)
    return data


def binary_replace(data, ph, prefix):
    def one(m):
        g = m.group()
        return g.replace(ph, prefix) + b"\0" * ((len(ph) - len(prefix)) * g.count(ph))
    return re.sub(re.escape(ph) + b"[^\0]*?\0", one, data, flags=re.DOTALL)


def entry_point(python, module, func):
    if " " in python or len("#!" + python + "\n") > 127:
        head = "#!/bin/sh\n'''exec' %s \"$0\" \"$@\"\n' '''\n" % shlex.quote(python)
    else:
        head = "#!%s\n" % python
    return (head + "# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom %s import %s\n"
            "if __name__ == \"__main__\":\n"
            "    sys.argv[0] = re.sub(r\"(-script\\.pyw|\\.exe)?$\", \"\", sys.argv[0])\n"
            "    sys.exit(%s())\n" % (module, func.split(".")[0], func)).encode()


def sha(data):
    return hashlib.sha256(data).hexdigest()


# ---- packages -------------------------------------------------------------------------------

class Pkg:
    """A package: its index.json, its entries {path: (kind, data/target, mode, extra paths.json
    keys)}, optional link.json and legacy info files."""

    def __init__(self, name, version, build, noarch=None, legacy=False):
        self.name, self.version, self.build = name, version, build
        self.index = {"name": name, "version": version, "build": build, "build_number": 0,
                      "depends": ["libc >=2.17"], "constrains": ["other <2"], "subdir":
                      "noarch" if noarch else "linux-64", "timestamp": 1700000000000,
                      "license": "MIT"}
        if noarch:
            self.index["noarch"] = noarch
        self.entries = {}
        self.link = None
        self.legacy = legacy
        self.legacy_files = {}

    def file(self, path, data, mode=0o644, **keys):
        self.entries[path] = ("file", data, mode, keys)

    def symlink(self, path, target):
        self.entries[path] = ("softlink", target, None, {})

    def directory(self, path):
        self.entries[path] = ("directory", None, None, {})

    @property
    def fn(self):
        return "%s-%s-%s.tar.bz2" % (self.name, self.version, self.build)

    def paths_json(self):
        paths = []
        for p, (kind, data, _mode, keys) in sorted(self.entries.items()):
            e = {"_path": p, "path_type": "hardlink" if kind == "file" else kind}
            if kind == "file":
                e.update(sha256=sha(data), size_in_bytes=len(data))
            elif kind == "softlink":
                e.update(sha256=sha(b""), size_in_bytes=0)
            e.update(keys)
            paths.append(e)
        return {"paths_version": 1, "paths": paths}

    def build_archive(self, root):
        """Writes the .tar.bz2; returns its path."""
        path = os.path.join(root, self.fn)
        with tarfile.open(path, "w:bz2") as tar:
            def add(name, data=None, mode=0o644, kind="file", target=None):
                ti = tarfile.TarInfo(name)
                if kind == "softlink":
                    ti.type, ti.linkname = tarfile.SYMTYPE, target
                    tar.addfile(ti)
                elif kind == "directory":
                    ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(ti)
                else:
                    ti.size, ti.mode = len(data), mode
                    tar.addfile(ti, io.BytesIO(data))
            add("info/index.json", json.dumps(self.index).encode())
            if self.legacy:
                for name, text in self.legacy_files.items():
                    add("info/" + name, text.encode())
            else:
                add("info/paths.json", json.dumps(self.paths_json()).encode())
            if self.link:
                add("info/link.json", json.dumps(self.link).encode())
            for p, (kind, data, mode, _keys) in sorted(self.entries.items()):
                add(p, data, mode, kind, data if kind == "softlink" else None)
        return path

    def record(self, archive):
        with open(archive, "rb") as f:
            blob = f.read()
        return {"name": self.name, "version": self.version, "build": self.build, "build_number": 0,
                "channel": "https://conda.anaconda.org/test-channel", "subdir": self.index["subdir"],
                "fn": self.fn, "url": "https://conda.anaconda.org/test-channel/%s/%s" % (
                    self.index["subdir"], self.fn),
                "md5": hashlib.md5(blob).hexdigest(), "sha256": sha(blob),
                "depends": ["libc >=2.17", "patched"]}


def demo_pkg():
    p = Pkg("demo", "1.0", "h0_0")
    p.file("bin/demo-tool", ("#!%s/bin/python -E\nimport sys\nROOT = '%s'\nLIB = '%s/lib'\n" % (
        LONG_PH, LONG_PH, LONG_PH)).encode(), 0o755, prefix_placeholder=LONG_PH, file_mode="text")
    p.file("etc/demo.conf", ("%s\nprefix=%s libdir=%s/lib\nend %s" % (LONG_PH, LONG_PH, LONG_PH, LONG_PH)).encode(),
           prefix_placeholder=LONG_PH)
    elf = (b"\x7fELF\x02\x01\x01\0" + bytes(range(1, 40)) + LONG_PH.encode() + b"/lib\0" +
           LONG_PH.encode() + b"/share\n" + LONG_PH.encode() + b":/usr/lib\0\xff\xfe" + LONG_PH.encode() +
           b"\0tail")
    p.file("lib/libdemo.so.1.0", elf, 0o755, prefix_placeholder=LONG_PH, file_mode="binary")
    p.symlink("lib/libdemo.so", "libdemo.so.1.0")
    p.symlink("lib/libdemo.so.1", "libdemo.so.1.0")
    p.file("share/demo/data.txt", b"plain data\n")
    p.file("share/demo/nolink.txt", b"copied always\n", no_link=True)
    p.file("libexec/demo/run.sh", b"#!/bin/sh\necho hi\n", 0o755)
    p.directory("share/demo/empty")
    return p


def noarch_pkg():
    p = Pkg("pyutil", "2.0", "pyhd8ed1ab_0", noarch="python")
    p.file("site-packages/pyutil/__init__.py", b"VERSION = '2.0'\n")
    p.file("site-packages/pyutil/cli.py", b"def main():\n    return 0\n")
    p.file("site-packages/pyutil-2.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: pyutil\n")
    p.file("python-scripts/pyutil-legacy", ("#!%s/bin/python\nprint('hi')\n" % SHORT_PH).encode(),
           0o755, prefix_placeholder=SHORT_PH, file_mode="text")
    p.link = {"package_metadata_version": 1, "noarch": {"type": "python", "entry_points": [
        "pyutil = pyutil.cli:main", " pyutil-obj=pyutil.cli:App.run "]}}
    return p


def legacy_pkg():
    p = Pkg("oldpkg", "0.1", "0", legacy=True)
    p.file("bin/old", ("#!%s/bin/sh\necho %s\n" % (SHORT_PH, SHORT_PH)).encode(), 0o755)
    p.file("lib/libold.so", b"\x7fELF" + LONG_PH.encode() + b"/lib\0\x01\x02")
    p.file("share/old.txt", b"old\n")
    p.symlink("lib/libold.so.0", "libold.so")
    p.legacy_files = {
        "files": "bin/old\nlib/libold.so\nlib/libold.so.0\nshare/old.txt\n",
        "has_prefix": "bin/old\n\"%s\" binary lib/libold.so\n" % LONG_PH,
        "no_link": "share/old.txt\n",
    }
    # What paths.json would have said, for the checks.
    p.entries["bin/old"] = p.entries["bin/old"][:3] + ({"prefix_placeholder": SHORT_PH, "file_mode": "text"},)
    p.entries["lib/libold.so"] = p.entries["lib/libold.so"][:3] + (
        {"prefix_placeholder": LONG_PH, "file_mode": "binary"},)
    p.entries["share/old.txt"] = p.entries["share/old.txt"][:3] + ({"no_link": True},)
    return p


def unpack(archive, cache):
    dest = os.path.join(cache, os.path.basename(archive)[:-len(".tar.bz2")])
    with tarfile.open(archive) as tar:
        tar.extractall(dest)
    return dest


# ---- checks ---------------------------------------------------------------------------------

def dest_of(pkg, path):
    if pkg.index.get("noarch") == "python":
        if path.startswith("site-packages/"):
            return SITE + "/" + path[len("site-packages/"):]
        if path.startswith("python-scripts/"):
            return "bin/" + path[len("python-scripts/"):]
    return path


def check_linked(group, pkg, pkgdir, prefix, archive, mode, out, specs=()):
    """Every path of the package checked in the prefix; returns the record's files."""
    expected_files = []
    for path, (kind, data, fmode, keys) in sorted(pkg.entries.items()):
        dest = dest_of(pkg, path)
        expected_files.append(dest)
        full, src = os.path.join(prefix, dest), os.path.join(pkgdir, path)
        if kind == "directory":
            t.check(group, os.path.isdir(full), "%s: directory %s missing" % (pkg.name, dest))
            continue
        if kind == "softlink":
            ok = os.path.islink(full) and os.readlink(full) == data
            t.check(group, ok, "%s: softlink %s -> %r" % (pkg.name, dest,
                                                          os.path.islink(full) and os.readlink(full)))
            continue
        if not os.path.isfile(full):
            t.check(group, False, "%s: %s missing" % (pkg.name, dest))
            continue
        with open(full, "rb") as f:
            got = f.read()
        ph = keys.get("prefix_placeholder")
        if ph and keys.get("file_mode") == "binary":
            want = binary_replace(data, ph.encode(), prefix.encode())
            t.check(group, len(got) == len(data), "%s: %s changed length" % (pkg.name, dest))
        elif ph:
            want = text_replace(data, ph, prefix)
        else:
            want = data
        t.check(group, got == want, "%s: %s content\n got %r\nwant %r" % (pkg.name, dest, got, want))
        t.check(group, stat.S_IMODE(os.stat(full).st_mode) == fmode,
                "%s: %s mode %o, want %o" % (pkg.name, dest, stat.S_IMODE(os.stat(full).st_mode), fmode))
        same = os.stat(full).st_ino == os.stat(src).st_ino
        linked = mode in ("hardlink", "symlink") and not ph and not keys.get("no_link")
        t.check(group, same == linked, "%s: %s shares the cache inode: %s, want %s" % (
            pkg.name, dest, same, linked))
        if mode == "symlink" and not ph and not keys.get("no_link"):
            t.check(group, os.path.islink(full), "%s: %s not a symlink" % (pkg.name, dest))
    entry_points = []
    if pkg.link:
        for ep in pkg.link["noarch"]["entry_points"]:
            name, _, target = (s.strip() for s in ep.partition("="))
            module, _, func = target.partition(":")
            dest = "bin/" + name
            entry_points.append(dest)
            full = os.path.join(prefix, dest)
            want = entry_point(os.path.join(prefix, "bin/python"), module.strip(), func.strip())
            got = open(full, "rb").read() if os.path.isfile(full) else None
            t.check(group, got == want, "%s: entry point %s\n got %r\nwant %r" % (pkg.name, dest, got, want))
            t.check(group, got is not None and os.stat(full).st_mode & 0o111 == 0o111,
                    "%s: entry point %s not executable" % (pkg.name, dest))
    printed = out.split("\n")[:-1]
    t.check(group, sorted(printed) == sorted(expected_files + entry_points),
            "%s: printed %s, want %s" % (pkg.name, printed, expected_files + entry_points))
    check_record(group, pkg, pkgdir, prefix, archive, mode, expected_files + entry_points, specs)
    return expected_files + entry_points


def check_record(group, pkg, pkgdir, prefix, archive, mode, files, specs):
    path = os.path.join(prefix, "conda-meta", "%s-%s-%s.json" % (pkg.name, pkg.version, pkg.build))
    try:
        with open(path, encoding="utf-8") as f:
            rec = json.load(f)
    except (OSError, ValueError) as e:
        t.check(group, False, "%s: PrefixRecord: %s" % (pkg.name, e))
        return
    want = pkg.record(archive)
    for k, v in want.items():
        t.check(group, rec.get(k) == v, "%s: record %s = %r, want %r" % (pkg.name, k, rec.get(k), v))
    others = {"constrains": ["other <2"], "noarch": pkg.index.get("noarch"), "size": os.path.getsize(archive),
              "timestamp": 1700000000000, "license": "MIT",
              "link": {"source": os.path.realpath(pkgdir), "type": {"hardlink": 1, "symlink": 2,
                                                                   "copy": 3}[mode]},
              "extracted_package_dir": os.path.realpath(pkgdir), "package_tarball_full_path": archive,
              "requested_specs": list(specs)}
    for k, v in others.items():
        t.check(group, rec.get(k) == v, "%s: record %s = %r, want %r" % (pkg.name, k, rec.get(k), v))
    t.check(group, sorted(rec.get("files", [])) == sorted(files),
            "%s: record files %s, want %s" % (pkg.name, rec.get("files"), files))
    pd = rec.get("paths_data", {})
    t.check(group, pd.get("paths_version") == 1, "%s: paths_version" % pkg.name)
    by_path = {e.get("_path"): e for e in pd.get("paths", [])}
    t.check(group, sorted(by_path) == sorted(files), "%s: paths_data paths %s" % (pkg.name, sorted(by_path)))
    for path, (kind, data, _m, keys) in pkg.entries.items():
        e = by_path.get(dest_of(pkg, path), {})
        full = os.path.join(prefix, dest_of(pkg, path))
        t.check(group, e.get("path_type") == ("hardlink" if kind == "file" else kind),
                "%s: %s path_type %r" % (pkg.name, path, e.get("path_type")))
        want_keys = dict(keys)
        if "prefix_placeholder" in keys:
            want_keys.setdefault("file_mode", "text")
        for k in ("prefix_placeholder", "file_mode", "no_link"):
            t.check(group, e.get(k) == want_keys.get(k), "%s: %s %s = %r, want %r" % (
                pkg.name, path, k, e.get(k), want_keys.get(k)))
        if kind == "file":
            t.check(group, e.get("sha256") == sha(data) and e.get("size_in_bytes") == len(data),
                    "%s: %s sha256/size of the package's file" % (pkg.name, path))
            with open(full, "rb") as f:
                t.check(group, e.get("sha256_in_prefix") == sha(f.read()),
                        "%s: %s sha256_in_prefix wrong" % (pkg.name, path))
    for dest in files:
        if dest.startswith("bin/") and by_path.get(dest, {}).get("path_type") == "unix_python_entry_point":
            with open(os.path.join(prefix, dest), "rb") as f:
                t.check(group, by_path[dest].get("sha256_in_prefix") == sha(f.read()),
                        "%s: entry point %s sha256_in_prefix" % (pkg.name, dest))


def tree(prefix):
    """Every file, link and directory under prefix (not .hpcbuild/)."""
    out = set()
    for root, dirs, files in os.walk(prefix):
        dirs[:] = [d for d in dirs if not (root == prefix and d == ".hpcbuild")]
        rel = os.path.relpath(root, prefix)
        for n in dirs + files:
            out.add(os.path.normpath(os.path.join(rel, n)))
    return out


def link(prefix, pkgdir, recfile, *extra):
    return run_cli("conda-link", prefix, pkgdir, recfile, *extra)


def main():
    tmp = tempfile.mkdtemp(prefix="hb-condalink-")
    cache = os.path.join(tmp, "pkgs")
    os.makedirs(cache)
    pkgs = {}
    for p in (demo_pkg(), noarch_pkg(), legacy_pkg()):
        archive = p.build_archive(tmp)
        pkgdir = unpack(archive, cache)
        recfile = os.path.join(tmp, p.name + ".record.json")
        with open(recfile, "w") as f:
            json.dump(p.record(archive), f)
        pkgs[p.name] = (p, pkgdir, archive, recfile)

    for mode, prefix in (("hardlink", os.path.join(tmp, "env")), ("copy", os.path.join(tmp, "env copy")),
                         ("symlink", os.path.join(tmp, "env-sym"))):
        group = "link " + mode
        before = None
        all_files = {}
        for name in ("demo", "oldpkg", "pyutil"):
            p, pkgdir, archive, recfile = pkgs[name]
            if name == "pyutil":
                before = tree(prefix)
            rc, out, err = link(prefix, pkgdir, recfile, "--link-mode", mode, "--site-packages", SITE,
                                "--archive", archive, "--requested", name, "--requested", name + ">=0")
            t.check(group, rc == 0, "%s into %s: exit %d: %s" % (name, prefix, rc, err))
            if rc == 0:
                all_files[name] = check_linked(group, p, pkgdir, prefix, archive, mode, out,
                                               (name, name + ">=0"))
        # Unlink pyutil: exactly its files (and the directories they leave empty) go.
        group = "unlink " + mode
        rc, out, err = run_cli("conda-link", "--unlink", prefix, "conda-meta/pyutil-2.0-pyhd8ed1ab_0.json")
        t.check(group, rc == 0, "unlink pyutil: exit %d: %s" % (rc, err))
        after = tree(prefix)
        t.check(group, after == before, "unlink pyutil left %s, removed %s" % (
            sorted(after - (before or set())), sorted((before or set()) - after)))
        # Unlink the rest: nothing but conda-meta/ is left.
        for name, rec in (("demo", "demo-1.0-h0_0"), ("oldpkg", "oldpkg-0.1-0")):
            rc, out, err = run_cli("conda-link", "--unlink", prefix, "conda-meta/%s.json" % rec)
            t.check(group, rc == 0, "unlink %s: exit %d: %s" % (name, rc, err))
        # Left: conda-meta/ and the package's own (empty) directory entry, which a transaction
        # cannot remove (hb_txn_remove takes files and symlinks only).
        left = tree(prefix) - {"share", "share/demo", "share/demo/empty"}
        t.check(group, left <= {"conda-meta"}, "after unlinking everything: %s" % sorted(left))
        for name, (p, pkgdir, archive, _r) in pkgs.items():
            for path, (kind, data, _m, _k) in p.entries.items():
                if kind == "file":
                    with open(os.path.join(pkgdir, path), "rb") as f:
                        t.check(group, f.read() == data, "cache file %s/%s changed" % (name, path))

    # A deep prefix with a space: long and escaped shebangs become /usr/bin/env, entry points
    # use the /bin/sh trampoline.
    deep = os.path.join(tmp, "deep dir " + "d" * 90, "env")
    for name in ("demo", "pyutil"):
        p, pkgdir, archive, recfile = pkgs[name]
        rc, out, err = link(deep, pkgdir, recfile, "--site-packages", SITE, "--archive", archive)
        t.check("deep prefix", rc == 0, "%s: exit %d: %s" % (name, rc, err))
        if rc == 0:
            check_linked("deep prefix", p, pkgdir, deep, archive, "hardlink", out)
    with open(os.path.join(deep, "bin/demo-tool"), "rb") as f:
        t.check("deep prefix", f.readline() == b"#!/usr/bin/env python -E\n", "demo-tool shebang")
    with open(os.path.join(deep, "bin/pyutil"), "rb") as f:
        t.check("deep prefix", f.readline() == b"#!/bin/sh\n", "entry point trampoline")

    # Errors: a binary placeholder shorter than the prefix names the file; nothing changes.
    short = Pkg("shortph", "1", "0")
    short.file("lib/libshort.so", b"\x7fELF" + SHORT_PH.encode() + b"/lib\0")
    short.entries["lib/libshort.so"] = short.entries["lib/libshort.so"][:3] + (
        {"prefix_placeholder": SHORT_PH, "file_mode": "binary"},)
    archive = short.build_archive(tmp)
    pkgdir = unpack(archive, cache)
    recfile = os.path.join(tmp, "short.record.json")
    with open(recfile, "w") as f:
        json.dump(short.record(archive), f)
    longp = os.path.join(tmp, "a-prefix-longer-than-the-placeholder")
    rc, out, err = link(longp, pkgdir, recfile)
    t.check("errors", rc == 2 and "lib/libshort.so" in err and "too short" in err,
            "short placeholder: exit %d: %s" % (rc, err))
    t.check("errors", not os.path.exists(os.path.join(longp, "conda-meta")) and
            not os.path.exists(os.path.join(longp, "lib")), "short placeholder: prefix changed")
    p, pkgdir, archive, recfile = pkgs["pyutil"]
    rc, out, err = link(os.path.join(tmp, "env-nosp"), pkgdir, recfile)
    t.check("errors", rc == 2 and "site-packages" in err, "noarch without site-packages: %d %s" % (rc, err))
    rc, out, err = run_cli("conda-link", "--unlink", os.path.join(tmp, "env"), "conda-meta/nothing.json")
    t.check("errors", rc != 0 and "nothing.json" in err, "unlink a missing record: %d %s" % (rc, err))

    fixtures(tmp, cache)
    t.finish()


def fixtures(tmp, cache):
    """condapkg's packages (tar.bz2: unpacked here) linked and checked by its own oracle."""
    out_dir = os.path.join(tmp, "fixtures")
    made = [
        condapkg.make_package(out_dir, "hb-bin", "1.2", "h1_0", fmt="tar.bz2",
                              files={"share/hb/README": b"readme\n", "share/hb/empty/": None,
                                     "share/hb/nolink.dat": b"no link\n"},
                              text_prefix=["bin/hb-tool", "etc/hb.conf"],
                              binary_prefix=["lib/libhb.so.1"], softlinks={"lib/libhb.so": "libhb.so.1"},
                              no_link=["share/hb/nolink.dat"], constrains=["hb-extra <2"]),
        condapkg.make_package(out_dir, "hb-py", "0.3", "pyh0_0", fmt="tar.bz2", noarch="python",
                              files={"site-packages/hb_py/__init__.py": b"X = 1\n",
                                     "site-packages/hb_py/cli.py": b"def main():\n    pass\n"},
                              text_prefix=["python-scripts/hb-py-old"],
                              entry_points=["hb-py = hb_py.cli:main"]),
        condapkg.make_package(out_dir, "hb-legacy", "5", "0", fmt="tar.bz2", legacy=True,
                              placeholder=condapkg.CONDA_PLACEHOLDER, text_prefix=["bin/hb-old"],
                              files={"share/legacy.txt": b"legacy\n"}, no_link=["share/legacy.txt"]),
    ]
    prefix = os.path.join(tmp, "fixture env")
    for archive, record in made:
        pkgdir = unpack(archive, cache)
        recfile = archive + ".record.json"
        with open(recfile, "w") as f:
            json.dump(dict(record, channel="fixtures"), f)
        rc, out, err = link(prefix, pkgdir, recfile, "--site-packages", SITE)
        t.check("condapkg fixtures", rc == 0, "%s: exit %d: %s" % (record["name"], rc, err))
        problems = condapkg.check_linked(prefix, pkgdir, site_packages=SITE, conda_meta=True)
        for problem in problems:
            t.check("condapkg fixtures", False, "%s: %s" % (record["name"], problem))
        t.check("condapkg fixtures", not problems, record["name"])


if __name__ == "__main__":
    main()
