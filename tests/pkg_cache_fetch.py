"""The package cache (include/hpcbuild/pkg_cache.h) through `hpcbuild fetch-pkg`, against the
loopback test server (tests/lib/testserver.py): parallel downloads of small .tar.bz2 packages,
a warm run without requests, resuming a truncated download with a Range request, hash and
size mismatches (nothing left in the cache), retried 500s, a stalled server, a stale or
damaged .part, local files, and two processes fetching the same package at once.
"""
import glob
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import HPCBUILD, Tally, check_sanitizers  # noqa: E402

SERVER = os.path.join(os.path.dirname(__file__), "lib", "testserver.py")
ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
ENV["NO_PROXY"] = ENV["no_proxy"] = "127.0.0.1"

t = Tally()
tmp = tempfile.mkdtemp(prefix="hb-pkgcache-")
root = os.path.join(tmp, "srv")
os.makedirs(root)
packages = {}   # file name -> (bytes, {member: content})


def make_package(name, payload_size=64):
    """A small conda-style .tar.bz2 with info/index.json and one payload file (random bytes,
    so the archive is about payload_size bytes); returns its bytes."""
    members = {
        "info/index.json": json.dumps({"name": name.split("-")[0], "version": "1.0"}).encode(),
        "lib/%s.dat" % name.split("-")[0]: os.urandom(payload_size),
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        for member, content in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(content)
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(content))
    data = buf.getvalue()
    with open(os.path.join(root, name), "wb") as f:
        f.write(data)
    packages[name] = (data, members)
    return data


def sha(data):
    return hashlib.sha256(data).hexdigest()


proc = subprocess.Popen([sys.executable, SERVER, root], stdout=subprocess.PIPE, env=ENV)
port = int(proc.stdout.readline().split()[1])
base = "http://127.0.0.1:%d" % port


def server_log(reset=True):
    with urllib.request.urlopen(base + "/__log", timeout=10) as r:
        log = json.load(r)
    if reset:
        urllib.request.urlopen(base + "/__reset", timeout=10).read()
    return [e for e in log if not e["path"].startswith("/__")]


def fetch_pkg(cache, *args, timeout=60, start_only=False):
    """Runs `hpcbuild fetch-pkg --json --progress ARGS` with HPCBUILD_CACHE=cache; returns
    (exit status, [parsed JSON lines], stderr), or the Popen when start_only."""
    env = dict(ENV, HPCBUILD_CACHE=cache)
    cmd = [HPCBUILD, "fetch-pkg", "--json", "--progress", "--retry-delay-ms", "20", *args]
    if start_only:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    return finish(p.returncode, p.stdout, p.stderr, args)


def finish(rc, out, err, args):
    check_sanitizers(err, "hpcbuild fetch-pkg " + " ".join(args))
    return rc, [json.loads(line) for line in out.splitlines()], err


def unpacked_ok(group, result, name):
    """The entry's archive and x/ hold the package."""
    data, members = packages[name]
    x = result.get("extracted", "")
    ok = os.path.basename(result.get("archive", "")) == name and \
        open(result["archive"], "rb").read() == data
    for member, content in members.items():
        p = os.path.join(x, member)
        ok = ok and os.path.isfile(p) and open(p, "rb").read() == content
    t.check(group, ok, "%s: %r" % (name, result))


def cache_entries(cache):
    pkgs = os.path.join(cache, "pkgs")
    return sorted(os.listdir(pkgs)) if os.path.isdir(pkgs) else []


try:
    # --- many packages in parallel, then a warm run without requests ------------------
    cache = os.path.join(tmp, "cache-parallel")
    names = ["p%02d-1.0-0.tar.bz2" % i for i in range(16)]
    args = []
    for n in names:
        args += ["--sha256", sha(make_package(n)), base + "/" + n]
    server_log()
    rc, results, err = fetch_pkg(cache, "--parallel", "8", *args)
    t.check("parallel: all ok", rc == 0 and len(results) == len(names), (rc, err))
    for n, r in zip(names, results):
        unpacked_ok("parallel: unpacked", r, n)
        t.check("parallel: downloaded", r["downloaded"] and not r["resumed"], r)
    log = server_log()
    t.check("parallel: one request each", sorted(e["path"] for e in log) ==
            sorted("/" + n for n in names), log)
    t.check("parallel: progress", "start=16 " in err and "done=16 " in err and "failed=0" in err,
            err)
    t.check("parallel: entries", cache_entries(cache) == sorted(sha(packages[n][0]) for n in names),
            cache_entries(cache))
    left = [p for p in glob.glob(os.path.join(cache, "**", "*"), recursive=True)
            if ".tmp." in p or p.endswith(".part") or p.endswith(".lock")]
    t.check("parallel: nothing temporary left", not left, left)
    ok_line = open(os.path.join(cache, "pkgs", sha(packages[names[0]][0]), "ok")).read()
    t.check("parallel: ok records sha256 and size",
            ok_line == "%s %d\n" % (sha(packages[names[0]][0]), len(packages[names[0]][0])), ok_line)

    rc, results, err = fetch_pkg(cache, *args)
    t.check("warm: all ok", rc == 0 and len(results) == len(names), (rc, err))
    t.check("warm: nothing downloaded", all(not r["downloaded"] for r in results), results)
    t.check("warm: zero requests", server_log() == [])
    t.check("warm: done events", "done=16 " in err and "start=0 " in err, err)

    # a damaged archive (wrong size) is not reused: fetched again
    first = results[0]
    with open(first["archive"], "ab") as f:
        f.write(b"junk")
    rc, results, err = fetch_pkg(cache, *args[:3])
    t.check("damaged: refetched", rc == 0 and results[0]["downloaded"], (rc, results, err))
    unpacked_ok("damaged: refetched", results[0], names[0])
    t.check("damaged: one request", len(server_log()) == 1)

    # --- resume a truncated download ---------------------------------------------------
    cache = os.path.join(tmp, "cache-resume")
    big = make_package("big-1.0-0.tar.bz2", payload_size=300000)
    key = sha(big)
    cut = 100000
    rc, results, err = fetch_pkg(cache, "--retries", "1", "--sha256", key,
                                 base + "/big-1.0-0.tar.bz2?truncate=%d" % cut)
    t.check("resume: truncated download fails", rc == 1 and "truncated body" in err and
            "big-1.0-0.tar.bz2?truncate=" in err, (rc, err))
    log = server_log()
    t.check("resume: the retry asked for the rest", len(log) == 2 and log[0]["range"] is None and
            log[1]["range"] == "bytes=%d-" % cut, log)
    part = os.path.join(cache, "pkgs", key, "big-1.0-0.tar.bz2.part")
    t.check("resume: the part is kept", os.path.isfile(part) and os.path.getsize(part) == cut,
            glob.glob(os.path.join(cache, "pkgs", "*", "*")))
    rc, results, err = fetch_pkg(cache, "--sha256", key, "--size", str(len(big)),
                                 base + "/big-1.0-0.tar.bz2")
    t.check("resume: continued", rc == 0 and results[0]["downloaded"] and results[0]["resumed"],
            (rc, results, err))
    if results:
        unpacked_ok("resume: continued", results[0], "big-1.0-0.tar.bz2")
    log = server_log()
    t.check("resume: one Range request", len(log) == 1 and log[0]["range"] == "bytes=%d-" % cut and
            log[0]["status"] == 206, log)
    t.check("resume: the part is gone", not os.path.exists(part))

    # a damaged part: the continued body fails its check, so once more from zero
    cache = os.path.join(tmp, "cache-badpart")
    part = os.path.join(cache, "pkgs", key, "big-1.0-0.tar.bz2.part")
    os.makedirs(os.path.dirname(part))
    with open(part, "wb") as f:
        f.write(b"\0" * cut)
    rc, results, err = fetch_pkg(cache, "--sha256", key, base + "/big-1.0-0.tar.bz2")
    t.check("bad part: refetched from zero", rc == 0 and not results[0]["resumed"], (rc, err))
    log = server_log()
    t.check("bad part: Range then whole", len(log) == 2 and log[0]["range"] == "bytes=%d-" % cut and
            log[1]["range"] is None and log[1]["status"] == 200, log)

    # a part as long as the file: 416, then once more from zero
    cache = os.path.join(tmp, "cache-416")
    part = os.path.join(cache, "pkgs", key, "big-1.0-0.tar.bz2.part")
    os.makedirs(os.path.dirname(part))
    with open(part, "wb") as f:
        f.write(b"\1" * len(big))
    rc, results, err = fetch_pkg(cache, "--sha256", key, base + "/big-1.0-0.tar.bz2")
    t.check("416: refetched from zero", rc == 0 and not results[0]["resumed"], (rc, err))
    log = server_log()
    t.check("416: then whole", len(log) == 2 and log[0]["status"] == 416 and
            log[1]["range"] is None, log)

    # a server that ignores Range: the 200 replaces the part
    cache = os.path.join(tmp, "cache-norange")
    part = os.path.join(cache, "pkgs", key, "big-1.0-0.tar.bz2.part")
    os.makedirs(os.path.dirname(part))
    with open(part, "wb") as f:
        f.write(big[:cut])
    rc, results, err = fetch_pkg(cache, "--sha256", key, base + "/big-1.0-0.tar.bz2?norange=1")
    t.check("no range: whole body replaces the part", rc == 0 and not results[0]["resumed"] and
            len(server_log()) == 1, (rc, err))

    # --- mismatches: the error names the URL and both values; nothing stays ------------
    cache = os.path.join(tmp, "cache-mismatch")
    small = packages[names[1]][0]
    url = base + "/" + names[1] + "?wrong=1"
    rc, results, err = fetch_pkg(cache, "--sha256", sha(small), url)
    t.check("mismatch: error", rc == 1 and "'%s'" % url in err and sha(small) in err and
            sha(small[::-1]) in err and "sha256 mismatch" in err, err)
    t.check("mismatch: nothing in the cache", cache_entries(cache) == [], cache_entries(cache))
    rc, results, err = fetch_pkg(cache, "--size", "12", base + "/" + names[1])
    t.check("size mismatch: error", rc == 1 and "size mismatch: expected 12 bytes, got %d" %
            len(small) in err and base + "/" + names[1] in err, err)
    t.check("size mismatch: nothing in the cache", cache_entries(cache) == [], cache_entries(cache))
    server_log()

    # --- transient failures ------------------------------------------------------------
    cache = os.path.join(tmp, "cache-retry")
    rc, results, err = fetch_pkg(cache, "--sha256", sha(small), base + "/" + names[1] + "?fail=2")
    t.check("500s: retried", rc == 0 and "retry=2 " in err, (rc, err))
    log = server_log()
    t.check("500s: three requests", [e["status"] for e in log] == [500, 500, 200], log)

    url = base + "/" + names[2] + "?delay=5"
    start = time.monotonic()
    rc, results, err = fetch_pkg(cache, "--stall-timeout-ms", "1000", "--retries", "1",
                                 "--sha256", sha(packages[names[2]][0]), url)
    took = time.monotonic() - start
    t.check("stall: fails after the budget", rc == 1 and "'%s'" % url in err and
            "timed out" in err and "after 2 attempts" in err and took < 4.5, (rc, err, took))
    server_log()

    # --- local files: verified and copied in --------------------------------------------
    cache = os.path.join(tmp, "cache-local")
    path = os.path.join(root, names[3])
    rc, results, err = fetch_pkg(cache, "--sha256", sha(packages[names[3]][0]), path,
                                 "--sha256", sha(packages[names[4]][0]),
                                 "file://" + os.path.join(root, names[4]))
    t.check("local: ok", rc == 0 and len(results) == 2, (rc, err))
    for n, r in zip(names[3:5], results):
        unpacked_ok("local: copied and unpacked", r, n)
        t.check("local: a copy", r.get("archive", "").startswith(cache), r)
    rc, results, err = fetch_pkg(cache, "--sha256", sha(b"other"), path)
    t.check("local: mismatch", rc == 1 and path in err and sha(b"other") in err and
            sha(packages[names[3]][0]) in err, err)
    t.check("local: mismatch leaves nothing", sha(b"other") not in cache_entries(cache))

    # --- two processes, one package: one download, both succeed -------------------------
    cache = os.path.join(tmp, "cache-shared")
    slow = make_package("slow-1.0-0.tar.bz2", payload_size=50000)
    url = base + "/slow-1.0-0.tar.bz2?delay=1"
    procs = [fetch_pkg(cache, "--sha256", sha(slow), url, start_only=True) for _ in range(2)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        outs.append(finish(p.returncode, out, err, ("concurrent",)))
    t.check("concurrent: both ok", all(rc == 0 and len(r) == 1 for rc, r, _ in outs), outs)
    t.check("concurrent: one downloaded", sorted(r[0]["downloaded"] for _, r, _ in outs if r) ==
            [False, True], outs)
    log = server_log()
    t.check("concurrent: one request", len(log) == 1, log)
    if outs[0][1]:
        unpacked_ok("concurrent: unpacked", outs[0][1][0], "slow-1.0-0.tar.bz2")

    # --- bad inputs ------------------------------------------------------------------------
    rc, results, err = fetch_pkg(cache, "--sha256", "abc", base + "/x.tar.bz2")
    t.check("input: bad sha256", rc == 2 and "invalid sha256 'abc'" in err, (rc, err))
    rc, results, err = fetch_pkg(cache, "--filename", "../x.tar.bz2", base + "/x.tar.bz2")
    t.check("input: bad file name", rc == 2 and "invalid file name '../x.tar.bz2'" in err, (rc, err))
finally:
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(tmp, ignore_errors=True)

t.finish()
