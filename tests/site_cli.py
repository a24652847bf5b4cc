"""site.cli: `hpcbuild solve --site FILE` (site externals and virtual packages from site.yaml),
the default site file ($HPCBUILD_SITE) and the default channel ($HPCBUILD_DEFAULT_CHANNEL,
else conda-forge).  Channels and site files are written to a temporary directory.

Every successful answer is checked independently: one record per name; every channel record
is one of the input records; every site record is an external or virtual package the site
file (or --virtual) declares, unchanged; every requested spec and every `depends` of a
returned record holds, MatchSpecs through the test driver's oracle-tested
conda.matchspec.match and DepURL capabilities through the `provides` lists the test itself
wrote into the site file.
"""
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from hbtest import SOURCE, Tally, drive, json_line, run_cli, write_channel  # noqa: E402

T = Tally()
PLAT = ["--platform", "linux-64"]
CAPABILITY = ("dep:", "pkg:", "virtual:")


def normalized_capability(s):
    """PEP 725's older spellings, as the DepURL spec reads them (no case folding needed here)."""
    if s.startswith("virtual:"):
        return "dep:virtual/" + s[len("virtual:"):]
    if s.startswith("pkg:"):
        return "dep:" + s[len("pkg:"):]
    return s


def channel_records(chan):
    out = {}
    for subdir in ("linux-64", "noarch"):
        path = os.path.join(chan, subdir, "repodata.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                out.update(json.load(f)["packages"])
    return out


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


class Site:
    """What a site file declares, as the test wrote it (not as hpcbuild read it)."""

    def __init__(self, externals=(), virtuals=None):
        self.externals = {e["name"]: e for e in externals}   # name -> {version, build, provides}
        self.virtuals = dict(virtuals or {})                 # name -> (version, build)


def solve_json(args, env=None):
    rc, out, err = run_cli_env(env, "solve", "--json", *args)
    return rc, json_line(out), out, err


def run_cli_env(env, *args):
    if not env:
        return run_cli(*args)
    saved = {k: os.environ.get(k) for k in env}
    try:
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        return run_cli(*args)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def verify(group, args, chan, specs, site, env=None):
    """solve --json, then an independent check of the answer; returns {name: package}."""
    rc, d, out, err = solve_json(args + specs, env)
    if rc != 0 or not d or d.get("success") is not True:
        T.check(group, False, "%s: rc=%d out=%r err=%r" % (args + specs, rc, out[:300], err[:300]))
        return None
    inputs = channel_records(chan)
    problems, installed = [], {}
    keys = {"name", "version", "build", "build_number", "channel", "subdir", "fn", "url",
            "sha256", "md5", "depends", "origin"}
    for p in d["packages"]:
        if set(p) != keys:
            problems.append("%s: keys %s" % (p.get("name"), sorted(set(p) ^ keys)))
            continue
        if p["name"] in installed:
            problems.append("two records named %s" % p["name"])
        if p["origin"] == "site":
            ext = site.externals.get(p["name"])
            virt = site.virtuals.get(p["name"])
            if ext:
                want = (ext["version"], ext.get("build", "external_site"))
            elif virt:
                want = virt
            else:
                want = None
            if want is None or (p["version"], p["build"]) != want or p["channel"] != "@site" \
                    or p["fn"] is not None or p["url"] is not None or p["depends"] != []:
                problems.append("site record %s %s %s is not what the site declares (%s)"
                                % (p["name"], p["version"], p["build"], want))
            installed[p["name"]] = dict(p, provides=(ext or {}).get("provides", []))
            continue
        if p["origin"] != "conda" or p["channel"] != chan:
            problems.append("%s: origin %r channel %r" % (p["name"], p["origin"], p["channel"]))
        r = inputs.get(p["fn"])
        if not r or any(r.get(k) != p[k] for k in ("name", "version", "build", "depends")):
            problems.append("%s is not an input record" % p["fn"])
            continue
        installed[p["name"]] = dict(r, provides=[])
    checks = [("you", s) for s in specs]
    for name, r in installed.items():
        checks += [(name, s) for s in r.get("depends") or []]
    matchspecs = []
    for who, spec in checks:
        if spec.startswith(CAPABILITY):
            if not any(normalized_capability(spec) in r["provides"] for r in installed.values()):
                problems.append("%s needs %s: nothing returned provides it" % (who, spec))
        else:
            matchspecs.append((who, spec))
    parsed = drive([["conda.matchspec.parse", s] for _, s in matchspecs])
    reqs, pending = [], []
    for (who, spec), r in zip(matchspecs, parsed):
        name = json.loads(r[2])["name"] if r[0] == "ok" else None
        rec = installed.get(name)
        if rec is None:
            problems.append("%s needs %r: nothing named %s" % (who, spec, name))
            continue
        rj = {k: rec[k] for k in ("name", "version", "build", "build_number") if k in rec}
        reqs.append(["conda.matchspec.match", spec, json.dumps(rj)])
        pending.append((who, spec, rec))
    for (who, spec, rec), r in zip(pending, drive(reqs) if reqs else []):
        if r != ["true"]:
            problems.append("%s needs %r: not satisfied by %s %s %s" % (who, spec, rec["name"],
                                                                       rec["version"], rec["build"]))
    T.check(group, not problems, "%s: %s" % (specs, "; ".join(problems[:5])))
    return {p["name"]: p for p in d["packages"]}


def expect_unsat(group, args, *needles, env=None):
    rc, d, out, err = solve_json(args, env)
    text = " | ".join(d["problems"]) if d and d.get("success") is False else ""
    T.check(group, rc == 1 and all(n in text for n in needles) and "rule" not in text.lower(),
            "%s: rc=%d out=%r lacks %r" % (args, rc, out[:400], needles))
    rc, out, err = run_cli_env(env, "solve", *args)
    T.check(group, rc == 1 and out == "" and all(n in err for n in needles),
            "text %s: rc=%d err=%r" % (args, rc, err[:400]))


def expect_usage(group, args, *needles, env=None):
    rc, out, err = run_cli_env(env, "solve", *args)
    lines = err.strip().split("\n")
    T.check(group, rc == 2 and out == "" and len(lines) == 1 and lines[0].startswith("hpcbuild: ")
            and all(n in err for n in needles), "%s: rc=%d out=%r err=%r" % (args, rc, out, err))


SITE_YAML = """\
format: 1
info:
  host: login01
virtual:
  __cuda:
    version: "12.4"
    found-by: CONDA_OVERRIDE_CUDA-style hand edit
  __glibc: "2.17"
externals:
  - name: openmpi
    version: %(mpi)s
    provides:
      - dep:virtual/interface/mpi
      - virtual:interface/mpi-io
    prefix: /usr/lib/x86_64-linux-gnu/openmpi
    found-by: mpicc --showme:version
    module: openmpi/%(mpi)s
    info:
      mpicc: /usr/bin/mpicc
      link-flags: [-lmpi]
  - name: openblas
    version: 0.3.21
    build: external_pthreads
    provides: [dep:virtual/interface/blas, dep:generic/openblas]
"""


def site_of(mpi):
    return Site([{"name": "openmpi", "version": mpi,
                  "provides": ["dep:virtual/interface/mpi", "dep:virtual/interface/mpi-io"]},
                 {"name": "openblas", "version": "0.3.21", "build": "external_pthreads",
                  "provides": ["dep:virtual/interface/blas", "dep:generic/openblas"]}],
                {"__cuda": ("12.4", "0"), "__glibc": ("2.17", "0")})


def docs_example():
    """The first ```yaml block of docs/site.md: the documented example must work."""
    with open(os.path.join(SOURCE, "docs", "site.md"), encoding="utf-8") as f:
        m = re.search(r"```yaml\n(.*?)```", f.read(), re.S)
    return m.group(1) if m else ""


def main():
    tmp = tempfile.mkdtemp(prefix="hb-site-")
    # keep the machine's own /etc/hpcbuild/site.yaml and settings out of every case
    # that does not set them
    os.environ["HPCBUILD_SITE"] = "none"
    os.environ.pop("HPCBUILD_DEFAULT_CHANNEL", None)
    ch = write_channel(tmp, "ch", {
        "noarch": [
            {"name": "mpi4py", "version": "3.1.6", "build": "py_0",
             "depends": ["openmpi >=4.1,<5", "mpi 1.0 openmpi"]},
            {"name": "openmpi", "version": "4.1.6", "build": "h1_100", "build_number": 100,
             "depends": ["mpi 1.0 openmpi"]},
            {"name": "openmpi", "version": "5.0.3", "build": "h1_0", "depends": ["mpi 1.0 openmpi"]},
            {"name": "mpi", "version": "1.0", "build": "openmpi"},
            {"name": "usempi", "version": "1", "depends": ["dep:virtual/interface/mpi"]},
            {"name": "useblas", "version": "2", "depends": ["dep:virtual/interface/blas", "numlib"]},
            {"name": "numlib", "version": "1.2"},
            {"name": "gpu", "version": "1", "depends": ["__cuda >=12"]},
        ],
        "linux-64": [
            {"name": "native", "version": "1", "build": "h1_0", "depends": ["__glibc >=2.28"]},
        ],
    })
    site = write(os.path.join(tmp, "site.yaml"), SITE_YAML % {"mpi": "4.1.4"})
    old = write(os.path.join(tmp, "old.yaml"), SITE_YAML % {"mpi": "4.0.1"})
    base = ["-c", ch] + PLAT + ["--site", site]
    S = site_of("4.1.4")

    rc, out, err = run_cli("solve", "--help")
    T.check("help", rc == 0 and "--site FILE" in out and "HPCBUILD_SITE" in out
            and "/etc/hpcbuild/site.yaml" in out and "HPCBUILD_DEFAULT_CHANNEL" in out
            and "https://conda.anaconda.org/conda-forge" in out, "help: %r" % out[:200])

    # the site's Open MPI 4.1.4 satisfies openmpi >=4.1,<5; the channel's 4.1.6 is not installed
    got = verify("site mpi", base, ch, ["mpi4py"], S)
    T.check("site mpi", got and got["openmpi"]["origin"] == "site"
            and got["openmpi"]["version"] == "4.1.4" and got["openmpi"]["build"] == "external_site"
            and got["openmpi"]["channel"] == "@site" and got["mpi4py"]["origin"] == "conda"
            and got["mpi"]["origin"] == "conda", "mpi4py: %s" % got)
    got = verify("site mpi", base, ch, ["openmpi"], S)
    T.check("site mpi", got and list(got) == ["openmpi"] and got["openmpi"]["origin"] == "site",
            "openmpi itself is the site one: %s" % got)
    expect_unsat("site mpi", base + ["openmpi>=4.1.6"], "openmpi>=4.1.6", "openmpi 4.1.4",
                 "external_site")
    rc, out, err = run_cli("solve", *base, "mpi4py")
    T.check("text", rc == 0 and err == "" and out.splitlines() == [
        "mpi 1.0 openmpi %s" % ch, "mpi4py 3.1.6 py_0 %s" % ch, "openmpi 4.1.4 external_site @site"],
        "text lists the external with channel @site: %r %r" % (out, err))

    # DepURL capabilities: dep:virtual/interface/mpi from the site's Open MPI, BLAS from OpenBLAS
    got = verify("depurl", base, ch, ["usempi"], S)
    T.check("depurl", got and got.get("openmpi", {}).get("origin") == "site", "usempi: %s" % got)
    got = verify("depurl", base, ch, ["useblas", "mpi4py"], S)
    T.check("depurl", got and got["openblas"]["build"] == "external_pthreads"
            and got["openblas"]["origin"] == "site", "useblas: %s" % got)
    got = verify("depurl", base, ch, ["dep:virtual/interface/mpi-io"], S)
    T.check("depurl", got and "openmpi" in got, "the legacy virtual: spelling is normalized: %s" % got)

    got = verify("depurl", base, ch, ["virtual:interface/mpi"], S)
    T.check("depurl", got and "openmpi" in got, "a legacy spelling in the request: %s" % got)
    expect_usage("depurl", base + ["dep:generic/openmpi@>=4"], "dep:generic/openmpi@>=4",
                 "without a version")
    expect_usage("depurl", base + ["dep:"], "invalid DepURL 'dep:'")

    # a too-old site MPI: the explanation names the site openmpi and the constraint
    expect_unsat("too old", ["-c", ch] + PLAT + ["--site", old, "mpi4py"], "mpi4py 3.1.6",
                 "openmpi >=4.1,<5", "openmpi 4.0.1", "site")
    got = verify("too old", ["-c", ch] + PLAT + ["--site", old], ch, ["usempi"], site_of("4.0.1"))
    T.check("too old", got and got["openmpi"]["version"] == "4.0.1", "usempi with 4.0.1: %s" % got)

    # without a site file: the channel's Open MPI; nothing provides the DepURL
    got = verify("no site", ["-c", ch] + PLAT + ["--site", "none"], ch, ["mpi4py"], Site())
    T.check("no site", got and got["openmpi"]["version"] == "4.1.6"
            and got["openmpi"]["origin"] == "conda", "mpi4py without site: %s" % got)
    expect_unsat("no site", ["-c", ch] + PLAT + ["usempi"], "usempi 1", "dep:virtual/interface/mpi")

    # virtual packages: detected < site file < --virtual
    expect_unsat("virtual precedence", base + ["native"], "native 1", "__glibc >=2.28",
                 "__glibc 2.17")
    got = verify("virtual precedence", base + ["--virtual", "__glibc=2.28"], ch, ["native"],
                 Site(S.externals.values(), {"__glibc": ("2.28", "0"), "__cuda": ("12.4", "0")}))
    T.check("virtual precedence", got and got["__glibc"]["version"] == "2.28",
            "--virtual beats the site: %s" % got)
    glibc = os.confstr("CS_GNU_LIBC_VERSION").split()[-1]
    detected = tuple(int(x) for x in glibc.split(".")[:2])
    rc, d, out, err = solve_json(["-c", ch] + PLAT + ["__glibc"])
    T.check("virtual precedence", rc == 0 and d and d["packages"][0]["version"] == "%d.%d" % detected,
            "detected __glibc %s: %r" % (glibc, out))
    got = verify("virtual precedence", base, ch, ["gpu"], S)
    T.check("virtual precedence", got and got["__cuda"]["version"] == "12.4"
            and got["__cuda"]["origin"] == "site", "__cuda from the site: %s" % got)
    expect_unsat("virtual precedence", base + ["--virtual", "__cuda=", "gpu"], "gpu 1", "__cuda >=12")
    removes = write(os.path.join(tmp, "removes.yaml"),
                    "virtual:\n  __unix: ''\n  __archspec: {version: '1', build: x86_64_v3}\n")
    expect_unsat("virtual precedence", ["-c", ch] + PLAT + ["--site", removes, "__unix"], "__unix")
    rc, d, out, err = solve_json(["-c", ch] + PLAT + ["--site", removes, "__archspec=1=x86_64_v3"])
    T.check("virtual precedence", rc == 0 and d and d["packages"][0]["build"] == "x86_64_v3",
            "__archspec build from the site: %r %r" % (out, err))

    # the default site file: $HPCBUILD_SITE; --site wins; none disables
    env = {"HPCBUILD_SITE": site}
    got = verify("default site", ["-c", ch] + PLAT, ch, ["mpi4py"], S, env=env)
    T.check("default site", got and got["openmpi"]["origin"] == "site", "HPCBUILD_SITE: %s" % got)
    got = verify("default site", ["-c", ch] + PLAT + ["--site", "none"], ch, ["mpi4py"], Site(), env=env)
    T.check("default site", got and got["openmpi"]["origin"] == "conda", "--site none: %s" % got)
    expect_unsat("default site", ["-c", ch] + PLAT + ["--site", old, "mpi4py"], "openmpi 4.0.1", env=env)
    missing = os.path.join(tmp, "absent.yaml")
    expect_usage("default site", ["-c", ch] + PLAT + ["mpi4py"], missing, env={"HPCBUILD_SITE": missing})
    if not os.path.exists("/etc/hpcbuild/site.yaml"):
        got = verify("default site", ["-c", ch] + PLAT, ch, ["mpi4py"], Site(),
                     env={"HPCBUILD_SITE": None})
        T.check("default site", got and got["openmpi"]["origin"] == "conda",
                "no HPCBUILD_SITE and no /etc/hpcbuild/site.yaml: no site %s" % got)

    # the documented example (docs/site.md) is a valid site file that does what it says
    example = docs_example()
    T.check("docs example", "name: openmpi" in example, "docs/site.md has a ```yaml block")
    ex = write(os.path.join(tmp, "example.yaml"), example)
    rc, d, out, err = solve_json(["-c", ch] + PLAT + ["--site", ex, "mpi4py", "useblas", "gpu",
                                                      "dep:generic/cuda", "__glibc>=2.36"])
    names = {p["name"]: p for p in d["packages"]} if d and d.get("success") else {}
    T.check("docs example", rc == 0 and names.get("openmpi", {}).get("version") == "4.1.4"
            and names["openmpi"]["origin"] == "site" and names.get("openblas", {}).get("origin") == "site"
            and names.get("__cuda", {}).get("version") == "12.4" and "cuda-toolkit" in names,
            "example: rc=%d %r %r" % (rc, out[:300], err))

    # site file errors: exit 2, one line naming FILE:LINE
    cases = [
        ("syntax", "externals:\n  - name: openmpi\n    version: 4.1.4\n   prefix: /usr\n", ":4:4: YAML syntax error"),
        ("syntax", "externals: [\n", ":2:1: YAML syntax error"),
        ("unknown key", "externals:\n  - name: openmpi\n    version: 4.1.4\n    prefx: /usr\n",
         ":4:5: unknown key 'prefx' in external 'openmpi': expected name, version, build"),
        ("unknown key", "format: 1\nexternal: []\n", ":2:1: unknown key 'external'"),
        ("bad version", "externals:\n  - name: openmpi\n    version: 4.1..4\n",
         ":3:14: external 'openmpi': invalid version '4.1..4'"),
        ("bad version", "virtual:\n  __cuda: 12..4\n", ":2:11: virtual package '__cuda': invalid version"),
        ("bad provides", "externals:\n  - {name: x, version: 1, provides: [mpi]}\n",
         ":2:38: provides of external 'x': invalid DepURL 'mpi'"),
        ("missing name", "externals:\n  - version: 1\n", ":2:5: externals entry 1 has no name"),
        ("duplicate", "externals:\n  - {name: a, version: 1}\n  - {name: a, version: 2}\n",
         ":3:5: duplicate external 'a' (first at line 2)"),
    ]
    for i, (group, text, needle) in enumerate(cases):
        path = write(os.path.join(tmp, "bad%d.yaml" % i), text)
        expect_usage("error " + group, ["-c", ch] + PLAT + ["--site", path, "mpi4py"], path + needle)
        expect_usage("error " + group, ["-c", ch] + PLAT + ["--json", "--site=" + path, "mpi4py"],
                     path + needle)
    expect_usage("error missing", ["-c", ch, "--site", missing, "mpi4py"], "site file", missing,
                 "No such file")
    expect_usage("error missing", ["-c", ch, "mpi4py", "--site"], "--site")
    expect_usage("error missing", ["-c", ch, "--site=", "mpi4py"], "--site")

    # the default channel: $HPCBUILD_DEFAULT_CHANNEL, else conda-forge
    env = {"HPCBUILD_DEFAULT_CHANNEL": ch}
    got = verify("default channel", PLAT + ["--site", site], ch, ["mpi4py"], S, env=env)
    T.check("default channel", got and got["mpi4py"]["channel"] == ch, "%s" % got)
    expect_usage("default channel", ["--override-channels", "mpi4py"], "--override-channels", "-c",
                 env=env)
    other = write_channel(tmp, "other", {"noarch": [{"name": "numlib", "version": "9"}]})
    got = verify("default channel", ["-c", other] + PLAT, other, ["numlib"], Site(), env=env)
    T.check("default channel", got and got["numlib"]["version"] == "9", "-c replaces it: %s" % got)
    # no network: https goes to a closed loopback proxy port, so the error shows the URL used
    env = {"HPCBUILD_DEFAULT_CHANNEL": None, "HPCBUILD_CACHE": os.path.join(tmp, "cache"),
           "https_proxy": "http://127.0.0.1:1", "HTTPS_PROXY": "http://127.0.0.1:1",
           "no_proxy": None, "NO_PROXY": None, "all_proxy": None, "ALL_PROXY": None}
    rc, out, err = run_cli_env(env, "solve", *PLAT, "python")
    T.check("default channel", rc == 1 and out == "" and
            "'https://conda.anaconda.org/conda-forge/linux-64/repodata_shards.msgpack.zst'" in err
            and len(err.strip().split("\n")) == 1, "conda-forge by default: rc=%d %r" % (rc, err))
    T.finish()


main()
