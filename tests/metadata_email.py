"""Differential test: hpcbuild's core metadata reader against Python's
email.parser.Parser(policy=compat32), on generated messages (random field
names and values, continuation lines, bodies, CRLF/LF/CR mixes, unicode,
defects) and on real METADATA / PKG-INFO files found on this machine.

Also checks the writer: whatever metadata_write emits, compat32 reads back as
the fields and body that were written."""
import email.parser
import email.policy
import glob
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import Tally, drive, testdata  # noqa: E402

SEED = int(os.environ.get("HB_SEED", "725"))
N_RANDOM = int(os.environ.get("HB_CASES", "6000"))
rng = random.Random(SEED)

KNOWN = ["Metadata-Version", "Name", "Version", "Summary", "Requires-Dist", "Provides-Extra",
         "Requires-Python", "Dynamic", "Requires-External", "Provides-External-Extra",
         "Requires-External-Dep", "Description", "Description-Content-Type", "Classifier",
         "License", "License-Expression", "License-File", "Project-URL", "Import-Name",
         "From", "Keywords", "Author-email", "X-Custom"]
FTEXT = "".join(chr(c) for c in range(0x21, 0x7f) if chr(c) != ":")
UNI = "äöüßéèçñ€漢字日本語😀\u00a0\u2028\u3000\u0085\x0b\x0c\x1c"
EOLS = ["\n", "\r\n", "\r"]


def oracle(text):
    msg = email.parser.Parser(policy=email.policy.compat32).parsestr(text)
    mime = msg.get_content_maintype() in ("message", "multipart")
    fields = [(k, v) for k, v in msg.items()]
    body = msg.get_payload() if not mime else None
    return {
        "fields": fields,
        "body": body,
        "unixfrom": msg.get_unixfrom(),
        "defects": [type(d).__name__ for d in msg.defects] if not mime else None,
        "mime": mime,
    }


def ours(resp):
    if resp[0] != "ok":
        return {"error": resp[1] if len(resp) > 1 else "?"}
    n = int(resp[1])
    fields = [(resp[2 + 2 * i], resp[3 + 2 * i]) for i in range(n)]
    rest = resp[2 + 2 * n:]
    body, unixfrom, defects, mime = rest
    return {
        "fields": fields,
        "body": body,
        "unixfrom": unixfrom[1:] if unixfrom.startswith("+") else None,
        "defects": defects.split() if defects else [],
        "mime": mime == "mime",
    }


def compare(expected, got):
    if "error" in got:
        return False
    if expected["mime"] != got["mime"]:
        return False
    if expected["fields"] != got["fields"] or expected["unixfrom"] != got["unixfrom"]:
        return False
    if not expected["mime"]:
        return expected["body"] == got["body"] and expected["defects"] == got["defects"]
    return True


def rand_text(alphabet, lo, hi):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def rand_value():
    kind = rng.random()
    if kind < 0.5:
        return rand_text("abcdefgh XYZ0123.,;=<>()[]\"'!~*-_/", 0, 30)
    if kind < 0.7:
        return rand_text("abc " + UNI, 0, 12)
    if kind < 0.8:
        return rand_text(" \t", 0, 4) + rand_text("xyz", 0, 5) + rand_text(" \t", 0, 3)
    if kind < 0.9:
        return rand_text(FTEXT + ": ", 0, 20)
    return ""


def rand_name():
    r = rng.random()
    if r < 0.6:
        name = rng.choice(KNOWN)
        return name if rng.random() < 0.8 else "".join(
            c.upper() if rng.random() < 0.5 else c.lower() for c in name)
    if r < 0.9:
        return rand_text(FTEXT, 1, 12)
    return rng.choice(["", "Na\u00efme", "Na me", "Name\t", "x\x7f"])


def rand_line(tame=False):
    r = rng.random() * (0.72 if tame else 1.0)
    if r < 0.55:
        sep = rng.choice([":", ": ", ":\t", ":  \t ", ": "])
        return rand_name() + sep + rand_value()
    if r < 0.72:
        return rng.choice([" ", "\t", "  ", " \t"]) + rand_value()
    if r < 0.76:
        return "From " + rand_value()
    if r < 0.79:
        return ":" + rand_value()
    if r < 0.85:
        return rand_text("abc def" + UNI, 1, 20)   # no colon: starts the body
    if r < 0.9:
        return ""                                  # blank line: the separator
    if r < 0.93:
        return rng.choice(["From", "From:x", "FROM y", "\ufeffName: x", "\x00Name: x", "Name\x00: x"])
    return rand_value()


def rand_message():
    tame = rng.random() < 0.5   # half the messages: headers and continuations only
    lines = [rand_line(tame) for _ in range(rng.randint(0, 14))]
    if rng.random() < 0.5:
        lines.append("")
        lines += [rand_text("ab cd" + UNI, 0, 30) if rng.random() < 0.8
                  else rng.choice(["From me", "", " ", "Name: x", "\r"]) for _ in range(rng.randint(0, 6))]
    eol_mode = rng.random()
    out = []
    for i, ln in enumerate(lines):
        if eol_mode < 0.4:
            eol = "\n"
        elif eol_mode < 0.6:
            eol = "\r\n"
        else:
            eol = rng.choice(EOLS)
        if i == len(lines) - 1 and rng.random() < 0.3:
            eol = ""
        out.append(ln + eol)
    text = "".join(out)
    if rng.random() < 0.05:
        text = "\ufeff" + text
    return text


def fixed_cases():
    return [
        "",
        "\n",
        "\r\n\r\n",
        "Name: foo",
        "Name: foo\n",
        "Name:foo\r\nVersion:  1.0 \r\n\r\nbody\r\n",
        "Name: a\n b\n\tc\nVersion: 1\n",
        "Name:\n continued\n",
        " leading continuation\nName: x\n",
        "From someone\nName: x\n\nbody",
        "Name: x\nFrom someone\n\nbody",
        "Name: x\nFrom someone\nVersion: 1\n cont\n",
        ":nameless\nName: x\n cont\n",
        "Name: x\nno colon here\nVersion: 2\n",
        "Name: x\r\rVersion: 1\r",
        "Name: x\r\n\r\n\r\nbody after two\r\n",
        "Name: x\n\nFrom body\n",
        "Name: x  \t\nA:\t\t v\n",
        "Name: x\nContent-Type: text/plain; charset=utf-8\n\nbody\n",
        "Content-Type: multipart/mixed\nName: x\n\nbody\n",
        "Content-Type: message/rfc822\nName: x\n\nInner: y\n\nbody\n",
        "Content-Type: \u3000multipart/x ;a=b\nName: x\n\nbody\n",
        "Content-Type: multi/part/x\nName: x\n\nbody\n",
        "\ufeffMetadata-Version: 2.1\nName: x\n",
        "Name: \u00e9\u6f22\U0001F600\n\n\u00e9 body \u2028 x\n",
        "Name: a\x00b\n\nbo\x00dy",
        "Name: x\n \n\t\nVersion: 1\n",
        "Name: x\n\r\n",
        "Name: x\r\n \r\n",
    ]


def check_parse(tally, texts, group):
    resps = drive([["metadata.parse", t] for t in texts])
    for text, resp in zip(texts, resps):
        exp = oracle(text)
        got = ours(resp)
        tally.check(group, compare(exp, got), "%r\n  expected %r\n  got      %r" % (text, exp, got))


def real_files():
    pats = ["/usr/lib/python3/dist-packages/*/METADATA", "/usr/lib/python3/dist-packages/*/PKG-INFO",
            "/usr/lib/python3*/site-packages/*/METADATA", "/root/.pyenv/versions/*/lib/python*/site-packages/*/METADATA",
            "/root/.pyenv/versions/*/lib/python*/site-packages/*/PKG-INFO",
            "/usr/share/*/*.dist-info/METADATA"]
    files = sorted({f for p in pats for f in glob.glob(p)})
    texts = []
    for f in files:
        try:
            with open(f, "rb") as fh:
                data = fh.read()
            texts.append(data.decode("utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
    return texts


def legacy_json_metadata():
    """METADATA texts written the way setuptools writes them, from the real
    PyPI JSON responses in the shared test data."""
    texts = []
    for path in sorted(glob.glob(testdata("index-pages", "pypi-legacy-json-api", "*.json"))):
        with open(path, encoding="utf-8") as f:
            info = json.load(f).get("info", {})
        lines = ["Metadata-Version: 2.1", "Name: %s" % info.get("name", "x"),
                 "Version: %s" % info.get("version", "0")]
        for key, field in [("summary", "Summary"), ("home_page", "Home-page"), ("author", "Author"),
                           ("author_email", "Author-email"), ("license", "License"),
                           ("requires_python", "Requires-Python")]:
            if info.get(key):
                lines.append("%s: %s" % (field, "\n        ".join(str(info[key]).splitlines())))
        for c in info.get("classifiers") or []:
            lines.append("Classifier: %s" % c)
        for r in info.get("requires_dist") or []:
            lines.append("Requires-Dist: %s" % r)
        for k, v in (info.get("project_urls") or {}).items():
            lines.append("Project-URL: %s, %s" % (k, v))
        desc = info.get("description") or ""
        texts.append("\n".join(lines) + "\n\n" + desc)
        # the same with the description folded into a header (metadata < 2.1 style)
        texts.append("\r\n".join(lines + ["Description: " + "\n       |".join(desc.splitlines())]) + "\r\n")
    return texts


def check_writer(tally):
    cases = []
    for _ in range(1500):
        fields = []
        for _ in range(rng.randint(0, 8)):
            name = rand_text(FTEXT, 1, 10) if rng.random() < 0.3 else rng.choice(KNOWN)
            v = rand_value().lstrip(" \t")
            if rng.random() < 0.3:
                parts = [v] + [rand_value() for _ in range(rng.randint(1, 3))]
                v = "".join(p + rng.choice(EOLS) for p in parts[:-1]) + parts[-1]
                v = v.lstrip(" \t")
            v = v.rstrip("\r\n")
            fields.append((name, v))
        body = "" if rng.random() < 0.4 else rand_text("ab \n\r" + UNI, 0, 40)
        cases.append((fields, body))
    reqs = [["metadata.write", body] + [x for f in fields for x in f] for fields, body in cases]
    for (fields, body), resp in zip(cases, drive(reqs)):
        if resp[0] != "ok":
            tally.check("writer: compat32 reads back what was written", False, "%r -> %r" % (fields, resp))
            continue
        exp = oracle(resp[1])

        def folded(v):
            out, i = [], 0
            while i < len(v):
                c = v[i]
                if c in "\r\n":
                    i += 2 if v[i:i + 2] == "\r\n" else 1
                    out.append("\n")
                    if i >= len(v) or v[i] not in " \t":
                        out.append(" " * 8)
                    continue
                out.append(c)
                i += 1
            return "".join(out)

        want = [(n, folded(v)) for n, v in fields]
        ok = exp["fields"] == want and exp["body"] == body and not exp["defects"]
        tally.check("writer: compat32 reads back what was written", ok,
                    "%r %r\n  text %r\n  read %r" % (fields, body, resp[1], exp))
    bad = [
        [["", "x"], "name"], [["Na me", "x"], "name"], [["Na:me", "x"], "name"], [["N\u00e4me", "x"], "name"],
        [["Name", " x"], "whitespace"], [["Name", "\tx"], "whitespace"], [["Name", "x\n"], "line break"],
        [["Name", "x\r"], "line break"],
    ]
    resps = drive([["metadata.write", ""] + f for f, _ in bad])
    for (f, word), resp in zip(bad, resps):
        tally.check("writer: rejects what readers would change", resp[0] == "error" and word in resp[1],
                    "%r -> %r" % (f, resp))


SINGLE = [("Metadata-Version", "metadata_version"), ("Name", "name"), ("Version", "version"),
          ("Summary", "summary"), ("Requires-Python", "requires_python"),
          ("Description-Content-Type", "description_content_type"), ("License", "license"),
          ("License-Expression", "license_expression"), ("Description", "description")]
MULTI = [("Requires-Dist", "requires_dist"), ("Provides-Extra", "provides_extra"), ("Dynamic", "dynamic"),
         ("Requires-External", "requires_external"), ("Requires-External-Dep", "requires_external_dep"),
         ("Provides-External-Extra", "provides_external_extra"), ("Provides-Dist", "provides_dist"),
         ("Obsoletes-Dist", "obsoletes_dist"), ("License-File", "license_file"), ("Import-Name", "import_name"),
         ("Import-Namespace", "import_namespace"), ("Classifier", "classifier"), ("Project-URL", "project_url")]
KNOWN_MV = {(1, 0), (1, 1), (1, 2)} | {(2, m) for m in range(7)}


def core_expected(text):
    """The typed view by the rules of docs/metadata.md, from compat32's parse:
    ("error", fragment) or ("ok", sorted pairs, number of warnings)."""
    msg = email.parser.Parser(policy=email.policy.compat32).parsestr(text)
    for field, _ in SINGLE:
        n = len(msg.get_all(field) or [])
        if n > 1:
            return ("error", "field '%s' appears %d times" % (field, n))
    for field in ("Metadata-Version", "Name", "Version"):
        if msg.get(field) is None:
            return ("error", "required field '%s' is missing" % field)
    mv = msg["Metadata-Version"].strip(" \t")
    parts = mv.split(".")
    if len(parts) != 2 or not all(p and all(c in "0123456789" for c in p) for p in parts):
        return ("error", "expected MAJOR.MINOR")
    major, minor = int(parts[0]), int(parts[1])
    if major > 2:
        return ("error", "major version %d is newer" % major)
    warnings = 0 if (major, minor) in KNOWN_MV else 1
    for d in msg.get_all("Dynamic") or []:
        if d.lower() in ("name", "version", "metadata-version"):
            return ("error", "Dynamic may not list '%s'" % d)
    pairs = [("parsed_version", "%d.%d" % (major, minor))]
    for field, key in SINGLE:
        if msg.get(field) is not None:
            pairs.append((key, msg[field]))
    body = msg.get_payload()
    if body:
        if msg.get("Description") is not None:
            warnings += 1
            pairs.remove(("description", msg["Description"]))
        pairs.append(("description", body))
    for field, key in MULTI:
        pairs += [(key, v) for v in msg.get_all(field) or []]
    return ("ok", sorted(pairs), warnings)


def rand_core_message():
    fields = []
    mv = rng.choice(["2.1", "2.4", "2.6", "1.0", "1.2", "2.0", "2.7", "2.10", "1.3", "3.0", " 2.2 ", "2", "x.y",
                     "2.1.1", "\u0662.1"])
    for field in ("Metadata-Version", "Name", "Version"):
        if rng.random() < 0.95:
            fields.append((field, mv if field == "Metadata-Version" else rand_text("abc.-_0123", 1, 8)))
    for _ in range(rng.randint(0, 10)):
        field = rng.choice(SINGLE + MULTI)[0]
        if rng.random() < 0.5 and field in [f for f, _ in SINGLE]:
            continue   # single-use fields repeat less often
        value = rng.choice(["Name", "version", "Requires-Dist", "x>=1; extra == 'a'", "MIT", "dep:cran/nat",
                            rand_text("abc ;=<>", 0, 10)])
        fields.append((field, value))
    rng.shuffle(fields)
    text = "".join("%s: %s\n" % (rng.choice([f, f.lower(), f.upper()]), v) for f, v in fields)
    if rng.random() < 0.5:
        text += "\n" + rand_text("desc \n" + UNI, 0, 20)
    return text


def check_core(tally):
    texts = [rand_core_message() for _ in range(3000)]
    for text, resp in zip(texts, drive([["metadata.core", t] for t in texts])):
        exp = core_expected(text)
        if exp[0] == "error":
            ok = resp[0] == "error" and exp[1] in resp[1]
        else:
            pairs = list(zip(resp[1::2], resp[2::2])) if resp[0] == "ok" else None
            got_w = sum(1 for k, _ in pairs or [] if k == "warning")
            got = sorted(p for p in pairs or [] if p[0] != "warning")
            ok = pairs is not None and got == exp[1] and got_w == exp[2]
        tally.check("core view: fields and rules (random)", ok, "%r\n  expected %r\n  got %r" % (text, exp, resp))


def main():
    tally = Tally()
    check_parse(tally, fixed_cases(), "parse: hand-written edge cases")
    check_parse(tally, [rand_message() for _ in range(N_RANDOM)], "parse: random messages (seed %d)" % SEED)
    # Parser.parsestr feeds 8192-character chunks: line breaks around the boundary
    boundary = []
    for k in range(8185, 8197):
        boundary.append("Name: " + "x" * (k - 6) + "\r\n cont\r\n\r\nbody\r\n\n")
        boundary.append("Name: " + "x" * (k - 6) + "\r\rB: y\r\n\r\n" + "z" * 9000 + "\r\n")
        boundary.append("From " + "x" * (k - 5) + "\rName: a\n")
    check_parse(tally, boundary, "parse: long lines across Parser's 8192-character chunks")
    real = real_files()
    if real:
        check_parse(tally, real, "parse: real METADATA/PKG-INFO files on this machine")
    check_parse(tally, legacy_json_metadata(), "parse: METADATA built from PyPI JSON responses")
    # invalid UTF-8 is an error naming the byte offset
    bad = [b"Name: \xff\n", b"Name: x\n\n\xc3", b"\xed\xa0\x80", b"Name: \xc0\xaf", b"\xf4\x90\x80\x80"]
    resps = drive([["metadata.parse", b.decode("latin-1").encode("latin-1").decode("utf-8", "surrogateescape")]
                   for b in bad])
    for b, resp in zip(bad, resps):
        tally.check("parse: invalid UTF-8 is an error", resp[0] == "error" and "UTF-8" in resp[1],
                    "%r -> %r" % (b, resp))
    check_writer(tally)
    check_core(tally)
    tally.finish()


if __name__ == "__main__":
    main()
