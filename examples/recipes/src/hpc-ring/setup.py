# Compiles and links with the site's MPI compiler wrapper ($MPICC, set by hpcbuild from the site).
import os
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class mpi_build_ext(build_ext):
    def build_extensions(self):
        mpicc = os.environ.get("MPICC", "mpicc")
        for exe in ("compiler_so", "linker_so"):
            self.compiler.set_executable(exe, [mpicc] + getattr(self.compiler, exe)[1:])
        super().build_extensions()


setup(packages=["hpc_ring"], ext_modules=[Extension("hpc_ring._ring", ["_ring.c"])],
      cmdclass={"build_ext": mpi_build_ext})
