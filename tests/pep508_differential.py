"""Differential test: hpcbuild against /usr/bin/python3's packaging (Debian's
23.0) on generated requirements and markers, for the behaviour that did not
change between 23 and 26.3:
  * validity of requirement strings (random valid ones and random one-character
    mutations of them; URL validation, which 26 dropped, is left out),
  * name, PEP 503 canonical name, extras, str(SpecifierSet), URL, and str() of
    markers whose values hold no quote characters,
  * marker evaluation under fixed environments, restricted to the comparisons
    whose meaning 23 and 26 share (version variables against valid versions,
    ==/!=/in/not in on strings, extra ==/!= against non-version names).
Deterministic: a fixed seed."""
import os, random, re, sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import Tally, drive

from packaging.markers import Marker, UndefinedComparison
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier
from packaging.utils import canonicalize_name

rng = random.Random(508)
t = Tally()

NAMES = ["requests", "Scikit_Learn", "zope.interface", "foo-bar.quux_bAz", "A", "x1", "Django",
         "typing_extensions", "a.b-c_d", "PyYAML", "py"]
EXTRAS = ["security", "Tests", "socks", "all_deps", "a", "B", "c-d", "e.f"]
SPECS = [">=1.0", "==2.8.*", "!=1.5.1", "~=1.4.2", "<3", "===foo", "==1.0+local.7", ">1.0a1",
         "<=2!1.0.post1.dev2", "==1.0", "==1.0.0", ">=1.0.0", "!=2.0.*", "~=3.1", ">0.9rc1", "==v1.2",
         "<4.0-alpha", "== 1.0", ">= 2"]
URLS = ["https://example.org/pip-1.3.1.zip", "git+https://github.com/pypa/pip.git@main",
        "https://h.example/x.whl#sha256=abc", "file:///tmp/x.tar.gz"]
STR_VARS = ["os_name", "sys_platform", "platform_machine", "platform_system",
            "platform_python_implementation", "implementation_name", "os.name", "sys.platform",
            "platform.machine", "python_implementation"]
STR_VALUES = ["posix", "nt", "linux", "win", "darwin", "x86_64", "aarch64", "Linux", "Windows",
              "CPython", "PyPy", "cpython", "pypy", "arm", "arm6"]
VER_VARS = ["python_version", "python_full_version", "implementation_version", "platform_release"]
VER_VALUES = ["3", "3.8", "3.12", "3.12.1", "3.13.0rc1", "2.7", "6.1", "6.1.0", "3.12.*", "3.*",
              "1!1.0", "3.8.10", "3.13"]
VER_OPS = ["==", "!=", "<", "<=", ">", ">=", "~=", "==="]
EXTRA_VALUES = ["security", "tests", "Tests", "all_deps", "all-deps", "ALL.DEPS", "docs"]
ENVS = [
    dict(implementation_name="cpython", implementation_version="3.12.1", os_name="posix",
         platform_machine="x86_64", platform_release="6.1.0", platform_system="Linux",
         platform_version="#1 SMP", python_full_version="3.12.1",
         platform_python_implementation="CPython", python_version="3.12", sys_platform="linux",
         extra=""),
    dict(implementation_name="pypy", implementation_version="7.3.17", os_name="nt",
         platform_machine="AMD64", platform_release="10", platform_system="Windows",
         platform_version="10.0.19045", python_full_version="3.8.10",
         platform_python_implementation="PyPy", python_version="3.8", sys_platform="win32",
         extra="all_deps"),
    dict(implementation_name="cpython", implementation_version="3.13.0rc1", os_name="posix",
         platform_machine="arm64", platform_release="23.4.0", platform_system="Darwin",
         platform_version="Darwin Kernel", python_full_version="3.13.0rc1",
         platform_python_implementation="CPython", python_version="3.13", sys_platform="darwin",
         extra="Tests"),
]


def ws(max_n=2):
    return "".join(rng.choice(" \t") for _ in range(rng.randint(0, max_n)))


def quote(v):
    return rng.choice(["'%s'", '"%s"']) % v


def atom(for_str):
    k = rng.random()
    if k < 0.4:
        var, op = rng.choice(STR_VARS), rng.choice(["==", "!=", "in", "not in"])
        val = rng.choice(STR_VALUES)
    elif k < 0.8:
        var = rng.choice(VER_VARS)
        op = rng.choice(VER_OPS + ["in", "not in"])
        val = rng.choice(VER_VALUES)
        if op not in ("==", "!=") and val.endswith("*"):
            val = val[:-2]
        if op == "~=" and "." not in val:
            val += ".0"
    else:
        var, op = "extra", rng.choice(["==", "!="])
        val = rng.choice(EXTRA_VALUES)
        if for_str:
            val = canonicalize_name(val)   # 23 normalizes only the first item when parsing
    sp = " " if op in ("in", "not in") else ws()
    # a literal on the left is the version being tested: 23 raises for "3.*" there
    if rng.random() < 0.3 and var != "extra" and "*" not in val:
        return quote(val) + sp + op + sp + var
    return var + sp + op + sp + quote(val)


def marker(depth=0, for_str=False):
    parts = []
    n = rng.randint(1, 3)
    for i in range(n):
        if i:
            parts.append(" " + rng.choice(["and", "or"]) + " ")
        # no group whose only content is a group: "a and ((b or c))" is where
        # packaging 23 (and 26.3's _format_marker) drop parentheses that matter
        if depth < 2 and rng.random() < 0.25 and not (depth > 0 and n == 1):
            parts.append("(" + ws(1) + marker(depth + 1, for_str) + ws(1) + ")")
        else:
            parts.append(atom(for_str))
    return "".join(parts)


def requirement():
    s = rng.choice(NAMES) + ws()
    if rng.random() < 0.5:
        ex = rng.sample(EXTRAS, rng.randint(0, 3))
        s += "[" + ws() + (ws() + "," + ws()).join(ex) + ws() + "]" + ws()
    url = rng.random() < 0.2
    if url:
        s += "@" + ws() + rng.choice(URLS)
    elif rng.random() < 0.8:
        specs = rng.sample(SPECS, rng.randint(1, 3))
        body = (ws() + "," + ws()).join(specs) + (rng.choice(["", ","]) if rng.random() < 0.2 else "")
        s += "(" + ws() + body + ws() + ")" if rng.random() < 0.3 else body
    if rng.random() < 0.5:
        s += (" " if url else ws()) + ";" + ws() + marker(for_str=True)
    return s + ws()


_EXTRA_LITERAL = re.compile(r'(\bextra (?:==|!=|<=|>=|<|>|~=|===|in|not in) ")([^"]*)(")')
_EXTRA_LITERAL_LEFT = re.compile(r'(")([^"]*)(" (?:==|!=|<=|>=|<|>|~=|===|in|not in) extra\b)')
_OPS_RE = r"(?:==|!=|<=|>=|<|>|~=|===|in|not in)"
_EXTRA_VS_VARIABLE = re.compile(r"\bextra %s [a-z]|[a-z_] %s extra\b" % (_OPS_RE, _OPS_RE))
MUTATE = "[](),;@=<>!~ \tabcXY019.-_*+"


def mutate(s):
    i = rng.randrange(len(s) + 1)
    k = rng.random()
    if k < 0.4 and i < len(s):
        return s[:i] + s[i + 1:]
    if k < 0.7 and i < len(s):
        return s[:i] + rng.choice(MUTATE) + s[i + 1:]
    return s[:i] + rng.choice(MUTATE) + s[i:]


def oracle_requirement(s):
    try:
        r = Requirement(s)
    except InvalidRequirement as e:
        if "Invalid URL" in str(e):
            return "skip"
        return None
    except InvalidSpecifier:   # 23 leaks it for "name===x,y" (26.3: InvalidRequirement)
        return None
    except Exception:   # 23 leaks urlparse's ValueError for URLs such as https://[x
        return "skip"
    text = str(r)
    marker_text = str(r.marker) if r.marker else ""
    if r.marker:   # 23 normalizes extra literals only in a marker's first item (packaging #1024)
        fixed = _EXTRA_LITERAL.sub(
            lambda m: m.group(1) + canonicalize_name(m.group(2)) + m.group(3), marker_text)
        text = text.replace(marker_text, fixed)
        marker_text = fixed
    if r.url:   # 26 writes "name @ url" where 23 wrote "name@ url" (packaging #953)
        text = text.replace("@ " + r.url, " @ " + r.url, 1)
    return ["ok", text, r.name, ",".join(sorted(r.extras)), str(r.specifier), r.url or "",
            marker_text]


reqs = []
for _ in range(4000):
    s = requirement()
    reqs.append(s)
    for _ in range(2):
        reqs.append(mutate(s))
# the SPECIFIER token on its own: random operator/version text after a name
SPEC_ALPHABET = ["==", "!=", "<=", ">=", "~=", "===", "<", ">", "1", "0", "2", "9", ".", ".", "*",
                 "+", "a", "b", "c", "rc", "pre", "preview", "alpha", "beta", "post", "rev", "r", "dev",
                 "-", "_", "!", "v", "V", "A", "loc", "L", " ", ",", "(", ")", "\t", "x", "P"]
for _ in range(6000):
    body = "".join(rng.choice(SPEC_ALPHABET) for _ in range(rng.randint(1, 9)))
    reqs.append("name" + rng.choice(["", " "]) + rng.choice(["==", ">=", "~=", "!=", "===", "<", ""]) + body)
reqs = list(dict.fromkeys(reqs))
expected, todo = [], []
skipped = 0
for s in reqs:
    o = oracle_requirement(s)
    if o == "skip":
        skipped += 1
        continue
    expected.append(o)
    todo.append(s)
resp = drive([["pep508.requirement", s] for s in todo] + [["pyname.canonicalize", s] for s in NAMES])
for s, o, r in zip(todo, expected, resp):
    if o is None:
        t.check("requirement.invalid", r[0] == "error", "%r: packaging 23 rejects it, we got %r" % (s, r))
    else:
        t.check("requirement.valid", r == o, "%r: packaging 23 %r, we %r" % (s, o, r))
for n, r in zip(NAMES, resp[len(todo):]):
    t.check("name.canonical", r == [canonicalize_name(n)], "%r: %r" % (n, r))

# marker evaluation under fixed environments
markers = list(dict.fromkeys(marker() for _ in range(3000)))
cases, want = [], []
for m in markers:
    for env in ENVS:
        cases.append(["pep508.marker_eval", m] + ["%s=%s" % kv for kv in env.items()])
        try:
            want.append("true" if Marker(m).evaluate(env) else "false")
        except UndefinedComparison:   # e.g. '2.7' ~= platform_release with release "10"
            want.append("error")
for c, w, r in zip(cases, want, drive(cases)):
    t.check("marker.evaluate", r[:1] == [w], "%r env %s: packaging 23 %s, we %r" % (c[1], c[2:4], w, r))
# the marker tokenizer: random token soups (validity always; str() when there
# are no parentheses, where 26's nested-group output differs), parsed by 23 as
# the marker of a requirement because 23's Marker() ignores trailing text
MTOK = ["os_name", "os.name", "sys_platform", "python_version", "python_full_version", "extra",
        "platform.version", "platform_release", "implementation_name", "python_implementation",
        "platform.python_implementation", "==", "!=", "<=", ">=", "<", ">", "~=", "===", "in", "not",
        "not in", "notin", "and", "or", "andor", "(", ")", "'a'", '"3.8"', "'linux'", '"x y"', "'1.0'",
        "'Foo_Bar'", "x", "=", "'", '"', "3.8", "os_names", "extra_", "_extra", "inx"]
soups = []
for _ in range(8000):
    toks = [rng.choice(MTOK) for _ in range(rng.randint(1, 8))]
    soups.append("".join(tk + rng.choice(["", " ", " ", "\t"]) for tk in toks))
VARS_T = [tk for tk in MTOK[:10]]
VALS_T = ["'a'", '"3.8"', "'linux'", '"x y"', "'1.0'", "'Foo_Bar'"]
OPS_T = ["==", "!=", "<=", ">=", "<", ">", "~=", "===", "in", "not in"]
for _ in range(8000):
    toks = []
    for i in range(rng.randint(1, 3)):
        if i:
            toks.append(rng.choice(["and", "or"]))
        a, b = rng.choice(VARS_T), rng.choice(VALS_T)
        toks += [a, rng.choice(OPS_T), b] if rng.random() < 0.6 else [b, rng.choice(OPS_T), a]
    if rng.random() < 0.7:   # one token replaced or inserted
        k = rng.randrange(len(toks) + 1)
        if rng.random() < 0.5 and k < len(toks):
            toks[k] = rng.choice(MTOK)
        else:
            toks.insert(k, rng.choice(MTOK))
    soups.append("".join(tk + rng.choice(["", " ", " ", " ", "\t"]) for tk in toks))
soups = list(dict.fromkeys(soups))
resp_m = drive([["pep508.marker", m] for m in soups])
for m, r in zip(soups, resp_m):
    try:   # through Requirement: 23's Marker() ignores trailing text, 26.3's does not
        want = str(Requirement("name; " + m).marker)
    except InvalidRequirement:
        want = None
    except SyntaxError:   # 23 leaks ast.literal_eval's SyntaxError for some quoted strings
        want = None
    if want is None:
        t.check("marker.soup.invalid", r[0] == "error", "%r: packaging 23 rejects it, we %r" % (m, r))
    elif "(" in m or (r[0] == "ok" and _EXTRA_VS_VARIABLE.search(r[1])):
        # 23 also turned the variable facing `extra` into a normalized string
        t.check("marker.soup.valid", r[0] == "ok", "%r: packaging 23 accepts it, we %r" % (m, r))
    else:
        want = _EXTRA_LITERAL.sub(lambda x: x.group(1) + canonicalize_name(x.group(2)) + x.group(3), want)
        want = _EXTRA_LITERAL_LEFT.sub(lambda x: x.group(1) + canonicalize_name(x.group(2)) + x.group(3), want)
        t.check("marker.soup.valid", r == ["ok", want], "%r: packaging 23 %r, we %r" % (m, want, r))

# names: PEP 503 canonical form, validity, wheel escaping, "is normalized"
VALID = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])\Z", re.IGNORECASE)
NORMALIZED = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*\Z")
names = list(dict.fromkeys("".join(rng.choice("aZ09._-- \t") for _ in range(rng.randint(0, 8)))
                           for _ in range(3000)))
reqs_n = []
for n in names:
    reqs_n += [["pyname.canonicalize", n], ["pyname.valid", n], ["pyname.wheel", n], ["pyname.normalized", n]]
resp_n = drive(reqs_n)
for i, n in enumerate(names):
    c, v, w, z = resp_n[4 * i:4 * i + 4]
    t.check("name.canonical", c == [canonicalize_name(n)], "%r: %r" % (n, c))
    t.check("name.valid", v == [str(bool(VALID.match(n))).lower()], "%r: %r" % (n, v))
    t.check("name.wheel", w == [re.sub(r"[-_.]+", "_", n).lower()], "%r: %r" % (n, w))
    t.check("name.normalized", z == [str(bool(NORMALIZED.match(n))).lower()], "%r: %r" % (n, z))
print("(%d generated requirements skipped: packaging 23 validates URLs, 26 does not)" % skipped)
t.finish()
