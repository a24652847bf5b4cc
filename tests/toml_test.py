"""TOML 1.0.0 conformance of the TOML reader (common/toml.c) through toml2json.

Oracles:
  * toml-test (shared/testdata/toml-test): every valid/ file listed in
    files-toml-1.0.0 must parse and equal the .json beside it, compared the
    way toml-test compares (integers and floats by value, date-times
    normalized, inf/nan/-0 spelled out); every listed invalid/ file must be
    rejected.
  * Python's tomllib (3.11, TOML 1.0.0): the same files, and extra cases
    below, must get the same verdict and the same values.  Where TOML 1.0
    says a parser must reject what tomllib accepts (integers beyond int64,
    floats that overflow to inf) the case lists our verdict explicitly.

Run with /usr/bin/python3; TOML2JSON names the converter.
"""
import datetime
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import hbtest  # noqa: E402

try:
    import tomllib
except ImportError:  # Python < 3.11: skip the second oracle
    tomllib = None

TOML2JSON = os.environ.get("TOML2JSON", "toml2json")
SUITE = hbtest.testdata("toml-test", "tests")


def run_lines(paths):
    """Runs toml2json --lines; returns {path: (ok, text)}.  Falls back to one
    process per file when the batch dies (so a crash names its file)."""
    out = {}
    chunk = 200
    for i in range(0, len(paths), chunk):
        part = paths[i:i + chunk]
        proc = subprocess.run([TOML2JSON, "--lines", *part], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
        lines = proc.stdout.decode("utf-8", "replace").split("\n")[:-1]
        if proc.returncode == 0 and len(lines) == len(part):
            for path, line in zip(part, lines):
                status, _, text = line.partition("\t")
                out[path] = (status == "ok", text)
            continue
        for path in part:
            p = subprocess.run([TOML2JSON, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if p.returncode in (0, 1):
                out[path] = (p.returncode == 0,
                             (p.stdout if p.returncode == 0 else p.stderr).decode("utf-8", "replace"))
            else:
                out[path] = (None, "toml2json died with status %d: %s" % (
                    p.returncode, p.stderr.decode("utf-8", "replace")[-2000:]))
    return out


# --- toml-test's comparison --------------------------------------------------

DT_RE = re.compile(r"^(?:(\d{4})-(\d{2})-(\d{2}))?(?:[Tt ]?(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?"
                   r"([Zz]|[+-]\d{2}:\d{2})?$")


def datetime_key(kind, text, digits=9):
    """A comparable form of a date-time: offset date-times as an instant,
    the local kinds as their fields; fractions to `digits` places."""
    m = DT_RE.match(text)
    if not m:
        return ("unparsable", text)
    y, mo, d, h, mi, s, frac, off = m.groups()
    frac = ((frac or "") + "0" * 9)[:digits]
    if kind == "datetime":
        if off is None:
            return ("no offset", text)
        secs = datetime.date(int(y), int(mo), int(d)).toordinal() * 86400 + \
            int(h) * 3600 + int(mi) * 60 + int(s)
        if off not in ("Z", "z"):
            sign = -1 if off[0] == "-" else 1
            secs -= sign * (int(off[1:3]) * 3600 + int(off[4:6]) * 60)
        return (secs, frac)
    if off is not None:
        return ("unexpected offset", text)
    return (y, mo, d, h, mi, s, frac if h is not None else None)


def float_key(text):
    t = text.lower().lstrip("+")
    if t in ("inf", "-inf"):
        return t
    if t in ("nan", "-nan"):
        return "nan"
    f = float(text)
    return (f, math.copysign(1.0, f))


def compare(want, have, path="", digits=9):
    """Returns None when equal, else a description of the first difference."""
    if isinstance(want, dict) and set(want) == {"type", "value"} and isinstance(want["type"], str):
        if not (isinstance(have, dict) and set(have) == {"type", "value"}):
            return "%s: expected a %s value, got %s" % (path, want["type"], json.dumps(have)[:80])
        if want["type"] != have["type"]:
            return "%s: expected type %s, got %s" % (path, want["type"], have["type"])
        t, w, h = want["type"], want["value"], have["value"]
        if t == "integer":
            ok = int(w) == int(h)
        elif t == "float":
            ok = float_key(w) == float_key(h)
        elif t in ("datetime", "datetime-local", "date-local", "time-local"):
            ok = datetime_key(t, w, digits) == datetime_key(t, h, digits)
        else:
            ok = w == h
        return None if ok else "%s: expected %s %r, got %r" % (path, t, w, h)
    if isinstance(want, dict):
        if not isinstance(have, dict) or ("type" in have and set(have) == {"type", "value"}
                                          and isinstance(have["type"], str)):
            return "%s: expected a table, got %s" % (path, json.dumps(have)[:80])
        if set(want) != set(have):
            return "%s: keys differ: missing %s, extra %s" % (
                path, sorted(set(want) - set(have)), sorted(set(have) - set(want)))
        for k in want:
            r = compare(want[k], have[k], "%s.%s" % (path, k) if path else k, digits)
            if r:
                return r
        return None
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return "%s: expected an array of %d, got %s" % (path, len(want), json.dumps(have)[:80])
        for i, (w, h) in enumerate(zip(want, have)):
            r = compare(w, h, "%s[%d]" % (path, i), digits)
            if r:
                return r
        return None
    return "%s: unexpected expectation %r" % (path, want)


# --- tomllib as tagged JSON --------------------------------------------------

def tagged(v):
    if isinstance(v, dict):
        return {k: tagged(x) for k, x in v.items()}
    if isinstance(v, list):
        return [tagged(x) for x in v]
    if isinstance(v, bool):
        return {"type": "bool", "value": "true" if v else "false"}
    if isinstance(v, int):
        return {"type": "integer", "value": str(v)}
    if isinstance(v, float):
        return {"type": "float", "value": repr(v)}
    if isinstance(v, str):
        return {"type": "string", "value": v}
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            return {"type": "datetime-local", "value": v.isoformat()}
        return {"type": "datetime", "value": v.isoformat()}
    if isinstance(v, datetime.date):
        return {"type": "date-local", "value": v.isoformat()}
    if isinstance(v, datetime.time):
        return {"type": "time-local", "value": v.isoformat()}
    raise TypeError(type(v))


def tomllib_verdict(data):
    """(True, tagged value) or (False, message) from tomllib."""
    try:
        return True, tagged(tomllib.loads(data.decode("utf-8")))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, ValueError) as e:
        return False, str(e)


# Extra cases: (name, TOML text, expected verdict when tomllib differs by design
# or None to follow tomllib).
BIG = "9223372036854775808"
EXTRA = [
    # integers
    ("int64 max", "a = 9223372036854775807", None),
    ("int64 min", "a = -9223372036854775808", None),
    ("int64 overflow", "a = " + BIG, False),
    ("int64 underflow", "a = -9223372036854775809", False),
    ("hex max", "a = 0x7FFFFFFFFFFFFFFF", None),
    ("hex overflow", "a = 0x8000000000000000", False),
    ("oct max", "a = 0o777777777777777777777", None),
    ("oct overflow", "a = 0o1000000000000000000000", False),
    ("bin max", "a = 0b" + "1" * 63, None),
    ("bin overflow", "a = 0b1" + "0" * 63, False),
    ("hex underscores", "a = 0xdead_BEEF", None),
    ("hex leading zeros", "a = 0x0001", None),
    ("plus zero", "a = +0", None),
    ("minus zero", "a = -0", None),
    ("underscore after zero", "a = 0_0", None),
    ("hex upper prefix", "a = 0XFF", None),
    ("oct digit 8", "a = 0o8", None),
    ("int trailing letter", "a = 12a", None),
    ("int double sign", "a = +-1", None),
    ("int space inside", "a = 1 2", None),
    # floats
    ("float exp leading zeros", "a = 1e007", None),
    ("float exp plus", "a = 1E+2", None),
    ("float frac exp", "a = 6.626e-34", None),
    ("float neg zero", "a = -0.0", None),
    ("float plus zero", "a = +0.0", None),
    ("float zero exp", "a = 0e0", None),
    ("float underscores", "a = 9_224_617.445_991_228_313", None),
    ("float underflow", "a = 1e-400", None),
    ("float denormal", "a = 4.9e-324", None),
    ("float max", "a = 1.7976931348623157e308", None),
    ("float overflow", "a = 1e400", False),
    ("float neg overflow", "a = -1.8e308", False),
    ("float long mantissa", "a = 3.141592653589793238462643383279502884197", None),
    ("float leading zero frac", "a = 0.0001", None),
    ("float 00.1", "a = 00.1", None),
    ("float exp underscore", "a = 1e1_0", None),
    ("float dot exp", "a = 1.e5", None),
    ("float inf plus", "a = +inf", None),
    ("float nan minus", "a = -nan", None),
    ("float infinity word", "a = infinity", None),
    ("float nan in array", "a = [nan, -inf,+inf ]", None),
    # booleans and words
    ("bool true eof", "a = true", None),
    ("bool glued", "a = truefalse", None),
    ("bool capital", "a = True", None),
    ("bare word", "a = hello", None),
    # strings
    ("basic escapes", r'a = "\b\t\n\f\r\"\\ \u00e9 \U0001F600"', None),
    ("escape e is TOML 1.1", r'a = "\e"', None),
    ("escape x is TOML 1.1", r'a = "\x41"', None),
    ("escape surrogate", r'a = "\uD800"', None),
    ("escape past unicode", r'a = "\U00110000"', None),
    ("escape short u", r'a = "\u12"', None),
    ("escape nul", r'a = "\u0000"', None),
    ("escape uppercase hex", r'a = "\u00E9"', None),
    ("literal backslashes", r"a = 'C:\Users\nodejs\templates'", None),
    ("literal with tab", "a = 'a\tb'", None),
    ("basic with tab", 'a = "a\tb"', None),
    ("basic with DEL", 'a = "a\x7fb"', None),
    ("basic with NUL", 'a = "a\x00b"', None),
    ("basic with US", 'a = "a\x1fb"', None),
    ("ml basic trim first newline", 'a = """\nx"""', None),
    ("ml basic trim first crlf", 'a = """\r\nx"""', None),
    ("ml basic crlf body", 'a = """x\r\ny"""', None),
    ("ml basic bare cr", 'a = """x\ry"""', None),
    ("ml basic line-ending backslash", 'a = """a \\\n   \n  b"""', None),
    ("ml basic backslash spaces newline", 'a = """a \\   \n  b"""', None),
    ("ml basic backslash crlf", 'a = """a \\\r\n  b"""', None),
    ("ml basic backslash space no newline", 'a = """a \\  b"""', None),
    ("ml basic backslash at end", 'a = """a\\\n"""', None),
    ("ml basic 1 quote before close", 'a = """a""""', None),
    ("ml basic 2 quotes before close", 'a = """a"""""', None),
    ("ml basic 3 quotes before close", 'a = """a""""""', None),
    ("ml basic quotes inside", 'a = """a""b"c"""', None),
    ("ml basic only quotes", 'a = """"""""', None),
    ("ml basic escaped quotes", 'a = """a\\"""b"""', None),
    ("ml literal 2 quotes before close", "a = '''a'''''", None),
    ("ml literal 3 quotes before close", "a = ''''''''", None),
    ("ml literal trims newline", "a = '''\nx\n'''", None),
    ("ml literal control", "a = '''a\x01b'''", None),
    ("ml literal tab", "a = '''a\tb'''", None),
    ("string unterminated", 'a = "abc', None),
    ("string newline inside", 'a = "ab\nc"', None),
    ("literal newline inside", "a = 'ab\nc'", None),
    ("ml unterminated", 'a = """abc', None),
    ("empty strings", "a = \"\"\nb = ''\nc = \"\"\"\"\"\"\nd = ''''''", None),
    ("string then garbage", 'a = "x" y', None),
    # date-times
    ("leap day 2000", "a = 2000-02-29", None),
    ("no leap day 1900", "a = 1900-02-29", None),
    ("leap day 2024", "a = 2024-02-29T00:00:00Z", None),
    ("no leap day 2023", "a = 2023-02-29", None),
    ("april 31", "a = 2023-04-31", None),
    ("month 00", "a = 2023-00-10", None),
    ("day 00", "a = 2023-01-00", None),
    ("hour 24", "a = 24:00:00", None),
    ("minute 60", "a = 23:60:00", None),
    ("leap second", "a = 1990-12-31T23:59:60Z", None),
    ("local leap second", "a = 23:59:60", None),
    ("lower t and z", "a = 1979-05-27t07:32:00z", None),
    ("space separator", "a = 1979-05-27 07:32:00.999999-07:00", None),
    ("space then comment", "a = 1979-05-27 # date", None),
    ("two spaces", "a = 1979-05-27  07:32:00", None),
    ("nanoseconds", "a = 1979-05-27T00:32:00.123456789+00:00", None),
    ("fraction 12 digits", "a = 00:32:00.123456789123", None),
    ("fraction empty", "a = 00:32:00.", None),
    ("time without seconds", "a = 07:32", None),
    ("datetime without seconds", "a = 1979-05-27T07:32Z", None),
    ("short year", "a = 979-05-27", None),
    ("one digit month", "a = 1979-5-27", None),
    ("offset -00:00", "a = 1979-05-27T07:32:00-00:00", None),
    ("offset 23:59", "a = 1979-05-27T07:32:00+23:59", None),
    ("offset 24:00", "a = 1979-05-27T07:32:00+24:00", None),
    ("offset no colon", "a = 1979-05-27T07:32:00+0700", None),
    ("local time with offset", "a = 07:32:00Z", None),
    ("date with offset", "a = 1979-05-27Z", None),
    ("datetimes in array", "a = [1979-05-27, 07:32:00, 1979-05-27 07:32:00, 1979-05-27T07:32:00Z]",
     None),
    # keys
    ("bare key digits", "1234 = 1", None),
    ("float-like key", "3.14159 = 'pi'", None),
    ("date-like key", "1979-05-27 = 1", None),
    ("dotted whitespace", "a . b . c = 1", None),
    ("quoted key empty", '"" = 1', None),
    ("literal key empty", "'' = 1", None),
    ("quoted dotted", '"a.b".c = 1\n\'a.b\'.d = 2', None),
    ("same key quoted and bare", 'a = 1\n"a" = 2', None),
    ("escaped key equals bare", 'a = 1\n"\\u0061" = 2', None),
    ("key with unicode escape", '"\\u00e9" = 1', None),
    ("unicode bare key", "é = 1", None),
    ("key multi-line string", '"""a""" = 1', None),
    ("key no value", "a =", None),
    ("key no equals", "a 1", None),
    ("two keys one line", "a = 1 b = 2", None),
    ("key newline before equals", "a\n= 1", None),
    ("value on next line", "a =\n1", None),
    ("true as key", "true = 1\nfalse = 2\ninf = 3\nnan = 4", None),
    # tables
    ("table then subtable", "[a]\n[a.b]\n[a.b.c]\nx = 1", None),
    ("super table after", "[a.b.c]\n[a]\nx = 1", None),
    ("super table twice", "[a.b]\n[a]\n[a]", None),
    ("table whitespace", "[ a . b ]\nx=1", None),
    ("table quoted parts", '[ "a" . \'b c\' ]', None),
    ("table no space close", "[a]x = 1", None),
    ("table comment", "[a] # c\nx = 1", None),
    ("dotted then header sub", "[fruit]\napple.color = 'red'\n[fruit.apple.texture]\nsmooth = true",
     None),
    ("dotted then header same", "[fruit]\napple.color = 'red'\n[fruit.apple]", None),
    ("dotted implicit then dotted", "[a.b.c]\n[a]\nb.d = 1", None),
    ("dotted implicit then header", "[a.b.c]\n[a]\nb.d = 1\n[a.b]", None),
    ("dotted implicit then sub header", "[a.b.c]\n[a]\nb.d = 1\n[a.b.e]", None),
    ("dotted implicit then dotted again", "[a.b.c]\n[a]\nb.d = 1\n[x]\n[a.b.c.q]\n", None),
    ("dotted across sections", "a.b = 1\n[x]\n[a.c]", None),
    ("dotted root then header", "a.b = 1\n[a]", None),
    ("dotted twice same section", "a.b = 1\na.c = 2\na.d.e = 3", None),
    ("dotted into value", "a = 1\na.b = 2", None),
    ("dotted into inline", "a = {b = 1}\na.c = 2", None),
    ("header into inline", "a = {b = 1}\n[a.c]", None),
    ("header redefines inline", "a = {b = 1}\n[a]", None),
    ("header into static array", "a = [{b = 1}]\n[a.c]", None),
    ("aot onto static array", "a = [{b = 1}]\n[[a]]", None),
    ("aot then subtable", "[[a]]\nx = 1\n[a.b]\ny = 2\n[[a]]\nx = 3\n[a.b]\ny = 4", None),
    ("aot nested", "[[a]]\n[[a.b]]\n[[a.b]]\n[[a]]\n[[a.b]]", None),
    ("aot then table", "[[a]]\n[a]", None),
    ("table then aot", "[a]\n[[a]]", None),
    ("aot subtable twice", "[[a]]\n[a.b]\n[a.b]", None),
    ("aot implicit parent then table", "[[a.b]]\n[a]\nx = 1", None),
    ("aot parent dotted", "[[a.b]]\n[a]\nb.c = 1", None),
    ("aot key duplicates aot", "[[a]]\nb = 1\n[[a.b]]", None),
    ("aot empty name", "[[]]", None),
    ("aot spaced brackets", "[ [a]]", None),
    ("aot unclosed", "[[a]", None),
    ("table in array via header", "[[a]]\n[a.b.c]\nx=1\n[[a]]\n[a.b.c]\nx=2", None),
    ("empty table name", "[]", None),
    ("table key with dot space", "[a .]", None),
    # inline tables
    ("inline nested", "a = {b = {c = {d = 1}}, e.f = 2}", None),
    ("inline dotted merge", "a = {b.c = 1, b.d = 2}", None),
    ("inline dotted conflict", "a = {b.c = 1, b = 2}", None),
    ("inline dotted into nested inline", "a = {b = {c = 1}, b.d = 2}", None),
    ("inline duplicate", "a = {b = 1, b = 2}", None),
    ("inline trailing comma", "a = {b = 1,}", None),
    ("inline newline", "a = {b = 1,\nc = 2}", None),
    ("inline newline in array value", "a = {b = [\n1,\n2]}", None),
    ("inline ml string value", 'a = {b = """x\ny"""}', None),
    ("inline comment in array", "a = {b = [1, # c\n 2]}", None),
    ("inline empty with spaces", "a = {   }", None),
    ("inline only comma", "a = {,}", None),
    ("inline missing comma", "a = {b = 1 c = 2}", None),
    ("inline unclosed", "a = {b = 1", None),
    ("inline in array of inline", "a = [{b = 1}, {b = 2, c = {d = [1, {e = 3}]}}]", None),
    # arrays
    ("array mixed", "a = [1, 'a', 1.5, true, [1], {x = 1}, 1979-05-27]", None),
    ("array trailing comma newline", "a = [\n  1,\n  2,\n]", None),
    ("array comments", "a = [ # c\n 1, # d\n # e\n 2 # f\n ] # g", None),
    ("array double comma", "a = [1,,2]", None),
    ("array leading comma", "a = [,1]", None),
    ("array empty", "a = []\nb = [ ]\nc = [\n]", None),
    ("array nested empty", "a = [[], [[]], [[], []]]", None),
    ("array unclosed", "a = [1, 2", None),
    ("array crlf", "a = [\r\n1,\r\n2\r\n]", None),
    # whitespace, comments, newlines
    ("crlf lines", "a = 1\r\nb = 2\r\n", None),
    ("bare cr", "a = 1\rb = 2", None),
    ("cr at end", "a = 1\r", None),
    ("comment with DEL", "# a\x7f\na = 1", None),
    ("comment with NUL", "# a\x00\na = 1", None),
    ("comment with tab", "# a\tb\na = 1", None),
    ("comment with CR", "# a\rb\na = 1", None),
    ("comment crlf", "# a\r\na = 1", None),
    ("no newline at eof", "a = 1 # x", None),
    ("only comment", "# x", None),
    ("vertical tab whitespace", "a = 1\x0b", None),
    ("form feed whitespace", "\x0ca = 1", None),
    ("nbsp whitespace", "a =\u00a01", None),
    ("bom then key", "\ufeffa = 1", True),  # toml-test utf8-bom-*: valid; tomllib.loads rejects
    ("bom twice", "\ufeff\ufeffa = 1", None),
    ("bom mid-file", "a = 1\n\ufeffb = 2", None),
    ("deep arrays", "a = " + "[" * 100 + "]" * 100, None),
]

# Raw byte cases (not valid UTF-8), all must be rejected.
RAW = [
    ("invalid utf8 in comment", b"# \xff\na = 1"),
    ("invalid utf8 in string", b'a = "\xc3"'),
    ("overlong encoding", b'a = "\xc0\xaf"'),
    ("encoded surrogate", b'a = "\xed\xa0\x80"'),
    ("past U+10FFFF", b'a = "\xf4\x90\x80\x80"'),
    ("truncated sequence at eof", b'a = "x"\n# \xe2\x82'),
    ("lone continuation", b"a = 1 # \x80"),
]


def generated_documents(count, seed=20260807):
    """Small random documents over the keys a, b, c: headers, arrays of
    tables, dotted keys and inline tables collide often, which exercises the
    redefinition rules from every side."""
    rnd = random.Random(seed)

    def key(maxparts=3):
        parts = []
        for _ in range(rnd.randint(1, maxparts)):
            k = rnd.choice("abc")
            r = rnd.random()
            parts.append('"%s"' % k if r < 0.1 else "'%s'" % k if r < 0.15 else k)
        return rnd.choice([".", " . "]).join(parts)

    def value(depth=0):
        r = rnd.random()
        if depth < 2 and r < 0.15:
            return "[" + ", ".join(value(depth + 1) for _ in range(rnd.randint(0, 3))) + "]"
        if depth < 2 and r < 0.35:
            return "{" + ", ".join("%s = %s" % (key(), value(depth + 1))
                                   for _ in range(rnd.randint(0, 3))) + "}"
        return rnd.choice(["1", "'s'", "true", "1.5", "1979-05-27", "07:32:00", "-0x1" if
                           rnd.random() < 0.05 else "0x1f", "inf"])

    for _ in range(count):
        lines = []
        for _ in range(rnd.randint(1, 6)):
            r = rnd.random()
            if r < 0.25:
                lines.append("[%s]" % key())
            elif r < 0.4:
                lines.append("[[%s]]" % key())
            else:
                lines.append("%s = %s" % (key(), value()))
        yield "\n".join(lines) + "\n"


def main():
    tally = hbtest.Tally()
    with open(os.path.join(SUITE, "files-toml-1.0.0"), encoding="utf-8") as f:
        listed = [line.strip() for line in f if line.strip()]
    valid = [p for p in listed if p.startswith("valid/") and p.endswith(".toml")]
    invalid = [p for p in listed if p.startswith("invalid/") and p.endswith(".toml")]
    results = run_lines([os.path.join(SUITE, p) for p in valid + invalid])

    for rel in valid:
        path = os.path.join(SUITE, rel)
        ok, text = results[path]
        if not ok:
            tally.check("toml-test valid/", False, "%s: rejected: %s" % (rel, text))
            continue
        with open(path[:-5] + ".json", encoding="utf-8") as f:
            want = json.load(f)
        diff = compare(want, json.loads(text))
        tally.check("toml-test valid/", diff is None, "%s: %s" % (rel, diff))
    for rel in invalid:
        ok, text = results[os.path.join(SUITE, rel)]
        tally.check("toml-test invalid/", ok is False,
                    "%s: %s" % (rel, "accepted" if ok else text))
        if ok is False:
            tally.check("error messages are SOURCE:LINE:COL: ...",
                        re.match(r"^.+:\d+:\d+: \S", text) is not None, "%s: %r" % (rel, text))

    if tomllib is None:
        print("tomllib not available: second oracle skipped")
        tally.finish()
        return

    # tomllib on the same files: report where it disagrees with toml-test
    # (toml-test wins), and compare our values with it where it agrees.
    for rel in valid + invalid:
        path = os.path.join(SUITE, rel)
        with open(path, "rb") as f:
            data = f.read()
        t_ok, t_val = tomllib_verdict(data)
        want_ok = rel.startswith("valid/")
        if t_ok != want_ok:
            print("NOTE tomllib %s %s (toml-test says %s)" % (
                "accepts" if t_ok else "rejects", rel, "valid" if want_ok else "invalid"))
            continue
        ok, text = results[path]
        if t_ok and ok:
            diff = compare(t_val, json.loads(text), digits=6)
            tally.check("tomllib on toml-test files", diff is None, "%s: %s" % (rel, diff))
        else:
            tally.check("tomllib on toml-test files", ok == t_ok, rel)

    # Extra cases against tomllib.
    with tempfile.TemporaryDirectory() as tmp:
        paths, cases = [], []
        for i, (name, text, expect) in enumerate(EXTRA):
            cases.append((name, text.encode("utf-8"), expect))
        for name, data in RAW:
            cases.append((name, data, False))
        for i, doc in enumerate(generated_documents(3000)):
            cases.append(("generated #%d" % i, doc.encode("utf-8"), None))
        for i, (name, data, _) in enumerate(cases):
            p = os.path.join(tmp, "case%03d.toml" % i)
            with open(p, "wb") as f:
                f.write(data)
            paths.append(p)
        res = run_lines(paths)
        for (name, data, expect), p in zip(cases, paths):
            ok, text = res[p]
            t_ok, t_val = tomllib_verdict(data)
            group = "generated documents vs tomllib" if name.startswith("generated") \
                else "extra cases vs tomllib"
            if expect is not None and expect != t_ok:
                # TOML 1.0 requires this verdict where tomllib differs
                tally.check(group, ok == expect,
                            "%s: %r: expected %s, got %s" % (
                                name, data, "accept" if expect else "reject", text))
                continue
            if ok is not t_ok:
                tally.check(group, False, "%s: %r: tomllib %s, we %s" % (
                    name, data, "accepts" if t_ok else "rejects (%s)" % t_val,
                    "accept" if ok else "reject (%s)" % text))
                continue
            if ok:
                diff = compare(t_val, json.loads(text), digits=6)
                tally.check(group, diff is None, "%s: %r: %s" % (name, data, diff))
            else:
                tally.check(group, True)
                tally.check("error messages are SOURCE:LINE:COL: ...",
                            re.match(r"^.+:\d+:\d+: \S", text) is not None,
                            "%s: %r" % (name, text))
    tally.finish()


if __name__ == "__main__":
    main()
