#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <mpi.h>

/* The MPI library this module was linked against, as it names itself. */
static PyObject *library(PyObject *self, PyObject *args)
{
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    MPI_Get_library_version(v, &n);
    (void)n;
    return PyUnicode_FromString(v);   /* n may count the terminating NUL */
}

static PyMethodDef methods[] = {{"library", library, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_ring", NULL, -1, methods};
PyMODINIT_FUNC PyInit__ring(void) { return PyModule_Create(&mod); }
