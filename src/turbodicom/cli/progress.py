"""A one-line progress bar for long loops, with rate and ETA, and no dependencies.

It draws on stderr only when stderr is a terminal: piped or redirected output,
CI logs and tests see nothing. The line is redrawn at most every
``min_interval`` seconds (so loops shorter than that never show it) and erased
when the loop ends, leaving the command's own output untouched::

    from turbodicom.cli.progress import Progress, track

    for path in track(paths, label="reading", unit="file"):
        ...

    with Progress(total=n_frames, label="decoding", unit="frame") as bar:
        for batch in batches:
            ...
            bar.update(len(batch))

A line looks like ``reading [#########-----------]  450/1000  45%  1.2k file/s  ETA 0:04``;
without a total it shows the count and the rate only.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, TypeVar

__all__ = ["Progress", "format_line", "track"]

T = TypeVar("T")


def _format_count(value: float) -> str:
    """``950``, ``1.2k``, ``3.4M``: short enough for a rate or a count."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _format_duration(seconds: float) -> str:
    """``0:07``, ``12:30``, ``1:02:03``."""
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_line(count: int, total: int | None, elapsed: float, label: str = "", unit: str = "it",
                width: int = 80) -> str:
    """The text of the progress line after `count` of `total` steps in `elapsed` seconds.

    Fits in `width` characters; the bar takes whatever room the rest leaves
    (between 10 and 30 characters), and is dropped when `total` is unknown.
    """
    rate = count / elapsed if elapsed > 0 else 0.0
    rate_text = f"{_format_count(rate)} {unit}/s" if rate else f"- {unit}/s"
    prefix = f"{label} " if label else ""
    if not total:
        return f"{prefix}{count} {unit}  {rate_text}"[:width]
    fraction = min(count / total, 1.0)
    if count >= total:
        eta = "0:00"
    elif rate:
        eta = _format_duration((total - count) / rate)
    else:
        eta = "-:--"
    digits = len(str(total))
    tail = f" {count:>{digits}}/{total}  {fraction:4.0%}  {rate_text}  ETA {eta}"
    room = width - len(prefix) - len(tail) - 2
    if room < 10:
        return f"{prefix}{tail.lstrip()}"[:width]
    bar_width = min(room, 30)
    filled = int(fraction * bar_width)
    return f"{prefix}[{'#' * filled}{'-' * (bar_width - filled)}]{tail}"


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Progress:
    """Progress of a loop of `total` steps (``None``: unknown), drawn on `stream`.

    `stream` defaults to ``sys.stderr`` at construction. `enabled` forces drawing
    on or off; by default it is on only when `stream` is a terminal. `update`
    costs a clock read when nothing is drawn, so call it per batch in loops
    that are themselves timed.
    """

    def __init__(self, total: int | None = None, label: str = "", *, unit: str = "it",
                 stream: IO[str] | None = None, enabled: bool | None = None,
                 min_interval: float = 0.1) -> None:
        self.total = total
        self.label = label
        self.unit = unit
        self.count = 0
        self.stream = sys.stderr if stream is None else stream
        self.enabled = _is_terminal(self.stream) if enabled is None else enabled
        self.min_interval = min_interval
        self._start = time.monotonic()
        self._last_draw = self._start
        self._drawn_width = 0

    def update(self, steps: int = 1) -> None:
        """Record `steps` more steps done, and redraw if it is time to."""
        self.count += steps
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_draw >= self.min_interval:
            self._draw(now)

    def update_to(self, count: int) -> None:
        """Record that `count` steps are done in all (for work counted elsewhere)."""
        self.update(count - self.count)

    def _draw(self, now: float) -> None:
        self._last_draw = now
        width = max(shutil.get_terminal_size((80, 24)).columns - 1, 20)
        line = format_line(self.count, self.total, now - self._start, self.label, self.unit, width)
        padding = " " * max(self._drawn_width - len(line), 0)
        self.stream.write(f"\r{line}{padding}")
        self.stream.flush()
        self._drawn_width = len(line)

    def close(self) -> None:
        """Erase the line, if one was drawn."""
        if self.enabled and self._drawn_width:
            self.stream.write("\r" + " " * self._drawn_width + "\r")
            self.stream.flush()
            self._drawn_width = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def track(iterable: Iterable[T], total: int | None = None, label: str = "", *, unit: str = "it",
          stream: IO[str] | None = None, enabled: bool | None = None) -> Iterator[T]:
    """Yield from `iterable`, showing a :class:`Progress` line while it runs.

    `total` defaults to ``len(iterable)`` when it has one.
    """
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = None
    with Progress(total, label, unit=unit, stream=stream, enabled=enabled) as bar:
        for value in iterable:
            yield value
            bar.update()
