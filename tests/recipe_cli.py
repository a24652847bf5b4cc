"""`hpcbuild recipe lint / new / variants` end to end.

1. every recipe in recipes/ lints clean, and PyYAML (the oracle) reads the same name, version,
   sources and variants;
2. each lint case reports exactly the expected lines, as FILE:LINE: message; hint: fix;
3. `recipe new` on sdists made with tests/lib/pyindex.py make_sdist (with and without an
   [external] table) and on a source directory drafts a recipe that lints clean, whose
   [external] lists, name, version and sha256 match the sdist;
4. `recipe variants` prints the cartesian product, last key fastest;
5. `recipe new NAME==VERSION --index URL` on a loopback index (pyindex write_index + serve)
   drafts with the index's http URL and the sdist's sha256 (hashlib), lints clean, and the sdist
   it fetched builds (`hpcbuild build`, also as NAME==VERSION); a missing version or project is
   exit 1 naming the requirement and the index; solve options with a file SOURCE are usage.
"""
import hashlib
import glob
import os
import re
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import SOURCE, Tally, run_cli  # noqa: E402
import pyindex  # noqa: E402
from pyindex import make_sdist  # noqa: E402

t = Tally()
PROBLEM = re.compile(r"^(.+?):(\d+): (.+); hint: (.+)$")


def lint_lines(path):
    """(exit status, [(line, message)]) of `recipe lint PATH`."""
    rc, out, err = run_cli("recipe", "lint", path)
    found = []
    for line in out.splitlines():
        m = PROBLEM.match(line)
        if m and m.group(1) == path:
            found.append((int(m.group(2)), m.group(3)))
    return rc, found, out + err


# 1. the shipped recipes
recipes = sorted(glob.glob(os.path.join(SOURCE, "recipes", "*.yaml")))
t.check("recipes: present", len(recipes) >= 7, "%d recipes" % len(recipes))
for path in recipes:
    rc, out, err = run_cli("recipe", "lint", path)
    t.check("recipes: lint clean", rc == 0 and out == "%s: ok\n" % path, out + err)
    doc = yaml.safe_load(open(path))
    src = doc["source"] if isinstance(doc["source"], list) else [doc["source"]]
    t.check("recipes: url + sha256", all(re.fullmatch(r"[0-9a-f]{64}", s.get("sha256", ""))
                                         and s["url"].startswith("https://") for s in src), path)
    t.check("recipes: file name", os.path.basename(path) == doc["package"]["name"] + ".yaml", path)
    rc, out, err = run_cli("recipe", "variants", path)
    n = 1
    for values in doc.get("variants", {}).values():
        n *= len(values)
    t.check("recipes: variant count", rc == 0 and len(out.splitlines()) == n, out + err)
# the example's recipes (scripts/example builds them) lint clean too
for path in sorted(glob.glob(os.path.join(SOURCE, "examples", "recipes", "*.yaml"))):
    rc, out, err = run_cli("recipe", "lint", path)
    t.check("examples: lint clean", rc == 0 and out == "%s: ok\n" % path, out + err)

# 2. lint cases: text -> the lines that must be reported (in order) and a word of the first
HEAD = 'package:\n  name: x\n  version: "1.0"\n'
SRC = "source:\n  path: .\n"
SHA = "0" * 64
CASES = [
    (HEAD + SRC + "colour: red\n", [6], "unknown key 'colour'"),
    (HEAD + "  summary: x\n" + SRC, [4], "unknown key 'summary'"),
    (HEAD + SRC + "build:\n  envv: {}\n", [7], "unknown key 'envv'"),
    (HEAD + "source:\n  - url: https://e.org/x.tar.gz\n    sha256: %s\n" % SHA[:63], [6], "bad sha256"),
    (HEAD + "source:\n  - url: https://e.org/x.tar.gz\n    sha256: %sz\n" % SHA[:63], [6], "bad sha256"),
    (HEAD + "source:\n  url: https://e.org/x.tar.gz\n", [5], "no sha256"),
    (HEAD + "build:\n  from-source: true\n", [1], "missing source"),
    (HEAD + "source: []\n", [4], "missing source"),
    (HEAD + "source:\n  patches: [a.patch]\n", [5], "neither url nor path"),
    (HEAD + SRC + "test:\n  commands: ['make CUDA=${{ variant.cuda }}']\n", [7], "'cuda' is used but not defined"),
    (HEAD + SRC + "variants:\n  mpi: [a]\nbuild:\n  env: {X: '${{ variant.mpi }}${{ variant.blas }}'}\n",
     [9], "'blas' is used but not defined"),
    (HEAD + SRC + "external:\n  dependencies: ['dep:generic/']\n", [7], "bad DepURL"),
    (HEAD + SRC + "external:\n  build-requires:\n    - dep:virtual/compiler/c\n    - 'nodep'\n", [9], "bad DepURL"),
    (HEAD + SRC + "build:\n  requires: ['numpy>=']\n", [7], "bad build requirement"),
    (HEAD + SRC + "build:\n  env: {1X: y}\n", [7], "invalid environment variable name"),
    ('package: {name: x}\n' + SRC + 'variants: {mpi: [a]}\nfoo: 1\n', [1, 5], "missing package version"),
    ("package:\n  name: x\n  version: '1.0'\n  name: y\n" + SRC, [4], "duplicate key 'name'"),
]
with tempfile.TemporaryDirectory() as tmp:
    for i, (text, want, word) in enumerate(CASES):
        path = os.path.join(tmp, "case%d.yaml" % i)
        with open(path, "w") as f:
            f.write(text)
        rc, found, raw = lint_lines(path)
        ok = rc == 2 and [ln for ln, _ in found] == want and found and word in found[0][1]
        t.check("lint: lines", ok, "case %d: want %s (%s), got rc %d:\n%s" % (i, want, word, rc, raw))
    # several files at once: each reported, status 2 when any has a problem
    good = os.path.join(tmp, "good.yaml")
    with open(good, "w") as f:
        f.write(HEAD + SRC)
    rc, out, err = run_cli("recipe", "lint", good, os.path.join(tmp, "case0.yaml"))
    t.check("lint: several files", rc == 2 and out.startswith(good + ": ok\n") and ":6: " in out, out + err)
    rc, out, err = run_cli("recipe", "lint", os.path.join(tmp, "missing.yaml"))
    t.check("lint: unreadable", rc == 2 and "missing.yaml" in out, out + err)

    # 3. recipe new on sdists and a directory
    EXTERNAL = {"build-requires": ["dep:virtual/compiler/c", "dep:virtual/compiler/fortran"],
                "host-requires": ["dep:virtual/interface/mpi", "dep:generic/hdf5@>=1.12"],
                "dependencies": ['dep:generic/libfoo; sys_platform == "linux"']}
    dists = [("Fancy_Pkg", "2.1.0", EXTERNAL), ("plain", "0.3", None)]
    for name, version, external in dists:
        sdist = make_sdist(os.path.join(tmp, "dist"), name, version, pyproject_external=external)
        draft = sdist + ".recipe.yaml"
        rc, out, err = run_cli("recipe", "new", sdist, "-o", draft)
        t.check("new: writes", rc == 0 and out == "" and os.path.exists(draft), out + err)
        if not os.path.exists(draft):
            continue
        rc, out, err = run_cli("recipe", "lint", draft)
        t.check("new: lints clean", rc == 0, out + err + open(draft).read())
        doc = yaml.safe_load(open(draft))
        t.check("new: name/version", doc["package"] == {"name": name, "version": version}, str(doc))
        sha = hashlib.sha256(open(sdist, "rb").read()).hexdigest()
        t.check("new: source", doc["source"] == [{"path": os.path.abspath(sdist), "sha256": sha}],
                str(doc["source"]))
        t.check("new: external", doc.get("external") == external, str(doc.get("external")))
        t.check("new: test", doc["test"] == {"commands": ["python -c 'import %s'" % name.lower()]},
                str(doc["test"]))
        rc, out, err = run_cli("recipe", "new", sdist)
        t.check("new: stdout", rc == 0 and out == open(draft).read(), out + err)
    srcdir = os.path.join(tmp, "srcdir")
    os.makedirs(srcdir)
    with open(os.path.join(srcdir, "pyproject.toml"), "w") as f:
        f.write('[project]\nname = "dirpkg"\nversion = "5.0"\n\n[external]\n'
                'host-requires = ["dep:virtual/interface/blas"]\n')
    rc, out, err = run_cli("recipe", "new", srcdir, "-o", os.path.join(tmp, "dir.yaml"))
    rc2, out2, err2 = run_cli("recipe", "lint", os.path.join(tmp, "dir.yaml"))
    doc = yaml.safe_load(open(os.path.join(tmp, "dir.yaml"))) if rc == 0 else {}
    t.check("new: directory", rc == 0 and rc2 == 0 and doc["source"] == [{"path": srcdir}]
            and doc["external"] == {"host-requires": ["dep:virtual/interface/blas"]},
            out + err + out2 + err2)
    rc, out, err = run_cli("recipe", "new", os.path.join(tmp, "nothing.tar.gz"))
    t.check("new: missing source", rc == 1 and "nothing.tar.gz" in err, out + err)

    # 4. variants
    path = os.path.join(tmp, "var.yaml")
    with open(path, "w") as f:
        f.write(HEAD + SRC + 'variants:\n  mpi: [openmpi, mpich]\n  cuda: ["12", "13"]\n'
                "build:\n  env: {MPI: '${{ variant.mpi }}'}\n")
    rc, out, err = run_cli("recipe", "variants", path)
    t.check("variants: product", rc == 0 and out == "mpi=openmpi cuda=12\nmpi=openmpi cuda=13\n"
            "mpi=mpich cuda=12\nmpi=mpich cuda=13\n", out + err)
    rc, out, err = run_cli("recipe", "variants", good)
    t.check("variants: none", rc == 0 and out == "(default)\n", out + err)

# 5. recipe new NAME==VERSION on a loopback index
with tempfile.TemporaryDirectory() as tmp:
    sdists = [make_sdist(os.path.join(tmp, "dist"), "Index_Pkg", v) for v in ("1.0", "1.1")]
    pyindex.write_index(os.path.join(tmp, "root", "idx"), sdists)
    base, stop, _ = pyindex.serve(os.path.join(tmp, "root"))
    env = dict(pyindex.no_proxy_env(), HPCBUILD_CACHE=os.path.join(tmp, "cache"))
    index = base + "/idx/simple/"
    solve = ["--index", index, "--python", "/usr/bin/python3", "--site", "none"]
    try:
        draft = os.path.join(tmp, "index_pkg.yaml")
        rc, out, err = run_cli("recipe", "new", "index-pkg==1.0", *solve, "-o", draft, env=env)
        t.check("index: writes", rc == 0 and out == "" and os.path.exists(draft), out + err)
        doc = yaml.safe_load(open(draft)) if os.path.exists(draft) else {}
        sha = hashlib.sha256(open(sdists[0], "rb").read()).hexdigest()
        t.check("index: source", doc.get("source") == [
            {"url": base + "/idx/files/index_pkg-1.0.tar.gz", "sha256": sha}], str(doc.get("source")))
        t.check("index: name/version", doc.get("package") == {"name": "Index_Pkg", "version": "1.0"},
                str(doc.get("package")))
        rc, out, err = run_cli("recipe", "lint", draft)
        t.check("index: lints clean", rc == 0 and out == "%s: ok\n" % draft, out + err)
        rc, out, err = run_cli("recipe", "new", "Index.Pkg==1.1", *solve, env=env)
        t.check("index: stdout", rc == 0 and "index_pkg-1.1.tar.gz" in out and
                hashlib.sha256(open(sdists[1], "rb").read()).hexdigest() in out, out + err)
        # the sdist it fetched (in the package cache, same bytes) builds as is
        fetched = glob.glob(os.path.join(tmp, "cache", "**", "index_pkg-1.0.tar.gz"), recursive=True)
        t.check("index: fetched", len(fetched) == 1 and all(
            hashlib.sha256(open(f, "rb").read()).hexdigest() == sha for f in fetched), str(fetched))
        wheels = os.path.join(tmp, "wheels")
        for source in fetched[:1] + ["index-pkg==1.0"]:
            rc, out, err = run_cli("build", source, "--python", "/usr/bin/python3", "--site", "none",
                                   "-o", wheels, *(["--index", index] if "==" in source else []), env=env)
            t.check("index: builds", rc == 0 and
                    out.strip().lower().endswith("index_pkg-1.0-py3-none-any.whl"),
                    source + ": " + out + err[-2000:])
        for missing in ("index-pkg==9.9", "nothere==1.0"):
            rc, out, err = run_cli("recipe", "new", missing, *solve, env=env)
            t.check("index: missing", rc == 1 and out == "" and "no sdist of %s" % missing in err
                    and index in err, out + err)
        rc, out, err = run_cli("recipe", "new", "index-pkg==1.0", "--site", "none", env=env)
        t.check("index: no index", rc == 1 and "give --index" in err, out + err)
        rc, out, err = run_cli("recipe", "new", sdists[0], "--index", index, env=env)
        t.check("index: options need NAME==VERSION", rc == 2 and "--index" in err, out + err)
    finally:
        stop()

rc, out, err = run_cli("recipe")
t.check("usage", rc == 2 and "usage" in err, out + err)
rc, out, err = run_cli("recipe", "new", "a.tar.gz", "--bogus")
t.check("usage: unknown option", rc == 2 and "--bogus" in err, out + err)
t.finish()
