"""How late a finished task is found, and how many polls that takes: ours against the official SDK.

A schedule's cost does not depend on the machine: for every task length from 10 s to 120 s (the
range the docs give for these jobs, in steps of 10 ms) it walks the poll times and records the
delay from the task's end to the poll that sees it, and the number of polls made. Baseline: the
official DashScope SDK's `wait()` (1 s, doubling every 3rd poll, at most 5 s). Run:

    python tests/benchmarks/bench_polling.py
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere: wan26 from the checkout

from wan26 import PollPolicy  # noqa: E402
from wan26._poll import intervals  # noqa: E402

Schedule = Callable[[], Iterator[float]]
TASK_LENGTHS_S = [10 + step / 100 for step in range(110 * 100 + 1)]


def official_sdk() -> Iterator[float]:
    """dashscope SDK 1.x `wait()`: sleep 1 s, doubling every 3rd poll, capped at 5 s."""
    interval, polls = 1.0, 0
    while True:
        yield interval
        polls += 1
        if polls % 3 == 0:
            interval = min(interval * 2, 5.0)


def ours() -> Iterator[float]:
    return intervals(PollPolicy())


OFFICIAL_SDK: Schedule = official_sdk
OURS: Schedule = ours


@dataclass(frozen=True)
class Figures:
    mean_delay_s: float
    max_delay_s: float
    mean_polls: float


def schedule_figures(schedule: Schedule) -> Figures:
    found = [_found(schedule, length) for length in TASK_LENGTHS_S]
    delays = [delay for delay, _ in found]
    return Figures(statistics.mean(delays), max(delays), statistics.mean(polls for _, polls in found))


def _found(schedule: Schedule, length: float) -> tuple[float, int]:
    """(how long after `length` the task is seen finished, polls made by then)."""
    elapsed, polls = 0.0, 0
    for interval in schedule():
        elapsed, polls = elapsed + interval, polls + 1
        if elapsed >= length:
            return elapsed - length, polls
    raise AssertionError("a schedule never ends")


def main() -> None:
    ours_figures, sdk = schedule_figures(OURS), schedule_figures(OFFICIAL_SDK)
    print("tasks of 10-120 s: ours vs the official SDK's wait() (ratio = ours / SDK)")
    for label, name in (("mean delay", "mean_delay_s"), ("max delay", "max_delay_s"), ("mean polls", "mean_polls")):
        mine, theirs = getattr(ours_figures, name), getattr(sdk, name)
        print(f"  {label:10}  ours {mine:6.2f}   SDK {theirs:6.2f}   ratio {mine / theirs:.2f}")


if __name__ == "__main__":
    main()
