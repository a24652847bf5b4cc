"""url.resolve against two oracles on generated references: an RFC 3986 §5.2
resolver written here (must agree everywhere) and urllib.parse.urljoin, which
pip uses (must agree except in the documented classes where urljoin leaves the
RFC; each difference is put in its class, and one outside every class fails)."""
import os
import random
import re
import sys
from urllib.parse import urljoin, uses_relative

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import Tally, drive  # noqa: E402

URI = re.compile(r"^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$", re.S)


def split(u):
    m = URI.match(u)
    return m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)


def remove_dot_segments(path):
    """RFC 3986 §5.2.4, step by step on an input buffer."""
    inp, out = path, ""
    while inp:
        if inp.startswith("../"):
            inp = inp[3:]
        elif inp.startswith("./"):
            inp = inp[2:]
        elif inp.startswith("/./"):
            inp = inp[2:]
        elif inp == "/.":
            inp = "/"
        elif inp.startswith("/../") or inp == "/..":
            inp = "/" + inp[4:] if inp.startswith("/../") else "/"
            out = out[:out.rfind("/")] if "/" in out else ""
        elif inp in (".", ".."):
            inp = ""
        else:
            cut = inp.find("/", 1)
            cut = len(inp) if cut < 0 else cut
            out, inp = out + inp[:cut], inp[cut:]
    return out


def rfc_resolve(base, ref):
    bs, ba, bp, bq, _ = split(base)
    rs, ra, rp, rq, rf = split(ref)
    if rs is not None:
        ts, ta, tp, tq = rs, ra, remove_dot_segments(rp), rq
    else:
        if ra is not None:
            ta, tp, tq = ra, remove_dot_segments(rp), rq
        else:
            if rp == "":
                tp, tq = bp, (rq if rq is not None else bq)
            else:
                if rp.startswith("/"):
                    tp = remove_dot_segments(rp)
                else:
                    merged = ("/" + rp) if (ba is not None and bp == "") else bp[:bp.rfind("/") + 1] + rp
                    tp = remove_dot_segments(merged)
                tq = rq
            ta = ba
        ts = bs
    out = ts.lower() + ":"
    if ta is not None:
        out += "//" + ta
    out += tp
    if tq is not None:
        out += "?" + tq
    if rf is not None:
        out += "#" + rf
    return out


def deviation(base, ref, want):
    """The documented class in which urljoin differs from RFC 3986, or None."""
    bs, ba, bp, _, _ = split(base)
    rs, ra, rp, rq, rf = split(ref)
    if bs.lower() not in uses_relative:
        return "urljoin: scheme not known as hierarchical"
    if ref == "":
        return "urljoin: empty ref keeps the base's fragment"
    if rs is not None and rs.lower() == bs.lower() and ra is None:
        return "urljoin: 'http:g' read as relative"
    if ra == "" and rs is None:
        return "urljoin: an empty authority ('///x') taken from the base"
    if rs is not None and rs != rs.lower() and rs.lower() != bs.lower():
        return "urljoin: a ref with another scheme returned verbatim (not lowercased)"
    if (rs is not None or ra is not None) and re.search(r"(^|/)\.\.?(/|$)", rp):
        return "urljoin: dot segments kept after a scheme or authority"
    if rs is None and ra is None and rp:
        merged = rp if rp.startswith("/") else bp[:bp.rfind("/") + 1] + rp
        if "//" in merged:
            return "urljoin: empty path segments dropped"
    if re.search(r"\?(#|$)|#$", want):
        return "urljoin: empty query or fragment dropped"
    return None


BASES = [
    "http://a/b/c/d;p?q", "https://pypi.org/simple/numpy/", "https://pypi.org/simple/numpy",
    "https://h", "https://h/", "file:///srv/index/foo/", "file:///srv/index/foo/index.html",
    "http://user@h:8080/a/b/?x=1#frag", "https://h/a//b/c", "HTTPS://H/A/B", "http://h/a/b?",
    "foo:bar/baz", "urn:isbn:123", "https://h/a/./b/../c/", "ftp://h/x/y",
]
PIECES = ["g", ".", "..", "", "x.whl", "a;p", "%2e%2e", "sub", "..g", "g.."]


def random_ref(rng):
    kind = rng.random()
    segs = [rng.choice(PIECES) for _ in range(rng.randint(0, 4))]
    path = "/".join(segs)
    if kind < 0.15:
        path = "/" + path
    elif kind < 0.25:
        path = "//" + rng.choice(["h2", "", "u@h3:1"]) + "/" + path
    elif kind < 0.32:
        path = rng.choice(["http:", "https:", "file:", "g:", "HTTP:", "http://x/"]) + path
    if rng.random() < 0.25:
        path += "?" + rng.choice(["", "y", "a=1&b=../2"])
    if rng.random() < 0.25:
        path += "#" + rng.choice(["", "s", "sha256=00ff", "a/../b"])
    return path


def main():
    t = Tally()
    rng = random.Random(3986)
    cases = []
    for base in BASES:
        for ref in ["", "#s", "?y", "g", "./g", "../g", "../../../../g", "/g", "//g", "g?", "g#", "http:g"]:
            cases.append((base, ref))
    for _ in range(6000):
        cases.append((rng.choice(BASES), random_ref(rng)))
    answers = drive([["url.resolve", b, r] for b, r in cases])
    for (base, ref), ans in zip(cases, answers):
        want = rfc_resolve(base, ref)
        got = ans[1] if ans[0] == "ok" else "error: " + ans[-1]
        t.check("RFC 3986 resolver written here", got == want, "%r + %r: got %r, want %r" % (base, ref, got, want))
        joined = urljoin(base, ref)
        if joined == got:
            t.check("same as urljoin", True)
        else:
            why = deviation(base, ref, want)
            t.check(why or "differs from urljoin outside the documented classes", why is not None,
                    "%r + %r: ours %r, urljoin %r" % (base, ref, got, joined))
    ans = drive([["url.resolve", "/relative/base", "g"]])[0]
    t.check("relative base refused", ans[0] == "error" and "not absolute" in ans[1], repr(ans))

    # Percent-decoding and HTML character references, against urllib and html.unescape.
    import html
    from urllib.parse import unquote
    texts = ["a%20b", "%e2%82%ac", "%", "%4", "%zz", "x%00", "plain", "%2F%2f", "100%25"]
    ans = drive([["url.decode", s] for s in texts])
    for s, a in zip(texts, ans):
        bad = re.search(r"%(?![0-9A-Fa-f]{2})|%00", s)
        want = ["none"] if bad else ["ok", unquote(s)]
        t.check("url.decode vs unquote", a == want, "%r: %r, want %r" % (s, a, want))
    refs = ["&amp;", "&amp", "&ampx", "&AMP;", "&lt;&gt;", "&gt=3", "&#62;", "&#x3e;", "&#X3E", "&#62",
            "&#0;", "&#128;", "&#x81;", "&#xd800;", "&#x110000;", "&#99999999999;", "&#1;", "&#xfffe;",
            "&#13;", "&apos;", "&apos", "&sol;", "&equals;", "&notit;", "&nbsp", "&copy=1", "&;", "& ",
            "&#;", "&#x;", "&unknown;", "&Amp;", "&quot;x&quot;", "a&b", "&&lt;", "&#65&#66;",
            "&" + "a" * 40 + ";", "&lt" + "x" * 40, "&times2;", "&frac12x", "\u00e9&eacute"]
    for _ in range(400):
        refs.append("".join(rng.choice(["&", "#", "x", ";", "3", "e", "amp", "lt", "gt", "A", " ", "q"])
                            for _ in range(rng.randint(1, 8))))
    ans = drive([["html.unescape", s] for s in refs])
    for s, a in zip(refs, ans):
        want = html.unescape(s)
        t.check("html.unescape", a == ["ok", want], "%r: %r, want %r" % (s, a, want))
    t.finish()


main()
