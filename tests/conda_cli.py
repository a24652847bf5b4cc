"""End-to-end tests of the conda commands: `hpcbuild matchspec parse`,
`hpcbuild version sort|compare --ecosystem conda` and
`hpcbuild spec contains --ecosystem conda` (exit statuses and output)."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from hbtest import Tally, json_line, load_json, run_cli  # noqa: E402

t = Tally()


def one_error_line(err, *needles):
    lines = err.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("hpcbuild: ") and all(n in lines[0] for n in needles)


# --- matchspec parse ---------------------------------------------------------
M = load_json("versions", "conda", "conda_match_spec.json")
for c in M["canonical_str"]["cases"]:
    if "tmp_path" in c["spec"]:
        continue
    rc, out, err = run_cli("matchspec", "parse", c["spec"])
    t.check("matchspec.parse", rc == 0 and out == c["str"] + "\n" and err == "",
            "%r -> rc=%d out=%r err=%r" % (c["spec"], rc, out, err))

rc, out, err = run_cli("matchspec", "parse", "--json", "defaults::numpy=1.8=py27_0 [channel=anaconda]")
t.check("matchspec.json", rc == 0 and json_line(out) == {
    "channel": "anaconda", "name": "numpy", "version": "1.8", "build": "py27_0"}, out + err)
rc, out, err = run_cli("matchspec", "parse", "--json", "pkg[extras=[b,a], flags=cpu]")
t.check("matchspec.json", rc == 0 and json_line(out) == {
    "name": "pkg", "extras": ["b", "a"], "flags": ["cpu"]}, out + err)
rc, out, err = run_cli("matchspec", "parse", "--", "numpy >=1.8")
t.check("matchspec.dashdash", rc == 0 and out == "numpy[version='>=1.8']\n", out + err)

for c in M["invalid"]["cases"]:
    rc, out, err = run_cli("matchspec", "parse", c["spec"])
    t.check("matchspec.invalid", rc == 2 and out == "" and one_error_line(err, c["spec"]),
            "%r -> rc=%d out=%r err=%r" % (c["spec"], rc, out, err))

for args, status in ((("matchspec",), 2), (("matchspec", "--help"), 0), (("matchspec", "parse", "-h"), 0),
                     (("matchspec", "bogus"), 2), (("matchspec", "parse"), 2),
                     (("matchspec", "parse", "a", "b"), 2), (("matchspec", "parse", "--frob", "a"), 2)):
    rc, out, err = run_cli(*args)
    ok = rc == status
    if status == 0:
        ok = ok and "usage: hpcbuild matchspec parse" in out
    elif len(args) > 1:
        ok = ok and one_error_line(err)
    t.check("matchspec.usage", ok, "%r -> rc=%d out=%r err=%r" % (args, rc, out, err))

# --- version sort / compare --------------------------------------------------
V = load_json("versions", "conda", "conda_version.json")
for lst in V["ordered_lists"]["lists"]:
    vs = lst["versions"]
    rc, out, err = run_cli("version", "sort", "--ecosystem", "conda", stdin="\n".join(reversed(vs)) + "\n")
    got = out.splitlines()
    # stable sort of the reversed input: equal versions come out in reversed order
    ok = rc == 0 and sorted(got) == sorted(vs)
    for a, b in zip(got, got[1:]):
        if not ok:
            break
        rc2, o2, _ = run_cli("version", "compare", "--ecosystem", "conda", a, b)
        ok = rc2 == 0 and o2.strip() in ("<", "=")
    t.check("version.sort", ok, "%s -> rc=%d %r %r" % (lst["test"], rc, got[:6], err))

for a, op, b in (("1.0", "=", "1.0.0"), ("0.4.1+local", "<", "0.4.1"), ("1.1_", "<", "1.1a1"),
                 ("1.0.dev0", ">", "1.0a1"), ("1!0.4.1", ">", "1996.07.12"), ("1.1post1", ">", "1.1.post1")):
    rc, out, err = run_cli("version", "compare", "--ecosystem", "conda", a, b)
    t.check("version.compare", rc == 0 and out == op + "\n", "%s %s -> %r %r" % (a, b, out, err))

for bad in V["invalid_versions"]["cases"]:
    rc, out, err = run_cli("version", "compare", "--ecosystem", "conda", bad, "1.0")
    t.check("version.compare.invalid", rc == 2 and out == "" and one_error_line(err, "invalid version"),
            "%r -> rc=%d %r" % (bad, rc, err))
rc, out, err = run_cli("version", "sort", "--ecosystem", "conda", stdin="1.0\n5.5..mw\n")
t.check("version.sort.invalid", rc == 2 and one_error_line(err, "line 2", "5.5..mw"), err)

# --- spec contains -----------------------------------------------------------
for c in V["version_spec_match"]["cases"] + V["ver_eval"]["cases"]:
    rc, out, err = run_cli("spec", "contains", "--ecosystem", "conda", c["spec"], c["version"])
    want = "%s\t%s\n" % (c["version"], "true" if c["result"] else "false")
    t.check("spec.contains", rc == 0 and out == want, "%r %r -> rc=%d %r %r" % (c["spec"], c["version"], rc, out, err))

for bad in V["invalid_version_specs"]["cases"]:
    rc, out, err = run_cli("spec", "contains", "--ecosystem", "conda", bad, "1.0")
    t.check("spec.contains.invalid", rc == 2 and out == "" and one_error_line(err, "invalid version spec"),
            "%r -> rc=%d %r" % (bad, rc, err))
rc, out, err = run_cli("spec", "contains", "--ecosystem", "conda", ">=1.0", "1.0", "5.5..mw")
t.check("spec.contains.badversion", rc == 2 and out == "1.0\ttrue\n" and one_error_line(err, "5.5..mw"), out + err)

# --- regex version specs: Python's re is the oracle ----------------------------
# conda compiles `^...$` specs with Python's re; a pattern re refuses (e.g. the
# "multiple repeat" that once made glibc's regcomp take seconds) must be refused,
# and an accepted one must match what re.fullmatch matches.
REGEXES = [r"^1\.*$", r"^\**$", r"^1\.2\..*$", r"^a**$", r"^*$", r"^(*)$", r"^1|*$", r"^1\b*$",
           r"^1{2}*$", r"^1{2,3}{2}$", r"^1.{,3}$", r"^1.{1,}$", r"^1\.0{x$", r"^1}$", r"^1\.\d+$",
           r"^(?:1|2)\.0$", r"^[12]\.[0-9]$", r"^1\.0+$", r"^1\.(0|5)?$", r"^(1{64}){64}$",
           "^" + "\\*" * 60 + "t$", "^1" + "*" * 60 + "$"]
for rx in REGEXES:
    try:
        compiled = re.compile(rx)
    except re.error:
        compiled = None
    for ver in ("1.0", "1.5", "2.0", "11.0"):
        rc, out, err = run_cli("spec", "contains", "--ecosystem", "conda", rx, ver)
        if compiled is None:
            ok = rc == 2 and out == "" and one_error_line(err, "invalid version spec", rx)
        else:
            ok = rc == 0 and out == "%s\t%s\n" % (ver, "true" if compiled.fullmatch(ver) else "false")
        t.check("spec.contains.regex", ok, "%r %r -> rc=%d %r %r (re: %s)" % (
            rx, ver, rc, out, err, "error" if compiled is None else "ok"))
        if compiled is None:
            break

t.finish()
