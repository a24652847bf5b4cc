"""site.detect: `hpcbuild site detect` and `hpcbuild site show` end to end.

1. This machine: each external is checked against what the tools themselves say, asked here
   independently (ompi_info --parsable, pkg-config, nvcc --version, gcc -dumpfullversion, each
   Python's platform.python_version()); the file is read with PyYAML, and `hpcbuild solve
   --site FILE` uses it: records that depend on dep:virtual/interface/mpi and .../blas and on
   `openmpi >=4.1,<5` are answered by the site's externals.  (A part whose tool this machine
   lacks is skipped and says so.)
2. Fake wrappers first on PATH (tests/fake/): an MPICH mpicc (-show) with mpichversion, an
   nvcc 12.4 through CUDA_HOME, an nvidia-smi with two GPUs, and an Lmod environment
   (LOADEDMODULES, _LMFILES_, MODULEPATH, LMOD_VERSION); then Intel MPI (I_MPI_ROOT), Cray MPICH
   (CRAY_MPICH_DIR) and Environment Modules.
3. Re-detecting into an edited file keeps hand entries (found-by: hand..., or none), unknown
   entries and top-level info; replaces detected ones; --base reads an admin file.
4. Usage and file errors.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from hbtest import SOURCE, Tally, json_line, run_cli, write_channel  # noqa: E402

T = Tally()
FAKE = os.path.join(os.path.abspath(SOURCE), "tests", "fake")


def tool(*argv):
    """What a tool prints (stdout, stripped), or None when it is missing or fails."""
    if not shutil.which(argv[0]):
        return None
    p = subprocess.run(argv, capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else None


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def externals(site):
    return {e["name"]: e for e in site.get("externals") or []}


def detect(tmp, name, env=None, args=()):
    """Runs site detect -o tmp/name (no base unless args say); returns (rc, site, out, err)."""
    path = os.path.join(tmp, name)
    rc, out, err = run_cli("site", "detect", "-o", path, *(args or ("--base", "none")), env=env)
    site = load(path) if rc == 0 and os.path.exists(path) else None
    return rc, site, out, err


def check_common(group, site):
    """Every entry says how it was found; the file is format 1."""
    T.check(group, site.get("format") == 1, "format: %r" % site.get("format"))
    for name, e in externals(site).items():
        T.check(group, bool(e.get("found-by")), "external %s has no found-by" % name)
        T.check(group, isinstance(e.get("version"), str), "external %s version %r" % (name, e.get("version")))
    for name, v in (site.get("virtual") or {}).items():
        T.check(group, isinstance(v, dict) and bool(v.get("found-by")), "virtual %s: %r" % (name, v))


def solve(tmp, site_path, specs, records):
    chan = write_channel(tmp, "ch-%d" % len(os.listdir(tmp)), {"noarch": records})
    rc, out, err = run_cli("solve", "-c", chan, "--site", site_path, "--platform", "linux-64",
                           "--json", *specs)
    j = json_line(out)
    return rc, j, err


def picked(j):
    return {p["name"]: p for p in (j or {}).get("packages", [])}


def cuda_home(env):
    """The CUDA home hpcbuild should take: $CUDA_HOME or $CUDA_PATH with a bin/nvcc, else the first
    of the home of nvcc on PATH (through symlinks) and /usr/local/cuda with bin/nvcc and
    cuda_runtime.h (in include/ or targets/*-linux/include/)."""
    on_path = shutil.which("nvcc", path=env.get("PATH"))
    homes = [env.get("CUDA_HOME"), env.get("CUDA_PATH"),
             os.path.dirname(os.path.dirname(os.path.realpath(on_path))) if on_path else None,
             "/usr/local/cuda"]
    def toolkit(h):
        return os.access(os.path.join(h, "bin", "nvcc"), os.X_OK) and any(
            os.path.isfile(os.path.join(h, d, "cuda_runtime.h"))
            for d in ("include", "targets/x86_64-linux/include", "targets/sbsa-linux/include"))
    for i, h in enumerate(homes):   # $CUDA_HOME, $CUDA_PATH: an nvcc there is enough
        if h and (toolkit(h) or (i < 2 and os.access(os.path.join(h, "bin", "nvcc"), os.X_OK))):
            return h
    return None


def wrapped_nvcc(tmp):
    """A PATH whose first nvcc is a wrapper script in /usr/local/bin-like directory (bin/ without
    include/): the toolkit is the one the wrapper runs, not the wrapper's parent."""
    g = "nvcc wrapper on PATH"
    home = cuda_home(os.environ)
    if not home:
        print("  (no CUDA toolkit here: skipped)")
        return
    local = os.path.join(tmp, "local")
    os.makedirs(os.path.join(local, "bin"), exist_ok=True)
    wrapper = os.path.join(local, "bin", "nvcc")
    with open(wrapper, "w", encoding="utf-8") as f:
        f.write('#!/bin/sh\nexec %s/bin/nvcc "$@"\n' % home)
    os.chmod(wrapper, 0o755)
    env = {"PATH": local + "/bin:" + os.environ.get("PATH", ""), "CUDA_HOME": "", "CUDA_PATH": ""}
    rc, site, out, err = detect(tmp, "wrapped.yaml", env)
    T.check(g, rc == 0 and site is not None, "rc %d: %s" % (rc, err))
    info = externals(site or {}).get("cuda-toolkit", {}).get("info", {})
    T.check(g, info.get("cuda-home") == home and info.get("nvcc") == home + "/bin/nvcc",
            "took %r, want %s" % (info, home))


def this_machine(tmp):
    g = "this machine"
    rc, site, out, err = detect(tmp, "site.yaml")
    T.check(g, rc == 0 and site is not None, "rc %d: %s" % (rc, err))
    if not site:
        return None
    check_common(g, site)
    T.check(g, out.startswith("site: ") and "written to" in out, "summary: %r" % out)
    ext = externals(site)
    virtual = site.get("virtual") or {}

    glibc = os.confstr("CS_GNU_LIBC_VERSION").split()[1]
    T.check(g, virtual.get("__glibc", {}).get("version") == ".".join(glibc.split(".")[:2]),
            "__glibc %r, confstr %s" % (virtual.get("__glibc"), glibc))
    if os.uname().machine == "x86_64":
        T.check(g, str(virtual.get("__archspec", {}).get("build", "")).startswith("x86_64"),
                "__archspec %r" % virtual.get("__archspec"))

    parsable = tool("ompi_info", "--parsable")
    if parsable and shutil.which("mpicc"):
        want = re.search(r"^ompi:version:full:(\S+)", parsable, re.M).group(1)
        e = ext.get("openmpi", {})
        T.check(g + ": Open MPI", e.get("version") == want, "openmpi %r, ompi_info %s" % (e, want))
        T.check(g + ": Open MPI", "dep:virtual/interface/mpi" in e.get("provides", []), repr(e))
        info = e.get("info", {})
        T.check(g + ": Open MPI", info.get("mpicc") == shutil.which("mpicc"), repr(info.get("mpicc")))
        T.check(g + ": Open MPI", info.get("compile-flags") == tool("mpicc", "--showme:compile").split(),
                repr(info.get("compile-flags")))
        T.check(g + ": Open MPI", info.get("link-flags") == tool("mpicc", "--showme:link").split(),
                repr(info.get("link-flags")))
        T.check(g + ": Open MPI", info.get("abi") == "openmpi-" + want.split(".")[0], repr(info.get("abi")))
    else:
        print("  (no Open MPI here: skipped)")

    openblas = tool("pkg-config", "--modversion", "openblas")
    if openblas:
        e = ext.get("openblas", {})
        T.check(g + ": OpenBLAS", e.get("version") == openblas, "openblas %r, pkg-config %s" % (e, openblas))
        T.check(g + ": OpenBLAS", {"dep:virtual/interface/blas", "dep:virtual/interface/lapack"}
                <= set(e.get("provides", [])), repr(e.get("provides")))
        info = e.get("info", {})
        T.check(g + ": OpenBLAS", info.get("link-flags") == tool("pkg-config", "--libs", "openblas").split(),
                repr(info))
        libdir = tool("pkg-config", "--variable=libdir", "openblas") or ""
        if "pthread" in libdir:
            T.check(g + ": OpenBLAS", info.get("threading") == "pthreads" and
                    e.get("build") == "external_site_pthreads", repr(e))
    else:
        print("  (no OpenBLAS pkg-config here: skipped)")

    home = cuda_home(os.environ)
    if home:
        nvcc = os.path.join(home, "bin", "nvcc")
        want = re.search(r", V(\S+)", tool(nvcc, "--version")).group(1)
        e = ext.get("cuda-toolkit", {})
        T.check(g + ": CUDA", e.get("version") == want, "cuda-toolkit %r, nvcc %s" % (e, want))
        T.check(g + ": CUDA", e.get("prefix") == os.path.realpath(home), repr(e.get("prefix")))
        T.check(g + ": CUDA", "dep:virtual/compiler/cuda" in e.get("provides", []), repr(e.get("provides")))
        info = e.get("info", {})
        T.check(g + ": CUDA", info.get("nvcc") == nvcc and info.get("cuda-home") == home, repr(info))
        archs = ["%s.%s" % (a[8:-1], a[-1]) for a in tool(nvcc, "--list-gpu-arch").split()]
        T.check(g + ": CUDA", sorted(info.get("supported-archs", [])) == sorted(archs),
                "%r vs %r" % (info.get("supported-archs"), archs))
        if not shutil.which("nvidia-smi"):
            T.check(g + ": CUDA", str(info.get("driver", "")).startswith("none"), repr(info.get("driver")))
            majors = sorted({a.split(".")[0] for a in archs}, key=int)
            T.check(g + ": CUDA", [a.split(".")[0] for a in info.get("arch-list", [])] == majors,
                    repr(info.get("arch-list")))
    else:
        print("  (no CUDA toolkit here: skipped)")

    for cmd, name, depurl in (("gcc", "gcc", "c"), ("g++", "gxx", "cxx"), ("gfortran", "gfortran", "fortran")):
        want = tool(cmd, "-dumpfullversion")
        if not want:
            print("  (no %s here: skipped)" % cmd)
            continue
        e = ext.get(name, {})
        T.check(g + ": compilers", e.get("version") == want, "%s %r, %s -dumpfullversion %s" % (name, e, cmd, want))
        T.check(g + ": compilers", "dep:virtual/compiler/" + depurl in e.get("provides", []), repr(e))
        key = {"c": "cc", "cxx": "cxx", "fortran": "fc"}[depurl]
        T.check(g + ": compilers", os.access(e.get("info", {}).get(key, ""), os.X_OK), repr(e.get("info")))
    T.check(g + ": compilers", site["info"].get("FC") == shutil.which("gfortran") or not shutil.which("gfortran"),
            repr(site["info"].get("FC")))

    probe = "import platform, sys; print(platform.python_version()); print(sys.executable)"
    pythons = []
    for cmd in ("python3", "/usr/bin/python3"):
        out = tool(shutil.which(cmd) or cmd, "-c", probe) if shutil.which(cmd) else None
        if out and out.split("\n")[1] not in [p[1] for p in pythons]:
            pythons.append(tuple(out.split("\n")))
    e = ext.get("python", {})
    info = e.get("info", {})
    T.check(g + ": Python", e.get("version") == pythons[0][0], "python %r, want %s" % (e.get("version"), pythons))
    T.check(g + ": Python", info.get("versions") == [p[0] for p in pythons], repr(info.get("versions")))
    T.check(g + ": Python", info.get("executables") == [p[1] for p in pythons], repr(info.get("executables")))
    for key in ("include", "platlib", "purelib", "stdlib", "scripts", "ext-suffix"):
        T.check(g + ": Python", len(info.get(key, [])) == len(pythons), "%s: %r" % (key, info.get(key)))

    rc, out, err = run_cli("site", "show", os.path.join(tmp, "site.yaml"))
    T.check(g + ": show", rc == 0 and all(name in out for name in ext), "rc %d %s %s" % (rc, out, err))
    rc, out2, err = run_cli("site", "show", "--yaml", os.path.join(tmp, "site.yaml"))
    T.check(g + ": show", rc == 0 and yaml.safe_load(out2) == site, "show --yaml differs: %s" % err)

    # the solver takes the file: DepURLs and a conda name answered by the site
    records = [{"name": "usempi", "version": "1", "depends": ["dep:virtual/interface/mpi"]},
               {"name": "useblas", "version": "1", "depends": ["dep:virtual/interface/blas"]},
               {"name": "mpi4py", "version": "3.1.6", "depends": ["openmpi >=4.1,<5"]},
               {"name": "openmpi", "version": "4.1.6"}]
    specs = ["usempi"] + (["useblas"] if "openblas" in ext else []) + (["mpi4py"] if "openmpi" in ext else [])
    rc, j, err = solve(tmp, os.path.join(tmp, "site.yaml"), specs, records)
    p = picked(j)
    T.check(g + ": solve", rc == 0 and j and j.get("success"), "rc %d %s" % (rc, err))
    mpi = [n for n, r in p.items() if r.get("origin") == "site" and
           "dep:virtual/interface/mpi" in ext.get(n, {}).get("provides", [])]
    T.check(g + ": solve", len(mpi) == 1, "the site's MPI answers usempi: %r" % p)
    if "openmpi" in ext:
        T.check(g + ": solve", p.get("openmpi", {}).get("version") == ext["openmpi"]["version"] and
                p["openmpi"].get("channel") == "@site", repr(p.get("openmpi")))
    if "openblas" in ext:
        T.check(g + ": solve", p.get("openblas", {}).get("origin") == "site", repr(p.get("openblas")))
    return site


def fake_machine(tmp):
    g = "fake MPICH + Lmod"
    env = {"PATH": "%s/mpich:%s/gpu:%s" % (FAKE, FAKE, os.environ.get("PATH", "")),
           "CUDA_HOME": FAKE + "/cuda",
           "LOADEDMODULES": "mpich/4.1.2:gcc/12.2.0:cuda/12.4",
           "_LMFILES_": "/opt/fake/modulefiles/mpich/4.1.2.lua:/opt/fake/modulefiles/gcc/12.2.0.lua:"
                        "/opt/fake/modulefiles/cuda/12.4.lua",
           "MODULEPATH": "/opt/fake/modulefiles:/opt/fake/more",
           "LMOD_VERSION": "8.7.14"}
    rc, site, out, err = detect(tmp, "fake.yaml", env)
    T.check(g, rc == 0 and site is not None, "rc %d: %s" % (rc, err))
    if not site:
        return
    check_common(g, site)
    ext = externals(site)
    e = ext.get("mpich", {})
    info = e.get("info", {})
    T.check(g, e.get("version") == "4.1.2", repr(e))
    T.check(g, e.get("prefix") == "/opt/fake/mpich-4.1.2", repr(e.get("prefix")))
    T.check(g, e.get("found-by") == FAKE + "/mpich/mpichversion", repr(e.get("found-by")))
    T.check(g, e.get("module") == "mpich/4.1.2", repr(e.get("module")))
    T.check(g, e.get("provides") == ["dep:virtual/interface/mpi", "dep:generic/mpich"], repr(e.get("provides")))
    T.check(g, info.get("abi") == "mpich" and info.get("compiler") == "gcc" and info.get("device") == "ch4:ofi",
            repr(info))
    T.check(g, info.get("mpicc") == FAKE + "/mpich/mpicc" and info.get("mpicxx") == FAKE + "/mpich/mpicxx"
            and info.get("mpifort") == FAKE + "/mpich/mpifort", repr(info))
    T.check(g, info.get("compile-flags") == ["-I/opt/fake/mpich-4.1.2/include"], repr(info.get("compile-flags")))
    T.check(g, info.get("link-flags") == ["-L/opt/fake/mpich-4.1.2/lib", "-Wl,-rpath", "-Wl,/opt/fake/mpich-4.1.2/lib",
                                          "-Wl,--enable-new-dtags", "-lmpi"], repr(info.get("link-flags")))
    T.check(g, "openmpi" not in ext, "the fake mpicc hides Open MPI: %r" % list(ext))
    top = site.get("info", {})
    T.check(g, top.get("module-system") == "Lmod 8.7.14", repr(top.get("module-system")))
    T.check(g, top.get("modules") == ["mpich/4.1.2", "gcc/12.2.0", "cuda/12.4"], repr(top.get("modules")))
    T.check(g, top.get("module-files") == env["_LMFILES_"].split(":"), repr(top.get("module-files")))
    T.check(g, top.get("modulepath") == ["/opt/fake/modulefiles", "/opt/fake/more"], repr(top.get("modulepath")))
    if "gcc" in ext:
        T.check(g, ext["gcc"].get("module") == "gcc/12.2.0", repr(ext["gcc"]))
    c = ext.get("cuda-toolkit", {})
    cinfo = c.get("info", {})
    T.check(g + ": CUDA", c.get("version") == "12.4.131" and c.get("module") == "cuda/12.4", repr(c))
    T.check(g + ": CUDA", c.get("prefix") == FAKE + "/cuda" and cinfo.get("nvcc") == FAKE + "/cuda/bin/nvcc",
            repr(c))
    T.check(g + ": CUDA", cinfo.get("gpus") == ["NVIDIA H200 (9.0)", "NVIDIA A100-SXM4-80GB (8.0)"], repr(cinfo))
    T.check(g + ": CUDA", cinfo.get("arch-list") == ["9.0", "8.0"] and cinfo.get("driver") == "570.124.06",
            repr(cinfo))
    T.check(g + ": CUDA", cinfo.get("supported-archs", [""])[0] == "5.0" and len(cinfo["supported-archs"]) == 14,
            repr(cinfo.get("supported-archs")))
    records = [{"name": "usempi", "version": "1", "depends": ["dep:virtual/interface/mpi"]},
               {"name": "mpich", "version": "4.2.0"}, {"name": "needmpich", "version": "1",
                                                       "depends": ["mpich >=4.1,<5"]}]
    rc, j, err = solve(tmp, os.path.join(tmp, "fake.yaml"), ["usempi", "needmpich"], records)
    p = picked(j)
    T.check(g + ": solve", rc == 0 and p.get("mpich", {}).get("channel") == "@site" and
            p["mpich"].get("version") == "4.1.2", "rc %d %r %s" % (rc, p, err))

    g = "Intel MPI, Cray MPICH, Environment Modules"
    env = {"I_MPI_ROOT": FAKE + "/impi", "CRAY_MPICH_DIR": "/opt/cray/pe/mpich/8.1.25/ofi/gnu/9.1",
           "LOADEDMODULES": "cray-mpich/8.1.25:intel-oneapi-mpi/2021.10.0",
           "MODULESHOME": "/usr/share/modules", "LMOD_VERSION": "", "LMOD_CMD": "", "LMOD_DIR": ""}
    rc, site, out, err = detect(tmp, "intel-cray.yaml", env)
    T.check(g, rc == 0 and site is not None, "rc %d: %s" % (rc, err))
    if not site:
        return
    check_common(g, site)
    ext = externals(site)
    e = ext.get("impi_rt", {})
    info = e.get("info", {})
    T.check(g, e.get("version") == "2021.10" and info.get("abi") == "mpich", repr(e))
    T.check(g, e.get("found-by") == FAKE + "/impi/bin/mpiicc -v", repr(e.get("found-by")))
    T.check(g, info.get("compiler") == "icx" and info.get("I_MPI_ROOT") == FAKE + "/impi", repr(info))
    T.check(g, info.get("compile-flags") == ["-I/opt/fake/intel/mpi/2021.10.0/include"], repr(info))
    T.check(g, info.get("link-flags", [])[-4:] == ["-lmpifort", "-lmpi", "-ldl", "-lrt", "-lpthread"][-4:] and
            "/opt/fake/intel/mpi/2021.10.0/lib" in info.get("link-flags", []), repr(info.get("link-flags")))
    T.check(g, e.get("module") == "intel-oneapi-mpi/2021.10.0", repr(e.get("module")))
    e = ext.get("cray-mpich", {})
    T.check(g, e.get("version") == "8.1.25" and e.get("prefix") == env["CRAY_MPICH_DIR"] and
            e.get("info", {}).get("abi") == "mpich" and e.get("module") == "cray-mpich/8.1.25", repr(e))
    T.check(g, site.get("info", {}).get("module-system") == "Environment Modules", repr(site.get("info")))


def hand_edits(tmp, machine):
    g = "hand edits survive"
    path = os.path.join(tmp, "site.yaml")
    site = load(path)
    ext = site["externals"]
    first = ext[0]
    first["version"], first["found-by"] = "99.1", "hand: the admins' build"
    kept_name = first["name"]
    replaced = ext[1] if len(ext) > 1 else None
    if replaced:
        real_version = replaced["version"]
        replaced["version"] = "0.0.1"   # found-by untouched: detection wins
    ext.append({"name": "hdf5", "version": "1.14.3", "provides": ["dep:generic/hdf5"]})
    site.setdefault("virtual", {})["__cuda"] = "12.4"
    site["info"]["cluster"] = "test-cluster"
    site["info"]["modules"] = ["stale/1"]
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(site, f, sort_keys=False)
    rc, out, err = run_cli("site", "detect", "-o", path, env={"LOADEDMODULES": ""})
    T.check(g, rc == 0, "rc %d %s" % (rc, err))
    again = load(path)
    e = externals(again)
    T.check(g, e.get(kept_name, {}).get("version") == "99.1" and
            e[kept_name].get("found-by") == "hand: the admins' build", repr(e.get(kept_name)))
    if replaced:
        T.check(g, e.get(replaced["name"], {}).get("version") == real_version, repr(e.get(replaced["name"])))
    T.check(g, e.get("hdf5", {}).get("provides") == ["dep:generic/hdf5"], repr(e.get("hdf5")))
    T.check(g, again["virtual"].get("__cuda", {}).get("version") == "12.4", repr(again["virtual"]))
    T.check(g, again["info"].get("cluster") == "test-cluster", repr(again["info"]))
    T.check(g, "modules" not in again["info"], "stale detected info kept: %r" % again["info"])
    T.check(g, [x["name"] for x in again["externals"]][:len(ext)] == [x["name"] for x in ext],
            "the order changed: %r" % [x["name"] for x in again["externals"]])
    T.check(g, "%d from the base file" % (len(ext) + len(site["virtual"])) in out, repr(out))

    g = "an admin base file"
    admin = os.path.join(tmp, "admin.yaml")
    with open(admin, "w", encoding="utf-8") as f:
        f.write("# the admins'\nformat: 1\ninfo: {contact: hpc@example.org}\nexternals:\n"
                "  - name: mpich\n    version: 3.4.3\n    found-by: hand\n    module: cray-mpich/8.1.25\n"
                "    provides: [dep:virtual/interface/mpi]\n")
    rc, out, err = run_cli("site", "detect", "--base", admin)
    T.check(g, rc == 0, "rc %d %s" % (rc, err))
    got = yaml.safe_load(out) if rc == 0 else {}
    e = externals(got)
    T.check(g, e.get("mpich", {}).get("version") == "3.4.3" and got["info"].get("contact") == "hpc@example.org",
            repr(e.get("mpich")))
    T.check(g, got["externals"][0]["name"] == "mpich" and len(e) == len(externals(machine)) + ("mpich" not in externals(machine)),
            repr(list(e)))


def errors(tmp):
    g = "errors"
    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w", encoding="utf-8") as f:
        f.write("format: 1\nexternals:\n  - name: openmpi\n    prefx: /usr\n    version: 1\n")
    cases = [
        (("site",), 2, "usage: hpcbuild site"),
        (("site", "frob"), 2, "hpcbuild: site: unknown subcommand 'frob': expected detect or show"),
        (("site", "detect", "--bogus"), 2, "hpcbuild: site detect: unexpected argument '--bogus'"),
        (("site", "detect", "-o"), 2, "hpcbuild: site detect: -o needs a FILE"),
        (("site", "detect", "--base", os.path.join(tmp, "missing.yaml")), 1,
         "hpcbuild: site file: cannot open '%s'" % os.path.join(tmp, "missing.yaml")),
        (("site", "detect", "--base", bad), 2,
         "hpcbuild: %s:4:5: unknown key 'prefx' in external 'openmpi'" % bad),
        (("site", "detect", "-o", bad), 2, "hpcbuild: %s:4:5: unknown key 'prefx'" % bad),
        (("site", "show", bad), 2, "hpcbuild: %s:4:5: unknown key 'prefx'" % bad),
        (("site", "show", os.path.join(tmp, "missing.yaml")), 1, "hpcbuild: site file: cannot open"),
        (("site", "show", "a", "b"), 2, "hpcbuild: site show: unexpected argument 'b'"),
        (("site", "detect", "-o", os.path.join(tmp, "no-such-dir", "x.yaml"), "--base", "none"), 1,
         os.path.join(tmp, "no-such-dir")),
    ]
    for args, want_rc, want in cases:
        rc, out, err = run_cli(*args)
        T.check(g, rc == want_rc and want in err, "%s: rc %d, stderr %r" % (" ".join(args), rc, err))
    T.check(g, open(bad, encoding="utf-8").read().endswith("version: 1\n"), "a bad -o file was overwritten")
    rc, out, err = run_cli("site", "--help")
    T.check(g, rc == 0 and "site detect" in out, repr(out))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        machine = this_machine(tmp)
        fake_machine(tmp)
        wrapped_nvcc(tmp)
        if machine:
            hand_edits(tmp, machine)
        errors(tmp)
    T.finish()


main()
