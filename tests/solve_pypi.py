"""Mixed conda + PyPI solves through `hpcbuild solve` (issue 4's acceptance).

A loopback server (tests/lib/testserver.py) serves PEP 691 JSON and PEP 503 HTML indices built
here from wheels and sdists made here (pure Python, a C extension compiled with cc, an MPI
extension built with mpicc, an sdist with a PEP 725 [external] table), beside a local conda
channel.  Every answer is checked for what the issue promises, and the server's request log
proves that metadata is fetched only for the versions the solve needed.
"""
import json
import os
import subprocess
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import hbtest  # noqa: E402
import pyindex  # noqa: E402

T = hbtest.Tally()
PY = "/usr/bin/python3"


def solve(*args, env=None):
    rc, out, err = hbtest.run_cli("solve", "--python", PY, "--ignore-installed", *args, env=env)
    j = hbtest.json_line(out) if "--json" in args else None
    return rc, out, err, j


def picks(j):
    return {p["name"]: p for p in (j or {}).get("packages", [])}


def build_dists(d):
    w = lambda *a, **k: pyindex.make_wheel(d, *a, **k)  # noqa: E731
    s = lambda *a, **k: pyindex.make_sdist(d, *a, **k)  # noqa: E731
    dists = [
        w("hbt-pure", "1.0"), w("hbt-pure", "2.0"), s("hbt-pure", "3.0"),
        w("hbt-app", "1.0", requires_dist=["numpy>=1.22", "hbt-pure>=2; python_version >= '3'",
                                            "hbt-win; sys_platform == 'win32'",
                                            "hbt-speed>=1; extra == 'fast'"],
          provides_extra=["fast"]),
        w("hbt-speed", "1.5"),
        w("numpy", "2.1.0"), w("numpy", "1.21.0"),
        w("hbt-needs-np2", "1.0", requires_dist=["numpy>=2"]),
        w("hbt-yank", "1.0"), w("hbt-yank", "2.0"),
        w("hbt-pre", "1.0"), w("hbt-pre", "2.0b1"),
        # backtracking: 3.0 needs something that does not exist, so 2.0 is taken
        w("hbt-bt", "1.0"), w("hbt-bt", "2.0"), w("hbt-bt", "3.0", requires_dist=["hbt-nowhere>=1"]),
        w("hbt-private", "1.0"),
        w("hbt-future", "1.0", tag="cp399-cp399-linux_x86_64"),
        w("hbt-future", "0.9"),
        s("hbt-mpi", "1.0", pyproject_external={"host-requires": ["dep:virtual/interface/mpi"],
                                                 "build-requires": ["dep:virtual/compiler/c"]}),
        s("hbt-dyn", "1.0", dynamic=["Requires-Dist"]),
    ]
    ext = pyindex.make_ext_wheel(d, "hbt-cext", "1.0")
    mpiw = pyindex.make_ext_wheel(d, "hbt-mpiwheel", "1.0", mpi=True,
                                  requires_external=["dep:virtual/interface/mpi"])
    return dists + [x for x in (ext, mpiw) if x], ext, mpiw


def main():
    tmp = tempfile.mkdtemp(prefix="hb-solve-pypi-")
    cache = os.path.join(tmp, "cache")
    env = {"HPCBUILD_CACHE": cache}
    try:
        dd = os.path.join(tmp, "dists")
        os.makedirs(dd)
        dists, ext, mpiw = build_dists(dd)
        root = os.path.join(tmp, "idx")
        pyindex.write_index(root, dists, yanked={"hbt_yank-2.0-py3-none-any.whl": "broken build"})
        # a second index with a same-named project (dependency confusion) and one of its own
        evil = os.path.join(tmp, "evil-dists")
        os.makedirs(evil)
        root2 = os.path.join(tmp, "idx2")
        pyindex.write_index(root2, [pyindex.make_wheel(evil, "hbt-private", "9.9"),
                                    pyindex.make_wheel(evil, "hbt-only-b", "1.0")])
        # the same first index as HTML only
        root_html = os.path.join(tmp, "idx-html")
        pyindex.write_index(root_html, dists, json=False)
        chan = hbtest.write_channel(tmp, "ch", {
            "linux-64": [
                {"name": "python", "version": "3.11.2"},
                {"name": "numpy", "version": "1.26.4", "depends": ["python >=3.11"]},
            ],
            "noarch": [],
        })
        chan_mpich = hbtest.write_channel(tmp, "ch-mpich", {
            "linux-64": [{"name": "mpich", "version": "4.2.1"},
                         {"name": "c-compiler", "version": "1.7.0"},
                         {"name": "python", "version": "3.11.2"}],
            "noarch": [],
        })
        site = os.path.join(tmp, "site.yaml")
        with open(site, "w") as f:
            f.write("externals:\n"
                    "  - name: openmpi\n    version: 4.1.4\n"
                    "    provides: [dep:virtual/interface/mpi]\n"
                    "  - name: gcc\n    version: 12.2.0\n"
                    "    provides: [dep:virtual/compiler/c]\n")
        site_nompi = os.path.join(tmp, "site-nompi.yaml")
        with open(site_nompi, "w") as f:
            f.write("externals:\n"
                    "  - name: gcc\n    version: 12.2.0\n"
                    "    provides: [dep:virtual/compiler/c]\n")
        base, stop, log = pyindex.serve(tmp)
        try:
            run_cases(base, chan, chan_mpich, (site, site_nompi), env, log, ext, mpiw, cache)
        finally:
            stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    T.finish()


def run_cases(base, chan, chan_mpich, sites, env, log, ext, mpiw, cache):
    site, site_nompi = sites
    idx = base + "/idx/simple/"
    idx2 = base + "/idx2/simple/"
    html = base + "/idx-html/simple/"
    common = ["--platform", "linux-64", "--site", "none"]

    # 1. a conda numpy satisfies a wheel's numpy>=1.22; newest version first (an sdist)
    for label, url in (("json", idx), ("html", html)):
        rc, out, err, j = solve("--json", *common, "-c", chan, "--index", url, "pypi::hbt-app", env=env)
        p = picks(j)
        T.check("bridge." + label, rc == 0 and p.get("numpy", {}).get("origin") == "conda"
                and p["numpy"]["version"] == "1.26.4", out + err)
        T.check("bridge." + label + ".wheel", p.get("hbt-app", {}).get("origin") == "wheel"
                and p["hbt-app"]["filename"] == "hbt_app-1.0-py3-none-any.whl"
                and "sha256" in p["hbt-app"]["hashes"], out)
        T.check("bridge." + label + ".newest-sdist", p.get("hbt-pure", {}).get("version") == "3.0"
                and p["hbt-pure"]["origin"] == "sdist" and p["hbt-pure"]["build"] is True, out)
        T.check("bridge." + label + ".marker", "hbt-win" not in p and "hbt-speed" not in p, out)
        T.check("bridge." + label + ".one-numpy", sum(1 for x in j["packages"] if x["name"] == "numpy") == 1
                if j else False, out)

    # 2. extras: hbt-app[fast] pulls hbt-speed; --prefer-binary / --only-binary take the 2.0 wheel
    rc, out, err, j = solve("--json", *common, "-c", chan, "--index", idx, "pypi::hbt-app[fast]", env=env)
    T.check("extras", rc == 0 and picks(j).get("hbt-speed", {}).get("version") == "1.5", out + err)
    for opt in (["--prefer-binary"], ["--only-binary", ":all:"], ["--only-binary", "hbt_pure"]):
        rc, out, err, j = solve("--json", *common, "--index", idx, *opt, "pypi::hbt-pure", env=env)
        T.check("binary." + opt[0], rc == 0 and picks(j).get("hbt-pure", {}).get("version") == "2.0",
                out + err)
    rc, out, err, j = solve("--json", *common, "--index", idx, "--no-binary", ":all:", "pypi::hbt-pure<3",
                            env=env)
    T.check("binary.no-binary", rc == 1 and j and "hbt-pure 3.0 (sdist" in j["problems"][0], out + err)

    # 3. a conflicting wheel/conda pair is never both chosen
    rc, out, err, j = solve(*common, "-c", chan, "--index", idx, "pypi::hbt-needs-np2", "conda::numpy",
                            env=env)
    T.check("conflict", rc == 1 and "numpy 2.1.0" in err and "numpy 1.26.4" in err
            and "only one of them" in err, err)
    rc, out, err, j = solve("--json", *common, "-c", chan, "--index", idx, "pypi::hbt-needs-np2", env=env)
    p = picks(j)
    T.check("conflict.wheel-wins", rc == 0 and p.get("numpy", {}).get("origin") == "wheel"
            and p["numpy"]["version"] == "2.1.0", out + err)
    rc, out, err, j = solve("--json", *common, "-c", chan, "--index", idx, "--prefer", "wheel", "numpy",
                            env=env)
    T.check("prefer.wheel", rc == 0 and picks(j).get("numpy", {}).get("origin") == "wheel", out + err)
    rc, out, err, j = solve("--json", *common, "-c", chan, "--index", idx, "numpy", env=env)
    T.check("prefer.conda", rc == 0 and picks(j).get("numpy", {}).get("origin") == "conda", out + err)

    # 4. yanked: ignored unless pinned exactly; pre-releases only when asked or alone
    rc, out, err, j = solve("--json", *common, "--index", idx, "pypi::hbt-yank", env=env)
    T.check("yanked.skip", rc == 0 and picks(j).get("hbt-yank", {}).get("version") == "1.0", out + err)
    rc, out, err, j = solve("--json", *common, "--index", idx, "pypi::hbt-yank==2.0", env=env)
    T.check("yanked.pinned", rc == 0 and picks(j).get("hbt-yank", {}).get("yanked") == "broken build",
            out + err)
    rc, out, err, j = solve("--json", *common, "--index", idx, "pypi::hbt-yank>=2", env=env)
    T.check("yanked.range", rc == 1, out + err)
    rc, out, err, j = solve("--json", *common, "--index", idx, "pypi::hbt-pre", env=env)
    T.check("pre.final", rc == 0 and picks(j).get("hbt-pre", {}).get("version") == "1.0", out + err)
    rc, out, err, j = solve("--json", *common, "--index", idx, "--pre", "pypi::hbt-pre", env=env)
    T.check("pre.flag", rc == 0 and picks(j).get("hbt-pre", {}).get("version") == "2.0b1", out + err)

    # 5. index priority: the first index that has a name is the only one used for it
    rc, out, err, j = solve("--json", *common, "--index", idx, "--index", idx2, "pypi::hbt-private",
                            "pypi::hbt-only-b", env=env)
    p = picks(j)
    T.check("index.first", rc == 0 and p.get("hbt-private", {}).get("version") == "1.0"
            and p.get("hbt-only-b", {}).get("index") == idx2, out + err)
    rc, out, err, j = solve("--json", *common, "--index", idx, "--index", idx2, "--index-strategy",
                            "unsafe-best-match", "pypi::hbt-private", env=env)
    T.check("index.best-match", rc == 0 and picks(j).get("hbt-private", {}).get("version") == "9.9", out + err)
    rc, out, err, j = solve("--json", *common, "--index", idx, "--index", idx2, "pypi::hbt-private>5", env=env)
    T.check("index.blocked", rc == 1 and j and "hbt-private 1.0 (wheel, " + idx in j["problems"][0]
            and "9.9" not in out, out + err)

    # 6. tags and Requires-Python: a cp399 wheel is not for this interpreter
    rc, out, err, j = solve("--json", *common, "--index", idx, "pypi::hbt-future", env=env)
    T.check("tags.skip", rc == 0 and picks(j).get("hbt-future", {}).get("version") == "0.9", out + err)
    if ext:
        rc, out, err, j = solve("--json", *common, "--index", idx, "pypi::hbt-cext", env=env)
        T.check("tags.cext", rc == 0 and picks(j).get("hbt-cext", {}).get("filename")
                == os.path.basename(ext), out + err)

    # 7. PEP 725: the site's MPI satisfies dep:virtual/interface/mpi; without it, an explanation
    for spec in ["pypi::hbt-mpi"] + (["pypi::hbt-mpiwheel"] if mpiw else []):
        rc, out, err, j = solve("--json", "--platform", "linux-64", "--site", site, "--index", idx, spec,
                                env=env)
        p = picks(j)
        T.check("pep725.site." + spec, rc == 0 and p.get("openmpi", {}).get("origin") == "site"
                and "dep:virtual/interface/mpi" in p.get(spec[6:], {}).get("external", []), out + err)
        rc, out, err, j = solve("--platform", "linux-64", "--site", site_nompi, "--index", idx, spec, env=env)
        T.check("pep725.none." + spec, rc == 1 and "dep:virtual/interface/mpi" in err
                and spec[6:] in err, err)
        rc, out, err, j = solve("--json", "--platform", "linux-64", "--site", site_nompi, "-c", chan_mpich,
                                "--index", idx, spec, env=env)
        T.check("pep725.conda." + spec, rc == 0 and "mpich" in picks(j), out + err)

    # 8. sdists with dynamic dependencies are marked
    rc, out, err, j = solve("--json", *common, "--index", idx, "pypi::hbt-dyn", env=env)
    d = picks(j).get("hbt-dyn", {})
    T.check("sdist.dynamic", rc == 0 and d.get("build") is True and d.get("dynamic") is True, out + err)

    # 9. metadata only for the versions the solve needed (count the server's requests)
    shutil.rmtree(cache, ignore_errors=True)
    log(reset=True)
    rc, out, err, j = solve("--json", *common, "--index", idx, "--stats", "pypi::hbt-bt", env=env)
    entries = log()
    md = sorted(e["path"] for e in entries if e["path"].endswith(".metadata"))
    T.check("lazy.backtrack", rc == 0 and picks(j).get("hbt-bt", {}).get("version") == "2.0", out + err)
    T.check("lazy.metadata", md == ["/idx/files/hbt_bt-2.0-py3-none-any.whl.metadata",
                                    "/idx/files/hbt_bt-3.0-py3-none-any.whl.metadata"], md)
    T.check("lazy.no-wheels", not any(e["path"].endswith(".whl") for e in entries),
            [e["path"] for e in entries])
    pages = sorted(e["path"] for e in entries if e["path"].endswith("/"))
    T.check("lazy.pages", pages == ["/idx/simple/hbt-bt/", "/idx/simple/hbt-nowhere/"], pages)
    # warm: the metadata comes from the cache, keyed by hash
    log(reset=True)
    rc, out, err, j = solve("--json", *common, "--index", idx, "pypi::hbt-bt", env=env)
    entries = log()
    T.check("lazy.warm", rc == 0 and not any(e["path"].endswith(".metadata") for e in entries),
            [e["path"] for e in entries])

    # the same for an sdist: its PKG-INFO / [external] are cached by the file's sha256
    for run in ("cold", "warm"):
        log(reset=True)
        rc, out, err, j = solve("--json", *common, "--index", idx, "pypi::hbt-mpi", "--site", sites[0], env=env)
        got = [e["path"] for e in log() if e["path"].endswith(".tar.gz")]
        T.check("lazy.sdist." + run, rc == 0 and got == (["/idx/files/hbt_mpi-1.0.tar.gz"] if run == "cold" else [])
                and picks(j).get("hbt-mpi", {}).get("external") == ["dep:virtual/compiler/c",
                                                                     "dep:virtual/interface/mpi"], (got, out, err))

    # 10. find-links: a flat directory adds to every name
    fl = os.path.join(os.path.dirname(cache), "fl")
    os.makedirs(fl, exist_ok=True)
    pyindex.make_wheel(fl, "hbt-flat", "0.5", requires_dist=["hbt-pure<2"])
    rc, out, err, j = solve("--json", *common, "--index", idx, "--find-links", fl, "pypi::hbt-flat", env=env)
    p = picks(j)
    T.check("find-links", rc == 0 and p.get("hbt-flat", {}).get("version") == "0.5"
            and p.get("hbt-pure", {}).get("version") == "1.0", out + err)

    # 11. a local index (no server): index.json, else index.html, beside the files
    root_dir = os.path.join(os.path.dirname(cache), "idx")
    for label, url in (("path", root_dir + "/simple"), ("file-url", "file://" + root_dir + "/simple/"),
                       ("html", os.path.join(os.path.dirname(cache), "idx-html", "simple"))):
        rc, out, err, j = solve("--json", *common, "-c", chan, "--index", url, "pypi::hbt-app", env=env)
        p = picks(j)
        T.check("local-index." + label, rc == 0 and p.get("hbt-app", {}).get("url", "").startswith("file://")
                and p.get("hbt-pure", {}).get("version") == "3.0", out + err)

    # 12. the target Python's installed distributions are site externals
    rc, out, err = hbtest.run_cli("solve", "--python", PY, "--json", *common, "--index", idx,
                                  "pypi::packaging>=20", env=env)
    j = hbtest.json_line(out)
    T.check("site-dists", rc == 0 and picks(j).get("packaging", {}).get("origin") == "site", out + err)

    # 12b. they are cached per interpreter path with the times of its sys.path directories: a
    #     distribution added or removed is seen at once; a venv's python is not its base's
    venv = os.path.join(os.path.dirname(env["HPCBUILD_CACHE"]), "dists-venv")
    subprocess.run([PY, "-m", "venv", "--without-pip", venv], check=True)
    vpy = os.path.join(venv, "bin", "python")
    sp = subprocess.run([vpy, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                        capture_output=True, text=True).stdout.strip()

    def site_version(python):
        rc, out, err = hbtest.run_cli("solve", "--python", python, "--json", *common, "--index", idx,
                                      "pypi::hbt-pure", env=env)
        p = picks(hbtest.json_line(out)).get("hbt-pure", {})
        return p.get("version") if p.get("origin") == "site" else None
    # (times set in the past: a directory changed in the last 2 s is never cached)
    old = time.time() - 100
    for p in (sp, os.path.join(venv, "pyvenv.cfg")):
        os.utime(p, (old, old))
    T.check("site-dists.cache", site_version(vpy) is None)
    cached = [f for f in os.listdir(os.path.join(env["HPCBUILD_CACHE"], "python")) if f.endswith(".dists")]
    T.check("site-dists.cache", len(cached) >= 1, "no .dists cache file written")
    info = os.path.join(sp, "hbt_pure-7.0.dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: hbt-pure\nVersion: 7.0\n")
    os.utime(sp, (old + 10, old + 10))
    T.check("site-dists.cache", site_version(vpy) == "7.0", "an added dist-info not seen")
    T.check("site-dists.cache", site_version(PY) is None, "the venv's dists leaked to its base interpreter")
    shutil.rmtree(info)
    os.utime(sp, (old + 20, old + 20))
    T.check("site-dists.cache", site_version(vpy) is None, "a removed dist-info still seen")

    # 13. errors: invalid requirement (2), unreachable index (1), text output
    rc, out, err, j = solve(*common, "--index", idx, "pypi::hbt-app>=>1", env=env)
    T.check("error.spec", rc == 2 and "hbt-app>=>1" in err, err)
    rc, out, err, j = solve(*common, "--index", "http://127.0.0.1:9/simple/", "pypi::x", env=env)
    T.check("error.index", rc == 1 and "127.0.0.1:9" in err, err)
    rc, out, err, j = solve(*common, "-c", chan, "--index", idx, "pypi::hbt-app", env=env)
    T.check("text", rc == 0 and "hbt-app 1.0 wheel " + idx in out and "numpy 1.26.4 0 " in out, out + err)


if __name__ == "__main__":
    main()
