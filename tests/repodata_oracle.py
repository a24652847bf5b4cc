"""The repodata loader against an independent Python reading (json + the zstd
command + a small msgpack decoder) of every repodata file under
../shared/testdata/repodata: record count, order and every kept field; the
flat index.json form; v2 base_url; .zst; sharded repodata; and corrupt,
truncated and mistyped inputs, whose errors must name the file and field."""
import glob
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from urllib.parse import quote, urljoin

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from hbtest import Tally, check_sanitizers, testdata  # noqa: E402

DUMP = sys.argv[1]
t = Tally()
NOT_REPODATA = ("channeldata.json", "run_exports.json", "patch_instructions")
TOP_KEYS = ("packages", "packages.conda", "info", "repodata_version", "removed", "signatures")
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def run(args):
    p = subprocess.run([DUMP] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check_sanitizers(p.stderr.decode("utf-8", "replace"), " ".join(args))
    out = p.stdout.decode("utf-8")
    if p.returncode == 0:
        return json.loads(out)
    if p.returncode == 1 and out.startswith("error: "):
        return out[len("error: "):].rstrip("\n")
    raise AssertionError("%s: exit %d: %s %s" % (args, p.returncode, out, p.stderr))


def file_url(path):
    return "file://" + quote(os.path.realpath(path), safe="/-._~!$&'()*+,;=:@")


def url_dir(url):
    return url[:url.rfind("/") + 1]


def features(v):
    if v is None:
        return None
    items = [v] if isinstance(v, str) else v
    out = []
    for s in items:
        for f in s.replace(" ", ",").split(","):
            if f and f not in out:
                out.append(f)
    return out or None


def noarch(v):
    if v is True:
        return "generic"
    if v in (None, False):
        return None
    if v in ("python", "generic"):
        return v
    if v in ("", "false", "no", "off", "n", "0", "none"):
        return None
    if v in ("true", "yes", "on", "y", "1"):
        return "generic"
    raise ValueError("noarch")


def record(fn, r, base, channel, subdir, flat, conda):
    ts = r.get("timestamp")
    if ts is None:
        ts = 0
    elif abs(ts) <= 253402300799:
        ts *= 1000
    own_url = r.get("url") if flat else None
    return {
        "fn": fn, "name": r["name"], "version": r["version"], "build": r["build"],
        "build_number": r.get("build_number") or 0,
        "channel": (r.get("channel") if flat else None) or channel,
        "subdir": r.get("subdir") or subdir,
        "md5": r.get("md5"), "sha256": r.get("sha256"),
        "license": r.get("license"), "license_family": r.get("license_family"),
        "url": own_url or (base + fn if base else None),
        "depends": r.get("depends") or [], "constrains": r.get("constrains") or [],
        "track_features": features(r.get("track_features")), "features": features(r.get("features")),
        "flags": r.get("flags"), "noarch": noarch(r.get("noarch")),
        "size": -1 if r.get("size") is None else r["size"], "timestamp": ts,
        "python_site_packages_path": r.get("python_site_packages_path"),
        "conda": conda,
    }


KEPT = ("name", "version", "build", "md5", "sha256", "license", "license_family", "subdir",
        "python_site_packages_path", "depends", "constrains", "flags", "track_features", "features")


def has_nul(fn, r, flat):
    """Records with a NUL in the file name or a kept string are skipped."""
    vals = [fn] + [r.get(k) for k in KEPT + (("channel", "url") if flat else ())]
    for v in vals:
        for s in ([v] if isinstance(v, str) else v if isinstance(v, list) else []):
            if "\x00" in s:
                return True
    return False


def expect_doc(data, url, channel=None, only_tar=False):
    """What the loader should read from a decoded document."""
    info = data.get("info") or {}
    flat = not any(k in data for k in TOP_KEYS) and len(data) > 0
    version = data.get("repodata_version", info.get("repodata_version", 1)) or 1
    subdir = info.get("subdir")
    base = None
    if version >= 2 and info.get("base_url"):
        base = urljoin(url, info["base_url"]) if url else None
    elif url:
        base = url_dir(url)
    if base and not base.endswith("/"):
        base += "/"
    out = {"subdir": subdir, "base_url": base, "repodata_version": version, "flat_index": flat,
           "removed": data.get("removed") or [], "n_duplicates": 0, "n_skipped": 0, "n_invalid": 0,
           "records": []}
    seen = {}

    def add(fn, r, conda):
        if r.get("record_version") is not None and r["record_version"] > 1:
            out["n_skipped"] += 1
            return
        if has_nul(fn, r, flat):
            out["n_invalid"] += 1
            return
        rec = record(fn, r, base, channel, subdir, flat, conda)
        if fn in seen:
            out["records"][seen[fn]] = rec
        else:
            seen[fn] = len(out["records"])
            out["records"].append(rec)

    if flat:
        for fn, r in data.items():
            add(fn, r, fn.endswith(".conda"))
        return out
    conda_fns = set()
    if not only_tar:
        for fn, r in (data.get("packages.conda") or {}).items():
            add(fn, r, True)
            conda_fns.add(fn)
    for fn, r in (data.get("packages") or {}).items():
        if fn.endswith(".tar.bz2") and fn[:-8] + ".conda" in conda_fns:
            out["n_duplicates"] += 1
            continue
        add(fn, r, False)
    return out


def read_doc(path):
    raw = open(path, "rb").read()
    if raw.startswith(ZSTD_MAGIC):
        raw = subprocess.run(["zstd", "-dcq", path], stdout=subprocess.PIPE, check=True).stdout
    if not raw.strip():
        return {}
    return json.loads(raw)


def compare(what, got, want):
    """One check for the document-level fields and one per record."""
    group = what.split()[0]
    if isinstance(got, str):
        t.check(group, False, "%s: loader failed: %s" % (what, got))
        return False
    ok = True
    for k in want:
        if k != "records" and got.get(k) != want[k]:
            t.check(group, False, "%s: %s: got %r, want %r" % (what, k, got.get(k), want[k]))
            ok = False
    if len(got["records"]) != len(want["records"]):
        t.check(group, False, "%s: %d records, want %d" % (what, len(got["records"]), len(want["records"])))
        return False
    t.check(group, ok, what)
    for g, w in zip(got["records"], want["records"]):
        diff = {k: (g.get(k), w[k]) for k in w if g.get(k) != w[k]}
        t.check(group + ".records", not diff and g.keys() == w.keys(), "%s: %s: %r" % (what, w["fn"], diff))
        ok = ok and not diff
    return ok


# ---- every repodata file ----------------------------------------------------
EXPECTED_ERRORS = {  # rattler's own test expects this file to be rejected
    "rattler-channels/dummy-noarch-str-not-empty/linux-64/repodata.json":
        'packages["bar-1-xxx.tar.bz2"].noarch: expected "generic", "python" or a boolean, '
        'found "notempty-this-should-fail"',
}
root = testdata("repodata")
files = sorted(glob.glob(os.path.join(root, "**", "*.json"), recursive=True) +
               glob.glob(os.path.join(root, "**", "*.json.zst"), recursive=True))
n_records = 0
for path in files:
    rel = os.path.relpath(path, root)
    if any(m in os.path.basename(path) for m in NOT_REPODATA):
        continue
    got = run([path])
    if rel in EXPECTED_ERRORS:
        t.check("expected_error", isinstance(got, str) and got == path + ": " + EXPECTED_ERRORS[rel],
                "%s: %r" % (rel, got))
        continue
    want = expect_doc(read_doc(path), file_url(path))
    if compare("file " + rel, got, want):
        n_records += len(want["records"])
print("records compared: %d" % n_records)

# options: a channel name, a repodata URL, only .tar.bz2
p = os.path.join(root, "channels", "conda_format_repo", "win-64", "repodata.json")
url = "https://example.org/chan/win-64/repodata.json"
compare("options", run(["--channel", "example", "--url", url, "--only-tar-bz2", p]),
        expect_doc(read_doc(p), url, channel="example", only_tar=True))
p = os.path.join(root, "rattler-channels", "dummy", "linux-64", "repodata.json")
url = "https://example.org/dummy/linux-64/repodata.json"
got = run(["--url", url, p])
compare("relative_base_url", got, expect_doc(read_doc(p), url))
t.check("relative_base_url.value", not isinstance(got, str) and
        got["base_url"] == "https://example.org/dummy/linux-64/", repr(got if isinstance(got, str) else got["base_url"]))

# a subdir prefers repodata.json.zst (compare with a tampered .json beside it)
cf = os.path.join(root, "conda-forge-subchannel-py39-2024-05", "linux-64")
with tempfile.TemporaryDirectory() as tmp:
    shutil.copy(os.path.join(cf, "repodata.json.zst"), tmp)
    with open(os.path.join(tmp, "repodata.json"), "w") as f:
        f.write("{}")
    got = run(["--subdir", tmp])
    want = expect_doc(read_doc(os.path.join(cf, "repodata.json.zst")),
                      file_url(os.path.join(tmp, "repodata.json.zst")))
    compare("subdir_prefers_zst", got, want)
    os.unlink(os.path.join(tmp, "repodata.json.zst"))
    got = run(["--subdir", tmp])
    t.check("subdir_json", not isinstance(got, str) and got["records"] == [], repr(got)[:200])


# ---- sharded repodata -------------------------------------------------------
def unpack(b, i=0):
    """A minimal msgpack decoder (enough for the oracle): returns (value, next)."""
    c = b[i]
    i += 1
    if c <= 0x7f:
        return c, i
    if c >= 0xe0:
        return c - 256, i
    if 0x80 <= c <= 0x8f or c in (0xde, 0xdf):
        n, i = (c & 15, i) if c <= 0x8f else (int.from_bytes(b[i:i + (2 if c == 0xde else 4)], "big"),
                                              i + (2 if c == 0xde else 4))
        d = {}
        for _ in range(n):
            k, i = unpack(b, i)
            v, i = unpack(b, i)
            d[k] = v
        return d, i
    if 0x90 <= c <= 0x9f or c in (0xdc, 0xdd):
        n, i = (c & 15, i) if c <= 0x9f else (int.from_bytes(b[i:i + (2 if c == 0xdc else 4)], "big"),
                                              i + (2 if c == 0xdc else 4))
        out = []
        for _ in range(n):
            v, i = unpack(b, i)
            out.append(v)
        return out, i
    if 0xa0 <= c <= 0xbf:
        n = c & 31
        return b[i:i + n].decode("utf-8"), i + n
    if c in (0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6):
        w = {0xd9: 1, 0xda: 2, 0xdb: 4, 0xc4: 1, 0xc5: 2, 0xc6: 4}[c]
        n = int.from_bytes(b[i:i + w], "big")
        i += w
        raw = b[i:i + n]
        return (raw.decode("utf-8") if c >= 0xd9 else bytes(raw)), i + n
    if c == 0xc0:
        return None, i
    if c in (0xc2, 0xc3):
        return c == 0xc3, i
    if 0xcc <= c <= 0xcf:
        w = 1 << (c - 0xcc)
        return int.from_bytes(b[i:i + w], "big"), i + w
    if 0xd0 <= c <= 0xd3:
        w = 1 << (c - 0xd0)
        return int.from_bytes(b[i:i + w], "big", signed=True), i + w
    if c in (0xca, 0xcb):
        return struct.unpack(">f" if c == 0xca else ">d", b[i:i + (4 if c == 0xca else 8)])[0], \
            i + (4 if c == 0xca else 8)
    raise ValueError("msgpack byte %#x" % c)


def zstd_d(path):
    return subprocess.run(["zstd", "-dcq", path], stdout=subprocess.PIPE, check=True).stdout


def hexify(v):
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):
        return {k: hexify(x) for k, x in v.items()}
    if isinstance(v, list):
        return [hexify(x) for x in v]
    return v


shard_dir = os.path.join(root, "channels", "conda_format_repo", "linux-64")
index_path = os.path.join(shard_dir, "repodata_shards.msgpack.zst")
index, _ = unpack(zstd_d(index_path))
index_url = file_url(index_path)
for names in (["zlib"], ["libgcc-ng"], ["zlib", "libgcc-ng"], ["libgcc-ng", "zlib", "zlib"], ["absent"], []):
    # shards load one after the other (each: packages.conda, then packages);
    # a name asked for twice loads once; shards of different names never
    # share a file name, so this is one document in that order
    order = []
    for n in names:
        if n in index["shards"] and n not in order:
            order.append(n)
    got = run(["--shards", index_path] + names)
    want = expect_doc({"info": {"subdir": index["info"].get("subdir")}}, index_url)
    for n in order:
        h = index["shards"][n]
        shard = hexify(unpack(zstd_d(os.path.join(shard_dir, h.hex() + ".msgpack.zst")))[0])
        part = expect_doc(dict(shard, info={"subdir": index["info"].get("subdir")}), index_url)
        want["records"] += part["records"]
        want["n_duplicates"] += part["n_duplicates"]
        want["removed"] += part["removed"]
    compare("shards " + ",".join(names), got, want)
# the same records as the monolithic repodata.json of that subdir
mono = expect_doc(read_doc(os.path.join(shard_dir, "repodata.json")), file_url(index_path))
got = run(["--shards", index_path, "zlib", "libgcc-ng"])
if not isinstance(got, str):
    key = lambda r: r["fn"]  # noqa: E731
    t.check("shards_equal_monolithic", sorted(got["records"], key=key) == sorted(mono["records"], key=key),
            "differs")


# ---- URL resolution: Python's urljoin (RFC 3986 5.4 examples and channel URLs)
BASES = ["http://a/b/c/d;p?q", "https://conda.anaconda.org/conda-forge/linux-64/repodata.json",
         "file:///srv/chan/linux-64/repodata.json", "file:///srv/chan/linux-64/", "http://a",
         "https://h.org/x/linux-64/repodata_shards.msgpack.zst"]
REFS = ["g", "./g", "g/", "/g", "//g", "?y", "g?y", "#s", "g#s", "g?y#s", ";x", "g;x", "g;x?y#s",
        "", ".", "./", "..", "../", "../g", "../..", "../../", "../../g", "../../../g",
        "../../../../g", "/./g", "/../g", "g.", ".g", "g..", "..g", "./../g", "./g/.", "g/./h",
        "g/../h", "g;x=1/./y", "g;x=1/../y", "../linux-64", "../linux-64/", "./shards/",
        "https://mirror.org/x/", "shards/", "../noarch/", "a/b/../../c/./d"]
pairs = [(b, r) for b in BASES for r in REFS]
p = subprocess.run([DUMP, "--resolve"], input="".join("%s\t%s\n" % pr for pr in pairs).encode(),
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
check_sanitizers(p.stderr.decode("utf-8", "replace"), "--resolve")
for (b, r), got in zip(pairs, p.stdout.decode().split("\n")):
    t.check("url_resolve", got == urljoin(b, r), "urljoin(%r, %r): got %r, want %r" % (b, r, got, urljoin(b, r)))


# ---- corrupt, truncated and mistyped inputs ---------------------------------
def zstd_c(data):
    return subprocess.run(["zstd", "-cq", "-19"], input=data, stdout=subprocess.PIPE, check=True).stdout


REC = {"name": "x", "version": "1", "build": "0", "build_number": 0, "depends": []}
FIELD_CASES = [
    ("depends", {"a": 1}, "depends: expected an array of strings, found object"),
    ("depends", ["ok", 3], "depends: expected an array of strings, found number"),
    ("constrains", "x", "constrains: expected an array of strings, found string"),
    ("build_number", "0", "build_number: expected an integer, found string"),
    ("build_number", 1.5, "build_number: expected an integer, found number"),
    ("name", 7, "name: expected a string, found number"),
    ("name", None, "name: expected a string, found null"),
    ("version", ["1"], "version: expected a string, found array"),
    ("size", "12", "size: expected an integer, found string"),
    ("timestamp", {}, "timestamp: expected an integer, found object"),
    ("md5", 5, "md5: expected a string, found number"),
    ("track_features", 1, "track_features: expected a string or an array of strings, found number"),
    ("noarch", 3, 'noarch: expected "generic", "python" or a boolean, found number'),
]
with tempfile.TemporaryDirectory() as tmp:
    def write(name, data):
        p = os.path.join(tmp, name)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        return p

    for field, value, msg in FIELD_CASES:
        rec = dict(REC)
        rec[field] = value
        p = write("repodata.json", json.dumps({"packages": {"x-1-0.tar.bz2": rec}}))
        got = run([p])
        want = '%s: packages["x-1-0.tar.bz2"].%s' % (p, msg)
        t.check("field_type", got == want, "%s: %r, want %r" % (field, got, want))
    rec = dict(REC)
    del rec["build"]
    p = write("repodata.json", json.dumps({"packages.conda": {"x-1-0.conda": rec}}))
    t.check("missing_field", run([p]) == p + ': packages.conda["x-1-0.conda"].build: expected a string, '
            'found no value', run([p]))
    p = write("index.json", json.dumps({"x-1-0.tar.bz2": [1]}))
    t.check("flat_not_object", run([p]) == p + ': ["x-1-0.tar.bz2"]: expected an object, found array', run([p]))
    for doc, msg in [
        ({"packages": []}, "packages: expected an object, found array"),
        ({"info": "x"}, "info: expected an object, found string"),
        ({"repodata_version": 4}, "repodata_version 4 is not supported (expected 1, 2 or 3)"),
        ({"repodata_version": "2"}, "repodata_version: expected a positive integer"),
        ({"removed": [1]}, "removed: expected an array of strings, found number"),
        ({"info": {"subdir": 1}}, "info.subdir: expected a string, found number"),
        ({"repodata_version": 2, "info": {"base_url": 1}}, "info.base_url: expected a string, found number"),
        ([], "expected a JSON object at the top level, found array"),
    ]:
        p = write("repodata.json", json.dumps(doc))
        t.check("top_level", run([p]) == p + ": " + msg, "%r: %r" % (doc, run([p])))

    good = json.dumps({"info": {"subdir": "linux-64"},
                       "packages": {"x-1-0.tar.bz2": REC, "y-1-0.tar.bz2": dict(REC, name="y")}})
    for cut in (1, 10, len(good) // 2, len(good) - 1):
        p = write("repodata.json", good[:cut])
        got = run([p])
        t.check("truncated_json", isinstance(got, str) and got.startswith(p + ": line "), repr(got))
    z = zstd_c(good.encode())
    for cut in (5, len(z) // 2, len(z) - 1):
        p = write("repodata.json.zst", z[:cut])
        got = run([p])
        t.check("truncated_zstd", isinstance(got, str) and got.startswith(p + ": ") and "zstd" in got,
                repr(got))
    bad = bytearray(z)
    bad[len(bad) // 2] ^= 0xff
    bad[-2] ^= 0x55
    p = write("repodata.json.zst", bytes(bad))
    got = run([p])
    t.check("corrupt_zstd", isinstance(got, str) and got.startswith(p + ": "), repr(got))
    p = write("repodata.json.zst", zstd_c(good[:-3].encode()))
    got = run([p])
    t.check("zstd_of_truncated_json", isinstance(got, str) and got.startswith(p + ": line 1"), repr(got))
    # repeated keys: the last one counts, as in Python's json
    text = ('{"packages": {"x-1-0.tar.bz2": {"name": "x", "version": "1", "build": "0", "depends": {}, '
            '"depends": ["a"], "size": "bad", "size": 5}, "y-1-0.tar.bz2": {"name": "y", "version": "1", '
            '"build": "0"}, "x-1-0.tar.bz2": {"name": "x", "version": "2", "build": "0", "depends": {}, '
            '"depends": ["b"]}}}')
    p = write("repodata.json", text)
    compare("repeated_keys", run([p]), expect_doc(json.loads(text), file_url(p)))
    p = write("repodata.json", b"   \n")
    got = run([p])
    t.check("empty_is_empty_object", not isinstance(got, str) and got["records"] == [], repr(got))
    got = run([os.path.join(tmp, "missing.json")])
    t.check("missing_file", isinstance(got, str) and "cannot open" in got and "missing.json" in got, repr(got))
    # a corrupt shard is detected by its hash
    sdir = os.path.join(tmp, "shards")
    shutil.copytree(shard_dir, sdir)
    h = index["shards"]["zlib"].hex()
    sp = os.path.join(sdir, h + ".msgpack.zst")
    data = bytearray(open(sp, "rb").read())
    data[-1] ^= 1
    os.chmod(sp, 0o644)
    open(sp, "wb").write(bytes(data))
    got = run(["--shards", os.path.join(sdir, "repodata_shards.msgpack.zst"), "zlib"])
    t.check("shard_hash_mismatch", isinstance(got, str) and "shard of 'zlib'" in got and "sha256 mismatch" in got,
            repr(got))
    os.unlink(sp)
    got = run(["--shards", os.path.join(sdir, "repodata_shards.msgpack.zst"), "zlib"])
    t.check("shard_missing", isinstance(got, str) and "cannot open" in got and h in got, repr(got))
    ip = os.path.join(sdir, "repodata_shards.msgpack.zst")
    idata = open(ip, "rb").read()
    os.chmod(ip, 0o644)
    open(ip, "wb").write(idata[:-4])
    got = run(["--shards", ip, "zlib"])
    t.check("index_truncated", isinstance(got, str) and got.startswith(ip + ": ") and "zstd" in got, repr(got))
    raw = zstd_d(index_path)
    open(ip, "wb").write(zstd_c(raw[:-3]))
    got = run(["--shards", ip, "zlib"])
    t.check("index_truncated_msgpack", isinstance(got, str) and got.startswith(ip + ": byte ") and "truncated" in got,
            repr(got))

t.finish()
