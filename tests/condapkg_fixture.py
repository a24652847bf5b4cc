"""The conda package fixtures (tests/lib/condapkg.py) are real: both formats round-trip through
tarfile / zipfile + the zstd tool, meet conda's rules (SPECS 9.4, 9.5: paths.json lists every
file outside info/ with the right sha256 and size), are byte-identical when made twice, and a
channel written by write_channel answers `hpcbuild solve -c`.  check_linked accepts a correct
install (linked here in Python, as SPECS 9.6 says) and reports each planted defect; the
replacement rules it applies are pinned by literal vectors; every hostile archive holds
what its name says.
"""
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import condapkg as cp  # noqa: E402
from hbtest import Tally, run_cli, json_line  # noqa: E402

t = Tally()
tmp = tempfile.mkdtemp(prefix="hb-condapkg-")
PKGS = os.path.join(tmp, "pkgs")
SP = "lib/python3.11/site-packages"


def make_all(outdir):
    """The fixture packages: {key: (path, record)}."""
    libfoo = dict(text_prefix=["bin/foo-config"], binary_prefix=["lib/libfoo.so"],
                  softlinks={"lib/libfoo.so.1": "libfoo.so", "share/foo/doc": "../doc/foo"},
                  files={"share/doc/foo/README": b"foo\n", "share/foo/empty/": None,
                         "etc/foo.conf": b"answer = 42\n"}, no_link=["etc/foo.conf"])
    return {
        "libfoo.conda": cp.make_package(outdir, "libfoo", "1.0", "h1_0", **libfoo),
        "libfoo.tar.bz2": cp.make_package(outdir, "libfoo", "1.0", "h1_0", fmt="tar.bz2", **libfoo),
        "app": cp.make_package(outdir, "app", "2.0", depends=["libfoo >=1.0", "pyfoo"]),
        "pyfoo": cp.make_package(
            outdir, "pyfoo", "0.1", "pyh0_0", noarch="python", fmt="tar.bz2",
            entry_points=["pyfoo = pyfoo.cli:main"],
            files={"site-packages/pyfoo/__init__.py": b"",
                   "site-packages/pyfoo/cli.py": b"def main():\n    return 0\n",
                   "python-scripts/pyfoo-tool": b"#!/bin/sh\necho tool\n"}),
        "legacy": cp.make_package(outdir, "oldpkg", "1.0", fmt="tar.bz2", legacy=True,
                                  placeholder=cp.CONDA_PLACEHOLDER, text_prefix=["bin/old"],
                                  binary_prefix=["lib/libold.so"], no_link=["bin/old"]),
    }


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def tar_names(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: m for m in tar.getmembers()}, {
            m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isreg()}


def unzstd(data):
    return subprocess.run(["zstd", "-d", "-c", "-q"], input=data, stdout=subprocess.PIPE,
                          check=True).stdout


def check_roundtrip(key, path, record):
    """Opens the archive with tarfile / zipfile + zstd and checks it against conda's rules."""
    stem = "%s-%s-%s" % (record["name"], record["version"], record["build"])
    raw = file_bytes(path)
    t.check("record hashes", record["sha256"] == hashlib.sha256(raw).hexdigest()
            and record["md5"] == hashlib.md5(raw).hexdigest() and record["size"] == len(raw)
            and record["fn"] == os.path.basename(path), key)
    if path.endswith(".conda"):
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            t.check(".conda members", [i.filename for i in infos] == [
                "metadata.json", "info-%s.tar.zst" % stem, "pkg-%s.tar.zst" % stem],
                "%s: %s" % (key, [i.filename for i in infos]))
            t.check(".conda is stored", all(i.compress_type == zipfile.ZIP_STORED for i in infos), key)
            t.check(".conda metadata.json", json.loads(zf.read("metadata.json")) ==
                    {"conda_pkg_format_version": 2}, key)
            info_m, info_d = tar_names(unzstd(zf.read("info-%s.tar.zst" % stem)))
            pkg_m, pkg_d = tar_names(unzstd(zf.read("pkg-%s.tar.zst" % stem)))
        t.check(".conda info tar holds info/ only", all(n.startswith("info/") for n in info_m), key)
        t.check(".conda pkg tar holds no info/", not any(n.startswith("info/") for n in pkg_m), key)
        members, data = dict(info_m, **pkg_m), dict(info_d, **pkg_d)
    else:
        members, data = tar_names(raw)
        listing = subprocess.run(["tar", "-tjf", path], capture_output=True, text=True)
        t.check("GNU tar lists the .tar.bz2", listing.returncode == 0 and
                {n.rstrip("/") for n in listing.stdout.split()} == set(members), "%s: %s" % (key, listing.stderr))
    t.check("read_package agrees", {n: m.data for n, m in cp.read_package(path).items()} ==
            {n: data.get(n) for n in members}, key)
    index = json.loads(data["info/index.json"])
    t.check("index.json fields", all(k in index for k in (
        "name", "version", "build", "build_number", "depends", "subdir", "timestamp", "license")),
        "%s: %s" % (key, index))
    t.check("record = index.json + checksums", {k: v for k, v in record.items() if k not in (
        "fn", "md5", "sha256", "size")} == index, "%s: %s vs %s" % (key, record, index))
    t.check("no conda-meta or repodata_record.json in the package", not any(
        n.startswith("conda-meta/") or n == "info/repodata_record.json" for n in members), key)
    payload = {n for n in members if not n.startswith("info/")}
    if "info/paths.json" in data:
        paths = json.loads(data["info/paths.json"])
        t.check("paths_version 1", paths["paths_version"] == 1, key)
        listed = {e["_path"]: e for e in paths["paths"]}
        t.check("paths.json lists every file outside info/", set(listed) == payload,
                "%s: %s vs %s" % (key, sorted(listed), sorted(payload)))
        for p, e in listed.items():
            m = members.get(p)
            if e["path_type"] == "hardlink":
                ok = m is not None and m.isreg() and e["sha256"] == hashlib.sha256(
                    data[p]).hexdigest() and e["size_in_bytes"] == len(data[p])
            elif e["path_type"] == "softlink":
                ok = m is not None and m.issym() and len(e["sha256"]) == 64
            else:
                ok = m is not None and m.isdir()
            t.check("paths.json entry right", ok, "%s: %s" % (key, e))
            if "prefix_placeholder" in e:
                t.check("placeholder in the file", e["prefix_placeholder"].encode() in data[p]
                        and e["file_mode"] in ("text", "binary"), "%s: %s" % (key, p))
    else:
        files = data["info/files"].decode().split()
        t.check("legacy info/files lists every file outside info/", set(files) == payload, key)
        has_prefix = data["info/has_prefix"].decode().splitlines()
        t.check("legacy has_prefix: short and long forms", has_prefix == [
            "bin/old", "%s binary lib/libold.so" % cp.CONDA_PLACEHOLDER], repr(has_prefix))
        t.check("legacy no_link", data.get("info/no_link") == b"bin/old\n", key)
    return members


def check_determinism(made):
    again = make_all(os.path.join(tmp, "again"))
    for key, (path, record) in made.items():
        t.check("byte-identical when made twice",
                file_bytes(path) == file_bytes(again[key][0]) and record == again[key][1], key)


def check_solve(made):
    chan = cp.write_channel(tmp, "chan", made.values())
    t.check("noarch/repodata.json exists", os.path.isfile(os.path.join(chan, "noarch", "repodata.json")))
    with open(os.path.join(chan, "linux-64", "repodata.json"), encoding="utf-8") as f:
        rd = json.load(f)
    t.check("repodata has both keys", set(rd["packages"]) == {"libfoo-1.0-h1_0.tar.bz2",
                                                              "oldpkg-1.0-0.tar.bz2"}
            and set(rd["packages.conda"]) == {"libfoo-1.0-h1_0.conda", "app-2.0-0.conda"},
            json.dumps(rd)[:300])
    rc, out, err = run_cli("solve", "-c", chan, "--override-channels", "--platform", "linux-64",
                           "--site", "none", "--json", "app", env={"HPCBUILD_SITE": "none"})
    j = json_line(out)
    t.check("hpcbuild solve -c answers", rc == 0 and j and j.get("success"), "%d %s %s" % (rc, out, err))
    got = {p["name"]: p for p in (j or {}).get("packages", [])}
    t.check("solve picks app, libfoo (.conda), pyfoo", set(got) == {"app", "libfoo", "pyfoo"}
            and got["libfoo"]["fn"] == "libfoo-1.0-h1_0.conda", sorted(got))
    for p in got.values():
        url = p.get("url") or ""
        local = url[len("file://"):] if url.startswith("file://") else None
        t.check("solved url is the archive, sha256 right", local and os.path.isfile(local) and
                hashlib.sha256(file_bytes(local)).hexdigest() == p["sha256"], json.dumps(p))


# --- a correct install, linked here in Python (SPECS 9.6) --------------------------------------

ENTRY_POINT = ("#!%s/bin/python\n# -*- coding: utf-8 -*-\nimport re\nimport sys\n"
               "from %s import %s\nif __name__ == '__main__':\n"
               "    sys.argv[0] = re.sub(r'(-script\\.pyw?|\\.exe)?$', '', sys.argv[0])\n"
               "    sys.exit(%s())\n")


def link(prefix, pkg, prefix_path=None):
    prefix_path = prefix_path or prefix
    members = cp.read_package(pkg)
    index = json.loads(members["info/index.json"].data)
    noarch = index.get("noarch") == "python"
    files = []
    for e in cp.package_paths(pkg, members):
        rel = e["_path"]
        if noarch:
            rel = rel.replace("site-packages/", SP + "/", 1).replace("python-scripts/", "bin/", 1)
        files.append(rel)
        dest = os.path.join(prefix, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        m = members[e["_path"]]
        if e["path_type"] == "directory":
            os.makedirs(dest, exist_ok=True)
        elif e["path_type"] == "softlink":
            os.symlink(m.linkname, dest)
        else:
            data = m.data
            if e.get("prefix_placeholder"):
                fn = cp.replace_binary if e["file_mode"] == "binary" else cp.replace_text
                data = fn(data, e["prefix_placeholder"], prefix_path)
            with open(dest, "wb") as f:
                f.write(data)
            os.chmod(dest, m.mode & 0o777)
    if "info/link.json" in members:
        for ep in json.loads(members["info/link.json"].data)["noarch"]["entry_points"]:
            cmd, spec = (s.strip() for s in ep.split("="))
            module, func = spec.split(":")
            dest = os.path.join(prefix, "bin", cmd)
            with open(dest, "w", encoding="utf-8") as f:
                f.write(ENTRY_POINT % (prefix_path, module, func, func))
            os.chmod(dest, 0o755)
            files.append("bin/" + cmd)
    os.makedirs(os.path.join(prefix, "conda-meta"), exist_ok=True)
    rec = dict(index, files=files)
    with open(os.path.join(prefix, "conda-meta", "%s-%s-%s.json" % (
            index["name"], index["version"], index["build"])), "w", encoding="utf-8") as f:
        json.dump(rec, f)


def one_problem(group, problems, path, words):
    t.check(group, len(problems) == 1 and path in problems[0] and words in problems[0],
            repr(problems))


def check_oracle(made):
    for key in ("libfoo.conda", "libfoo.tar.bz2", "pyfoo", "app"):
        prefix = os.path.join(tmp, "env-" + key)
        os.makedirs(os.path.join(prefix, SP))
        link(prefix, made[key][0])
        problems = cp.check_linked(prefix, made[key][0], conda_meta=True)
        t.check("check_linked accepts a correct install", problems == [], "%s: %s" % (key, problems))
    # the legacy package, staged elsewhere for the prefix /opt/envL (32 bytes of room)
    stage = os.path.join(tmp, "stage-legacy")
    link(stage, made["legacy"][0], "/opt/envL")
    problems = cp.check_linked(stage, made["legacy"][0], "/opt/envL", conda_meta=True)
    t.check("check_linked accepts a legacy install", problems == [], repr(problems))
    # an extracted package directory serves as well as the archive
    unpacked = os.path.join(tmp, "unpacked")
    with tarfile.open(made["libfoo.tar.bz2"][0]) as tar:
        tar.extractall(unpacked)
    problems = cp.check_linked(os.path.join(tmp, "env-libfoo.conda"), unpacked)
    t.check("check_linked reads an extracted directory", problems == [], repr(problems))

    pkg = made["libfoo.conda"][0]
    members = cp.read_package(pkg)
    ph = cp.PLACEHOLDER

    def planted(group, path, words, damage, pkg=pkg, **kw):
        env = os.path.join(tmp, "bad-" + group.replace(" ", "-"))
        os.makedirs(env)
        link(env, pkg)
        damage(env)
        one_problem(group, cp.check_linked(env, pkg, **kw), path, words)

    def write(rel, data):
        def damage(env):
            mode = os.lstat(os.path.join(env, rel)).st_mode & 0o777
            os.unlink(os.path.join(env, rel))
            with open(os.path.join(env, rel), "wb") as f:
                f.write(data)
            os.chmod(os.path.join(env, rel), mode)
        return damage

    planted("defect missing file", "share/doc/foo/README", "missing",
            lambda env: os.unlink(os.path.join(env, "share/doc/foo/README")))
    planted("defect unreplaced text placeholder", "bin/foo-config", "placeholder not replaced",
            write("bin/foo-config", members["bin/foo-config"].data))
    planted("defect unreplaced binary placeholder", "lib/libfoo.so", "placeholder not replaced",
            write("lib/libfoo.so", members["lib/libfoo.so"].data))

    def second_run_missed(env):
        # replaced in every run but the one holding a newline: a regex without DOTALL
        want = cp.replace_binary(members["lib/libfoo.so"].data, ph, env)
        tail = members["lib/libfoo.so"].data.index(ph.encode() + b"/share/")
        write("lib/libfoo.so", want[:tail] + members["lib/libfoo.so"].data[tail:])(env)
    planted("defect binary run with a newline missed", "lib/libfoo.so", "placeholder not replaced",
            second_run_missed)
    planted("defect binary wrong length", "lib/libfoo.so", "length",
            lambda env: write("lib/libfoo.so", members["lib/libfoo.so"].data.replace(
                ph.encode(), env.encode()))(env))
    planted("defect text content differs", "bin/foo-config", "content differs",
            lambda env: write("bin/foo-config", members["bin/foo-config"].data.replace(
                ph.encode(), b"/elsewhere"))(env))
    planted("defect payload changed", "etc/foo.conf", "sha256",
            write("etc/foo.conf", b"answer = 41\n"))
    planted("defect mode", "bin/foo-config", "expected executable",
            lambda env: os.chmod(os.path.join(env, "bin/foo-config"), 0o644))
    planted("defect softlink replaced by a file", "lib/libfoo.so.1", "not a symlink",
            lambda env: write("lib/libfoo.so.1", b"x")(env))

    def retarget(env):
        os.unlink(os.path.join(env, "lib/libfoo.so.1"))
        os.symlink("libfoo.so.2", os.path.join(env, "lib/libfoo.so.1"))
    planted("defect softlink target", "lib/libfoo.so.1", "symlink to", retarget)
    planted("defect missing directory", "share/foo/empty", "missing",
            lambda env: os.rmdir(os.path.join(env, "share/foo/empty")))
    planted("defect conda-meta files", "conda-meta/libfoo-1.0-h1_0.json", "does not list etc/foo.conf",
            lambda env: _drop_from_record(env, "libfoo-1.0-h1_0", "etc/foo.conf"), conda_meta=True)
    py = made["pyfoo"][0]
    planted("defect entry point missing", "bin/pyfoo", "entry point missing",
            lambda env: os.unlink(os.path.join(env, "bin/pyfoo")), pkg=py, site_packages=SP)
    planted("defect noarch file not in site-packages", SP + "/pyfoo/cli.py", "missing",
            lambda env: os.unlink(os.path.join(env, SP, "pyfoo/cli.py")), pkg=py, site_packages=SP)


def _drop_from_record(env, stem, path):
    rec_path = os.path.join(env, "conda-meta", stem + ".json")
    with open(rec_path, encoding="utf-8") as f:
        rec = json.load(f)
    rec["files"].remove(path)
    with open(rec_path, "w", encoding="utf-8") as f:
        json.dump(rec, f)


# --- the replacement rules, pinned ------------------------------------------------------------

def check_vectors():
    ph = "/ph/aaaaaaaaaa"     # 14 bytes
    B = cp.replace_binary
    t.check("binary: every occurrence in a run, padded",
            B(b"x/ph/aaaaaaaaaa/lib:/ph/aaaaaaaaaa/l\0y", ph, "/p") ==
            b"x/p/lib:/p/l" + b"\0" * 24 + b"\0y")
    t.check("binary: a run holding a newline",
            B(b"/ph/aaaaaaaaaa/a\nb\0", ph, "/p") == b"/p/a\nb" + b"\0" * 12 + b"\0")
    t.check("binary: two runs",
            B(b"/ph/aaaaaaaaaa\0-/ph/aaaaaaaaaa/x\0", ph, "/pp") ==
            b"/pp" + b"\0" * 11 + b"\0-/pp/x" + b"\0" * 11 + b"\0")
    t.check("binary: no NUL terminator, unchanged", B(b"a/ph/aaaaaaaaaa", ph, "/p") == b"a/ph/aaaaaaaaaa")
    try:
        B(b"/ph/aaaaaaaaaa\0", ph, "/a/much/longer/prefix")
        t.check("binary: prefix too long refused", False)
    except ValueError as e:
        t.check("binary: prefix too long refused", str(e) == "Placeholder of length 14 too short", str(e))
    T = cp.replace_text
    src = b"#!/ph/aaaaaaaaaa/bin/python -E\nx=/ph/aaaaaaaaaa:/ph/aaaaaaaaaa\n"
    t.check("text: every occurrence", T(src, ph, "/opt/e") ==
            b"#!/opt/e/bin/python -E\nx=/opt/e:/opt/e\n")
    t.check("text: a prefix with spaces, shebang via env", T(src, ph, "/opt/my env") ==
            b"#!/usr/bin/env python -E\nx=/opt/my env:/opt/my env\n")
    long_prefix = "/" + "x" * 130
    t.check("text: a shebang over 127 bytes, via env", T(src, ph, long_prefix) ==
            b"#!/usr/bin/env python -E\nx=" + long_prefix.encode() + b":" + long_prefix.encode() + b"\n")
    t.check("text: no shebang", T(b"a /ph/aaaaaaaaaa b", ph, "/q") == b"a /q b")


# --- hostile archives -------------------------------------------------------------------------

def check_hostile():
    out = os.path.join(tmp, "hostile")
    for fmt in ("tar.bz2", "conda", "whl"):
        for kind in cp.HOSTILE_KINDS:
            try:
                path = cp.hostile(out, kind, fmt)
            except ValueError as e:
                t.check("hostile: only what a .whl cannot hold is refused", fmt == "whl" and kind in (
                    "hardlink_outside", "device", "fifo"), "%s %s: %s" % (kind, fmt, e))
                continue
            raw = file_bytes(path)
            if kind == "truncated":
                t.check("hostile truncated does not open", not _opens(path, fmt), path)
                continue
            entries = _entries(path, fmt)
            names = [e[0] for e in entries]
            want = {"traversal": lambda: "../hb-escaped-traversal.txt" in names,
                    "absolute": lambda: any(n.startswith("/") for n in names),
                    "symlink_escape": lambda: ("lib/escape", "symlink", "../../hb-escaped-link") in entries,
                    "symlink_absolute": lambda: ("lib/etc", "symlink", "/etc") in entries,
                    "symlink_chain": lambda: names[-3:] == ["a", "a/b", "a/b/hb-escaped-chain.txt"],
                    "symlink_write_through": lambda: names[-2:] == [
                        "share/through", "share/through/hb-escaped-through.txt"],
                    "hardlink_outside": lambda: ("lib/hard", "hardlink", "../hb-hardlink-target.txt") in entries,
                    "device": lambda: ("dev/null", "chr", None) in entries,
                    "fifo": lambda: ("run/fifo", "fifo", None) in entries,
                    "duplicate": lambda: names.count("share/dup.txt") == 2,
                    "zipbomb": lambda: (cp.WHL_ZIPBOMB_BYTES if fmt == "whl" else cp.ZIPBOMB_BYTES)
                    / len(raw) > 1000}[kind]
            t.check("hostile archive holds its entry", want(), "%s %s: %s" % (kind, fmt, entries[-4:]))


def _opens(path, fmt):
    try:
        _entries(path, fmt)
        return True
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, subprocess.CalledProcessError):
        return False


def _entries(path, fmt):
    """[(name, kind, link target)] in archive order."""
    def of_tar(data):
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            out = []
            for m in tar.getmembers():
                kind = ("symlink" if m.issym() else "hardlink" if m.islnk() else "chr" if m.ischr()
                        else "fifo" if m.isfifo() else "dir" if m.isdir() else "file")
                if m.isreg():
                    tar.extractfile(m).read()
                out.append((m.name, kind, m.linkname or None))
            return out
    if fmt == "tar.bz2":
        return of_tar(file_bytes(path))
    with zipfile.ZipFile(path) as zf:
        if fmt == "conda":
            return of_tar(unzstd(zf.read([n for n in zf.namelist() if n.startswith("pkg-")][0])))
        out = []
        for i in zf.infolist():
            if ".dist-info/" in i.filename:
                continue
            data = zf.read(i)
            sym = (i.external_attr >> 16) & 0o170000 == 0o120000
            out.append((i.filename, "symlink" if sym else "file", data.decode() if sym else None))
        return out


def main():
    if shutil.which("zstd") is None:
        print("condapkg.fixture: the zstd command is missing; .conda packages cannot be made")
        sys.exit(1)
    try:
        made = make_all(PKGS)
        for key, (path, record) in made.items():
            check_roundtrip(key, path, record)
        check_determinism(made)
        check_solve(made)
        check_vectors()
        check_oracle(made)
        check_hostile()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t.finish()


main()
