"""Real repodata through the conda parsers: every version, every depends /
constrains MatchSpec of the records in ../shared/testdata/repodata parses (the
known exceptions are listed), canonical strings parse again, and each
conda-forge linux-64 record matches `name==version=build` and its own
`channel::name` spec while a different build does not."""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from hbtest import Tally, drive, testdata  # noqa: E402

# conda 26 rejects pip-style extras in brackets (test_extra_specs: 'package[a,b]')
EXPECTED_INVALID = {"ray[default,data] >=2.9.0,<3.0.0"}

t = Tally()
specs, versions = set(), set()
for path in sorted(glob.glob(testdata("repodata", "**", "*.json"), recursive=True)):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (ValueError, UnicodeDecodeError):
        continue
    if not isinstance(data, dict):
        continue
    for key in ("packages", "packages.conda"):
        for rec in (data.get(key) or {}).values() if isinstance(data.get(key), dict) else ():
            if not isinstance(rec, dict):
                continue
            for dep in (rec.get("depends") or []) + (rec.get("constrains") or []):
                if isinstance(dep, str):
                    specs.add(dep)
            if isinstance(rec.get("version"), str):
                versions.add(rec["version"])

specs, versions = sorted(specs), sorted(versions)
for v, res in zip(versions, drive([["conda.version.parse", v] for v in versions])):
    t.check("versions", res[0] == "ok", "%r -> %r" % (v, res))

first = drive([["conda.matchspec.parse", s] for s in specs])
for s, res in zip(specs, first):
    want_ok = s not in EXPECTED_INVALID
    t.check("depends", (res[0] == "ok") == want_ok, "%r -> %r" % (s, res))
canon = [res[1] for res in first if res[0] == "ok"]
for c, res in zip(canon, drive([["conda.matchspec.parse", c] for c in canon])):
    t.check("depends.canonical_reparses", res[0] == "ok", "%r -> %r" % (c, res))

with open(testdata("repodata", "conda-forge-subchannel-py39-2024-05", "linux-64", "repodata.json"),
          encoding="utf-8") as f:
    repodata = json.load(f)
records = [r for key in ("packages", "packages.conda") for r in repodata.get(key, {}).values()]
reqs = []
for r in records:
    rec = dict(r, channel="conda-forge")
    reqs.append(["conda.matchspec.match", "%s==%s=%s" % (r["name"], r["version"], r["build"]), json.dumps(rec)])
    reqs.append(["conda.matchspec.match", "conda-forge::%s" % r["name"], json.dumps(rec)])
    reqs.append(["conda.matchspec.match", "%s %s %sX" % (r["name"], r["version"], r["build"]), json.dumps(rec)])
    reqs.append(["conda.matchspec.match", "%s[build_number=%d]" % (r["name"], r.get("build_number", 0)),
                 json.dumps(rec)])
answers = drive(reqs)
for i, r in enumerate(records):
    got = [a[0] for a in answers[4 * i:4 * i + 4]]
    t.check("records.self_match", got == ["true", "true", "false", "true"],
            "%s-%s-%s -> %r" % (r["name"], r["version"], r["build"], answers[4 * i:4 * i + 4]))

t.finish()
