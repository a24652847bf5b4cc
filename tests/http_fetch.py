"""HTTP fetching against the loopback test server (tests/lib/testserver.py).

Runs tests/tools/http_get (HTTP_GET) against a server on 127.0.0.1 and
checks statuses, conditional requests (from the server's request log),
retries, error messages, digests, atomic writes and parallel fetches.
"""
import glob
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import Tally, check_sanitizers  # noqa: E402

HTTP_GET = os.environ.get("HTTP_GET", "http_get")
SERVER = os.path.join(os.path.dirname(__file__), "lib", "testserver.py")
ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
ENV["NO_PROXY"] = ENV["no_proxy"] = "127.0.0.1"

t = Tally()
tmp = tempfile.mkdtemp(prefix="hb-http-")
root = os.path.join(tmp, "srv")
cache = os.path.join(tmp, "cache")
os.makedirs(root)
files = {}


def put(name, data):
    path = os.path.join(root, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    files[name] = data


def sha(data):
    return hashlib.sha256(data).hexdigest()


put("a.json", b'{"packages": {}}\n' * 50)
put("big.bin", bytes(range(256)) * 4096)  # 1 MiB
put("sub/b.txt", b"hello\n")
for i in range(20):
    put("many/%d.txt" % i, (b"file %d\n" % i) * (i + 1))

proc = subprocess.Popen([sys.executable, SERVER, root], stdout=subprocess.PIPE, env=ENV)
port = int(proc.stdout.readline().split()[1])
base = "http://127.0.0.1:%d" % port


def server_log(reset=False):
    with urllib.request.urlopen(base + "/__log", timeout=10) as r:
        log = json.load(r)
    if reset:
        urllib.request.urlopen(base + "/__reset", timeout=10).read()
    return [e for e in log if not e["path"].startswith("/__")]


def get(*args, timeout=60):
    """Runs http_get; returns (exit status, [result lines], stderr)."""
    p = subprocess.run([HTTP_GET, *args], capture_output=True, text=True, timeout=timeout,
                       env=ENV)
    check_sanitizers(p.stderr, "http_get " + " ".join(args))
    return p.returncode, p.stdout.splitlines(), p.stderr


def fields(line):
    out = {}
    for part in line.split()[1:]:
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = v
    return out


def check_ok(group, line, data, **want):
    f = fields(line) if line.startswith("ok ") else {}
    ok = line.startswith("ok ") and f.get("sha256") == sha(data) and f.get("size") == str(len(data))
    for k, v in want.items():
        ok = ok and f.get(k) == str(v)
    t.check(group, ok, "%r (want sha256 %s, %r)" % (line, sha(data), want))
    return f


def check_error(group, rc, lines, *needles, attempts=None):
    line = lines[0] if lines else ""
    ok = rc == 1 and line.startswith("error ") and all(n in line for n in needles)
    if attempts is not None:
        ok = ok and line.startswith("error attempts=%d:" % attempts)
    t.check(group, ok, "rc=%d %r, want %r attempts=%s" % (rc, line, needles, attempts))


def no_temp_files(group, *dirs):
    left = []
    for d in dirs:
        left += [p for p in glob.glob(os.path.join(d, "**", "*"), recursive=True) if ".tmp." in p]
    t.check(group, not left, "temporary files left: %r" % left)


try:
    # --- plain fetch into the cache, then a conditional refetch -----------
    url = base + "/a.json"
    server_log(reset=True)
    rc, lines, _ = get("--cache", cache, url)
    f = check_ok("cache: first fetch", lines[0], files["a.json"], status=200, not_modified=0)
    body_path = f.get("path", "")
    t.check("cache: first fetch", body_path.startswith(cache) and
            open(body_path, "rb").read() == files["a.json"], body_path)
    log = server_log(reset=True)
    t.check("cache: first fetch unconditional", len(log) == 1 and log[0]["if_none_match"] is None
            and log[0]["if_modified_since"] is None, log)

    rc, lines, _ = get("--cache", cache, url)
    check_ok("cache: second fetch is 304", lines[0], files["a.json"], status=304, not_modified=1)
    log = server_log(reset=True)
    t.check("cache: second fetch conditional", len(log) == 1 and log[0]["status"] == 304 and
            log[0]["if_none_match"] and log[0]["if_modified_since"], log)

    # memory and dest from a 304
    out = os.path.join(tmp, "out-a.json")
    rc, lines, _ = get("--cache", cache, "--out", out, "--mem", url)
    f = check_ok("cache: 304 to dest and memory", lines[0], files["a.json"], not_modified=1,
                 path=out, mem_size=len(files["a.json"]), mem_sha256=sha(files["a.json"]))
    t.check("cache: 304 to dest and memory", open(out, "rb").read() == files["a.json"])

    # Last-Modified only
    url_lm = base + "/sub/b.txt?noetag=1"
    get("--cache", cache, url_lm)
    server_log(reset=True)
    rc, lines, _ = get("--cache", cache, url_lm)
    check_ok("cache: If-Modified-Since only", lines[0], files["sub/b.txt"], status=304,
             not_modified=1)
    log = server_log(reset=True)
    t.check("cache: If-Modified-Since only", len(log) == 1 and log[0]["if_none_match"] is None
            and log[0]["if_modified_since"], log)

    # neither validator: always a full fetch
    url_none = base + "/sub/b.txt?noetag=1&nolm=1"
    get("--cache", cache, url_none)
    server_log(reset=True)
    rc, lines, _ = get("--cache", cache, url_none)
    check_ok("cache: no validators", lines[0], files["sub/b.txt"], status=200, not_modified=0)

    # the file changes: a 200 with the new body replaces the cache entry
    put("a.json", b'{"packages": {"x": 1}}\n')
    st = os.stat(os.path.join(root, "a.json"))
    os.utime(os.path.join(root, "a.json"), (st.st_atime, st.st_mtime + 10))
    rc, lines, _ = get("--cache", cache, url)
    check_ok("cache: changed file refetched", lines[0], files["a.json"], status=200,
             not_modified=0)
    rc, lines, _ = get("--cache", cache, url)
    check_ok("cache: changed file then 304", lines[0], files["a.json"], status=304,
             not_modified=1)

    # a damaged cache body is never trusted: the next fetch is unconditional
    body_path = fields(lines[0])["path"]
    with open(body_path, "ab") as fh:
        fh.write(b"garbage")
    server_log(reset=True)
    rc, lines, _ = get("--cache", cache, url)
    check_ok("cache: damaged entry refetched", lines[0], files["a.json"], status=200)
    log = server_log(reset=True)
    t.check("cache: damaged entry refetched", len(log) == 1 and log[0]["if_none_match"] is None,
            log)

    # a cache body changed in place (same size, so only its sha256 tells) is never used:
    # the 304 is answered by re-downloading without conditional headers
    rc, lines, _ = get("--cache", cache, url)
    body_path = fields(lines[0])["path"]
    good = open(body_path, "rb").read()
    with open(body_path, "wb") as fh:
        fh.write(good[::-1])
    server_log(reset=True)
    rc, lines, _ = get("--cache", cache, "--retry-delay-ms", "1", url)
    check_ok("cache: tampered body refetched", lines[0], files["a.json"], status=200,
             not_modified=0)
    t.check("cache: tampered body refetched", open(body_path, "rb").read() == files["a.json"])
    log = server_log(reset=True)
    t.check("cache: tampered body refetched", len(log) == 2 and log[0]["status"] == 304 and
            log[1]["if_none_match"] is None and log[1]["status"] == 200, log)
    with open(body_path, "wb") as fh:
        fh.write(good[::-1])
    rc, lines, _ = get("--cache", cache, "--retries", "0", url)
    check_error("cache: tampered body without retries", rc, lines, "'%s'" % url, "is corrupt",
                "sha256 " + sha(good[::-1]), sha(good))

    # --- errors name the URL ------------------------------------------------
    u = base + "/missing.json"
    rc, lines, _ = get("--cache", cache, u)
    check_error("error: 404", rc, lines, "'%s'" % u, "HTTP 404 (Not Found)", attempts=1)
    u = base + "/a.json?status=403"
    rc, lines, _ = get("--mem", u)
    check_error("error: 403 not retried", rc, lines, "'%s'" % u, "HTTP 403 (Forbidden)",
                attempts=1)
    u = base + "/a.json?status=503"
    rc, lines, _ = get("--mem", "--retries", "2", u)
    check_error("error: 503 retried", rc, lines, "'%s'" % u, "HTTP 503 (Service Unavailable)",
                "after 3 attempts", attempts=3)
    log = server_log(reset=True)
    t.check("error: 503 retried", sum(1 for e in log if e["status"] == 503) == 3, log)

    # backoff: 3 retries at 100, 200, 400 ms
    u = base + "/a.json?status=502&x=backoff"
    start = time.monotonic()
    rc, lines, _ = get("--mem", "--retries", "3", "--retry-delay-ms", "100", u)
    took = time.monotonic() - start
    check_error("retry: backoff", rc, lines, "HTTP 502 (Bad Gateway)", attempts=4)
    t.check("retry: backoff", 0.65 <= took < 10, "took %.2f s" % took)

    # 500 twice, then OK
    u = base + "/big.bin?fail=2"
    rc, lines, _ = get("--cache", cache, "--retries", "3", u)
    check_ok("retry: 500 then ok", lines[0], files["big.bin"], status=200, attempts=3)
    u = base + "/big.bin?fail=5"
    rc, lines, _ = get("--cache", cache, "--retries", "3", u)
    check_error("retry: 500 too often", rc, lines, "HTTP 500 (Internal Server Error)",
                "after 4 attempts", attempts=4)

    # truncated body (Content-Length says more)
    n = len(files["big.bin"])
    u = base + "/big.bin?truncate=1000"
    out = os.path.join(tmp, "trunc.bin")
    rc, lines, _ = get("--out", out, "--retries", "1", u)
    check_error("error: truncated", rc, lines, "'%s'" % u, "truncated body",
                "of %d bytes" % n, attempts=2)
    t.check("error: truncated leaves no file", not os.path.exists(out))
    rc, lines, _ = get("--cache", cache, "--retries", "0", u)
    check_error("error: truncated (cache)", rc, lines, "truncated body", attempts=1)

    # timeouts, bounded
    u = base + "/a.json?delay=5"
    start = time.monotonic()
    rc, lines, _ = get("--mem", "--retries", "0", "--timeout-ms", "400", u)
    took = time.monotonic() - start
    check_error("error: timeout", rc, lines, "'%s'" % u, "timed out", attempts=1)
    t.check("error: timeout is bounded", took < 4, "took %.2f s" % took)
    u = base + "/a.json?delay=5&x=stall"
    start = time.monotonic()
    rc, lines, _ = get("--mem", "--retries", "0", "--stall-timeout-ms", "1000", u)
    took = time.monotonic() - start
    check_error("error: stall timeout", rc, lines, "timed out", attempts=1)
    t.check("error: stall timeout is bounded", took < 4, "took %.2f s" % took)
    # slow but within the limit
    u = base + "/sub/b.txt?delay=0.3"
    rc, lines, _ = get("--mem", "--timeout-ms", "5000", u)
    check_ok("slow: within limit", lines[0], files["sub/b.txt"], status=200, path="-",
             mem_size=len(files["sub/b.txt"]), mem_sha256=sha(files["sub/b.txt"]))

    # Retry-After is honoured (up to the backoff cap)
    u = base + "/a.json?status=503&retry_after=1"
    start = time.monotonic()
    rc, lines, _ = get("--mem", "--retries", "1", "--retry-delay-ms", "10", u)
    took = time.monotonic() - start
    check_error("retry: Retry-After", rc, lines, "HTTP 503", attempts=2)
    t.check("retry: Retry-After", 0.9 <= took < 5, "took %.2f s" % took)

    # redirects are followed; the cache is keyed by the requested URL
    u = base + "/x?redirect=/sub/b.txt"
    rc, lines, _ = get("--cache", cache, u)
    check_ok("redirect: followed", lines[0], files["sub/b.txt"], status=200)
    rc, lines, _ = get("--cache", cache, u)
    check_ok("redirect: conditional", lines[0], files["sub/b.txt"], status=304, not_modified=1)

    # a destination that cannot be written names the file
    bad_dest = os.path.join(tmp, "no-such-dir", "f")
    rc, lines, _ = get("--out", bad_dest, base + "/sub/b.txt")
    check_error("error: unwritable dest", rc, lines, bad_dest, "No such file or directory",
                attempts=0)
    rc, lines, _ = get("--cache", cache, "--out", bad_dest, base + "/sub/b.txt")
    check_error("error: unwritable dest (cache)", rc, lines, bad_dest, "No such file or directory")

    # connection refused
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    u = "http://127.0.0.1:%d/x.json" % dead
    rc, lines, _ = get("--mem", "--retries", "1", u)
    check_error("error: connection refused", rc, lines, "'%s'" % u, "connection failed",
                "refused", attempts=2)

    # --- digests -----------------------------------------------------------
    data = files["big.bin"]
    md5 = hashlib.md5(data).hexdigest()
    u = base + "/big.bin"
    out = os.path.join(tmp, "dl", "big.bin")
    os.makedirs(os.path.dirname(out))
    rc, lines, _ = get("--out", out, "--sha256", sha(data).upper(), "--md5", md5, u)
    check_ok("digest: match", lines[0], data, path=out)
    t.check("digest: match", open(out, "rb").read() == data)
    os.unlink(out)
    u = base + "/big.bin?wrong=1"
    rc, lines, _ = get("--out", out, "--sha256", sha(data), u)
    check_error("digest: sha256 mismatch", rc, lines, "'%s'" % u, "sha256 mismatch",
                "expected " + sha(data), "got " + sha(data[::-1]), attempts=1)
    t.check("digest: bad file not kept", not os.path.exists(out))
    rc, lines, _ = get("--cache", cache, "--md5", md5, u)
    check_error("digest: md5 mismatch (cache)", rc, lines, "md5 mismatch", attempts=1)
    rc, lines, _ = get("--cache", cache, "--mem", u)
    check_ok("digest: mismatch not cached", lines[0], data[::-1], status=200, not_modified=0)
    # a cached copy that does not match the expected digest is dropped
    rc, lines, _ = get("--cache", cache, "--sha256", sha(data), u)
    check_error("digest: cached copy mismatch", rc, lines, "cached copy", "sha256 mismatch")
    rc, lines, _ = get("--cache", cache, u)
    check_ok("digest: cached copy dropped", lines[0], data[::-1], status=200, not_modified=0)
    rc, lines, _ = get("--mem", "--sha256", "abc", u)
    check_error("digest: invalid expected", rc, lines, "invalid sha256 'abc'",
                "expected 64 hex digits", attempts=0)

    # --- local files ---------------------------------------------------------
    local = os.path.join(root, "sub", "b.txt")
    rc, lines, _ = get("--mem", local)
    check_ok("local: plain path", lines[0], files["sub/b.txt"], path=local, status=0)
    rc, lines, _ = get("--mem", "file://" + local.replace("/b.txt", "/%62.txt"))
    check_ok("local: file URL", lines[0], files["sub/b.txt"], path=local)
    out = os.path.join(tmp, "local-copy.txt")
    rc, lines, _ = get("--out", out, "file://localhost" + local)
    check_ok("local: copy", lines[0], files["sub/b.txt"], path=out)
    rc, lines, _ = get("--out", out + "2", "--sha256", "0" * 64, local)
    check_error("local: sha256 mismatch", rc, lines, "sha256 mismatch")
    t.check("local: bad copy not kept", not os.path.exists(out + "2"))
    rc, lines, _ = get("--mem", os.path.join(root, "nope.txt"))
    check_error("local: missing", rc, lines, "nope.txt", "No such file")
    rc, lines, _ = get("--mem", "file:///no/such/file")
    check_error("local: missing file URL", rc, lines, "'file:///no/such/file'", "No such file")
    rc, lines, _ = get("--mem", "ftp://127.0.0.1/x")
    check_error("url: unsupported scheme", rc, lines, "unsupported URL scheme 'ftp'")
    rc, lines, _ = get("--mem", "file://otherhost/x")
    check_error("url: file URL with a host", rc, lines, "expected file:///absolute/path")

    # --- parallel ------------------------------------------------------------
    urls = [base + "/many/%d.txt" % i for i in range(20)]
    outdir = os.path.join(tmp, "par")
    os.makedirs(outdir)
    server_log(reset=True)
    rc, lines, err = get("--cache", cache, "--outdir", outdir, "--parallel", "4", "--progress",
                         *urls)
    t.check("parallel: all ok", rc == 0 and len(lines) == 20, lines)
    for i, line in enumerate(lines[:20]):
        data = files["many/%d.txt" % i]
        check_ok("parallel: bodies", line, data, path=os.path.join(outdir, str(i)))
        t.check("parallel: bodies", open(os.path.join(outdir, str(i)), "rb").read() == data)
    t.check("parallel: progress events", "start=20 " in err and "done=20 " in err and
            "failed=0" in err, err)
    rc, lines, err = get("--cache", cache, "--parallel", "8", "--progress", *urls)
    t.check("parallel: second round all 304", rc == 0 and
            all(fields(l).get("not_modified") == "1" for l in lines) and len(lines) == 20, lines)
    mixed = [base + "/many/1.txt", base + "/nope", base + "/many/2.txt?fail=1",
             os.path.join(root, "sub", "b.txt"), base + "/x?status=404"]
    rc, lines, err = get("--mem", "--parallel", "2", "--progress", *mixed)
    t.check("parallel: mixed", rc == 1 and lines[0].startswith("ok ") and
            lines[1].startswith("error attempts=1:") and
            lines[2].startswith("ok ") and "attempts=2" in lines[2] and
            lines[3].startswith("ok ") and lines[4].startswith("error ") and
            lines[5].startswith("summary: 2 of 5 downloads failed; first: fetching '%s'" % mixed[1]),
            lines)
    t.check("parallel: mixed events", "done=3 " in err and "failed=2" in err and "retry=1 " in err,
            err)

    no_temp_files("atomic: no temp files left", cache, tmp)
finally:
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(tmp, ignore_errors=True)

t.finish()
