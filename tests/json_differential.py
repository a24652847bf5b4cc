"""Differential test of the hb_json reader and writer against Python's json.

Usage: json_differential.py PATH/TO/json_roundtrip   (run by ctest as json.differential)

Every document goes through tests/tools/json_roundtrip, which parses it with
hb_json, walks it with the typed accessors and writes it back with the hb_json
writer; Python then loads both the original and our output and compares them as
values (types, float bits including the sign of zero, key order, duplicates).

Groups:
  real/*        every .json under shared/testdata (repodata, index pages,
                mappings, toml-test expectations), through the file loader
                (mmap) compact and indented, and through the batch path
  generated     random valid documents written in many styles
  mutated       random byte mutations of generated documents: we must accept
                exactly what Python accepts (minus the extensions listed in
                ALLOWED_PYTHON_ONLY), with equal values, and reject the rest
                with a "line L, column C (byte offset B)" message
  strict        hand-written invalid inputs with the expected message
  location      error line/column on multi-line inputs
"""
import json
import math
import os
import random
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import SHARED, Tally  # noqa: E402

TOOL = sys.argv[1] if len(sys.argv) > 1 else "json_roundtrip"
ERROR_RE = re.compile(r"^input: line \d+, column \d+ \(byte offset \d+\): \S")


def same(a, b):
    """Strict value equality: same types, float sign of zero, key order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if a != a:
            return b != b
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def python_load(data):
    """(True, value) or (False, reason) for Python's json on these bytes."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return False, "utf-8: %s" % e
    try:
        return True, json.loads(text)
    except (ValueError, RecursionError) as e:
        return False, str(e)


def run_batch(docs, indent=0):
    """Sends documents (bytes) through json_roundtrip --batch; returns a list of
    (status, bytes) with status 'ok' or 'error'."""
    payload = b"".join(b"%d\n" % len(d) + d for d in docs)
    args = [TOOL, "--indent", str(indent), "--batch"]
    proc = subprocess.run(args, input=payload, stdout=subprocess.PIPE, check=False)
    out = proc.stdout
    results, pos = [], 0
    while pos < len(out):
        nl = out.index(b"\n", pos)
        status, n = out[pos:nl].decode().split(" ")
        n = int(n)
        body = out[nl + 1:nl + 1 + n]
        pos = nl + 1 + n + 1
        if status == "internal":
            raise RuntimeError("json_roundtrip internal error: %s" % body.decode())
        results.append((status, body))
    if proc.returncode != 0 or len(results) != len(docs):
        raise RuntimeError("json_roundtrip --batch exited %d after %d of %d documents"
                           % (proc.returncode, len(results), len(docs)))
    return results


def lone_surrogate(v):
    if isinstance(v, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in v)
    if isinstance(v, (list, tuple)):
        return any(lone_surrogate(x) for x in v)
    if isinstance(v, dict):
        return any(lone_surrogate(k) or lone_surrogate(x) for k, x in v.items())
    return False


def non_finite(v):
    if isinstance(v, float):
        return v != v or v in (math.inf, -math.inf)
    if isinstance(v, (list, tuple)):
        return any(non_finite(x) for x in v)
    return False


NONFINITE_TOKEN = re.compile(rb"NaN|Infinity")


def allowed_python_only(data, our_msg):
    """Python extensions to RFC 8259 that we reject on purpose (docs/json.md):
    NaN/Infinity/-Infinity literals and lone surrogate escapes."""
    # every member, even those a later duplicate key replaced
    pairs = json.loads(data.decode("utf-8"), object_pairs_hook=list)
    if (non_finite(pairs) and NONFINITE_TOKEN.search(data)
            and ("found 'N'" in our_msg or "found 'I'" in our_msg)):
        return True
    return lone_surrogate(pairs) and "surrogate" in our_msg


def compare(t, group, data, result, indent_used=False):
    """Checks one of our results against Python on the same input."""
    py_ok, py = python_load(data)
    status, body = result
    shown = data[:120]
    if status == "ok":
        if not py_ok:
            t.check(group, False, "we accept, Python rejects (%s): %r" % (py, shown))
            return
        try:
            ours = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            t.check(group, False, "our output is not JSON (%s): %r -> %r" % (e, shown, body[:200]))
            return
        t.check(group, same(py, ours), "values differ: %r -> %r" % (shown, body[:200]))
    else:
        msg = body.decode("utf-8", "replace")
        if py_ok:
            t.check(group, allowed_python_only(data, msg),
                    "we reject, Python accepts: %r: %s" % (shown, msg))
        else:
            t.check(group, bool(ERROR_RE.match(msg)), "bad message format: %r: %s" % (shown, msg))


# ---- real documents ----------------------------------------------------------

def real_files():
    files = []
    for root, _dirs, names in os.walk(os.path.join(SHARED, "testdata")):
        for name in names:
            if name.endswith(".json"):
                files.append(os.path.join(root, name))
    return sorted(files)


def check_real(t):
    files = real_files()
    docs = []
    for index, path in enumerate(files):
        with open(path, "rb") as f:
            data = f.read()
        docs.append(data)
        py_ok, py = python_load(data)
        group = "real/" + os.path.relpath(path, os.path.join(SHARED, "testdata")).split(os.sep)[0]
        # the file loader (mmap), compact; indented for every fourth file
        for indent in ((0, 2) if index % 4 == 0 else (0,)):
            proc = subprocess.run([TOOL, "--indent", str(indent), path], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, check=False)
            if not py_ok:
                t.check(group, proc.returncode == 1, "Python rejects %s (%s), we exit %d"
                        % (path, py, proc.returncode))
                continue
            if proc.returncode != 0:
                t.check(group, False, "%s: exit %d: %s" % (path, proc.returncode,
                                                          proc.stderr.decode()[:300]))
                continue
            t.check(group, same(py, json.loads(proc.stdout.decode("utf-8"))),
                    "values differ for %s (indent %d)" % (path, indent))
    # the same documents through the in-memory batch path
    for data, res in zip(docs, run_batch(docs)):
        compare(t, "real/batch", data, res)
    return len(files)


# ---- generated documents -------------------------------------------------------

INTERESTING_FLOATS = [
    "0.0", "-0.0", "1.5", "1e308", "1.7976931348623157e308", "2.2250738585072014e-308",
    "2.2250738585072011e-308", "4.9e-324", "5e-324", "2.4703282292062327e-324",
    "2.4703282292062328e-324", "1e-400", "-1e-400", "1e400", "-1e400", "0.1", "0.30000000000000004",
    "9007199254740993", "9007199254740993.0", "1E+2", "1e-0", "123.456e-78", "6.02214076E23",
    "3.141592653589793238462643383279502884197", "0e0", "-0E-0", "100000000000000000000000.5",
]
INTERESTING_INTS = [
    "0", "-0", "1", "-1", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
    "-9223372036854775809", "18446744073709551616", "12345678901234567890123456789012345678901234567890",
]


def rand_number(rng):
    r = rng.random()
    if r < 0.2:
        return rng.choice(INTERESTING_FLOATS + INTERESTING_INTS)
    if r < 0.5:
        return str(rng.randint(-10**rng.randint(1, 25), 10**rng.randint(1, 25)))
    if r < 0.7:
        return repr(rng.uniform(-1e6, 1e6))
    if r < 0.85:
        return repr(rng.random() * 10 ** rng.randint(-320, 308))
    # hand-built: -?int(.frac)?(e[+-]?exp)?
    s = rng.choice(["", "-"]) + (rng.choice("123456789") + "".join(
        rng.choice("0123456789") for _ in range(rng.randint(0, 30))) if rng.random() < 0.8 else "0")
    if rng.random() < 0.5:
        s += "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 30)))
    if rng.random() < 0.5:
        s += rng.choice("eE") + rng.choice(["", "+", "-"]) + str(rng.randint(0, 400))
    return s


ALPHABET = (["a", "b", "z", "0", " ", "/", "\\", '"', "'", "\n", "\t", "\r", "\x00", "\x01", "\x1f",
             "\x7f", "\u00e9", "\u00ff", "\u0100", "\u07ff", "\u0800", "\u2028", "\ufeff", "\uffff",
             "\U00010000", "\U0001f600", "\U0010ffff", "{", "}", "[", "]", ":", ","])


def rand_string(rng):
    n = rng.choice([0, 1, 2, 5, 8, 9, 15, 16, 17, 40, 100])
    return "".join(rng.choice(ALPHABET) if rng.random() < 0.3 else chr(rng.randint(0x20, 0x7e))
                   for _ in range(n))


def write_string(rng, s):
    """A JSON string literal for s, escaping in one of several styles."""
    style = rng.random()
    if style < 0.4:
        return json.dumps(s, ensure_ascii=rng.random() < 0.5)
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == "\\" or o < 0x20 or rng.random() < 0.1:
            short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n",
                     "\r": "\\r", "\t": "\\t", "/": "\\/"}
            if ch in short and rng.random() < 0.7:
                out.append(short[ch])
            elif o >= 0x10000:
                o -= 0x10000
                hi, lo = 0xD800 + (o >> 10), 0xDC00 + (o & 0x3FF)
                fmt = "\\u%04x\\u%04X" if rng.random() < 0.5 else "\\u%04X\\u%04x"
                out.append(fmt % (hi, lo))
            else:
                out.append(("\\u%04x" if rng.random() < 0.5 else "\\u%04X") % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def ws(rng):
    if rng.random() < 0.7:
        return ""
    return "".join(rng.choice(" \t\n\r") for _ in range(rng.randint(1, 12)))


def rand_doc(rng, depth=0):
    """A random JSON text (str) for one value."""
    r = rng.random()
    if depth > 4 or r < 0.45:
        k = rng.random()
        if k < 0.35:
            return write_string(rng, rand_string(rng))
        if k < 0.7:
            return rand_number(rng)
        return rng.choice(["true", "false", "null"])
    n = rng.choice([0, 1, 2, 3, 4, 8])
    if r < 0.7:
        items = [ws(rng) + rand_doc(rng, depth + 1) + ws(rng) for _ in range(n)]
        return "[" + ",".join(items) + ws(rng) + "]"
    keys = [rand_string(rng) for _ in range(n)]
    if keys and rng.random() < 0.2:
        keys.append(rng.choice(keys))   # duplicate key: last wins
    members = [ws(rng) + write_string(rng, k) + ws(rng) + ":" + ws(rng) + rand_doc(rng, depth + 1)
               + ws(rng) for k in keys]
    return "{" + ",".join(members) + ws(rng) + "}"


def check_generated(t, rng, count):
    docs = [(ws(rng) + rand_doc(rng) + ws(rng)).encode("utf-8") for _ in range(count)]
    for data, res in zip(docs, run_batch(docs)):
        compare(t, "generated", data, res)
    # the indented writer on a share of them
    sub = docs[: count // 4]
    for data, res in zip(sub, run_batch(sub, indent=3)):
        compare(t, "generated/indented", data, res)
    return docs


MUTATION_BYTES = [b"{", b"}", b"[", b"]", b",", b":", b'"', b"\\", b"0", b"1", b"-", b"+", b".",
                  b"e", b"E", b" ", b"\n", b"\t", b"\x00", b"\x1f", b"\x7f", b"\x80", b"\xbf",
                  b"\xc0", b"\xc3", b"\xe0", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xff", b"u",
                  b"\\u", b"\\ud800", b"\\udc00", b"t", b"true", b"nul", b"NaN", b"Infinity",
                  b"/*", b"//", b"#", b"\xef\xbb\xbf", b"x", b"'"]


def mutate(rng, data):
    b = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        pos = rng.randint(0, len(b))
        if op < 0.3 and b:
            del b[min(pos, len(b) - 1)]
        elif op < 0.6:
            b[pos:pos] = rng.choice(MUTATION_BYTES)
        elif op < 0.8 and b:
            p = min(pos, len(b) - 1)
            b[p:p + 1] = rng.choice(MUTATION_BYTES)
        elif op < 0.9:
            del b[pos:]
        else:
            b[pos:pos] = b[pos:pos + rng.randint(1, 8)]
    return bytes(b)


def check_mutated(t, rng, docs):
    muts = [mutate(rng, rng.choice(docs)) for _ in range(len(docs) * 2)]
    for data, res in zip(muts, run_batch(muts)):
        compare(t, "mutated", data, res)


# ---- strict rules and messages --------------------------------------------------

STRICT = [
    (b"", "expected a value, found end of input"),
    (b"   ", "expected a value, found end of input"),
    (b"[1,]", "trailing comma before ']' is not allowed"),
    (b'{"a":1,}', "trailing comma before '}' is not allowed"),
    (b"[1,,2]", "expected a value, found ','"),
    (b"[,]", "expected a value, found ','"),
    (b"{,}", "expected a string key, found ','"),
    (b"// c\n1", "expected a value, found '/'"),
    (b"/* c */ 1", "expected a value, found '/'"),
    (b"[1 /* c */]", "expected ',' or ']' after an array element, found '/'"),
    (b"# c\n1", "expected a value, found '#'"),
    (b"01", "leading zeros are not allowed in numbers"),
    (b"-01", "leading zeros are not allowed in numbers"),
    (b"[00]", "leading zeros are not allowed in numbers"),
    (b"+1", "expected a value, found '+'"),
    (b".5", "expected a value, found '.'"),
    (b"1.", "expected a digit after '.', found end of input"),
    (b"1.e5", "expected a digit after '.', found 'e'"),
    (b"1e", "expected a digit in the exponent, found end of input"),
    (b"1e+", "expected a digit in the exponent, found end of input"),
    (b"-", "expected a digit after '-', found end of input"),
    (b"0x10", "expected end of input after the top-level value, found 'x'"),
    (b"NaN", "expected a value, found 'N'"),
    (b"Infinity", "expected a value, found 'I'"),
    (b"-Infinity", "expected a digit after '-', found 'I'"),
    (b"tru", "expected 'true', found end of input"),
    (b"nulL", "expected 'null', found 'L'"),
    (b"True", "expected a value, found 'T'"),
    (b"'a'", "expected a value, found \"'\""),
    (b'"a\tb"', "control character U+0009 in string (it must be escaped)"),
    (b'"a\nb"', "control character U+000A in string (it must be escaped)"),
    (b'"\x00"', "control character U+0000 in string (it must be escaped)"),
    (b'"abc', "expected '\"' to end the string, found end of input"),
    (b'"\\x41"', "expected one of \" \\ / b f n r t u after '\\', found 'x'"),
    (b'"\\u12"', "expected 4 hex digits after '\\u', found '\"'"),
    (b'"\\u12G4"', "expected 4 hex digits after '\\u', found 'G'"),
    (b'"\\ud800"', "lone high surrogate \\uD800 in string"),
    (b'"\\ud800\\u0041"', "lone high surrogate \\uD800 in string"),
    (b'"\\udc00"', "lone low surrogate \\uDC00 in string"),
    (b'"\\ud800\\ud800"', "lone high surrogate \\uD800 in string"),
    (b'"\xff"', "invalid UTF-8 (byte 0xFF) in string"),
    (b'"\xc0\x80"', "invalid UTF-8 (byte 0xC0) in string"),
    (b'"\xe0\x80\x80"', "invalid UTF-8 (byte 0xE0) in string"),
    (b'"\xed\xa0\x80"', "invalid UTF-8 (byte 0xED) in string"),
    (b'"\xf4\x90\x80\x80"', "invalid UTF-8 (byte 0xF4) in string"),
    (b'"\xc3"', "invalid UTF-8 (byte 0xC3) in string"),
    (b"\xef\xbb\xbf{}", "unexpected UTF-8 byte order mark"),
    (b"{} {}", "expected end of input after the top-level value, found '{'"),
    (b"[1] x", "expected end of input after the top-level value, found 'x'"),
    (b"1 2", "expected end of input after the top-level value, found '2'"),
    (b"{1:2}", "expected a string key, found '1'"),
    (b'{"a" 1}', "expected ':' after an object key, found '1'"),
    (b'{"a":1 "b":2}', "expected ',' or '}' after an object member, found '\"'"),
    (b"[1 2]", "expected ',' or ']' after an array element, found '2'"),
    (b"[", "expected a value, found end of input"),
    (b"{", "expected a string key, found end of input"),
    (b"\x0c1", "expected a value, found control character U+000C"),
    (b"\xa01", "expected a value, found byte 0xA0"),
    (b"[1]\x00", "expected end of input after the top-level value, found control character U+0000"),
    (b"[" * 1025 + b"]" * 1025, "nesting deeper than 1024 arrays and objects"),
    (b'{"a":' * 1025 + b"1" + b"}" * 1025, "nesting deeper than 1024 arrays and objects"),
]

ACCEPTED = [
    (b"[" * 1024 + b"]" * 1024, None),
    (b'{"a":' * 1023 + b"[1]" + b"}" * 1023, None),
    (b" \t\r\n 1 \t\r\n ", 1),
    (b'"\\u0000"', "\x00"),
    (b'"\\ud83d\\ude00"', "\U0001f600"),
    (b'"\\/"', "/"),
    (b'"\x7f"', "\x7f"),
    (b'{"a":1,"a":2}', {"a": 2}),
    (b"-0", 0),
    (b"-0.0", -0.0),
    (b"1E400", math.inf),
]


def check_strict(t):
    data = [d for d, _ in STRICT] + [d for d, _ in ACCEPTED]
    res = run_batch(data)
    for (d, want), (status, body) in zip(STRICT, res[: len(STRICT)]):
        msg = body.decode("utf-8", "replace")
        t.check("strict/rejected", status == "error" and want in msg and bool(ERROR_RE.match(msg)),
                "%r: want %r, got %s %s" % (d[:40], want, status, msg))
    for (d, want), (status, body) in zip(ACCEPTED, res[len(STRICT):]):
        ok = status == "ok"
        if ok and want is not None:
            ok = same(json.loads(body), want)
        t.check("strict/accepted", ok, "%r: want %r, got %s %r" % (d[:40], want, status, body[:80]))


LOCATIONS = [
    (b"[1,\n 2,\n x]", 3, 2, 9),
    (b'{\n  "a": 1,\n  "b": [1, 2,]\n}', 3, 14, 25),
    (b'["\xc3\xa9\xc3\xa9", tru]', 1, 11, 12),
    (b'\n\n\n  "abc', 4, 7, 9),
    (b'{"k":\r\n"\\q"}', 2, 3, 9),
]


def check_locations(t):
    res = run_batch([d for d, *_ in LOCATIONS])
    for (d, line, col, off), (status, body) in zip(LOCATIONS, res):
        want = "input: line %d, column %d (byte offset %d): " % (line, col, off)
        msg = body.decode("utf-8", "replace")
        t.check("location", status == "error" and msg.startswith(want),
                "%r: want %r, got %s" % (d, want, msg))


def main():
    t = Tally()
    rng = random.Random(8259)
    check_real(t)
    check_strict(t)
    check_locations(t)
    docs = check_generated(t, rng, 6000)
    check_mutated(t, rng, docs)
    t.finish()


if __name__ == "__main__":
    main()
