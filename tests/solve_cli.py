"""solve.cli: `hpcbuild solve` on local channels.  Small channels are written to a temporary
directory; one real case uses the conda-forge sub-channel in ../shared/testdata (osx-arm64
and the libcxx/__glibc pair stay fast under ASan).  Every successful result is checked
independently: one record per name, every record is one of the input records, every
`depends` of a returned record and every requested spec is matched (through the test
driver's oracle-tested conda.matchspec.match) by the returned record of that name or by a
virtual package, and every `constrains` holds.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from hbtest import Tally, drive, json_line, run_cli, testdata, write_channel  # noqa: E402

T = Tally()
CF = testdata("repodata", "conda-forge-subchannel-py39-2024-05")


def channel_records(chan, platform):
    """(channel label, fn) -> record, as the loader reads the subdirs."""
    out = {}
    for subdir in (platform, "noarch"):
        path = os.path.join(chan, subdir, "repodata.json")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        if "packages" not in d and "packages.conda" not in d:   # conda's flat index.json
            out.update(d)
            continue
        recs = dict(d.get("packages", {}))
        for fn, r in d.get("packages.conda", {}).items():
            recs.pop(fn[:-len(".conda")] + ".tar.bz2", None)
            recs[fn] = r
        out.update(recs)
    return out


def solve_json(*args, env=None):
    rc, out, err = run_cli("solve", "--json", *args, env=env)
    return rc, json_line(out), out, err


def cpu_level():
    """This CPU's x86-64 level as glibc's dynamic loader sees it (`ld.so --help`), named as
    archspec does: x86_64, x86_64_v2 .. x86_64_v4."""
    out = subprocess.run(["/lib64/ld-linux-x86-64.so.2", "--help"], capture_output=True, text=True).stdout
    levels = [int(m) for m in re.findall(r"x86-64-v(\d) \(supported", out)]
    return "x86_64_v%d" % max(levels) if levels else "x86_64"


def verify(group, args, channels, platform, specs, virtuals=None):
    """Runs solve --json and checks the answer independently; returns {name: package}."""
    rc, d, out, err = solve_json(*args, *specs)
    if rc != 0 or not d or d.get("success") is not True:
        T.check(group, False, "%s: rc=%d out=%r err=%r" % (args + specs, rc, out[:300], err[:300]))
        return None
    inputs = {}
    for label, chan in channels:
        for fn, r in channel_records(chan, platform).items():
            inputs[(label, fn)] = r
    problems, installed = [], {}
    keys = {"name", "version", "build", "build_number", "channel", "subdir", "fn", "url",
            "sha256", "md5", "depends", "origin"}
    for p in d["packages"]:
        if set(p) != keys:
            problems.append("%s: keys %s" % (p.get("name"), sorted(set(p) ^ keys)))
        if p["name"] in installed:
            problems.append("two records named %s" % p["name"])
        if p["origin"] == "site":
            installed[p["name"]] = dict(p, site=True)
            continue
        r = inputs.get((p["channel"], p["fn"]))
        if not r or any(r.get(k) != p[k] for k in ("name", "version", "build", "depends")):
            problems.append("%s is not an input record of %s" % (p["fn"], p["channel"]))
            continue
        if not p["url"] or not p["url"].startswith(("file://", "http://")) or not p["url"].endswith("/" + p["fn"]):
            problems.append("%s: url %r" % (p["fn"], p["url"]))
        installed[p["name"]] = dict(r, channel=p["channel"], fn=p["fn"])
    for name, v in (virtuals or {}).items():
        installed.setdefault(name, {"name": name, "version": v[0], "build": v[1],
                                    "build_number": 0, "site": True})
    checks = [("requested", "you", s) for s in specs]
    for name, r in installed.items():
        if r.get("site"):
            continue
        checks += [("depends", name, s) for s in r.get("depends") or []]
        checks += [("constrains", name, s) for s in r.get("constrains") or []]
    parsed = drive([["conda.matchspec.parse", c[2]] for c in checks])
    reqs, pending = [], []
    for c, r in zip(checks, parsed):
        if r[0] != "ok":
            problems.append("driver cannot parse %r" % c[2])
            continue
        n = json.loads(r[2])["name"]
        rec = installed.get(n)
        if rec is None:
            if c[0] != "constrains":
                problems.append("%s %s %r: nothing named %s" % (c[1], c[0], c[2], n))
            continue
        rj = {k: rec[k] for k in ("name", "version", "build", "build_number", "channel", "subdir",
                                  "fn", "md5", "sha256", "track_features", "features") if k in rec}
        reqs.append(["conda.matchspec.match", c[2], json.dumps(rj)])
        pending.append((c, n))
    for (c, n), r in zip(pending, drive(reqs) if reqs else []):
        if r != ["true"]:
            problems.append("%s %s %r not satisfied by %s %s" % (c[1], c[0], c[2], n,
                                                                installed[n]["version"]))
    T.check(group, not problems, "%s: %s" % (specs, "; ".join(problems[:5])))
    return {p["name"]: p for p in d["packages"]}


def expect_unsat(group, args, *needles, env=None):
    rc, d, out, err = solve_json(*args, env=env)
    text = " | ".join(d["problems"]) if d and d.get("success") is False else ""
    T.check(group, rc == 1 and d is not None and d.get("success") is False and
            all(n in text for n in needles) and "rule" not in text.lower(),
            "%s: rc=%d out=%r lacks %r" % (args, rc, out[:400], needles))
    rc, out, err = run_cli("solve", *args, env=env)
    T.check(group, rc == 1 and out == "" and all(n in err for n in needles),
            "text %s: rc=%d err=%r" % (args, rc, err[:400]))


def expect_usage(group, args, *needles):
    rc, out, err = run_cli("solve", *args)
    lines = err.strip().split("\n")
    T.check(group, rc == 2 and out == "" and len(lines) == 1 and lines[0].startswith("hpcbuild: ")
            and all(n in err for n in needles), "%s: rc=%d out=%r err=%r" % (args, rc, out, err))


def main():
    rc, out, err = run_cli("solve", "--help")
    T.check("help", rc == 0 and out.startswith("usage: hpcbuild solve") and "--virtual" in out
            and "--channel-priority" in out and err == "", "rc=%d %r" % (rc, out[:100]))
    rc, out, err = run_cli("solve")
    T.check("help", rc == 2 and "usage: hpcbuild solve" in err, "no args: rc=%d" % rc)
    rc, out, err = run_cli("--help")
    T.check("help", rc == 0 and "\n  solve " in out, "hpcbuild --help lists solve")

    tmp = tempfile.mkdtemp(prefix="hb-solve-")
    hi = write_channel(tmp, "hi", {
        "noarch": [
            {"name": "app", "version": "1.0", "depends": ["lib >=2", "tool"], "constrains": ["extra <2"]},
            {"name": "lib", "version": "1.0"},
            {"name": "lib", "version": "2.0", "depends": ["base 1.*"]},
            {"name": "lib", "version": "2.1", "depends": ["base 1.*"], "build": "1", "build_number": 1},
            {"name": "base", "version": "1.5"},
            {"name": "base", "version": "2.0"},
            {"name": "tool", "version": "3", "build": "py_0"},
            {"name": "extra", "version": "1.0"},
            {"name": "extra", "version": "2.0"},
            {"name": "needs-missing", "version": "1", "depends": ["nowhere >=1"]},
            {"name": "needs-new-lib", "version": "1", "depends": ["lib >=5"]},
            {"name": "gpu", "version": "1", "depends": ["__cuda >=12"]},
        ],
        "linux-64": [
            {"name": "native", "version": "1", "build": "h1_0", "depends": ["__glibc >=2.17,<3.0.a0"]},
            {"name": "native", "version": "2", "build": "h1_0", "depends": ["__glibc >=2.40,<3.0.a0"]},
        ],
    })
    lo = write_channel(tmp, "lo", {"noarch": [{"name": "lib", "version": "9.0"},
                                              {"name": "only-lo", "version": "1"}]})
    only_linux = write_channel(tmp, "only-linux", {"linux-64": [{"name": "x", "version": "1"}]})
    corrupt = os.path.join(tmp, "corrupt")
    os.makedirs(os.path.join(corrupt, "noarch"))
    with open(os.path.join(corrupt, "noarch", "repodata.json"), "w") as f:
        f.write('{"packages": {"a-1-0.tar.bz2": {"name": "a", "version": ')
    plat = ["--platform", "linux-64"]
    glibc = {"__glibc": ("2.28", "0")}
    base = ["-c", hi] + plat + ["--virtual", "__glibc=2.28"]

    # success: JSON checked independently, text form agrees with it
    for specs in (["app"], ["app", "extra"], ["lib"], ["native"], ["tool", "base"], ["lib=1"]):
        verify("solve json", base, [(hi, hi)], "linux-64", specs, glibc)
    got = verify("solve json", base, [(hi, hi)], "linux-64", ["app", "extra"], glibc)
    T.check("choices", got and got["lib"]["version"] == "2.1" and got["base"]["version"] == "1.5"
            and got["extra"]["version"] == "1.0" and got["lib"]["build_number"] == 1
            and got["lib"]["subdir"] == "noarch" and got["lib"]["channel"] == hi,
            "app extra: %s" % got)
    got = verify("solve json", base, [(hi, hi)], "linux-64", ["native"], glibc)
    T.check("choices", got and got["native"]["version"] == "1" and got["native"]["subdir"] == "linux-64"
            and got.get("__glibc", {}).get("origin") == "site", "native with glibc 2.28: %s" % got)
    got = verify("choices", ["-c", hi] + plat + ["--virtual", "__glibc=2.41"], [(hi, hi)], "linux-64",
                 ["native"], {"__glibc": ("2.41", "0")})
    T.check("choices", got and got["native"]["version"] == "2", "native with glibc 2.41: %s" % got)
    rc, out, err = run_cli("solve", *base, "app")
    lines = out.splitlines()
    rows = [line.split(" ") for line in lines]
    T.check("text", rc == 0 and err == "" and lines == sorted(lines) and
            [r[0] for r in rows] == ["app", "base", "lib", "tool"] and
            all(len(r) == 4 and r[3] == hi for r in rows) and rows[2][1:3] == ["2.1", "1"],
            "rc=%d out=%r err=%r" % (rc, out, err))
    rc, out, err = run_cli("solve", *base, "native")
    T.check("text", rc == 0 and out == "native 1 h1_0 %s\n" % hi, "site records are not listed: %r" % out)

    # virtual packages: detected glibc (this machine's) and --virtual overrides
    rc, out, err = run_cli("solve", "-c", hi, *plat, "native")
    T.check("virtual", rc == 0 and out.startswith("native "), "detected __glibc: %r %r" % (out, err))
    got = verify("virtual", ["-c", hi] + plat + ["--virtual", "__glibc=2.17"], [(hi, hi)], "linux-64",
                 ["native"], {"__glibc": ("2.17", "0")})
    T.check("virtual", got and got["native"]["version"] == "1", "glibc 2.17 picks native 1: %s" % got)
    expect_unsat("__glibc too old", ["-c", hi] + plat + ["--virtual", "__glibc=2.5", "native"],
                 "you asked for native", "requires __glibc >=2.17,<3.0.a0", "__glibc 2.5")
    expect_unsat("__glibc removed", ["-c", hi] + plat + ["--virtual", "__glibc=", "native"],
                 "you asked for native", "__glibc")
    expect_unsat("__cuda", ["-c", hi] + plat + ["gpu"], "you asked for gpu", "__cuda >=12")
    got = verify("__cuda", ["-c", hi] + plat + ["--virtual", "__cuda=12.4"], [(hi, hi)], "linux-64",
                 ["gpu"], {"__cuda": ("12.4", "0")})
    T.check("__cuda", got and got.get("__cuda", {}).get("version") == "12.4"
            and got["__cuda"]["origin"] == "site", "__cuda 12.4 listed as site: %s" % got)
    expect_unsat("__cuda", ["-c", hi] + plat + ["--virtual", "__cuda=11.8", "gpu"], "__cuda 11.8")
    rc, d, out, err = solve_json("-c", hi, *plat, "--virtual", "__archspec=1=zen3", "__archspec=1=zen3")
    T.check("virtual", rc == 0 and d and [p["build"] for p in d["packages"]] == ["zen3"],
            "__archspec override: %r" % out)
    # for this machine __archspec is the CPU's x86-64 level, as glibc's loader sees it
    rc, d, out, err = solve_json("-c", hi, *plat, "__archspec=1=%s" % cpu_level(), "__unix", "__linux")
    T.check("virtual", rc == 0 and d and [p["name"] for p in d["packages"]] ==
            ["__archspec", "__linux", "__unix"], "detected virtuals: %r %r" % (out, err))
    # another platform: no CPU detection (version 0, the subdir's arch), glibc 2.17
    rc, d, out, err = solve_json("-c", hi, "--platform", "osx-arm64", "__archspec=0=aarch64", "__osx")
    T.check("virtual", rc == 0 and d, "osx-arm64 virtuals: %r %r" % (out, err))
    rc, d, out, err = solve_json("-c", hi, "--platform", "linux-aarch64", "__archspec=0=aarch64", "__glibc=2.17")
    T.check("virtual", rc == 0 and d, "linux-aarch64 virtuals: %r %r" % (out, err))
    # conda's CONDA_OVERRIDE_* variables: above detection and the site file, below --virtual
    env = {"CONDA_OVERRIDE_GLIBC": "2.28", "CONDA_OVERRIDE_CUDA": "12.4", "CONDA_OVERRIDE_CUDA_ARCH": "8.6",
           "CONDA_OVERRIDE_ARCHSPEC": "zen4", "CONDA_OVERRIDE_LINUX": "5.14.0", "CONDA_OVERRIDE_OSX": "13.0"}
    rc, d, out, err = solve_json("-c", hi, *plat, "__glibc", "__cuda", "__cuda_arch", "__archspec", "__linux",
                                 env=env)
    T.check("CONDA_OVERRIDE", rc == 0 and d and {p["name"]: (p["version"], p["build"]) for p in d["packages"]} ==
            {"__glibc": ("2.28", "0"), "__cuda": ("12.4", "0"), "__cuda_arch": ("8.6", "0"),
             "__archspec": ("1", "zen4"), "__linux": ("5.14.0", "0")}, "%r %r" % (out, err))
    rc, d, out, err = solve_json("-c", hi, *plat, "--virtual", "__glibc=2.31", "__glibc", env=env)
    T.check("CONDA_OVERRIDE", rc == 0 and d and d["packages"][0]["version"] == "2.31", "--virtual wins: %r" % out)
    expect_unsat("CONDA_OVERRIDE", ["-c", hi] + plat + ["__osx"], "__osx")   # not a linux virtual
    for var, bad in (("CONDA_OVERRIDE_GLIBC", "2..x"), ("CONDA_OVERRIDE_LINUX", "5"), ("CONDA_OVERRIDE_CUDA", "12..4")):
        rc, out, err = run_cli("solve", "-c", hi, *plat, "native", env={var: bad})
        T.check("CONDA_OVERRIDE", rc == 2 and var in err and bad in err and len(err.splitlines()) == 1,
                "%s=%s: rc=%d %r" % (var, bad, rc, err))
    rc, d, out, err = solve_json("-c", hi, *plat, "__cuda_arch", env={"CONDA_OVERRIDE_CUDA_ARCH": "8.6"})
    T.check("CONDA_OVERRIDE", rc == 1, "__cuda_arch without __cuda is ignored: %r" % out)
    rc, d, out, err = solve_json("-c", hi, *plat, "--virtual", "__cuda=12.4", "gpu", env={"CONDA_OVERRIDE_CUDA": ""})
    T.check("CONDA_OVERRIDE", rc == 0, "CONDA_OVERRIDE_CUDA='' then --virtual: %r %r" % (out, err))
    expect_unsat("CONDA_OVERRIDE", ["-c", hi] + plat + ["gpu"], "__cuda", env={"CONDA_OVERRIDE_CUDA": ""})
    expect_unsat("virtual", ["-c", hi, "--platform", "osx-arm64", "__glibc"], "__glibc")

    # unsatisfiable: explanations name the packages and constraints
    expect_unsat("unsatisfiable", base + ["nonexistent"], "you asked for nonexistent",
                 "no package named nonexistent")
    expect_unsat("unsatisfiable", base + ["needs-missing"], "needs-missing 1", "nowhere >=1")
    expect_unsat("unsatisfiable", base + ["needs-new-lib"], "needs-new-lib 1", "lib >=5")
    expect_unsat("unsatisfiable", base + ["app", "extra=2"], "app 1.0", "extra <2", "extra=2")
    expect_unsat("unsatisfiable", base + ["lib=1", "app"], "lib=1", "app")

    # channel priority: the first channel wins; strict takes lib only from hi
    two = ["-c", hi, "-c", lo] + plat
    got = verify("priority", two, [(hi, hi), (lo, lo)], "linux-64", ["lib", "only-lo"])
    T.check("priority", got and got["lib"]["version"] == "2.1" and got["lib"]["channel"] == hi
            and got["only-lo"]["channel"] == lo, "strict: %s" % got)
    expect_unsat("priority", two + ["lib>=9"], "lib>=9", "strict channel priority")
    for mode in ("flexible", "disabled"):
        got = verify("priority", two + ["--channel-priority", mode], [(hi, hi), (lo, lo)], "linux-64",
                     ["lib>=9"])
        T.check("priority", got and got["lib"]["channel"] == lo, "%s: %s" % (mode, got))
    got = verify("priority", ["-c", lo, "-c", hi] + plat + ["--channel-priority=disabled"],
                 [(hi, hi), (lo, lo)], "linux-64", ["lib"])
    T.check("priority", got and got["lib"]["version"] == "9.0", "disabled: highest version %s" % got)
    got = verify("priority", ["--channel", lo, "--override-channels", "-c", hi] + plat,
                 [(hi, hi), (lo, lo)], "linux-64", ["lib"])
    T.check("priority", got and got["lib"]["channel"] == lo, "lo first: %s" % got)

    # file:// URLs and platforms
    url = "file://" + os.path.abspath(hi)
    got = verify("file url", ["-c", url + "/"] + plat, [(url, hi)], "linux-64", ["app"])
    T.check("file url", got and got["app"]["url"] == url + "/noarch/" + got["app"]["fn"],
            "url: %s" % (got and got["app"]))
    got = verify("platform", ["-c", only_linux] + plat, [(only_linux, only_linux)], "linux-64", ["x"])
    expect_usage("platform", ["-c", only_linux, "--platform", "osx-64", "x"],
                 os.path.join(only_linux, "osx-64"), os.path.join(only_linux, "noarch"))
    got = verify("platform", ["-c", hi, "--platform", "win-64"], [(hi, hi)], "win-64", ["app"])
    expect_unsat("platform", ["-c", hi, "--platform", "win-64", "native"], "native")

    # usage errors: exit 2, one line on stderr
    expect_usage("no channel", ["--override-channels", "app"], "-c")
    missing = os.path.join(tmp, "missing")
    expect_usage("missing channel", ["-c", missing, "app"], missing + "/linux-64" if
                 sys.platform.startswith("linux") else missing, missing + "/noarch")
    rc, out, err = run_cli("solve", "-c", "no-such-channel-name", "app")
    T.check("missing channel", rc == 2 and "no-such-channel-name/noarch" in err
            and "https://conda.anaconda.org/conda-forge" in err, "name hint: %r" % err)
    expect_usage("invalid spec", ["-c", hi, "python>=>3"], "python>=>3")
    expect_usage("invalid spec", ["-c", hi, "app", "numpy[version='1"], "numpy[version='1")
    expect_usage("invalid option", ["-c", hi, "--frobnicate", "app"], "--frobnicate")
    expect_usage("invalid option", ["-c", hi, "--channel-priority", "sometimes", "app"], "sometimes")
    expect_usage("invalid option", ["-c", hi, "--virtual", "__glibc", "app"], "__glibc")
    expect_usage("invalid option", ["-c", hi, "--virtual", "__glibc=2..x", "app"], "__glibc=2..x")
    expect_usage("invalid option", ["-c", hi, "--platform"], "--platform")
    expect_usage("invalid option", ["-c"], "-c")
    expect_usage("invalid channel", ["-c", "ftp://example.org/ch", "app"], "ftp://example.org/ch")

    # corrupt repodata: exit 1 naming the file
    rc, out, err = run_cli("solve", "-c", corrupt, *plat, "a")
    T.check("corrupt", rc == 1 and out == "" and os.path.join(corrupt, "noarch") in err
            and len(err.strip().split("\n")) == 1, "rc=%d err=%r" % (rc, err))

    # conda's test snapshots, laid out as channels: conda expects numpy-1.7.1-py33_0 with
    # python 3.3.2 for `numpy` on index.json
    defaults_dir = testdata("repodata", "conda-tests-defaults")
    snap = os.path.join(tmp, "snap")
    for sub, src in (("linux-64", "index.json"), ("ct/linux-64", "repodata__conda-test_linux-64.json"),
                     ("ct/noarch", "repodata__conda-test_noarch.json")):
        os.makedirs(os.path.join(snap, sub))
        os.symlink(os.path.join(defaults_dir, src), os.path.join(snap, sub, "repodata.json"))
    got = verify("defaults", ["-c", snap] + plat, [(snap, snap)], "linux-64", ["numpy"], glibc)
    T.check("defaults", got and got["numpy"]["build"] == "py33_0" and got["python"]["version"] == "3.3.2"
            and got["numpy"]["subdir"] == "linux-64", "numpy: %s" % (got and got.get("numpy")))
    for specs in (["scipy", "python=2.7"], ["pandas"], ["accelerate"]):
        verify("defaults", ["-c", snap] + plat, [(snap, snap)], "linux-64", specs, glibc)
    ct = os.path.join(snap, "ct")
    got = verify("defaults", ["-c", ct, "-c", snap] + plat, [(ct, ct), (snap, snap)], "linux-64",
                 ["uses-spiffy-test-app"], glibc)
    expect_unsat("defaults", ["-c", ct] + plat + ["needs-spiffy-test-app"], "needs-spiffy-test-app",
                 "requires python", "no package named python")

    # the real conda-forge sub-channel (small cases: fast under ASan)
    virt = {"__osx": ("13.0", "0"), "__unix": ("0", "0"), "__archspec": ("0", "aarch64")}
    got = verify("conda-forge", ["-c", CF, "--platform", "osx-arm64", "--virtual", "__osx=13.0"],
                 [(CF, CF)], "osx-arm64", ["python=3.9", "pip"], virt)
    T.check("conda-forge", got and got["python"]["version"].startswith("3.9.") and "pip" in got,
            "osx-arm64 python=3.9 pip")
    expect_unsat("conda-forge", ["-c", CF, "--platform", "linux-64", "--virtual", "__glibc=2.5",
                                 "libcxx=17"],
                 "you asked for libcxx=17", "libcxx 17.0.6", "requires __glibc >=2.17,<3.0.a0")
    got = verify("conda-forge", ["-c", CF, "--platform", "linux-64", "--virtual", "__glibc=2.5"],
                 [(CF, CF)], "linux-64", ["libcxx"], {"__glibc": ("2.5", "0")})
    T.check("conda-forge", got and got["libcxx"]["version"] == "16.0.6", "libcxx with glibc 2.5")
    http_channels(tmp, hi)
    T.finish()


def http_channels(tmp, hi):
    """A loopback server (tests/lib/testserver.py) serves the channel: noarch as
    repodata.json.zst (tried first), linux-64 as repodata.json only (the .zst is a 404).
    The second solve sends conditional requests and uses the cache."""
    root = os.path.join(tmp, "www")
    shutil.copytree(hi, os.path.join(root, "hi"))
    os.makedirs(os.path.join(root, "bad", "noarch"))
    with open(os.path.join(root, "bad", "noarch", "repodata.json"), "w") as f:
        f.write('{"packages": {"a-1-0.tar.bz2": [')
    noarch = os.path.join(root, "hi", "noarch", "repodata.json")
    subprocess.run(["zstd", "-q", "--rm", noarch, "-o", noarch + ".zst"], check=True)
    env = dict(os.environ, HPCBUILD_CACHE=os.path.join(tmp, "cache"))
    os.environ["HPCBUILD_CACHE"] = env["HPCBUILD_CACHE"]
    server = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib", "testserver.py")
    proc = subprocess.Popen([sys.executable, server, root], stdout=subprocess.PIPE)
    try:
        base = "http://127.0.0.1:%d" % int(proc.stdout.readline().split()[1])

        def log(reset=True):
            with urllib.request.urlopen(base + "/__log", timeout=10) as r:
                entries = json.load(r)
            if reset:
                urllib.request.urlopen(base + "/__reset", timeout=10).read()
            return [(e["path"], e["status"], bool(e["if_none_match"])) for e in entries
                    if not e["path"].startswith("/__")]

        chan = base + "/hi"
        got = verify("http", ["-c", chan] + ["--platform", "linux-64", "--virtual", "__glibc=2.28"],
                     [(chan, hi)], "linux-64", ["app", "native"], {"__glibc": ("2.28", "0")})
        T.check("http", got and got["app"]["url"] == chan + "/noarch/" + got["app"]["fn"]
                and got["native"]["url"] == chan + "/linux-64/" + got["native"]["fn"],
                "urls: %s" % got)
        first = log()
        T.check("http", first == [("/hi/linux-64/repodata_shards.msgpack.zst", 404, False),
                                  ("/hi/linux-64/repodata.json.zst", 404, False),
                                  ("/hi/linux-64/repodata.json", 200, False),
                                  ("/hi/noarch/repodata_shards.msgpack.zst", 404, False),
                                  ("/hi/noarch/repodata.json.zst", 200, False)], "first: %s" % first)
        rc, out, err = run_cli("solve", "-c", chan, "--platform", "linux-64", "--virtual",
                               "__glibc=2.28", "app")
        second = log()
        T.check("http", rc == 0 and out.startswith("app 1.0 0 %s\n" % chan) and second ==
                [("/hi/linux-64/repodata_shards.msgpack.zst", 404, False),
                 ("/hi/linux-64/repodata.json.zst", 404, False),
                 ("/hi/linux-64/repodata.json", 304, True),
                 ("/hi/noarch/repodata_shards.msgpack.zst", 404, False),
                 ("/hi/noarch/repodata.json.zst", 304, True)], "second: %s %r" % (second, err))
        T.check("http", os.path.isdir(os.path.join(env["HPCBUILD_CACHE"], "http")), "cache dir")
        expect_usage("http", ["-c", base + "/absent", "app"], base + "/absent/linux-64/",
                     base + "/absent/noarch/", "404")
        rc, out, err = run_cli("solve", "-c", base + "/bad", "app")
        T.check("http", rc == 1 and out == "" and base + "/bad/noarch/repodata.json" in err
                and len(err.strip().split("\n")) == 1, "corrupt remote: rc=%d %r" % (rc, err))
        rc, out, err = run_cli("solve", "-c", base + "/hi", "--platform", "osx-64", "app")
        T.check("http", rc == 0 and out.startswith("app "), "noarch only: %r" % err)
        expect_unsat("http", ["-c", chan, "--platform", "linux-64", "--virtual", "__glibc=2.5",
                              "native"], "native", "__glibc 2.5")
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


main()
