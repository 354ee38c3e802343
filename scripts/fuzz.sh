#!/usr/bin/env bash
# Fuzz the Part 10 reader and the pixel decoders for a short, fixed time.
#
#   scripts/fuzz.sh
#
# Builds the libFuzzer targets fuzz/fuzz_*.cpp with clang (installing clang with
# apt-get when it is missing and this runs as root), writes seed corpora with
# fuzz/make_seeds.py and fuzz/make_codec_seeds.py into a temporary folder, runs
# fuzz_parse, fuzz_jpeg, fuzz_rle, fuzz_pdu and fuzz_dimse, then the atheris target
# fuzz/fuzz_dcmread.py when atheris is importable.
#
# Exits non-zero when a target finds a crash, a sanitizer report, a timeout or
# an out-of-memory input, and prints where the input was saved. Add every such
# input to tests/regressions/<short-description>.dcm once it is understood.
#
# Environment: PYTHON (default python3), FUZZ_TIME (fuzz_parse seconds, 60),
# CODEC_FUZZ_TIME (seconds for each of fuzz_jpeg, fuzz_rle, fuzz_pdu and fuzz_dimse, 30),
# ATHERIS_TIME (seconds, 30), FUZZ_BUILD (build folder, build/fuzz),
# FUZZ_FINDINGS (where findings are saved, build/fuzz-findings),
# FUZZ_CORPUS (keep the grown corpus here instead of a temporary folder).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
FUZZ_TIME=${FUZZ_TIME:-60}
CODEC_FUZZ_TIME=${CODEC_FUZZ_TIME:-30}
ATHERIS_TIME=${ATHERIS_TIME:-30}
BUILD=${FUZZ_BUILD:-$ROOT/build/fuzz}
FINDINGS=${FUZZ_FINDINGS:-$ROOT/build/fuzz-findings}
LIMITS=(-rss_limit_mb=2048 -timeout=2 -print_final_stats=1)
QUIET='^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|RELOAD)'  # progress lines; INITED and DONE stay

if ! command -v clang++ >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing clang"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y clang
  else
    echo "clang++ is needed (apt-get install clang, as root)" >&2
    exit 2
  fi
fi

echo "== building the fuzz targets in $BUILD"
CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -DTURBODICOM_FUZZ=ON -DTURBODICOM_BUILD_MODULE=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target fuzz_parse fuzz_jpeg fuzz_rle fuzz_pdu fuzz_dimse -j "$(nproc 2>/dev/null || echo 2)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/turbodicom-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
CORPUS=${FUZZ_CORPUS:-$WORK/corpus}
mkdir -p "$CORPUS" "$WORK/pycorpus" "$FINDINGS"
"$PYTHON" "$ROOT/fuzz/make_seeds.py" "$WORK/seeds" --dict "$WORK/dicom.dict"
"$PYTHON" "$ROOT/fuzz/make_codec_seeds.py" "$WORK/codec-seeds" 2>/dev/null
"$PYTHON" "$ROOT/fuzz/make_net_seeds.py" "$WORK/codec-seeds"

# Findings from earlier runs are not this run's.
before=$(mktemp "$WORK/before.XXXXXX")
ls -1 "$FINDINGS" >"$before" 2>/dev/null || true

status=0
echo "== fuzz_parse for ${FUZZ_TIME}s"
set +e
"$BUILD/fuzz_parse" "$CORPUS" "$WORK/seeds" -dict="$WORK/dicom.dict" -max_total_time="$FUZZ_TIME" \
  "${LIMITS[@]}" -artifact_prefix="$FINDINGS/parse-" 2>&1 | grep --line-buffered -vE "$QUIET"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" != 0 ]; then
  echo "fuzz_parse exited with status $rc" >&2
  status=1
fi

for codec in jpeg rle pdu dimse; do
  echo "== fuzz_$codec for ${CODEC_FUZZ_TIME}s"
  mkdir -p "$WORK/corpus-$codec" "$WORK/codec-seeds/$codec"
  set +e
  "$BUILD/fuzz_$codec" "$WORK/corpus-$codec" "$WORK/codec-seeds/$codec" -max_total_time="$CODEC_FUZZ_TIME" \
    "${LIMITS[@]}" -artifact_prefix="$FINDINGS/$codec-" 2>&1 | grep --line-buffered -vE "$QUIET"
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" != 0 ]; then
    echo "fuzz_$codec exited with status $rc" >&2
    status=1
  fi
done

if "$PYTHON" -c "import atheris, turbodicom" >/dev/null 2>&1; then
  echo "== fuzz_dcmread.py (atheris) for ${ATHERIS_TIME}s"
  set +e
  "$PYTHON" "$ROOT/fuzz/fuzz_dcmread.py" "$WORK/pycorpus" "$WORK/seeds" -dict="$WORK/dicom.dict" \
    -max_total_time="$ATHERIS_TIME" "${LIMITS[@]}" -artifact_prefix="$FINDINGS/dcmread-" 2>&1 |
    grep --line-buffered -vE "$QUIET"
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" != 0 ]; then
    echo "fuzz_dcmread.py exited with status $rc" >&2
    status=1
  fi
else
  echo "== atheris (or turbodicom) is not importable with $PYTHON: the atheris target was not run"
fi

new=$(ls -1 "$FINDINGS" 2>/dev/null | grep -vxF -f "$before" || true)
if [ -n "$new" ] || [ "$status" != 0 ]; then
  echo
  echo "FUZZING FOUND A PROBLEM. Inputs saved:" >&2
  for f in $new; do echo "  $FINDINGS/$f" >&2; done
  echo "Reproduce with $BUILD/fuzz_<target> <file> (or $PYTHON fuzz/fuzz_dcmread.py <file>), then add the" >&2
  echo "input to tests/regressions/ (a .dcm file, or a codec test case)." >&2
  exit 1
fi
echo "== no findings"
