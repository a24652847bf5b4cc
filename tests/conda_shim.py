"""Stand-ins for conda's VersionOrder, VersionSpec and MatchSpec that answer
through hpcbuild-testdriver, so the Python assert texts extracted from conda's
test suite can be evaluated against hpcbuild.

Requests are memoized; an unknown answer raises Need, the evaluation is
retried after the missing requests were sent to the driver in one batch
(so thousands of asserts cost a handful of driver runs)."""
import json
import math

from hbtest import drive


class Need(Exception):
    """An answer is not known yet (collected and asked in the next batch)."""


class InvalidSpec(Exception):
    """The driver rejected the input (conda raises InvalidSpec / ValueError)."""


InvalidVersionSpec = InvalidMatchSpec = InvalidSpec


class Oracle:
    def __init__(self):
        self.cache = {}
        self.missing = set()

    def ask(self, *req):
        key = tuple(req)
        if key in self.cache:
            return self.cache[key]
        self.missing.add(key)
        raise Need()

    def fill(self):
        reqs = sorted(self.missing)
        self.missing.clear()
        for req, res in zip(reqs, drive([list(r) for r in reqs])):
            self.cache[req] = res


ORACLE = Oracle()


def _check(res):
    if res and res[0] == "error":
        raise InvalidSpec(res[1] if len(res) > 1 else "error")
    return res


def _inf(x):
    if isinstance(x, list):
        return [_inf(y) for y in x]
    return math.inf if x == "inf" else x


class VersionOrder:
    def __init__(self, s):
        if isinstance(s, VersionOrder):
            s = s.src
        res = _check(ORACLE.ask("conda.version.parse", str(s)))
        self.src = str(s)
        self.norm = res[1]
        self.version = _inf(json.loads(res[2]))

    def __str__(self):
        return self.norm

    def _cmp(self, other):
        if not isinstance(other, VersionOrder):
            other = VersionOrder(other)
        return _check(ORACLE.ask("conda.version.compare", self.src, other.src))[0]

    def __eq__(self, other):
        return self._cmp(other) == "="

    def __ne__(self, other):
        return self._cmp(other) != "="

    def __lt__(self, other):
        return self._cmp(other) == "<"

    def __le__(self, other):
        return self._cmp(other) != ">"

    def __gt__(self, other):
        return self._cmp(other) == ">"

    def __ge__(self, other):
        return self._cmp(other) != "<"

    def __hash__(self):
        return hash(self.norm)

    def startswith(self, other):
        return _check(ORACLE.ask("conda.version.startswith", self.src, other.src))[0] == "true"


def normalized_version(s):
    return VersionOrder(s)


class VersionSpec:
    def __init__(self, spec):
        if isinstance(spec, VersionSpec):
            spec = spec.src
        res = _check(ORACLE.ask("conda.spec.parse", str(spec)))
        self.src = str(spec)
        self.spec = res[1]
        self._exact = res[2] == "exact"

    def match(self, version):
        return _check(ORACLE.ask("conda.spec.contains", self.src, str(version)))[0] == "true"

    def is_exact(self):
        return self._exact

    def __str__(self):
        return self.spec

    def __repr__(self):
        return "VersionSpec('%s')" % self.spec

    def __eq__(self, other):
        other_spec = other.spec if hasattr(other, "spec") else VersionSpec(other).spec
        return self.spec == other_spec

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.spec)


class ChannelMatch:
    def __init__(self, value):
        if not isinstance(value, str) or "*" in value or value.startswith("^"):
            raise AttributeError("only exact channel strings are supported")
        self.value = value

    def match(self, other):
        return ORACLE.ask("conda.channel.match", self.value, str(other))[0] == "true"


def ver_eval(version, spec):
    return VersionSpec(spec).match(version)


class MatchSpec:
    def __init__(self, spec):
        if isinstance(spec, MatchSpec):
            spec = spec.src
        if not isinstance(spec, str):
            raise InvalidSpec("not a string")
        res = _check(ORACLE.ask("conda.matchspec.parse", spec))
        self.src = spec
        self.canonical = res[1]
        self.fields = json.loads(res[2])
        self.exact = json.loads(res[3])

    def __str__(self):
        return self.canonical

    def __repr__(self):
        return 'MatchSpec("%s")' % self.canonical

    def __contains__(self, field):
        return field in self.fields

    def __eq__(self, other):
        return isinstance(other, MatchSpec) and self.fields == other.fields

    def __hash__(self):
        return hash(json.dumps(self.fields, sort_keys=True))

    @property
    def name(self):
        name = self.fields.get("name", "*")
        return "*" if "*" in name or name.startswith("^") else name

    @property
    def version(self):
        v = self.fields.get("version")
        return None if v is None else VersionSpec(v)

    def get(self, field, default=None):
        v = self.fields.get(field)
        return default if v is None else v

    def get_raw_value(self, field):
        return self.fields.get(field)

    def get_exact_value(self, field):
        if field not in self.exact:
            raise AttributeError("get_exact_value(%r) is outside the shim" % field)
        return self.exact[field]

    def match(self, record):
        record = _record(record)
        return _check(ORACLE.ask("conda.matchspec.match", self.src, json.dumps(record)))[0] == "true"


def _unrender(x):
    """The extracted asserts write dict literals as {'k': 'dict', 'items': [[key, value], ...]}
    (a None key is a ** spread)."""
    if isinstance(x, dict) and x.get("k") == "dict" and "items" in x:
        out = {}
        for key, value in x["items"]:
            value = _unrender(value)
            if key is None:
                out.update(value)
            else:
                out[key] = value
        return out
    if isinstance(x, dict) and x.get("k") == "unsupported":
        raise AttributeError("an expression the extractor could not render")
    if isinstance(x, list):
        return [_unrender(y) for y in x]
    return x


def _record(record):
    record = _unrender(record)
    if not isinstance(record, dict):
        raise AttributeError("only dict records are supported")
    return record


class _RenderedDict(dict):
    """A dict that compares equal to the extractor's rendering of a dict literal."""

    def __eq__(self, other):
        return dict.__eq__(self, _unrender(other))

    def __ne__(self, other):
        return not self == other


def _parse_spec_str(spec):
    res = _check(ORACLE.ask("conda.matchspec.parse_spec_str", spec))
    out = _RenderedDict(json.loads(res[2]))
    if not spec.endswith((".tar.bz2", ".conda", "@")):
        out["_original_spec_str"] = spec
    return out


def DPkg(fn, **extra):
    """conda's test helper: a record from a dist filename name-version-build.tar.bz2."""
    for ext in (".tar.bz2", ".conda"):
        if fn.endswith(ext):
            fn = fn[: -len(ext)]
    name, version, build = fn.rsplit("-", 2)
    tail = build.rsplit("_", 1)[-1]
    rec = {"name": name, "version": version, "build": build,
           "build_number": int(tail) if tail.isdigit() else 0, "md5": "012345789"}
    rec.update(extra)
    return rec


def evaluate(items, fn):
    """Runs fn(item) for every item, asking the driver for missing answers in
    batches; returns a list of (item, outcome, value) with outcome 'ok' or 'exc'."""
    results = {}
    pending = list(range(len(items)))
    for _ in range(20):
        still = []
        for i in pending:
            try:
                results[i] = ("ok", fn(items[i]))
            except Need:
                still.append(i)
            except Exception as e:  # noqa: BLE001 - reported by the caller
                results[i] = ("exc", e)
        pending = still
        if not pending:
            break
        ORACLE.fill()
    for i in pending:
        results[i] = ("exc", RuntimeError("did not settle"))
    return [(items[i],) + results[i] for i in range(len(items))]
