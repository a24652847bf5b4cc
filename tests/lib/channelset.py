"""A recipe set for channel builds (tests/channel_build.py, bench/channel_bench.py): five small
packages with needs among them and an MPI variant matrix, their recipes and a site file with
Debian's Open MPI and MPICH.

  hbcore   pure Python; its recipe's source is an sdist served over HTTP (url + sha256)
  hbtool   pure Python, a build-time code generator
  hbmpi    C extension compiled with the site's MPICC, needs hbcore; variants mpi: [openmpi, mpich]
  hbapp    needs hbtool to build (setup.py imports it) and hbmpi, hbcore to run
  hbdoc    pure Python, needs nothing (runs beside the others); its recipe applies a patch

write_tree(root, name) writes a source tree; make_sdist(tree, dest) packs one;
write_recipes(root, src, core_url, core_sha) writes ROOT/recipes/*.yaml; site_file(tmp) the site.
"""
import io
import json
import os
import re
import subprocess
import tarfile
import textwrap

import buildpkgs

SETUP_PY = "from setuptools import setup\nsetup()\n"


def pyproject(name, requires=("setuptools",), deps=(), external=None):
    text = textwrap.dedent("""\
        [build-system]
        requires = %s
        build-backend = "setuptools.build_meta"

        [project]
        name = "%s"
        version = "1.0"
        dependencies = %s
        """) % (json.dumps(list(requires)), name, json.dumps(list(deps)))
    if external:
        text += "\n[external]\n" + "".join("%s = %s\n" % (k, json.dumps(v)) for k, v in external.items())
    return text


HBMPI_C = buildpkgs.PY_HEADER + textwrap.dedent("""\
    #include <mpi.h>

    static PyObject *library(PyObject *self, PyObject *args)
    {
        char v[MPI_MAX_LIBRARY_VERSION_STRING];
        int n = 0;
        MPI_Get_library_version(v, &n);
        return PyUnicode_FromStringAndSize(v, n);
    }
    """) + buildpkgs.module_init("_hbmpi", ["library"])

HBMPI_SETUP = buildpkgs.MPIHELLO_SETUP.replace('Extension("mpihello", ["mpihello.c"])',
                                               'Extension("hbmpi._hbmpi", ["_hbmpi.c"])').replace(
    "setup(ext_modules", "setup(packages=['hbmpi'], ext_modules")

HBAPP_SETUP = textwrap.dedent("""\
    import hbtool
    from setuptools import setup

    hbtool.generate("hbapp/_generated.py")
    setup(packages=["hbapp"])
    """)

PACKAGES = {
    "hbcore": {"pyproject.toml": pyproject("hbcore"), "hbcore/__init__.py": "VALUE = 1\n"},
    "hbtool": {"pyproject.toml": pyproject("hbtool"),
               "hbtool/__init__.py": "import os\n\n\ndef generate(path):\n"
                                     "    with open(path, 'w') as f:\n"
                                     "        f.write('BY = %r\\n' % os.environ.get('HBTOOL_STAMP', 'hbtool'))\n"},
    "hbmpi": {"pyproject.toml": pyproject("hbmpi", deps=["hbcore>=1.0"],
                                          external={"host-requires": ["dep:virtual/interface/mpi"]}),
              "setup.py": HBMPI_SETUP, "_hbmpi.c": HBMPI_C,
              "hbmpi/__init__.py": "import hbcore\nfrom hbmpi._hbmpi import library\n"},
    "hbapp": {"pyproject.toml": pyproject("hbapp", requires=["setuptools", "hbtool"], deps=["hbmpi", "hbcore"]),
              "setup.py": HBAPP_SETUP,
              "hbapp/__init__.py": "from hbapp._generated import BY\nimport hbmpi\n"},
    "hbdoc": {"pyproject.toml": pyproject("hbdoc"), "hbdoc/__init__.py": "TEXT = 'doc'\n"},
}


def write_tree(root, name):
    tree = os.path.join(root, name)
    for rel, text in PACKAGES[name].items():
        path = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return tree


def make_sdist(tree, dest):
    """DEST/NAME-1.0.tar.gz of TREE (all of it, under one top directory, with a PKG-INFO)."""
    name = os.path.basename(tree)
    path = os.path.join(dest, "%s-1.0.tar.gz" % name)
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        tar.add(tree, arcname="%s-1.0" % name)
        info = tarfile.TarInfo("%s-1.0/PKG-INFO" % name)
        data = ("Metadata-Version: 2.2\nName: %s\nVersion: 1.0\n" % name).encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def recipe(name, source, variants="", env="", test="", extra=""):
    return textwrap.dedent("""\
        package:
          name: %s
          version: "1.0"
        source:
        %s
        """) % (name, textwrap.indent(source, "  ")) + env + variants + extra + test


def write_recipes(root, src, core_url, core_sha):
    recipes = os.path.join(root, "recipes")
    os.makedirs(recipes, exist_ok=True)
    files = {
        "hbcore.yaml": recipe("hbcore", "url: %s\nsha256: %s" % (core_url, core_sha),
                              test="test:\n  commands:\n    - python -c \"import hbcore; assert hbcore.VALUE == 1\"\n"),
        "hbtool.yaml": recipe("hbtool", "path: %s/hbtool" % src,
                              test="test:\n  commands: python -c \"import hbtool\"\n"),
        "hbmpi.yaml": recipe("hbmpi", "path: %s/hbmpi" % src,
                             env="build:\n  env:\n    HBMPI_VARIANT: ${{ variant.mpi }}\n",
                             variants="variants:\n  mpi: [openmpi, mpich]\n",
                             test="test:\n  commands:\n"
                                  "    - python -c \"import hbmpi, sys; v = hbmpi.library().lower().replace(' ', '');"
                                  " sys.exit(0 if '${{ variant.mpi }}' in v else 'wrong MPI ' + v)\"\n"),
        "hbapp.yaml": recipe("hbapp", "path: %s/hbapp" % src,
                             test="test:\n  commands:\n    - python -c \"import hbapp; assert hbapp.BY == 'hbtool'\"\n"),
        "hbdoc.yaml": recipe("hbdoc", "path: %s/hbdoc\npatches: [patches/hbdoc-text.patch]" % src,
                             test="test:\n  commands: python -c \"import hbdoc; assert hbdoc.TEXT == 'patched'\"\n"),
    }
    # a patch, named relative to the recipe (applied to the copied tree, never to src)
    os.makedirs(os.path.join(recipes, "patches"), exist_ok=True)
    with open(os.path.join(recipes, "patches", "hbdoc-text.patch"), "w", encoding="utf-8") as f:
        f.write("--- a/hbdoc/__init__.py\n+++ b/hbdoc/__init__.py\n@@ -1 +1 @@\n-TEXT = 'doc'\n"
                "+TEXT = 'patched'\n")
    for name, text in files.items():
        with open(os.path.join(recipes, name), "w", encoding="utf-8") as f:
            f.write(text)
    return recipes


def site_file(tmp):
    """The site: this machine's Open MPI and MPICH (Debian's), both providing the MPI interface."""
    ompi = subprocess.run(["ompi_info", "--parsable", "--version", "ompi", "full"], capture_output=True, text=True)
    ompi_v = re.search(r"ompi:version:full:(\S+)", ompi.stdout)
    mpich = subprocess.run(["mpichversion"], capture_output=True, text=True)
    mpich_v = re.search(r"MPICH Version:\s*(\S+)", mpich.stdout)
    path = os.path.join(tmp, "site.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent("""\
            format: 1
            externals:
              - name: openmpi
                version: %s
                provides: [dep:virtual/interface/mpi, dep:generic/openmpi]
                prefix: /usr
                info: {mpicc: /usr/bin/mpicc.openmpi, abi: openmpi}
              - name: mpich
                version: %s
                provides: [dep:virtual/interface/mpi, dep:generic/mpich]
                prefix: /usr
                info: {mpicc: /usr/bin/mpicc.mpich, abi: mpich}
            """) % (ompi_v.group(1) if ompi_v else "4.1.4", mpich_v.group(1) if mpich_v else "4.0.2"))
    return path
