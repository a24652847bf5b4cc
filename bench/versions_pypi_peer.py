"""The peer of bench_versions_pypi: the same work with packaging.version.Version
under /usr/bin/python3 (Debian's packaging 23.0).

usage: /usr/bin/python3 bench/versions_pypi_peer.py [FILE]
Without FILE, the same 100,000 generated versions as the C bench (its LCG
reproduced here).  Prints versions parsed/s and compared/s (process CPU time,
as the C bench); the ratio to the C numbers is the speed-up.
"""
import sys
import time

from packaging.version import Version

M = (1 << 64) - 1
state = 440


def rnd(n):
    global state
    state = (state * 6364136223846793005 + 1442695040888963407) & M
    return (state >> 33) % n


def gen():
    s = ""
    if rnd(200) == 0:
        s += "%d!" % (1 + rnd(2))
    shape = rnd(100)
    ncomp = 2 if shape < 15 else 3 if shape < 95 else 4
    s += "%d" % rnd(30)
    for i in range(1, ncomp):
        s += ".%d" % rnd(40 if i == 1 else 30)
    suffix = rnd(100)
    if suffix < 8:
        s += "%s%d" % (["a", "b", "rc"][rnd(3)], rnd(5))
    elif suffix < 11:
        s += ".post%d" % rnd(4)
    elif suffix < 14:
        s += ".dev%d" % rnd(20)
    if rnd(50) == 0:
        s += ["+cu121", "+cpu", "+ubuntu1", "+rocm5.7"][rnd(4)]
    return s


def main():
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f]
    else:
        lines = [gen() for _ in range(100000)]
    n = len(lines)
    rounds = 2
    t0 = time.process_time()
    for _ in range(rounds):
        for s in lines:
            Version(s)
    tparse = time.process_time() - t0

    vs = [Version(s) for s in lines]
    for v in vs:          # warm the cached comparison keys
        v < v
    t0 = time.process_time()
    total = 0
    for _ in range(rounds):
        for i in range(n):
            total += vs[i] < vs[(i * 7919 + 1) % n]
    tcmp = time.process_time() - t0
    count = n * rounds
    print("versions: %d" % n)
    print("parse:   %.3f s for %d = %.0f versions/s" % (tparse, count, count / tparse))
    print("compare: %.3f s for %d = %.0f compares/s (checksum %d)" % (tcmp, count, count / tcmp, total))


if __name__ == "__main__":
    main()
