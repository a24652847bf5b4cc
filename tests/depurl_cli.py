"""`hpcbuild depurl parse [--json] DEPURL` end to end: normalized output,
JSON fields, warnings on stderr with the "hpcbuild: warning: " prefix, and
invalid input failing with status 2 and one stderr line naming the input."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import Tally, json_line, run_cli  # noqa: E402

t = Tally()

OK = [
    # input, stdout, number of warnings
    ("dep:generic/openssl", "dep:generic/openssl", 0),
    ("dep:virtual/interface/lapack@>=3.7.1", "dep:virtual/interface/lapack@>=3.7.1", 0),
    ("DEP:Generic/llvm@ <20", "dep:generic/llvm@<20", 0),
    ("dep:pypi/numpy@2.0", "dep:pypi/numpy@==2.0", 0),
    ("dep:pypi/NumPy@>= 2.0", "dep:pypi/numpy@>=2.0", 0),
    ("dep:github/Kitware/CMake", "dep:github/kitware/cmake", 0),
    ("dep:generic/cmake?repository_url=https://gitlab.kitware.com/cmake/cmake",
     "dep:generic/cmake?repository_url=https:%2F%2Fgitlab.kitware.com%2Fcmake%2Fcmake", 0),
    ("pkg:generic/cmake", "dep:generic/cmake", 1),
    ("virtual:compiler/c", "dep:virtual/compiler/c", 1),
    ("virtual:compiler/cpp", "dep:virtual/compiler/cxx", 2),
    ("dep:virtual/compiler/cpp", "dep:virtual/compiler/cxx", 1),
    ("dep:generic/XCB; platform_system=='Linux'", "dep:generic/XCB; platform_system=='Linux'", 0),
    ("dep:generic/openssl@1.1.1w", "dep:generic/openssl@1.1.1w", 1),
]
for arg, want, nwarn in OK:
    rc, out, err = run_cli("depurl", "parse", arg)
    lines = err.splitlines()
    ok = (rc == 0 and out == want + "\n" and len(lines) == nwarn
          and all(ln.startswith("hpcbuild: warning: ") for ln in lines))
    t.check("depurl parse: normalized form", ok, "%r: rc=%d out=%r err=%r" % (arg, rc, out, err))
    # the output is a fixed point
    rc2, out2, err2 = run_cli("depurl", "parse", want)
    t.check("depurl parse: output parses to itself", rc2 == 0 and out2 == out, "%r -> %r" % (want, out2))

rc, out, err = run_cli("depurl", "parse", "--json", "pkg:pypi/Foo_Bar@>=1.0,<2?B=x&a=y#sub/dir; extra == 'nat'")
j = json_line(out)
want = {"depurl": "dep:pypi/foo-bar@<2,>=1.0?a=y&b=x#sub/dir",
        "specifier": "dep:pypi/foo-bar@<2,>=1.0?a=y&b=x#sub/dir; extra == 'nat'",
        "type": "pypi", "namespace": None, "name": "foo-bar", "version": "<2,>=1.0", "version_literal": False,
        "qualifiers": {"a": "y", "b": "x"}, "subpath": "sub/dir", "marker": "extra == 'nat'"}
t.check("depurl parse --json", rc == 0 and j == want and err.startswith("hpcbuild: warning: "),
        "rc=%d out=%r err=%r" % (rc, out, err))
rc, out, err = run_cli("depurl", "parse", "dep:github/AbiWord/enchant", "--json")
t.check("depurl parse --json", rc == 0 and (json_line(out) or {}).get("namespace") == "abiword" and err == "",
        "rc=%d out=%r err=%r" % (rc, out, err))

BAD = [
    ("dep:generic/x@~=1.0", "operator '~=' is not allowed"),
    ("dep:virtual/c", "expected dep:virtual/<namespace>/<name>"),
    ("openssl", "expected the scheme 'dep:'"),
    ("dep:generic/x?a=1&A=2", "duplicate qualifier key 'a'"),
    ("dep:generic/x%zz", "expected two hex digits"),
    ("dep:generic/x\nmore", "unexpected control character"),
    ("dep:generic/x;", "expected an environment marker"),
    ("pkg:virtual/c", "expected dep:virtual/<namespace>/<name>"),          # no warning line before it
    ("dep:virtual/other/x@1.1.1w; a\nb", "control character in the environment marker"),
]
for arg, word in BAD:
    rc, out, err = run_cli("depurl", "parse", arg)
    shown = arg.replace("\n", "?")
    ok = (rc == 2 and out == "" and err.count("\n") == 1 and err.startswith("hpcbuild: invalid DepURL '%s'" % shown)
          and word in err)
    t.check("depurl parse: invalid input exits 2 with one line", ok, "%r: rc=%d err=%r" % (arg, rc, err))

for args, word in [((), "usage: hpcbuild depurl"), (("parse",), "needs a DEPURL"),
                   (("frob", "x"), "unknown subcommand 'depurl frob'"),
                   (("parse", "--bogus", "dep:generic/x"), "unknown option '--bogus'"),
                   (("parse", "dep:generic/x", "dep:generic/y"), "takes one DEPURL")]:
    rc, out, err = run_cli("depurl", *args)
    t.check("depurl: usage errors exit 2", rc == 2 and word in err, "%r: rc=%d err=%r" % (args, rc, err))
rc, out, err = run_cli("depurl", "--help")
t.check("depurl: --help", rc == 0 and out.startswith("usage: hpcbuild depurl"), repr(out[:60]))
rc, out, err = run_cli("depurl", "parse", "--", "dep:generic/x")
t.check("depurl: -- ends options", rc == 0 and out == "dep:generic/x\n", repr((rc, out, err)))
t.finish()
