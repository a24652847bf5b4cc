"""Safe extraction (`hpcbuild extract ARCHIVE DEST`) against hostile archives made here with
Python's tarfile/zipfile: path traversal, absolute paths, symlink escapes, writes through a
planted symlink, hard links out of the archive, devices and FIFOs, duplicates, bombs, truncated
and corrupt archives.  Each must fail with status 2 and one message naming the archive (and the
entry), leave no DEST behind and write nothing in the sentinel directory around DEST.  Good
archives (.tar.bz2 with symlinks, hard links and exec bits, .conda, wheels, sdists) are compared
file by file with what Python's own tarfile/zipfile extraction gives."""
import bz2
import gzip
import io
import os
import shutil
import stat
import struct
import sys
import tarfile
import tempfile
import warnings
import zipfile
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import Tally, run_cli  # noqa: E402

t = Tally()
warnings.simplefilter("ignore")  # zipfile warns about the duplicate names written on purpose
TMP = tempfile.mkdtemp(prefix="hb-extract-")


# ---- writing archives ----

def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    """entries: (name, kind, data) with kind file|exec|dir|symlink|hardlink|fifo|chr|blk;
    data is the file's bytes or the link target."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            ti.mode = 0o755 if kind in ("exec", "dir", "hardlink") else 0o644
            body = None
            if kind in ("file", "exec"):
                ti.size = len(data)
                body = io.BytesIO(data)
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
            elif kind == "symlink":
                ti.type, ti.linkname = tarfile.SYMTYPE, data
            elif kind == "hardlink":
                ti.type, ti.linkname = tarfile.LNKTYPE, data
            elif kind == "fifo":
                ti.type = tarfile.FIFOTYPE
            elif kind in ("chr", "blk"):
                ti.type = tarfile.CHRTYPE if kind == "chr" else tarfile.BLKTYPE
                ti.devmajor, ti.devminor = 1, 3
            tf.addfile(ti, body)
    return buf.getvalue()


def zstd_raw(data):
    """A zstd frame of raw (stored) blocks: what libarchive's zstd reader accepts, written
    without a zstd module (Debian's python3 has none)."""
    out = [struct.pack("<I", 0xFD2FB528), bytes([0x00, 7 << 3])]  # no FCS; window 2**17
    block = 1 << 17
    chunks = [data[i:i + block] for i in range(0, len(data), block)] or [b""]
    for i, c in enumerate(chunks):
        last = 1 if i == len(chunks) - 1 else 0
        out.append(struct.pack("<I", last | (len(c) << 3))[:3])
        out.append(c)
    return b"".join(out)


def conda_bytes(info_entries, pkg_entries, name="foo-1.0-0", pkg_member=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("metadata.json", '{"conda_pkg_format_version": 2}')
        z.writestr("info-%s.tar.zst" % name, zstd_raw(tar_bytes(info_entries)))
        z.writestr("pkg-%s.tar.zst" % name,
                   pkg_member if pkg_member is not None else zstd_raw(tar_bytes(pkg_entries)))
    return buf.getvalue()


def zip_bytes(entries):
    """entries: (name, data, exec) or (name, data, exec, compress_type)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for e in entries:
            zi = zipfile.ZipInfo(e[0], date_time=(2024, 1, 2, 3, 4, 6))
            zi.external_attr = ((0o100755 if e[2] else 0o100644) << 16)
            zi.compress_type = e[3] if len(e) > 3 else zipfile.ZIP_DEFLATED
            z.writestr(zi, e[1])
    return buf.getvalue()


def deflate_bomb_zip(declared):
    """One member declaring `declared` bytes of zeros: a 1 MiB deflate chunk (full flush, so
    it depends on nothing before it) repeated, then the final empty block."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = comp.compress(bytes(1 << 20)) + comp.flush(zlib.Z_FULL_FLUSH)
    n = declared >> 20
    data = chunk * n + b"\x03\x00"
    crc = 0
    zero = bytes(1 << 20)
    for _ in range(n):
        crc = zlib.crc32(zero, crc)
    name = b"zeros.bin"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), declared,
                        len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x0314, 20, 0, 8, 0, 0x21, crc,
                          len(data), declared, len(name), 0, 0, 0, 0, 0o100644 << 16, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central),
                      len(local) + len(data), 0)
    return local + data + central + end


def bz2_bomb_tar(declared):
    """A tar declaring `declared` bytes of zeros, as concatenated bzip2 streams (~45 bytes a MiB)."""
    ti = tarfile.TarInfo("zeros.bin")
    ti.size = declared
    chunk = bz2.compress(bytes(1 << 20), 9)
    return bz2.compress(ti.tobuf(tarfile.GNU_FORMAT)) + chunk * (declared >> 20) + bz2.compress(bytes(1024))


# ---- running and checking ----

def snapshot(root):
    """Every path under root with its kind and content (or target)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[os.path.relpath(p, root)] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[os.path.relpath(p, root)] = ("dir",)
            else:
                with open(p, "rb") as f:
                    out[os.path.relpath(p, root)] = ("file", f.read(), bool(st.st_mode & 0o111))
    return out


case_no = [0]


def sandbox(filename, data):
    """A fresh sentinel directory holding the archive and a file to guard; returns
    (archive path, dest path, sentinel)."""
    case_no[0] += 1
    box = os.path.join(TMP, "case%03d" % case_no[0])
    os.makedirs(os.path.join(box, "sub"))
    with open(os.path.join(box, "keep"), "w") as f:
        f.write("keep")
    archive = os.path.join(box, filename)
    with open(archive, "wb") as f:
        f.write(data)
    return archive, os.path.join(box, "dest"), box


def hostile(group, filename, data, entry=None, why=None, extra=(), member=None):
    archive, dest, box = sandbox(filename, data)
    before = snapshot(box)
    rc, out, err = run_cli("extract", *extra, archive, dest)
    after = snapshot(box)
    what = "%s: rc=%d err=%r" % (filename, rc, err)
    t.check(group, rc == 2, what + ": want status 2")
    t.check(group, err.count("\n") == 1 and err.startswith("hpcbuild: archive '%s': " % archive),
            what + ": want one line naming the archive")
    if member:
        t.check(group, "member '%s'" % member in err, what + ": want member %r" % member)
    if entry:
        t.check(group, "entry '%s'" % entry in err, what + ": want entry %r" % entry)
    if why:
        t.check(group, why in err, what + ": want %r" % why)
    t.check(group, not os.path.lexists(dest), what + ": DEST left behind")
    t.check(group, after == before, what + ": the sentinel directory changed: %r" %
            sorted(set(after) ^ set(before)))


def same_tree(group, what, got, want):
    t.check(group, sorted(got) == sorted(want), "%s: paths differ: only ours %r, only Python's %r" % (
        what, sorted(set(got) - set(want)), sorted(set(want) - set(got))))
    for p in sorted(set(got) & set(want)):
        t.check(group, got[p] == want[p], "%s: %s: ours %r, Python's %r" % (what, p, got[p][:2], want[p][:2]))


def good(group, filename, data, reference, nfiles):
    """Extracts with hpcbuild and with `reference(archive path, directory)` (Python's own
    extraction), then compares the two trees."""
    archive, dest, box = sandbox(filename, data)
    rc, out, err = run_cli("extract", archive, dest)
    t.check(group, rc == 0 and out == "%d files\n" % nfiles, "%s: rc=%d out=%r err=%r" % (filename, rc, out, err))
    ref = os.path.join(box, "ref")
    os.mkdir(ref)
    reference(archive, ref)
    if rc == 0:
        same_tree(group, filename, snapshot(dest), snapshot(ref))


def tar_reference(archive, ref):
    with tarfile.open(archive) as tf:
        tf.extractall(ref)


def zip_reference(archive, ref):
    """zipfile ignores modes: apply the exec bits of external_attr as installers do."""
    with zipfile.ZipFile(archive) as z:
        z.extractall(ref)
        for zi in z.infolist():
            if not zi.is_dir():
                os.chmod(os.path.join(ref, zi.filename), 0o755 if (zi.external_attr >> 16) & 0o111 else 0o644)


def conda_reference(archive, ref):
    with zipfile.ZipFile(archive) as z:
        for zi in z.infolist():
            if zi.filename.endswith(".tar.zst"):
                raw = z.read(zi)
                tar = unraw_zstd(raw)
                with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
                    tf.extractall(ref)


def unraw_zstd(frame):
    """Reads back a frame written by zstd_raw."""
    pos, out = 6, []
    while True:
        h = int.from_bytes(frame[pos:pos + 3], "little")
        size = h >> 3
        out.append(frame[pos + 3:pos + 3 + size])
        pos += 3 + size
        if h & 1:
            return b"".join(out)


# ---- hostile tarballs ----
outside = os.path.join(TMP, "case%03d" % (case_no[0] + 1))
hostile("traversal", "dotdot.tar.gz", gzip.compress(tar_bytes([("../x", "file", b"x")])), "../x", "'..'")
hostile("traversal", "inner.tar.bz2", bz2.compress(tar_bytes([("a/b", "file", b"b"), ("a/../../x", "file", b"x")])),
        "a/../../x", "'..'")
hostile("traversal", "abs.tar", tar_bytes([(outside + "/abs", "file", b"x")]), outside + "/abs", "absolute path")
hostile("traversal", "abs-gnu.tar", tar_bytes([("/etc/hb-test-x", "file", b"x")], tarfile.GNU_FORMAT),
        "/etc/hb-test-x", "absolute path")
hostile("symlink", "link-etc.tar.bz2", bz2.compress(tar_bytes([("etc", "symlink", "/etc")])), "etc",
        "absolute path '/etc'")
hostile("symlink", "link-up.tar.bz2", bz2.compress(tar_bytes([("up", "symlink", "..")])), "up", "leaves the destination")
hostile("symlink", "link-up2.tar.bz2", bz2.compress(tar_bytes([("a/b/c", "symlink", "../x/../../../keep")])), "a/b/c",
        "leaves the destination")
hostile("symlink", "write-through-out.tar", tar_bytes([("d", "symlink", ".."), ("d/x", "file", b"x")]), "d", "leaves")
hostile("symlink", "write-through-in.tar", tar_bytes([("sub", "dir", None), ("d", "symlink", "sub"), ("d/x", "file", b"x")]),
        "d/x", "path goes through 'd', which is not a directory")
hostile("symlink", "file-over-link.tar", tar_bytes([("l", "symlink", "target"), ("l", "file", b"x")]), "l",
        "duplicate entry")
hostile("hardlink", "passwd.tar", tar_bytes([("passwd", "hardlink", "/etc/passwd")]), "passwd", "absolute path")
hostile("hardlink", "passwd-rel.tar", tar_bytes([("passwd", "hardlink", "../../../../../../etc/passwd")]), "passwd", "'..'")
hostile("hardlink", "missing.tar", tar_bytes([("h", "hardlink", "keep")]), "h", "not an earlier file of the archive")
hostile("hardlink", "via-link.tar", tar_bytes([("l", "symlink", "x"), ("h", "hardlink", "l")]), "h", "not an earlier file")
hostile("special", "fifo.tar", tar_bytes([("p", "fifo", None)]), "p", "FIFO")
hostile("special", "chr.tar", tar_bytes([("dev/null", "chr", None)]), "dev/null", "device file")
hostile("special", "blk.tar.gz", gzip.compress(tar_bytes([("sda", "blk", None)])), "sda", "device file")
hostile("duplicate", "dup.tar", tar_bytes([("a/f", "file", b"1"), ("a/./f", "file", b"2")]), "a/./f", "duplicate entry")
hostile("duplicate", "dup-dir.tar", tar_bytes([("a", "file", b"1"), ("a", "dir", None)]), "a/", "duplicate entry")

# ---- hostile zips ----
hostile("zip", "evil-1.0-py3-none-any.whl", zip_bytes([("ok.py", b"", False), ("../x.py", b"x", False)]), "../x.py", "'..'")
hostile("zip", "abs-1.0-py3-none-any.whl", zip_bytes([(outside + "/abs.py", b"x", False)]), None, "absolute path")
hostile("zip", "dup-1.0.zip", zip_bytes([("a.py", b"1", False), ("a.py", b"2", False)]), "a.py", "duplicate entry")

# ---- bombs ----
hostile("bomb", "bomb.tar.bz2", bz2_bomb_tar(2 << 30), "zeros.bin", "compression ratio above the limit of 1000")
hostile("bomb", "bomb-1.0-py3-none-any.whl", deflate_bomb_zip(2 << 30), "zeros.bin",
        "more than 50000000 bytes uncompressed: over the size limit", extra=("--max-bytes", "50000000"))
hostile("bomb", "ratio-1.0-py3-none-any.whl", deflate_bomb_zip(256 << 20), "zeros.bin",
        "compression ratio above the limit of 10", extra=("--max-ratio", "10"))
hostile("bomb", "entries.tar", tar_bytes([("f%d" % i, "file", b"") for i in range(50)]), "f20",
        "more than 20 entries", extra=("--max-entries", "20"))

# ---- truncated and corrupt ----
big = os.urandom(3 << 20)  # several bzip2 blocks: the first header decodes, the data does not
tb = bz2.compress(tar_bytes([("a/big.bin", "file", big), ("a/small", "file", b"s")]))
hostile("truncated", "trunc.tar.bz2", tb[:len(tb) // 2], "a/big.bin", "truncated")
hostile("truncated", "empty.tar.bz2", b"", None, None)
info = [("info/index.json", "file", b'{"name": "foo"}'), ("info/paths.json", "file", b"{}")]
pkg = [("lib/libfoo.so.1", "exec", b"ELF" * 100), ("lib/libfoo.so", "symlink", "libfoo.so.1"),
       ("bin/foo", "exec", b"#!/bin/sh\n"), ("share/doc/foo/README", "file", b"readme")]
cb = conda_bytes(info, pkg)
hostile("truncated", "foo-1.0-0.conda", cb[:len(cb) * 2 // 3], None, None)
hostile("corrupt", "foo-1.0-0.conda", conda_bytes(info, pkg, pkg_member=os.urandom(4096)), None, None,
        member="pkg-foo-1.0-0.tar.zst")
raw = zstd_raw(tar_bytes([("lib/libfoo.so.1", "exec", big)] + pkg[1:]))
hostile("corrupt", "foo-1.0-0.conda", conda_bytes(info, pkg, pkg_member=raw[:len(raw) // 2]), "lib/libfoo.so.1", None,
        member="pkg-foo-1.0-0.tar.zst")
hostile("corrupt", "foo-1.0-0.conda", conda_bytes(info, [("../../keep", "file", b"x")]), "../../keep", "'..'",
        member="pkg-foo-1.0-0.tar.zst")
hostile("corrupt", "foo-1.0-0.conda", conda_bytes(info, [("info/index.json", "file", b"x")]), "info/index.json",
        "duplicate entry", member="pkg-foo-1.0-0.tar.zst")
hostile("corrupt", "not-a-conda.conda", zip_bytes([("metadata.json", b"{}", False)]), None, "no info-*.tar.zst member")

# ---- good archives, compared with Python's extraction ----
good_tar = [
    ("./", "dir", None),
    ("./info/index.json", "file", b'{"name": "foo"}'),
    ("lib/libfoo.so.1.2.3", "exec", os.urandom(100000)),
    ("lib/libfoo.so.1", "symlink", "libfoo.so.1.2.3"),
    ("lib/libfoo.so", "symlink", "libfoo.so.1"),
    ("lib/python3.11/site-packages/foo/__init__.py", "file", b"x = 1\n"),
    ("bin/foo", "exec", b"#!/bin/sh\necho foo\n"),
    ("bin/foo-alias", "hardlink", "bin/foo"),
    ("bin/libfoo", "symlink", "../lib/libfoo.so"),
    ("share/empty", "file", b""),
    ("share/caf\u00e9/na\u00efve.txt", "file", "\u00fc".encode()),
    ("share/" + "long" * 40 + "/name", "file", b"long path"),
    ("etc/conf.d/", "dir", None),
]
good("good", "foo-1.0-0.tar.bz2", bz2.compress(tar_bytes(good_tar)), tar_reference, 8)
good("good", "foo-1.0-gnu.tar.bz2", bz2.compress(tar_bytes(good_tar, tarfile.GNU_FORMAT)), tar_reference, 8)
sdist = [("foo-1.0/" + n.lstrip("./"), k, "foo-1.0/" + d if k == "hardlink" else d) for n, k, d in good_tar[1:]]
good("good", "foo-1.0.tar.gz", gzip.compress(tar_bytes(sdist)), tar_reference, 8)
good("good", "foo-1.0-0.conda", conda_bytes(info, pkg), conda_reference, 5)
whl = [("foo/__init__.py", b"x = 1\n", False), ("foo/data.bin", os.urandom(5000), False, zipfile.ZIP_STORED),
       ("foo-1.0.data/scripts/foo", b"#!python\nprint(1)\n", True),
       ("foo-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n", False),
       ("foo-1.0.dist-info/RECORD", b"", False), ("foo/caf\u00e9.py", b"", False), ("foo/sub/", b"", False)]
good("good", "foo-1.0-py3-none-any.whl", zip_bytes(whl), zip_reference, 6)
good("good", "foo-1.0.zip", zip_bytes([("foo-1.0/" + e[0],) + e[1:] for e in whl]), zip_reference, 6)

shutil.rmtree(TMP)
t.finish()
