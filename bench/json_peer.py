"""json_peer.py FILE [N] — Python's json.load on FILE, N times (default 3):
the peer for bench/bench_json.c.  Run with /usr/bin/python3."""
import json
import os
import sys
import time


def main():
    path = sys.argv[1]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    mb = os.path.getsize(path) / 1e6
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        with open(path, "rb") as f:
            doc = json.load(f)
        times.append(time.perf_counter() - t0)
        del doc
    best, mean = min(times), sum(times) / len(times)
    print("python %s json.load: %.1f MB; %d runs: best %.3f s (%.0f MB/s), mean %.3f s (%.0f MB/s)"
          % (sys.version.split()[0], mb, reps, best, mb / best, mean, mb / mean))


if __name__ == "__main__":
    main()
