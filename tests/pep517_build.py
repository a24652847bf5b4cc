"""PEP 517 builds without isolation, end to end, with real compilers and libraries.

Packages from tests/lib/buildpkgs.py are built with `hpcbuild pep517` by /usr/bin/python3
(Debian's setuptools, meson-python, Cython, numpy), installed with `pip --target`, and run:
  mpihello  built from its sdist with the site's mpicc; run under mpirun -n 2 (ranks 0, 1);
  blasdot   meson-python + OpenBLAS dgemm against a plain Python product;
  cysum     Cython against numpy;
  cudaadd   nvcc + libcudart, when /usr/local/cuda/bin/nvcc exists (build, NEEDED, import;
            the kernel runs only where a GPU answers);
  broken    a compiler error: exit 1, the error and the log path on stderr.
The build cache: a repeat build hits; another MPI in the site file misses, saying
"MPI changed: openmpi 4.1.4 ... -> mpich 4.2 ..."; --no-cache rebuilds; --env changes the key;
a changed source misses.  hb_pep517_hook's environment: config settings, offline settings.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import buildpkgs  # noqa: E402
from hbtest import Tally, run_cli  # noqa: E402

PY = "/usr/bin/python3"
NVCC = "/usr/local/cuda/bin/nvcc"
t = Tally()
work = tempfile.mkdtemp(prefix="hb-pep517-")
cache = os.path.join(work, "cache")


def site_file(name, mpi_name, mpi_version):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(
            "format: 1\n"
            "externals:\n"
            "  - name: %s\n"
            "    version: %s\n"
            "    provides: [dep:virtual/interface/mpi]\n"
            "    info:\n"
            "      mpicc: /usr/bin/mpicc\n"
            "      mpicxx: /usr/bin/mpicxx\n"
            "      abi: %s\n"
            "  - name: openblas\n"
            "    version: 0.3.21\n"
            "    provides: [dep:virtual/interface/blas, dep:virtual/interface/lapack]\n"
            "    prefix: /usr\n"
            "    info:\n"
            "      pkg-config: openblas\n" % (mpi_name, mpi_version, mpi_name))
    return path


SITE_OPENMPI = site_file("openmpi.yaml", "openmpi", "4.1.4")
SITE_MPICH = site_file("mpich.yaml", "mpich", "4.2")


def build(source, out, *extra, site=SITE_OPENMPI):
    return run_cli("pep517", source, "--python", PY, "-o", out, "--cache", cache,
                   "--site", site, *extra)


def install(wheel, name):
    target = os.path.join(work, "target-" + name)
    p = subprocess.run([PY, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                        "--disable-pip-version-check", "--target", target, wheel],
                       capture_output=True, text=True)
    return target if p.returncode == 0 else None


def run_py(target, code, mpirun=0):
    cmd = [PY, "-c", code]
    if mpirun:
        cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", str(mpirun)] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=target))


def built_wheel(group, rc, out, err, prefix):
    lines = out.split()
    ok = rc == 0 and len(lines) == 1 and os.path.basename(lines[0]).startswith(prefix) \
        and os.path.isfile(lines[0])
    t.check(group, ok, "rc=%d out=%r err=%s" % (rc, out, err[-2000:]))
    return lines[0] if ok else None


def test_mpi():
    tree = buildpkgs.write(os.path.join(work, "src"), "mpihello")
    sdist = buildpkgs.sdist(tree, work)
    out = os.path.join(work, "wheels-mpi")
    rc, o, e = build(sdist, out)
    whl = built_wheel("mpi.build", rc, o, e, "mpihello-1.0-cp3")
    t.check("mpi.build", "no earlier build of this source (sdist sha256:" in e, e)
    t.check("mpi.build", "[external] build/host requires: dep:virtual/compiler/c "
            "dep:virtual/interface/mpi" in e, e)
    if whl:
        target = install(whl, "mpi")
        t.check("mpi.install", target is not None, whl)
        p = run_py(target, "import mpihello; r, s, total = mpihello.hello(); "
                   "print('rank %d of %d sum %d' % (r, s, total)); mpihello.finalize()", mpirun=2)
        # (mpirun may interleave the two ranks' lines)
        ranks = sorted(re.findall(r"rank (\d+) of (\d+) sum (\d+)", p.stdout))
        t.check("mpi.run", p.returncode == 0 and ranks == [("0", "2", "1"), ("1", "2", "1")],
                "rc=%d out=%r err=%s" % (p.returncode, p.stdout, p.stderr[-1500:]))
    # the cache: same again hits, another MPI misses with the reason, --no-cache rebuilds
    rc, o, e = build(sdist, out)
    t.check("cache.hit", rc == 0 and "hpcbuild: cache hit:" in e and "build log" not in e, e)
    t.check("cache.hit", whl is not None and o.split() == [whl], o)
    rc, o, e = build(sdist, out, site=SITE_MPICH)
    t.check("cache.miss", rc == 0 and "cache miss: MPI changed: openmpi 4.1.4 external_site "
            "abi=openmpi -> mpich 4.2 external_site abi=mpich" in e, e)
    rc, o, e = build(sdist, out, site=SITE_MPICH)
    t.check("cache.hit", rc == 0 and "hpcbuild: cache hit:" in e, e)
    rc, o, e = build(sdist, out, "--no-cache")
    logs = [ln.split("build log: ", 1)[1] for ln in e.split("\n") if "build log: " in ln]
    t.check("cache.no-cache", rc == 0 and "cache hit" not in e and "cache miss" not in e and
            len(logs) == 1 and logs[0].endswith("/build.log") and os.path.isfile(logs[0]) and
            "running build_ext" in open(logs[0]).read(), e)
    rc, o, e = build(sdist, out, "--env", "CFLAGS=-O1")
    t.check("cache.env", rc == 0 and "cache miss: build environment changed:" in e
            and "CFLAGS=-O1" in e, e)
    builds = os.path.join(cache, "builds")
    entries = [sorted(os.listdir(os.path.join(builds, d))) for d in os.listdir(builds)
               if len(d) == 64]
    mine = [f for f in entries if os.path.basename(whl or "-") in f]
    t.check("cache.entries", len(mine) == 3, entries)
    for files in mine:
        t.check("cache.entries", files == sorted(["build.log", "key.txt", os.path.basename(whl)]),
                files)


def test_blas():
    tree = buildpkgs.write(os.path.join(work, "src"), "blasdot")
    rc, o, e = build(tree, os.path.join(work, "wheels-blas"))
    whl = built_wheel("blas.build", rc, o, e, "blasdot-1.0-cp3")
    t.check("blas.build", "[build-system] requires: meson-python" in e, e)
    if not whl:
        return
    target = install(whl, "blas")
    a, b = [1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]
    # column-major 2x2: c[i + 2j] = sum_k a[i + 2k] * b[k + 2j]
    want = [sum(a[i + 2 * k] * b[k + 2 * j] for k in range(2)) for j in range(2) for i in range(2)]
    p = run_py(target, "import blasdot; print(blasdot.dgemm(%r, %r, 2))" % (a, b))
    t.check("blas.run", p.returncode == 0 and p.stdout.strip() == repr(want),
            "out=%r want=%r err=%s" % (p.stdout, want, p.stderr[-1500:]))
    rc, o, e = build(tree, os.path.join(work, "wheels-blas"))
    t.check("cache.hit", rc == 0 and "cache hit" in e, e)
    with open(os.path.join(tree, "blasdot.c"), "a") as f:
        f.write("/* changed */\n")
    rc, o, e = build(tree, os.path.join(work, "wheels-blas"))
    t.check("cache.source", rc == 0 and "cache miss: no earlier build of this source (tree "
            "sha256:" in e, e)


def test_cython():
    tree = buildpkgs.write(os.path.join(work, "src"), "cysum")
    rc, o, e = build(tree, os.path.join(work, "wheels-cy"))
    whl = built_wheel("cython.build", rc, o, e, "cysum-1.0-cp3")
    if whl:
        target = install(whl, "cy")
        p = run_py(target, "import cysum, numpy; print(cysum.total(numpy.arange(10.0)))")
        t.check("cython.run", p.returncode == 0 and p.stdout == "45.0\n",
                "out=%r err=%s" % (p.stdout, p.stderr[-1500:]))


def test_cuda():
    if not os.access(NVCC, os.X_OK):
        print("SKIP cuda: %s not found" % NVCC)
        return
    tree = buildpkgs.write(os.path.join(work, "src"), "cudaadd")
    rc, o, e = build(tree, os.path.join(work, "wheels-cuda"))
    whl = built_wheel("cuda.build", rc, o, e, "cudaadd-1.0-cp3")
    if not whl:
        return
    with zipfile.ZipFile(whl) as z:
        so = [n for n in z.namelist() if n.endswith(".so")]
        t.check("cuda.link", len(so) == 1, z.namelist())
        data = z.read(so[0]) if so else b""
    t.check("cuda.link", b"libcudart.so" in data, "libcudart not linked")
    target = install(whl, "cuda")
    p = run_py(target, "import cudaadd; n = cudaadd.device_count(); r = cudaadd.add(4); "
               "print(n, r)")
    t.check("cuda.import", p.returncode == 0, p.stderr[-1500:])
    count = int(p.stdout.split()[0]) if p.returncode == 0 else -1
    if count > 0:
        t.check("cuda.run", p.stdout.strip() == "%d [0.0, 3.0, 6.0, 9.0]" % count, p.stdout)
    else:
        print("SKIP cuda.run: no GPU answers here (device_count %d)" % count)


def test_broken():
    tree = buildpkgs.write(os.path.join(work, "src"), "broken")
    rc, o, e = build(tree, os.path.join(work, "wheels-broken"))
    t.check("broken", rc == 1 and o == "", "rc=%d out=%r" % (rc, o))
    t.check("broken", "build_wheel failed: SystemExit:" in e, e)
    t.check("broken", "error: expected expression before" in e, e)
    log = [ln.split("log: ", 1)[1].rstrip(")") for ln in e.split("\n") if "(log: " in ln]
    t.check("broken", len(log) == 1 and os.path.isfile(log[0]) and
            log[0].startswith(os.path.join(cache, "builds", "logs")), e)
    rc, o, e = build(tree, os.path.join(work, "wheels-broken"))
    t.check("broken", rc == 1 and "cache hit" not in e, e)


def test_hook_env():
    """config settings and the environment reach the backend (an in-tree backend)."""
    tree = os.path.join(work, "src", "envcheck")
    os.makedirs(os.path.join(tree, "_backend"), exist_ok=True)
    with open(os.path.join(tree, "pyproject.toml"), "w") as f:
        f.write('[build-system]\nrequires = []\nbuild-backend = "envbackend"\n'
                'backend-path = ["_backend"]\n')
    with open(os.path.join(tree, "_backend", "envbackend.py"), "w") as f:
        f.write(
            "import json, os, sys, zipfile\n"
            "def get_requires_for_build_wheel(config_settings=None):\n"
            "    return ['req-from-hook>=1']\n"
            "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n"
            "    name = 'envcheck-1.0-py3-none-any.whl'\n"
            "    keys = ('PIP_NO_INDEX', 'https_proxy', 'HB_TEST', 'MPICC', 'PYTHONPATH')\n"
            "    env = {k: os.environ.get(k) for k in keys}\n"
            "    info = {'config': config_settings, 'env': env, 'cwd': os.getcwd(),\n"
            "            'stdin': sys.stdin.read()}\n"
            "    with zipfile.ZipFile(os.path.join(wheel_directory, name), 'w') as z:\n"
            "        z.writestr('envcheck.json', json.dumps(info))\n"
            "        z.writestr('envcheck-1.0.dist-info/METADATA',\n"
            "                   'Metadata-Version: 2.1\\nName: envcheck\\nVersion: 1.0\\n')\n"
            "    return name\n")
    rc, o, e = build(tree, os.path.join(work, "wheels-env"), "-C", "a=1", "-C", "a=2",
                     "-C", "b=x=y", "--env", "HB_TEST=yes")
    whl = built_wheel("hook.env", rc, o, e, "envcheck-1.0")
    t.check("hook.env", "get_requires_for_build_wheel: req-from-hook>=1" in e, e)
    if not whl:
        return
    with zipfile.ZipFile(whl) as z:
        info = json.loads(z.read("envcheck.json"))
    t.check("hook.env", info["config"] == {"a": ["1", "2"], "b": "x=y"}, info)
    t.check("hook.env", info["env"]["PIP_NO_INDEX"] == "1" and
            info["env"]["https_proxy"] == "http://127.0.0.1:9" and
            info["env"]["HB_TEST"] == "yes" and info["env"]["MPICC"] == "/usr/bin/mpicc", info)
    t.check("hook.env", os.path.realpath(info["cwd"]) == os.path.realpath(tree) and
            info["stdin"] == "", info)
    # a backend-path outside the tree is refused
    with open(os.path.join(tree, "pyproject.toml"), "w") as f:
        f.write('[build-system]\nrequires = []\nbuild-backend = "envbackend"\n'
                'backend-path = ["../.."]\n')
    rc, o, e = build(tree, os.path.join(work, "wheels-env"))
    t.check("hook.backend-path", rc == 2 and "backend-path '../..'" in e and
            "inside the source tree" in e, e)


def test_detected_site():
    """A site file written by `hpcbuild site detect` drives the environment and the key."""
    site = os.path.join(work, "detected.yaml")
    rc, o, e = run_cli("site", "detect", "-o", site)
    t.check("site.detect", rc == 0 and os.path.isfile(site), e)
    if rc != 0:
        return
    tree = buildpkgs.write(os.path.join(work, "src"), "cysum")
    rc, o, e = build(tree, os.path.join(work, "wheels-detected"), "--march", site=site)
    whl = built_wheel("site.detect", rc, o, e, "cysum-1.0-cp3")
    logs = [ln.split("build log: ", 1)[1] for ln in e.split("\n") if "build log: " in ln]
    if not whl or len(logs) != 1:
        return
    key = open(os.path.join(os.path.dirname(logs[0]), "key.txt")).read().split("\n")
    detected = open(site).read()
    # each field is expected when the detected file has what it comes from
    expected = {"cc: ": "dep:virtual/compiler/c", "mpi: ": "dep:virtual/interface/mpi",
                "blas: ": "dep:virtual/interface/blas", "march: ": "__archspec",
                "env: CFLAGS=-march=": "__archspec"}
    for field, source in expected.items():
        if source in detected:
            t.check("site.detect", any(ln.startswith(field) for ln in key),
                    "%r not in %s" % (field, key))
    t.check("site.detect", not any("(not in the site file)" in ln for ln in key if
                                   ln.startswith(("cc:", "mpi:"))), key)


try:
    test_detected_site()
    test_hook_env()
    test_broken()
    test_cython()
    test_blas()
    test_mpi()
    test_cuda()
finally:
    shutil.rmtree(work, ignore_errors=True)
t.finish()
