"""Interleave mode: how much later text that follows an image reaches the caller when image files are slow.

tests/benchmarks/fast_fake.py (its own process, on 127.0.0.1) streams a script: text, image URL,
then 0.1 s later the next text, and so on (IMAGES images). One `wan26.AsyncClient` runs
`ImageRequest(Mode.INTERLEAVE, …)` and reads `client.events(request)`; for each `TextDelta` that comes
after an image it records the time since the run started. Runs alternate between image files served
after FILE_DELAY_S (ours under test) and served at once (the baseline, same run, same client); the
figure is, per text-after-image, the median over rounds of (slow-file arrival − instant-file arrival):
the delay slow downloads add to text. Goal: within 50 ms. Also checked: the `TextDelta` /
`ImageOffered` events and the result's segments come in the order the fake sent text and images. Run:

    python tests/benchmarks/bench_interleave.py [--rounds 10]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere: wan26 from the checkout

from tests.benchmarks.common import BENCH_KEY, bench_arguments, machine, median, order_for, run_main  # noqa: E402
from tests.benchmarks.fast_fake import FakeControl, running_fake  # noqa: E402
from wan26 import AsyncClient, Finished, ImageOffered, ImageRequest, Mode, TextDelta  # noqa: E402
from wan26.types import ImageSegment, TextSegment  # noqa: E402

DEFAULT_ROUNDS = 10
IMAGES = 3
TEXT_GAP_S = 0.1  # the fake sends the text after an image this long after the image's URL
FILE_DELAY_S = 0.5
AFTER_IMAGE = "after image "  # how each text that follows an image begins
GOAL_MS = 50.0
CONDITIONS = {"instant files (baseline)": 0.0, f"files after {FILE_DELAY_S:g} s": FILE_DELAY_S}


def script() -> list[dict[str, Any]]:
    """text 0, image 1, (0.1 s) text 1, image 2, (0.1 s) text 2, …: every text after the first follows an image."""
    steps: list[dict[str, Any]] = [{"text": "intro. "}]
    for number in range(1, IMAGES + 1):
        steps += [{"image": True}, {"sleep": TEXT_GAP_S}, {"text": f"{AFTER_IMAGE}{number}. "}]
    return steps


def sent_order() -> list[str]:
    return ["text" if "text" in step else "image" for step in script() if "sleep" not in step]


@dataclass
class Run:
    after_image_s: list[float]  # arrival of each text that follows an image, seconds since the run started
    event_order: list[str]  # "text" / "image" as TextDelta / ImageOffered came
    segment_order: list[str]  # the result's segments


async def one_run(client: AsyncClient) -> Run:
    """One interleave run read through `client.events`: when each text after an image came, and the orders."""
    request = ImageRequest(Mode.INTERLEAVE, "a three-step recipe", max_images=IMAGES)
    started = time.perf_counter()
    arrivals: list[float] = []
    order: list[str] = []
    segments: list[str] = []
    async for event in client.events(request):
        if isinstance(event, TextDelta):
            if event.text.startswith(AFTER_IMAGE):  # known by its words, whatever the event order
                arrivals.append(time.perf_counter() - started)
            order.append("text")
        elif isinstance(event, ImageOffered):
            order.append("image")
        elif isinstance(event, Finished):
            segments = [_segment_kind(segment) for segment in event.result.segments]
    return Run(arrivals, order, segments)


def _segment_kind(segment: TextSegment | ImageSegment) -> str:
    return "text" if isinstance(segment, TextSegment) else "image"


async def measure(fake: FakeControl, folder: Path, rounds: int) -> dict[str, list[Run]]:
    runs: dict[str, list[Run]] = {name: [] for name in CONDITIONS}
    client = AsyncClient(provider="dashscope", api_key=BENCH_KEY, base_url=fake.base_url, output_dir=folder)
    async with client:
        for delay in CONDITIONS.values():  # warm-up, not counted
            await asyncio.to_thread(fake.configure, file_delay_s=delay)
            await one_run(client)
        for round_index in range(rounds):
            for name in order_for(round_index, list(CONDITIONS)):
                await asyncio.to_thread(fake.configure, file_delay_s=CONDITIONS[name])
                runs[name].append(await one_run(client))
    return runs


def added_delays_ms(runs: dict[str, list[Run]]) -> list[list[float]]:
    """Per text-after-image: its (slow − instant) arrival difference in each round, in ms."""
    baseline, slow = (runs[name] for name in CONDITIONS)
    return [
        [(s.after_image_s[i] - b.after_image_s[i]) * 1000 for b, s in zip(baseline, slow, strict=True)]
        for i in range(IMAGES)
    ]


def _ms_list(values: list[float]) -> str:
    return ", ".join(f"{value:6.1f}" for value in values)


def report_arrivals(runs: dict[str, list[Run]]) -> None:
    sent = [(i + 1) * TEXT_GAP_S * 1000 for i in range(IMAGES)]
    print(f"  text after image 1..{IMAGES}, median ms since the run started (sent at {_ms_list(sent)} + the start):")
    for name in CONDITIONS:
        arrivals = [median([run.after_image_s[i] for run in runs[name]]) * 1000 for i in range(IMAGES)]
        print(f"    {name:26} {_ms_list(arrivals)}")


def report_added_delay(runs: dict[str, list[Run]]) -> None:
    delays = added_delays_ms(runs)
    per_text = [median(diffs) for diffs in delays]
    overall = median([d for diffs in delays for d in diffs])
    print(f"  added delay of text after image, per text (median of paired rounds): {_ms_list(per_text)} ms")
    print(f"    median {overall:.1f} ms, worst text {max(per_text):.1f} ms   (goal: within {GOAL_MS:g} ms)")


def report_order(runs: dict[str, list[Run]]) -> None:
    every_run = [run for name in CONDITIONS for run in runs[name]]
    events, segments = _verdict([r.event_order for r in every_run]), _verdict([r.segment_order for r in every_run])
    print(f"  order as sent ({'/'.join(sent_order())}), over {len(every_run)} runs:")
    print(f"    TextDelta/ImageOffered events: {events}; result.segments: {segments}")


def _verdict(orders: list[list[str]]) -> str:
    expected = sent_order()
    wrong = [order for order in orders if order != expected]
    return "yes" if not wrong else f"NO in {len(wrong)} runs (e.g. {'/'.join(wrong[0])})"


def report_fake(before: dict[str, Any], after: dict[str, Any]) -> None:
    requests = after["requests"] - before["requests"]
    cpu_ms = (after["cpu_s"] - before["cpu_s"]) * 1000 / requests
    handling_ms = (after["handling_s"] - before["handling_s"]) * 1000 / requests
    print(f"  fake (own process): {requests} requests, per request {cpu_ms:.3f} ms CPU, {handling_ms:.3f} ms handling")


def main() -> None:
    """Start the fake, measure both conditions alternately, print the figures."""
    arguments = bench_arguments(__doc__, DEFAULT_ROUNDS, "runs per condition")
    print(f"bench_interleave: text after an image, files served after {FILE_DELAY_S:g} s vs at once")
    print(f"  ({IMAGES} images, text {TEXT_GAP_S:g} s after each, {arguments.rounds} rounds)")
    print(machine())
    with running_fake() as fake, tempfile.TemporaryDirectory(prefix="wan26-bench-interleave-") as folder:
        fake.configure(script=script())
        before = fake.stats()
        runs = asyncio.run(measure(fake, Path(folder), arguments.rounds))
        after = fake.stats()
    report_arrivals(runs)
    report_added_delay(runs)
    report_order(runs)
    report_fake(before, after)


if __name__ == "__main__":
    run_main(main)
