"""solvcache.cli: `hpcbuild solve` with the .solv cache (include/hpcbuild/solv_cache.h).

A second solve over unchanged repodata is answered from <HPCBUILD_CACHE>/solv/ without
parsing the repodata: shown by overwriting the repodata with garbage of the same size and
restoring its mtime (the cache key does not change, so a parse would fail where the cache
answers).  The answer is the same, text and JSON.  A changed repodata (new mtime, or a
download with another sha256) is parsed again and its new record is seen.  Damaged or
truncated cache files and files of another format are never used: the answer stays right and
the file is rewritten (then used again).  An unusable cache root does not stop a local solve.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from hbtest import Tally, run_cli, testdata  # noqa: E402

T = Tally()
CF = testdata("repodata", "conda-forge-subchannel-py39-2024-05")
ARGS = ["--platform", "osx-arm64", "--virtual", "__osx=13.0"]
SPECS = ["curl", "xz"]


def solve(chan, *extra):
    return run_cli("solve", "-c", chan, *ARGS, *extra, *SPECS)


def cache_files(root):
    d = os.path.join(root, "solv")
    return sorted(os.path.join(d, f) for f in os.listdir(d)) if os.path.isdir(d) else []


def garble_in_place(path):
    """Same size, same inode, same mtime, content that parses as nothing."""
    st = os.stat(path)
    with open(path, "r+b") as f:
        f.write(b"#" * st.st_size)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def add_record(path, name, version):
    with open(path) as f:
        doc = json.load(f)
    doc.setdefault("packages", {})["%s-%s-0.tar.bz2" % (name, version)] = {
        "name": name, "version": version, "build": "0", "build_number": 0, "depends": []}
    with open(path, "w") as f:
        json.dump(doc, f)


def local_channel(tmp):
    chan = os.path.join(tmp, "cf")
    for sub in ("osx-arm64", "noarch"):
        os.makedirs(os.path.join(chan, sub))
        shutil.copy(os.path.join(CF, sub, "repodata.json"), os.path.join(chan, sub, "repodata.json"))
    return chan


def local(tmp):
    cache = os.environ["HPCBUILD_CACHE"] = os.path.join(tmp, "cache-local")
    chan = local_channel(tmp)
    rc, first, err = solve(chan)
    T.check("local: first solve", rc == 0 and "curl " in first and "xz " in first, err)
    files = cache_files(cache)
    T.check("local: one cache file per subdir", len(files) == 2, files)
    rc, first_json, err = solve(chan, "--json")
    T.check("local: json", rc == 0 and json.loads(first_json)["success"], err)

    # answered from the cache: the repodata is garbage now, with the same key
    pristine = {}
    for sub in ("osx-arm64", "noarch"):
        p = os.path.join(chan, sub, "repodata.json")
        with open(p, "rb") as f:
            pristine[p] = f.read()
        garble_in_place(p)
    rc, out, err = solve(chan)
    T.check("local: second solve from the cache", rc == 0 and out == first, "rc=%d %s" % (rc, err))
    rc, out, err = solve(chan, "--json")
    T.check("local: json from the cache", rc == 0 and out == first_json, err)

    # a damaged, truncated or foreign cache file is never used: with garbage repodata
    # that means a parse error naming the file (so nothing wrong was trusted)...
    big = max(cache_files(cache), key=os.path.getsize)
    with open(big, "rb") as f:
        good = f.read()
    for name, bad in (("flipped byte", good[:len(good) // 2] + bytes([good[len(good) // 2] ^ 1]) +
                       good[len(good) // 2 + 1:]),
                      ("truncated", good[:len(good) - 100]),
                      ("empty", b""),
                      ("foreign", b"SQLite format 3\0" + good[16:])):
        with open(big, "wb") as f:
            f.write(bad)
        rc, out, err = solve(chan)
        T.check("local: %s cache not trusted" % name, rc == 1 and "repodata.json" in err,
                "rc=%d %r" % (rc, err[:300]))
    # ...and with good repodata, the right answer and a rewritten cache file
    for p, data in pristine.items():
        st = os.stat(p)
        with open(p, "wb") as f:
            f.write(data)
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    with open(big, "wb") as f:
        f.write(good[:len(good) // 3])
    rc, out, err = solve(chan)
    T.check("local: damaged cache rebuilt", rc == 0 and out == first, err)
    with open(big, "rb") as f:
        T.check("local: damaged cache rebuilt", f.read() == good, "the cache file was not rewritten")

    # a changed repodata (a new record, a new mtime) is parsed, not served from the cache
    p = os.path.join(chan, "osx-arm64", "repodata.json")
    add_record(p, "newpkg", "1.0")
    st = os.stat(p)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    rc, out, err = run_cli("solve", "-c", chan, *ARGS, "newpkg")
    T.check("local: changed repodata seen", rc == 0 and out.startswith("newpkg 1.0 0 "), err)
    T.check("local: still one file per subdir", len(cache_files(cache)) == 2, cache_files(cache))

    # a cache root that cannot be used: the solve still works
    os.environ["HPCBUILD_CACHE"] = os.path.join(tmp, "not-a-dir")
    with open(os.environ["HPCBUILD_CACHE"], "w") as f:
        f.write("x")
    rc, out, err = solve(chan)
    T.check("local: unusable cache root", rc == 0 and "curl " in out, err)


def remote(tmp):
    cache = os.environ["HPCBUILD_CACHE"] = os.path.join(tmp, "cache-http")
    root = os.path.join(tmp, "www")
    os.makedirs(root)
    chan_dir = local_channel(root)
    server = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib", "testserver.py")
    proc = subprocess.Popen([sys.executable, server, root], stdout=subprocess.PIPE)
    try:
        base = "http://127.0.0.1:%d" % int(proc.stdout.readline().split()[1])
        chan = base + "/cf"
        rc, first, err = solve(chan)
        T.check("http: first solve", rc == 0 and "curl " in first, err)
        T.check("http: cache files", len(cache_files(cache)) == 2, cache_files(cache))
        stamps = [os.stat(f).st_mtime_ns for f in cache_files(cache)]
        rc, second, err = solve(chan)
        T.check("http: second solve (304, cache)", rc == 0 and second == first, err)
        T.check("http: cache files kept", [os.stat(f).st_mtime_ns for f in cache_files(cache)] == stamps,
                "a cache file was rewritten on a 304")
        # new content on the server: a new sha256, a new cache file
        add_record(os.path.join(chan_dir, "noarch", "repodata.json"), "newpkg", "2.0")
        p = os.path.join(chan_dir, "noarch", "repodata.json")
        st = os.stat(p)
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
        rc, out, err = run_cli("solve", "-c", chan, *ARGS, "newpkg")
        T.check("http: changed repodata seen", rc == 0 and out.startswith("newpkg 2.0 0 "), err)
        urllib.request.urlopen(base + "/__reset", timeout=10).read()
    finally:
        proc.terminate()
        proc.wait()


with tempfile.TemporaryDirectory() as tmp:
    local(tmp)
    remote(tmp)
T.finish()
