"""`hpcbuild install / remove / list / export` end to end (issue 5).

A loopback server (tests/lib/testserver.py) serves a conda channel of packages made here
(tests/lib/condapkg.py: .conda and .tar.bz2, prefix placeholders in text and binary files, softlinks,
noarch: python with entry points) and a wheel index (tests/lib/pyindex.py).  Installed trees are
checked independently: conda packages against their own paths.json (condapkg.check_linked), wheels
with pip (`pip list`, `pip uninstall`) and by running what was installed.  Plus: --from-lock,
export formats, a second writer on the same prefix, hash mismatches and a flaky server, and
SIGKILL at random points of many installs: the prefix is always the old or the new environment.
"""
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import condapkg  # noqa: E402
import hbtest  # noqa: E402
import pyindex  # noqa: E402

T = hbtest.Tally()
PY = "/usr/bin/python3"


def hb(*args, env=None, check_san=True):
    rc, out, err = hbtest.run_cli(*args, env=env)
    return rc, out, err


def tree(prefix, also=()):
    """{relpath: (kind, content hash or link target, mode)} of a prefix, .hpcbuild excluded; the
    prefix's own path in file contents reads as @P@ (so two prefixes of the same length compare)."""
    out = {}
    names = [prefix.encode()] + [a.encode() for a in also]
    for root, dirs, files in os.walk(prefix):
        rel_root = os.path.relpath(root, prefix)
        if rel_root.split(os.sep)[0] == ".hpcbuild":
            dirs[:] = []
            continue
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            p = os.path.join(root, name)
            rel = os.path.normpath(os.path.join(rel_root, name))
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p), 0)
            else:
                with open(p, "rb") as f:
                    data = f.read()
                for name in names:
                    data = data.replace(name, b"@P@")
                out[rel] = ("file", hashlib.sha256(data).hexdigest(), os.stat(p).st_mode & 0o777)
    return out


def build_world(tmp):
    pk = os.path.join(tmp, "pk")
    os.makedirs(pk)
    pkgs = [
        condapkg.make_package(pk, "hello-tool", "1.0", files={"bin/hello-tool": b"#!/bin/sh\necho hello 1.0\n"},
                              text_prefix=("etc/hello.conf",), binary_prefix=("lib/libhello.so",),
                              softlinks={"lib/libhello.so.1": "libhello.so"}, fmt="conda"),
        condapkg.make_package(pk, "hello-tool", "2.0", files={"bin/hello-tool": b"#!/bin/sh\necho hello 2.0\n"},
                              text_prefix=("etc/hello.conf",), fmt="tar.bz2"),
        condapkg.make_package(pk, "libthing", "2.0", files={"lib/libthing.txt": b"thing\n"}, fmt="tar.bz2"),
    ]
    many = [condapkg.make_package(pk, "bulk-%02d" % i, "1.0",
                                  files={"share/bulk-%02d/f%03d.txt" % (i, k): (b"%d-%d\n" % (i, k)) * 50
                                         for k in range(40)}, fmt="conda" if i % 2 else "tar.bz2")
            for i in range(12)]
    # a conda "python" (a stand-in script: real CPython is not in a test) and a noarch: python package
    pyscript = (b"#!/bin/sh\n# a stand-in python: the system one with this prefix's site-packages\n"
                b"here=$(dirname \"$0\")\n"
                b"PYTHONPATH=\"$here/../lib/python3.11/site-packages\" exec /usr/bin/python3 \"$@\"\n")
    conda_py = [
        condapkg.make_package(pk, "python", "3.11.2", files={"bin/python3.11": (pyscript, 0o755)},
                              softlinks={"bin/python": "python3.11", "bin/python3": "python3.11"}, fmt="conda"),
        condapkg.make_package(pk, "hpc-greet", "0.3", noarch="python", depends=("python >=3.8",),
                              files={"site-packages/hpc_greet/__init__.py":
                                     b"def main():\n    print('hpc-greet runs')\n"},
                              entry_points=("hpc-greet = hpc_greet:main",), fmt="tar.bz2"),
    ]
    post = (b"#!/bin/sh\necho \"$PKG_NAME $PKG_VERSION $PREFIX\" > \"$PREFIX/post-link-ran\"\n"
            b"echo 'hooked: post-link says hello' >> \"$PREFIX/.messages.txt\"\n")
    unlink = b"#!/bin/sh\necho \"$PKG_NAME\" > \"$PREFIX/../pre-unlink-ran\"\n"
    hooked = [condapkg.make_package(pk, "hooked", "1.0", files={"bin/.hooked-post-link.sh": (post, 0o755),
                                                                "bin/.hooked-pre-unlink.sh": (unlink, 0o755)},
                                    fmt="tar.bz2")]
    chan = condapkg.write_channel(tmp, "ch", pkgs + many + conda_py + hooked)
    wd = os.path.join(tmp, "wd")
    wheels = [
        pyindex.make_wheel(wd, "hbt-app", "1.0", requires_dist=["hbt-dep>=1"],
                           files={"hbt_app/__init__.py": b"def main():\n    print('hbt-app 1.0 runs')\n"}),
        pyindex.make_wheel(wd, "hbt-dep", "1.1"),
        pyindex.make_wheel(wd, "hbt-dep", "1.2"),
    ]
    # sdists: one that builds with setuptools (no isolation, in the target env), one whose backend
    # does not exist (the build fails: the environment must stay as it was)
    sdists = [pyindex.make_sdist(wd, "hbt-src", "1.0", requires_dist=["hbt-dep>=1"])]
    broken = os.path.join(wd, "hbt_broken-1.0.tar.gz")
    with tarfile.open(broken, "w:gz") as tf:
        for name, data in (("hbt_broken-1.0/PKG-INFO",
                            b"Metadata-Version: 2.2\nName: hbt-broken\nVersion: 1.0\n"),
                           ("hbt_broken-1.0/pyproject.toml",
                            b'[build-system]\nrequires = []\nbuild-backend = "hbt_no_such_backend"\n')):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    pyindex.write_index(os.path.join(tmp, "idx"), wheels + sdists + [broken])
    return chan, wheels


def main():
    tmp = tempfile.mkdtemp(prefix="hb-install-")
    env = {"HPCBUILD_CACHE": os.path.join(tmp, "cache")}
    try:
        chan, wheels = build_world(tmp)
        base, stop, log = pyindex.serve(tmp)
        try:
            run_cases(tmp, base, env, log)
        finally:
            stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    T.finish()


def run_cases(tmp, base, env, log):
    ch = base + "/ch"
    idx = base + "/idx/simple/"
    common = ["--platform", "linux-64", "--site", "none", "-c", ch, "--index", idx]
    prefix = os.path.join(tmp, "env")

    # 1. a venv over /usr/bin/python3 with conda packages and wheels
    rc, out, err = hb("install", "-p", prefix, "--python", PY, *common, "hello-tool=1.0", "libthing",
                      "pypi::hbt-app", env=env)
    T.check("install.rc", rc == 0, out + err)
    for name in ("hello-tool", "libthing"):
        pkg = [p for p in os.listdir(os.path.join(tmp, "ch", "linux-64"))
               if p.startswith(name + "-1.0-" if name == "hello-tool" else name + "-")][0]
        problems = condapkg.check_linked(prefix, os.path.join(tmp, "ch", "linux-64", pkg))
        T.check("install.conda-linked." + name, problems == [], problems)
    run = subprocess.run([os.path.join(prefix, "bin", "python"), "-c",
                          "import hbt_app, hbt_dep, sys; hbt_app.main(); print(sys.prefix)"],
                         capture_output=True, text=True)
    T.check("install.wheel-imports", run.returncode == 0 and "hbt-app 1.0 runs" in run.stdout
            and run.stdout.strip().endswith(prefix), run.stdout + run.stderr)
    run = subprocess.run([os.path.join(prefix, "bin", "hello-tool")], capture_output=True, text=True)
    T.check("install.conda-runs", run.stdout == "hello 1.0\n", run.stdout + run.stderr)
    site = os.path.join(prefix, "lib", "python3.11", "site-packages")
    pl = subprocess.run([PY, "-m", "pip", "list", "--path", site, "--format", "json"], capture_output=True,
                        text=True)
    names = sorted(p["name"] for p in json.loads(pl.stdout or "[]"))
    T.check("install.pip-list", names == ["hbt-app", "hbt-dep"], pl.stdout + pl.stderr)
    with open(os.path.join(site, "hbt_app-1.0.dist-info", "INSTALLER")) as f:
        T.check("install.installer", f.read().strip() == "hpcbuild")
    T.check("install.requested", os.path.exists(os.path.join(site, "hbt_app-1.0.dist-info", "REQUESTED"))
            and not os.path.exists(os.path.join(site, "hbt_dep-1.2.dist-info", "REQUESTED")))
    rc, out, err = hb("list", "-p", prefix, "--json", env=env)
    lst = json.loads(out) if rc == 0 else []
    T.check("list", sorted((p["name"], p["origin"]) for p in lst) == [
        ("hbt-app", "wheel"), ("hbt-dep", "wheel"), ("hello-tool", "conda"), ("libthing", "conda")], out + err)
    with open(os.path.join(prefix, "conda-meta", "history")) as f:
        hist = f.read()
    T.check("history", "+" in hist and "hello-tool-1.0-0" in hist and "# update specs:" in hist, hist)

    # 2. nothing to do; then an upgrade replaces exactly one package, in place of the old files
    before = tree(prefix)
    rc, out, err = hb("install", "-p", prefix, *common, "libthing", env=env)
    T.check("noop", rc == 0 and "nothing to change" in out and tree(prefix) == before, out + err)
    rc, out, err = hb("install", "-p", prefix, *common, "hello-tool=2.0", env=env)
    T.check("upgrade.rc", rc == 0 and "- hello-tool 1.0" in out and "+ hello-tool 2.0" in out, out + err)
    run = subprocess.run([os.path.join(prefix, "bin", "hello-tool")], capture_output=True, text=True)
    T.check("upgrade.runs", run.stdout == "hello 2.0\n", run.stdout + run.stderr)
    T.check("upgrade.old-files-gone", not os.path.exists(os.path.join(prefix, "lib", "libhello.so")))
    cache_pkgs = os.path.join(env["HPCBUILD_CACHE"], "pkgs")
    T.check("cache.hardlinked", os.stat(os.path.join(prefix, "lib", "libthing.txt")).st_nlink >= 2)

    # 3. --dry-run changes nothing
    before = tree(prefix)
    rc, out, err = hb("install", "-p", prefix, *common, "--dry-run", "bulk-01", env=env)
    T.check("dry-run", rc == 0 and "+ bulk-01 1.0" in out and tree(prefix) == before, out + err)

    # 4. export and --from-lock reproduce the environment in a new prefix, with no solve
    rc, lock, err = hb("export", "-p", prefix, env=env)
    lockfile = os.path.join(tmp, "env.lock")
    with open(lockfile, "w") as f:
        f.write(lock)
    other = os.path.join(tmp, "env-from-lock")
    rc, out, err = hb("install", "-p", other, "--from-lock", lockfile, env=env)
    a, b = tree(prefix), tree(other)
    same = sorted(k for k in a if not k.startswith(("conda-meta", "hpcbuild.lock", "pyvenv.cfg"))
                  and "__pycache__" not in k)
    T.check("from-lock", rc == 0 and same == sorted(k for k in b if not k.startswith(("conda-meta", "hpcbuild.lock", "pyvenv.cfg")) and "__pycache__" not in k), (out, err, set(a) ^ set(b)))
    rc, out, err = hb("export", "-p", prefix, "--format", "pylock", env=env)
    T.check("export.pylock", rc == 0 and 'lock-version = "1.0"' in out and 'name = "hbt-app"' in out
            and "sha256 = " in out, out + err)
    try:
        import tomllib
        T.check("export.pylock-toml", len(tomllib.loads(out)["packages"]) == 2, out)
    except Exception as e:  # noqa: BLE001
        T.check("export.pylock-toml", False, repr(e))
    rc, out, err = hb("export", "-p", prefix, "--format", "conda-explicit", env=env)
    T.check("export.conda-explicit", rc == 0 and "@EXPLICIT" in out and "hello-tool-2.0-0.tar.bz2#" in out,
            out + err)

    # 5. remove: exactly what was installed; pip uninstall of our wheels works too
    rc, out, err = hb("remove", "-p", prefix, "libthing", "hbt-app", env=env)
    T.check("remove", rc == 0 and not os.path.exists(os.path.join(prefix, "lib", "libthing.txt"))
            and not os.path.exists(os.path.join(site, "hbt_app")), out + err)
    venv_pip = subprocess.run([os.path.join(prefix, "bin", "python"), "-m", "pip", "uninstall", "-y", "hbt-dep"],
                              capture_output=True, text=True)
    # (pip renames a whole directory away when every file in it is the distribution's)
    T.check("pip-uninstall", venv_pip.returncode == 0 and (not os.path.isdir(site) or not any(
        n.startswith("hbt_dep") for n in os.listdir(site))), venv_pip.stdout + venv_pip.stderr)
    rc, out, err = hb("remove", "-p", prefix, "no-such-thing", env=env)
    T.check("remove.unknown", rc == 2 and "no-such-thing" in err, err)

    # 6. a bad hash: refused with the URL and both hashes; nothing changes
    bad = os.path.join(tmp, "badch")
    shutil.copytree(os.path.join(tmp, "ch"), bad)
    with open(os.path.join(bad, "linux-64", "repodata.json")) as f:
        rd = json.load(f)
    for key in ("packages", "packages.conda"):
        for fn, r in rd.get(key, {}).items():
            if fn.startswith("bulk-03"):
                r["sha256"] = "0" * 64
                r.pop("md5", None)
    with open(os.path.join(bad, "linux-64", "repodata.json"), "w") as f:
        json.dump(rd, f)
    before = tree(prefix)
    rc, out, err = hb("install", "-p", prefix, "--platform", "linux-64", "--site", "none", "-c", base + "/badch",
                      "bulk-03", env=env)
    T.check("hash-mismatch", rc == 1 and "0" * 64 in err and "bulk-03" in err and tree(prefix) == before, err)

    # 7. a second writer waits for the lock (a transaction held by a child process)
    holder = subprocess.Popen([PY, "-c", "import fcntl,os,sys,time\n"
                               "os.makedirs(sys.argv[1]+'/.hpcbuild',exist_ok=True)\n"
                               "f=open(sys.argv[1]+'/.hpcbuild/lock','a+')\n"
                               "fcntl.flock(f,fcntl.LOCK_EX)\nprint('held',flush=True)\ntime.sleep(2)\n", prefix],
                              stdout=subprocess.PIPE, text=True)
    holder.stdout.readline()
    t0 = time.monotonic()
    rc, out, err = hb("install", "-p", prefix, *common, "bulk-02", env=env)
    waited = time.monotonic() - t0
    holder.wait()
    T.check("lock.waits", rc == 0 and waited >= 1.0, (rc, waited, err))

    # 8. a WHEEL path argument: its directory is searched, the spec pins it
    wpath = os.path.join(tmp, "wd", "hbt_dep-1.1-py3-none-any.whl")
    wenv = os.path.join(tmp, "wheelpath")
    rc, out, err = hb("install", "-p", wenv, "--python", PY, "--platform", "linux-64", "--site", "none", wpath,
                      env=env)
    T.check("wheel-path", rc == 0 and os.path.exists(os.path.join(wenv, "lib", "python3.11", "site-packages",
                                                                   "hbt_dep-1.1.dist-info", "RECORD")), out + err)

    # 9. a conda environment: a conda python gives site-packages; noarch: python lands there with
    #    its entry point (shebang: the environment's python)
    cenv = os.path.join(tmp, "condaenv")
    rc, out, err = hb("install", "-p", cenv, "--platform", "linux-64", "--site", "none", "-c", ch, "hpc-greet",
                      env=env)
    sp = os.path.join(cenv, "lib", "python3.11", "site-packages", "hpc_greet", "__init__.py")
    script = os.path.join(cenv, "bin", "hpc-greet")
    shebang = open(script).readline() if os.path.exists(script) else ""
    T.check("conda-env.noarch", rc == 0 and os.path.exists(sp) and shebang == "#!%s/bin/python\n" % cenv,
            (out, err, shebang))
    run = subprocess.run([script], capture_output=True, text=True) if os.path.exists(script) else None
    T.check("conda-env.entry-point", run is not None and run.stdout == "hpc-greet runs\n",
            run and run.stdout + run.stderr)
    T.check("conda-env.no-venv", not os.path.exists(os.path.join(cenv, "pyvenv.cfg")))

    # 10. link scripts run (CEP 34): post-link after linking (its .messages.txt shown), pre-unlink
    #     before removal
    henv = os.path.join(tmp, "hooked-env")
    rc, out, err = hb("install", "-p", henv, "--platform", "linux-64", "--site", "none", "-c", ch, "hooked", env=env)
    ran = open(os.path.join(henv, "post-link-ran")).read() if os.path.exists(os.path.join(henv, "post-link-ran")) else ""
    T.check("scripts.post-link", rc == 0 and ran == "hooked 1.0 %s\n" % henv
            and "post-link says hello" in out and not os.path.exists(os.path.join(henv, ".messages.txt")),
            (out, err, ran))
    rc, out, err = hb("remove", "-p", henv, "hooked", env=env)
    marker = os.path.join(tmp, "pre-unlink-ran")
    T.check("scripts.pre-unlink", rc == 0 and os.path.exists(marker) and open(marker).read() == "hooked\n",
            out + err)

    # 11. an sdist is built in the environment (pass 1 installs its dependencies, the build runs
    #     with the environment's Python, pass 2 installs the wheel); a failing build puts the
    #     environment back as it was
    senv = os.path.join(tmp, "sdist-env")
    rc, out, err = hb("install", "-p", senv, "--python", PY, "--platform", "linux-64", "--site", "none",
                      "--index", idx, "pypi::hbt-src", env=env)
    run = subprocess.run([os.path.join(senv, "bin", "python"), "-c", "import hbt_src, hbt_dep; print('ok')"],
                         capture_output=True, text=True)
    T.check("sdist.built", rc == 0 and "building hbt-src 1.0" in out and run.stdout == "ok\n", (out, err, run.stderr))
    before = tree(senv)
    rc, out, err = hb("install", "-p", senv, "--platform", "linux-64", "--site", "none", "--index", idx,
                      "pypi::hbt-broken", env=env)
    after = tree(senv)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    # (conda-meta/history keeps the attempt and the way back, as conda's does)
    T.check("sdist.failed-build", rc == 1 and "hbt_no_such_backend" in out + err and ".log" in err
            and changed in ([], ["conda-meta/history"]), (out, err, changed))

    # 12. hpcbuild build: an sdist file, then NAME==VERSION from the index into a prefix (its build
    #     requirements installed there first); a repeat is a cache hit
    out_dir = os.path.join(tmp, "built")
    sdist = os.path.join(tmp, "idx", "files", "hbt_src-1.0.tar.gz")
    rc, out, err = hb("build", sdist, "--python", PY, "--site", "none", "-o", out_dir, env=env)
    wheel = out.strip().splitlines()[-1] if out.strip() else ""
    T.check("build.sdist", rc == 0 and wheel.endswith(".whl") and os.path.exists(wheel), (out, err))
    rc, out, err = hb("build", sdist, "--python", PY, "--site", "none", "-o", out_dir, env=env)
    T.check("build.cache-hit", rc == 0 and "cache hit" in err, (out, err))
    rc, out, err = hb("build", "hbt-src==1.0", "-p", senv, "--site", "none", "--platform", "linux-64",
                      "--index", idx, "-o", out_dir, env=env)
    T.check("build.name-version", rc == 0 and out.strip().endswith(".whl"), (out, err))
    rc, out, err = hb("build", os.path.join(tmp, "wd", "hbt_broken-1.0.tar.gz"), "--python", PY, "--site", "none",
                      "-o", out_dir, env=env)
    T.check("build.failure", rc == 1 and "hbt_no_such_backend" in err and ".log" in err, (out, err))

    # 12b. a venv prefix remembers its interpreter: without --python the next install still sees
    #      what that interpreter has (Debian's setuptools), not the python3 first on PATH
    venv = os.path.join(tmp, "venv-remembers")
    rc, out, err = hb("install", "-p", venv, "--python", PY, "--platform", "linux-64", "--site", "none",
                      "pypi::setuptools", env=env)
    T.check("venv.python", rc == 0, out + err)
    rc, out, err = hb("install", "-p", venv, "--platform", "linux-64", "--site", "none", "pypi::setuptools",
                      "pypi::wheel", env=env)
    T.check("venv.python", rc == 0 and "0 added" in out, out + err)

    # 13. SIGKILL at random points: always the old or the new environment, the next run completes it
    kill_cases(tmp, base, env)


def kill_cases(tmp, base, env):
    common = ["--platform", "linux-64", "--site", "none", "-c", base + "/ch"]
    prefix = os.path.join(tmp, "kill-in")
    rc, out, err = hb("install", "-p", prefix, *common, "hello-tool=1.0", env=env)
    old = tree(prefix)
    specs = ["hello-tool=2.0"] + ["bulk-%02d" % i for i in range(12)]
    # the new tree, made once without interruption in a copy
    ref = os.path.join(tmp, "kill-rf")   # as long as kill-NN: binary padding compares
    shutil.copytree(prefix, ref, symlinks=True)
    t0 = time.monotonic()
    rc, out, err = hb("install", "-p", ref, *common, *specs, env=env)
    duration = time.monotonic() - t0
    new = tree(ref)
    new_rel = {k: v for k, v in new.items() if not k.startswith(("conda-meta", "hpcbuild.lock"))}
    old_rel = {k: v for k, v in old.items() if not k.startswith(("conda-meta", "hpcbuild.lock"))}
    rng = random.Random(4)
    outcomes = {"old": 0, "new": 0}
    bad = []
    for n in range(40):
        work = os.path.join(tmp, "kill-%02d" % n)
        shutil.copytree(prefix, work, symlinks=True)
        proc = subprocess.Popen([hbtest.HPCBUILD, "install", "-p", work, *common, *specs],
                                env=dict(os.environ, **env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, duration * 0.8))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # any hpcbuild command on the prefix first completes or rolls back the change
        rc, out, err = hb("list", "-p", work, env=env)
        # (a copied prefix keeps the original's path in its placeholder files)
        t = {k: v for k, v in tree(work, (prefix,)).items() if not k.startswith(("conda-meta", "hpcbuild.lock"))}
        if t == old_rel:
            outcomes["old"] += 1
        elif t == new_rel:
            outcomes["new"] += 1
        else:
            bad.append((n, sorted(set(t) ^ set(new_rel))[:5]))
        # the next install completes it
        rc, out, err = hb("install", "-p", work, *common, *specs, env=env)
        t2 = {k: v for k, v in tree(work, (prefix,)).items() if not k.startswith(("conda-meta", "hpcbuild.lock"))}
        if rc != 0 or t2 != new_rel:
            bad.append((n, "rerun", rc, err[-300:], sorted(set(t2.items()) ^ set(new_rel.items()))[:4]))
        shutil.rmtree(work, ignore_errors=True)
    T.check("kill.old-or-new", not bad, bad[:5])
    T.check("kill.both-seen", outcomes["old"] > 0 and outcomes["new"] > 0, outcomes)
    print("kill outcomes:", outcomes, "(an uninterrupted install takes %.2f s)" % duration)


if __name__ == "__main__":
    main()
