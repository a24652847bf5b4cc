#!/usr/bin/python3
"""elf.readelf: `hpcbuild elf --json` against binutils' `readelf -d -V -W` on real ELF files of this
machine (system libraries, /usr/bin, Open MPI, OpenBLAS, numpy extension modules) and on crafted
ELF32/ELF64 images of both byte orders; `--resolve` against `ldd` for a sample."""
import glob
import json
import os
import random
import re
import struct
import subprocess
import sys
import tempfile

HPCBUILD = os.environ["HPCBUILD"]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, file=sys.stderr)


def is_elf(path):
    try:
        if not os.path.isfile(path) or os.path.islink(path) and not os.path.exists(path):
            return False
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def readelf(path):
    """DT_NEEDED, SONAME, RPATH, RUNPATH and version needs as readelf prints them."""
    out = subprocess.run(["readelf", "-d", "-V", "-W", path], capture_output=True, text=True,
                         env={"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin")}).stdout
    r = {"needed": [], "soname": None, "rpath": None, "runpath": None, "verneed": []}
    in_verneed = False
    for line in out.splitlines():
        m = re.search(r"\((NEEDED|SONAME|RPATH|RUNPATH)\)\s+\S.*?: \[(.*)\]$", line)
        if m:
            key = m.group(1).lower()
            if key == "needed":
                r["needed"].append(m.group(2))
            else:
                r[key] = m.group(2)
            continue
        if "section '" in line:
            in_verneed = line.startswith("Version needs section")
            continue
        if not in_verneed:
            continue
        m = re.search(r"File: (\S+)\s+Cnt:", line)
        if m:
            r["verneed"].append({"file": m.group(1), "versions": []})
            continue
        m = re.search(r"Name: (\S+)\s+Flags:", line)
        if m and r["verneed"]:
            r["verneed"][-1]["versions"].append(m.group(1))
    return r


def ours(paths, resolve=False):
    args = [HPCBUILD, "elf", "--json"] + (["--resolve"] if resolve else []) + ["--"] + paths
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        fail("hpcbuild elf exited %d: %s" % (p.returncode, p.stderr.strip()[:2000]))
    return {d["file"]: d for d in map(json.loads, p.stdout.splitlines())}


def compare(paths, keys=("needed", "soname", "rpath", "runpath", "verneed")):
    got_all = {}
    for i in range(0, len(paths), 100):
        got_all.update(ours(paths[i:i + 100]))
    for path in paths:
        want, got = readelf(path), got_all.get(path)
        if got is None:
            fail("%s: no output" % path)
            continue
        for key in keys:
            if got[key] != want[key]:
                fail("%s: %s: ours %r, readelf %r" % (path, key, got[key], want[key]))
    return got_all


def ldd(path):
    p = subprocess.run(["ldd", path], capture_output=True, text=True)
    if p.returncode != 0:
        return None
    m = {}
    for line in p.stdout.splitlines():
        mm = re.match(r"\s*(\S+) => (not found|\S+)", line)
        if mm:
            m[mm.group(1)] = None if mm.group(2) == "not found" else mm.group(2)
    return m


def compare_resolution(paths):
    got_all = ours(paths, resolve=True)
    checked = 0
    for path in paths:
        want = ldd(path)
        if want is None:
            continue
        for r in got_all[path]["resolved"]:
            if r["name"] not in want:
                continue
            w, g = want[r["name"]], r["path"]
            if (w and os.path.realpath(w)) != (g and os.path.realpath(g)):
                fail("%s: %s resolves to %r (%s), ldd says %r" % (path, r["name"], g, r["via"], w))
            checked += 1
    return checked


# --- crafted images ---------------------------------------------------------------------------

def elf_hash(name):
    h = 0
    for c in name.encode():
        h = ((h << 4) + c) & 0xffffffff
        g = h & 0xf0000000
        if g:
            h ^= g >> 24
        h &= ~g & 0xffffffff
    return h


def craft(is64, be, with_phdrs=True, machine=20):
    """An ET_DYN image with PT_LOAD + PT_DYNAMIC, .dynstr, .dynamic and .gnu.version_r."""
    e = ">" if be else "<"
    W = "Q" if is64 else "I"
    w = 8 if is64 else 4
    ehsize, phent, shent = (64, 56, 64) if is64 else (52, 32, 40)
    base = 0x10000
    strings = ["libfoo.so.1", "libbar.so.2", "libc.so.6", "libcrafted.so.9", "$ORIGIN/../lib:/opt/x",
               "GLIBC_2.17", "GLIBC_2.4", "BAR_1.0"]
    dynstr, off = b"\0", {}
    for s in strings:
        off[s] = len(dynstr)
        dynstr += s.encode() + b"\0"
    verneed_spec = [("libc.so.6", ["GLIBC_2.17", "GLIBC_2.4"]), ("libbar.so.2", ["BAR_1.0"])]
    verneed = b""
    for i, (file, versions) in enumerate(verneed_spec):
        size = 16 * (1 + len(versions))
        nxt = size if i + 1 < len(verneed_spec) else 0
        verneed += struct.pack(e + "HHIII", 1, len(versions), off[file], 16, nxt)
        for j, v in enumerate(versions):
            verneed += struct.pack(e + "IHHII", elf_hash(v), 0, 2 + j, off[v], 16 if j + 1 < len(versions) else 0)

    def align(n, a):
        return (n + a - 1) // a * a
    nph = 2 if with_phdrs else 0
    str_off = align(ehsize + nph * phent, 8)
    vn_off = align(str_off + len(dynstr), 8)
    dyn_off = align(vn_off + len(verneed), 8)
    dyn_entries = [(1, off["libfoo.so.1"]), (1, off["libbar.so.2"]), (1, off["libc.so.6"]),
                   (14, off["libcrafted.so.9"]), (29, off["$ORIGIN/../lib:/opt/x"]), (5, base + str_off),
                   (10, len(dynstr)), (0x6ffffffe, base + vn_off), (0x6fffffff, len(verneed_spec)), (0, 0)]
    dynamic = b"".join(struct.pack(e + W + W, t, v) for t, v in dyn_entries)
    shstr = b"\0.dynstr\0.gnu.version_r\0.dynamic\0.shstrtab\0"
    shstr_off = dyn_off + len(dynamic)
    sh_off = align(shstr_off + len(shstr), 8)
    total = sh_off + 5 * shent

    def phdr(t, o, size, flags):
        if is64:
            return struct.pack(e + "IIQQQQQQ", t, flags, o, base + o, base + o, size, size, 8)
        return struct.pack(e + "IIIIIIII", t, o, base + o, base + o, size, size, flags, 8)

    def shdr(name, t, o, size, link=0, info=0, entsize=0, addr=True):
        a = base + o if addr else 0
        if is64:
            return struct.pack(e + "IIQQQQIIQQ", name, t, 2, a, o, size, link, info, 8, entsize)
        return struct.pack(e + "IIIIIIIIII", name, t, 2, a, o, size, link, info, 8, entsize)

    ident = b"\x7fELF" + bytes([2 if is64 else 1, 2 if be else 1, 1]) + bytes(9)
    hdr = ident + struct.pack(e + "HHI" + W + W + W + "IHHHHHH", 3, machine, 1, 0, ehsize if nph else 0, sh_off, 0,
                              ehsize, phent, nph, shent, 5, 4)
    img = bytearray(total)
    img[0:len(hdr)] = hdr
    if nph:
        img[ehsize:ehsize + 2 * phent] = phdr(1, 0, total, 5) + phdr(2, dyn_off, len(dynamic), 6)
    img[str_off:str_off + len(dynstr)] = dynstr
    img[vn_off:vn_off + len(verneed)] = verneed
    img[dyn_off:dyn_off + len(dynamic)] = dynamic
    img[shstr_off:shstr_off + len(shstr)] = shstr
    sh = (bytes(shent) + shdr(1, 3, str_off, len(dynstr)) + shdr(9, 0x6ffffffe, vn_off, len(verneed), 1, 2)
          + shdr(24, 6, dyn_off, len(dynamic), 1, 0, 2 * w) + shdr(33, 3, shstr_off, len(shstr), addr=False))
    img[sh_off:sh_off + len(sh)] = sh
    return bytes(img)


def check_crafted(tmp):
    paths = []
    for is64 in (False, True):
        for be in (False, True):
            for with_phdrs in (True, False):
                p = os.path.join(tmp, "crafted-%d-%s%s.so" % (64 if is64 else 32, "be" if be else "le",
                                                             "" if with_phdrs else "-sections"))
                with open(p, "wb") as f:
                    f.write(craft(is64, be, with_phdrs))
                paths.append(p)
    # readelf shows no dynamic section without program headers: compare those on version needs only.
    got = compare([p for p in paths if "-sections" not in p])
    got.update(compare([p for p in paths if "-sections" in p], keys=("verneed",)))
    for p in paths:
        g = got.get(p)
        if not g:
            continue
        want = {"class": 64 if "-64-" in p else 32, "big_endian": "-be" in p, "type": 3, "machine": 20,
                "has_dynamic": "-sections" not in p,
                "needed": ["libfoo.so.1", "libbar.so.2", "libc.so.6"], "soname": "libcrafted.so.9",
                "runpath": "$ORIGIN/../lib:/opt/x", "rpath": None,
                "verneed": [{"file": "libc.so.6", "versions": ["GLIBC_2.17", "GLIBC_2.4"]},
                            {"file": "libbar.so.2", "versions": ["BAR_1.0"]}]}
        for k, v in want.items():
            if g[k] != v:
                fail("%s: %s: ours %r, expected %r" % (p, k, g[k], v))
    return len(paths)


def main():
    random.seed(1234)
    libs = sorted(p for p in glob.glob("/usr/lib/x86_64-linux-gnu/**/*.so*", recursive=True) if is_elf(p))
    libs = sorted(set(os.path.realpath(p) for p in libs))
    if len(libs) > 300:
        libs = sorted(random.sample(libs, 300))
    bins = sorted(p for p in glob.glob("/usr/bin/*") if is_elf(p) and not os.path.islink(p))
    bins = sorted(random.sample(bins, min(80, len(bins))))
    extra = [p for p in glob.glob("/usr/lib/x86_64-linux-gnu/openmpi/lib/*.so*")
             + glob.glob("/usr/lib/x86_64-linux-gnu/openblas*/*.so*")
             + glob.glob("/usr/lib/x86_64-linux-gnu/libopenblas*.so*")
             + glob.glob("/usr/lib/python3/dist-packages/numpy/**/*.so", recursive=True)
             + glob.glob("/usr/lib/python3/dist-packages/**/*.cpython-*.so", recursive=True)[:40] if is_elf(p)]
    files = sorted(set(libs + bins + [os.path.realpath(p) for p in extra]))
    compare(files)
    sample = sorted(random.sample(bins, min(25, len(bins))) + random.sample(libs, min(25, len(libs)))
                    + [p for p in extra if "openmpi" in p][:5])
    resolved = compare_resolution(sample)
    with tempfile.TemporaryDirectory() as tmp:
        ncrafted = check_crafted(tmp)
    print("compared %d files with readelf, %d resolutions with ldd, %d crafted images" %
          (len(files), resolved, ncrafted))
    if resolved < 50:
        fail("only %d resolutions compared with ldd" % resolved)
    if failures:
        print("%d failures" % len(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
