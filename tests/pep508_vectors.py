"""PEP 508 requirements and markers against packaging 26.3's test vectors
(../shared/testdata/versions/pypa-packaging/pep508_*.json and raw-parametrize),
run through the test driver.  Every case counts; none is skipped.

Environments: packaging evaluates markers against default_environment() of the
running interpreter, overridden by the given values, with extra="" (metadata
context).  The default environment here is /usr/bin/python3's (its packaging
computes default_environment() the same way 26.3 does)."""
import json, os, sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import Tally, drive, load_json

from packaging.markers import default_environment

DEFAULT_ENV = dict(default_environment())
t = Tally()
req = load_json("versions", "pypa-packaging", "pep508_requirements.json")
mk = load_json("versions", "pypa-packaging", "pep508_markers.json")
raw_req = load_json("versions", "pypa-packaging", "raw-parametrize", "test_requirements.json")["parametrize"]
raw_mk = load_json("versions", "pypa-packaging", "raw-parametrize", "test_markers.json")["parametrize"]


def cases(table, name):
    """The cases of a single-argnames parametrize table."""
    return [c for group in table[name] for c in group["cases"]]


def env_fields(env, context="metadata"):
    merged = dict(DEFAULT_ENV)
    if context == "metadata":
        merged["extra"] = ""
    if env:
        merged.update(env)
    out = []
    for k, v in merged.items():
        if v is None and k == "extra":
            v = ""
        if isinstance(v, (set, frozenset, list)):
            out.append(k + "[]")
            out.extend(k + "[]=" + i for i in sorted(v))
        else:
            out.append(k + "=" + v)
    return out


# ---- batch everything, then check --------------------------------------------------
checks = []   # (group, request, predicate(resp) -> (ok, detail))


def add(group, request, pred):
    checks.append((group, request, pred))


def expect_req(fields):
    def pred(r):
        want = ["ok", fields["str"], fields["name"], ",".join(fields["extras"]),
                fields["specifier"], fields["url"] or "", fields["marker"] or ""]
        return r == want, "got %r want %r" % (r, want)
    return pred


def expect_ok_str(s):
    return lambda r: (r == ["ok", s], "got %r want %r" % (r, s))


def expect_error(r):
    return r[0] == "error" and len(r) == 2 and "position" in r[1], "got %r, want an error" % (r,)


def expect_bool(b):
    return lambda r: (r == ["true" if b else "false"], "got %r want %r" % (r, b))


def expect_eval_error(r):
    return r[0] == "error", "got %r, want an evaluation error" % (r,)


# requirements: the generated cartesian product, every field and str()
for c in req["generated_valid"]["cases"]:
    add("req.generated_valid", ["pep508.requirement", c["requirement"]], expect_req(c))
for c in req["normalized"]:
    add("req.normalized", ["pep508.requirement", c["input_req"]],
        lambda r, c=c: (r[:2] == ["ok", c["norm_req"]], "%r -> %r" % (c["input_req"], r)))
for a, b in req["equal"]:
    add("req.equal", ["pep508.requirement_equal", a, b], expect_bool(True))
    add("req.equal.str", ["pep508.requirement", a], lambda r, b=b: (r[0] == "ok", r))
for a, b in req["equivalent"]:
    add("req.equivalent", ["pep508.requirement_equal", a, b], expect_bool(True))
for a, b in req["different"]:
    add("req.different", ["pep508.requirement_equal", a, b], expect_bool(False))

# requirement raw parametrize tables
for c in cases(raw_req, "TestRequirementParsing.test_valid_marker"):
    add("req.raw.valid_marker", ["pep508.requirement", "name; " + c["marker"]],
        lambda r: (r[0] == "ok", r))
for c in cases(raw_req, "TestRequirementParsing.test_file_url"):
    add("req.raw.file_url", ["pep508.requirement", "name @ " + c["url"]],
        lambda r, u=c["url"]: (r[0] == "ok" and r[5] == u, r))
for lb in [c["line_break"] for c in raw_req["TestRequirementParsing.test_error_when_suffixed_with_line_break"][0]["cases"]]:
    for rq in [c["requirement"] for c in raw_req["TestRequirementParsing.test_error_when_suffixed_with_line_break"][1]["cases"]]:
        add("req.raw.line_break", ["pep508.requirement", rq + lb], expect_error)
for c in cases(raw_req, "TestRequirementParsing.test_trailing_horizontal_whitespace"):
    add("req.raw.trailing_ws", ["pep508.requirement_equal", 'name>=1; python_version >= "3"' + c["whitespace"],
                                'name>=1; python_version >= "3"'], expect_bool(True))
    add("req.raw.trailing_ws", ["pep508.requirement", "name @ https://x.org/a" + c["whitespace"]],
        lambda r: (r[:2] == ["ok", "name @ https://x.org/a"], r))
for c in cases(raw_req, "TestRequirementParsing.test_error_when_prefix_match_uses_post_release"):
    add("req.raw.prefix_after_post", ["pep508.requirement", "name%s1.0.post1.*" % c["operator"]], expect_error)
    add("req.raw.prefix_after_post", ["pep508.requirement", "name %s 1.0a1.*" % c["operator"]], expect_error)
for c in cases(raw_req, "TestRequirementParsing.test_error_when_local_version_label_is_used_incorrectly"):
    add("req.raw.local_label", ["pep508.requirement", "name%s1.0+local" % c["operator"]], expect_error)
    add("req.raw.local_label", ["pep508.requirement", "name (%s 2.1.0+cu118)" % c["operator"]], expect_error)
for c in cases(raw_req, "TestRequirementParsing.test_error_invalid_marker_malformed_quoted_string"):
    caret = c["expected"].split("\n")[-1]
    pos = len(caret) - 4 - 1   # "    " prefix; the caret sits at the error position
    add("req.raw.malformed_quoted", ["pep508.requirement", c["to_parse"]],
        lambda r, pos=pos: (r[0] == "error" and "quoted string" in r[1] and
                            ("at position %d:" % pos) in r[1], r))
g = raw_req["TestRequirementBehaviour.test_str_and_repr"]
for u in g[0]["cases"]:
    for e in g[1]["cases"]:
        for m in g[2]["cases"]:
            s = "name" + e["extras"] + u["url_or_specifier"] + m["marker"]
            add("req.raw.str_and_repr", ["pep508.requirement", s],
                lambda r, s=s: (r[:2] == ["ok", s.strip()], "%r -> %r" % (s, r)))
for c in cases(raw_req, "TestRequirementBehaviour.test_equal_reqs_equal_hashes"):
    add("req.raw.equal", ["pep508.requirement_equal", c["dep1"], c["dep2"]], expect_bool(True))
for c in cases(raw_req, "TestRequirementBehaviour.test_equivalent_reqs_equal_hashes_unequal_strings"):
    add("req.raw.equivalent", ["pep508.requirement_equal", c["dep1"], c["dep2"]], expect_bool(True))
    add("req.raw.equivalent.str_differs", ["pep508.requirement", c["dep1"]],
        lambda r, d2=c["dep2"]: (r[0] == "ok" and r[1] != d2, r))
for c in cases(raw_req, "TestRequirementBehaviour.test_different_reqs_different_hashes"):
    add("req.raw.different", ["pep508.requirement_equal", c["dep1"], c["dep2"]], expect_bool(False))
for c in cases(raw_req, "test_pickle_requirement_roundtrip"):
    add("req.raw.roundtrip", ["pep508.requirement_equal", c["req_str"], c["req_str"]], expect_bool(True))
for c in cases(raw_req, "test_pickle_requirement_setstate_rejects_invalid_string"):
    add("req.raw.invalid", ["pep508.requirement", c["invalid_requirement"]], expect_error)
add("req.raw.empty_extras", ["pep508.requirement", "name[]"], expect_req(
    {"str": "name", "name": "name", "extras": [], "specifier": "", "url": None, "marker": None}))
add("req.raw.empty_specifier", ["pep508.requirement", "name()"], expect_req(
    {"str": "name", "name": "name", "extras": [], "specifier": "", "url": None, "marker": None}))
for bad in ["", "==0.0", "name[bar baz]", "name[bar, baz,]", "name (>= 1.0", "black (>=20.*) ; extra == 'format'",
            "name[bar, baz >= 1.0", "name[bar, baz", "name @ https://example.com/; extra == 'example'",
            "name; (extra == 'example'", "name @ ", "name; invalid_name", "name; '3.7' <= invalid_name",
            "name; '3.7' notin python_version", "name; '3.6'inpython_version", "name; '3.7' not python_version",
            "name; '3.7' ~ python_version", "name==1.0.org1", "name==", "name 1.0", "demo===x,y"]:
    add("req.errors", ["pep508.requirement", bad], expect_error)

# markers: validity, str(), invalid inputs
for key in ("valid", "valid_pep345", "valid_setuptools_legacy"):
    for m in mk[key]:
        add("marker." + key, ["pep508.marker", m], lambda r: (r[0] == "ok", r))
for c in mk["valid_normalized_str_derived"]["cases"]:
    add("marker.valid_normalized_str", ["pep508.marker", c["marker"]], expect_ok_str(c["str"]))
for m in mk["invalid"]:
    add("marker.invalid", ["pep508.marker", m], expect_error)
for c in mk["str_normalization"]:
    add("marker.str_normalization", ["pep508.marker", c["marker_string"]], expect_ok_str(c["expected"]))
for c in mk["evaluate"]["cases"]:
    add("marker.evaluate", ["pep508.marker_eval", c["marker_string"]] + env_fields(c["environment"]),
        expect_bool(c["expected"]))
ed = mk["extras_and_dependency_groups"]
for var in ed["variables"]:
    for c in ed["cases"]:
        add("marker.extras_and_dependency_groups",
            ["pep508.marker_eval", c["expression"].format(var)] + env_fields({var: {"foo", "bar"}}),
            expect_bool(c["result"]))

# marker raw parametrize tables not covered above
for c in cases(raw_mk, "TestNode.test_value_serialize_chooses_quote_delimiter"):
    add("marker.raw.quote_delimiter", ["pep508.marker", "os_name == " + c["expected"]],
        expect_ok_str("os_name == " + c["expected"]))
for c in cases(raw_mk, "TestMarker.test_parses_invalid_trailing_line_break"):
    add("marker.raw.line_break", ["pep508.marker", 'python_version >= "3"' + c["line_break"]], expect_error)
for c in cases(raw_mk, "TestMarker.test_parses_trailing_horizontal_whitespace"):
    add("marker.raw.trailing_ws", ["pep508.marker", 'python_version >= "3"' + c["whitespace"]],
        expect_ok_str('python_version >= "3"'))
for c in cases(raw_mk, "TestMarker.test_parses_invalid_malformed_quoted_string"):
    pos = len(c["expected"].split("\n")[-1]) - 4 - 1
    add("marker.raw.malformed_quoted", ["pep508.marker", c["marker_string"]],
        lambda r, pos=pos: (r[0] == "error" and "quoted string" in r[1] and ("at position %d:" % pos) in r[1], r))
for c in cases(raw_mk, "TestMarker.test_str_repr_eq_hash"):
    add("marker.raw.str", ["pep508.marker", c["marker_string"]], expect_ok_str(c["expected"]))
    add("marker.raw.str", ["pep508.marker", c["expected"]], expect_ok_str(c["expected"]))
for c in cases(raw_mk, "TestMarker.test_different_markers_different_hashes"):
    add("marker.raw.different", ["pep508.requirement_equal", "x; " + c["example1"], "x; " + c["example2"]],
        expect_bool(False))
for key in ("TestMarker.test_evaluates", "TestMarker.test_evaluate_pep345_markers",
            "TestMarker.test_version_like_equality"):
    for c in cases(raw_mk, key):
        add("marker.raw." + key.split(".")[-1], ["pep508.marker_eval", c["marker_string"]] +
            env_fields(c["environment"]), expect_bool(c["expected"]))
for key in ("TestMarker.test_parses_valid", "TestMarker.test_parses_pep345_valid",
            "TestMarker.test_parses_setuptools_legacy_valid"):
    for c in cases(raw_mk, key):
        add("marker.raw.parses_valid", ["pep508.marker", c["marker_string"]], lambda r: (r[0] == "ok", r))
for c in cases(raw_mk, "TestMarker.test_parses_invalid"):
    add("marker.raw.parses_invalid", ["pep508.marker", c["marker_string"]], expect_error)
for c in cases(raw_mk, "TestMarker.test_membership_value_str_normalization"):
    v = c["variable"]
    add("marker.raw.membership_norm", ["pep508.marker", '"S_P__A_M" in ' + v], expect_ok_str('"s-p-a-m" in ' + v))
for c in cases(raw_mk, "TestMarker.test_membership_value_str_normalization_negated"):
    v = c["variable"]
    add("marker.raw.membership_norm", ["pep508.marker", '"Foo_Bar" not in ' + v],
        expect_ok_str('"foo-bar" not in ' + v))
for c in cases(raw_mk, "TestMarker.test_extras_and_dependency_groups_disallowed"):
    v = c["variable"]
    add("marker.raw.set_disallowed", ["pep508.marker_eval", '"foo" in ' + v] + env_fields(None, "lock_file") +
        [v + "[]" for v in ("extras", "dependency_groups")], expect_bool(False))
    add("marker.raw.set_disallowed", ["pep508.marker_eval", '"foo" in ' + v] + env_fields(None), expect_eval_error)
    add("marker.raw.set_disallowed", ["pep508.marker_eval", '"foo" in ' + v] + env_fields(None, "requirement"),
        expect_eval_error)
g = raw_mk["TestMarker.test_set_valued_marker_on_lhs_raises_undefined_comparison"]
for v in g[0]["cases"]:
    for o in g[1]["cases"]:
        add("marker.raw.set_on_lhs", ["pep508.marker_eval", "%s %s 'foo'" % (v["variable"], o["op"])] +
            env_fields({"extras": set(), "dependency_groups": set()}, "lock_file"), expect_eval_error)
for c in cases(raw_mk, "test_pickle_marker_roundtrip"):
    add("marker.raw.roundtrip", ["pep508.marker", c["marker_str"]], expect_ok_str(c["marker_str"]))

# behaviour the 26.x test suite asserts outside parametrize tables (test_markers.py)
E = env_fields
for m, env, want in [
    ('"2.7.9" < python_full_version', {"python_full_version": "2.7.10"}, True),   # test_prefers_pep440
    ('"2.7.9" < python_full_version', {"python_full_version": "2.7.8"}, False),
    ('"b" < python_full_version', {"python_full_version": "c"}, False),          # test_new_string_rules
    ('"b" < python_full_version', {"python_full_version": "a"}, False),
    ('"b" > "a"', {"a": "a"}, False), ('"b" < "a"', {"a": "a"}, False),
    ('"b" >= "a"', {"a": "a"}, False), ('"b" <= "a"', {"a": "a"}, False), ('"a" <= "a"', {"a": "a"}, True),
    ('python_full_version > "3.6.2"', {"python_full_version": "3.11.0a5"}, True),  # test_allows_prerelease
    ("python_full_version < '3.12'", {"python_full_version": "3.11.1+"}, True),     # untagged build
    ("python_implementation=='Jython'", {"platform_python_implementation": "CPython"}, False),
    ('(extra == "Foo_Bar" or extra == "Baz") and python_version >= "3"',
     {"extra": "foo-bar", "python_version": "3.12"}, True),
    ("os_name == 'foo'", {"os_name": "foo"}, True),
    ('extra == "im_valid"', None, False), ('extra == "im_valid"', {"extra": None}, False),
    ('python_full_version >= "3.13"', {"python_full_version": "3.13.0rc1"}, False),
    ('extra == "postgresql_psycopg2binary"', {"extra": "postgresql-psycopg2binary"}, True),
]:
    add("marker.suite", ["pep508.marker_eval", m] + E(env), expect_bool(want))
for m in ["'2.7.0' ~= os_name", "os_name === 'posix'", "sys_platform === 'linux'", '"b" < "a"',
          "this == 'x'" if False else '"x" == "nonexistent_key"']:
    add("marker.suite.undefined", ["pep508.marker_eval", m] + E(None), expect_eval_error)
for m, want in [("'S_P__A_M' == extra", '"s-p-a-m" == extra'), ("extra == 'S_P__A_M'", 'extra == "s-p-a-m"'),
                ("extra == os_name", "extra == os_name"), ("os_name == extra", "os_name == extra"),
                ('(extra == "Foo_Bar" or extra == "Baz") and python_version >= "3"',
                 '(extra == "foo-bar" or extra == "baz") and python_version >= "3"'),
                ('python_version < "3.10" and ((sys_platform == "linux" or sys_platform == "darwin"))',
                 'python_version < "3.10" and (sys_platform == "linux" or sys_platform == "darwin")')]:
    add("marker.suite.str", ["pep508.marker", m], expect_ok_str(want))
add("marker.suite.both_quotes", ["pep508.marker", "os_name == 'a\\\"b\\'c'"], lambda r: (r[0] == "error", r))

# the interpreter environment equals packaging's default_environment()
add("marker.default_env", ["pep508.default_env", "/usr/bin/python3"],
    lambda r: (r[0] == "ok" and dict(f.split("=", 1) for f in r[1:]) == DEFAULT_ENV, r))
add("marker.default_env", ["pep508.default_env", "/nonexistent/python"], lambda r: (r[0] == "error", r))

responses = drive([c[1] for c in checks])
for (group, request, pred), resp in zip(checks, responses):
    ok, detail = pred(resp)
    t.check(group, ok, "%r: %s" % (request[:2], detail))
t.finish()
