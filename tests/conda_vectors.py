"""Every case of conda 26.7.1's version and MatchSpec vectors
(../shared/testdata/versions/conda) through hpcbuild-testdriver.

Structured groups are checked directly.  The extracted assert texts
(other_asserts_text and the raw_asserts_* files) are evaluated as Python
expressions against stand-in classes (tests/conda_shim.py) that answer via the
driver; an assert that needs something outside hpcbuild's contract (test
fixtures and local variables, MatchSpec.merge, Channel objects, object
identity, ...) is counted as skipped with its reason, never as passed."""
import collections
import re
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from hbtest import Tally, drive, load_json  # noqa: E402
import conda_shim  # noqa: E402

tally = Tally()
skipped = collections.Counter()


def run(requests):
    return drive(requests)


# --- conda_version.json ---------------------------------------------------

V = load_json("versions", "conda", "conda_version.json")

for lst in V["ordered_lists"]["lists"]:
    vs = lst["versions"]
    group = "ordered_lists.%s" % lst["test"]
    parsed = run([["conda.version.parse", v] for v in vs])
    for i, (v, res) in enumerate(zip(vs, parsed)):
        ok = res[0] == "ok"
        if ok and lst["test"] == "test_version_order":
            ok = res[1] == v.lower().replace("-", "_")
            if ok and "parsed" in lst:
                ok = json.loads(res[2]) == lst["parsed"][i]
        tally.check(group + ".parse", ok, "%r -> %r" % (v, res))
    # neighbours: strictly ascending, except spellings whose parsed components
    # are equal once missing parts count as 0 (0.4 / 0.4.0, 0.5_5 / 0.5-5)
    def norm(p):
        p = [list(c) for c in p]
        for c in p:
            while len(c) > 1 and c[-1] == 0:
                c.pop()
        while len(p) > 1 and p[-1] == [0]:
            p.pop()
        return p
    near = run([["conda.version.compare", a, b] for a, b in zip(vs, vs[1:])])
    for i, res in enumerate(near):
        want = "<"
        if "parsed" in lst and norm(lst["parsed"][i]) == norm(lst["parsed"][i + 1]):
            want = "="
        tally.check(group + ".neighbours", res == [want], "%r vs %r -> %r, want %r" % (vs[i], vs[i + 1], res, want))
    pairs = [(i, j) for i in range(len(vs)) for j in range(i + 1, len(vs))]
    answers = run([["conda.version.compare", vs[i], vs[j]] for i, j in pairs])
    for (i, j), res in zip(pairs, answers):
        # ascending; neighbours written as equal spellings (0.4 / 0.4.0) compare equal
        tally.check(group + ".order", res[0] in ("<", "="), "%r vs %r -> %r" % (vs[i], vs[j], res))

cases = V["ver_eval"]["cases"] + V["version_spec_match"]["cases"]
for c, res in zip(cases, run([["conda.spec.contains", c["spec"], c["version"]] for c in cases])):
    tally.check("spec_match.%s" % c["test"], res == ["true" if c["result"] else "false"],
                "%r contains %r -> %r, want %r" % (c["spec"], c["version"], res, c["result"]))

cases = V["version_order_compare"]["cases"]
for c, res in zip(cases, run([["conda.version.compare", c["a"], c["b"]] for c in cases])):
    want_eq = c["op"] == "=="
    tally.check("version_order_compare", (res[0] == "=") == want_eq and res[0] != "error",
                "%r %s %r -> %r" % (c["a"], c["op"], c["b"], res))

cases = V["version_order_startswith"]["cases"]
for c, res in zip(cases, run([["conda.version.startswith", c["version"], c["prefix"]] for c in cases])):
    tally.check("version_order_startswith", res == ["true" if c["result"] else "false"],
                "%r startswith %r -> %r" % (c["version"], c["prefix"], res))

cases = V["invalid_versions"]["cases"]
for c, res in zip(cases, run([["conda.version.parse", c] for c in cases])):
    tally.check("invalid_versions", res[0] == "error", "%r -> %r" % (c, res))

cases = V["invalid_version_specs"]["cases"]
for c, res in zip(cases, run([["conda.spec.parse", c] for c in cases])):
    tally.check("invalid_version_specs", res[0] == "error", "%r -> %r" % (c, res))

# --- conda_match_spec.json --------------------------------------------------

M = load_json("versions", "conda", "conda_match_spec.json")

cases = M["canonical_str"]["cases"]
for c, res in zip(cases, run([["conda.matchspec.parse", c["spec"]] for c in cases])):
    if "{" in c["spec"] and "tmp_path" in c["spec"]:
        skipped["canonical_str: needs a pytest tmp_path fixture"] += 1
        continue
    tally.check("canonical_str", res[:2] == ["ok", c["str"]], "%r -> %r, want %r" % (c["spec"], res, c["str"]))

cases = M["match_record"]["cases"]
reqs = [["conda.matchspec.match", c["spec"], json.dumps(conda_shim.DPkg(c["package"]))] for c in cases]
for c, res in zip(cases, run(reqs)):
    tally.check("match_record", res == ["true" if c["result"] else "false"],
                "%r on %r -> %r" % (c["spec"], c["package"], res))

cases = M["invalid"]["cases"]
for c, res in zip(cases, run([["conda.matchspec.parse", c["spec"]] for c in cases])):
    tally.check("invalid_matchspec", res[0] == "error", "%r -> %r" % (c["spec"], res))

cases = M["parse_spec_str"]["cases"]
for c, res in zip(cases, run([["conda.matchspec.parse_spec_str", c["spec"]] for c in cases])):
    want = {k: v for k, v in c["parsed"].items() if k != "_original_spec_str"}
    got = json.loads(res[2]) if res[0] == "ok" else res
    tally.check("parse_spec_str", got == want, "%r -> %r, want %r" % (c["spec"], got, want))

P = M["parametrize"]


def param_cases(name):
    return [case for block in P[name] for case in block["cases"]]


for name in ("test_simple", "test_pip_style"):
    cases = param_cases(name)
    for c, res in zip(cases, run([["conda.matchspec.parse", c["spec"]] for c in cases])):
        tally.check(name, res[:2] == ["ok", c["expected_result"]], "%r -> %r" % (c["spec"], res))

cases = param_cases("test_invalid_package_name_rejected")
for c, res in zip(cases, run([["conda.matchspec.parse", c["spec"]] for c in cases])):
    tally.check("test_invalid_package_name_rejected", res[0] == "error" and c["match"] in res[1],
                "%r -> %r (want an error with %r)" % (c["spec"], res, c["match"]))

cases = param_cases("test_valid_package_names")
for c, res in zip(cases, run([["conda.matchspec.parse", c["spec"]] for c in cases])):
    tally.check("test_valid_package_names", res[0] == "ok" and json.loads(res[2])["name"] == c["spec"],
                "%r -> %r" % (c["spec"], res))

cases = param_cases("test_boolean_operator_in_space_separated_build")
for c, res in zip(cases, run([["conda.matchspec.parse", c["spec_str"]] for c in cases])):
    got = json.loads(res[2]).get("build") if res[0] == "ok" else res
    tally.check("test_boolean_operator_in_space_separated_build", got == c["expected_build"],
                "%r -> %r" % (c["spec_str"], got))

cases = param_cases("test_version_with_parentheses")
for c, res in zip(cases, run([["conda.matchspec.parse", c["spec_str"]] for c in cases])):
    got = json.loads(res[2]).get("version") if res[0] == "ok" else res
    tally.check("test_version_with_parentheses", got == c["expected_version"], "%r -> %r" % (c["spec_str"], got))

cases = param_cases("test_invalid_version_reports_spec")
for c, res in zip(cases, run([["conda.matchspec.parse", c["spec"]] for c in cases])):
    tally.check("test_invalid_version_reports_spec", res[0] == "error" and c["spec"] in res[1],
                "%r -> %r" % (c["spec"], res))

cases = param_cases("test_conda_build_form")
for c in cases:
    skipped["test_conda_build_form: conda_build_form() of keyword-built specs is not in the API"] += 1

cases = param_cases("test_conda_env_form")
for c, res in zip(cases, run([["conda.matchspec.parse", c["input_spec"]] for c in cases])):
    # conda_env_form(): str() without the channel prefix, first '==' -> '='
    got = res[1] if res[0] == "ok" else res
    if isinstance(got, str):
        got = got.split("::", 1)[1] if "::" in got else got
        got = got.replace("==", "=", 1)
    tally.check("test_conda_env_form", got == c["expected_output"], "%r -> %r" % (c["input_spec"], got))

cases = param_cases("test_match_spec_repodata_v3")
for c, res in zip(cases, run([["conda.matchspec.parse", c["spec"]] for c in cases])):
    got = json.loads(res[2]) if res[0] == "ok" else {}
    ok = res[0] == "ok" and all(got.get(k) == v for k, v in c["parsed"].items())
    tally.check("test_match_spec_repodata_v3", ok, "%r -> %r" % (c["spec"], res))

cases = param_cases("test_parse_spec_str_with_precompiled_regex")
for c, res in zip(cases, run([["conda.matchspec.parse", c["spec_str"]] for c in cases])):
    got = json.loads(res[2]) if res[0] == "ok" else {}
    ok = got.get("name") == c["expected_name"] and got.get("version") == c["expected_version"]
    tally.check("test_parse_spec_str_with_precompiled_regex", ok, "%r -> %r" % (c["spec_str"], res))

cases = param_cases("test_bad_brackets")
for c, res in zip(cases, run([["conda.matchspec.parse", c["spec"]] for c in cases])):
    if c.get("__marks__"):
        skipped["test_bad_brackets: marked xfail upstream"] += 1
        continue
    tally.check("test_bad_brackets", res[0] == "error" and c["message"] in res[1],
                "%r -> %r (want %r)" % (c["spec"], res, c["message"]))

cases = param_cases("test_when_empty_value_raises")
for c, res in zip(cases, run([["conda.matchspec.parse", "pkg[when=%s]" % c["when_val"]] for c in cases])):
    tally.check("test_when_empty_value_raises", res[0] == "error", "%r -> %r" % (c["when_val"], res))

cases = param_cases("test_when_roundtrip_boolean")
specs = ["pkg[when='%s']" % c["when"] for c in cases]
for c, res in zip(cases, run([["conda.matchspec.parse", s] for s in specs])):
    ok = res[0] == "ok" and json.loads(res[2]).get("when") == c["when"]
    if ok:
        again = run([["conda.matchspec.parse", res[1]]])[0]
        ok = again[:2] == ["ok", res[1]] and json.loads(again[2]).get("when") == c["when"]
    tally.check("test_when_roundtrip_boolean", ok, "%r -> %r" % (c["when"], res))

cases = param_cases("test_extras_flags_empty_value_raises")
for c, res in zip(cases, run([["conda.matchspec.parse", c["spec"]] for c in cases])):
    tally.check("test_extras_flags_empty_value_raises", res[0] == "error", "%r -> %r" % (c["spec"], res))

cases = param_cases("test_parse_ecosystem_corpus")
first = run([["conda.matchspec.parse", c["spec_str"]] for c in cases])
second = run([["conda.matchspec.parse", r[1] if r[0] == "ok" else ""] for r in first])
for c, a, b in zip(cases, first, second):
    # parses (upstream's check), and its canonical string parses again
    tally.check("test_parse_ecosystem_corpus", a[0] == "ok" and b[0] == "ok",
                "%r -> %r -> %r" % (c["spec_str"], a, b))

for name in ("test_hash_merge_with_name", "test_hash_merge_wo_name"):
    skipped["%s: MatchSpec.merge is not in the API" % name] += len(param_cases(name))

# --- assert texts -------------------------------------------------------------

NAMESPACE = {name: getattr(conda_shim, name) for name in (
    "VersionOrder", "VersionSpec", "ver_eval", "normalized_version", "MatchSpec", "DPkg",
    "_parse_spec_str", "ChannelMatch")}


def classify(exc, text=""):
    if isinstance(exc, NameError):
        return "needs a test-local name (%s)" % str(exc).split("'")[1] if "'" in str(exc) else "needs a test-local name"
    if isinstance(exc, SyntaxError):
        if "(, " in text:
            return "keyword-built MatchSpec(name=..., ...) (the C API parses strings)"
        return "not a Python expression after extraction"
    return "uses %s outside the contract (%s)" % (type(exc).__name__, str(exc)[:60])


def run_texts(group, entries):
    def fn(entry):
        return eval(entry["text"], dict(NAMESPACE))  # noqa: S307 - vetted test data

    for entry, outcome, value in conda_shim.evaluate(entries, fn):
        raises = entry.get("kind") == "raises"
        if outcome == "ok":
            if raises:
                tally.check(group, False, "%s: expected an error" % entry["text"][:200])
            else:
                tally.check(group, bool(value), entry["text"][:200])
        elif isinstance(value, conda_shim.InvalidSpec):
            tally.check(group, raises, "%s: raised %s" % (entry["text"][:200], value))
        else:
            skipped["%s: %s" % (group, classify(value, entry["text"]))] += 1


def identity_filter(entries, group):
    """`X is Y` object identity (conda's instance caches) has no C meaning."""
    keep = []
    for e in entries:
        t = e["text"]
        if ("'k': 'unsupported'" in t or "{{'k'" in t or "{'k': 'dict'" in t.split(")")[0]
                or re.search(r"\{[a-z_]+\}", t)):
            skipped["%s: an expression the extractor could not render (or an unfilled f-string)" % group] += 1
        elif " is " in t and not t.rstrip().endswith(("is None", "is False", "is True")):
            skipped["%s: object identity (conda's instance cache)" % group] += 1
        else:
            keep.append(e)
    return keep


RAW_V = load_json("versions", "conda", "raw_asserts_test_version.json")
RAW_M = load_json("versions", "conda", "raw_asserts_test_match_spec.json")


def not_in_raw(entries, raw, group):
    """other_asserts_text repeats raw-assert texts without their kind (assert or
    raises); those are evaluated once, from the raw file, which has the kind."""
    texts = {r["text"] for r in raw}
    keep = []
    for e in entries:
        if e["text"] in texts:
            skipped["%s: duplicate of a raw assert (evaluated there)" % group] += 1
        else:
            keep.append(e)
    return keep


run_texts("version.other_asserts_text",
          identity_filter(not_in_raw(V["other_asserts_text"], RAW_V, "version.other_asserts_text"),
                          "version.other_asserts_text"))
run_texts("match_spec.other_asserts_text",
          identity_filter(not_in_raw(M["other_asserts_text"], RAW_M, "match_spec.other_asserts_text"),
                          "match_spec.other_asserts_text"))
run_texts("raw_asserts_test_version", identity_filter(RAW_V, "raw_asserts_test_version"))
run_texts("raw_asserts_test_match_spec", identity_filter(RAW_M, "raw_asserts_test_match_spec"))

print("skipped (not counted as passed):")
for reason, n in sorted(skipped.items()):
    print("  %5d  %s" % (n, reason))
print("%d skipped" % sum(skipped.values()))
tally.finish()
