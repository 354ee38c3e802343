#!/usr/bin/env bash
# Run the benchmarks and regenerate docs/benchmarks.md and its plots. Each benchmark file runs
# in its own Python process, so that one group's heap and threads do not weigh on the next,
# and the garbage collector is off while a round is timed, as timeit does: a collection of the
# whole process's heap lands in one round of whichever benchmark happens to trigger it.
# Extra arguments are passed to every pytest run (e.g. -k header).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python}"
results=()
for bench in benchmarks/bench_*.py; do
    name="$(basename "$bench" .py)"
    out="benchmarks/results_${name#bench_}.json"
    "$PYTHON" -m pytest "$bench" --benchmark-disable-gc --benchmark-json="$out" "$@"
    results+=("$out")
done
"$PYTHON" benchmarks/report.py "${results[@]}"
