"""A loopback HTTP test server for the fetch tests (/usr/bin/python3, stdlib only).

    /usr/bin/python3 tests/lib/testserver.py DIR

Binds 127.0.0.1 on an ephemeral port, prints "PORT <n>" on stdout and serves
the files under DIR with an ETag (a digest of the content) and Last-Modified
(the file's mtime), answering 304 to a matching If-None-Match (or, without
one, an If-Modified-Since not older than the file).  Misbehaviour is asked
for in the query string, which is part of the URL (and so of the cache key):

    fail=N        answer 500 to the first N requests for this URL, then serve
    status=S      always answer status S (e.g. 404, 503)
    truncate=K    send the full Content-Length but only K bytes, then close
    delay=SECS    sleep before answering (a slow server)
    wrong=1       serve different content (the bytes reversed)
    noetag=1      send no ETag;  nolm=1: send no Last-Modified
    retry_after=S with status/fail: send Retry-After: S
    redirect=PATH answer 302 with Location: PATH
    norange=1     ignore Range headers (always answer 200 with the whole body)

A "Range: bytes=A-B", "bytes=-N" or "bytes=A-" header on a file gets 206 with
Content-Range (see byte_range); an unsatisfiable one gets 416.

A GET on a directory (a path ending in '/') holding index.json and/or
index.html is content-negotiated as a PEP 691 simple index (negotiate()):
the Accept header's q-values pick JSON (application/vnd.pypi.simple.v1+json)
or HTML (application/vnd.pypi.simple.v1+html, or text/html when that was
asked); no Accept means HTML; nothing acceptable is 406; html_only=1 never
offers JSON (a static file server).

GET /__log returns the request log as JSON (a list of {path, status,
if_none_match, if_modified_since, range, accept}); GET /__reset clears the log
and counters.
"""
import email.utils
import hashlib
import http.server
import json
import os
import socketserver
import sys
import threading
import time
import urllib.parse


SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
SIMPLE_HTML = "application/vnd.pypi.simple.v1+html"


def negotiate(directory, accept, html_only):
    """PEP 691 content negotiation for a directory holding index.json and/or
    index.html: (file name, Content-Type), (None, None) when the directory has
    neither (not an index page), or (None, 406) when nothing offered is
    acceptable.  An offer takes the best q-value of the ranges naming one of its
    types exactly (else of the wildcards that match it); ties go to the range
    listed first, then to HTML."""
    offers = []   # (file, {media range that matches it: Content-Type to answer})
    if os.path.isfile(os.path.join(directory, "index.html")):
        offers.append(("index.html", {
            SIMPLE_HTML: SIMPLE_HTML, "application/vnd.pypi.simple.latest+html": SIMPLE_HTML,
            "text/html": "text/html", "text/*": "text/html", "*/*": "text/html"}))
    if not html_only and os.path.isfile(os.path.join(directory, "index.json")):
        offers.append(("index.json", {
            SIMPLE_JSON: SIMPLE_JSON, "application/vnd.pypi.simple.latest+json": SIMPLE_JSON,
            "application/*": SIMPLE_JSON, "*/*": SIMPLE_JSON}))
    if not offers:
        return None, None
    if accept is None or not accept.strip():
        accept = "text/html"
    ranges = {}   # media range -> (q, position)
    for pos, item in enumerate(accept.split(",")):
        parts = [p.strip() for p in item.split(";")]
        q = 1.0
        for param in parts[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges.setdefault(parts[0].lower(), (q, pos))
    best = None   # (q, -position, html preferred, file, content type)
    for rank, (name, types) in enumerate(offers):
        exact = [r for r in types if r in ranges and "*" not in r]
        matches = exact or [r for r in types if r in ranges]
        for r in matches:
            key = (ranges[r][0], -ranges[r][1], -rank, name, types[r])
            if key[0] > 0 and (best is None or key > best):
                best = key
    if best is None:
        return None, 406
    return best[3], best[4]


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64   # parallel fetches open many connections at once


def byte_range(header, size):
    """The (start, end) slice a single "bytes=" Range header asks of a body of
    size bytes; None to ignore the header (absent, multi-range, not bytes,
    malformed); "unsatisfiable" for a range past the end (RFC 9110 14.1.2)."""
    if not header or not header.startswith("bytes="):
        return None
    first, sep, last = header[len("bytes="):].strip().partition("-")
    if not sep or not (first or last) or not all(x.isdigit() for x in (first, last) if x):
        return None
    if first == "":
        n = int(last)
        return (max(0, size - n), size) if n > 0 and size > 0 else "unsatisfiable"
    start = int(first)
    if last and int(last) < start:
        return None
    end = size if not last else min(int(last) + 1, size)
    return (start, end) if start < size else "unsatisfiable"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # headers and body go out at once: no 40 ms delayed-ACK stalls

    def log_message(self, fmt, *args):
        pass

    def _record(self, status):
        with self.server.lock:
            self.server.log.append({
                "path": self.path,
                "status": status,
                "if_none_match": self.headers.get("If-None-Match"),
                "if_modified_since": self.headers.get("If-Modified-Since"),
                "range": self.headers.get("Range"),
                "accept": self.headers.get("Accept"),
            })

    def _send(self, status, body=b"", headers=()):
        self._record(status)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status != 304:
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/__log":
            with self.server.lock:
                body = json.dumps(self.server.log).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if url.path == "/__reset":
            with self.server.lock:
                self.server.log.clear()
                self.server.counts.clear()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with self.server.lock:
            n = self.server.counts.get(self.path, 0) + 1
            self.server.counts[self.path] = n
        if "delay" in q:
            time.sleep(float(q["delay"]))
        extra = []
        if "retry_after" in q:
            extra.append(("Retry-After", q["retry_after"]))
        if "redirect" in q:
            return self._send(302, b"", [("Location", q["redirect"])])
        if "status" in q:
            return self._send(int(q["status"]), b"status %s\n" % q["status"].encode(), extra)
        if "fail" in q and n <= int(q["fail"]):
            return self._send(500, b"failing on purpose\n", extra)
        rel = urllib.parse.unquote(url.path).lstrip("/")
        path = os.path.realpath(os.path.join(self.server.root, rel))
        index_type = None
        if url.path.endswith("/") and os.path.isdir(path):
            index_file, index_type = negotiate(path, self.headers.get("Accept"),
                                               q.get("html_only") == "1")
            if index_type == 406:
                return self._send(406, b"no acceptable representation\n")
            if index_file:
                path = os.path.join(path, index_file)
        if not path.startswith(self.server.root + os.sep) or not os.path.isfile(path):
            return self._send(404, b"not found\n")
        with open(path, "rb") as f:
            body = f.read()
        mtime = int(os.stat(path).st_mtime)
        etag = '"%s"' % hashlib.sha256(body).hexdigest()[:20]
        headers = [("Content-Type", index_type), ("Vary", "Accept")] if index_type else []
        if q.get("noetag") != "1":
            headers.append(("ETag", etag))
        if q.get("nolm") != "1":
            headers.append(("Last-Modified", email.utils.formatdate(mtime, usegmt=True)))
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if inm is not None and q.get("noetag") != "1":
            if etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*":
                return self._send(304, headers=headers)
        elif ims is not None and q.get("nolm") != "1":
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                since = None
            if since is not None and mtime <= since:
                return self._send(304, headers=headers)
        if q.get("wrong") == "1":
            body = body[::-1]
        if "truncate" in q:
            k = int(q["truncate"])
            self._record(200)
            self.send_response(200)
            for h in headers:
                self.send_header(*h)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:k])
            self.wfile.flush()
            self.close_connection = True
            return
        span = None if q.get("norange") == "1" else byte_range(self.headers.get("Range"), len(body))
        if span == "unsatisfiable":
            return self._send(416, b"", [("Content-Range", "bytes */%d" % len(body))])
        if span is not None:
            start, end = span
            return self._send(206, body[start:end], headers + [
                ("Content-Range", "bytes %d-%d/%d" % (start, end - 1, len(body)))])
        self._send(200, body, headers)


def main():
    root = os.path.realpath(sys.argv[1])
    srv = Server(("127.0.0.1", 0), Handler)
    srv.root = root
    srv.log = []
    srv.counts = {}
    srv.lock = threading.Lock()
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
