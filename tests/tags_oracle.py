"""Wheel tags and distribution file names against packaging (Debian's 23.0) with 26.3's rules.

The oracle is packaging 23.0; where 26.3 (what hpcbuild follows, SPECS §5.4) differs, the
expected value is derived from 23.0's answer by the 26.3 rule, each said where it is applied:
  * 26.3 lists the native linux_* platforms FIRST, 23.0 last (packaging issue 160);
  * 26.3 gives free-threaded ABIs (cp313t) abi3t where 23.0 gives abi3;
  * 26.3 allows manylinux on loongarch64 and riscv64 too;
  * 26.3's parse_tag rejects empty '.'-members and python tags that are not identifiers.
Where hpcbuild deliberately refuses what packaging accepts (an empty name, a '/', sdist
extensions beyond .tar.gz/.zip, legacy sdist names split by project or version) the
reference below says so.

1. `hpcbuild tags --python /usr/bin/python3` (text and --json) against sys_tags().
2. Constructed targets (musl 1.2 aarch64, cp313t, glibc 2.17 s390x, PyPy, debug, and a
   few hundred random ones) through the test driver against cpython_tags / generic_tags /
   compatible_tags with explicit arguments and _manylinux/_musllinux with the detected
   libc replaced.
3. A few thousand generated wheel and sdist file names (valid and invalid) against
   parse_wheel_filename / parse_sdist_filename; ranks against min(index in tag list).
"""
import os
import random
import re
import sys
import sysconfig
import urllib.parse

from packaging import _manylinux, _musllinux, tags
from packaging.utils import (InvalidSdistFilename, InvalidWheelFilename, canonicalize_name,
                             parse_sdist_filename, parse_wheel_filename)
from packaging.version import InvalidVersion, Version

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import Tally, drive, json_line, run_cli  # noqa: E402

SEED = int(os.environ.get("HB_SEED", "425"))
N_RANDOM = int(os.environ.get("HB_CASES", "3000"))
rng = random.Random(SEED)
t = Tally()

ALLOWED_263 = {"x86_64", "aarch64", "ppc64", "ppc64le", "s390x", "loongarch64", "riscv64", "i686", "armv7l"}


def native_first(platforms):
    """26.3's platform order from 23.0's: the linux_* platforms move to the front."""
    platforms = list(platforms)
    return [p for p in platforms if p.startswith("linux_")] + [p for p in platforms if not p.startswith("linux_")]


def linux_platforms(arch, libc, lmajor, lminor):
    """_linux_platforms for a constructed target: 23.0's _manylinux/_musllinux with the
    detected libc (and the ELF ABI check) replaced, in 26.3's order."""
    saved = (_manylinux._get_glibc_version, _manylinux._have_compatible_abi, _musllinux._get_musl_version)
    try:
        _manylinux._get_glibc_version = lambda: (lmajor, lminor) if libc == "glibc" else (-1, -1)
        _manylinux._have_compatible_abi = lambda exe, a: a in ALLOWED_263   # 26.3's set
        _musllinux._get_musl_version = (lambda exe: _musllinux._MuslVersion(lmajor, lminor)) \
            if libc == "musl" else (lambda exe: None)
        linux = "linux_" + arch
        plats = list(_manylinux.platform_tags(linux, arch)) if libc == "glibc" else []
        plats += list(_musllinux.platform_tags(arch))
        return native_first(plats + [linux])
    finally:
        _manylinux._get_glibc_version, _manylinux._have_compatible_abi, _musllinux._get_musl_version = saved


def expected_tags(impl, major, minor, abi, ft, arch, libc, lmajor, lminor):
    plats = linux_platforms(arch, libc, lmajor, lminor)
    nodot = "%d%d" % (major, minor)
    if impl == "cp":
        abis = [abi]
        if "d" in abi[2 + len(nodot):] and (major, minor) >= (3, 8):
            abis.append("cp" + nodot + ("t" if ft else ""))   # what _cpython_abis adds
        out = [str(x) for x in tags.cpython_tags((major, minor), abis, plats)]
        if ft:   # 26.3: abi3t in place of abi3 for a free-threaded ABI
            out = [x.replace("-abi3-", "-abi3t-") for x in out]
        interp = "cp" + nodot
    else:
        out = [str(x) for x in tags.generic_tags(impl + nodot, [abi], plats)]
        interp = "pp3" if impl == "pp" else None
    return out + [str(x) for x in tags.compatible_tags((major, minor), interp, plats)]


def target_fields(impl, major, minor, abi, ft, arch, libc, lmajor, lminor):
    return [impl, str(major), str(minor), abi, "1" if ft else "0", "linux_" + arch, arch, libc,
            str(lmajor), str(lminor)]


# --- 1. the real interpreter ----------------------------------------------------------

def check_real_interpreter():
    rc, out, err = run_cli("tags", "--python", "/usr/bin/python3")
    got = out.split("\n")[:-1]
    sys_tags = [str(x) for x in tags.sys_tags()]
    # 23.0's sys_tags() with the platform order of 26.3: same tags, linux_* first in each
    # (interpreter, abi) run over the platforms.
    plats = native_first(tags.platform_tags())
    interp = "cp" + tags.interpreter_version()
    want = [str(x) for x in tags.cpython_tags(platforms=plats)] + \
        [str(x) for x in tags.compatible_tags(interpreter=interp, platforms=plats)]
    t.check("python3 sys_tags", rc == 0 and set(want) == set(sys_tags), "reference is not sys_tags() reordered")
    t.check("python3 sys_tags", got == want, "rc=%d %s; first difference: %s" % (
        rc, err.strip(), next(((i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w), (len(got), len(want)))))
    t.check("python3 sys_tags", got[0] == "cp%d%d-cp%d%d-%s" % (sys.version_info[:2] * 2 + (
        re.sub(r"[.-]", "_", sysconfig.get_platform()),)), "first tag %r" % got[:1])
    rc, out, err = run_cli("tags", "--python", "/usr/bin/python3", "--json")
    j = json_line(out)
    t.check("python3 --json", rc == 0 and j is not None and j.get("tags") == want, "tags --json: %r" % out[:200])
    if j:
        tg = j["target"]
        libc = os.confstr("CS_GNU_LIBC_VERSION").split()
        t.check("python3 --json", tg == {
            "impl": "cp", "python_version": "%d.%d" % sys.version_info[:2], "abi": "cp%d%d" % sys.version_info[:2],
            "free_threaded": False, "platform": re.sub(r"[.-]", "_", sysconfig.get_platform()),
            "arch": sysconfig.get_platform().split("-", 1)[1], "libc": "glibc",
            "libc_version": ".".join(libc[1].split(".")[:2])}, "target %r" % tg)
    # --python-version: the same target without running anything
    rc, out, err = run_cli("tags", "--python-version", "%d.%d" % sys.version_info[:2])
    t.check("native target", rc == 0 and out.split("\n")[:-1] == want, "tags --python-version: rc=%d" % rc)


# --- 2. constructed targets -----------------------------------------------------------

FIXED_TARGETS = [
    ("cp", 3, 11, "cp311", False, "aarch64", "musl", 1, 2),
    ("cp", 3, 13, "cp313t", True, "x86_64", "glibc", 2, 28),
    ("cp", 3, 14, "cp314t", True, "aarch64", "musl", 1, 2),
    ("cp", 3, 12, "cp312", False, "s390x", "glibc", 2, 17),
    ("cp", 3, 12, "cp312", False, "ppc64le", "glibc", 2, 16),
    ("cp", 3, 12, "cp312d", False, "x86_64", "glibc", 2, 35),
    ("cp", 3, 7, "cp37m", False, "i686", "glibc", 2, 12),
    ("cp", 3, 12, "cp312", False, "riscv64", "glibc", 2, 39),
    ("cp", 3, 12, "cp312", False, "loongarch64", "glibc", 2, 38),
    ("cp", 3, 12, "cp312", False, "sparc64", "glibc", 2, 36),
    ("cp", 3, 12, "cp312", False, "x86_64", "glibc", 3, 2),
    ("cp", 3, 12, "cp312", False, "x86_64", "none", 0, 0),
    ("pp", 3, 10, "pypy310_pp73", False, "x86_64", "glibc", 2, 31),
    ("cp", 2, 7, "cp27mu", False, "x86_64", "glibc", 2, 17),
    ("cp", 3, 2, "cp32mu", False, "x86_64", "glibc", 2, 5),
]


def random_target():
    impl = rng.choice(["cp"] * 6 + ["pp", "graalpy"])
    major, minor = 3, rng.randint(0, 15)
    arch = rng.choice(sorted(ALLOWED_263) + ["sparc64", "armv6l"])
    libc = rng.choice(["glibc", "glibc", "musl", "none"])
    lmajor, lminor = (2, rng.randint(0, 45)) if libc == "glibc" else (1, rng.randint(0, 3)) if libc == "musl" else (0, 0)
    ft = impl == "cp" and minor >= 13 and rng.random() < 0.3
    if impl == "cp":
        abi = "cp3%d%s%s" % (minor, "t" if ft else "", "d" if rng.random() < 0.15 else "")
    else:
        abi = {"pp": "pypy3%d_pp73" % minor, "graalpy": "graalpy24%d_3%d_native" % (minor, minor)}[impl]
    return (impl, major, minor, abi, ft, arch, libc, lmajor, lminor)


def check_constructed_targets():
    targets = FIXED_TARGETS + [random_target() for _ in range(max(1, N_RANDOM // 10))]
    answers = drive([["tags.list"] + target_fields(*tg) for tg in targets])
    for tg, ans in zip(targets, answers):
        want = expected_tags(*tg)
        got = ans[1:] if ans[0] == "ok" else ans
        group = "target fixed" if tg in FIXED_TARGETS else "target random"
        t.check(group, got == want, "%r: %d vs %d tags; first difference %s" % (
            tg, len(got), len(want), next(((i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w), None)))
    # ranks: the smallest index of a wheel's tags in the list
    tg = FIXED_TARGETS[1]
    listed = expected_tags(*tg)
    names = ["x-1-%s.whl" % rng.choice(listed) for _ in range(200)]
    names += ["x-1-py2.py3-none-any.whl", "x-1-cp313-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
              "x-1-cp312-cp312-linux_x86_64.whl", "x-1-CP313-CP313T-LINUX_X86_64.whl"]
    answers = drive([["tags.rank"] + target_fields(*tg) + [n] for n in names])
    for n, ans in zip(names, answers):
        supported = [listed.index(str(x)) for x in parse_wheel_filename(n)[3] if str(x) in listed]
        want = str(min(supported)) if supported else "-1"
        t.check("rank", ans == ["ok", want], "%s: %r, want %s" % (n, ans, want))


# --- 3. file names --------------------------------------------------------------------

NAME_PARTS = ["foo", "Foo", "foo_bar", "foo.bar", "FOO.Bar_baz", "a", "x1", "zope.interface", "Django",
              "foo__bar", "foo+bar", "", "_foo", "foo_", "1foo", "foo.", "..", "f\u00f6\u00f6", "foo bar"]
VERSIONS = ["1.0", "2.1.2+cu121", "2.1.2%2Bcu121", "1!2.0", "v1.0", "1.0a1", "1.0.post1", "1.0_post1",
            "1.0.dev0", "1.0rc1.post2.dev3", "0", "1.0+local.7", "1.0.0.0.0", "bad", "1..0", "1.0+",
            "", "1.0%2", "1.0%2b1", "2024.1.1", "1.0_a_1"]
BUILDS = [None, None, None, "1", "0", "20240101", "1abc", "007_x", "x1", "", "1.2"]
PY = ["py3", "py2.py3", "cp312", "pp310", "py3.", "3py", "CP312", "py3.py2", "_x", "py3%2Epy2", ""]
ABI = ["none", "abi3", "cp312", "cp313t", "pypy310_pp73", "abi3.none", ".abi3", "ABI3"]
PLAT = ["any", "linux_x86_64", "manylinux_2_17_x86_64.manylinux2014_x86_64", "win_amd64", "any.",
        "macosx_11_0_arm64", "Linux_X86_64", "a.b.c"]
SDIST_EXTS = [".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".exe", ".egg", ".rpm", ".msi", ""]


def unquote(name):
    return urllib.parse.unquote(name, errors="surrogateescape")


def ref_wheel(name):
    """(normalized, version, build, tags) or None, as packaging 26.3 reads the decoded name."""
    name = unquote(name)
    if "\0" in name or "/" in name:
        return None                                   # hpcbuild: not a file name
    try:
        n, v, b, tg = parse_wheel_filename(name)
    except (InvalidWheelFilename, InvalidVersion):
        return None
    stem = name[:-4]
    if stem.split("-")[0] == "":
        return None                                   # hpcbuild refuses an empty name
    for comp_i, comp in enumerate(stem.split("-")[-3:]):   # 26.3's parse_tag checks
        for member in comp.split("."):
            if member == "" or (comp_i == 0 and not member.isidentifier()):
                return None
    return n, str(v), b, sorted(str(x) for x in tg)


def ref_sdist(name, project):
    """(normalized, version) or None: hpcbuild's rule, checked against parse_sdist_filename."""
    name = unquote(name)
    if "\0" in name or "/" in name:
        return None
    ext = next((e for e in SDIST_EXTS[:6] if name.endswith(e)), None)
    if ext is None:
        return None
    stem = name[:-len(ext)]
    split = None
    dashes = [i for i, c in enumerate(stem) if c == "-"]
    if project is not None:
        found = [i for i in dashes if i > 0 and canonicalize_name(stem[:i]) == canonicalize_name(project)]
        split = found[-1] if found else None
    else:
        for i in reversed(dashes):
            try:
                Version(stem[i + 1:])
                split = i
                break
            except InvalidVersion:
                pass
        if split == 0:
            return None                               # hpcbuild refuses an empty name
    if split is None:
        return None
    try:
        v = str(Version(stem[split + 1:]))
    except InvalidVersion:
        return None
    got = canonicalize_name(stem[:split]), v
    if project is None and ext in (".tar.gz", ".zip"):
        # the new-style split (the last '-') agrees with packaging whenever packaging accepts
        try:
            pn, pv = parse_sdist_filename(name)
            t.check("sdist reference vs packaging", (pn, str(pv)) == got, "%s: %r vs %r" % (name, got, (pn, pv)))
        except (InvalidSdistFilename, InvalidVersion):
            pass
    return got


def gen_wheel():
    parts = [rng.choice(NAME_PARTS), rng.choice(VERSIONS)]
    b = rng.choice(BUILDS)
    if b is not None:
        parts.append(b)
    parts += [rng.choice(PY), rng.choice(ABI), rng.choice(PLAT)]
    if rng.random() < 0.05:
        parts.append("extra")
    if rng.random() < 0.05:
        parts.pop()
    return "-".join(parts) + rng.choice([".whl"] * 12 + [".WHL", ".zip"])


def gen_sdist():
    name = rng.choice(NAME_PARTS + ["python-dateutil", "foo-bar", "a-b-c", "foo-1.0"])
    if name and rng.random() < 0.05:
        name = name + "-" + rng.choice(VERSIONS)
    version = rng.choice(VERSIONS + ["1.0-beta", "1.0-1"])
    # pyname.h folds ASCII case only (Python's lower() folds non-ASCII letters too)
    upper = "".join(c.upper() if c.isascii() else c for c in name)
    project = rng.choice([None, None, name, upper.replace("-", "_"), "other"])
    return name + "-" + version + rng.choice(SDIST_EXTS), project


def check_file_names():
    wheels = sorted({gen_wheel() for _ in range(N_RANDOM)}) + [
        "torch-2.1.2%2Bcu121-cp311-cp311-linux_x86_64.whl", "foo-1.0-py3-none-any.whl%00",
        "dir%2Ffoo-1.0-py3-none-any.whl", "foo-1.0-99999999999999999999-py3-none-any.whl"]
    answers = drive([["distname.parse", w] for w in wheels])
    for w, ans in zip(wheels, answers):
        if w.endswith(".zip"):   # a wheel-like name with an sdist extension is an sdist
            want = ref_sdist(w, None)
            t.check("wheel-like sdist", ans[:2] == ["ok", "sdist"] and (ans[3], ans[5]) == want if want else
                    ans[0] == "error", "%r: %r, want %r" % (w, ans, want))
            continue
        want = ref_wheel(w)
        if w.endswith("99999999999999999999-py3-none-any.whl"):
            want = None                                # hpcbuild: build numbers fit in 64 bits
        if want is None:
            t.check("wheel invalid", ans[0] == "error" and len(ans) == 2, "%r accepted: %r" % (w, ans))
            continue
        ok = ans[0] == "ok" and ans[1] == "wheel"
        if ok:
            build, rest = ((int(ans[8]), ans[9]), ans[10:]) if ans[7:8] == ["build"] else ((), ans[7:])
            tg = sorted(rest[1::2]) if rest[0::2] == ["tag"] * (len(rest) // 2) else None
            got = (ans[3], ans[5], build, tg)
            ok = got == want and ans[2] == unquote(w).split("-")[0] and ans[6] == ".whl"
        t.check("wheel valid", ok, "%r: %r, want %r" % (w, ans, want))

    sdists = sorted({gen_sdist() for _ in range(N_RANDOM)}, key=repr)
    answers = drive([["distname.parse", s] + ([p] if p is not None else []) for s, p in sdists])
    for (s, p), ans in zip(sdists, answers):
        want = ref_sdist(s, p)
        if want is None:
            t.check("sdist invalid", ans[0] == "error", "%r (project %r) accepted: %r" % (s, p, ans))
            continue
        t.check("sdist valid", ans[:2] == ["ok", "sdist"] and (ans[3], ans[5]) == want and len(ans) == 7,
                "%r (project %r): %r, want %r" % (s, p, ans, want))
    # every error names the file name
    for s, ans in zip(wheels, drive([["distname.parse", w] for w in wheels])):
        if ans[0] == "error":
            t.check("errors name the file", "'" in ans[1] and ("file name" in ans[1]), "%r: %r" % (s, ans))


# --- 4. the commands ------------------------------------------------------------------

def check_cli():
    rc, out, err = run_cli("distname", "torch-2.1.2%2Bcu121-cp311-cp311-linux_x86_64.whl",
                           "python-dateutil-2.8.2.tar.gz")
    lines = out.split("\n")[:-1]
    j = [json_line(x + "\n") for x in lines]
    t.check("cli distname", rc == 0 and len(j) == 2 and j[0]["version"] == "2.1.2+cu121" and
            j[0]["tags"] == ["cp311-cp311-linux_x86_64"] and j[1]["name"] == "python-dateutil" and
            j[1]["tags"] is None and j[0]["build"] is None, "distname: %r" % out)
    rc, out, err = run_cli("distname", "--project", "python-dateutil", "Python_Dateutil-2.8.2.zip", "foo.exe")
    t.check("cli distname", rc == 2 and '"normalized":"python-dateutil"' in out and
            "'foo.exe': not a wheel or sdist file name" in err and err.count("\n") == 1, "%d %r %r" % (rc, out, err))
    rc, out, err = run_cli("distname", "x-1-7a-py3-none-any.whl")
    t.check("cli distname", rc == 0 and '"build":{"number":7,"rest":"a"}' in out, out)
    for args, msg in [(["distname"], "needs at least one FILE"), (["distname", "--bogus", "x.whl"], "unknown option"),
                      (["distname", "--project"], "--project needs"), (["tags", "extra"], "takes no arguments"),
                      (["tags", "--python"], "--python needs"), (["tags", "--python-version", "3"], "expected X.Y"),
                      (["tags", "--python", "x", "--python-version", "3.12"], "not both"),
                      (["tags", "--frob"], "unknown option")]:
        rc, out, err = run_cli(*args)
        t.check("cli usage", rc == 2 and msg in err and err.count("\n") == 1, "%r: %d %r" % (args, rc, err))
    rc, out, err = run_cli("tags", "--python", "/nonexistent/python3")
    t.check("cli errors", rc == 1 and "/nonexistent/python3" in err, "%d %r" % (rc, err))
    for cmd in ("tags", "distname"):
        rc, out, err = run_cli(cmd, "--help")
        t.check("cli help", rc == 0 and out.startswith("usage: hpcbuild " + cmd), "%s --help" % cmd)


check_real_interpreter()
check_constructed_targets()
check_file_names()
check_cli()
t.finish()
