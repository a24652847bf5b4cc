"""The builder end to end (issue 6): `hpcbuild site detect` on this machine, then `hpcbuild install`
of an MPI C extension that exists only as an sdist on a loopback index: the solve matches its PEP 725
dep:virtual/interface/mpi to the site's Open MPI, the sdist is built without isolation in the
environment with the site's MPICC, installed, and runs under mpirun.  A second environment reuses the
build cache; a site with another MPI is a miss.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import buildpkgs  # noqa: E402
import hbtest  # noqa: E402
import pyindex  # noqa: E402

T = hbtest.Tally()
PY = "/usr/bin/python3"


def main():
    if not shutil.which("mpicc") or not shutil.which("mpirun"):
        print("SKIP: no mpicc/mpirun on PATH (Debian's openmpi-bin and libopenmpi-dev)")
        T.check("skipped visibly", True)
        T.finish()
    tmp = tempfile.mkdtemp(prefix="hb-build-install-")
    env = {"HPCBUILD_CACHE": os.path.join(tmp, "cache")}
    try:
        site = os.path.join(tmp, "site.yaml")
        rc, out, err = hbtest.run_cli("site", "detect", "-o", site, "--base", "none", env=env)
        text = open(site).read() if os.path.exists(site) else ""
        T.check("site.detect", rc == 0 and "name: openmpi" in text and "dep:virtual/interface/mpi" in text,
                out + err)
        src = os.path.join(tmp, "src")
        dists = os.path.join(tmp, "dists")
        os.makedirs(dists)
        sd = buildpkgs.sdist(buildpkgs.write(src, "mpihello"), dists)
        pyindex.write_index(os.path.join(tmp, "idx"), [sd])
        base, stop, log = pyindex.serve(tmp)
        try:
            idx = base + "/idx/simple/"
            prefix = os.path.join(tmp, "env")
            args = ["--python", PY, "--site", site, "--platform", "linux-64", "--index", idx, "pypi::mpihello"]
            rc, out, err = hbtest.run_cli("install", "-p", prefix, *args, env=env)
            T.check("install.builds", rc == 0 and "building mpihello 1.0" in out and "+ mpihello 1.0 wheel" in out,
                    out + err)
            run = subprocess.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", "2",
                                  os.path.join(prefix, "bin", "python"), "-c",
                                  "import mpihello; r, n, s = mpihello.hello(); mpihello.finalize(); "
                                  "print('rank %d of %d sum %d' % (r, n, s))"],
                                 capture_output=True, text=True, timeout=120,
                                 env=dict(os.environ, OMPI_MCA_btl_vader_single_copy_mechanism="none"))
            ranks = sorted(re.findall(r"rank (\d) of 2 sum 1", run.stdout))
            T.check("mpirun", run.returncode == 0 and ranks == ["0", "1"], run.stdout + run.stderr[-800:])
            # the same sdist for a second environment: the build cache answers
            rc, out, err = hbtest.run_cli("install", "-p", os.path.join(tmp, "env2"), *args, env=env)
            T.check("cache.hit", rc == 0 and "cached:" in out, out + err)
            # another MPI on the site: a miss (the build is keyed on what it links against)
            other = os.path.join(tmp, "site-other.yaml")
            with open(other, "w") as f:
                f.write(text.replace('version: "4.1.4"', 'version: "4.1.5"', 1))
            out_dir = os.path.join(tmp, "out")
            rc, out, err = hbtest.run_cli("build", sd, "--python", PY, "--site", other, "-o", out_dir, env=env)
            T.check("cache.miss-on-mpi", rc == 0 and "cache miss" in err and "MPI" in err, out + err)
        finally:
            stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    T.finish()


if __name__ == "__main__":
    main()
