"""What each vendor's run left in a comparison's folder when the comparison was cut short (Ctrl-C):
read from the record each run writes as it stops, so nothing paid for goes unmentioned."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan26._run import fetch_command
from wan26.history import PastRun, load_run
from wan26.types import Model


@dataclass(frozen=True, slots=True)
class VendorLeft:
    """One vendor's run as its record tells it: the images saved, the task still to fetch (its id,
    None when it ended; the command that fetches it, None when the record cannot tell it), and the
    addresses of images sent but not saved."""

    provider: str
    run_dir: Path
    images: tuple[Path, ...]
    task_id: str | None
    fetch: str | None
    urls: tuple[str, ...]

    def json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "run_dir": str(self.run_dir),
            "images": [str(path) for path in self.images],
            "task_id": self.task_id,
            "fetch": self.fetch,
            "urls": list(self.urls),
        }


def left_in(folder: Path) -> list[VendorLeft]:
    """Every run under `folder/<vendor>/` that left a record or an image, in the vendors' order of names."""
    runs = (load_run(run_dir.parent, run_dir.name) for run_dir in sorted(folder.glob("*/*")))
    return [_left(run) for run in runs if run is not None]


def _left(run: PastRun) -> VendorLeft:
    images = tuple(image.path for image in run.images)
    ended = bool(images) or run.status == "succeeded"
    task_id = None if ended else run.task_id  # still to fetch
    provider = run.provider or run.folder.parent.name
    return VendorLeft(provider, run.folder, images, task_id, _fetch(task_id, provider, run), run.unsaved_urls)


def _fetch(task_id: str | None, provider: str, run: PastRun) -> str | None:
    try:
        model = Model(run.wan_model or Model.WAN26.value)
    except ValueError:  # a record written by hand, or by another version: no command rather than a wrong one
        return None
    return fetch_command(task_id, run.mode, provider, model) if task_id else None
