"""End-to-end checks of `hpcbuild version ... --ecosystem pypi` and
`hpcbuild spec ... --ecosystem pypi`, with packaging 23.0 as the oracle where
its answer did not change in 26 (sorting, explicit --pre/--no-pre)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import Tally, load_json, run_cli  # noqa: E402

from packaging.specifiers import SpecifierSet  # noqa: E402
from packaging.version import Version  # noqa: E402

T = Tally()


def check(group, ok, detail):
    T.check(group, ok, detail)


def one_error_line(group, args, stdin, needle):
    rc, out, err = run_cli(*args, stdin=stdin)
    lines = err.splitlines()
    check(group, rc == 2 and len(lines) == 1 and needle in lines[0] and out == "",
          "%r: rc=%d out=%r err=%r (expected exit 2 and one line naming %r)" % (args, rc, out, err, needle))


# --- version sort: the packaging ordered list, shuffled, sorts back ---
ordered = load_json("versions", "pypa-packaging", "pep440_versions.json")["ordered"]["versions"]
shuffled = ordered[1::2] + ordered[::2]
rc, out, err = run_cli("version", "sort", "--ecosystem", "pypi", stdin="\n".join(shuffled) + "\n")
check("version.sort", rc == 0 and out.splitlines() == ordered, "rc=%d err=%r" % (rc, err))

# stable for equal versions, blank lines skipped, input text kept as written
inp = ["1.0.0", "", "v1.0", " 1.0 ", "1.0a1", "1!0.1", "1.0.post1", "  "]
rc, out, err = run_cli("version", "sort", "--ecosystem", "pypi", stdin="\n".join(inp) + "\n")
check("version.sort", rc == 0 and out.splitlines() == ["1.0a1", "1.0.0", "v1.0", " 1.0 ", "1.0.post1", "1!0.1"],
      "got %r" % out)
want = sorted(ordered, key=Version)
check("version.sort", want == ordered, "packaging's order differs from the list")

# --- version compare ---
pairs = [("1.0", "1.0.0", "="), ("1.0a1", "1.0", "<"), ("1.0+local", "1.0", ">"),
         ("1!0.1", "2.0", ">"), ("1.0.post1", "1.0.1", "<"), ("1.0.DEV", "1.0.dev0", "="),
         ("1.0rc1", "1.0c1", "="), ("1.0+5", "1.0+abc", ">")]
for a, b, want in pairs:
    rc, out, err = run_cli("version", "compare", "--ecosystem", "pypi", a, b)
    oracle = "<" if Version(a) < Version(b) else ">" if Version(a) > Version(b) else "="
    check("version.compare", rc == 0 and out == want + "\n" and want == oracle,
          "%s %s: rc=%d out=%r err=%r" % (a, b, rc, out, err))

# --- invalid input: exit 2, one stderr line naming the input ---
one_error_line("version.invalid", ["version", "compare", "--ecosystem", "pypi", "1.0.0-", "1"], None,
               "'1.0.0-' at position 6")
one_error_line("version.invalid", ["version", "compare", "--ecosystem", "pypi", "1", "french toast"], None,
               "'french toast'")
one_error_line("version.invalid", ["version", "compare", "--ecosystem", "pypi", "1", "1.0\nx"], None,
               "1.0\\x0ax")
one_error_line("version.invalid", ["version", "compare", "--ecosystem", "pypi", "99999999999999999999", "1"],
               None, "too large")
one_error_line("version.invalid", ["version", "sort", "--ecosystem", "pypi"], "1.0\n1..0\n", "'1..0'")
one_error_line("spec.invalid", ["spec", "contains", "--ecosystem", "pypi", ">=1.0+abc", "1.0"], None,
               "'>=1.0+abc'")
one_error_line("spec.invalid", ["spec", "contains", "--ecosystem", "pypi", "=>2.0", "1.0"], None, "'=>2.0'")
one_error_line("spec.invalid", ["spec", "filter", "--ecosystem", "pypi", "~=1"], "1.0\n", "'~=1'")
one_error_line("spec.invalid", ["spec", "contains", "--ecosystem", "pypi", ">=1.0,==1.0a1.*", "1"], None,
               "'==1.0a1.*'")

# --- spec contains ---
cases = [
    ("~=1.4.5a4,!=1.4.7", ["1.4.6", "1.5", "1.4.5a5", "1.4.7", "1.4.5"], None),
    (">=1.0", ["2.0a1", "not a version", "1.0+x"], None),
    (">=1.0", ["2.0a1", "2.0"], "--no-pre"),
    ("<2", ["2.0a1", "1.9", "1.9.post1"], "--pre"),
    ("==1.2.*", ["1.2", "1.2.5", "1.3", "1.2a1"], "--pre"),
    ("===foobar", ["foobar", "FooBar", "foobar "], None),
]
for spec, versions, flag in cases:
    args = ["spec", "contains", "--ecosystem", "pypi"] + ([flag] if flag else []) + [spec] + versions
    rc, out, err = run_cli(*args)
    s = SpecifierSet(spec)
    want = []
    for v in versions:
        if flag is None:
            # packaging 26: a single matching pre-release is accepted; an
            # unparsable string only matches === (computed by hand for 23)
            try:
                Version(v)
                got = s.contains(v, prereleases=True)
            except Exception:
                got = spec.startswith("===") and v.lower() == spec[3:].lower()
        else:
            got = s.contains(v, prereleases=(flag == "--pre"))
        want.append("%s\t%s" % (v, "true" if got else "false"))
    check("spec.contains", rc == 0 and out.splitlines() == want,
          "%r: rc=%d out=%r want=%r err=%r" % (args, rc, out, want, err))

# --- spec filter ---
fcases = [
    (">=1.0", ["0.9", "1.0", "1.1a1", "1.2", "2.0.dev1"], None, ["1.0", "1.2"]),
    (">=1.0", ["0.9", "1.1a1", "2.0.dev1"], None, ["1.1a1", "2.0.dev1"]),   # no final: pre-releases
    (">=1.0", ["0.9", "1.0", "1.1a1"], "--pre", ["1.0", "1.1a1"]),
    (">=1.0a1", ["1.0", "1.1a1"], None, ["1.0", "1.1a1"]),                  # the set names a pre-release
    ("", ["1.0", "2.0a1", "junk"], None, ["1.0", "junk"]),
    ("<2,!=1.5", ["1.4", "1.5", "1.6", "2.0"], "--no-pre", ["1.4", "1.6"]),
]
for spec, versions, flag, want in fcases:
    args = ["spec", "filter", "--ecosystem", "pypi"] + ([flag] if flag else []) + [spec]
    rc, out, err = run_cli(*args, stdin="\n".join(versions) + "\n")
    check("spec.filter", rc == 0 and out.splitlines() == want,
          "%r: rc=%d out=%r want=%r err=%r" % (args, rc, out, want, err))

T.finish()
