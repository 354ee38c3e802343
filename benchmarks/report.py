"""Turn pytest-benchmark JSON results into docs/benchmarks.md and a bar chart.

Usage::

    python benchmarks/report.py benchmarks/results.json [more.json ...] [--out-dir docs]

Every benchmark is expected to record, in ``benchmark.extra_info``:

* ``library``: the library measured (``"pydicom"`` or ``"turbodicom"``);
* ``files``: how many files one round processes (times are divided by it);
* optionally ``version`` (the library's version), ``description`` (one line
  describing the group's workload) and ``target_speedup`` (the speed-up the
  group must reach; ``--target`` otherwise).

One table row and one pair of bars is produced per benchmark group, so new
benchmark files only need to use new group names to add rows.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASELINE = "pydicom"
CANDIDATE = "turbodicom"
DEFAULT_TARGET = 8.0
MARKDOWN_NAME = "benchmarks.md"
CHART_NAME = "benchmarks_read.png"


@dataclass
class Measurement:
    library: str
    version: str | None
    per_file_us: float  # mean time per file, microseconds
    stddev_us: float  # standard deviation of a round, per file
    rounds: int
    files: int


@dataclass
class Group:
    name: str
    description: str | None = None
    target: float | None = None
    results: dict[str, Measurement] = field(default_factory=dict)

    def speedup(self, baseline: str, candidate: str) -> float | None:
        base = self.results.get(baseline)
        cand = self.results.get(candidate)
        if base is None or cand is None or cand.per_file_us <= 0:
            return None
        return base.per_file_us / cand.per_file_us


# --------------------------------------------------------------------------- input


def load(paths: list[Path]) -> tuple[dict, dict[str, Group]]:
    """Read the JSON files; return the first file's header and the groups in order."""
    header: dict = {}
    groups: dict[str, Group] = {}
    for path in paths:
        data = json.loads(path.read_text())
        if not header:
            header = {k: v for k, v in data.items() if k != "benchmarks"}
        for bench in data.get("benchmarks", []):
            extra = bench.get("extra_info") or {}
            params = bench.get("params") or {}
            library = extra.get("library") or params.get("library")
            if not library:
                print(f"skipping {bench.get('fullname')}: no extra_info['library']", file=sys.stderr)
                continue
            name = bench.get("group") or bench.get("name")
            files = int(extra.get("files", 1)) or 1
            stats = bench["stats"]
            group = groups.setdefault(name, Group(name))
            group.description = group.description or extra.get("description")
            if extra.get("target_speedup") is not None:
                group.target = float(extra["target_speedup"])
            if library in group.results:
                print(f"group {name!r}: several {library} results, keeping the last", file=sys.stderr)
            group.results[library] = Measurement(
                library=library,
                version=extra.get("version"),
                per_file_us=stats["mean"] / files * 1e6,
                stddev_us=stats["stddev"] / files * 1e6,
                rounds=int(stats["rounds"]),
                files=files,
            )
    return header, groups


# ------------------------------------------------------------------------- machine


def cpu_model(header: dict) -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                return value.strip()
    except OSError:
        pass
    brand = (header.get("machine_info", {}).get("cpu") or {}).get("brand_raw")
    return brand or platform.processor() or platform.machine() or "unknown CPU"


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def library_versions(groups: dict[str, Group], libraries: list[str]) -> dict[str, str]:
    versions: dict[str, str] = {}
    for library in libraries:
        for group in groups.values():
            m = group.results.get(library)
            if m is not None and m.version and m.version != "unknown":
                versions[library] = m.version
                break
        else:
            found = installed_version(library)
            if found:
                versions[library] = found
    numpy_version = installed_version("numpy")
    if numpy_version and "numpy" not in versions:
        versions["numpy"] = numpy_version
    return versions


def machine_lines(header: dict, groups: dict[str, Group], libraries: list[str]) -> list[str]:
    info = header.get("machine_info", {})
    commit = header.get("commit_info", {})
    python = " ".join(
        x for x in (info.get("python_implementation"), info.get("python_version")) if x
    ) or f"{platform.python_implementation()} {platform.python_version()}"
    system = " ".join(x for x in (info.get("system"), info.get("release")) if x) or platform.platform()
    versions = library_versions(groups, libraries)

    lines = [
        f"- CPU: {cpu_model(header)}, {os.cpu_count()} logical cores",
        f"- OS: {system} ({info.get('machine') or platform.machine()})",
        f"- Python: {python}",
        "- Libraries: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
    ]
    if header.get("version"):
        lines[-1] += f", pytest-benchmark {header['version']}"
    when = header.get("datetime")
    if when:
        try:
            when = datetime.fromisoformat(when).strftime("%Y-%m-%d %H:%M UTC")
        except ValueError:
            pass
        lines.append(f"- Run: {when}")
    if commit.get("id") and commit["id"] != "unknown":
        dirty = " (uncommitted changes)" if commit.get("dirty") else ""
        lines.append(f"- Commit: `{commit['id'][:12]}`{dirty}")
    return lines


# ------------------------------------------------------------------------ markdown


def fmt_us(m: Measurement | None) -> str:
    if m is None:
        return "not run"
    return f"{m.per_file_us:,.1f}" if m.per_file_us < 1000 else f"{m.per_file_us:,.0f}"


def fmt_speedup(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}×"


def status(speedup: float | None, target: float) -> str:
    if speedup is None:
        return "pending"
    return "met" if speedup >= target else "not met"


def write_markdown(
    path: Path,
    header: dict,
    groups: dict[str, Group],
    libraries: list[str],
    default_target: float,
    chart: Path | None,
) -> None:
    others = [lib for lib in libraries if lib not in (BASELINE, CANDIDATE)]
    cols = ["group", *(f"{lib} µs/file" for lib in (BASELINE, CANDIDATE, *others)), "speed-up", "target"]
    out = [
        "# Benchmarks",
        "",
        f"Time per file, {CANDIDATE} against {BASELINE}: the mean of all timed rounds "
        "divided by the number of files a round reads. The speed-up is "
        f"{BASELINE} time / {CANDIDATE} time. Regenerate with `scripts/bench.sh` "
        "(see `benchmarks/README.md`).",
        "",
        "## Machine",
        "",
        *machine_lines(header, groups, libraries),
        "",
        "## Results",
        "",
        "| " + " | ".join(cols) + " |",
        "|" + "|".join(["---", *["---:"] * (len(cols) - 2), "---"]) + "|",
    ]
    for group in groups.values():
        target = group.target if group.target is not None else default_target
        speedup = group.speedup(BASELINE, CANDIDATE)
        cells = [
            f"`{group.name}`",
            *(fmt_us(group.results.get(lib)) for lib in (BASELINE, CANDIDATE, *others)),
            fmt_speedup(speedup),
            f"≥ {target:g}× ({status(speedup, target)})",
        ]
        out.append("| " + " | ".join(cells) + " |")

    described = [g for g in groups.values() if g.description]
    if described:
        out += ["", "Groups:", ""]
        out += [f"- `{g.name}`: {g.description}" for g in described]

    targets = {g.target if g.target is not None else default_target for g in groups.values()}
    target_text = (
        f"at least {targets.pop():g}× faster than {BASELINE} in every group"
        if len(targets) == 1
        else f"faster than {BASELINE} by the factor in each row's target column"
    )
    out += ["", "## Targets", "", f"{CANDIDATE} must be {target_text}."]
    missing = [g.name for g in groups.values() if CANDIDATE not in g.results]
    if missing:
        out.append(
            f"No {CANDIDATE} measurement yet for: " + ", ".join(f"`{m}`" for m in missing) + "."
        )
    if chart is not None:
        out += ["", f"![Time per file by group]({os.path.relpath(chart, path.parent)})"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- chart

COLOURS = {BASELINE: "#8c8c8c", CANDIDATE: "#1f77b4"}
OTHER_COLOURS = ["#ff7f0e", "#2ca02c", "#9467bd", "#d62728"]


def write_chart(
    path: Path, groups: dict[str, Group], libraries: list[str], default_target: float
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(groups)
    width = 0.8 / max(len(libraries), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.9 * len(names) + 2.5), 4.6), dpi=150)

    values = [m.per_file_us for g in groups.values() for m in g.results.values()]
    log = bool(values) and max(values) / max(min(values), 1e-9) > 50
    colours = iter(OTHER_COLOURS)
    for i, library in enumerate(libraries):
        xs, ys = [], []
        for j, group in enumerate(groups.values()):
            m = group.results.get(library)
            if m is not None:
                xs.append(j + (i - (len(libraries) - 1) / 2) * width)
                ys.append(m.per_file_us)
        colour = COLOURS.get(library) or next(colours, "#17becf")
        bars = ax.bar(xs, ys, width * 0.95, label=library, color=colour)
        ax.bar_label(bars, labels=[f"{y:,.1f}" if y < 1000 else f"{y:,.0f}" for y in ys],
                     padding=2, fontsize=8)

    top = max(values) if values else 1.0
    for j, group in enumerate(groups.values()):
        speedup = group.speedup(BASELINE, CANDIDATE)
        target = group.target if group.target is not None else default_target
        if speedup is None:
            text, colour = f"{CANDIDATE}\nnot run", "#7f7f7f"
        else:
            text = f"{speedup:.1f}× faster"
            colour = "#1f4e79" if speedup >= target else "#b22222"
        y = top * (2.6 if log else 1.13)
        ax.text(j, y, text, ha="center", va="bottom", fontsize=10, fontweight="bold",
                color=colour)

    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("µs per file (lower is better)")
    title = f"Time per file: {CANDIDATE} vs {BASELINE}"
    targets = {g.target if g.target is not None else default_target for g in groups.values()}
    if len(targets) == 1:
        title += f" (speed-up target ≥ {targets.pop():g}×)"
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
        ax.set_ylim(min(values) / 3, top * 8)
    else:
        ax.set_ylim(0, top * 1.3)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=len(libraries),
              fontsize=9, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, nargs="+", help="pytest-benchmark JSON file(s)")
    parser.add_argument("--out-dir", type=Path, default=REPO / "docs",
                        help="where to write benchmarks.md and the chart (default: docs/)")
    parser.add_argument("--target", type=float, default=DEFAULT_TARGET,
                        help=f"required speed-up per group (default {DEFAULT_TARGET:g})")
    args = parser.parse_args(argv)

    header, groups = load(args.results)
    if not groups:
        print("no benchmark with extra_info['library'] found", file=sys.stderr)
        return 1
    seen = {lib for g in groups.values() for lib in g.results}
    libraries = [BASELINE, CANDIDATE] + sorted(seen - {BASELINE, CANDIDATE})
    chart_libraries = [lib for lib in libraries if lib in seen]

    chart = args.out_dir / CHART_NAME
    write_chart(chart, groups, chart_libraries, args.target)
    markdown = args.out_dir / MARKDOWN_NAME
    write_markdown(markdown, header, groups, libraries, args.target, chart)

    for group in groups.values():
        parts = [f"{lib} {m.per_file_us:,.1f} µs/file" for lib, m in group.results.items()]
        speedup = group.speedup(BASELINE, CANDIDATE)
        if speedup is not None:
            parts.append(f"speed-up {speedup:.2f}×")
        print(f"{group.name}: " + ", ".join(parts))
    print(f"wrote {markdown} and {chart}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
