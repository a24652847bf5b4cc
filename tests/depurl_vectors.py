"""DepURLs (PEP 725 / PEP 804) through the test driver.

1. Every DepURL in ../shared/testdata/external (registry.json, *.mapping.json,
   the rgommers [external] tables, grayskull's old-syntax mapping) parses, its
   normalized form parses back to itself, and both agree with an independent
   reference written from the PURL spec (ECMA-427 how-to-parse/how-to-build)
   with packaging's SpecifierSet as the oracle for versions.
2. Random DepURLs (case, percent-escapes, unicode, qualifiers, subpaths,
   versions, markers) against the same reference, accept/reject included.
3. Invalid DepURLs: an error naming the input, a position and what was expected.
"""
import glob
import json
import os
import random
import sys
import tomllib
import urllib.parse

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import Tally, drive, testdata  # noqa: E402

SEED = int(os.environ.get("HB_SEED", "804"))
N_RANDOM = int(os.environ.get("HB_CASES", "5000"))
rng = random.Random(SEED)


class Invalid(Exception):
    pass


# --- the reference -----------------------------------------------------------

LOWER_NS = {"alpm", "apk", "bitbucket", "composer", "deb", "github", "hex", "luarocks", "qpkg", "rpm",
            "virtual"}
LOWER_NAME = {"alpm", "apk", "bitbucket", "bitnami", "composer", "deb", "github", "hex", "luarocks", "npm",
              "oci", "pypi", "virtual"}
SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_~:"


def pdecode(s, allow_space=False):
    out = bytearray()
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "%":
            h = s[i + 1:i + 3]
            if len(h) != 2 or any(c not in "0123456789abcdefABCDEF" for c in h):
                raise Invalid("hex")
            if h == "00":
                raise Invalid("nul")
            out.append(int(h, 16))
            i += 3
            continue
        if ord(ch) < 0x20 or ord(ch) == 0x7f or (ch == " " and not allow_space):
            if not (allow_space and ch == "\t"):
                raise Invalid("raw control/space")
        out += ch.encode("utf-8")
        i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("utf-8")


def pencode(s, keep_slash=False):
    return "".join(c if c in SAFE or (keep_slash and c == "/") else
                   "".join("%%%02X" % b for b in c.encode("utf-8")) for c in s)


def segments(s, drop_dots):
    segs = []
    for raw in s.split("/"):
        if not raw:
            continue
        seg = pdecode(raw)
        if "/" in seg:
            raise Invalid("slash in segment")
        if drop_dots and seg in (".", ".."):
            continue
        segs.append(seg)
    return "/".join(segs) if segs else None


def ref_version(raw):
    v = pdecode(raw, allow_space=True).strip(" \t")
    if not v:
        raise Invalid("empty version")
    if v[0] in "<>=!~":
        for clause in v.split(","):
            c = clause.lstrip(" \t")
            if c.startswith("===") or c.startswith("!=") or c.startswith("~="):
                raise Invalid("operator")
        try:
            return str(SpecifierSet(v)), False
        except InvalidSpecifier:
            raise Invalid("specifier")
    if "," not in v:
        try:
            return str(SpecifierSet("==" + v)), False
        except InvalidSpecifier:
            pass
    return v, True


def reference(s):
    """Returns (normalized spec form, fields dict, warnings count) or raises Invalid."""
    semi = s.find(";")
    marker = None
    if semi >= 0:
        marker = s[semi + 1:].strip(" \t")
        if not marker:
            raise Invalid("empty marker")
        s = s[:semi]
    s = s.strip(" \t")
    if not s:
        raise Invalid("empty")
    warnings = 0
    f = {}
    rem, hash_, sub = s.rpartition("#") if "#" in s else (s, "", "")
    if hash_:
        subpath = segments(sub, True)
        if subpath is not None:
            f["subpath"] = subpath
    rem, q, qs = rem.rpartition("?") if "?" in rem else (rem, "", "")
    quals = {}
    if q and qs:
        for part in qs.split("&"):
            key, eq, val = part.partition("=")
            if not eq:
                raise Invalid("no =")
            if not key or not key[0].isascii() or not key[0].isalpha():
                raise Invalid("key start")
            if any(not (c.isascii() and (c.isalnum() or c in "._-")) for c in key):
                raise Invalid("key char")
            key = key.lower()
            if key in quals:
                raise Invalid("duplicate")
            val = pdecode(val)
            if val:
                quals[key] = val
    if ":" not in rem:
        raise Invalid("no scheme")
    scheme, _, rem = rem.partition(":")
    scheme = scheme.lower()
    if scheme not in ("dep", "pkg", "virtual"):
        raise Invalid("scheme")
    if scheme != "dep":
        warnings += 1
    rem = rem.lstrip("/")
    if scheme == "virtual":
        type_ = "virtual"
    else:
        type_, slash, rem = rem.partition("/")
        if not type_ or not (type_[0].isascii() and type_[0].isalpha()):
            raise Invalid("type start")
        if any(not (c.isascii() and (c.isalnum() or c in ".+-")) for c in type_):
            raise Invalid("type char")
        if not slash:
            raise Invalid("no slash")
        type_ = type_.lower()
    if "@" in rem:
        rem, _, ver = rem.rpartition("@")
        f["version"], literal = ref_version(ver)
        if literal:
            f["literal"] = "true"
            warnings += 1
    rem = rem.rstrip("/")
    ns_raw, slash, name_raw = rem.rpartition("/")
    if not name_raw:
        raise Invalid("no name")
    name = pdecode(name_raw)
    ns = segments(ns_raw, False) if slash else None
    if type_ in LOWER_NS and ns:
        ns = "".join(c.lower() if c.isascii() else c for c in ns)
    if type_ in LOWER_NAME:
        name = "".join(c.lower() if c.isascii() else c for c in name)
    if type_ == "pypi":
        name = name.replace("_", "-")
    if type_ == "virtual":
        if ns is None:
            raise Invalid("virtual needs a namespace")
        if ns not in ("compiler", "interface"):
            warnings += 1
        if ns == "compiler" and name == "cpp":
            name = "cxx"
            warnings += 1
    f["type"] = type_
    if ns is not None:
        f["ns"] = ns
    f["name"] = name
    out = "dep:" + type_ + "/" + (pencode(ns, True) + "/" if ns is not None else "") + pencode(name)
    if "version" in f:
        out += "@" + (pencode(f["version"]) if "literal" in f else f["version"])
    if quals:
        out += "?" + "&".join("%s=%s" % (k, pencode(quals[k])) for k in sorted(quals))
        f["qualifier"] = ["%s=%s" % (k, quals[k]) for k in sorted(quals)]
    if "subpath" in f:
        out += "#" + pencode(f["subpath"], True)
    if marker is not None:
        out += "; " + marker
        f["marker"] = marker
    return out, f, warnings


def ours(resp):
    if resp[0] != "ok":
        return None
    f = {}
    warnings = 0
    pairs = resp[2:]
    for k, v in zip(pairs[0::2], pairs[1::2]):
        if k == "warning":
            warnings += 1
        elif k == "qualifier":
            f.setdefault("qualifier", []).append(v)
        else:
            f[k] = v
    return resp[1], f, warnings


# --- inputs ------------------------------------------------------------------

def corpus():
    found = set()

    def walk(x):
        if isinstance(x, str):
            if x.split(":", 1)[0] in ("dep", "pkg", "virtual") and ":" in x:
                found.add(x)
        elif isinstance(x, list):
            for y in x:
                walk(y)
        elif isinstance(x, dict):
            for k, y in x.items():
                walk(k)
                walk(y)

    for path in glob.glob(testdata("external", "**", "*.json"), recursive=True):
        if "schemas" in path:
            continue
        with open(path, encoding="utf-8") as f:
            walk(json.load(f))
    for path in glob.glob(testdata("external", "rgommers-external-deps-build", "*", "*.toml")):
        with open(path, "rb") as f:
            walk(tomllib.load(f).get("external", {}))
    return sorted(found)


PEP_EXAMPLES = [
    "dep:virtual/compiler/c", "dep:virtual/compiler/cpp", "dep:virtual/interface/lapack@>=3.7.1",
    "dep:generic/XCB; platform_system=='Linux'", "dep:cran/nat; extra == 'nat'", "dep:cran/nat.nblast",
    "dep:cargo/ripgrep", "dep:golang/github.com/junegunn/fzf", "dep:github/AbiWord/enchant; platform_system!='Windows'",
    "dep:pypi/numpy@2.0", "dep:pypi/numpy@>=2.0", "dep:generic/git", "dep:generic/nodejs",
    "dep:pypi/requests", "pkg:generic/openssl", "virtual:interface/blas",
]

# (valid choices, invalid choices) per component; None leaves the part out
TYPES = (["generic", "GENERIC", "virtual", "Virtual", "github", "pypi", "PyPI", "npm", "cargo", "cran", "deb",
          "golang", "conan", "rpm", "x.y-z+w"], ["1bad", "ba d", "ba_d", ""])
NAMES = (["openssl", "OpenSSL", "Foo_Bar", "c", "cpp", "cxx", "blas", "nat.nblast", "caf%C3%A9", "caf\u00e9",
          "a%2Fb", "%40scope", "x%20y", "\u6f22\u5b57", "A-B_c.d~e", "n%3Fq", "n%23h", "n%40at", "c++", "x:y"],
         ["x y", "a%zz", "a%4", "%00", "%FF", ""])
NAMESPACES = ([None, None, None, "compiler", "interface", "Compiler", "Kitware", "github.com/junegunn",
               "%40angular", "a//b", "/lead", "tail/"], ["a%2Fb", "x y", "odd%2"])
VERSIONS = ([None, None, None, "2.0", ">=2.0", ">= 2.0", "<20", ">=1.0,<2", ">=1.0, <2.0 ", "==1.2.*", "==2.0",
             ">1", "<=3", "1.1.1w", "v1.0", "1.0-beta", "%3E%3D2.0", "1.0,2.0", "1.0+local", "==1.0+local",
             ">=1!2.0", "latest", ">=1.0,", ">=1.0,,<2", "2.0%20", "a%2Fb", "==2.0,>=1.0"],
            ["~=1.4", "!=1", "===1.0", "", " ", ">=x", ">=1.0;", "%3C", ">=1,~=2"])
QUALS = ([None, None, "a=1", "B=2&a=1", "repository_url=https://gitlab.kitware.com/cmake/cmake", "x=",
          "k-1.b_c=%2F%20", "", "k=caf\u00e9", "k=a=b", "k=a&b=c&c="],
         ["a=1&a=2", "A=1&a=2", "=v", "1a=2", "k", "k=v&", "a=%zz"])
SUBPATHS = ([None, None, "src", "a/./b/../c", "/x//y/", ".", "%2E%2E/z", "", "d%C3%A9"], ["a%2Fb", "s p"])
MARKERS = ([None, None, None, "python_version >= '3.8'", "extra == 'nat'", "  sys_platform == 'linux'  "], [""])
SCHEMES = (["dep:"] * 8 + ["DEP:", "pkg:", "virtual:", "dep://", "dep:/"], ["foo:", "", "dep"])


def pick(choices):
    valid, invalid = choices
    return rng.choice(invalid if rng.random() < 0.04 else valid)


def rand_depurl():
    scheme = pick(SCHEMES)
    parts = [scheme]
    if scheme != "virtual:":
        parts.append(pick(TYPES) + "/")
    ns = pick(NAMESPACES)
    if ns is not None:
        parts.append(ns + "/")
    parts.append(pick(NAMES))
    v = pick(VERSIONS)
    if v is not None:
        parts.append("@" + v)
    q = pick(QUALS)
    if q is not None:
        parts.append("?" + q)
    sp = pick(SUBPATHS)
    if sp is not None:
        parts.append("#" + sp)
    s = "".join(parts)
    if rng.random() < 0.1:
        s = " " + s + "\t"
    m = pick(MARKERS)
    if m is not None:
        s += rng.choice([";", " ;", "; "]) + m
    return s


INVALID = [
    ("", "expected a DepURL"),
    ("openssl", "expected the scheme 'dep:'"),
    ("http://example.com/x", "unknown scheme 'http'"),
    ("dep:", "expected a type"),
    ("dep:generic", "expected '/' and a name after the type"),
    ("dep:generic/", "expected a name"),
    ("dep:1generic/x", "starting with an ASCII letter"),
    ("dep:gen_eric/x", "unexpected '_' in the type"),
    ("dep:virtual/c", "expected dep:virtual/<namespace>/<name>"),
    ("dep:generic/x@", "expected a version or version specifier after '@'"),
    ("dep:generic/x@~=1.0", "operator '~=' is not allowed"),
    ("dep:generic/x@!=1.0", "operator '!=' is not allowed"),
    ("dep:generic/x@===1.0", "operator '===' is not allowed"),
    ("dep:generic/x@>=1.0,!=1.5", "operator '!=' is not allowed"),
    ("dep:generic/x@>=banana", "expected a PEP 440 specifier set"),
    ("dep:generic/x?a=1&a=2", "duplicate qualifier key 'a'"),
    ("dep:generic/x?novalue", "expected a qualifier key=value"),
    ("dep:generic/x?1k=v", "starting with an ASCII letter"),
    ("dep:generic/x%zz", "expected two hex digits after '%'"),
    ("dep:generic/x%00", "%00"),
    ("dep:generic/x%ff", "not UTF-8"),
    ("dep:generic/x y", "unexpected space in the name"),
    ("dep:generic/x#a%2Fb", "may not contain an encoded '/'"),
    ("dep:generic/x;", "expected an environment marker after ';'"),
    ("dep:generic/x ;   ", "expected an environment marker after ';'"),
    ("; python_version > '3'", "expected a DepURL"),
    ("dep:generic/x; a\x01b", "unexpected control character in the environment marker"),
]


def lasting_warnings(f):
    return ("literal" in f) + (f["type"] == "virtual" and f.get("ns") not in ("compiler", "interface"))


def check(tally, group, inputs, must_parse=False):
    resps = drive([["depurl.parse", s] for s in inputs])
    normals = []
    for s, resp in zip(inputs, resps):
        try:
            exp = reference(s)
        except Invalid as e:
            exp = None
            why = str(e)
        got = ours(resp)
        if must_parse and got is None:
            tally.check(group, False, "%r does not parse: %r" % (s, resp))
            continue
        if exp is None:
            ok = got is None and resp[1].startswith("invalid DepURL '") and " at position " in resp[1]
            tally.check(group, ok, "%r: reference rejects (%s), got %r" % (s, why, resp))
        else:
            tally.check(group, got == exp, "%r\n  expected %r\n  got      %r" % (s, exp, got))
        if got is not None:
            normals.append((s, got[0]))
    # the normalized form parses back to itself, without warnings but those
    # that stay true of it (an opaque literal version, an unknown virtual namespace)
    resps = drive([["depurl.parse", n] for _, n in normals])
    for (s, n), resp in zip(normals, resps):
        again = ours(resp)
        tally.check(group + " (normalized form is a fixed point)",
                    again is not None and again[0] == n and again[2] == lasting_warnings(again[1]),
                    "%r -> %r -> %r" % (s, n, resp))


def main():
    tally = Tally()
    found = corpus()
    tally.check("corpus: DepURLs found in shared/testdata/external", len(found) >= 100,
                "only %d DepURLs found" % len(found))
    check(tally, "corpus: shared/testdata/external", found, must_parse=True)
    check(tally, "PEP 725 examples", PEP_EXAMPLES, must_parse=True)
    check(tally, "random DepURLs (seed %d)" % SEED, [rand_depurl() for _ in range(N_RANDOM)])
    resps = drive([["depurl.parse", s] for s, _ in INVALID])
    for (s, want), resp in zip(INVALID, resps):
        ok = resp[0] == "error" and want in resp[1] and resp[1].startswith("invalid DepURL '")
        tally.check("invalid DepURLs: clear errors", ok, "%r: want %r, got %r" % (s, want, resp))
    # depurl.parse_url: a bare DepURL takes no marker; ';' is then just a character
    resps = drive([["depurl.parse_url", "dep:generic/x; extra == 'a'"], ["depurl.parse_url", "dep:generic/x"]])
    tally.check("parse_url: no marker split", resps[0][0] == "error" and resps[1][:2] == ["ok", "dep:generic/x"],
                repr(resps))
    tally.finish()


if __name__ == "__main__":
    main()
