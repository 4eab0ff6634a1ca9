"""A batch's folder in the app: one per batch, under the output folder, named with 128 random bits
(the name reaches only the session that started it, so no other visitor can find it); a copy of
the uploads it runs from; and the zip a visitor downloads. Pure: no gradio.

    <output dir>/batch-<YYYYmmdd-HHMMSS>-<32 hex>/
        inputs/       the jobs file and the images its rows name, as uploaded
        <run folders> one per row (images and run.json), index.csv, index.jsonl, index.html
        journal.sqlite, .journal.lock   the batch's own bookkeeping, left out of the zip

A batch folder's name never has a run folder's shape, so History does not list it. It is also the
batch's id: the page that started a batch keeps it in its browser (a gr.BrowserState) to find the
batch again after a reload, so every name a browser sends is checked here before any file is touched.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeGuard

from wan26.batch.jobs import SUFFIXES
from wan26.batch.journal import JOURNAL_NAME, LOCK_NAME
from wan26.ui.batch_upload import Uploads
from wan26.ui.shown import shown_dir

INPUTS = "inputs"
PREFIX = "batch-"
# The journal (and SQLite's files beside it) says nothing the index does not; a partial file is a write cut short.
_LEFT_OUT = (JOURNAL_NAME, f"{JOURNAL_NAME}-wal", f"{JOURNAL_NAME}-shm", f"{JOURNAL_NAME}-journal", LOCK_NAME)
# Exactly what `new_folder` makes: no separator, no dot, nothing a browser could add to reach elsewhere.
BATCH_ID = re.compile(r"batch-[0-9]{8}-[0-9]{6}-[0-9a-f]{32}", re.ASCII)
KEPT_IDS = 20  # the newest batch ids a browser keeps; the tab shows the newest
READ_IDS = 100  # of a list a browser sends, the most looked at (a stranger may send a huge one)
_COMPRESSED = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp"})  # stored as they are: deflate gains nothing


def new_folder(output_dir: Path, now: datetime | None = None) -> Path:
    """A new, empty batch folder; its name is `batch-<time>-<128 random bits>`."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    folder = output_dir / f"{PREFIX}{stamp}-{secrets.token_hex(16)}"
    folder.mkdir(parents=True)
    return folder


def batch_id_is_valid(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and BATCH_ID.fullmatch(value) is not None


def kept_ids(value: object, new: object = None) -> list[str]:
    """The batch ids in a list sent by a browser, `new` first, then newest first (an id starts with
    its time), at most KEPT_IDS; anything else dropped."""
    given = value[:READ_IDS] if isinstance(value, list) else []
    first = [new] if batch_id_is_valid(new) else []
    valid = {item for item in given if batch_id_is_valid(item)} - set(first)
    return (first + sorted(valid, reverse=True))[:KEPT_IDS]


def held_folder(output_dir: Path, batch_id: object) -> Path | None:
    """The folder of `batch_id` if it is a well-formed id of a batch folder directly under `output_dir`
    (not a link); None otherwise. The id's shape is checked before the file system is asked."""
    if not batch_id_is_valid(batch_id):
        return None
    folder = output_dir / batch_id
    try:
        real = folder.is_dir() and not folder.is_symlink() and folder.resolve().parent == output_dir.resolve()
    except OSError:
        return None
    return folder if real else None


def jobs_name(folder: Path) -> str:
    """The name of the jobs file the batch ran from (its copy in `inputs/`), or "" if none is there."""
    try:
        names = sorted(path.name for path in (folder / INPUTS).iterdir() if path.suffix.lower() in SUFFIXES)
    except OSError:
        return ""
    return names[0] if names else ""


def stage(given: Uploads, images: dict[str, Path], folder: Path) -> Uploads:
    """Copies of the jobs file and of `images` in the folder's `inputs/`, side by side, so the
    batch never depends on Gradio's upload cache (which is pruned), and the zip holds what it ran
    from (`python -m wan26 batch inputs/<jobs file>` reads its images from there)."""
    inputs = folder / INPUTS
    inputs.mkdir()
    jobs = inputs / given.name
    shutil.copyfile(given.jobs, jobs)
    copies = {}
    for name, path in images.items():
        copies[name] = inputs / name
        shutil.copyfile(path, copies[name])
    return Uploads(jobs, copies)


def zip_name(folder: Path) -> str:
    """The download's name: the folder's, less its random part (the zip may be passed on)."""
    return folder.name.rsplit("-", 1)[0]


def zip_folder(folder: Path) -> Path:
    """The batch folder as a zip under the shown-files folder (which Gradio serves as it is):
    every regular file but the journal's, never following a link out of the folder."""
    top = zip_name(folder)
    archive = shown_dir() / secrets.token_hex(16) / f"{top}.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in _files(folder):
            kind = zipfile.ZIP_STORED if path.suffix.lower() in _COMPRESSED else zipfile.ZIP_DEFLATED
            bundle.write(path, f"{top}/{path.relative_to(folder).as_posix()}", compress_type=kind)
    return archive


def _files(folder: Path) -> Iterator[Path]:
    for root, directories, names in os.walk(folder):  # os.walk follows no link to a folder
        # Not into hidden folders: the next run's folder, made ahead, may be holding an image half written.
        directories[:] = sorted(name for name in directories if not name.startswith("."))
        for name in sorted(names):
            path = Path(root) / name
            if name not in _LEFT_OUT and not name.startswith(".partial-") and _regular(path):
                yield path


def _regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()
