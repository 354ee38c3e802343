"""Turn pytest-benchmark JSON results into docs/benchmarks.md and bar charts.

Usage::

    python benchmarks/report.py benchmarks/results.json [more.json ...] [--out-dir docs]

Every benchmark is expected to record, in ``benchmark.extra_info``:

* ``library``: the library measured (``"pydicom"``, ``"turbodicom"``, ``"dicomsdl"``, ...);
* ``files``: how many files one round processes (times are divided by it);
* optionally ``megapixels``: the pixels one round decodes, in millions. A group whose
  measurements all carry it is shown in megapixels per second (megapixels / mean
  round time) instead of time per file;
* optionally ``version`` (the library's version), ``description`` (one line
  describing the group's workload), ``label`` (the row's name within its group
  when one library appears several times, e.g. ``"workers=2"``; default: the
  library), ``baseline`` (true on the measurement the group's ratios are taken
  against; default: the pydicom one), ``peer`` (true on the measurements of other
  libraries a target is stated against: when no measurement of a group is marked
  ``baseline``, the fastest of its peers is), ``target_speedup`` (the ratio this
  measurement must reach against the baseline; default ``--target`` for
  turbodicom against pydicom, none otherwise) and ``chart`` (the name of the
  chart the group is drawn in, ``docs/benchmarks_<chart>.png``; default
  ``"read"``).

Each benchmark group becomes a block of table rows (its baseline first, every
other measurement with its ratio baseline time / its time, and its target if it
has one) and a panel of the group's chart. Groups in time per file and groups in
megapixels per second get a table each.
"""

from __future__ import annotations

import argparse
import json
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
DEFAULT_CHART = "read"
PER_FILE = "µs/file"
MEGAPIXELS = "MP/s"
MEGABYTES = "MB/s"
RATE_UNITS = (MEGAPIXELS, MEGABYTES)
MARKDOWN_NAME = "benchmarks.md"


def chart_name(chart: str) -> str:
    return f"benchmarks_{chart}.png"


@dataclass
class Measurement:
    label: str
    library: str
    version: str | None
    per_file_us: float  # mean time per file, microseconds
    stddev_us: float  # standard deviation of a round, per file
    rounds: int
    files: int
    baseline: bool = False
    target: float | None = None
    megapixels: float | None = None  # work per round in millions of `amount_unit` (pixels or bytes)
    amount_unit: str = "MP"  # "MP" (megapixels) or "MB" (megabytes)
    peer: bool = False
    mean_s: float = 0.0  # mean time of a round, seconds
    stddev_s: float = 0.0

    @property
    def mp_per_s(self) -> float | None:
        if not self.megapixels or self.mean_s <= 0:
            return None
        return self.megapixels / self.mean_s

    @property
    def mp_per_s_spread(self) -> float:
        """The standard deviation of a round, as a spread of MP/s (first order)."""
        speed = self.mp_per_s
        return 0.0 if speed is None else speed * self.stddev_s / self.mean_s


@dataclass
class Group:
    name: str
    description: str | None = None
    chart: str = DEFAULT_CHART
    results: dict[str, Measurement] = field(default_factory=dict)

    @property
    def baseline(self) -> Measurement | None:
        marked = [m for m in self.results.values() if m.baseline]
        if marked:
            return marked[0]
        peers = [m for m in self.results.values() if m.peer]
        if peers:
            return min(peers, key=self.cost)
        return next((m for m in self.results.values() if m.library == BASELINE), None)

    @property
    def baseline_is_fastest_peer(self) -> bool:
        return not any(m.baseline for m in self.results.values()) and any(m.peer for m in self.results.values())

    @property
    def unit(self) -> str:
        """MP/s or MB/s when every measurement says how much a round processes, else µs/file."""
        if self.results and all(m.megapixels for m in self.results.values()):
            units = {m.amount_unit for m in self.results.values()}
            return MEGABYTES if units == {"MB"} else MEGAPIXELS
        return PER_FILE

    def cost(self, m: Measurement) -> float:
        """Time per unit of work (per megapixel or per file): what ratios compare."""
        if self.unit in RATE_UNITS:
            return m.mean_s / m.megapixels
        return m.per_file_us

    def value(self, m: Measurement) -> float:
        """What the table and chart show: MP/s, or µs per file."""
        return m.mp_per_s if self.unit in RATE_UNITS else m.per_file_us

    def spread(self, m: Measurement) -> float:
        return m.mp_per_s_spread if self.unit in RATE_UNITS else m.stddev_us

    def baseline_name(self) -> str:
        base = self.baseline
        if base is None:
            return BASELINE
        return f"{base.label} (the fastest of {', '.join(m.label for m in self.results.values() if m.peer)})" \
            if self.baseline_is_fastest_peer else base.label

    def ordered(self) -> list[Measurement]:
        """The baseline first, then the others in the order they were run."""
        base = self.baseline
        return ([base] if base else []) + [m for m in self.results.values() if m is not base]

    def ratio(self, m: Measurement) -> float | None:
        base = self.baseline
        if base is None or m is base or self.cost(m) <= 0:
            return None
        return self.cost(base) / self.cost(m)

    def target(self, m: Measurement, default_target: float) -> float | None:
        if m is self.baseline:
            return None
        if m.target is not None:
            return m.target
        base = self.baseline
        if m.library == CANDIDATE and base is not None and base.library == BASELINE:
            return default_target
        return None


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
            label = extra.get("label") or library
            name = bench.get("group") or bench.get("name")
            files = int(extra.get("files", 1)) or 1
            megapixels = extra.get("megapixels") or extra.get("megabytes")
            amount_unit = "MB" if extra.get("megabytes") and not extra.get("megapixels") else "MP"
            stats = bench["stats"]
            group = groups.setdefault(name, Group(name))
            group.description = group.description or extra.get("description")
            group.chart = extra.get("chart") or group.chart
            if label in group.results:
                print(f"group {name!r}: several {label} results, keeping the last", file=sys.stderr)
            group.results[label] = Measurement(
                label=label,
                library=library,
                version=extra.get("version"),
                per_file_us=stats["mean"] / files * 1e6,
                stddev_us=stats["stddev"] / files * 1e6,
                rounds=int(stats["rounds"]),
                files=files,
                baseline=bool(extra.get("baseline")),
                target=float(extra["target_speedup"]) if extra.get("target_speedup") is not None else None,
                megapixels=float(megapixels) if megapixels else None,
                amount_unit=amount_unit,
                peer=bool(extra.get("peer")),
                mean_s=float(stats["mean"]),
                stddev_s=float(stats["stddev"]),
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


def library_versions(groups: dict[str, Group]) -> dict[str, str]:
    libraries = [BASELINE, CANDIDATE] + sorted(
        {m.library for g in groups.values() for m in g.results.values()} - {BASELINE, CANDIDATE})
    versions: dict[str, str] = {}
    for library in libraries:
        found = next((m.version for g in groups.values() for m in g.results.values()
                      if m.library == library and m.version and m.version != "unknown"), None)
        found = found or installed_version(library)
        if found:
            versions[library] = found
    numpy_version = installed_version("numpy")
    if numpy_version and "numpy" not in versions:
        versions["numpy"] = numpy_version
    return versions


def machine_lines(header: dict, groups: dict[str, Group]) -> list[str]:
    info = header.get("machine_info", {})
    commit = header.get("commit_info", {})
    python = " ".join(
        x for x in (info.get("python_implementation"), info.get("python_version")) if x
    ) or f"{platform.python_implementation()} {platform.python_version()}"
    system = " ".join(x for x in (info.get("system"), info.get("release")) if x) or platform.platform()
    versions = library_versions(groups)

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


def fmt_us(value: float) -> str:
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×" if value < 10 else f"{value:.1f}×"


def status(ratio: float | None, target: float) -> str:
    if ratio is None:
        return "pending"
    return "met" if ratio >= target else "not met"


def fmt_value(value: float) -> str:
    return fmt_us(value)


def chart_units(chart: Path, groups: dict[str, Group]) -> set[str]:
    name = chart.stem.replace("benchmarks_", "")
    return {g.unit for g in groups.values() if g.chart == name}


def chart_title(units: set[str]) -> str:
    if units == {MEGAPIXELS}:
        return "Megapixels per second"
    if units == {MEGABYTES}:
        return "Megabytes per second"
    if units & set(RATE_UNITS):
        return "Time per file or throughput"
    return "Time per file"


def write_markdown(path: Path, header: dict, groups: dict[str, Group], default_target: float,
                   charts: list[Path]) -> None:
    units = [u for u in (PER_FILE, MEGAPIXELS, MEGABYTES) if any(g.unit == u for g in groups.values())]
    intro = [
        "Time per file: the mean of all timed rounds divided by the number of files a round "
        "reads. Each group is compared with its baseline, named in its first row (pydicom unless "
        "the group says otherwise, e.g. `workers=1` for the `*-workers` groups): the ratio is "
        "baseline time / time, so higher is faster; ± is the standard deviation of a round, per "
        "file."
    ]
    if MEGAPIXELS in units:
        intro.append(
            "The pixel decoding groups are in megapixels per second (MP/s): the pixels a round "
            "decodes divided by the mean round time, so higher is faster, with the same ratio "
            "(baseline time / time for the same pixels) and ± the standard deviation of a round "
            "expressed in MP/s. A baseline marked \"fastest peer\" is the fastest of the other "
            "libraries measured in that group.")
    if MEGABYTES in units:
        intro.append(
            "The network groups are in megabytes per second (MB/s): the bytes of the files one "
            "round transfers divided by the mean round time, with the same ratios.")
    intro.append("Regenerate with `scripts/bench.sh` (see `benchmarks/README.md`).")
    out = [
        "# Benchmarks",
        "",
        " ".join(intro),
        "",
        "## Machine",
        "",
        *machine_lines(header, groups),
        "",
        "## Results",
    ]
    for unit in units:
        out += [
            "",
            f"| group | implementation | {unit} | ± | ratio to baseline | target |",
            "|---|---|---:|---:|---:|---|",
        ]
        for group in groups.values():
            if group.unit != unit:
                continue
            for i, m in enumerate(group.ordered()):
                target = group.target(m, default_target)
                ratio = group.ratio(m)
                if m is group.baseline:
                    versus = "baseline (fastest peer)" if group.baseline_is_fastest_peer else "baseline"
                else:
                    versus = fmt_ratio(ratio)
                cells = [
                    f"`{group.name}`" if i == 0 else "",
                    m.label,
                    fmt_value(group.value(m)),
                    fmt_value(group.spread(m)),
                    versus,
                    "" if target is None else f"≥ {target:g}× ({status(ratio, target)})",
                ]
                out.append("| " + " | ".join(cells) + " |")
            if group.baseline is None:
                out.append("| | _no baseline measured_ | | | | |")

    transfers = [g for g in groups.values() if g.unit == MEGABYTES]
    if transfers:
        out += ["", "Files per second in the transfer groups:", ""]
        for group in transfers:
            rates = ", ".join(f"{m.label} {m.files / m.mean_s:,.0f}" for m in group.ordered() if m.mean_s > 0)
            out.append(f"- `{group.name}`: {rates}")

    described = [g for g in groups.values() if g.description]
    if described:
        out += ["", "Groups:", ""]
        out += [f"- `{g.name}`: {g.description}" for g in described]

    out += ["", "## Targets", ""]
    for group in groups.values():
        for m in group.ordered():
            target = group.target(m, default_target)
            if target is None:
                continue
            ratio = group.ratio(m)
            result = "not measured" if ratio is None else f"{fmt_ratio(ratio)}, {status(ratio, target)}"
            base_label = group.baseline_name()
            relation = f"faster than {base_label}" if target > 1 else f"the speed of {base_label}"
            out.append(f"- `{group.name}`: {m.label} at least {target:g}× {relation} ({result})")
    # Observations that one run cannot show (spread between runs, where time goes).
    notes = Path(__file__).with_name("NOTES.md")
    if notes.exists():
        out += ["", "## Notes", "", notes.read_text(encoding="utf-8").strip()]
    for chart in charts:
        title = chart.stem.replace("benchmarks_", "")
        alt = chart_title(chart_units(chart, groups))
        out += ["", f"![{alt}, {title} benchmarks]({os.path.relpath(chart, path.parent)})"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- chart

COLOURS = {BASELINE: "#8c8c8c", CANDIDATE: "#1f77b4"}
BASELINE_COLOUR = "#8c8c8c"
OTHER_COLOURS = ["#ff7f0e", "#2ca02c", "#9467bd", "#d62728"]
ROW_WIDTH = 12  # bars per row of panels in a chart


def _colour(group: Group, m: Measurement, others: dict[str, str]) -> str:
    if m is group.baseline:
        return BASELINE_COLOUR
    if m.library in COLOURS and COLOURS[m.library] != BASELINE_COLOUR:  # grey only for baselines
        return COLOURS[m.library]
    if m.library not in others:
        others[m.library] = OTHER_COLOURS[len(others) % len(OTHER_COLOURS)]
    return others[m.library]


def write_chart(path: Path, groups: list[Group], default_target: float) -> None:
    """One panel per group: a bar per measurement, its ratio to the baseline above it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Panels side by side, as wide as their number of bars, in rows of at most ROW_WIDTH bars.
    widths = [max(len(g.results), 2) for g in groups]
    rows: list[list[int]] = [[]]
    for i, width in enumerate(widths):
        if rows[-1] and sum(widths[j] for j in rows[-1]) + width > ROW_WIDTH:
            rows.append([])
        rows[-1].append(i)
    columns = max(sum(widths[j] for j in row) for row in rows)
    fig = plt.figure(figsize=(max(6.0, 1.5 * columns + 1.5), 4.6 * len(rows)), dpi=150)
    grid = fig.add_gridspec(len(rows), columns)
    axes = []
    first_in_row = set()
    for r, row in enumerate(rows):
        column = 0
        first_in_row.add(row[0])
        for i in row:
            axes.append(fig.add_subplot(grid[r, column:column + widths[i]]))
            column += widths[i]
    others: dict[str, str] = {}
    previous_unit = None
    for index, (ax, group) in enumerate(zip(axes, groups)):
        measured = group.ordered()
        ys = [group.value(m) for m in measured]
        log = max(ys) / max(min(ys), 1e-9) > 50
        bars = ax.bar(range(len(measured)), ys, 0.7, color=[_colour(group, m, others) for m in measured])
        ax.bar_label(bars, labels=[fmt_value(y) for y in ys], padding=2, fontsize=8)
        for x, m in enumerate(measured):
            ratio = group.ratio(m)
            if ratio is None:
                continue
            target = group.target(m, default_target)
            colour = "#333333" if target is None else ("#1f4e79" if ratio >= target else "#b22222")
            text = f"{fmt_ratio(ratio)}" + ("" if target is None else f"\n(target {target:g}×)")
            y = ys[x] * (3.2 if log else 1.0) + (0 if log else max(ys) * 0.09)
            ax.text(x, y, text, ha="center", va="bottom", fontsize=9, fontweight="bold", color=colour)
        ax.set_xticks(range(len(measured)), [m.label for m in measured], fontsize=9,
                      rotation=20 if max(len(m.label) for m in measured) > 12 else 0,
                      ha="right" if max(len(m.label) for m in measured) > 12 else "center")
        ax.set_title(group.name, fontsize=11)
        if log:
            ax.set_yscale("log")
            ax.set_ylim(min(ys) / 3, max(ys) * 15)
        else:
            ax.set_ylim(0, max(ys) * 1.45)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
        if group.unit != previous_unit or index in first_in_row:
            ax.set_ylabel(f"{group.unit} (higher is better)" if group.unit in RATE_UNITS
                          else "µs per file (lower is better)")
            previous_unit = group.unit
    units = {g.unit for g in groups}
    fig.suptitle(f"{chart_title(units)}, and ratio to each group's baseline (grey)", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, nargs="+", help="pytest-benchmark JSON file(s)")
    parser.add_argument("--out-dir", type=Path, default=REPO / "docs",
                        help="where to write benchmarks.md and the charts (default: docs/)")
    parser.add_argument("--target", type=float, default=DEFAULT_TARGET,
                        help=f"speed-up turbodicom must reach against pydicom in a group whose "
                             f"benchmarks set no target (default {DEFAULT_TARGET:g})")
    args = parser.parse_args(argv)

    header, groups = load(args.results)
    if not groups:
        print("no benchmark with extra_info['library'] found", file=sys.stderr)
        return 1

    by_chart: dict[str, list[Group]] = {}
    for group in groups.values():
        by_chart.setdefault(group.chart, []).append(group)
    charts = []
    for chart, chart_groups in by_chart.items():
        path = args.out_dir / chart_name(chart)
        write_chart(path, chart_groups, args.target)
        charts.append(path)
    markdown = args.out_dir / MARKDOWN_NAME
    write_markdown(markdown, header, groups, args.target, charts)

    for group in groups.values():
        parts = []
        for m in group.ordered():
            ratio = group.ratio(m)
            parts.append(f"{m.label} {group.value(m):,.1f} {group.unit}"
                         + ("" if ratio is None else f" ({ratio:.2f}×)"))
        print(f"{group.name}: " + ", ".join(parts))
    print(f"wrote {markdown} and " + ", ".join(str(c) for c in charts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
