"""Sdists and PEP 725/804 end to end, against plain Python readings of the same files.

1. sdists written here with tarfile/zipfile (PKG-INFO 2.1 and 2.2, Dynamic, with and
   without pyproject [external] in both key spellings, old pkg:/virtual: DepURLs) read
   with `hpcbuild sdist-info` and compared with email.parser + tomllib;
2. every testdata/external/rgommers-external-deps-build file read with
   `hpcbuild sdist-info FILE.toml` (hb_external_from_pyproject) and compared with tomllib;
   the two spellings of each project must agree;
3. `hpcbuild mapping external` for every DepURL in registry.json and every category,
   compared with a direct reading of conda-forge.mapping.json and registry.json
   (first entry wins, specs_from, registry aliases and virtual providers, Jinja -> run).
"""
import email.parser
import io
import json
import os
import sys
import tarfile
import tempfile
import tomllib
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import SOURCE, Tally, json_line, run_cli, testdata  # noqa: E402

t = Tally()
CATEGORIES = ("build", "host", "run")
DEP_FIELDS = ("requires-dist", "requires-python", "requires-external", "provides-extra")
OLD = {"build-host-requires": "host-requires",
       "optional-build-host-requires": "optional-host-requires"}


def norm_depurl(s):
    """The DepURL forms of these tests, normalized the way PEP 725 tools do."""
    dep, sep, marker = s.partition(";")
    dep = dep.strip()
    if dep.startswith("pkg:"):
        dep = "dep:" + dep[4:]
    elif dep.startswith("virtual:"):
        dep = "dep:virtual/" + dep[8:]
    if dep == "dep:virtual/compiler/cpp":
        dep = "dep:virtual/compiler/cxx"
    if dep.startswith(("dep:github/", "dep:pypi/")):
        dep = dep.lower()
    return dep + ("; " + marker.strip() if sep else "")


def norm_name(s):
    import re
    return re.sub(r"[-_.]+", "-", s).lower()


def expected_external(doc):
    """[external] of a parsed pyproject, as sdist-info prints it."""
    ext = {OLD.get(k, k): v for k, v in doc.get("external", {}).items()}
    out = {}
    for k in ("build-requires", "host-requires", "dependencies"):
        out[k] = [norm_depurl(s) for s in ext.get(k, [])]
    for k in ("optional-build-requires", "optional-host-requires", "optional-dependencies"):
        out[k] = {norm_name(x): [norm_depurl(s) for s in v] for x, v in ext.get(k, {}).items()}
    groups = {norm_name(g): v for g, v in ext.get("dependency-groups", {}).items()}

    def expand(g):
        res = []
        for item in groups[g]:
            res += expand(norm_name(item["include-group"])) if isinstance(item, dict) else [norm_depurl(item)]
        return res
    out["dependency-groups"] = {g: expand(g) for g in groups}
    return out


# ---- 2. the rgommers corpus -------------------------------------------------
corpus = testdata("external", "rgommers-external-deps-build")
by_project = {}
for spelling in ("host-requires-syntax", "build-host-requires-syntax"):
    folder = os.path.join(corpus, spelling)
    for fn in sorted(os.listdir(folder)):
        path = os.path.join(folder, fn)
        with open(path, "rb") as f:
            doc = tomllib.load(f)
        want = expected_external(doc)
        rc, out, err = run_cli("sdist-info", path)
        got = json_line(out)
        t.check("corpus: [external] as tomllib reads it", rc == 0 and got == {"external": want},
                "%s: rc=%d out=%s err=%s want=%s" % (path, rc, out, err, want))
        old = any(k in doc.get("external", {}) for k in OLD)
        t.check("corpus: old spelling warns, current does not",
                ("pre-2025 spelling" in err) == old and (err == "") == (not old), "%s: %r" % (path, err))
        by_project.setdefault(fn, []).append(out)
for fn, outs in sorted(by_project.items()):
    t.check("corpus: both spellings agree", len(outs) == 2 and outs[0] == outs[1], fn)


# ---- 1. sdists written here ----------------------------------------------------
def pkg_info(version, dynamic=(), extra=""):
    text = "Metadata-Version: %s\nName: demo\nVersion: 1.0\nRequires-Python: >=3.9\n" % version
    text += "Requires-Dist: numpy>=1.26\nRequires-Dist: rich; extra == 'cli'\nProvides-Extra: cli\n"
    text += "".join("Dynamic: %s\n" % d for d in dynamic) + extra + "\nA description.\n"
    return text


PYPROJECTS = {
    "none": None,
    "no-external": "[build-system]\nrequires = ['setuptools>=61', 'wheel']\n",
    "current": ("[build-system]\nrequires = ['meson-python']\n[external]\n"
                "build-requires = ['dep:virtual/compiler/c', 'dep:generic/ninja']\n"
                "host-requires = ['dep:virtual/interface/blas', \"dep:generic/openssl; os_name == 'posix'\"]\n"
                "dependencies = ['dep:generic/git']\n"
                "[external.optional-dependencies]\nNat = ['dep:cran/nat']\n"
                "[external.dependency-groups]\ndev = ['dep:generic/gdb', {include-group = 'Test'}]\n"
                "test = ['dep:generic/valgrind']\n"),
    "old-spelling": ("[build-system]\nrequires = []\n[external]\nbuild-requires = ['dep:generic/cmake']\n"
                     "build-host-requires = ['dep:generic/zlib']\n"
                     "[external.optional-build-host-requires]\nimg = ['dep:generic/libjpeg']\n"),
    "old-depurls": ("[external]\nbuild-requires = ['virtual:compiler/cpp', 'pkg:generic/cmake']\n"
                    "host-requires = ['virtual:interface/lapack', 'pkg:github/Kitware/CMake']\n"),
}
METADATA = {
    "2.1": pkg_info("2.1"),
    "2.2": pkg_info("2.2", ["Classifier"]),
    "2.2-dynamic-deps": pkg_info("2.2", ["Requires-Dist"]),
    "2.4-dynamic-python": pkg_info("2.4", ["requires-python", "License-File"]),
    "2.2-external": pkg_info("2.2", [], "Requires-External: libpng (>=1.5)\n"),
    "none": None,
}


def write_sdist(path, kind, members):
    if kind == "zip":
        with zipfile.ZipFile(path, "w") as z:
            for name, data in members:
                z.writestr(name, data)
        return
    mode = {"tar.gz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz"}[kind]
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as tf:
        d = tarfile.TarInfo("demo-1.0")
        d.type = tarfile.DIRTYPE
        tf.addfile(d)
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


def expected_sdist(md_text, pp_text):
    want = {"top": "demo-1.0", "has_pkg_info": md_text is not None, "metadata_version": None,
            "name": None, "version": None, "static_deps": False, "requires_dist": None,
            "requires_python": None, "provides_extra": None, "dynamic": None,
            "has_pyproject": pp_text is not None, "build_requires": None,
            "external": expected_external({})}
    if md_text is not None:
        msg = email.parser.Parser().parsestr(md_text)
        mv = msg["Metadata-Version"]
        dyn = msg.get_all("Dynamic") or []
        want.update(metadata_version=mv, name=msg["Name"], version=msg["Version"],
                    requires_dist=msg.get_all("Requires-Dist"), requires_python=msg["Requires-Python"],
                    provides_extra=msg.get_all("Provides-Extra"), dynamic=dyn or None,
                    static_deps=tuple(map(int, mv.split("."))) >= (2, 2)
                    and not any(d.lower() in DEP_FIELDS for d in dyn))
    if pp_text is not None:
        doc = tomllib.loads(pp_text)
        want["build_requires"] = doc.get("build-system", {}).get("requires")
        want["external"] = expected_external(doc)
    return want


with tempfile.TemporaryDirectory() as tmp:
    n = 0
    for kind in ("tar.gz", "zip", "tar.bz2", "tar.xz"):
        for md_key, md_text in METADATA.items():
            for pp_key, pp_text in PYPROJECTS.items():
                members = [("demo-1.0/README.md", b"hello\n")]
                if md_text is not None:
                    members.append(("demo-1.0/PKG-INFO", md_text.encode()))
                if pp_text is not None:
                    members.append(("demo-1.0/pyproject.toml", pp_text.encode()))
                members.append(("demo-1.0/src/PKG-INFO", b"Metadata-Version: 1.0\n\n"))
                path = os.path.join(tmp, "demo-%d.%s" % (n, kind))
                n += 1
                write_sdist(path, kind, members)
                rc, out, err = run_cli("sdist-info", path)
                want = expected_sdist(md_text, pp_text)
                t.check("sdist: fields as email.parser and tomllib read them", rc == 0 and json_line(out) == want,
                        "%s %s/%s: rc=%d err=%s\n got %s\nwant %s" % (kind, md_key, pp_key, rc, err, out,
                                                                     json.dumps(want)))
                old = pp_key in ("old-spelling", "old-depurls")
                t.check("sdist: warnings for old spellings only", (err != "") == old, "%s %s: %r" % (kind, pp_key, err))
    # invalid sdists: status 2 and one line naming the file
    bad = [
        ("two-tops.tar.gz", [("a-1/PKG-INFO", b"Metadata-Version: 2.2\nName: a\nVersion: 1\n\n"),
                             ("b-1/x", b"")], "exactly one top-level directory"),
        ("bad-external.tar.gz", [("demo-1.0/pyproject.toml", b"[external]\nhost = []\n")],
         "pyproject.toml:2:8: unknown key external.host"),
        ("bad-depurl.zip", [("demo-1.0/pyproject.toml", b"[external]\nbuild-requires = ['dep:x']\n")],
         "pyproject.toml:2:19: external.build-requires[0]"),
    ]
    for name, members, want in bad:
        path = os.path.join(tmp, name)
        write_sdist(path, "zip" if name.endswith(".zip") else "tar.gz", members)
        rc, out, err = run_cli("sdist-info", path)
        t.check("sdist: invalid content fails with status 2 naming the file",
                rc == 2 and out == "" and len(err.splitlines()) == 1 and path in err and want in err,
                "%s: rc=%d err=%r" % (name, rc, err))


# ---- 3. PEP 804 mapping --------------------------------------------------------
data = os.path.join(SOURCE, "data", "external")
with open(os.path.join(data, "conda-forge.mapping.json")) as f:
    mapping = json.load(f)
with open(os.path.join(data, "registry.json")) as f:
    registry = json.load(f)
for shipped in ("conda-forge.mapping.json", "registry.json"):
    with open(os.path.join(data, shipped), "rb") as a, \
            open(testdata("external", "external-metadata-mappings", "data", shipped), "rb") as b:
        t.check("data: shipped copy equals the upstream file", a.read() == b.read(), shipped)


def as_list(v):
    return [v] if isinstance(v, str) else list(v)


def entry_specs(entry):
    while "specs_from" in entry:
        entry = next(e for e in mapping["mappings"] if e["id"] == entry["specs_from"])
    s = entry["specs"]
    if isinstance(s, dict):
        return {c: as_list(s[c]) for c in CATEGORIES}
    return {c: as_list(s) for c in CATEGORIES}


def resolve(depurl, category, stack=()):
    """None when unmapped, else the list of specs (first entry wins)."""
    if depurl in stack or len(stack) >= 16:
        return None
    stack = stack + (depurl,)
    entry = next((e for e in mapping["mappings"] if e["id"] == depurl), None)
    if entry is not None:
        specs = entry_specs(entry)
        if any(specs.values()):
            chosen = specs[category]
            return specs["run"] if any("{{" in s for s in chosen) else chosen
    defs = registry["definitions"]
    for d in defs:
        if d["id"] == depurl and "provides" in d:
            provides = as_list(d["provides"])
            for p in provides:
                if not p.startswith("dep:virtual/"):
                    r = resolve(p, category, stack)
                    if r is not None:
                        return r
            union = None
            for p in provides:
                if p.startswith("dep:virtual/"):
                    r = resolve(p, category, stack)
                    if r is not None:
                        union = (union or []) + [s for s in r if s not in (union or [])]
            return union
    if depurl.startswith("dep:virtual/"):
        for d in defs:
            if depurl in as_list(d.get("provides", [])):
                r = resolve(d["id"], category, stack)
                if r is not None:
                    return r
    return None


ids = [d["id"] for d in registry["definitions"]]
for category in CATEGORIES:
    rc, out, err = run_cli("mapping", "external", "--json", "--category", category, *ids)
    got = json_line(out)
    t.check("mapping: the command answers", rc == 0 and got is not None, "%s: rc=%d err=%s" % (category, rc, err))
    for i in ids:
        want = resolve(i, category)
        t.check("mapping: registry DepURL as a direct reading of the JSON", got and got.get(i) == want,
                "%s %s: got %s want %s" % (category, i, got and got.get(i), want))

VERSIONED = [
    ("dep:generic/zlib@>=1.2.13", "host", ["zlib>=1.2.13"]),
    ("dep:generic/cmake@>=3.20,<4", "build", ["cmake<4,>=3.20"]),
    ("dep:virtual/interface/blas@>=3.9", "host", ["libblas >=3.9 *_netlib"]),
    ("dep:virtual/interface/lapack@>=3.7.1", "run", ["liblapack>=3.7.1", "liblapacke>=3.7.1"]),
    ("dep:generic/ninja@1.11.1", "build", ["ninja==1.11.1"]),
    ("virtual:compiler/cpp", "build", ["cxx-compiler"]),
    ("pkg:generic/openssl; os_name == 'posix'", "run", ["openssl"]),
    ("dep:virtual/interface/mpi", "host", None),
    ("dep:generic/not-in-the-registry", "host", None),
]
for depurl, category, want in VERSIONED:
    rc, out, err = run_cli("mapping", "external", "--json", "--category", category, depurl)
    got = json_line(out)
    t.check("mapping: versions become conda constraints", rc == 0 and got == {depurl: want},
            "%s: rc=%d out=%s err=%s" % (depurl, rc, out, err))
rc, out, err = run_cli("mapping", "external", "dep:generic/zlib", "dep:virtual/interface/mpi")
t.check("mapping: text output", rc == 0 and out == "dep:generic/zlib\tzlib\ndep:virtual/interface/mpi\t(no mapping)\n",
        repr(out))
rc, out, err = run_cli("mapping", "external", "dep:")
t.check("mapping: invalid DepURL is status 2", rc == 2 and len(err.splitlines()) == 1, repr(err))


# ---- conda <-> PyPI names --------------------------------------------------------
with open(os.path.join(SOURCE, "data", "name-mapping", "compressed_mapping.json")) as f:
    names = json.load(f)
samples = ["numpy", "airflow", "_openmp_mutex", "matplotlib-base", "pytorch", "msgpack-python"]
for conda in samples:
    rc, out, err = run_cli("mapping", "show", conda, env={"HPCBUILD_CACHE": tempfile.gettempdir() + "/hb-none"})
    pypi = names.get(conda, "(missing)")
    line = "conda %s -> PyPI %s" % (conda, pypi if pypi is not None else "(not a Python package)")
    t.check("names: mapping show, conda direction", rc == 0 and line in out.splitlines(), "%s: %r" % (conda, out))
for pypi in ["matplotlib", "torch", "msgpack", "apache-airflow"]:
    want = [c for c, p in names.items() if p is not None and norm_name(p) == pypi]
    rc, out, err = run_cli("mapping", "show", pypi, env={"HPCBUILD_CACHE": tempfile.gettempdir() + "/hb-none"})
    line = "PyPI %s -> conda %s" % (pypi, ", ".join(want))
    t.check("names: mapping show, PyPI direction", (not want or line in out.splitlines()), "%s: %r want %r" % (pypi, out, line))

t.finish()
