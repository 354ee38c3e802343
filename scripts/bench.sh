#!/usr/bin/env bash
# Run the read and scan benchmarks and regenerate docs/benchmarks.md, docs/benchmarks_read.png
# and docs/benchmarks_scan.png. Extra arguments are passed to pytest (e.g. -k header).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python}"
"$PYTHON" -m pytest benchmarks/bench_read.py benchmarks/bench_scan.py \
    --benchmark-json=benchmarks/results.json "$@"
"$PYTHON" benchmarks/report.py benchmarks/results.json
