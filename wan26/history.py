"""Past runs read back from the output folder, for a History view: listed newest first a page at a
time, loaded, deleted, or zipped as their original files. No gradio here: the interface shows what
these functions return.

A run id can come from a visitor's browser, so every id is checked against the exact shape that
`wan26.storage.RunFolder` gives its folders and must name a real folder directly inside the root
(never a symlink); files inside a run are found by listing it, never by a name taken from run.json,
and symlinks among them are left out. Nothing outside the root is read or deleted.

Listing sorts the folder names (they start with the time) and reads the records of the page shown
only, so one page costs the same with a hundred runs or ten thousand.
"""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import time
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image

from wan26.storage import SIDECAR_NAME, open_no_follow, read_record
from wan26.types import ImageSegment, Mode, SavedImage, Segment, TextSegment

UNKNOWN_STATUS = "unknown"  # the status of a run whose run.json is missing or unreadable
_MODES = "|".join(re.escape(mode.value) for mode in Mode)
# [0-9], not \d: \d also matches other scripts' digits, which RunFolder never writes.
_RUN_ID = re.compile(rf"[0-9]{{8}}-[0-9]{{6}}-(?:{_MODES})-[0-9a-f]{{32}}")
_IMAGE_FILE = re.compile(r"([0-9]{2,})\.(?:png|jpg|webp)")  # RunFolder.save_image: 01.png, 02.jpg…
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


@dataclass(frozen=True, slots=True)
class PastRun:
    """One saved run: what a gallery card shows and what "reuse these settings" needs.

    Fields other than `run_id`, `folder`, `started_at`, `mode`, `status` and `images` come from
    run.json and are None (or empty) when it is missing, unreadable or older than the field."""

    run_id: str  # the folder's name
    folder: Path
    started_at: datetime  # timezone-aware: run.json's start, else the folder name's (local) time
    mode: Mode
    status: str  # succeeded, failed, still_running; "unknown" without a readable run.json
    images: tuple[SavedImage, ...]  # the image files present, in index order
    provider: str | None = None
    model: str | None = None
    flow: str | None = None
    prompt: str | None = None  # None too for a task fetched by id: its prompt was never seen here
    negative_prompt: str | None = None
    seed: int | None = None
    size: str | None = None  # the size served, else the size asked for
    cost_usd: float | None = None
    parameters: dict[str, Any] = field(default_factory=dict)  # size, seed, n or max_images, …
    reference_images: tuple[dict[str, Any], ...] = ()  # as run.json describes them (never their data)
    text: str = ""  # interleave's text
    segments: tuple[Segment, ...] = ()  # interleave's order; an ImageSegment names an image's index
    notes: tuple[str, ...] = ()
    error: str | None = None  # the error's message, for a failed run
    task_id: str | None = None
    wan_model: str | None = None  # "wan2.7-pro"; None in records written before Wan 2.7 (those are 2.6)
    thinking: bool | None = None  # Wan 2.7 text to image
    palette: tuple[dict[str, Any], ...] = ()  # Wan 2.7: {"hex": "#C2D1E6", "percent": 60.0} each
    unsaved_urls: tuple[str, ...] = ()  # images made but not saved: their addresses work for about 24 h


@dataclass(frozen=True, slots=True)
class HistoryPage:
    runs: tuple[PastRun, ...]  # newest first
    page: int  # 1-based, the page asked for brought within 1..pages
    pages: int  # at least 1, even with no runs
    total: int  # run folders counted by name; see list_runs


def run_id_is_valid(run_id: object) -> bool:
    """True only for a name of the exact shape RunFolder makes, with a real date and time in it:
    `YYYYmmdd-HHMMSS-<mode>-<32 lowercase hex>`. No slash, dot-dot or other path can pass."""
    return isinstance(run_id, str) and _RUN_ID.fullmatch(run_id) is not None and _stamp_of(run_id) is not None


def list_runs(root: Path, run_ids: Iterable[str] | None = None, page: int = 1, per_page: int = 12) -> HistoryPage:
    """One page of runs in `root`, newest first; `run_ids`: only these runs (invalid ids are ignored).

    `total` and `pages` count run folders by name without opening them, so a folder that turns
    out to hold nothing (a crash before its first file was complete) is counted but not shown."""
    if per_page < 1:
        raise ValueError(f"per_page must be at least 1, not {per_page}")
    names = sorted(_run_ids_in(root) if run_ids is None else _existing(root, run_ids), reverse=True)
    pages = max(1, math.ceil(len(names) / per_page))
    page = min(max(page, 1), pages)
    shown = (_read_run(root / name) for name in names[(page - 1) * per_page : page * per_page])
    return HistoryPage(tuple(run for run in shown if run is not None), page, pages, len(names))


def load_run(root: Path, run_id: str) -> PastRun | None:
    """The run `run_id` in `root`; None for an invalid id, a missing folder or one holding nothing."""
    folder = _run_folder(root, run_id)
    return None if folder is None else _read_run(folder)


def delete_run(root: Path, run_id: str) -> bool:
    """Delete run `run_id`: its folder, with its images and run.json. This cannot be undone (there
    is no bin). Only a valid id naming a real folder directly in `root` is deleted; False if none."""
    folder = _run_folder(root, run_id)
    if folder is None:
        return False
    try:
        shutil.rmtree(folder)  # removes symlinks inside, never what they point to
    except FileNotFoundError:
        return False  # deleted meanwhile (the same run open in two tabs)
    return True


def originals_zip(root: Path, run_id: str) -> bytes | None:
    """A zip of the run's original files, byte for byte as saved: `<run_id>/01.png`… and
    `<run_id>/run.json`; None if there is no such run. Built in memory (a run's files come to a few
    tens of MB at most) so that no temporary file is left for anyone to clean up; images are stored
    as they are, since PNG, JPEG and WEBP are compressed already."""
    folder = _run_folder(root, run_id)
    if folder is None:
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in _original_names(_regular_files(folder)):
            _add_original(archive, folder / name, f"{folder.name}/{name}")
    return buffer.getvalue()


# ---- finding run folders --------------------------------------------------------------------


def _stamp_of(run_id: str) -> datetime | None:
    """The local time a run id starts with, or None if its digits are no real date and time. Read
    as ISO 8601's basic form (YYYYmmddTHHMMSS): fromisoformat is C code, several times quicker than
    strptime, and every name in the root is checked."""
    try:
        return datetime.fromisoformat(f"{run_id[:8]}T{run_id[9:15]}")
    except ValueError:
        return None


def _run_ids_in(root: Path) -> list[str]:
    """Names of the run folders directly in `root`, from one scan (no stat per entry); symlinks,
    files and anything else there (the spending ledger, say) are left out."""
    try:
        with os.scandir(root) as entries:
            # One comprehension, no helper: it runs for every name in the root, and a call per name shows.
            return [
                entry.name for entry in entries if run_id_is_valid(entry.name) and entry.is_dir(follow_symlinks=False)
            ]
    except (FileNotFoundError, NotADirectoryError):
        return []  # no run has been saved yet


def _existing(root: Path, run_ids: Iterable[str]) -> set[str]:
    # Validated before being put in a set: a visitor's list may hold anything, unhashable too.
    valid = {run_id for run_id in run_ids if run_id_is_valid(run_id)}
    return {run_id for run_id in valid if _run_folder(root, run_id) is not None}


def _run_folder(root: Path, run_id: object) -> Path | None:
    """The folder of `run_id` if it is a real directory directly inside `root`, else None."""
    if not isinstance(run_id, str) or not run_id_is_valid(run_id):
        return None
    folder = root / run_id
    if folder.is_symlink() or not folder.is_dir():
        return None
    # The id holds no separator, so this only fails if the filesystem is not what it seems.
    return folder if folder.resolve().parent == root.resolve() else None


def _regular_files(folder: Path) -> set[str]:
    """Names of the regular files in `folder`: symlinks are left out so nothing outside is read."""
    try:
        with os.scandir(folder) as entries:
            return {entry.name for entry in entries if entry.is_file(follow_symlinks=False)}
    except OSError:
        return set()  # deleted meanwhile, or unreadable: nothing to show


# ---- reading one run ------------------------------------------------------------------------


def _read_run(folder: Path) -> PastRun | None:
    """The run in `folder`, from run.json and the image files present; None if it holds neither."""
    files = _regular_files(folder)
    record = read_record(folder) if SIDECAR_NAME in files else None
    images = _images(folder, files, record or {})
    if record is None and not images:
        return None
    return _past_run(folder, record or {}, images)


def _past_run(folder: Path, record: Mapping[str, Any], images: tuple[SavedImage, ...]) -> PastRun:
    return PastRun(
        run_id=folder.name,
        folder=folder,
        started_at=_started_at(record, folder.name),
        mode=_mode_of(folder.name),
        status=_text(record, "status") or UNKNOWN_STATUS,
        images=images,
        provider=_text(record, "provider"),
        model=_text(record, "model"),
        flow=_text(record, "flow"),
        prompt=_text(record, "prompt"),
        negative_prompt=_text(record, "negative_prompt"),
        seed=_integer(record, "seed"),
        size=_size(record),
        cost_usd=_number(record, "cost_usd"),
        parameters=_mapping(record, "parameters"),
        reference_images=tuple(entry for entry in _list(record, "reference_images") if isinstance(entry, dict)),
        text=_text(record, "text") or "",
        segments=_segments(record),
        notes=tuple(note for note in _list(record, "notes") if isinstance(note, str)),
        error=_text(_mapping(record, "error"), "message"),
        task_id=_text(record, "task_id"),
        wan_model=_text(record, "wan_model"),
        thinking=record.get("thinking") if isinstance(record.get("thinking"), bool) else None,
        palette=tuple(entry for entry in _list(record, "palette") if isinstance(entry, dict)),
        unsaved_urls=tuple(url for entry in _list(record, "failed_downloads") if (url := _source_url(entry))),
    )


def _source_url(entry: object) -> str | None:
    return _text(entry, "source_url") if isinstance(entry, dict) else None


def _mode_of(run_id: str) -> Mode:
    # The folder's own label: RunFolder is named after the request's mode, and the name is always there.
    return Mode(run_id[16:-33])


def _started_at(record: Mapping[str, Any], run_id: str) -> datetime:
    recorded = _aware_time(_text(_mapping(record, "timings"), "started_at"))
    if recorded is not None:
        return recorded
    stamp = _stamp_of(run_id)
    if stamp is None:  # cannot happen: only valid ids reach here
        raise ValueError(f"not a run id: {run_id!r}")
    return stamp.astimezone()  # RunFolder names folders in local time


def _aware_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.astimezone()


def _size(record: Mapping[str, Any]) -> str | None:
    sizes = _mapping(record, "size")
    return _text(sizes, "actual") or _text(sizes, "requested")


def _segments(record: Mapping[str, Any]) -> tuple[Segment, ...]:
    entries = (entry for entry in _list(record, "segments") if isinstance(entry, dict))
    return tuple(segment for entry in entries if (segment := _segment(entry)) is not None)


def _segment(entry: Mapping[str, Any]) -> Segment | None:
    if entry.get("type") == "text":
        text = _text(entry, "text")
        return None if text is None else TextSegment(text)
    index = _integer(entry, "index")
    return ImageSegment(index) if entry.get("type") == "image" and index is not None else None


# ---- a run's images -------------------------------------------------------------------------


def _images(folder: Path, files: set[str], record: Mapping[str, Any]) -> tuple[SavedImage, ...]:
    """The image files present, in index order, described by run.json where it lists them."""
    described = _image_entries(record)
    found = sorted((int(match[1]), name) for name in files if (match := _IMAGE_FILE.fullmatch(name)))
    return tuple(_saved_image(folder / name, index, described.get(name, {})) for index, name in found)


def _image_entries(record: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """run.json's image entries by file name. Only names found by listing the folder are looked
    up, so a path written into run.json (`../x`) never reaches the disk."""
    entries = (entry for entry in _list(record, "images") if isinstance(entry, dict))
    return {entry["file"]: entry for entry in entries if isinstance(entry.get("file"), str)}


def _saved_image(path: Path, index: int, entry: Mapping[str, Any]) -> SavedImage:
    width, height = _integer(entry, "width"), _integer(entry, "height")
    if width is None or height is None:
        width, height = _image_size(path)  # not in run.json (a crash before it was written): ask the file
    return SavedImage(index, path, _text(entry, "source_url") or "", width, height, _integer(entry, "seed"))


def _image_size(path: Path) -> tuple[int, int]:
    """Width and height from the file's header (Pillow reads no pixels for this); 0×0 if unreadable."""
    try:
        with open_no_follow(path) as file, Image.open(file) as image:
            return image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return 0, 0


# ---- the originals as a zip -----------------------------------------------------------------


def _original_names(files: set[str]) -> list[str]:
    """The images in index order, then run.json: only what RunFolder writes (no temporary files)."""
    images = sorted((int(match[1]), name) for name in files if (match := _IMAGE_FILE.fullmatch(name)))
    return [name for _, name in images] + ([SIDECAR_NAME] if SIDECAR_NAME in files else [])


def _add_original(archive: zipfile.ZipFile, path: Path, name_in_zip: str) -> None:
    """Add `path` unchanged, with its modification time; skip it if it vanished meanwhile."""
    try:
        with open_no_follow(path) as file:
            data, modified = file.read(), os.fstat(file.fileno()).st_mtime
    except OSError:
        return
    info = zipfile.ZipInfo(name_in_zip, max(time.localtime(modified)[:6], _ZIP_EPOCH))
    info.compress_type = zipfile.ZIP_DEFLATED if path.name == SIDECAR_NAME else zipfile.ZIP_STORED
    archive.writestr(info, data)


# ---- run.json's values, of the type expected or None ----------------------------------------
# A record may be older than a field, or edited by hand: a value of the wrong type is treated as absent.


def _text(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    return value if isinstance(value, str) else None


def _integer(record: Mapping[str, Any], key: str) -> int | None:
    value = record.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(record: Mapping[str, Any], key: str) -> float | None:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None  # json reads NaN and Infinity too


def _mapping(record: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = record.get(key)
    return value if isinstance(value, dict) else {}


def _list(record: Mapping[str, Any], key: str) -> list[Any]:
    value = record.get(key)
    return value if isinstance(value, list) else []
