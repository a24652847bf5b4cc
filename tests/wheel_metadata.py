"""Wheel METADATA without the wheel: ranged fetches and `hpcbuild wheel-metadata`
against the loopback test server (tests/lib/testserver.py).

Wheels are made here with /usr/bin/python3's zipfile (the oracle: what
zipfile reads from .dist-info/METADATA is what hpcbuild must print).  The
server's request log (/__log) proves how many requests each route took:
PEP 658 one, a ranged read two (three with a central directory bigger than
the first 64 KiB tail), a server without Range support one whole download,
the metadata cache none.
"""
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import HPCBUILD, Tally, check_sanitizers, json_line  # noqa: E402

HTTP_RANGE = os.environ.get("HTTP_RANGE", "http_range")
SERVER = os.path.join(os.path.dirname(__file__), "lib", "testserver.py")
ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
ENV["NO_PROXY"] = ENV["no_proxy"] = "127.0.0.1"

t = Tally()
tmp = tempfile.mkdtemp(prefix="hb-zipmeta-")
root = os.path.join(tmp, "srv")
os.makedirs(root)
rng = random.Random(658)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def make_wheel(name, dist_info, metadata, payload=0, nfiles=0, compression=zipfile.ZIP_DEFLATED,
               metadata_last=False):
    """Writes a wheel to root/name, METADATA first (so that the payload puts it out of
    the first tail) unless metadata_last; returns (bytes, METADATA as zipfile reads it)."""
    path = os.path.join(root, name)
    with zipfile.ZipFile(path, "w", compression) as z:
        if not metadata_last:
            z.writestr(dist_info + "/METADATA", metadata)
        if payload:
            z.writestr("pkg/blob.bin", bytes(rng.getrandbits(8) for _ in range(payload)))
        for i in range(nfiles):
            z.writestr("pkg/a_rather_long_directory_name_for_module_number_%05d/__init__.py" % i,
                       "x = %d\n" % i)
        if metadata_last:
            z.writestr(dist_info + "/METADATA", metadata)
        z.writestr(dist_info + "/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
        z.writestr(dist_info + "/RECORD", "")
    with zipfile.ZipFile(path) as z:
        meta = z.read(dist_info + "/METADATA")
    with open(path, "rb") as f:
        return f.read(), meta


def metadata_text(name, *requires):
    lines = ["Metadata-Version: 2.1", "Name: " + name, "Version: 1.0"]
    lines += ["Requires-Dist: " + r for r in requires]
    return "\n".join(lines) + "\n\n" + "A description. " * 40 + "\n"


big, big_meta = make_wheel("alpha-1.0-py3-none-any.whl", "alpha-1.0.dist-info",
                           metadata_text("alpha", "numpy>=1.20", 'requests; extra == "http"'),
                           payload=200000)
many, many_meta = make_wheel("Many_Files-2.0-py3-none-any.whl", "Many_Files-2.0.dist-info",
                             metadata_text("Many.Files", "six"), payload=70000, nfiles=1500)
small, small_meta = make_wheel("tiny-0.1-py3-none-any.whl", "tiny-0.1.dist-info",
                               metadata_text("tiny"), compression=zipfile.ZIP_STORED)
late, late_meta = make_wheel("late-1.0-py3-none-any.whl", "late-1.0.dist-info",
                             metadata_text("late", "idna"), payload=200000, metadata_last=True)
pep, pep_meta = make_wheel("pep-1.0-py3-none-any.whl", "pep-1.0.dist-info",
                           metadata_text("pep", "scipy"), payload=100000)
with open(os.path.join(root, "pep-1.0-py3-none-any.whl.metadata"), "wb") as f:
    f.write(pep_meta)
with open(os.path.join(root, "junk-1.0-py3-none-any.whl"), "wb") as f:
    f.write(bytes(rng.getrandbits(8) for _ in range(100000)))

proc = subprocess.Popen([sys.executable, SERVER, root], stdout=subprocess.PIPE, env=ENV)
port = int(proc.stdout.readline().split()[1])
base = "http://127.0.0.1:%d" % port


def server_log():
    """The requests since the last call (the log is reset)."""
    with urllib.request.urlopen(base + "/__log", timeout=10) as r:
        log = json.load(r)
    urllib.request.urlopen(base + "/__reset", timeout=10).read()
    return [e for e in log if not e["path"].startswith("/__")]


def wheel_metadata(*args, cache=None):
    """Runs hpcbuild wheel-metadata --json; returns (rc, the JSON object or None, stderr)."""
    env = dict(ENV)
    env["HPCBUILD_CACHE"] = cache or os.path.join(tmp, "cache-unused")
    p = subprocess.run([HPCBUILD, "wheel-metadata", "--json", *args], capture_output=True,
                       text=True, env=env, timeout=60)
    check_sanitizers(p.stderr, "hpcbuild wheel-metadata " + " ".join(args))
    return p.returncode, json_line(p.stdout) if p.returncode == 0 else None, p.stderr


def check_meta(group, rc, j, want_meta, how, requests, log, ranges=None):
    ok = (rc == 0 and j is not None and j["metadata"].encode() == want_meta and j["how"] == how
          and j["requests"] == requests and len(log) == requests)
    if ranges is not None:
        ok = ok and [e["range"] for e in log] == ranges
    t.check(group, ok, "rc=%d %r (want how=%s requests=%d) log=%r" % (
        rc, j and {k: v for k, v in j.items() if k != "metadata"}, how, requests, log))


def http_range(*args):
    p = subprocess.run([HTTP_RANGE, *args], capture_output=True, text=True, env=ENV, timeout=60)
    check_sanitizers(p.stderr, "http_range " + " ".join(args))
    return p.returncode, p.stdout.splitlines()


def fields(line):
    return dict(part.split("=", 1) for part in line.split(":")[0].split()[1:] if "=" in part)


try:
    server_log()
    # --- the server's Range support and http.h's ranged fetches ------------
    url = base + "/alpha-1.0-py3-none-any.whl"
    n = len(big)
    rc, lines = http_range(url, "-65536", url, "100-199", url, "%d-" % (n - 10), url, "none",
                           url + "?norange=1", "-100")
    want = [(1, 206, n - 65536, big[-65536:]), (1, 206, 100, big[100:200]),
            (1, 206, n - 10, big[-10:]), (0, 200, 0, big), (0, 200, 0, big)]
    t.check("range: all ok", rc == 0 and len(lines) == 5, lines)
    for line, (partial, status, start, data) in zip(lines, want):
        f = fields(line)
        t.check("range: 206 and Content-Range", line.startswith("ok ") and
                f.get("partial") == str(partial) and f.get("status") == str(status) and
                f.get("start") == str(start) and f.get("total") == str(n) and
                f.get("size") == str(len(data)) and f.get("sha256") == sha(data), (line, status))
    log = server_log()
    t.check("range: the log records Range", sorted(e["range"] or "" for e in log) == sorted(
        ["bytes=-65536", "bytes=100-199", "bytes=%d-" % (n - 10), "", "bytes=-100"]) and
        sorted(e["status"] for e in log) == [200, 200, 206, 206, 206], log)
    rc, lines = http_range(url, "%d-" % (n + 5))
    t.check("range: 416 is a plain error", rc == 1 and lines[0].startswith("error status=416 attempts=1:")
            and "HTTP 416 (Range Not Satisfiable)" in lines[0], lines)
    server_log()
    # an expected digest is checked on whole bodies only
    rc, lines = http_range("--sha256", "0" * 64, url, "-100", url + "?norange=1", "-100")
    t.check("range: digests only on whole bodies", rc == 1 and lines[0].startswith("ok ") and
            lines[1].startswith("error ") and "sha256 mismatch" in lines[1], lines)
    # ranged fetches neither use nor fill the cache
    rcache = os.path.join(tmp, "range-cache")
    http_range("--cache", rcache, url, "-100", url, "-100")
    t.check("range: no cache files", not os.path.isdir(os.path.join(rcache, "http")) or
            not os.listdir(os.path.join(rcache, "http")), os.listdir(rcache))
    server_log()

    # --- a ranged read: tail, then the METADATA member -------------------------
    rc, j, err = wheel_metadata(url)
    log = server_log()
    check_meta("ranged read: 2 requests", rc, j, big_meta, "range", 2, log)
    t.check("ranged read: suffix first", log and log[0]["range"] == "bytes=-65536", log)
    t.check("ranged read: Requires-Dist", j is not None and
            "Requires-Dist: numpy>=1.20" in j["metadata"], j)

    # a central directory bigger than 64 KiB: one more tail request
    rc, j, err = wheel_metadata(base + "/Many_Files-2.0-py3-none-any.whl")
    log = server_log()
    check_meta("ranged read: big directory, 3 requests", rc, j, many_meta, "range", 3, log)
    t.check("ranged read: big directory", len(many) > 65536 and len(log) == 3 and
            all(e["status"] == 206 for e in log), log)

    # METADATA inside the first tail (where wheel writers put .dist-info): one request
    rc, j, err = wheel_metadata(base + "/late-1.0-py3-none-any.whl")
    check_meta("ranged read: METADATA in the tail, 1 request", rc, j, late_meta, "range", 1,
               server_log())

    # a wheel smaller than the first tail: one request
    rc, j, err = wheel_metadata(base + "/tiny-0.1-py3-none-any.whl")
    check_meta("ranged read: small wheel, 1 request", rc, j, small_meta, "range", 1, server_log())

    # --- a server without Range support: the whole file --------------------
    rc, j, err = wheel_metadata("--sha256", sha(big), url + "?norange=1")
    log = server_log()
    check_meta("no range support: full body", rc, j, big_meta, "full", 1, log)
    rc, j, err = wheel_metadata("--no-cache", "--sha256", sha(big), url + "?norange=1")
    check_meta("no range support: full body to memory", rc, j, big_meta, "full", 1, server_log())
    rc, j, err = wheel_metadata("--sha256", sha(small), url + "?norange=1")
    server_log()
    t.check("no range support: sha256 checked", rc == 1 and "sha256 mismatch" in err, err)

    # --- PEP 658 ----------------------------------------------------------------
    purl = base + "/pep-1.0-py3-none-any.whl"
    rc, j, err = wheel_metadata("--pep658", "--metadata-sha256", sha(pep_meta), purl)
    log = server_log()
    check_meta("pep658: 1 request", rc, j, pep_meta, "pep658", 1, log)
    t.check("pep658: the .metadata URL", log and log[0]["path"].endswith(".whl.metadata"), log)
    rc, j, err = wheel_metadata("--pep658", "--metadata-sha256", sha(b"other"), purl)
    log = server_log()
    t.check("pep658: a bad hash is an error", rc == 1 and "sha256 mismatch" in err and
            ".whl.metadata" in err and len(log) == 1, (rc, err, log))
    # offered but missing: falls back to the ranged read
    rc, j, err = wheel_metadata("--pep658", url)
    log = server_log()
    check_meta("pep658: 404 falls back to a ranged read", rc, j, big_meta, "range", 3, log)
    t.check("pep658: 404 first", log and log[0]["status"] == 404, log)

    # --- the metadata cache ------------------------------------------------------
    cache = os.path.join(tmp, "cache")
    rc, j, err = wheel_metadata("--sha256", sha(big), url, cache=cache)
    check_meta("cache: first run ranged", rc, j, big_meta, "range", 2, server_log())
    cached_file = os.path.join(cache, "metadata", sha(big) + ".METADATA")
    t.check("cache: the entry", os.path.isfile(cached_file) and
            open(cached_file, "rb").read() == big_meta, cached_file)
    rc, j, err = wheel_metadata("--sha256", sha(big), url, cache=cache)
    check_meta("cache: second run, 0 requests", rc, j, big_meta, "cached", 0, server_log())
    rc, j, err = wheel_metadata("--sha256", sha(big).upper(), url, cache=cache)
    check_meta("cache: hex in either case", rc, j, big_meta, "cached", 0, server_log())
    # keyed by the PEP 658 digest, and checked against it
    rc, j, err = wheel_metadata("--pep658", "--metadata-sha256", sha(pep_meta), purl, cache=cache)
    check_meta("cache: pep658 first run", rc, j, pep_meta, "pep658", 1, server_log())
    rc, j, err = wheel_metadata("--pep658", "--metadata-sha256", sha(pep_meta), purl, cache=cache)
    check_meta("cache: pep658 second run", rc, j, pep_meta, "cached", 0, server_log())
    pep_cached = os.path.join(cache, "metadata", sha(pep_meta) + ".METADATA")
    with open(pep_cached, "ab") as f:
        f.write(b"tampered\n")
    rc, j, err = wheel_metadata("--pep658", "--metadata-sha256", sha(pep_meta), purl, cache=cache)
    check_meta("cache: a damaged entry is refetched", rc, j, pep_meta, "pep658", 1, server_log())
    t.check("cache: no temp files", not [p for p in os.listdir(os.path.join(cache, "metadata"))
                                         if ".tmp." in p], os.listdir(os.path.join(cache, "metadata")))
    # no sha256: nothing to key the cache by
    rc, j, err = wheel_metadata(url, cache=cache)
    check_meta("cache: no digest, no cache", rc, j, big_meta, "range", 2, server_log())

    # --- local files ---------------------------------------------------------------
    local = os.path.join(root, "Many_Files-2.0-py3-none-any.whl")
    for u in (local, "file://" + local):
        rc, j, err = wheel_metadata(u)
        check_meta("local: read directly", rc, j, many_meta, "local", 0, server_log())

    # --- many wheels in parallel, one failing ------------------------------------------
    urls = [url, base + "/Many_Files-2.0-py3-none-any.whl", base + "/nope-1.0-py3-none-any.whl",
            base + "/late-1.0-py3-none-any.whl#sha256=" + sha(late), url + "?norange=1"]
    env = dict(ENV, HPCBUILD_CACHE=os.path.join(tmp, "cache-parallel"))
    p = subprocess.run([HPCBUILD, "wheel-metadata", "--json", *urls], capture_output=True,
                       text=True, env=env, timeout=60)
    check_sanitizers(p.stderr, "hpcbuild wheel-metadata (parallel)")
    got = [json.loads(line) for line in p.stdout.splitlines()]
    log = server_log()
    t.check("parallel: one failure, the others answered", p.returncode == 1 and
            [(g["how"], g["requests"]) for g in got] == [("range", 2), ("range", 3), ("range", 1),
                                                         ("full", 1)] and
            [g["metadata"].encode() for g in got] == [big_meta, many_meta, late_meta, big_meta] and
            got[2]["url"] == base + "/late-1.0-py3-none-any.whl" and
            p.stderr.count("hpcbuild: ") == 1 and "nope-1.0" in p.stderr and len(log) == 8,
            (p.returncode, [{k: v for k, v in g.items() if k != "metadata"} for g in got],
             p.stderr, log))
    t.check("parallel: the #sha256 fragment keys the cache", os.path.isfile(os.path.join(
        tmp, "cache-parallel", "metadata", sha(late) + ".METADATA")))

    p = subprocess.run([HPCBUILD, "wheel-metadata", "--help"], capture_output=True, text=True)
    t.check("cli: --help", p.returncode == 0 and p.stdout.startswith("usage: hpcbuild wheel-metadata"),
            p.stdout)
    p = subprocess.run([HPCBUILD, "wheel-metadata", "--bogus", url], capture_output=True, text=True)
    t.check("cli: unknown option", p.returncode == 2 and "unknown option '--bogus'" in p.stderr,
            p.stderr)

    # --- errors ----------------------------------------------------------------------
    rc, j, err = wheel_metadata(base + "/nope-1.0-py3-none-any.whl")
    log = server_log()
    t.check("errors: 404 is not retried as a full download", rc == 1 and "HTTP 404" in err and
            len(log) == 1, (err, log))
    rc, j, err = wheel_metadata(base + "/junk-1.0-py3-none-any.whl")
    t.check("errors: not a zip", rc == 2 and "junk-1.0-py3-none-any.whl" in err and
            "not a zip archive" in err, err)
    server_log()
    rc, j, err = wheel_metadata("--project", "beta", url)
    t.check("errors: wrong project", rc == 2 and "for project 'beta'" in err and
            "alpha-1.0.dist-info/METADATA" in err, err)
    server_log()
    rc, j, err = wheel_metadata("--sha256", "xyz", url)
    t.check("errors: a bad digest", rc == 2 and "invalid sha256 'xyz'" in err, err)
    t.check("errors: a bad digest makes no request", not server_log())
finally:
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(tmp, ignore_errors=True)

t.finish()
