"""Conda package and channel fixtures for tests (stdlib only + the `zstd` tool; /usr/bin/python3).

Builds real conda packages, both formats (SPECS 9.4, 9.5), and the channels that serve them:

    make_package(outdir, name, version, ...) -> (path, record)   a .conda or .tar.bz2
    write_channel(root, name, packages)      -> channel dir     <subdir>/repodata.json + archives
    hostile(outdir, kind, fmt=...)           -> path            an archive an extractor must refuse
    read_package(path or dir)                -> {member: Member} every entry, info/ included
    package_paths(path or dir)               -> [paths.json entry] (legacy info/files read too)
    check_linked(prefix, pkg, prefix_path)   -> [problem, ...]  the oracle for a linked package

Every archive is deterministic (fixed tar/zip times, owners, order), so hashes are stable.
Placeholders follow conda-build: text files carry the build prefix in a shebang and in
assignments; binary files carry it in NUL-terminated runs inside a fake ELF blob, one run
holding it twice and one holding a newline (SPECS 9.6 step 5).
"""
import bz2
import collections
import hashlib
import io
import json
import os
import posixpath
import re
import shutil
import stat
import subprocess
import tarfile
import zipfile

ZIP_DATE = (2026, 1, 1, 0, 0, 0)
TAR_MTIME = 1767225600                  # 2026-01-01T00:00:00Z
TIMESTAMP_MS = TAR_MTIME * 1000
CONDA_PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"   # conda's default (legacy has_prefix)
# conda-build's style: a long, padded host prefix, so binary replacement has room
PLACEHOLDER = ("/opt/conda-bld/hb-fixture_1767225600000/_h_env_placehold"
               + "_placehold" * 20)[:255]
DEFAULT = object()                      # make_package(placeholder=DEFAULT) -> PLACEHOLDER
MAX_SHEBANG = 127                       # Linux
SUBDIR = "linux-64"

Member = collections.namedtuple("Member", "name kind mode data linkname")
"""One archive entry: kind is 'file', 'dir', 'symlink', 'hardlink' or 'other'."""


def zstd_available():
    return shutil.which("zstd") is not None


def _zstd(data, decompress=False):
    if not zstd_available():
        raise RuntimeError("condapkg: the zstd command is missing (apt-get install zstd); "
                           "only .tar.bz2 packages can be made")
    args = ["zstd", "-q", "-c", "-T1"] + (["-d"] if decompress else ["-3"])
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, check=True).stdout


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


# --- placeholder contents and the replacement rules (SPECS 9.6 steps 4, 5) ---------------------

def text_with_placeholder(placeholder, name):
    """A shell script whose shebang and body carry the placeholder."""
    return ("#!%s/bin/python3\n# %s: written by the test fixtures\nPREFIX=\"%s\"\n"
            "LIBS=%s/lib:%s/lib64\n" % (placeholder, name, placeholder, placeholder,
                                        placeholder)).encode()


def binary_with_placeholder(placeholder, name):
    """A fake ELF blob: NUL-terminated runs holding the placeholder amid other bytes (one run
    with it twice, one with a newline inside), so only byte-level run replacement is right."""
    ph = placeholder.encode()
    head = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(range(1, 40))
    return (head + b"\x00RPATH\x00" + ph + b"/lib:" + ph + b"/lib64\x00"
            + bytes(range(200, 256)) + b"\x00" + ph + b"/share/" + name.encode()
            + b"\nsecond line\x00\xff\xfe\x00tail-bytes\x00")


def replace_text(data, placeholder, prefix):
    """Text mode: every occurrence replaced; in a shebang the prefix's spaces are escaped,
    and a shebang over 127 bytes or with escaped spaces becomes #!/usr/bin/env NAME REST."""
    ph, new = placeholder.encode(), prefix.encode()
    first, nl, rest = data.partition(b"\n")
    if first.startswith(b"#!"):
        first = first.replace(ph, new.replace(b" ", b"\\ "))
        m = re.match(rb"#!( *)(/(?:\\ |[^ \n\r\t])*)(.*)\Z", first)
        if m and (len(first) > MAX_SHEBANG or b"\\ " in m.group(2).rpartition(b"/")[0]):
            first = b"#!/usr/bin/env " + m.group(2).rpartition(b"/")[2] + m.group(3)
        return first + nl + rest.replace(ph, new)
    return data.replace(ph, new)


def replace_binary(data, placeholder, prefix):
    """Binary mode: in each run from the placeholder to the next NUL, every occurrence is
    replaced and the run NUL-padded to its old length.  ValueError when the prefix is longer."""
    ph, new = placeholder.encode(), prefix.encode()
    if len(new) > len(ph):
        raise ValueError("Placeholder of length %d too short" % len(ph))
    out, pos = [], 0
    while True:
        start = data.find(ph, pos)
        end = data.find(b"\x00", start) if start >= 0 else -1
        if end < 0:
            out.append(data[pos:])
            return b"".join(out)
        run = data[start:end]
        count = run.count(ph)
        out += [data[pos:start], run.replace(ph, new), b"\x00" * ((len(ph) - len(new)) * count)]
        pos = end


# --- making packages --------------------------------------------------------------------------

def _mode_for(path, data):
    return 0o755 if path.startswith(("bin/", "python-scripts/")) or data[:2] == b"#!" \
        or data[:4] == b"\x7fELF" else 0o644


def _tar_bytes(entries):
    """entries: [(path, kind, mode, data or link target)] -> deterministic tar bytes."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, kind, mode, payload in entries:
            info = tarfile.TarInfo(path)
            info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = \
                TAR_MTIME, mode, 0, 0, "", ""
            if kind == "file":
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
                         "hardlink": tarfile.LNKTYPE, "chr": tarfile.CHRTYPE,
                         "fifo": tarfile.FIFOTYPE}[kind]
            if kind in ("symlink", "hardlink"):
                info.linkname = payload
            if kind == "chr":
                info.devmajor, info.devminor = 1, 3
            tar.addfile(info)
    return out.getvalue()


def _zip_bytes(members, compress=zipfile.ZIP_STORED):
    """members: [(name, data, unix mode)] -> deterministic zip bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.external_attr = mode << 16
            info.compress_type = compress
            info.create_system = 3
            zf.writestr(info, data)
    return out.getvalue()


def _archive(fmt, stem, info_entries, pkg_entries):
    if fmt == "tar.bz2":
        return bz2.compress(_tar_bytes(info_entries + pkg_entries), 9)
    if fmt != "conda":
        raise ValueError("condapkg: fmt must be 'conda' or 'tar.bz2', not %r" % fmt)
    meta = json.dumps({"conda_pkg_format_version": 2}).encode()
    return _zip_bytes([("metadata.json", meta, 0o100644),
                       ("info-%s.tar.zst" % stem, _zstd(_tar_bytes(info_entries)), 0o100644),
                       ("pkg-%s.tar.zst" % stem, _zstd(_tar_bytes(pkg_entries)), 0o100644)])


def _check_ident(name, version, build):
    if not re.fullmatch(r"(([a-z0-9])|([a-z0-9_](?!_)))[._-]?([a-z0-9]+(\.|-|_|$))*", name) \
            or len(name) > 64:
        raise ValueError("condapkg: invalid package name %r" % name)
    if not re.fullmatch(r"[0-9a-z._+!]+", version) or len(version) > 64:
        raise ValueError("condapkg: invalid version %r" % version)
    if not re.fullmatch(r"[a-zA-Z0-9_.+]+", build) or len(build) > 64:
        raise ValueError("condapkg: invalid build string %r" % build)


def make_package(outdir, name, version, build="0", build_number=0, *, depends=(), constrains=(),
                 files=None, text_prefix=(), binary_prefix=(), softlinks=None, noarch=None,
                 entry_points=(), no_link=(), python_site=None, fmt="conda", legacy=False,
                 placeholder=DEFAULT, subdir=None, license="BSD-3-Clause"):
    """Writes <name>-<version>-<build>.<fmt> into outdir; returns (path, record), the record
    being the repodata record (index.json fields + fn, md5, sha256, size).

    files: {path: bytes or (bytes, mode)}; a path ending in '/' (value None) is an empty
      directory (path_type directory).  Default: share/<name>/README, or for noarch='python'
      site-packages/<name>/__init__.py.
    text_prefix / binary_prefix: paths whose content carries the placeholder (text or binary
      mode); a path not in files gets text_with_placeholder / binary_with_placeholder.
    softlinks: {path: relative target}.  no_link: paths marked no_link.
    noarch: None, 'generic' or 'python' (subdir noarch; 'python' writes info/link.json with
      entry_points, e.g. 'hb-cmd = pkg.cli:main').  python_site: python_site_packages_path.
    legacy: info/files + info/has_prefix (+ info/no_link) instead of info/paths.json.
    """
    _check_ident(name, version, build)
    placeholder = PLACEHOLDER if placeholder is DEFAULT else placeholder
    subdir = subdir or ("noarch" if noarch else SUBDIR)
    if files is None:
        files = ({"site-packages/%s/__init__.py" % name.replace("-", "_"):
                  ("__version__ = %r\n" % version).encode()} if noarch == "python"
                 else {"share/%s/README" % name: ("%s %s\n" % (name, version)).encode()})
    files = dict(files)
    for p in text_prefix:
        files.setdefault(p, text_with_placeholder(placeholder, name))
    for p in binary_prefix:
        files.setdefault(p, binary_with_placeholder(placeholder, name))
    modes = {p: "text" for p in text_prefix}
    modes.update({p: "binary" for p in binary_prefix})

    pkg_entries, paths = [], []
    for path in sorted(files):
        value = files[path]
        if path.endswith("/"):
            pkg_entries.append((path.rstrip("/"), "dir", 0o755, None))
            paths.append({"_path": path.rstrip("/"), "path_type": "directory",
                          "sha256": sha256_hex(b""), "size_in_bytes": 0})
            continue
        data, mode = value if isinstance(value, tuple) else (value, _mode_for(path, value))
        if path in modes and placeholder.encode() not in data:
            raise ValueError("condapkg: %s: the placeholder is not in the file" % path)
        pkg_entries.append((path, "file", mode, data))
        e = {"_path": path, "path_type": "hardlink", "sha256": sha256_hex(data),
             "size_in_bytes": len(data)}
        if path in modes:
            e.update(file_mode=modes[path], prefix_placeholder=placeholder)
        if path in no_link:
            e["no_link"] = True
        paths.append(e)
    for path, target in sorted((softlinks or {}).items()):
        pkg_entries.append((path, "symlink", 0o777, target))
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        data = files.get(resolved)
        data = data[0] if isinstance(data, tuple) else data
        data = data if isinstance(data, bytes) else b""    # a directory or dangling target
        paths.append({"_path": path, "path_type": "softlink", "sha256": sha256_hex(data),
                      "size_in_bytes": len(data)})
    paths.sort(key=lambda e: e["_path"])

    index = {"name": name, "version": version, "build": build, "build_number": build_number,
             "depends": list(depends), "license": license, "subdir": subdir,
             "timestamp": TIMESTAMP_MS}
    if constrains:
        index["constrains"] = list(constrains)
    if noarch:
        index["noarch"] = noarch
    elif subdir.startswith("linux-"):
        arch = subdir.split("-", 1)[1]
        index.update(arch={"64": "x86_64", "32": "x86"}.get(arch, arch), platform="linux")
    if python_site:
        index["python_site_packages_path"] = python_site

    def js(obj):
        return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()

    info = [("info/index.json", "file", 0o644, js(index)),
            ("info/about.json", "file", 0o644, js({"summary": "test fixture " + name,
                                                   "license": license}))]
    if legacy:
        info.append(("info/files", "file", 0o644,
                     "".join(e["_path"] + "\n" for e in paths).encode()))
        lines = []
        for e in paths:
            if "prefix_placeholder" not in e:
                continue
            if e["prefix_placeholder"] == CONDA_PLACEHOLDER and e["file_mode"] == "text":
                lines.append(e["_path"])            # the short form: default placeholder, text
            else:
                lines.append("%s %s %s" % (e["prefix_placeholder"], e["file_mode"], e["_path"]))
        if lines:
            info.append(("info/has_prefix", "file", 0o644, ("\n".join(lines) + "\n").encode()))
        if no_link:
            info.append(("info/no_link", "file", 0o644,
                         "".join(p + "\n" for p in sorted(no_link)).encode()))
    else:
        info.append(("info/paths.json", "file", 0o644, js({"paths_version": 1, "paths": paths})))
    if noarch == "python":
        info.append(("info/link.json", "file", 0o644, js({
            "package_metadata_version": 1,
            "noarch": {"type": "python", "entry_points": list(entry_points)}})))

    stem = "%s-%s-%s" % (name, version, build)
    data = _archive(fmt, stem, sorted(info), sorted(pkg_entries, key=lambda e: e[0]))
    fn = "%s.%s" % (stem, fmt)
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, fn)
    with open(path, "wb") as f:
        f.write(data)
    record = dict(index, fn=fn, md5=hashlib.md5(data).hexdigest(), sha256=sha256_hex(data),
                  size=len(data))
    return path, record


def write_channel(root, name, packages):
    """Writes the channel root/name: each package ((path, record) from make_package, or a
    path) copied into <subdir>/ beside a repodata.json listing it under packages (.tar.bz2)
    or packages.conda; noarch/repodata.json always exists.  Returns the channel directory."""
    chan = os.path.join(root, name)
    subdirs = {"noarch": {}}
    for pkg in packages:
        path, record = pkg if isinstance(pkg, tuple) else (pkg, package_record(pkg))
        fn = os.path.basename(path)
        sub = record["subdir"]
        os.makedirs(os.path.join(chan, sub), exist_ok=True)
        if os.path.abspath(path) != os.path.abspath(os.path.join(chan, sub, fn)):
            shutil.copyfile(path, os.path.join(chan, sub, fn))
        key = "packages.conda" if fn.endswith(".conda") else "packages"
        entry = {k: v for k, v in record.items() if k not in ("fn", "url", "channel")}
        subdirs.setdefault(sub, {}).setdefault(key, {})[fn] = entry
    for sub, keys in subdirs.items():
        os.makedirs(os.path.join(chan, sub), exist_ok=True)
        doc = {"info": {"subdir": sub}, "packages": keys.get("packages", {}),
               "packages.conda": keys.get("packages.conda", {}), "repodata_version": 1}
        with open(os.path.join(chan, sub, "repodata.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
    return chan


# --- reading packages -------------------------------------------------------------------------

def _tar_members(data):
    members = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for ti in tar.getmembers():
            kind = ("file" if ti.isreg() else "dir" if ti.isdir() else "symlink" if ti.issym()
                    else "hardlink" if ti.islnk() else "other")
            payload = tar.extractfile(ti).read() if ti.isreg() else None
            members[ti.name] = Member(ti.name, kind, ti.mode, payload, ti.linkname or None)
    return members


def read_package(pkg):
    """{archive path: Member} of a .conda, a .tar.bz2 or an extracted package directory."""
    if os.path.isdir(pkg):
        members = {}
        for dirpath, dirnames, filenames in os.walk(pkg):
            for n in dirnames + filenames:
                full = os.path.join(dirpath, n)
                rel = os.path.relpath(full, pkg).replace(os.sep, "/")
                st = os.lstat(full)
                if stat.S_ISLNK(st.st_mode):
                    members[rel] = Member(rel, "symlink", 0o777, None, os.readlink(full))
                elif stat.S_ISDIR(st.st_mode):
                    members[rel] = Member(rel, "dir", stat.S_IMODE(st.st_mode), None, None)
                else:
                    with open(full, "rb") as f:
                        members[rel] = Member(rel, "file", stat.S_IMODE(st.st_mode), f.read(), None)
        return members
    if pkg.endswith(".tar.bz2"):
        with open(pkg, "rb") as f:
            return _tar_members(f.read())
    if pkg.endswith(".conda"):
        members = {}
        with zipfile.ZipFile(pkg) as zf:
            for n in zf.namelist():
                if n.endswith(".tar.zst"):
                    members.update(_tar_members(_zstd(zf.read(n), decompress=True)))
        return members
    raise ValueError("condapkg: %s: not a .conda, .tar.bz2 or directory" % pkg)


def package_record(pkg):
    """info/index.json of a package, plus fn, md5, sha256 and size of the archive."""
    members = read_package(pkg)
    record = json.loads(members["info/index.json"].data)
    with open(pkg, "rb") as f:
        data = f.read()
    record.update(fn=os.path.basename(pkg), md5=hashlib.md5(data).hexdigest(),
                  sha256=sha256_hex(data), size=len(data))
    return record


def package_paths(pkg, members=None):
    """The package's paths.json entries (defaults filled in); from info/files, has_prefix and
    no_link when there is no paths.json."""
    members = members or read_package(pkg)
    if "info/paths.json" in members:
        entries = json.loads(members["info/paths.json"].data)["paths"]
        return [dict({"path_type": "hardlink", "no_link": False}, **e) for e in entries]

    def lines(name):
        m = members.get("info/" + name)
        return [ln for ln in m.data.decode().split("\n") if ln.strip()] if m else []

    prefixed = {}
    for ln in lines("has_prefix"):
        parts = ln.split(" ")
        if len(parts) == 1:
            prefixed[parts[0]] = (CONDA_PLACEHOLDER, "text")
        else:
            prefixed[" ".join(parts[2:])] = (parts[0], parts[1])
    nolink = set(lines("no_link"))
    entries = []
    for p in lines("files"):
        m = members[p]
        e = {"_path": p, "no_link": p in nolink, "path_type": {
            "symlink": "softlink", "dir": "directory"}.get(m.kind, "hardlink")}
        if m.kind == "file":
            e.update(sha256=sha256_hex(m.data), size_in_bytes=len(m.data))
        if p in prefixed:
            e.update(prefix_placeholder=prefixed[p][0], file_mode=prefixed[p][1])
        entries.append(e)
    return entries


# --- hostile archives (for the extraction tests) ----------------------------------------------

def _filler(n):
    """n deterministic bytes that do not compress."""
    out, block = [], b"hb"
    while sum(map(len, out)) < n:
        block = hashlib.sha256(block).digest()
        out.append(block)
    return b"".join(out)[:n]


ZIPBOMB_BYTES = 64 << 20          # the zeros a .conda / .tar.bz2 bomb expands to
WHL_ZIPBOMB_BYTES = 128 << 20     # deflate tops out near 1030:1, so a .whl bomb is just over 1000


def _hostile_entries(outdir, kind):
    """The entries planted after a benign file, in order.  Escapes aim at the parent of the
    extraction directory (names hb-escaped-*); 'absolute' aims at outdir itself."""
    f, d = "file", 0o644
    absolute = os.path.join(os.path.abspath(outdir), "hb-escaped-absolute.txt")
    return {
        "traversal": [("../hb-escaped-traversal.txt", f, d, b"escaped\n")],
        "absolute": [(absolute, f, d, b"escaped\n")],
        "symlink_escape": [("lib/escape", "symlink", 0o777, "../../hb-escaped-link")],
        "symlink_absolute": [("lib/etc", "symlink", 0o777, "/etc")],
        # lexically inside (normpath("a/..") is "."), really dest/.. once a -> . is followed
        "symlink_chain": [("a", "symlink", 0o777, "."), ("a/b", "symlink", 0o777, ".."),
                          ("a/b/hb-escaped-chain.txt", f, d, b"escaped\n")],
        "symlink_write_through": [("share/through", "symlink", 0o777, "../.."),
                                  ("share/through/hb-escaped-through.txt", f, d, b"escaped\n")],
        "hardlink_outside": [("lib/hard", "hardlink", 0o644, "../hb-hardlink-target.txt")],
        "device": [("dev/null", "chr", 0o666, None)],
        "fifo": [("run/fifo", "fifo", 0o644, None)],
        "duplicate": [("share/dup.txt", f, d, b"first\n"), ("share/dup.txt", f, d, b"second\n")],
    }.get(kind)


HOSTILE_KINDS = ("traversal", "absolute", "symlink_escape", "symlink_absolute", "symlink_chain",
                 "symlink_write_through", "hardlink_outside", "device", "fifo", "duplicate",
                 "zipbomb", "truncated")


def _whl_bytes(name, entries, compress=zipfile.ZIP_DEFLATED):
    members = []
    for path, kind, mode, payload in entries:
        if kind == "file":
            members.append((path, payload, 0o100000 | mode))
        elif kind == "symlink":
            members.append((path, payload.encode(), 0o120777))
        else:
            raise ValueError("condapkg: a .whl cannot hold a %s entry" % kind)
    di = "%s-1.0.dist-info/" % name
    meta = [(di + "METADATA", b"Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % name.encode(),
             0o100644),
            (di + "WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
             0o100644), (di + "RECORD", b"", 0o100644)]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # zipfile warns on the duplicate name
        return _zip_bytes(members + meta, compress)


def hostile(outdir, kind, fmt="tar.bz2"):
    """Writes an archive an extractor must refuse; returns its path.  kind: one of
    HOSTILE_KINDS; fmt: 'tar.bz2', 'conda' (the entries in pkg-*.tar.zst) or 'whl' (no
    hardlink, device or fifo there).  Each holds a valid info/ (or .dist-info) and a benign
    file before the planted entries; 'truncated' is a valid archive cut at 60%."""
    if kind not in HOSTILE_KINDS:
        raise ValueError("condapkg: unknown hostile kind %r (one of %s)" % (kind, HOSTILE_KINDS))
    name = "hostile_" + kind
    benign = [("share/%s/benign.bin" % name, "file", 0o644, _filler(20000))]
    if kind == "zipbomb":
        benign = []          # nothing incompressible: the ratio is the point
        planted = [("share/zeros.bin", "file", 0o644,
                    bytes(WHL_ZIPBOMB_BYTES if fmt == "whl" else ZIPBOMB_BYTES))]
    else:
        planted = _hostile_entries(outdir, kind) or []
    os.makedirs(outdir, exist_ok=True)
    if fmt == "whl":
        data = _whl_bytes(name, benign + planted)
        path = os.path.join(outdir, "%s-1.0-py3-none-any.whl" % name)
    else:
        index = json.dumps({"name": name, "version": "1.0", "build": "0", "build_number": 0,
                            "depends": [], "subdir": SUBDIR}).encode()
        paths = json.dumps({"paths_version": 1, "paths": []}).encode()
        info = [("info/index.json", "file", 0o644, index), ("info/paths.json", "file", 0o644, paths)]
        data = _archive(fmt, "%s-1.0-0" % name, info, benign + planted)
        path = os.path.join(outdir, "%s-1.0-0.%s" % (name, fmt))
    if kind == "truncated":
        data = data[:len(data) * 6 // 10]
    with open(path, "wb") as fh:
        fh.write(data)
    return path


# --- the oracle for a linked package ----------------------------------------------------------

def _find_site_packages(prefix):
    lib = os.path.join(prefix, "lib")
    found = sorted(n for n in (os.listdir(lib) if os.path.isdir(lib) else [])
                   if re.fullmatch(r"python\d+\.\d+t?", n)
                   and os.path.isdir(os.path.join(lib, n, "site-packages")))
    return "lib/%s/site-packages" % found[0] if len(found) == 1 else None


def _is_exec(mode):
    return bool(mode & 0o111)


def check_linked(prefix, pkg, prefix_path=None, *, site_packages=None, conda_meta=False):
    """Problems (a list of strings, empty when right) with pkg (an archive or an extracted
    package directory) as linked into the directory prefix, whose files should hold
    prefix_path (default: prefix, absolute) in place of the placeholder.  Checks every
    paths.json entry: present; content exact (text mode: replace_text; binary mode:
    replace_binary, same length, NUL padded; others: the sha256); execute bit as in the
    package; softlinks as softlinks with the same target; directories.  noarch: python maps
    site-packages/ to site_packages (default: the prefix's one lib/pythonX.Y/site-packages) and
    python-scripts/ to bin/, and its link.json entry points must be scripts in bin/.
    conda_meta: also conda-meta/<name>-<version>-<build>.json, listing every installed path."""
    prefix_path = prefix_path or os.path.abspath(prefix)
    members = read_package(pkg)
    index = json.loads(members["info/index.json"].data)
    link = json.loads(members["info/link.json"].data) if "info/link.json" in members else {}
    noarch_python = index.get("noarch") == "python" or \
        link.get("noarch", {}).get("type") == "python"
    problems = []
    if noarch_python:
        site_packages = site_packages or _find_site_packages(prefix)
        if site_packages is None:
            return ["%s: noarch: python, but no single lib/pythonX.Y/site-packages" % prefix]

    def target(p):
        if noarch_python and p.startswith("site-packages/"):
            return site_packages + p[len("site-packages"):]
        if noarch_python and p.startswith("python-scripts/"):
            return "bin" + p[len("python-scripts"):]
        return p

    installed = []
    for e in package_paths(pkg, members):
        rel = target(e["_path"])
        installed.append(rel)
        problems += _check_entry(prefix, rel, e, members.get(e["_path"]), prefix_path)
    for ep in link.get("noarch", {}).get("entry_points", []):
        cmd, _, spec = (s.strip() for s in ep.partition("="))
        installed.append("bin/" + cmd)
        problems += _check_entry_point(prefix, cmd, spec, prefix_path)
    if conda_meta:
        problems += _check_prefix_record(prefix, index, installed)
    return problems


def _check_entry(prefix, rel, e, member, prefix_path):
    full = os.path.join(prefix, rel)
    if not os.path.lexists(full):
        return ["%s: missing" % rel]
    kind = e.get("path_type", "hardlink")
    if kind == "directory":
        return [] if os.path.isdir(full) and not os.path.islink(full) else \
            ["%s: not a directory" % rel]
    if kind == "softlink":
        if not os.path.islink(full):
            return ["%s: not a symlink" % rel]
        want = member.linkname if member else None
        got = os.readlink(full)
        return [] if got == want else ["%s: symlink to %r, expected %r" % (rel, got, want)]
    if member is None or member.kind != "file":
        return ["%s: listed in paths.json but not a file in the package" % rel]
    if not os.path.isfile(full):
        return ["%s: not a regular file" % rel]
    with open(full, "rb") as f:
        got = f.read()
    problems = []
    ph = e.get("prefix_placeholder")
    if ph:
        mode = e.get("file_mode", "text")
        if os.path.islink(full):
            problems.append("%s: a symlink, but a file with a placeholder must be a copy" % rel)
        try:
            want = (replace_binary if mode == "binary" else replace_text)(
                member.data, ph, prefix_path)
        except ValueError as exc:
            return ["%s: %s (the linker must refuse this prefix)" % (rel, exc)]
        if ph.encode() in got:
            problems.append("%s: placeholder not replaced (%s mode)" % (rel, mode))
        elif mode == "binary" and len(got) != len(member.data):
            problems.append("%s: length %d, expected %d (binary mode keeps the length, NUL "
                            "padded)" % (rel, len(got), len(member.data)))
        elif got != want:
            problems.append("%s: content differs from the %s-mode replacement" % (rel, mode))
    elif sha256_hex(got) != e.get("sha256", sha256_hex(member.data)):
        problems.append("%s: sha256 %s, expected %s" % (rel, sha256_hex(got), e.get("sha256")))
    if _is_exec(os.stat(full).st_mode) != _is_exec(member.mode):
        problems.append("%s: mode %o, expected %s" % (
            rel, stat.S_IMODE(os.stat(full).st_mode),
            "executable" if _is_exec(member.mode) else "not executable"))
    return problems


def _check_entry_point(prefix, cmd, spec, prefix_path):
    rel = "bin/" + cmd
    full = os.path.join(prefix, rel)
    if not os.path.isfile(full):
        return ["%s: entry point missing" % rel]
    with open(full, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    module, _, func = spec.partition(":")
    problems = []
    first = text.split("\n", 1)[0]
    if first != "#!%s/bin/python" % prefix_path and not first.startswith("#!/bin/sh"):
        problems.append("%s: shebang %r, expected #!%s/bin/python" % (rel, first, prefix_path))
    if "from %s import %s" % (module, func.split(".")[0]) not in text:
        problems.append("%s: does not import %s from %s" % (rel, func, module))
    if not _is_exec(os.stat(full).st_mode):
        problems.append("%s: entry point not executable" % rel)
    return problems


def _check_prefix_record(prefix, index, installed):
    rel = "conda-meta/%s-%s-%s.json" % (index["name"], index["version"], index["build"])
    try:
        with open(os.path.join(prefix, rel), encoding="utf-8") as f:
            rec = json.load(f)
    except (OSError, ValueError) as exc:
        return ["%s: %s" % (rel, exc)]
    problems = ["%s: %s is %r, expected %r" % (rel, k, rec.get(k), index[k])
                for k in ("name", "version", "build") if rec.get(k) != index[k]]
    files = set(rec.get("files") or ())
    problems += ["%s: files does not list %s" % (rel, p) for p in installed if p not in files]
    return problems
