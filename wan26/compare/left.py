"""What each vendor's run left in a comparison's folder when the comparison was cut short (Ctrl-C):
read from the record each run writes as it stops, so nothing paid for goes unmentioned."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan26._run import fetch_command
from wan26.storage import SIDECAR_NAME, read_record
from wan26.types import Mode, Model


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
    """Every run under `folder/<vendor>/` whose record could be read, in the vendors' order of names."""
    found = []
    for sidecar in sorted(folder.glob(f"*/*/{SIDECAR_NAME}")):
        record = read_record(sidecar.parent)
        if record is not None:
            found.append(_left(sidecar.parent, record))
    return found


def _left(run_dir: Path, record: Mapping[str, Any]) -> VendorLeft:
    names = [entry["file"] for entry in _entries(record, "images") if isinstance(entry.get("file"), str)]
    images = tuple(run_dir / Path(name).name for name in names)  # the name only: the record may be moved
    urls = tuple(str(entry["source_url"]) for entry in _entries(record, "failed_downloads") if entry.get("source_url"))
    sent = record.get("task_id") if isinstance(record.get("task_id"), str) else None
    task_id = sent if sent and not images and record.get("status") != "succeeded" else None  # still to fetch
    provider = str(record.get("provider") or run_dir.parent.name)
    return VendorLeft(provider, run_dir, images, task_id, _fetch(task_id, record) if task_id else None, urls)


def _entries(record: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    entries = record.get(key)
    return [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []


def _fetch(task_id: str, record: Mapping[str, Any]) -> str | None:
    try:
        mode, model = Mode(str(record.get("mode"))), Model(str(record.get("wan_model") or Model.WAN26.value))
    except ValueError:  # a record written by hand, or by another version: no command rather than a wrong one
        return None
    return fetch_command(task_id, mode, str(record.get("provider") or ""), model)
