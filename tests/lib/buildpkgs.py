"""Source trees of small packages with compiled extensions, written for the build tests.

Each package declares its build requirements in [build-system] and what it needs from the
system in PEP 725 [external], and takes its tools from the environment hpcbuild's builder
sets (MPICC, NVCC, CUDA_HOME, HPCBUILD_BLAS):

  mpihello  setuptools, C extension compiled and linked with $MPICC (MPI_Init, Comm_rank,
            Allreduce)
  blasdot   meson-python, C extension calling BLAS dgemm_ (pkg-config $HPCBUILD_BLAS)
  cysum     setuptools + Cython, compiled against numpy's C API
  cudaadd   setuptools, a .cu kernel compiled with $NVCC, linked against libcudart
  broken    setuptools, a C extension with a syntax error (the build must fail)

write(root, name) writes ROOT/NAME/ and returns its path; sdist(tree, dest) packs a tree as
DEST/NAME-1.0.tar.gz (one top-level directory, with PKG-INFO).
"""
import os
import tarfile
import textwrap

PY_HEADER = "#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n"


def module_init(name, methods):
    """The PyModuleDef boilerplate of a C module with METH_VARARGS functions."""
    table = "".join('    {"%s", %s, METH_VARARGS, NULL},\n' % (m, m) for m in methods)
    return textwrap.dedent("""
        static PyMethodDef methods[] = {
        %s    {NULL, NULL, 0, NULL},
        };
        static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "%s", NULL, -1, methods};
        PyMODINIT_FUNC PyInit_%s(void) { return PyModule_Create(&mod); }
        """) % (table, name, name)


def pyproject(name, requires, backend, external):
    ext = "\n".join("%s = %r" % (k, v) for k, v in external.items())
    return textwrap.dedent("""\
        [build-system]
        requires = %r
        build-backend = "%s"

        [project]
        name = "%s"
        version = "1.0"

        [external]
        """) % (requires, backend, name) + ext + "\n"


MPIHELLO_C = PY_HEADER + textwrap.dedent("""\
    #include <mpi.h>

    static PyObject *hello(PyObject *self, PyObject *args)
    {
        int up = 0, rank = 0, size = 0, sum = 0;
        MPI_Initialized(&up);
        if (!up)
            MPI_Init(NULL, NULL);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        return Py_BuildValue("(iii)", rank, size, sum);
    }

    static PyObject *finalize(PyObject *self, PyObject *args)
    {
        MPI_Finalize();
        Py_RETURN_NONE;
    }
    """) + module_init("mpihello", ["hello", "finalize"])

# Compiles and links with the site's MPI compiler wrapper, as mpi4py does.
MPIHELLO_SETUP = textwrap.dedent("""\
    import os
    from setuptools import Extension, setup
    from setuptools.command.build_ext import build_ext


    class mpi_build_ext(build_ext):
        def build_extensions(self):
            mpicc = os.environ["MPICC"]
            for exe in ("compiler_so", "linker_so"):
                cmd = getattr(self.compiler, exe)
                self.compiler.set_executable(exe, [mpicc] + cmd[1:])
            super().build_extensions()


    setup(ext_modules=[Extension("mpihello", ["mpihello.c"])],
          cmdclass={"build_ext": mpi_build_ext})
    """)

BLASDOT_C = PY_HEADER + textwrap.dedent("""\
    void dgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
                const double *alpha, const double *a, const int *lda, const double *b,
                const int *ldb, const double *beta, double *c, const int *ldc);

    /* dgemm(a, b, n): the n x n product of two column-major matrices given as lists. */
    static PyObject *dgemm(PyObject *self, PyObject *args)
    {
        PyObject *la, *lb;
        int n;
        if (!PyArg_ParseTuple(args, "O!O!i", &PyList_Type, &la, &PyList_Type, &lb, &n))
            return NULL;
        if (n < 1 || n > 64 || PyList_Size(la) != n * n || PyList_Size(lb) != n * n)
            return PyErr_Format(PyExc_ValueError, "expected two lists of n*n numbers");
        double a[4096], b[4096], c[4096], one = 1.0, zero = 0.0;
        for (int i = 0; i < n * n; i++) {
            a[i] = PyFloat_AsDouble(PyList_GetItem(la, i));
            b[i] = PyFloat_AsDouble(PyList_GetItem(lb, i));
        }
        if (PyErr_Occurred())
            return NULL;
        dgemm_("N", "N", &n, &n, &n, &one, a, &n, b, &n, &zero, c, &n);
        PyObject *out = PyList_New(n * n);
        for (int i = 0; i < n * n; i++)
            PyList_SetItem(out, i, PyFloat_FromDouble(c[i]));
        return out;
    }
    """) + module_init("blasdot", ["dgemm"])

# The BLAS comes from the builder's environment (HPCBUILD_BLAS: the site's pkg-config name).
BLASDOT_MESON = textwrap.dedent("""\
    project('blasdot', 'c', version: '1.0')
    py = import('python').find_installation(pure: false)
    blas_name = run_command(py, '-c',
        'import os; print(os.environ.get("HPCBUILD_BLAS") or "openblas")',
        check: true).stdout().strip()
    blas = dependency(blas_name)
    py.extension_module('blasdot', 'blasdot.c', dependencies: [blas, py.dependency()],
                        install: true)
    """)

CYSUM_PYX = textwrap.dedent("""\
    # cython: language_level=3
    cimport numpy as cnp
    cnp.import_array()


    def total(cnp.ndarray[cnp.float64_t, ndim=1] a):
        cdef double s = 0
        cdef Py_ssize_t i
        for i in range(a.shape[0]):
            s += a[i]
        return s
    """)

CYSUM_SETUP = textwrap.dedent("""\
    import numpy
    from Cython.Build import cythonize
    from setuptools import Extension, setup

    ext = Extension("cysum", ["cysum.pyx"], include_dirs=[numpy.get_include()])
    setup(ext_modules=cythonize([ext]))
    """)

CUDAADD_CU = textwrap.dedent("""\
    #include <cuda_runtime.h>

    __global__ void add(const float *a, const float *b, float *c, int n)
    {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n)
            c[i] = a[i] + b[i];
    }

    extern "C" int cudaadd_device_count(void)
    {
        int n = 0;
        return cudaGetDeviceCount(&n) == cudaSuccess ? n : -1;
    }

    /* c = a + b on the device; 0, or the CUDA error code. */
    extern "C" int cudaadd_add(const float *a, const float *b, float *c, int n)
    {
        float *d = NULL;
        size_t bytes = (size_t)n * sizeof(float);
        int rc = cudaMalloc((void **)&d, 3 * bytes);
        if (rc == cudaSuccess)
            rc = cudaMemcpy(d, a, bytes, cudaMemcpyHostToDevice);
        if (rc == cudaSuccess)
            rc = cudaMemcpy(d + n, b, bytes, cudaMemcpyHostToDevice);
        if (rc == cudaSuccess) {
            add<<<(n + 255) / 256, 256>>>(d, d + n, d + 2 * n, n);
            rc = cudaGetLastError();
        }
        if (rc == cudaSuccess)
            rc = cudaMemcpy(c, d + 2 * n, bytes, cudaMemcpyDeviceToHost);
        cudaFree(d);
        return rc;
    }
    """)

CUDAADD_C = PY_HEADER + textwrap.dedent("""\
    int cudaadd_device_count(void);

    int cudaadd_add(const float *a, const float *b, float *c, int n);

    static PyObject *device_count(PyObject *self, PyObject *args)
    {
        return PyLong_FromLong(cudaadd_device_count());
    }

    /* add(n): [i + 2i for i < n] computed on the GPU; an int (the CUDA error) on failure. */
    static PyObject *add(PyObject *self, PyObject *args)
    {
        int n;
        if (!PyArg_ParseTuple(args, "i", &n) || n < 1 || n > 4096)
            return PyErr_Occurred() ? NULL : PyErr_Format(PyExc_ValueError, "1 <= n <= 4096");
        float a[4096], b[4096], c[4096];
        for (int i = 0; i < n; i++) {
            a[i] = (float)i;
            b[i] = (float)(2 * i);
        }
        int rc = cudaadd_add(a, b, c, n);
        if (rc != 0)
            return PyLong_FromLong(rc);
        PyObject *out = PyList_New(n);
        for (int i = 0; i < n; i++)
            PyList_SetItem(out, i, PyFloat_FromDouble(c[i]));
        return out;
    }
    """) + module_init("cudaadd", ["device_count", "add"])

# The kernel is compiled with $NVCC; the extension links libcudart from $CUDA_HOME.
CUDAADD_SETUP = textwrap.dedent("""\
    import os
    import subprocess
    from setuptools import Extension, setup
    from setuptools.command.build_ext import build_ext

    CUDA_HOME = os.environ["CUDA_HOME"]
    LIB = os.path.join(CUDA_HOME, "lib64")


    class nvcc_build_ext(build_ext):
        def build_extensions(self):
            os.makedirs(self.build_temp, exist_ok=True)
            obj = os.path.join(self.build_temp, "kernel.o")
            subprocess.run([os.environ["NVCC"], "-c", "kernel.cu", "-o", obj,
                            "-Xcompiler", "-fPIC"], check=True)
            self.extensions[0].extra_objects = [obj]
            super().build_extensions()


    setup(ext_modules=[Extension("cudaadd", ["cudaadd.c"], libraries=["cudart", "stdc++"],
                                 library_dirs=[LIB], runtime_library_dirs=[LIB])],
          cmdclass={"build_ext": nvcc_build_ext})
    """)

BROKEN_C = PY_HEADER + "static int broken(void) { return 1 +; }\n" + module_init("broken", [])

SETUPTOOLS = "setuptools.build_meta"

PACKAGES = {
    "mpihello": {
        "pyproject.toml": pyproject("mpihello", ["setuptools"], SETUPTOOLS, {
            "build-requires": ["dep:virtual/compiler/c"],
            "host-requires": ["dep:virtual/interface/mpi"]}),
        "setup.py": MPIHELLO_SETUP,
        "mpihello.c": MPIHELLO_C,
    },
    "blasdot": {
        "pyproject.toml": pyproject("blasdot", ["meson-python"], "mesonpy", {
            "build-requires": ["dep:virtual/compiler/c", "dep:generic/pkg-config"],
            "host-requires": ["dep:virtual/interface/blas"]}),
        "meson.build": BLASDOT_MESON,
        "blasdot.c": BLASDOT_C,
    },
    "cysum": {
        "pyproject.toml": pyproject("cysum", ["setuptools", "cython", "numpy"], SETUPTOOLS, {
            "build-requires": ["dep:virtual/compiler/c"]}),
        "setup.py": CYSUM_SETUP,
        "cysum.pyx": CYSUM_PYX,
    },
    "cudaadd": {
        "pyproject.toml": pyproject("cudaadd", ["setuptools"], SETUPTOOLS, {
            "build-requires": ["dep:virtual/compiler/c", "dep:generic/cuda"],
            "host-requires": ["dep:generic/cuda"]}),
        "setup.py": CUDAADD_SETUP,
        "cudaadd.c": CUDAADD_C,
        "kernel.cu": CUDAADD_CU,
    },
    "broken": {
        "pyproject.toml": pyproject("broken", ["setuptools"], SETUPTOOLS, {
            "build-requires": ["dep:virtual/compiler/c"]}),
        "setup.py": 'from setuptools import Extension, setup\n'
                    'setup(ext_modules=[Extension("broken", ["broken.c"])])\n',
        "broken.c": BROKEN_C,
    },
}


def write(root, name):
    """Writes package NAME under ROOT; returns the tree's path."""
    tree = os.path.join(root, name)
    os.makedirs(tree, exist_ok=True)
    for fname, text in PACKAGES[name].items():
        with open(os.path.join(tree, fname), "w", encoding="utf-8") as f:
            f.write(text)
    return tree


def sdist(tree, dest):
    """Packs TREE as DEST/NAME-1.0.tar.gz with a PKG-INFO (metadata 2.2)."""
    name = os.path.basename(tree)
    top = "%s-1.0" % name
    path = os.path.join(dest, top + ".tar.gz")
    pkg_info = "Metadata-Version: 2.2\nName: %s\nVersion: 1.0\n" % name
    info_path = os.path.join(tree, "PKG-INFO")
    with open(info_path, "w", encoding="utf-8") as f:
        f.write(pkg_info)
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for fname in sorted(os.listdir(tree)):
            tar.add(os.path.join(tree, fname), arcname="%s/%s" % (top, fname), recursive=False)
    os.unlink(info_path)
    return path
