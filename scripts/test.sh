#!/usr/bin/env bash
# Installs what the tests need, then runs the C++ unit tests (ctest, in
# build/ctest) and the Python tests (pytest, against the installed package).
# Extra arguments are passed to pytest (e.g. -k header).
#
# Environment:
#   PYTHON                 the interpreter to use (default: python, else python3)
#   JOBS                   parallel build jobs (default: the number of cores)
#   TURBODICOM_NO_APT=1    never call apt-get
#   TURBODICOM_NO_INSTALL=1  skip the pip install (test what is installed)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

if [[ -z "${PYTHON:-}" ]]; then
    if command -v python >/dev/null 2>&1; then PYTHON=python; else PYTHON=python3; fi
fi
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

step() { printf '\n=== %s\n' "$*"; }

# --- Debian packages -----------------------------------------------------------
# DCMTK and Orthanc are test peers (DCMTK's dcmdjpeg and dcmdrle decode the files our
# encoders write; its storescp/storescu and Orthanc exchange instances with ours);
# ccache (used by CMakeLists.txt when found) speeds up rebuilds. They are installed
# when we are root on a Debian-like system and they are missing.
declare -A package_of=([ccache]=ccache [dcmdjpeg]=dcmtk [Orthanc]=orthanc)
missing=()
for tool in "${!package_of[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("${package_of[$tool]}")
done
if ((${#missing[@]})); then
    if [[ "${TURBODICOM_NO_APT:-0}" == 1 ]]; then
        echo "note: ${missing[*]} not installed (TURBODICOM_NO_APT=1)"
    elif [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        echo "note: ${missing[*]} not installed (needs root and apt-get); the tests that need them are skipped"
    else
        step "apt-get install ${missing[*]}"
        if ! (apt-get update -qq &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"); then
            echo "warning: could not install ${missing[*]}; continuing without" >&2
        fi
    fi
fi

# --- Python package and test dependencies ----------------------------------------
pip_args=(--progress-bar off)
export PIP_ROOT_USER_ACTION=ignore  # CI runs as root
# A system Python that refuses pip (PEP 668) outside a virtual environment: allowed
# on throwaway CI machines only.
if "$PYTHON" - <<'EOF'
import os, sys, sysconfig
in_venv = sys.prefix != sys.base_prefix
marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
sys.exit(0 if (not in_venv and os.path.exists(marker)) else 1)
EOF
then
    if [[ "${CI:-}" == true ]]; then
        pip_args+=(--break-system-packages)
    else
        echo "error: $PYTHON is an externally managed system Python; run this in a virtual environment" >&2
        exit 1
    fi
fi

if [[ "${TURBODICOM_NO_INSTALL:-0}" != 1 ]]; then
    step "pip install .[test]"
    "$PYTHON" -m pip install "${pip_args[@]}" ".[test]"
fi

# --- C++ unit tests ---------------------------------------------------------------
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi

status=0

step "C++ unit tests: configure and build (build/ctest)"
cmake -S . -B build/ctest "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTURBODICOM_BUILD_MODULE=OFF \
    -DTURBODICOM_BUILD_TESTS=ON
cmake --build build/ctest --parallel "$JOBS"

step "C++ unit tests: ctest"
if ! (cd build/ctest && ctest --output-on-failure --no-tests=error -j "$JOBS"); then
    echo "FAILED: C++ unit tests" >&2
    status=1
fi

# --- Python tests -------------------------------------------------------------------
# Run from the repository root: the source package is under src/, which is not on
# sys.path, so the installed package (with its compiled _core) is what is imported.
step "Python tests: pytest"
if ! "$PYTHON" - "$ROOT" <<'EOF'
import os, sys
import turbodicom, turbodicom._core
root = os.path.realpath(sys.argv[1])
for name, path in (("turbodicom", turbodicom.__file__), ("turbodicom._core", turbodicom._core.__file__)):
    print(f"{name}: {path}")
    if os.path.realpath(path).startswith(os.path.join(root, "src") + os.sep):
        sys.exit(f"error: {name} was imported from the source tree, not from the installed package")
EOF
then
    echo "FAILED: the installed turbodicom could not be imported" >&2
    exit 1
fi

set +e
"$PYTHON" -m pytest tests "$@"
pytest_status=$?
set -e
case "$pytest_status" in
    0) ;;
    5) echo "FAILED: pytest collected no tests" >&2; status=1 ;;
    *) echo "FAILED: Python tests (pytest exit status $pytest_status)" >&2; status=1 ;;
esac

if ((status)); then
    step "scripts/test.sh: FAILED"
else
    step "scripts/test.sh: all tests passed"
fi
exit "$status"
