"""`hpcbuild index-page` on every saved simple-repository page under
testdata/index-pages (pip's test indexes, pypi-simple's pages) and on
hand-written pages, compared file by file with an independent reader written
here from html.parser, json and urllib.parse.  Page URLs are taken to be
https://pypi.org/simple/<dir or file stem>/.  pypi-legacy-json-api holds
PyPI's legacy /pypi/<name>/json answers, not simple pages: not read here."""
import html.parser
import json
import os
import re
import sys
import tempfile
from urllib.parse import quote, unquote, urljoin

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import Tally, run_cli, testdata  # noqa: E402

HASH_NAMES = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_224", "sha3_256",
              "sha3_384", "sha3_512", "blake2b", "blake2s"}
ARCHIVES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz")
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HEX = re.compile(r"^[0-9a-fA-F]+$")


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors, self.base, self.meta, self.open = [], None, {}, False

    def handle_starttag(self, tag, attrs):
        d = dict(attrs)
        if tag == "base" and self.base is None and d.get("href") is not None:
            self.base = d["href"]
        elif tag == "meta" and d.get("name") is not None and d.get("content") is not None:
            self.meta.setdefault(d["name"], d["content"])
        elif tag == "a":
            self.anchors.append([d, ""])
            self.open = True

    def handle_endtag(self, tag):
        if tag == "a":
            self.open = False

    def handle_data(self, data):
        if self.open and self.anchors:
            self.anchors[-1][1] += data


def new_file(filename, url):
    return {"filename": filename, "url": url, "hashes": {}, "requires_python": None, "yanked": False,
            "yanked_reason": None, "core_metadata": False, "core_metadata_sha256": None, "size": None,
            "upload_time": None}


def fragment_hashes(f, full):
    if "#" not in full:
        return
    for item in full.split("#", 1)[1].split("&"):
        k, eq, v = item.partition("=")
        if eq and k in HASH_NAMES and HEX.match(v):
            f["hashes"].setdefault(k, v.lower())


def expect_html(text, page_url, links_only=False):
    p = Links()
    p.feed(text)
    p.close()
    base = urljoin(page_url, p.base) if p.base else page_url
    files = []
    for d, _ in p.anchors:
        href = d.get("href")
        if not href:
            continue
        full = urljoin(base, href)
        url = full.split("#", 1)[0]
        name = unquote(url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1])
        if not name or (links_only and not name.lower().endswith(ARCHIVES)):
            continue
        f = new_file(name, url)
        fragment_hashes(f, full)
        f["requires_python"] = d.get("data-requires-python") or None
        f["yanked"] = "data-yanked" in d
        f["yanked_reason"] = d.get("data-yanked") or None
        key = "data-core-metadata" if "data-core-metadata" in d else "data-dist-info-metadata"
        cm = d.get(key, "") if key in d else None
        if cm is not None:
            algo, eq, hx = cm.partition("=")
            f["core_metadata"] = cm == "true" or bool(eq and algo)
            if algo.lower() == "sha256" and len(hx) == 64 and HEX.match(hx):
                f["core_metadata_sha256"] = hx.lower()
        files.append(f)
    return {"name": None, "api_version": p.meta.get("pypi:repository-version", "1.0"),
            "status": p.meta.get("pypi:project-status"), "status_reason": p.meta.get("pypi:project-status-reason"),
            "versions": [], "files": files}


def expect_json(text, page_url):
    j = json.loads(text)
    meta = j.get("meta", {})
    st = j.get("project-status", meta.get("project-status")) or {}
    files = []
    for e in j["files"]:
        full = urljoin(page_url, e["url"])
        f = new_file(e["filename"], full.split("#", 1)[0])
        for k, v in e.get("hashes", {}).items():
            f["hashes"].setdefault(k.lower(), v.lower())
        fragment_hashes(f, full)
        f["requires_python"] = e.get("requires-python") or None
        y = e.get("yanked")
        f["yanked"] = bool(y)
        f["yanked_reason"] = y if isinstance(y, str) and y else None
        cm = e.get("core-metadata")
        if cm is None:
            cm = e.get("dist-info-metadata")
        f["core_metadata"] = isinstance(cm, dict) or cm is True
        if isinstance(cm, dict) and len(cm.get("sha256", "")) == 64:
            f["core_metadata_sha256"] = cm["sha256"].lower()
        f["size"] = e.get("size")
        f["upload_time"] = e.get("upload-time")
        files.append(f)
    return {"name": j.get("name"), "api_version": meta.get("api-version", "1.0"), "status": st.get("status"),
            "status_reason": st.get("reason"), "versions": j.get("versions", []), "files": files}


def expect_projects(text):
    p = Links()
    p.feed(text)
    p.close()
    names = {re.sub(r"[-_.]+", "-", t.strip()).lower() for _, t in p.anchors if t.strip()}
    return {"projects": sorted(names)}


def cli_json(t, group, args):
    rc, out, err = run_cli("index-page", *args)
    try:
        got = json.loads(out) if rc == 0 else None
    except ValueError:
        got = None
    if got is None:
        t.check(group, False, "%s: rc=%d out=%r err=%r" % (args, rc, out[:200], err))
    return got, err


def compare(t, group, what, got, want):
    if got is None:
        return
    t.check(group + ": page fields", {k: v for k, v in got.items() if k != "files"} ==
            {k: v for k, v in want.items() if k != "files"},
            "%s: got %r, want %r" % (what, {k: v for k, v in got.items() if k != "files"},
                                     {k: v for k, v in want.items() if k != "files"}))
    t.check(group + ": file count", len(got["files"]) == len(want["files"]),
            "%s: %d files, want %d" % (what, len(got["files"]), len(want["files"])))
    for g, w in zip(got["files"], want["files"]):
        t.check(group + ": file", g == w, "%s: got %r, want %r" % (what, g, w))


def saved_pages():
    root = testdata("index-pages")
    for sub in ("pip-test-indexes", "pypi-simple-jwodder"):
        for dirpath, _, names in sorted(os.walk(os.path.join(root, sub))):
            for n in sorted(names):
                if n.endswith((".html", ".json")):
                    path = os.path.join(dirpath, n)
                    stem = os.path.basename(dirpath) if n == "index.html" else n.rsplit(".", 1)[0]
                    yield path, "https://pypi.org/simple/%s/" % quote(stem)


def check_saved(t):
    count = 0
    for path, url in saved_pages():
        count += 1
        with open(path, encoding="utf-8") as f:
            text = f.read()
        rel = os.path.relpath(path, testdata("index-pages"))
        if path.endswith(".json"):
            got, _ = cli_json(t, "saved JSON pages", [path, "--url", url, "--content-type", JSON_TYPE])
            compare(t, "saved JSON pages", rel, got, expect_json(text, url))
            continue
        got, _ = cli_json(t, "saved HTML pages", [path, "--url", url])
        compare(t, "saved HTML pages", rel, got, expect_html(text, url))
        got, _ = cli_json(t, "saved HTML pages as --links", [path, "--url", url, "--links"])
        compare(t, "saved HTML pages as --links", rel, got, expect_html(text, url, links_only=True))
        got, _ = cli_json(t, "saved HTML pages as --projects", [path, "--url", url, "--projects"])
        t.check("saved HTML pages as --projects", got == expect_projects(text), "%s: %r" % (rel, got))
    t.check("saved pages found", count >= 30, "only %d pages" % count)


SHA = "ab" * 32
HAND_HTML = {
    "yanked": """<a href="y1-1.0.tar.gz" data-yanked="broken build">y1</a>
<a href="y2-1.0.tar.gz" data-yanked="">y2</a><a href="y3-1.0.tar.gz" data-yanked>y3</a>
<a href=y4-1.0.tar.gz>y4</a>""",
    "core-metadata": """<a href="c1-1.0-py3-none-any.whl" data-core-metadata="true">c1</a>
<a href="c2-1.0-py3-none-any.whl" data-core-metadata="sha256=%s">c2</a>
<a href="c3-1.0-py3-none-any.whl" data-dist-info-metadata="sha256=%s">c3</a>
<a href="c4-1.0-py3-none-any.whl" data-dist-info-metadata="true" data-core-metadata="false">c4</a>
<a href="c5-1.0-py3-none-any.whl" data-core-metadata="sha512=00">c5</a>""" % (SHA, SHA.upper()),
    "relative": """<html><head><base href="../../files/"></head><body>
<a href="../pkgs/r1-1.0.tar.gz#sha256=%s">r1</a><a href="./r2-1.0.tar.gz">r2</a>
<a href="/abs/r3-1.0.tar.gz">r3</a><a href="//cdn.example/r4-1.0.tar.gz#md5=00ff&amp;sha256=%s">r4</a>
<a href="foo%%2Bbar-1.0.tar.gz">encoded</a></body></html>""" % (SHA, SHA),
    "requires-python": """<a href="p1-1.0.tar.gz" data-requires-python="&gt;=3.8">p1</a>
<a href='p2-1.0.tar.gz' data-requires-python='&#62;=3.8,&lt;4'>p2</a>
<a href=p3-1.0.tar.gz data-requires-python=&#x3e;=3.9>p3</a>
<A HREF="p4-1.0.tar.gz" DATA-REQUIRES-PYTHON="&gt;=2.7, !=3.0.*">p4</a>
<!-- <a href="commented-1.0.tar.gz">no</a> --><script>var a = '<a href="scripted-1.0.tar.gz">';</script>""",
    "status": """<meta name="pypi:repository-version" content="1.4">
<meta name="pypi:project-status" content="archived"><meta name="pypi:project-status-reason" content="moved &amp; done">
<a href="s-1.0.tar.gz">s</a>""",
    "find-links": """<a href="w-1.0-py3-none-any.whl">w</a><a href="s-1.0.TAR.GZ">s</a><a href="../docs/">docs</a>
<a href="readme.txt">readme</a><a href="z-1.0.zip">z</a><a href="t-1.0.tgz">t</a><a href="x-1.0.tar.xz">x</a>""",
}
HAND_JSON = {
    "yanked": {"meta": {"api-version": "1.1"}, "name": "y", "versions": ["1.0", "2.0"], "files": [
        {"filename": "y-1.0.tar.gz", "url": "y-1.0.tar.gz", "hashes": {}, "yanked": True, "size": 1},
        {"filename": "y-2.0.tar.gz", "url": "../y/y-2.0.tar.gz", "hashes": {"SHA256": SHA.upper()},
         "yanked": "bad", "size": 2, "upload-time": "2026-01-02T03:04:05Z"},
        {"filename": "y-3.0.tar.gz", "url": "/y-3.0.tar.gz", "hashes": {}, "yanked": "", "size": 3},
        {"filename": "y-4.0.tar.gz", "url": "https://x/y-4.0.tar.gz", "hashes": {}, "yanked": False, "size": 4}]},
    "core-metadata": {"meta": {"api-version": "1.0"}, "name": "c", "files": [
        {"filename": "c1.whl", "url": "c1.whl", "hashes": {}, "core-metadata": True},
        {"filename": "c2.whl", "url": "c2.whl", "hashes": {}, "core-metadata": {"sha256": SHA}},
        {"filename": "c3.whl", "url": "c3.whl", "hashes": {}, "dist-info-metadata": {"sha256": SHA}},
        {"filename": "c4.whl", "url": "c4.whl", "hashes": {}, "core-metadata": False, "dist-info-metadata": True},
        {"filename": "c5.whl", "url": "c5.whl", "hashes": {}, "core-metadata": {}}]},
    "status-top": {"meta": {"api-version": "1.4"}, "name": "s",
                   "project-status": {"status": "deprecated", "reason": "use t"}, "files": []},
    "status-meta": {"meta": {"api-version": "1.4", "project-status": {"status": "quarantined"}},
                    "name": "s", "files": []},
    "requires-python": {"name": "p", "files": [
        {"filename": "p.whl", "url": "p.whl", "hashes": {}, "requires-python": ">=3.8"},
        {"filename": "q.whl", "url": "q.whl", "hashes": {}, "requires-python": ""}]},
}
ERRORS = [
    # content, content type, expected substring of the error line
    ('<meta name="pypi:repository-version" content="2.0"><a href="a-1.tar.gz">a</a>', None,
     "repository API version 2.0 is not supported"),
    ('{"meta": {"api-version": "2.1"}, "files": []}', JSON_TYPE, "repository API version 2.1 is not supported"),
    ('{"meta": {"api-version": "1.0"}, "files": [{"filename": "a", "url": "a", "yanked": 1}]}', JSON_TYPE,
     "files[0].yanked: expected a boolean or a string, found number"),
    ('{"files": [{"filename": "a", "url": "a", "hashes": []}]}', JSON_TYPE,
     "files[0].hashes: expected an object, found array"),
    ('{"files": [{"filename": 3, "url": "a"}]}', JSON_TYPE, "files[0].filename: expected a string, found number"),
    ('{"files": [{"filename": "a", "url": "a", "size": -1}]}', JSON_TYPE, "files[0].size: expected"),
    ('{"files": {}}', JSON_TYPE, "files: expected an array, found object"),
    ('{"meta": {"project-status": "x"}, "files": []}', JSON_TYPE, "meta.project-status: expected an object"),
    ('{"project-status": {"status": 1}, "files": []}', JSON_TYPE, "project-status.status: expected a string"),
    ('{"files": [', JSON_TYPE, "line 1"),
    ('[]', JSON_TYPE, "expected a JSON object at the top level"),
    ('<a href="a">', "application/json", "unsupported Content-Type 'application/json'"),
]


def check_hand(t, tmp):
    url = "https://idx.example/simple/proj/"
    for name, text in HAND_HTML.items():
        path = os.path.join(tmp, name + ".html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        links = name == "find-links"
        got, err = cli_json(t, "hand-written HTML", [path, "--url", url] + (["--links"] if links else []))
        compare(t, "hand-written HTML", name, got, expect_html(text, url, links_only=links))
        t.check("hand-written HTML: no warnings", err == "" or name == "core-metadata", "%s: %r" % (name, err))
    for name, doc in HAND_JSON.items():
        path = os.path.join(tmp, name + ".json")
        text = json.dumps(doc)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        for ctype in (JSON_TYPE, "application/vnd.pypi.simple.latest+json; charset=utf-8"):
            got, err = cli_json(t, "hand-written JSON", [path, "--url", url, "--content-type", ctype])
            compare(t, "hand-written JSON", name, got, expect_json(text, url))
    for i, (text, ctype, want) in enumerate(ERRORS):
        path = os.path.join(tmp, "error%d" % i)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        rc, out, err = run_cli("index-page", path, "--url", url, *(["--content-type", ctype] if ctype else []))
        t.check("errors: status 2, one line naming the page and field",
                rc == 2 and out == "" and err.count("\n") == 1 and url in err and want in err,
                "%r: rc=%d err=%r, want %r" % (text, rc, err, want))
    spot_checks(t, tmp, url)


def spot_checks(t, tmp, url):
    """The hand-written cases' key fields, stated outright (not only via the reader above)."""
    def page(name, *extra):
        got, err = cli_json(t, "spot checks", [os.path.join(tmp, name), "--url", url, *extra])
        return (got or {"files": []}), err

    p, _ = page("yanked.html")
    t.check("spot checks", [(f["yanked"], f["yanked_reason"]) for f in p["files"]] ==
            [(True, "broken build"), (True, None), (True, None), (False, None)], repr(p["files"]))
    p, err = page("core-metadata.html")
    t.check("spot checks", [(f["core_metadata"], f["core_metadata_sha256"]) for f in p["files"]] ==
            [(True, None), (True, SHA), (True, SHA), (False, None), (True, None)], repr(p["files"]))
    p, _ = page("relative.html")
    t.check("spot checks", [f["url"] for f in p["files"]] == [
        "https://idx.example/pkgs/r1-1.0.tar.gz", "https://idx.example/files/r2-1.0.tar.gz",
        "https://idx.example/abs/r3-1.0.tar.gz", "https://cdn.example/r4-1.0.tar.gz",
        "https://idx.example/files/foo%2Bbar-1.0.tar.gz"], repr(p["files"]))
    t.check("spot checks", p["files"][3]["hashes"] == {"md5": "00ff", "sha256": SHA}
            and p["files"][4]["filename"] == "foo+bar-1.0.tar.gz", repr(p["files"]))
    p, _ = page("requires-python.html")
    t.check("spot checks", [f["requires_python"] for f in p["files"]] ==
            [">=3.8", ">=3.8,<4", ">=3.9", ">=2.7, !=3.0.*"], repr(p["files"]))
    p, _ = page("status.html")
    t.check("spot checks", (p.get("api_version"), p.get("status"), p.get("status_reason")) ==
            ("1.4", "archived", "moved & done"), repr(p))
    p, _ = page("find-links.html", "--links")
    t.check("spot checks", [f["filename"] for f in p["files"]] ==
            ["w-1.0-py3-none-any.whl", "s-1.0.TAR.GZ", "z-1.0.zip", "t-1.0.tgz", "x-1.0.tar.xz"], repr(p))
    for name, status, reason in (("status-top.json", "deprecated", "use t"), ("status-meta.json", "quarantined", None)):
        p, _ = page(name, "--content-type", JSON_TYPE)
        t.check("spot checks", (p.get("status"), p.get("status_reason")) == (status, reason), repr(p))
    p, _ = page("yanked.json", "--content-type", JSON_TYPE)
    t.check("spot checks", [(f["yanked"], f["yanked_reason"], f["url"]) for f in p["files"]] == [
        (True, None, url + "y-1.0.tar.gz"), (True, "bad", "https://idx.example/simple/y/y-2.0.tar.gz"),
        (False, None, "https://idx.example/y-3.0.tar.gz"), (False, None, "https://x/y-4.0.tar.gz")]
        and p["files"][1]["hashes"] == {"sha256": SHA} and p["versions"] == ["1.0", "2.0"], repr(p))

    # An unknown minor version is read, with one warning; a missing size from 1.1 warns.
    path = os.path.join(tmp, "minor.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"meta": {"api-version": "1.9"}, "files": [{"filename": "a", "url": "a", "hashes": {}}]}, f)
    rc, out, err = run_cli("index-page", path, "--url", url, "--content-type", JSON_TYPE)
    t.check("warnings", rc == 0 and err.count("hpcbuild: warning: ") == 2 and "1.9" in err and "size" in err,
            "rc=%d err=%r" % (rc, err))
    # The project list in JSON: normalized, sorted, unique.
    path = os.path.join(tmp, "projects.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"meta": {"api-version": "1.0"}, "projects": [{"name": "Frob"}, {"name": "frob"},
                                                                {"name": "A_B.c"}]}, f)
    got, _ = cli_json(t, "projects", [path, "--url", url, "--projects", "--content-type", JSON_TYPE])
    t.check("projects", got == {"projects": ["a-b-c", "frob"]}, repr(got))


def main():
    t = Tally()
    check_saved(t)
    with tempfile.TemporaryDirectory() as tmp:
        check_hand(t, tmp)
    t.finish()


main()
