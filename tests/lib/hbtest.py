"""Shared helpers for hpcbuild's Python test scripts (run with /usr/bin/python3).

Driver: talks to hpcbuild-testdriver (tests/driver/driver.h) in batches.
Tally: counts cases and prints the closing line 'N passed, N failed'.
"""
import json
import os
import subprocess
import sys

SHARED = os.environ.get("HPCBUILD_SHARED") or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared")
SOURCE = os.environ.get("HPCBUILD_SOURCE") or os.path.join(os.path.dirname(__file__), "..", "..")
HPCBUILD = os.environ.get("HPCBUILD", "hpcbuild")
TESTDRIVER = os.environ.get("HPCBUILD_TESTDRIVER", "hpcbuild-testdriver")


def testdata(*parts):
    return os.path.join(SHARED, "testdata", *parts)


def load_json(*parts):
    with open(testdata(*parts), encoding="utf-8") as f:
        return json.load(f)


def _escape(s):
    out = []
    for ch in s:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif o < 0x20 or o == 0x7F:
            out.append("\\x%02x" % o)
        else:
            out.append(ch)
    return "".join(out)


def _unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "x" and i + 3 < len(s):
                out.append(chr(int(s[i + 2:i + 4], 16)))
                i += 4
                continue
            out.append({"t": "\t", "n": "\n", "r": "\r"}.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def check_sanitizers(stderr, what):
    """Raises when a sanitizer reported anything: such a report fails the test
    even when the exit status looks right."""
    for mark in SANITIZER_MARKS:
        if mark in stderr:
            raise AssertionError("%s: sanitizer report:\n%s" % (what, stderr))


def drive(requests):
    """Runs a batch of requests (each a list of strings, command first) through
    the test driver; returns one list of response fields per request."""
    text = "".join("\t".join(_escape(f) for f in req) + "\n" for req in requests)
    proc = subprocess.run([TESTDRIVER], input=text.encode("utf-8", "surrogateescape"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check_sanitizers(proc.stderr.decode("utf-8", "replace"), "test driver")
    if proc.returncode != 0:
        raise RuntimeError("test driver exited with %d:\n%s" % (
            proc.returncode, proc.stderr.decode("utf-8", "replace")))
    lines = proc.stdout.decode("utf-8", "surrogateescape").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(requests):
        raise RuntimeError("driver answered %d lines for %d requests" % (len(lines), len(requests)))
    return [[_unescape(f) for f in line.split("\t")] for line in lines]


def run_cli(*args, stdin=None, env=None):
    """Runs the hpcbuild command (env: variables added to the environment); returns
    (exit status, stdout, stderr)."""
    proc = subprocess.run([HPCBUILD, *args], input=stdin, capture_output=True, text=True,
                          env=dict(os.environ, **env) if env else None)
    check_sanitizers(proc.stderr, "hpcbuild " + " ".join(args))
    return proc.returncode, proc.stdout, proc.stderr


def json_line(out):
    """The object a --json command printed, or None unless out is exactly one
    compact JSON object ({"k":v,...}, no spaces between tokens, UTF-8 not
    escaped) on one line with a trailing newline: the format of every --json."""
    try:
        j = json.loads(out)
    except ValueError:
        return None
    if not isinstance(j, dict) or out != json.dumps(j, ensure_ascii=False, separators=(",", ":")) + "\n":
        return None
    return j


class Tally:
    """Counts cases per group; prints failures (the first few per group) and a summary."""

    def __init__(self, max_report=15):
        self.passed = 0
        self.failed = 0
        self.groups = {}
        self.max_report = max_report

    def check(self, group, ok, detail=""):
        g = self.groups.setdefault(group, [0, 0])
        if ok:
            self.passed += 1
            g[0] += 1
        else:
            self.failed += 1
            g[1] += 1
            if g[1] <= self.max_report:
                print("FAIL [%s] %s" % (group, detail))

    def finish(self):
        for name, (p, f) in sorted(self.groups.items()):
            print("  %-50s %6d passed, %d failed" % (name, p, f))
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed or not self.passed else 0)


def write_channel(root, name, subdirs):
    """Writes a conda channel: subdirs is {subdir: [record, ...]} (build "0", build_number 0,
    no depends and the subdir by default); returns the channel directory."""
    chan = os.path.join(root, name)
    for subdir, records in subdirs.items():
        os.makedirs(os.path.join(chan, subdir), exist_ok=True)
        pkgs = {}
        for r in records:
            r = dict({"build": "0", "build_number": 0, "depends": [], "subdir": subdir}, **r)
            pkgs["%s-%s-%s.tar.bz2" % (r["name"], r["version"], r["build"])] = r
        with open(os.path.join(chan, subdir, "repodata.json"), "w", encoding="utf-8") as f:
            json.dump({"info": {"subdir": subdir}, "packages": pkgs}, f)
    return chan
