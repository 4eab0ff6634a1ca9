"""The batch's progress for a person watching: one line, rewritten in place on a terminal; on
anything else (a log file, CI) a plain line now and then, so the log stays readable."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from wan26.batch.state import Tally

LOG_EVERY_S = 10.0  # between two plain progress lines when stderr is not a terminal


def progress_text(tally: Tally) -> str:
    """ "rows 7/12 done (1 failed, 2 running) · 14 images · $0.210 spent · 3.2 rows/min · ETA 1m40s"."""
    others = {"failed": tally.failed, "unknown": tally.unknown, "running": tally.running}
    aside = ", ".join(f"{count} {name}" for name, count in others.items() if count)
    parts = [f"rows {tally.done}/{tally.total} done" + (f" ({aside})" if aside else "")]
    parts += [f"{tally.images} images", f"${tally.spent_usd:.3f} spent"]
    if tally.committed_usd > tally.spent_usd:
        parts[-1] += f" (+${tally.committed_usd - tally.spent_usd:.3f} under way)"
    if tally.rows_per_min is not None:
        parts.append(f"{tally.rows_per_min:.1f} rows/min")
    if tally.eta_s is not None and tally.eta_s > 0:
        parts.append(f"ETA {duration(tally.eta_s)}")
    return " · ".join(parts)


def duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class ProgressLine:
    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool | None = None,
        every: float = LOG_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream, self.every, self.clock = stream, every, clock
        self.tty = stream.isatty() if tty is None else tty
        self._shown_at: float | None = None
        self._live = False  # a line is on screen without its newline

    def show(self, tally: Tally, force: bool = False) -> None:
        """The latest state: at once on a terminal; elsewhere only every `every` s (or when `force`)."""
        text = f"wan26: {progress_text(tally)}"
        if self.tty:
            self.stream.write(f"\r{text}\x1b[K")  # ESC[K clears what a longer line left behind
            self._live = True
        elif force or self._shown_at is None or self.clock() - self._shown_at >= self.every:
            self.stream.write(text + "\n")
            self._shown_at = self.clock()
        self.stream.flush()

    def say(self, message: str) -> None:
        """A line of its own (a failed row, a slowdown), above the progress line."""
        self._end_line()
        self.stream.write(f"wan26: {message}\n")
        self.stream.flush()

    def close(self) -> None:
        """Leave the last progress line on screen, ended."""
        if self._live:
            self.stream.write("\n")
            self._live = False
        self.stream.flush()

    def _end_line(self) -> None:
        if self._live:
            self.stream.write("\r\x1b[K")
            self._live = False
