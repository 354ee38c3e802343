#!/usr/bin/env bash
# Run the read benchmarks and regenerate docs/benchmarks.md and docs/benchmarks_read.png.
# Extra arguments are passed to pytest (e.g. -k header).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python}"
"$PYTHON" -m pytest benchmarks/bench_read.py --benchmark-json=benchmarks/results.json "$@"
"$PYTHON" benchmarks/report.py benchmarks/results.json
