"""`hpcbuild channel index DIR` end to end: wheels (pure and a compiled extension) and an sdist
made with tests/lib/pyindex.py are published as a static channel, which is then read by pip
(file:// HTML pages), by `hpcbuild install` (index.json from a local directory) and by
`hpcbuild index-page`; the pages are checked against pyindex's reference writer, channel.json
against each file's METADATA; a re-run is byte-identical; removing files and re-indexing drops
them.  `channel_index.py --bench N` times indexing N tiny synthetic wheels instead."""
import hashlib
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import pyindex  # noqa: E402
from hbtest import Tally, run_cli  # noqa: E402

PY = "/usr/bin/python3"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
T = Tally()


class Anchors(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.anchors.append(dict(attrs))


def anchors(path):
    p = Anchors()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    return p.anchors


def snapshot(root):
    """{relative path: sha256} of every file under root except the distributions."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def index(chan):
    return run_cli("channel", "index", chan)


def make_world(chan):
    files = os.path.join(chan, "files")
    os.makedirs(files)
    dists = [
        pyindex.make_wheel(files, "hbc-app", "1.0", requires_dist=["hbc-dep>=1"],
                           requires_python=">=3.8,<4"),
        pyindex.make_wheel(files, "hbc-dep", "1.0"),
        pyindex.make_wheel(files, "hbc-dep", "1.1"),
        pyindex.make_wheel(files, "Hbc.Mixed_Case", "2.0", tag="py2.py3-none-any",
                           requires_external=["dep:generic/zlib"]),
        pyindex.make_sdist(files, "hbc-src", "1.0", requires_dist=["hbc-dep"]),
    ]
    ext = pyindex.make_ext_wheel(files, "hbc-ext", "1.0")
    if ext:
        dists.append(ext)
    with open(os.path.join(files, "README.txt"), "w") as f:
        f.write("not a distribution\n")
    with open(os.path.join(files, "hbc_bad-1.0-py3-none-any.whl"), "wb") as f:
        f.write(b"this is not a zip file")
    return dists


def check_pages(chan, dists):
    simple = os.path.join(chan, "simple")
    by_project = {}
    for path in dists:
        md = pyindex.read_metadata(path)
        fields = pyindex.metadata_fields(md)
        by_project.setdefault(pyindex.normalize(fields["Name"][0]), []).append((path, md, fields))
    with open(os.path.join(simple, "index.json")) as f:
        root = json.load(f)
    T.check("pages.root-json", root == {"meta": {"api-version": "1.1"},
                                        "projects": [{"name": n} for n in sorted(by_project)]}, root)
    T.check("pages.root-html", sorted(a["href"] for a in anchors(os.path.join(simple, "index.html")))
            == [n + "/" for n in sorted(by_project)])
    for project, items in sorted(by_project.items()):
        with open(os.path.join(simple, project, "index.json")) as f:
            page = json.load(f)
        html_by_name = {}
        for a in anchors(os.path.join(simple, project, "index.html")):
            html_by_name[a["href"].split("#")[0].rsplit("/", 1)[1]] = a
        files = {f["filename"]: f for f in page["files"]}
        T.check("pages.project-name." + project, page["name"] == project and
                page["meta"] == {"api-version": "1.1"}, page)
        T.check("pages.count." + project, len(files) == len(items) == len(html_by_name),
                (sorted(files), sorted(html_by_name)))
        for path, md, fields in items:
            name = os.path.basename(path)
            data = open(path, "rb").read()
            ref = pyindex.dist_entry(name, data, md, "../../files/" + name)
            j, a = files.get(name), html_by_name.get(name)
            if j is None or a is None:
                T.check("pages.listed", False, name)
                continue
            want = pyindex._json_file(ref)
            got = {k: v for k, v in j.items() if k != "upload-time"}
            T.check("pages.json-file", got == want, (name, got, want))
            mtime = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(os.stat(path).st_mtime)))
            T.check("pages.upload-time", j.get("upload-time") == mtime, (j.get("upload-time"), mtime))
            want_a = {"href": "../../files/%s#sha256=%s" % (name, ref["sha256"])}
            if ref["requires-python"]:
                want_a["data-requires-python"] = ref["requires-python"]
            if name.endswith(".whl"):
                h = "sha256=" + hashlib.sha256(md).hexdigest()
                want_a["data-core-metadata"] = want_a["data-dist-info-metadata"] = h
                with open(path + ".metadata", "rb") as fh:
                    T.check("pep658.bytes", fh.read() == md, name)
            T.check("pages.html-anchor", a == want_a, (name, a, want_a))


def check_channel_json(chan, dists):
    with open(os.path.join(chan, "channel.json")) as f:
        doc = json.load(f)
    got = {d["filename"]: d for d in doc["distributions"]}
    T.check("channel.count", len(got) == len(dists), sorted(got))
    for path in dists:
        name = os.path.basename(path)
        d = got.get(name, {})
        fields = pyindex.metadata_fields(pyindex.read_metadata(path))
        data = open(path, "rb").read()
        tags = []
        if name.endswith(".whl"):
            tags = pyindex._expand_tag("-".join(name[:-4].split("-")[-3:]))
        want = {"name": fields["Name"][0], "normalized": pyindex.normalize(fields["Name"][0]),
                "version": fields["Version"][0], "filename": name, "url": "files/" + name,
                "kind": "wheel" if name.endswith(".whl") else "sdist", "tags": sorted(tags),
                "requires_dist": fields.get("Requires-Dist", []),
                "requires_python": (fields.get("Requires-Python") or [None])[0],
                "requires_external": fields.get("Requires-External-Dep", []),
                "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        d = dict(d, tags=sorted(d.get("tags", [])))
        T.check("channel.entry", d == want, (name, d, want))


def check_index_page(chan):
    simple = os.path.join(chan, "simple")
    rc, out, err = run_cli("index-page", os.path.join(simple, "index.html"),
                           "--url", "file://%s/" % simple, "--projects")
    T.check("index-page.projects", rc == 0 and "hbc-app" in out, out + err)
    for project in sorted(os.listdir(simple)):
        page = os.path.join(simple, project)
        if not os.path.isdir(page):
            continue
        url = "file://%s/" % page
        results = []
        for fname, ctype in (("index.html", []), ("index.json", ["--content-type", JSON_TYPE])):
            rc, out, err = run_cli("index-page", os.path.join(page, fname), "--url", url, *ctype)
            T.check("index-page.parses", rc == 0 and not err, (project, fname, out, err))
            try:
                results.append(json.loads(out))
            except ValueError:
                results.append(None)
        ok = None not in results
        if ok:
            h, j = (sorted((f["filename"], f["url"], json.dumps(f["hashes"], sort_keys=True))
                           for f in r["files"]) for r in results)
            ok = h == j and len(h) > 0
        T.check("index-page.html-equals-json", ok, (project, results))


def check_pip(chan, tmp):
    target = os.path.join(tmp, "pip-target")
    proc = subprocess.run([PY, "-m", "pip", "install", "--no-cache-dir", "--index-url",
                           "file://%s/simple" % chan, "--target", target, "hbc-app"],
                          capture_output=True, text=True, env=pyindex.pip_env())
    installed = sorted(os.listdir(target)) if os.path.isdir(target) else []
    T.check("pip.install", proc.returncode == 0 and "hbc_app.py" in installed and "hbc_dep.py" in installed
            and "hbc_dep-1.1.dist-info" in installed, (proc.stdout, proc.stderr, installed))


def check_hpcbuild_install(chan, tmp):
    prefix = os.path.join(tmp, "env")
    rc, out, err = run_cli("install", "-p", prefix, "--python", PY, "--platform", "linux-64",
                           "--site", "none", "--index", os.path.join(chan, "simple"), "pypi::hbc-app",
                           env={"HPCBUILD_CACHE": os.path.join(tmp, "cache")})
    run = subprocess.run([os.path.join(prefix, "bin", "python"), "-c",
                          "import hbc_app, hbc_dep; print(hbc_dep.__version__)"],
                         capture_output=True, text=True) if rc == 0 else None
    T.check("hpcbuild.install", rc == 0 and run.stdout == "1.1\n", (out, err, run and run.stderr))


def check_rerun_and_removal(chan, dists):
    before = snapshot(chan)
    rc, out, err = index(chan)
    T.check("rerun.byte-identical", rc == 0 and snapshot(chan) == before,
            sorted(k for k in set(before) | set(snapshot(chan)) if before.get(k) != snapshot(chan).get(k)))
    gone = [d for d in dists if os.path.basename(d) in ("hbc_dep-1.1-py3-none-any.whl",
                                                         "hbc_mixed_case-2.0-py2.py3-none-any.whl")]
    for d in gone:
        os.unlink(d)
    rc, out, err = index(chan)
    simple = os.path.join(chan, "simple")
    with open(os.path.join(simple, "hbc-dep", "index.json")) as f:
        dep = json.load(f)
    with open(os.path.join(chan, "channel.json")) as f:
        names = [d["filename"] for d in json.load(f)["distributions"]]
    T.check("remove.page-drops-file", rc == 0 and [f["filename"] for f in dep["files"]]
            == ["hbc_dep-1.0-py3-none-any.whl"] and dep["versions"] == ["1.0"], dep)
    T.check("remove.project-gone", not os.path.exists(os.path.join(simple, "hbc-mixed-case")) and
            "hbc-mixed-case" not in open(os.path.join(simple, "index.html")).read(), os.listdir(simple))
    T.check("remove.metadata-gone", not any(os.path.exists(d + ".metadata") for d in gone))
    T.check("remove.channel-json", not any(os.path.basename(d) in names for d in gone), names)
    check_pages(chan, [d for d in dists if d not in gone])


def main():
    tmp = tempfile.mkdtemp(prefix="hb-chindex-")
    try:
        chan = os.path.join(tmp, "chan")
        dists = make_world(chan)
        rc, out, err = index(chan)
        nwheels = sum(d.endswith(".whl") for d in dists)
        T.check("index.rc", rc == 0 and out == "indexed %d wheels and 1 sdists of %d projects in %s (2 skipped)\n"
                % (nwheels, nwheels, chan), (rc, out, err))
        T.check("index.notes", "files/README.txt: not a wheel or sdist file name" in err and
                "files/hbc_bad-1.0-py3-none-any.whl" in err, err)
        check_pages(chan, dists)
        check_channel_json(chan, dists)
        check_index_page(chan)
        check_pip(chan, tmp)
        check_hpcbuild_install(chan, tmp)
        check_rerun_and_removal(chan, dists)
        rc, out, err = run_cli("channel", "index", os.path.join(tmp, "missing"))
        T.check("errors.missing-dir", rc == 2 and "not a directory" in err, err)
        rc, out, err = run_cli("channel", "frobnicate")
        T.check("errors.subcommand", rc == 2 and "unknown subcommand" in err, err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    T.finish()


def bench(n):
    tmp = tempfile.mkdtemp(prefix="hb-chindex-bench-")
    try:
        files = os.path.join(tmp, "files")
        os.makedirs(files)
        for i in range(n):
            name, data = pyindex.wheel_bytes("bench-%05d" % i, "1.0", "py3-none-any",
                                             {"m.py": b"x = 1\n"},
                                             pyindex.core_metadata("bench-%05d" % i, "1.0"))
            with open(os.path.join(files, name), "wb") as f:
                f.write(data)
        t0 = time.monotonic()
        rc, out, err = index(tmp)
        dt = time.monotonic() - t0
        print("indexed %d wheels in %.2f s (rc %d): %s" % (n, dt, rc, out.strip()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--bench":
        bench(int(sys.argv[2]))
    else:
        main()
