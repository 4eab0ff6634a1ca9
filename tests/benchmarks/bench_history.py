"""The History tab's first page: `wan26.history.list_runs` over 5,000 run folders against the least
any listing must do.

The folders are real (RunFolder and write_sidecar: a run.json of the usual size, and one small PNG
each), in a temporary directory removed afterwards. Baseline: `os.scandir` of the root, then
`json.load` of 12 run.json files (the first 12 names; no sorting, no checking, no image lookup).
Ours: `list_runs(root)`, page 1 of 12 newest first, each run's images found and described. Runs are
interleaved and rotated, medians compared: ratio ours / baseline. Also shown, for context: a deep
page, and what a listing that opened every run.json would cost. Run:

    python tests/benchmarks/bench_history.py [--rounds 40]
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere: wan26 from the checkout

from PIL import Image  # noqa: E402

from tests.benchmarks.common import bench_arguments, interleaved, machine, median, ratio_line, run_main  # noqa: E402
from wan26.history import list_runs  # noqa: E402
from wan26.storage import SIDECAR_NAME, RunFolder  # noqa: E402

DEFAULT_ROUNDS = 40
RUNS = 5000
PER_PAGE = 12
MODES = ("text_to_image", "edit", "interleave")


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "teal").save(buffer, "PNG")
    return buffer.getvalue()


def typical_record(mode: str, number: int) -> dict[str, object]:
    """A run.json like the client's (about 1.5 KB): every field, one image, one reference."""
    return {
        "status": "succeeded",
        "fetched_task": False,
        "mode": mode,
        "provider": "dashscope",
        "model": "wan2.6-t2i",
        "flow": "direct",
        "prompt": f"a lighthouse at dawn, run {number}, in the style of an old travel poster with bold shapes",
        "negative_prompt": "blurry, text, watermark",
        "parameters": {"size": "1280x1280", "seed": number, "watermark": False, "n": 1, "prompt_extend": True},
        "seed": number,
        "size": {"requested": "1280x1280", "actual": "1280*1280"},
        "request_id": f"req-{number:032x}",
        "request_ids": [f"req-{number:032x}"],
        "task_id": None,
        "usage": {"image_count": 1, "width": 1280, "height": 1280},
        "cost_usd": 0.03,
        "timings": {"started_at": "2026-11-23T08:30:00.123+00:00", "finished_at": "2026-11-23T08:30:09.456+00:00"},
        "reference_images": [{"label": "image 1", "mime": "image/png", "width": 400, "height": 300, "adjustments": []}],
        "images": [
            {"index": 1, "seed": number, "file": "01.png", "width": 64, "height": 64, "source_url": "http://x/1"}
        ],
        "failed_downloads": [],
        "text": "",
        "segments": [],
        "notes": [],
        "error": None,
    }


def make_runs(root: Path, count: int) -> None:
    """`count` run folders a minute apart; the image is written plainly (save_image's fsync would
    make setting up take minutes and measures nothing here)."""
    image, start = small_png(), datetime(2026, 1, 1)
    for number in range(count):
        mode = MODES[number % len(MODES)]
        folder = RunFolder(root, mode, start + timedelta(minutes=number))
        folder.write_sidecar(typical_record(mode, number))
        (folder.path / "01.png").write_bytes(image)
    (root / ".server-key-spend.json").write_text("{}")  # the app's ledger lives there too


def baseline(root: Path) -> None:
    with os.scandir(root) as entries:
        names = [entry.name for entry in entries]
    for name in names[:PER_PAGE]:
        with open(root / name / SIDECAR_NAME, "rb") as file:
            json.load(file)


def every_record(root: Path) -> None:
    """What a listing that parsed each run.json to sort by its time would pay."""
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.is_dir():
                with open(Path(entry.path) / SIDECAR_NAME, "rb") as file:
                    json.load(file)


def timed(work: Callable[[], object]) -> Callable[[], float]:
    def measure() -> float:
        started = time.perf_counter()
        work()
        return time.perf_counter() - started

    return measure


def main() -> None:
    arguments = bench_arguments(__doc__, DEFAULT_ROUNDS, "rounds of each measurement")
    print(f"bench_history: list_runs page 1 over {RUNS:,} run folders vs scandir + {PER_PAGE} json.load")
    print(machine())
    with tempfile.TemporaryDirectory(prefix="wan26-bench-history-") as directory:
        root = Path(directory)
        started = time.perf_counter()
        make_runs(root, RUNS)
        print(f"  set up {RUNS:,} run folders in {time.perf_counter() - started:.1f} s")
        last_page = -(-RUNS // PER_PAGE)
        sides = {
            "baseline": timed(lambda: baseline(root)),
            "ours": timed(lambda: list_runs(root)),
            "deep page": timed(lambda: list_runs(root, page=last_page // 2)),
        }
        interleaved(2, sides)  # warm the file cache
        ms = {name: median(samples) * 1000 for name, samples in interleaved(arguments.rounds, sides).items()}
        print(ratio_line("page 1, median wall", ms["ours"], ms["baseline"], "ms"))
        print(f"  context: page {last_page // 2} of {last_page} takes {ms['deep page']:.2f} ms (median)")
        every = median(interleaved(5, {"every": timed(lambda: every_record(root))})["every"]) * 1000
        print(f"  context: opening every run.json instead takes {every:.0f} ms (median of 5)")
        assert len(list_runs(root).runs) == PER_PAGE, "page 1 should be full"


if __name__ == "__main__":
    run_main(main)
