"""setuptools backend that builds the extensions sportsmed._core and sportsmed._torch with the
project's CMake.

CMake stays the single build description: this only configures it with
SPORTSMED_BUILD_PYTHON=ON for the running interpreter, builds the `_core` and `_torch` targets and
installs the CMake component `python` next to the pure-Python package.

Environment:
  SPORTSMED_BUILD_DIR  CMake build folder to use (default build/py-<python tag>); point
                       it at an existing build to reuse its objects.
  CMAKE_ARGS           extra arguments for the CMake configure step.
  CMAKE_BUILD_PARALLEL_LEVEL  build jobs (default: number of CPUs).
"""

import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        out_dir = Path(self.get_ext_fullpath(ext.name)).resolve().parent
        tag = sysconfig.get_config_var("SOABI") or f"py{sys.version_info[0]}{sys.version_info[1]}"
        build_dir = Path(os.environ.get("SPORTSMED_BUILD_DIR", ROOT / "build" / f"py-{tag}")).resolve()
        build_dir.mkdir(parents=True, exist_ok=True)

        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir),
            "-DSPORTSMED_BUILD_PYTHON=ON",
            f"-DPython_EXECUTABLE={sys.executable}",
        ]
        if not (build_dir / "CMakeCache.txt").exists():
            configure.append("-DCMAKE_BUILD_TYPE=Release")
        configure += shlex.split(os.environ.get("CMAKE_ARGS", ""))
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))

        self._run(configure)
        self._run(["cmake", "--build", str(build_dir), "--target", "_core", "_torch", "-j", jobs])
        self._run(["cmake", "--install", str(build_dir), "--component", "python",
                   "--prefix", str(out_dir)])

    @staticmethod
    def _run(cmd: list) -> None:
        print("sportsmed build:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)


setup(ext_modules=[CMakeExtension("sportsmed._core")], cmdclass={"build_ext": CMakeBuild})
