"""The Python index fixtures (tests/lib/pyindex.py) are real: Debian's pip 23.0 resolves a small
graph from them (JSON and HTML forms, find-links), every wheel passes a zip test and a RECORD
check, the C-extension wheel imports, the MPI one runs under mpirun, and the loopback server
negotiates PEP 691 content types as specified.

The graph: app 1.0 needs foo-bar[x], fastmod>=2 (a C extension) and slow-pkg (an sdist only,
built by pip without isolation against Debian's setuptools); foo-bar's extra x needs baz>=1.0;
slow-pkg needs baz<2.  baz 1.1 is yanked and foo-bar 1.2 requires Python >=4, so the answer is
app 1.0, foo-bar 1.1, baz 1.0, fastmod 2.0, slow-pkg 3.0.
"""
import base64
import csv
import hashlib
import html.parser
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import pyindex  # noqa: E402
from hbtest import Tally  # noqa: E402

PY = pyindex.TARGET_PYTHON
EXPECTED = {"app": "1.0", "foo-bar": "1.1", "baz": "1.0", "fastmod": "2.0", "slow-pkg": "3.0"}
PIP_ACCEPT = ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1,"
              " text/html; q=0.01")
EXTERNAL = {"build-requires": ["dep:virtual/compiler/c"],
            "host-requires": ["dep:virtual/interface/mpi"],
            "optional-dependencies": {"gui": ["dep:generic/qt"]}}

t = Tally()
tmp = tempfile.mkdtemp(prefix="hb-pyindex-")
dist_dir = os.path.join(tmp, "dists")


def build_dists():
    W = pyindex.make_wheel
    dists = [
        W(dist_dir, "app", "1.0", requires_dist=["foo-bar[x]", "fastmod>=2", "slow-pkg"]),
        W(dist_dir, "foo-bar", "1.0", requires_python=">=3.8"),
        W(dist_dir, "foo-bar", "1.1", requires_python=">=3.8", provides_extra=["x"],
          requires_dist=['baz>=1.0; extra == "x"']),
        W(dist_dir, "foo-bar", "1.2", requires_python=">=4"),
        W(dist_dir, "baz", "0.9"), W(dist_dir, "baz", "1.0"), W(dist_dir, "baz", "1.1"),
        pyindex.make_sdist(dist_dir, "slow-pkg", "3.0", requires_dist=["baz<2"],
                           dynamic=["Requires-External-Dep"], pyproject_external=EXTERNAL),
    ]
    ext = pyindex.make_ext_wheel(dist_dir, "fastmod", "2.0")
    mpi = pyindex.make_ext_wheel(dist_dir, "mpimod", "0.1", mpi=True,
                                 requires_external=["dep:virtual/interface/mpi"])
    return dists, ext, mpi


def check_wheel(path):
    """zipfile -t, the file name, and RECORD: every member listed with its hash and size."""
    name = os.path.basename(path)
    proc = subprocess.run([PY, "-m", "zipfile", "-t", path], capture_output=True, text=True)
    t.check("wheel zip test", proc.returncode == 0, "%s: %s" % (name, proc.stderr))
    m = re.fullmatch(r"([a-z0-9_]+)-([^-]+)(-\d[^-]*)?-([^-]+)-([^-]+)-([^-]+)\.whl", name)
    t.check("wheel file name", m is not None, name)
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    dist_info = "%s-%s.dist-info/" % (m.group(1), m.group(2)) if m else "?"
    rows = list(csv.reader(io.StringIO(members.get(dist_info + "RECORD", b"").decode())))
    listed = {r[0]: r for r in rows}
    t.check("wheel dist-info", all(dist_info + f in members for f in ("METADATA", "WHEEL", "RECORD")),
            "%s: %s" % (name, sorted(members)))
    t.check("RECORD lists every member", set(listed) == set(members),
            "%s: %s vs %s" % (name, sorted(listed), sorted(members)))
    for arc, data in members.items():
        if arc == dist_info + "RECORD":
            t.check("RECORD row of RECORD", listed[arc][1:] == ["", ""], repr(listed.get(arc)))
            continue
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        t.check("RECORD hash and size", listed.get(arc, [None] * 3)[1:] == [
            "sha256=" + digest, str(len(data))], "%s %s" % (name, arc))
    wheel = pyindex.metadata_fields(members.get(dist_info + "WHEEL", b""))
    t.check("WHEEL tag", wheel.get("Tag") == ["%s-%s-%s" % m.group(4, 5, 6)] if m else False,
            "%s: %s" % (name, wheel))


def check_sdist(path):
    with tarfile.open(path) as tar:
        names = tar.getnames()
        tops = {n.split("/")[0] for n in names}
        t.check("sdist one top dir", tops == {"slow_pkg-3.0"}, repr(names))
        pkg_info = tar.extractfile("slow_pkg-3.0/PKG-INFO").read()
        pyproject = tomllib.loads(tar.extractfile("slow_pkg-3.0/pyproject.toml").read().decode())
    fields = pyindex.metadata_fields(pkg_info)
    t.check("sdist PKG-INFO", fields.get("Metadata-Version") == ["2.2"]
            and fields.get("Requires-Dist") == ["baz<2"]
            and fields.get("Dynamic") == ["Requires-External-Dep"]
            and fields.get("Provides-External-Extra") == ["gui"]
            and fields.get("Requires-External-Dep") == ['dep:generic/qt; extra == "gui"'], repr(fields))
    t.check("sdist [external]", pyproject.get("external") == EXTERNAL, repr(pyproject))
    t.check("sdist build-system", pyproject["build-system"]["build-backend"] == "setuptools.build_meta",
            repr(pyproject))


class Anchors(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.anchors = []
        self.meta = {}

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.anchors.append(dict(attrs))
        elif tag == "meta":
            a = dict(attrs)
            self.meta[a.get("name")] = a.get("content")


def check_index(root, yanked):
    """Every project page in both forms agrees with the files on disk."""
    simple = os.path.join(root, "simple")
    with open(os.path.join(simple, "index.json")) as f:
        listing = json.load(f)
    projects = [p["name"] for p in listing["projects"]]
    t.check("index project list", projects == sorted(set(EXPECTED) | {"mpimod"}), repr(projects))
    for project in projects:
        page = os.path.join(simple, project)
        with open(os.path.join(page, "index.json")) as f:
            doc = json.load(f)
        p = Anchors()
        with open(os.path.join(page, "index.html")) as f:
            p.feed(f.read())
        t.check("json page meta", doc["meta"] == {"api-version": "1.1"} and doc["name"] == project,
                repr(doc["meta"]))
        t.check("html repository-version", p.meta.get("pypi:repository-version") == "1.1", repr(p.meta))
        t.check("html and json list the same files",
                [a["href"].split("#")[0] for a in p.anchors] == [f["url"] for f in doc["files"]], project)
        for f, a in zip(doc["files"], p.anchors):
            path = os.path.join(page, f["url"])
            with open(path, "rb") as fh:
                data = fh.read()
            sha = hashlib.sha256(data).hexdigest()
            t.check("hashes and size", f["hashes"] == {"sha256": sha} and f["size"] == len(data)
                    and a["href"].endswith("#sha256=" + sha), f["filename"])
            version = pyindex.metadata_fields(pyindex.read_metadata(path))["Version"][0]
            t.check("versions", version in doc["versions"], f["filename"])
            t.check("requires-python", f["requires-python"] == a.get("data-requires-python"),
                    "%s: %r %r" % (f["filename"], f["requires-python"], a))
            want_yank = yanked.get(f["filename"], False)
            t.check("yanked", f["yanked"] == want_yank and a.get("data-yanked") == (
                None if want_yank is False else want_yank if isinstance(want_yank, str) else ""),
                "%s: %r %r" % (f["filename"], f["yanked"], a))
            if f["filename"].endswith(".whl"):
                with open(path + ".metadata", "rb") as fh:
                    meta = fh.read()
                h = hashlib.sha256(meta).hexdigest()
                t.check("PEP 658 file", meta == pyindex.read_metadata(path)
                        and f["core-metadata"] == {"sha256": h}
                        and a.get("data-core-metadata") == "sha256=" + h
                        and a.get("data-dist-info-metadata") == "sha256=" + h, f["filename"])
            else:
                t.check("no PEP 658 for sdists", "core-metadata" not in f
                        and not os.path.exists(path + ".metadata"), f["filename"])


def check_negotiation(base):
    url = base + "/simple/foo-bar/"
    cases = [
        (None, 200, "text/html"),
        ("", 200, "text/html"),
        (PIP_ACCEPT, 200, "application/vnd.pypi.simple.v1+json"),
        ("application/vnd.pypi.simple.latest+json", 200, "application/vnd.pypi.simple.v1+json"),
        ("application/vnd.pypi.simple.v1+html", 200, "application/vnd.pypi.simple.v1+html"),
        ("application/vnd.pypi.simple.latest+html", 200, "application/vnd.pypi.simple.v1+html"),
        ("text/html", 200, "text/html"),
        ("*/*", 200, "text/html"),
        ("application/vnd.pypi.simple.v1+json;q=0.2, text/html;q=0.5", 200, "text/html"),
        ("text/html;q=0.5, application/vnd.pypi.simple.v1+json;q=0.9", 200,
         "application/vnd.pypi.simple.v1+json"),
        ("application/vnd.pypi.simple.v1+json, text/html", 200, "application/vnd.pypi.simple.v1+json"),
        ("text/html, application/vnd.pypi.simple.v1+json", 200, "text/html"),
        ("*/*;q=0.1, application/vnd.pypi.simple.v1+json", 200, "application/vnd.pypi.simple.v1+json"),
        ("application/json", 406, None),
        ("image/png, text/plain", 406, None),
        ("text/html;q=0, application/vnd.pypi.simple.v1+json;q=0", 406, None),
        ("application/vnd.pypi.simple.v2+json", 406, None),
    ]
    for accept, status, ctype in cases:
        headers = {} if accept is None else {"Accept": accept}
        got_status, got_headers, body = pyindex.http_get(url, headers)
        got_type = got_headers.get("Content-Type") if got_status == 200 else None
        t.check("negotiation", (got_status, got_type) == (status, ctype),
                "Accept %r: %s %s, expected %s %s" % (accept, got_status, got_type, status, ctype))
        if got_status == 200:
            is_json = body.startswith(b"{")
            t.check("negotiated body", is_json == ctype.endswith("+json"), repr(accept))
    for accept, status, ctype in [(PIP_ACCEPT, 200, "application/vnd.pypi.simple.v1+html"),
                                  ("text/html;q=0.5, application/vnd.pypi.simple.v1+html;q=0.1",
                                   200, "text/html"),
                                  ("application/vnd.pypi.simple.v1+json", 406, None),
                                  ("application/vnd.pypi.simple.v1+html", 200,
                                   "application/vnd.pypi.simple.v1+html")]:
        got_status, got_headers, _ = pyindex.http_get(url + "?html_only=1", {"Accept": accept})
        got_type = got_headers.get("Content-Type") if got_status == 200 else None
        t.check("negotiation html_only", (got_status, got_type) == (status, ctype),
                "Accept %r: %s %s" % (accept, got_status, got_type))
    status, headers, _ = pyindex.http_get(base + "/simple/")
    t.check("negotiation root page", status == 200 and headers.get("Content-Type") == "text/html", status)
    status, headers, _ = pyindex.http_get(base + "/files/")
    t.check("no negotiation without index files", status == 404, status)
    etag_status, headers, _ = pyindex.http_get(base + "/files/app-1.0-py3-none-any.whl")
    t.check("files keep their ETag", etag_status == 200 and headers.get("ETag")
            and headers.get("Content-Type") is None, repr(dict(headers)))


def pip(*args):
    return subprocess.run([PY, "-m", "pip", *args], capture_output=True, text=True,
                          env=pyindex.pip_env(), timeout=120)


def resolve(what, source_args, **changed):
    """pip install --dry-run --report - app; checks the resolution (EXPECTED, with the
    versions in changed)."""
    proc = pip("install", "--dry-run", "--report", "-", "--quiet", "--no-cache-dir",
               "--ignore-installed", "--no-build-isolation", *source_args, "app")
    got = {}
    if proc.returncode == 0:
        got = {i["metadata"]["name"]: i["metadata"]["version"]
               for i in json.loads(proc.stdout)["install"]}
    t.check("pip resolves " + what, {pyindex.normalize(k): v for k, v in got.items()} == dict(EXPECTED, **changed),
            "%s: rc %d, %r\n%s" % (what, proc.returncode, got, proc.stderr[-1500:]))


def install_and_import(base, target, module, expect, mpirun=None):
    proc = pip("install", "--quiet", "--no-cache-dir", "--no-deps", "--target", target,
               "--index-url", base + "/simple/", module)
    t.check("pip installs " + module, proc.returncode == 0, proc.stderr[-1500:])
    env = dict(pyindex.no_proxy_env(), PYTHONPATH=target)
    cmd = [PY, "-c", "import %s; print(%s.answer())" % (module, module)]
    outdir = None
    if mpirun:
        # each rank writes its own file: mpirun interleaves the ranks' stdout byte by byte
        outdir = tempfile.mkdtemp(prefix="hb-mpi-out-")
        cmd = [mpirun, "--allow-run-as-root", "--oversubscribe", "-n", "2", PY, "-c",
               "import os, %s; open(os.path.join(%r, 'rank' + os.environ['OMPI_COMM_WORLD_RANK']), 'w')"
               ".write(%s.answer())" % (module, outdir, module)]
        env.update(OMPI_MCA_btl_vader_single_copy_mechanism="none", OMPI_MCA_rmaps_base_oversubscribe="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    if outdir:
        lines = []
        for name in sorted(os.listdir(outdir)):
            with open(os.path.join(outdir, name)) as f:
                lines.append(f.read().strip())
        shutil.rmtree(outdir, ignore_errors=True)
    else:
        lines = proc.stdout.strip().split("\n") if proc.stdout.strip() else []
    t.check("imports " + module, proc.returncode == 0 and lines and sorted(lines) == expect,
            "rc %d: %r %s" % (proc.returncode, lines, proc.stderr[-1500:]))


def main():
    dists, ext, mpi = build_dists()
    again = pyindex.make_wheel(os.path.join(tmp, "again"), "app", "1.0",
                               requires_dist=["foo-bar[x]", "fastmod>=2", "slow-pkg"])
    with open(again, "rb") as a, open(dists[0], "rb") as b:
        t.check("deterministic wheels", a.read() == b.read(), again)
    weird = pyindex.make_wheel(os.path.join(tmp, "weird"), "Foo.Bar_baz", "2.0", build_tag="1abc")
    t.check("escaped name and build tag", os.path.basename(weird) == "foo_bar_baz-2.0-1abc-py3-none-any.whl",
            weird)
    check_wheel(weird)
    t.check("extension wheels built", ext is not None and mpi is not None,
            "cc or mpicc missing (see stderr)")
    wheels = dists + [d for d in (ext, mpi) if d]
    for d in wheels:
        if d.endswith(".whl"):
            check_wheel(d)
    check_sdist(dists[-1])
    if ext:
        t.check("ext wheel tag", os.path.basename(ext) == "fastmod-2.0-%s.whl" % pyindex.target_python()["tag"],
                ext)
    if mpi:
        fields = pyindex.metadata_fields(pyindex.read_metadata(mpi))
        t.check("Requires-External-Dep", fields.get("Requires-External-Dep") == ["dep:virtual/interface/mpi"],
                repr(fields))

    root = os.path.join(tmp, "root")
    yanked = {"baz-1.1-py3-none-any.whl": "broken build"}
    pyindex.write_index(root, wheels, yanked=yanked)
    pyindex.write_index(os.path.join(root, "htmlonly"), wheels, json=False, yanked=yanked)
    check_index(root, yanked)
    t.check("html-only tree has no json",
            not any(f.endswith(".json") for _, _, fs in os.walk(os.path.join(root, "htmlonly")) for f in fs))
    flat = pyindex.write_find_links(os.path.join(tmp, "flat"), wheels)
    page = pyindex.write_links_page(os.path.join(tmp, "links", "index.html"), wheels)

    base, stop, log = pyindex.serve(root)
    try:
        check_negotiation(base)
        log(reset=True)
        resolve("from the JSON form", ["--index-url", base + "/simple/"])
        entries = log(reset=True)
        pages = [e for e in entries if e["path"].startswith("/simple/")]
        t.check("pip asked for JSON", pages and all("vnd.pypi.simple.v1+json" in (e["accept"] or "")
                                                    for e in pages), repr(pages[:2]))
        t.check("pip read each project page once",
                sorted(e["path"] for e in pages) == sorted("/simple/%s/" % p for p in EXPECTED),
                repr([e["path"] for e in pages]))
        resolve("from the HTML form", ["--index-url", base + "/htmlonly/simple/"])
        entries = log(reset=True)
        # pip 23.0 reads the PEP 658 file of every wheel it considers (and still downloads
        # the chosen wheels afterwards, even with --dry-run; later pips do not)
        metadata = sorted(e["path"] for e in entries if e["path"].endswith(".metadata"))
        t.check("pip used PEP 658 files (HTML)", metadata == sorted(
            "/htmlonly/files/%s.metadata" % os.path.basename(w) for w in wheels
            if re.match(r"(app-1\.0|foo_bar-1\.1|baz-1\.0|fastmod-2\.0)-", os.path.basename(w))),
            repr(metadata))
        # flat sources carry no yank flags: baz 1.1 is taken there
        resolve("from a find-links directory", ["--no-index", "--find-links", flat], baz="1.1")
        resolve("from a find-links page", ["--no-index", "--find-links", page], baz="1.1")
        target = os.path.join(tmp, "target")
        if ext:
            install_and_import(base, target, "fastmod", ["42"])
        mpirun = shutil.which("mpirun")
        if mpi and mpirun:
            install_and_import(base, target, "mpimod", ["rank 0 of 2", "rank 1 of 2"], mpirun)
        elif mpi:
            print("skipping the MPI run: no mpirun on PATH")
    finally:
        stop()
    shutil.rmtree(tmp, ignore_errors=True)
    t.finish()


main()
