"""Regenerates the bundled example conda channel of real packages (examples/pkgs/) with
tests/lib/condapkg.py: what `scripts/example` installs.

    /usr/bin/python3 examples/pkgs/make-channel.py

hpc-hello: a script in bin/ whose text carries the install prefix (a prefix placeholder);
hpc-greet: a noarch: python package with a console entry point.  The files are committed.
"""
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
import condapkg  # noqa: E402

def main():
    with tempfile.TemporaryDirectory() as tmp:
        ph = condapkg.PLACEHOLDER
        hello = ("#!/bin/sh\n# hpc-hello: its text carries the install prefix, replaced at install time\n"
                 "echo \"hpc-hello 1.0 from a conda package, installed in %s\"\n" % ph).encode()
        pkgs = [
            condapkg.make_package(tmp, "hpc-hello", "1.0", files={"bin/hpc-hello": (hello, 0o755)},
                                  text_prefix=("bin/hpc-hello",), placeholder=ph, fmt="conda"),
            condapkg.make_package(tmp, "hpc-greet", "0.3", noarch="python",
                                  files={"site-packages/hpc_greet/__init__.py":
                                         b"def main():\n    print('hpc-greet 0.3: a noarch: python package')\n"},
                                  entry_points=("hpc-greet = hpc_greet:main",), fmt="tar.bz2"),
        ]
        for sub in ("linux-64", "noarch"):
            shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
        condapkg.write_channel(os.path.dirname(HERE), os.path.basename(HERE), pkgs)


if __name__ == "__main__":
    main()
