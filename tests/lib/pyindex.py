"""Python package index fixtures for tests (stdlib only; runs under /usr/bin/python3).

Builds real distributions and serves them the way PyPI does:

    make_wheel(outdir, name, version, ...)          a pure wheel (METADATA, WHEEL, RECORD)
    make_ext_wheel(outdir, name, version, c_source) a compiled CPython extension (cc or mpicc)
    make_sdist(outdir, name, version, ...)          a PEP 625 sdist (PKG-INFO, pyproject.toml)
    write_index(root, dists, ...)                   PEP 503 HTML + PEP 691 JSON + PEP 658 files
    write_find_links(dir, dists), write_links_page(path, dists)   flat sources (pip -f)
    serve(root) -> (base_url, stop, log)            tests/lib/testserver.py on 127.0.0.1

Every function is deterministic: the same arguments give byte-identical files (fixed zip and
tar timestamps), so hashes in tests are stable.  Names in file names use the wheel escaping
(SPECS 5.1), project pages the PEP 503 normalized name (SPECS 6.1).
"""
import base64
import csv
import functools
import gzip
import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile

TARGET_PYTHON = "/usr/bin/python3"
SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "testserver.py")
API_VERSION = "1.1"
ZIP_DATE = (2026, 1, 1, 0, 0, 0)
TAR_MTIME = 1767225600  # 2026-01-01T00:00:00Z


def normalize(name):
    """PEP 503 normalized project name (the project page's path)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def escape(name):
    """The name as it appears in wheel and sdist file names (SPECS 5.1, 7.1)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def file_sha256(path):
    with open(path, "rb") as f:
        return sha256_hex(f.read())


def record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def core_metadata(name, version, *, metadata_version="2.1", requires_dist=(),
                  requires_python=None, provides_extra=(), requires_external=(),
                  provides_external_extra=(), dynamic=(), summary=None):
    """METADATA / PKG-INFO text (SPECS 3): requires_external become Requires-External-Dep
    lines (PEP 725 draft, SPECS 3.4)."""
    lines = ["Metadata-Version: " + metadata_version, "Name: " + name, "Version: " + version]
    lines += ["Dynamic: " + d for d in dynamic]
    lines.append("Summary: " + (summary or "test fixture %s" % name))
    if requires_python:
        lines.append("Requires-Python: " + requires_python)
    lines += ["Provides-Extra: " + e for e in provides_extra]
    lines += ["Requires-Dist: " + r for r in requires_dist]
    lines += ["Provides-External-Extra: " + e for e in provides_external_extra]
    lines += ["Requires-External-Dep: " + r for r in requires_external]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _zip_write(zf, arcname, data, mode, compress):
    info = zipfile.ZipInfo(arcname, ZIP_DATE)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = compress
    zf.writestr(info, data)


def wheel_bytes(name, version, tag, files, metadata, *, build_tag=None, root_is_purelib=True,
                compress=zipfile.ZIP_DEFLATED):
    """(file name, contents) of a wheel holding files ({archive path: bytes}) plus its
    .dist-info (METADATA given as bytes, WHEEL, RECORD with a sha256 row for every file)."""
    stem = "%s-%s" % (escape(name), version)
    dist_info = stem + ".dist-info"
    wheel_text = "Wheel-Version: 1.0\nGenerator: hpcbuild-tests 0.1\nRoot-Is-Purelib: %s\n" % (
        "true" if root_is_purelib else "false")
    wheel_text += "".join("Tag: %s\n" % t for t in _expand_tag(tag))
    if build_tag:
        wheel_text += "Build: %s\n" % build_tag
    members = list(files.items()) + [(dist_info + "/METADATA", metadata),
                                     (dist_info + "/WHEEL", wheel_text.encode())]
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, data in members:
        writer.writerow([path, record_hash(data), len(data)])
    writer.writerow([dist_info + "/RECORD", "", ""])
    members.append((dist_info + "/RECORD", record.getvalue().encode()))
    parts = [escape(name), version] + ([build_tag] if build_tag else []) + [tag]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for arcname, data in members:
            _zip_write(zf, arcname, data, 0o755 if arcname.endswith(".so") else 0o644, compress)
    return "-".join(parts) + ".whl", out.getvalue()


def pack_wheel(outdir, name, version, tag, files, metadata, *, build_tag=None,
               root_is_purelib=True):
    """Writes wheel_bytes(...) into outdir; returns the wheel's path."""
    filename, data = wheel_bytes(name, version, tag, files, metadata, build_tag=build_tag,
                                 root_is_purelib=root_is_purelib)
    path = os.path.join(outdir, filename)
    write_file(path, data)
    return path


def _expand_tag(tag):
    py, abi, plat = tag.split("-")
    return ["%s-%s-%s" % (p, a, s) for p in py.split(".") for a in abi.split(".")
            for s in plat.split(".")]


def make_wheel(outdir, name, version, *, requires_dist=(), requires_python=None,
               provides_extra=(), requires_external=(), tag="py3-none-any", build_tag=None,
               files=None, metadata_version="2.1"):
    """A pure wheel; files ({archive path: bytes}) defaults to one module <escaped name>.py
    with __version__.  Returns the wheel's path."""
    if files is None:
        files = {escape(name) + ".py": ("__version__ = %r\n" % version).encode()}
    metadata = core_metadata(name, version, metadata_version=metadata_version,
                             requires_dist=requires_dist, requires_python=requires_python,
                             provides_extra=provides_extra, requires_external=requires_external)
    return pack_wheel(outdir, name, version, tag, files, metadata, build_tag=build_tag)


@functools.lru_cache(maxsize=None)
def target_python():
    """What the extension build needs to know of /usr/bin/python3: include dir, extension
    suffix and its wheel tag (cp311-cp311-linux_x86_64 on Debian 12)."""
    probe = ("import json, sys, sysconfig\n"
             "v = '%d%d' % sys.version_info[:2]\n"
             "abi = 'cp' + v + ('d' if sysconfig.get_config_var('Py_DEBUG') else '')"
             " + ('t' if sysconfig.get_config_var('Py_GIL_DISABLED') else '')\n"
             "plat = sysconfig.get_platform().replace('-', '_').replace('.', '_')\n"
             "print(json.dumps({'include': sysconfig.get_paths()['include'],"
             " 'suffix': sysconfig.get_config_var('EXT_SUFFIX'),"
             " 'tag': 'cp%s-%s-%s' % (v, abi, plat)}))\n")
    out = subprocess.run([TARGET_PYTHON, "-c", probe], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


EXT_TEMPLATE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
%(includes)s
static PyObject *answer(PyObject *self, PyObject *args)
{
    (void)self; (void)args;
%(body)s
}
static PyMethodDef methods[] = {
    {"answer", answer, METH_NOARGS, "the fixture's answer"},
    {NULL, NULL, 0, NULL}
};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "%(module)s", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};
PyMODINIT_FUNC PyInit_%(module)s(void) { return PyModule_Create(&module); }
"""


def ext_source(module, mpi=False):
    """C source of a module whose answer() returns 42, or with mpi=True the string
    'rank R of N' after MPI_Init (MPI_Finalize runs at exit)."""
    if not mpi:
        return EXT_TEMPLATE % {"includes": "", "module": module,
                               "body": "    return PyLong_FromLong(42);"}
    body = ("    int rank = 0, size = 0, up = 0;\n"
            "    MPI_Initialized(&up);\n"
            "    if (!up) { MPI_Init(NULL, NULL); Py_AtExit(finalize); }\n"
            "    MPI_Comm_rank(MPI_COMM_WORLD, &rank);\n"
            "    MPI_Comm_size(MPI_COMM_WORLD, &size);\n"
            "    return PyUnicode_FromFormat(\"rank %d of %d\", rank, size);")
    includes = "#include <mpi.h>\nstatic void finalize(void) { MPI_Finalize(); }\n"
    return EXT_TEMPLATE % {"includes": includes, "module": module, "body": body}


def make_ext_wheel(outdir, name, version, c_source=None, *, mpi=False, requires_dist=(),
                   requires_external=()):
    """Compiles c_source (default: ext_source(escaped name, mpi)) into the extension module
    <escaped name> with cc (mpicc when mpi) against /usr/bin/python3's headers and packs it
    with /usr/bin/python3's tag.  Returns the wheel's path, or None (after printing why on
    stderr) when the compiler is missing."""
    compiler = shutil.which("mpicc" if mpi else os.environ.get("CC", "cc"))
    if compiler is None:
        print("pyindex: skipping %s: no %s on PATH" % (name, "mpicc" if mpi else "cc"),
              file=sys.stderr)
        return None
    py = target_python()
    module = escape(name)
    with tempfile.TemporaryDirectory(prefix="hb-ext-") as tmp:
        src = os.path.join(tmp, module + ".c")
        so = os.path.join(tmp, module + py["suffix"])
        with open(src, "w", encoding="utf-8") as f:
            f.write(c_source if c_source is not None else ext_source(module, mpi))
        proc = subprocess.run([compiler, "-shared", "-fPIC", "-O1", "-I" + py["include"],
                               src, "-o", so], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError("pyindex: %s failed on %s:\n%s" % (compiler, name, proc.stderr))
        with open(so, "rb") as f:
            binary = f.read()
    metadata = core_metadata(name, version, requires_dist=requires_dist,
                             requires_external=requires_external)
    return pack_wheel(outdir, name, version, py["tag"], {module + py["suffix"]: binary},
                      metadata, root_is_purelib=False)


def _toml_value(v):
    if isinstance(v, dict):
        return "{" + ", ".join("%s = %s" % (_toml_key(k), _toml_value(x))
                               for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v)  # a JSON string is a valid TOML basic string


def _toml_key(k):
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def external_core_fields(external):
    """(Provides-External-Extra, Requires-External-Dep) from an [external] table: only
    dependencies and optional-dependencies reach core metadata (SPECS 3.4)."""
    extras, deps = [], list(external.get("dependencies", ()))
    for extra, items in external.get("optional-dependencies", {}).items():
        extras.append(extra)
        deps += ['%s; extra == "%s"' % (d, extra) for d in items]
    return extras, deps


def make_sdist(outdir, name, version, *, requires_dist=(), requires_python=None,
               metadata_version="2.2", dynamic=(), pyproject_external=None,
               build_requires=("setuptools",)):
    """A PEP 625 sdist <escaped>-<version>.tar.gz (pax) with one top directory holding
    PKG-INFO, pyproject.toml ([build-system] with setuptools.build_meta, [project],
    [tool.setuptools] py-modules and, given pyproject_external, an [external] table) and the
    module <escaped name>.py.  Returns its path."""
    module = escape(name)
    stem = "%s-%s" % (module, version)
    ext_extras, ext_deps = external_core_fields(pyproject_external or {})
    pkg_info = core_metadata(name, version, metadata_version=metadata_version,
                             requires_dist=requires_dist, requires_python=requires_python,
                             dynamic=dynamic if metadata_version >= "2.2" else (),
                             provides_external_extra=ext_extras, requires_external=ext_deps)
    toml = ["[build-system]",
            "requires = " + _toml_value(list(build_requires)),
            'build-backend = "setuptools.build_meta"', "",
            "[project]",
            "name = " + _toml_value(name),
            "version = " + _toml_value(version),
            "dependencies = " + _toml_value(list(requires_dist))]
    if requires_python:
        toml.append("requires-python = " + _toml_value(requires_python))
    toml += ["", "[tool.setuptools]", "py-modules = " + _toml_value([module])]
    if pyproject_external:
        toml += ["", "[external]"]
        toml += ["%s = %s" % (_toml_key(k), _toml_value(v)) for k, v in pyproject_external.items()]
    members = [("PKG-INFO", pkg_info),
               ("pyproject.toml", ("\n".join(toml) + "\n").encode()),
               (module + ".py", ("__version__ = %r\n" % version).encode())]
    path = os.path.join(outdir, stem + ".tar.gz")
    os.makedirs(outdir, exist_ok=True)
    with open(path, "wb") as raw:
        # mtime=0 in the gzip header keeps the file byte-identical between runs
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
                top = tarfile.TarInfo(stem)
                top.type, top.mode, top.mtime = tarfile.DIRTYPE, 0o755, TAR_MTIME
                tar.addfile(top)
                for rel, data in members:
                    info = tarfile.TarInfo(stem + "/" + rel)
                    info.size, info.mode, info.mtime = len(data), 0o644, TAR_MTIME
                    tar.addfile(info, io.BytesIO(data))
    return path


def read_metadata(path):
    """The core metadata bytes of a wheel (.dist-info/METADATA) or sdist (top/PKG-INFO)."""
    if path.endswith(".whl"):
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist()
                     if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
            if len(names) != 1:
                raise ValueError("%s: expected one .dist-info/METADATA, found %d" % (path, len(names)))
            return zf.read(names[0])
    with tarfile.open(path) as tar:
        for m in tar.getmembers():
            if re.fullmatch(r"[^/]+/PKG-INFO", m.name):
                return tar.extractfile(m).read()
    raise ValueError("%s: no top-level PKG-INFO" % path)


def metadata_fields(data):
    """{field: [values]} of a METADATA text (headers only)."""
    fields = {}
    for line in data.decode("utf-8").split("\n"):
        if not line:
            break
        if ": " in line:
            k, v = line.split(": ", 1)
            fields.setdefault(k, []).append(v)
    return fields


def dist_entry(filename, data, metadata, url, *, requires_python=None, yanked=False,
               pep658=True):
    """What the index pages say of one file (data: its bytes, metadata: its core metadata
    bytes): {filename, project, version, url, sha256, size, requires-python, yanked,
    metadata (the PEP 658 bytes, wheels only, or None)}.  requires_python overrides the
    metadata's own."""
    fields = metadata_fields(metadata)
    rp = requires_python or (fields.get("Requires-Python") or [None])[0]
    return {"filename": filename, "project": fields["Name"][0], "version": fields["Version"][0],
            "url": url, "sha256": sha256_hex(data), "size": len(data), "requires-python": rp,
            "yanked": yanked, "metadata": metadata if pep658 and filename.endswith(".whl") else None}


def _html_anchor(e):
    attrs = ['href="%s#sha256=%s"' % (html.escape(e["url"]), e["sha256"])]
    if e["requires-python"]:
        attrs.append('data-requires-python="%s"' % html.escape(e["requires-python"]))
    if e["yanked"] is not False:
        reason = "" if e["yanked"] is True else e["yanked"]
        attrs.append('data-yanked="%s"' % html.escape(reason))
    if e["metadata"] is not None:
        h = "sha256=" + sha256_hex(e["metadata"])
        attrs += ['data-core-metadata="%s"' % h, 'data-dist-info-metadata="%s"' % h]
    return "    <a %s>%s</a><br/>\n" % (" ".join(attrs), html.escape(e["filename"]))


def _html_page(title, body):
    return ("<!DOCTYPE html>\n<html>\n  <head>\n"
            '    <meta name="pypi:repository-version" content="%s">\n'
            "    <title>%s</title>\n  </head>\n  <body>\n%s  </body>\n</html>\n"
            % (API_VERSION, html.escape(title), body)).encode("utf-8")


def _json_file(e):
    j = {"filename": e["filename"], "url": e["url"], "hashes": {"sha256": e["sha256"]},
         "size": e["size"], "requires-python": e["requires-python"], "yanked": e["yanked"]}
    if e["metadata"] is not None:
        # PEP 714: JSON carries only core-metadata, as PyPI does; pip 23.0 crashes on a
        # dist-info-metadata dict (the bug that made PEP 714 rename the key)
        j["core-metadata"] = {"sha256": sha256_hex(e["metadata"])}
    return j


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def write_index(root, dists, *, html=True, json=True, pep658=True, yanked=None,
                requires_python=None, relative_urls=True, files_url=None):
    """Writes a simple index under root: the distributions copied to root/files/ (with
    <wheel>.metadata beside each wheel when pep658), pages at root/simple/index.{html,json}
    and root/simple/<normalized>/index.{html,json}.  yanked: {filename: reason or True};
    requires_python: {filename: specifier} overriding the file's own Requires-Python.
    File URLs are ../../files/<name> (relative_urls) or files_url + name.  Returns
    root/simple."""
    if not relative_urls and not files_url:
        raise ValueError("write_index: relative_urls=False needs files_url")
    files_dir = os.path.join(root, "files")
    simple = os.path.join(root, "simple")
    os.makedirs(files_dir, exist_ok=True)
    projects = {}
    for path in dists:
        name = os.path.basename(path)
        dest = os.path.join(files_dir, name)
        if os.path.abspath(path) != os.path.abspath(dest):
            shutil.copyfile(path, dest)
        with open(dest, "rb") as f:
            data = f.read()
        e = dist_entry(name, data, read_metadata(dest),
                       ("../../files/" if relative_urls else files_url) + name,
                       requires_python=(requires_python or {}).get(name),
                       yanked=(yanked or {}).get(name, False), pep658=pep658)
        if e["metadata"] is not None:
            write_file(dest + ".metadata", e["metadata"])
        projects.setdefault(normalize(e["project"]), []).append(e)
    for norm, entries in sorted(projects.items()):
        write_project_page(simple, norm, entries, html=html, json=json)
    write_project_list(simple, sorted(projects), html=html, json=json)
    return simple


def write_project_page(simple, project, entries, *, html=True, json=True):
    """simple/<project>/index.html and/or index.json listing entries (dist_entry dicts)."""
    page = os.path.join(simple, project)
    if html:
        body = "".join(_html_anchor(e) for e in entries)
        write_file(os.path.join(page, "index.html"), _html_page("Links for " + project, body))
    if json:
        doc = {"meta": {"api-version": API_VERSION}, "name": project,
               "versions": list(dict.fromkeys(e["version"] for e in entries)),
               "files": [_json_file(e) for e in entries]}
        write_file(os.path.join(page, "index.json"), _dumps(doc))


def write_project_list(simple, projects, *, html=True, json=True):
    """The root page simple/index.html and/or index.json naming projects."""
    if html:
        body = "".join('    <a href="%s/">%s</a><br/>\n' % (n, n) for n in projects)
        write_file(os.path.join(simple, "index.html"), _html_page("Simple index", body))
    if json:
        doc = {"meta": {"api-version": API_VERSION}, "projects": [{"name": n} for n in projects]}
        write_file(os.path.join(simple, "index.json"), _dumps(doc))


def _dumps(doc):
    import json as _json  # the json keyword arguments above shadow the module
    return (_json.dumps(doc, indent=1) + "\n").encode("utf-8")


def write_find_links(directory, dists):
    """Copies the distributions into one flat directory (pip --find-links DIR); returns it."""
    os.makedirs(directory, exist_ok=True)
    for path in dists:
        shutil.copyfile(path, os.path.join(directory, os.path.basename(path)))
    return directory


def write_links_page(path, dists):
    """A flat HTML page linking every distribution (relative to the page, #sha256=
    fragment), for pip --find-links PAGE; returns path."""
    base = os.path.dirname(os.path.abspath(path))
    body = "".join('    <a href="%s#sha256=%s">%s</a><br/>\n' % (
        html.escape(os.path.relpath(os.path.abspath(d), base)), file_sha256(d),
        html.escape(os.path.basename(d))) for d in dists)
    write_file(path, _html_page("Links", body))
    return path


def no_proxy_env():
    """os.environ without proxy settings, so loopback requests never leave the host."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1"
    return env


def pip_env(**extra):
    """no_proxy_env() without PIP_* settings (a find-links or index from this machine's
    environment would leak into the fixture) and with pip's config files off."""
    env = {k: v for k, v in no_proxy_env().items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    env.update(extra)
    return env


def http_get(url, headers=None, timeout=30):
    """(status, headers, body) of a GET without proxies; HTTP errors are answers too."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def serve(root):
    """Starts tests/lib/testserver.py on root (127.0.0.1, ephemeral port).  Returns
    (base_url without trailing slash, stop(), log()) where log() is the server's /__log
    entries ({path, status, accept, ...}) and log(reset=True) also clears it."""
    proc = subprocess.Popen([TARGET_PYTHON, SERVER, root], stdout=subprocess.PIPE,
                            env=no_proxy_env())
    line = proc.stdout.readline().split()
    if len(line) != 2 or line[0] != b"PORT":
        proc.kill()
        proc.wait()
        raise RuntimeError("pyindex: testserver.py did not start on %s" % root)
    base = "http://127.0.0.1:%d" % int(line[1])

    def stop():
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()

    def log(reset=False):
        entries = json.loads(http_get(base + "/__log")[2])
        if reset:
            http_get(base + "/__reset")
        return entries

    return base, stop, log
