"""shards.cli: `hpcbuild solve` over CEP 16 sharded repodata.

The conda-forge sub-channel in ../shared/testdata (osx-arm64 + noarch: its linux-64 solves
take minutes under ASan, inside libsolv) is rewritten here as a
sharded channel: repodata_shards.msgpack.zst and one zstd-compressed msgpack shard per name
(msgpack written by hand below, zstd by the `zstd` command; md5/sha256 as raw bytes, as CEP 16
says).  Every solve over the sharded channel must give the answer of the same solve over the
original repodata.json.  Over the loopback server (tests/lib/testserver.py) the request log
shows that only the shards of the names the specs reach are fetched (that closure is
computed here, independently), that a second solve fetches no shard at all (they are
content-addressed) and revalidates the index with a conditional request, and that a
corrupted cache entry is fetched again.  Corrupt, mismatched and missing shards, a corrupt
index, a channel split over two sharded channels and mixed sharded/whole subdirs are covered.
"""
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from hbtest import Tally, json_line, run_cli, testdata  # noqa: E402

T = Tally()
CF = testdata("repodata", "conda-forge-subchannel-py39-2024-05")
PLATFORM = "osx-arm64"
SUBDIRS = (PLATFORM, "noarch")
BASE_ARGS = ["--platform", PLATFORM, "--virtual", "__osx=13.0"]
# noarch is reached through binutils_impl_linux-aarch64 (sysroot, kernel headers) and pip
SPECS = [["curl"], ["libcurl", "openssl=3"], ["curl", "binutils_impl_linux-aarch64"],
         ["xz", "zstd", "ncurses", "tk"], ["libcur*"], ["curl=0.1"], ["nothing-of-that-name"],
         ["python=3.9", "pip"]]


# ---- writing a sharded channel ------------------------------------------------------
def mp(o):
    """MessagePack encoding of JSON-like values (and bytes as bin)."""
    if o is None:
        return b"\xc0"
    if o is True:
        return b"\xc3"
    if o is False:
        return b"\xc2"
    if isinstance(o, int):
        if 0 <= o < 128:
            return bytes([o])
        return b"\xcf" + struct.pack(">Q", o) if o >= 0 else b"\xd3" + struct.pack(">q", o)
    if isinstance(o, float):
        return b"\xcb" + struct.pack(">d", o)
    if isinstance(o, str):
        b = o.encode("utf-8")
        n = len(b)
        head = bytes([0xa0 | n]) if n < 32 else b"\xd9" + bytes([n]) if n < 256 else \
            b"\xda" + struct.pack(">H", n) if n < 65536 else b"\xdb" + struct.pack(">I", n)
        return head + b
    if isinstance(o, bytes):
        n = len(o)
        return (b"\xc4" + bytes([n]) if n < 256 else b"\xc5" + struct.pack(">H", n)) + o
    if isinstance(o, list):
        n = len(o)
        head = bytes([0x90 | n]) if n < 16 else b"\xdc" + struct.pack(">H", n)
        return head + b"".join(mp(x) for x in o)
    if isinstance(o, dict):
        n = len(o)
        head = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
        return head + b"".join(mp(k) + mp(v) for k, v in o.items())
    raise TypeError(type(o))


def zstd_many(raw):
    """{key: bytes} -> {key: zstd-compressed bytes}, with one `zstd` run."""
    with tempfile.TemporaryDirectory() as d:
        paths = {}
        for i, (k, data) in enumerate(raw.items()):
            paths[k] = os.path.join(d, "%d" % i)
            with open(paths[k], "wb") as f:
                f.write(data)
        if paths:
            subprocess.run(["zstd", "-q", "-f", "--rm"] + list(paths.values()), check=True)
        out = {}
        for k, p in paths.items():
            with open(p + ".zst", "rb") as f:
                out[k] = f.read()
        return out


def read_subdir(chan, subdir):
    with open(os.path.join(chan, subdir, "repodata.json"), encoding="utf-8") as f:
        return json.load(f)


def by_name(doc):
    """name -> {"packages": {...}, "packages.conda": {...}} with raw-byte digests."""
    out = {}
    for section in ("packages", "packages.conda"):
        for fn, r in doc.get(section, {}).items():
            r = dict(r)
            for k in ("md5", "sha256"):
                if isinstance(r.get(k), str):
                    r[k] = bytes.fromhex(r[k])
            out.setdefault(r["name"], {"packages": {}, "packages.conda": {}})[section][fn] = r
    return out


def write_index(subdir_dir, subdir, hashes, version_key="version", shards_base_url="./shards/"):
    index = {version_key: 1,
             "info": {"base_url": "", "shards_base_url": shards_base_url, "subdir": subdir,
                      "created_at": "2024-05-01T00:00:00Z"},
             "shards": hashes}
    z = zstd_many({"i": mp(index)})["i"]
    with open(os.path.join(subdir_dir, "repodata_shards.msgpack.zst"), "wb") as f:
        f.write(z)


def add_shard_file(subdir_dir, data):
    """Writes shards/<sha256>.msgpack.zst; returns the 32-byte digest."""
    h = hashlib.sha256(data).digest()
    os.makedirs(os.path.join(subdir_dir, "shards"), exist_ok=True)
    with open(os.path.join(subdir_dir, "shards", h.hex() + ".msgpack.zst"), "wb") as f:
        f.write(data)
    return h


def write_sharded(dst, keep=None, whole=()):
    """The sub-channel as a sharded channel at dst (only the names `keep` accepts).  Subdirs
    in `whole` are copied as repodata.json.zst instead.  Returns {subdir: {name: hex}}."""
    hashes = {}
    for subdir in SUBDIRS:
        sdir = os.path.join(dst, subdir)
        os.makedirs(sdir, exist_ok=True)
        if subdir in whole:
            src = os.path.join(CF, subdir, "repodata.json")
            subprocess.run(["zstd", "-q", "-f", src, "-o", os.path.join(sdir, "repodata.json.zst")],
                           check=True)
            continue
        shards = {n: mp(s) for n, s in by_name(read_subdir(CF, subdir)).items()
                  if keep is None or keep(n)}
        hs = {n: add_shard_file(sdir, z) for n, z in zstd_many(shards).items()}
        # conda-index writes "repodata_version" where the CEP says "version": accept both
        write_index(sdir, subdir, hs, "repodata_version" if subdir == "noarch" else "version")
        hashes[subdir] = {n: h.hex() for n, h in hs.items()}
    return hashes


# ---- the closure, independently ------------------------------------------------------
def spec_name(s):
    s = s.strip()
    if "::" in s:
        s = s.split("::")[-1]
    return re.split(r"[\s=<>!~\[,|]", s, maxsplit=1)[0]


def closure(specs, subdirs=SUBDIRS):
    recs = {}
    for subdir in subdirs:
        for section in ("packages", "packages.conda"):
            for r in read_subdir(CF, subdir).get(section, {}).values():
                recs.setdefault(r["name"], []).append(r)
    names, todo = set(), [spec_name(s) for s in specs]
    while todo:
        n = todo.pop()
        if n in names:
            continue
        names.add(n)
        for r in recs.get(n, []):
            todo.extend(spec_name(d) for d in r.get("depends", []))
    return names


# ---- solving -------------------------------------------------------------------------
def solve(channels, specs):
    args = []
    for c in channels:
        args += ["-c", c]
    rc, out, err = run_cli("solve", "--json", *(args + BASE_ARGS + list(specs)))
    return rc, json_line(out), err


def comparable(rc, j, labels):
    """The answer without what depends on where the channel lives."""
    if j is None:
        return (rc, None)
    if not j.get("success"):
        probs = j.get("problems", [])
        for label in labels:
            probs = [p.replace(label, "CHANNEL") for p in probs]
        return (rc, tuple(probs))
    return (rc, tuple(sorted(json.dumps({k: v for k, v in p.items() if k not in ("channel", "url")},
                                        sort_keys=True) for p in j["packages"])))


REFERENCE = {}


def reference(specs):
    key = tuple(specs)
    if key not in REFERENCE:
        rc, j, err = solve([CF], specs)
        REFERENCE[key] = comparable(rc, j, [CF])
    return REFERENCE[key]


def same_answer(group, channels, specs, labels=None):
    rc, j, err = solve(channels, specs)
    got = comparable(rc, j, labels or channels)
    want = reference(specs)
    T.check(group, got == want and want[1] is not None,
            "%s %s: rc=%d %r\n  got  %r\n  want %r" % (channels, specs, rc, err, got[:2], want[:2]))
    return j


def one_line_error(group, channels, specs, *needles):
    rc, j, err = solve(channels, specs)
    lines = err.strip().split("\n")
    T.check(group, rc == 1 and j is None and len(lines) == 1 and lines[0].startswith("hpcbuild: ")
            and all(n in err for n in needles),
            "%s: rc=%d err=%r, want %r" % (specs, rc, err, needles))
    return err


def file_url(path):
    return "file://" + urllib.request.pathname2url(os.path.abspath(path))


# ---- local channels --------------------------------------------------------------------
def local(tmp):
    sh = os.path.join(tmp, "sharded")
    hashes = write_sharded(sh)
    P = hashes[PLATFORM]
    # the index is preferred over repodata.json(.zst): make those unreadable
    for subdir in SUBDIRS:
        for fn in ("repodata.json", "repodata.json.zst"):
            with open(os.path.join(sh, subdir, fn), "w") as f:
                f.write('{"packages": {"x-1-0.tar.bz2": [')
    for specs in SPECS:
        j = same_answer("local: same answer", [sh], specs)
        if j and j.get("success"):
            T.check("local: urls", all(p["url"] == file_url(os.path.join(sh, p["subdir"], p["fn"]))
                                       and p["channel"] == sh for p in j["packages"]
                                       if p["origin"] == "conda"),
                    "%s: %s" % (specs, [p["url"] for p in j["packages"]][:3]))
    same_answer("local: file url", [file_url(sh)], ["curl"])

    # only reached shards are read: a corrupt shard of an unrelated name does not matter
    unrelated = sorted(set(P) - closure(["curl"]))
    T.check("local: unreached", "python" in unrelated and "libcurl" not in unrelated, unrelated)
    bad = os.path.join(tmp, "bad")
    shutil.copytree(sh, bad)
    sdir = os.path.join(bad, PLATFORM, "shards")
    with open(os.path.join(sdir, P["python"] + ".msgpack.zst"), "wb") as f:
        f.write(b"not zstd")
    same_answer("local: unreached", [bad], ["curl"])
    one_line_error("local: unreached", [bad], ["python"], "shard of 'python'", "sha256 mismatch")

    # a shard with other content than its hash: the error names its URL and both digests
    lc = os.path.join(sdir, P["libcurl"] + ".msgpack.zst")
    shutil.copyfile(os.path.join(sdir, P["zlib"] + ".msgpack.zst"), lc)
    one_line_error("local: mismatch", [bad], ["curl"], "shard of 'libcurl'", "sha256 mismatch",
                   file_url(lc), "expected " + P["libcurl"], "got " + P["zlib"])
    os.unlink(lc)
    one_line_error("local: missing shard", [bad], ["curl"], "shard of 'libcurl'", lc)
    # a corrupt shard whose hash is the index's: the decoder names it
    cor = os.path.join(tmp, "corrupt")
    shutil.copytree(sh, cor)
    sdir = os.path.join(cor, PLATFORM)
    hs = {n: bytes.fromhex(h) for n, h in P.items()}
    hs["zlib"] = add_shard_file(sdir, zstd_many({"x": b"\x81\xa8packages\x91"})["x"])   # truncated msgpack
    hs["openssl"] = add_shard_file(sdir, b"\x28\xb5\x2f\xfd" + b"\x00" * 12)            # bad zstd
    hs["xz"] = add_shard_file(sdir, zstd_many({"x": mp({"packages": {"xz-1-0.tar.bz2": {"name": "xz"}}})})["x"])
    write_index(sdir, PLATFORM, hs)
    one_line_error("local: corrupt shard", [cor], ["zlib"], "shard of 'zlib'", "truncated")
    one_line_error("local: corrupt shard", [cor], ["openssl"], "shard of 'openssl'", "zstd")
    one_line_error("local: corrupt shard", [cor], ["xz"], "shard of 'xz'", "xz-1-0.tar.bz2",
                   "version: expected a string")
    # a corrupt index
    ip = os.path.join(cor, "noarch", "repodata_shards.msgpack.zst")
    with open(ip, "rb") as f:
        data = f.read()
    with open(ip, "wb") as f:
        f.write(data[:len(data) // 2])
    one_line_error("local: corrupt index", [cor], ["zlib"], ip)

    # one closure over two channels: names reached through A's records are looked up in B
    part = {"curl", "libcurl", "binutils_impl_linux-aarch64", "kernel-headers_linux-aarch64"}
    a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    write_sharded(a, keep=lambda n: n in part)
    write_sharded(b, keep=lambda n: n not in part)
    j = same_answer("local: two channels", [a, b], ["curl", "binutils_impl_linux-aarch64"], [a, b])
    if j and j.get("success"):
        chans = {p["name"]: p["channel"] for p in j["packages"]}
        T.check("local: two channels", chans["libcurl"] == a and chans["openssl"] == b
                and chans["kernel-headers_linux-aarch64"] == a and chans["sysroot_linux-aarch64"] == b
                and chans["_sysroot_linux-aarch64_curr_repodata_hack"] == b, chans)
    # a sharded channel and a whole one: libcurl reached through the whole channel's curl
    only = os.path.join(tmp, "only-libcurl")
    write_sharded(only, keep=lambda n: n == "libcurl")
    j = same_answer("local: sharded + whole", [only, CF], ["curl"], [only, CF])
    if j and j.get("success"):
        chans = {p["name"]: p["channel"] for p in j["packages"]}
        T.check("local: sharded + whole", chans.get("libcurl") == only and chans.get("curl") == CF, chans)
    return sh, hashes


# ---- HTTP ------------------------------------------------------------------------------
def http(tmp, sh, hashes):
    root = os.path.join(tmp, "www")
    shutil.copytree(sh, os.path.join(root, "sh"))
    write_sharded(os.path.join(root, "mixed"), whole=(PLATFORM,))
    cache = os.path.join(tmp, "cache")
    os.environ["HPCBUILD_CACHE"] = cache
    server = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib", "testserver.py")
    proc = subprocess.Popen([sys.executable, server, root], stdout=subprocess.PIPE)
    P = hashes[PLATFORM]
    try:
        base = "http://127.0.0.1:%d" % int(proc.stdout.readline().split()[1])

        def log():
            with urllib.request.urlopen(base + "/__log", timeout=10) as r:
                entries = json.load(r)
            urllib.request.urlopen(base + "/__reset", timeout=10).read()
            return [(e["path"], e["status"], bool(e["if_none_match"])) for e in entries
                    if not e["path"].startswith("/__")]

        def shard_path(chan, subdir, name):
            return "/%s/%s/shards/%s.msgpack.zst" % (chan, subdir, hashes[subdir][name])

        def expected_shards(chan, specs, subdirs=SUBDIRS):
            reached = closure(specs)
            return sorted(shard_path(chan, s, n) for s in subdirs for n in reached if n in hashes[s])

        def index_path(chan, subdir):
            return "/%s/%s/repodata_shards.msgpack.zst" % (chan, subdir)

        chan = base + "/sh"
        specs = ["curl", "binutils_impl_linux-aarch64"]
        j = same_answer("http: same answer", [chan], specs)
        if j and j.get("success"):
            T.check("http: same answer", all(p["url"] == "%s/%s/%s" % (chan, p["subdir"], p["fn"])
                                              for p in j["packages"] if p["origin"] == "conda"),
                    [p["url"] for p in j["packages"]][:3])
        first = log()
        got_shards = sorted(p for p, s, c in first if "/shards/" in p)
        want_shards = expected_shards("sh", specs)
        T.check("http: only reached shards", first[:2] == [(index_path("sh", PLATFORM), 200, False),
                                                          (index_path("sh", "noarch"), 200, False)]
                and got_shards == want_shards and len(first) == 2 + len(want_shards)
                and all(s == 200 and not c for p, s, c in first[2:]),
                "first: %s\n  want shards %s" % (first, want_shards))
        never = [shard_path("sh", PLATFORM, n) for n in ("python", "setuptools", "sqlite", "xorg-libx11")]
        never.append(shard_path("sh", "noarch", "pip"))
        T.check("http: only reached shards", not set(never) & set(got_shards) and len(want_shards) >= 15
                and shard_path("sh", PLATFORM, "libnghttp2") in got_shards
                and shard_path("sh", "noarch", "_sysroot_linux-aarch64_curr_repodata_hack") in got_shards,
                got_shards)

        same_answer("http: second solve", [chan], specs)
        second = log()
        T.check("http: second solve", second == [(index_path("sh", PLATFORM), 304, True),
                                                 (index_path("sh", "noarch"), 304, True)],
                "second: %s" % second)

        # new names: only their shards
        more = specs + ["xorg-libx11"]
        same_answer("http: more names", [chan], more)
        third = sorted(p for p, s, c in log() if "/shards/" in p)
        want = sorted(set(expected_shards("sh", more)) - set(want_shards))
        T.check("http: more names", third == want and shard_path("sh", PLATFORM, "xorg-libxau") in third,
                "%s\n  want %s" % (third, want))

        # a cached shard whose body was damaged is not trusted: fetched again
        url = chan + "/%s/shards/%s.msgpack.zst" % (PLATFORM, P["libcurl"])
        body = os.path.join(cache, "http", hashlib.sha256(url.encode()).hexdigest() + ".body")
        T.check("http: damaged cache", os.path.isfile(body), body)
        if os.path.isfile(body):
            with open(body, "r+b") as f:
                f.seek(10)
                c = f.read(1)
                f.seek(10)
                f.write(bytes([c[0] ^ 0xff]))
        same_answer("http: damaged cache", [chan], ["curl"])
        again = [(p, s) for p, s, c in log() if "/shards/" in p]
        T.check("http: damaged cache", again == [(shard_path("sh", PLATFORM, "libcurl"), 200)], again)

        # mixed: the platform subdir whole (its index is a 404), noarch sharded
        mixed = base + "/mixed"
        same_answer("http: mixed", [mixed], specs)
        m = log()
        T.check("http: mixed", m[:3] == [(index_path("mixed", PLATFORM), 404, False),
                                         ("/mixed/%s/repodata.json.zst" % PLATFORM, 200, False),
                                         (index_path("mixed", "noarch"), 200, False)]
                and sorted(p for p, s, c in m[3:]) == expected_shards("mixed", specs, ["noarch"]), m)

        # the server sends other bytes for a shard: the URL and both digests are named and
        # the bad body is not cached; a missing shard is a 404 naming its URL
        os.environ["HPCBUILD_CACHE"] = os.path.join(tmp, "cache2")
        lc = os.path.join(root, "sh", PLATFORM, "shards", P["libcurl"] + ".msgpack.zst")
        saved = os.path.join(tmp, "libcurl.saved")
        shutil.copyfile(lc, saved)
        shutil.copyfile(os.path.join(root, "sh", PLATFORM, "shards", P["zlib"] + ".msgpack.zst"), lc)
        one_line_error("http: mismatch", [chan], ["curl"], "shard of 'libcurl'", url, "sha256 mismatch",
                       "expected " + P["libcurl"], "got " + P["zlib"])
        shutil.copyfile(saved, lc)
        log()
        same_answer("http: mismatch", [chan], ["curl"])
        T.check("http: mismatch", (shard_path("sh", PLATFORM, "libcurl"), 200, False) in log(),
                "the bad body was cached")
        os.environ["HPCBUILD_CACHE"] = os.path.join(tmp, "cache3")
        os.unlink(lc)
        one_line_error("http: missing shard", [chan], ["curl"], "shard of 'libcurl'", url, "404")
        # a remote index cannot send the loader to local files
        shutil.copyfile(saved, lc)
        sdir = os.path.join(root, "sh", PLATFORM)
        local_shards = file_url(os.path.join(sh, PLATFORM, "shards")) + "/"
        write_index(sdir, PLATFORM, {n: bytes.fromhex(h) for n, h in P.items()},
                    shards_base_url=local_shards)
        one_line_error("http: file shards", [chan], ["curl"], chan + "/%s/repodata_shards.msgpack.zst" % PLATFORM,
                       "shard of 'curl'", local_shards, "must be http(s)")
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        sh, hashes = local(tmp)
        http(tmp, sh, hashes)
    T.finish()


main()
