"""Wall time of one text-to-image call through `wan26.AsyncClient`, against raw httpx doing the same work.

Both talk to tests/benchmarks/fast_fake.py (its own process, on 127.0.0.1; answer latency 0, a real
24 KB PNG), from the same event loop in this process:

- ours: one `wan26.AsyncClient(provider="dashscope", ...)` reused for every call,
  `await client.generate(ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"))`;
- baseline: one raw `httpx.AsyncClient` reused for every call: the same POST, the GET of the image
  URL it answers, and a durable write of the bytes (temp file, fsync, rename) in a worker thread;
- for context, "same files": the baseline writing what a run of ours writes, in the same worker
  thread, all within the call: a new folder and the record's empty file, the image durably in the
  folder, and a run record as big as ours (atomic, not fsynced). On this project's machine every
  new file or folder costs 0.02 ms to over 1 ms of kernel time, more after many files were deleted
  (wan26/_spare_folders.py says why); this side shows what making three where the baseline makes
  one costs, apart from our code.

After a run has written its record, ours makes the next run's folder and run.json's file in a
background thread (`wan26/_spare_folders.py`); each call starts once that is done, outside the
timing, as a user's next run comes seconds later. What making them costs is printed beside.

Calls rotate among the sides (interleaved), and each starts with what the calls before it wrote
on disk (`os.sync()`, outside the timing). Without that, the names a call creates after its
fsync (our run.json) are written out by the next call's fsync, whichever side makes it: on this
project's ext4 machine that moved 0.2-0.5 ms a call between the sides, by the order they ran in.
A user's runs come seconds apart, and the kernel writes changes out in the background within
seconds (ext4's `commit=` mount option; the dirty-page writeback), so each run meets them written, as here.

Printed: the median wall time per call and the ratio ours / baseline (goal ≤ 1.2×), that ratio in
each fifth of the run (how far it moved while the run lasted), the same against "same files", the
median client CPU per call, what one durable write costs here, and the fake's own CPU per request
(to show it is not the bottleneck). Run:

    python tests/benchmarks/bench_call.py [--rounds 300]
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere: wan26 from the checkout

from tests.benchmarks.common import (  # noqa: E402
    BENCH_KEY,
    bench_arguments,
    interleaved_async,
    machine,
    median,
    ratio_line,
    run_main,
)
from tests.benchmarks.fast_fake import FakeControl, running_fake  # noqa: E402
from wan26 import AsyncClient, ImageRequest, Mode  # noqa: E402
from wan26.storage import SPARES, made_spare  # noqa: E402

DEFAULT_ROUNDS = 300
WARMUP_CALLS = 10
GOAL = 1.2
SPREAD_PARTS = 5  # the machine's pace drifts within a run too: shown as the ratio in each part


@dataclass(frozen=True)
class Call:
    wall_s: float
    cpu_s: float  # this process's CPU time during the call (the event loop and the write thread)


async def timed(work: Callable[[], Awaitable[object]]) -> Call:
    SPARES.settled()  # ours: the folder made ahead for this call is ready, as between a user's runs
    os.sync()  # see the module's docstring: no call pays for the one before it
    wall, cpu = time.perf_counter(), time.process_time()
    await work()
    return Call(time.perf_counter() - wall, time.process_time() - cpu)


def write_durably(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, atomic rename: the baseline's idea of a safe save."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


class Baseline:
    """Raw httpx: POST the DashScope body, GET the image it names, save it durably."""

    def __init__(self, fake: FakeControl, folder: Path) -> None:
        self.url, self.folder, self.count = fake.generation_url, folder, 0
        self.client = httpx.AsyncClient(headers={"Authorization": f"Bearer {BENCH_KEY}"})

    async def call(self) -> Path:
        """One run: the saved file's path."""
        body = {
            "model": "wan2.6-t2i",
            "input": {"messages": [{"role": "user", "content": [{"text": "a fox"}]}]},
            "parameters": {"watermark": False, "seed": random.randrange(2**31), "n": 1, "prompt_extend": True},
        }
        answer = await self.client.post(self.url, json=body)
        answer.raise_for_status()
        image = await self.client.get(answer.json()["output"]["choices"][0]["message"]["content"][0]["image"])
        image.raise_for_status()
        self.count += 1
        return await asyncio.to_thread(self.save, image.content)

    def save(self, data: bytes) -> Path:
        path = self.folder / f"{self.count:06d}.png"
        write_durably(path, data)
        return path


class SameFiles(Baseline):
    """The baseline writing what a run of ours writes: a folder, the image (durably), a run record."""

    record = b"{}"  # replaced by one of our run records once there is one, for the same size

    def save(self, data: bytes) -> Path:
        """In the order a run writes them (wan26/storage.py): the folder and the record's empty file,
        then the image, fsynced (one journal commit carries all three), then the record."""
        run = self.folder / f"run-{self.count:06d}"
        run.mkdir()
        record_handle, record_temporary = tempfile.mkstemp(dir=run, prefix=".partial-")
        os.close(record_handle)  # made empty, and opened again to be written, as a run does
        write_durably(run / "01.png", data)
        with open(record_temporary, "r+b") as file:
            file.write(self.record)
        os.replace(record_temporary, run / "run.json")
        return run / "01.png"


async def measure(fake: FakeControl, folder: Path, rounds: int) -> dict[str, list[Call]]:
    """Warm every side up, then time `rounds` calls of each, interleaved."""
    (folder / "baseline").mkdir()
    (folder / "same-files").mkdir()
    baseline, same_files = Baseline(fake, folder / "baseline"), SameFiles(fake, folder / "same-files")
    request = ImageRequest(Mode.TEXT_TO_IMAGE, "a fox")
    ours_folder = folder / "ours"
    async with AsyncClient(
        provider="dashscope", api_key=BENCH_KEY, base_url=fake.base_url, output_dir=ours_folder
    ) as ours:
        sides = {
            "baseline": lambda: timed(baseline.call),
            "same files": lambda: timed(same_files.call),
            "ours": lambda: timed(lambda: ours.generate(request)),
        }
        await interleaved_async(WARMUP_CALLS, sides)
        same_files.record = next(ours_folder.glob("*/run.json")).read_bytes()
        try:
            return await interleaved_async(rounds, sides)
        finally:
            await baseline.client.aclose()
            await same_files.client.aclose()


def durable_write_ms(folder: Path, data: bytes, times: int = 50) -> float:
    """Median milliseconds of one durable write of `data` on this file system, alone."""
    samples = []
    for index in range(times):
        os.sync()
        started = time.perf_counter()
        write_durably(folder / f"alone-{index}.png", data)
        samples.append(time.perf_counter() - started)
    return median(samples) * 1000


def spare_ms(folder: Path, times: int = 50) -> float:
    """Median milliseconds of making one run's folder ahead (a folder and an empty file), alone."""
    (spares := folder / "spares").mkdir()
    samples = []
    for _ in range(times):
        os.sync()
        started = time.perf_counter()
        made_spare(str(spares))
        samples.append(time.perf_counter() - started)
    return median(samples) * 1000


def files_per_run(folder: Path) -> str:
    run = next(path for path in sorted((folder / "ours").iterdir()) if path.is_dir() and path.name[0] != ".")
    return ", ".join(sorted(path.name for path in run.iterdir()))


def median_ms(calls: list[Call], figure: str) -> float:
    return median([getattr(call, figure) for call in calls]) * 1000


def spread(ours: list[Call], base: list[Call], parts: int = SPREAD_PARTS) -> str:
    """The wall-time ratio in each of `parts` consecutive parts of the run (fewer when there are fewer
    calls): how far it moved while the run lasted."""
    bounds = [len(ours) * part // parts for part in range(parts + 1)]
    pieces = [(start, end) for start, end in zip(bounds, bounds[1:], strict=False) if end > start]
    ratios = [median_ms(ours[start:end], "wall_s") / median_ms(base[start:end], "wall_s") for start, end in pieces]
    return f"  the same ratio in {len(ratios)} consecutive parts of the run: " + " ".join(f"{r:.2f}" for r in ratios)


def report(results: dict[str, list[Call]], fake_before: dict, fake_after: dict, folder: Path) -> None:
    """The ratios, what a durable write costs alone, and what the fake spent per request."""
    ours, base, same = results["ours"], results["baseline"], results["same files"]
    print(ratio_line("per call, median wall", median_ms(ours, "wall_s"), median_ms(base, "wall_s"), "ms", GOAL))
    print(spread(ours, base))
    print(ratio_line("per call, median CPU", median_ms(ours, "cpu_s"), median_ms(base, "cpu_s"), "ms"))
    print("  the same against a baseline writing the same files as a run (folder, image, run record):")
    print(ratio_line("per call, median wall", median_ms(ours, "wall_s"), median_ms(same, "wall_s"), "ms"))
    print(ratio_line("per call, median CPU", median_ms(ours, "cpu_s"), median_ms(same, "cpu_s"), "ms"))
    png = next((folder / "baseline").iterdir()).read_bytes()
    alone = durable_write_ms(folder, png)
    print(f"  context: one durable {len(png):,}-byte write (temp file, fsync, rename) alone takes {alone:.3f} ms;")
    print(f"           ours saves per call: {files_per_run(folder)}, in a folder made ahead, between calls,")
    print(f"           with run.json's file: {spare_ms(folder):.3f} ms alone (not in the timed calls)")
    requests = fake_after["requests"] - fake_before["requests"]
    cpu_ms = (fake_after["cpu_s"] - fake_before["cpu_s"]) / requests * 1000
    handling_ms = (fake_after["handling_s"] - fake_before["handling_s"]) / requests * 1000
    print(
        f"  fake (own process): {requests} requests (2 per call), per request {cpu_ms:.3f} ms CPU, "
        f"{handling_ms:.3f} ms in its handler"
    )


def main() -> None:
    arguments = bench_arguments(__doc__, DEFAULT_ROUNDS, "calls per side")
    print(f"bench_call: one text-to-image call, ours vs raw httpx + durable write ({arguments.rounds} rounds)")
    print(machine())
    with running_fake() as fake, tempfile.TemporaryDirectory(prefix="wan26-bench-call-") as temporary:
        folder = Path(temporary)
        before = fake.stats()
        results = asyncio.run(measure(fake, folder, arguments.rounds))
        report(results, before, fake.stats(), folder)


if __name__ == "__main__":
    run_main(main)
