"""Regenerates the bundled example wheel index (examples/index/) with tests/lib/pyindex.py.

    /usr/bin/python3 examples/index/make-index.py

The files are committed; this script only documents how they were made (byte-identical
output is not promised: archives carry timestamps).
"""
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
import pyindex  # noqa: E402


def main():
    with tempfile.TemporaryDirectory() as tmp:
        dists = [
            # an MPI extension shipped as source: PEP 725 says it needs an MPI and a C compiler
            pyindex.make_sdist(tmp, "mpi4py", "4.0.1",
                               pyproject_external={"build-requires": ["dep:virtual/compiler/c"],
                                                   "host-requires": ["dep:virtual/interface/mpi"]}),
            # a pure wheel that needs numpy (conda's will do) and mpi4py
            pyindex.make_wheel(tmp, "hpc-tools", "1.2.0",
                               requires_dist=["numpy>=1.22", "mpi4py>=3.1",
                                              "rich>=13; extra == 'pretty'"],
                               provides_extra=["pretty"]),
            pyindex.make_wheel(tmp, "rich", "13.7.1"),
            pyindex.make_wheel(tmp, "numpy", "2.1.0"),
        ]
        for sub in ("simple", "files"):
            shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
        pyindex.write_index(HERE, dists)


if __name__ == "__main__":
    main()
