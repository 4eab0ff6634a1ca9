"""What a visitor uploads to the Batch tab, checked before any row is read: the jobs file (its form,
size and row count) and the reference images uploaded with it. Pure: no gradio.

Every visitor is treated as a stranger. A jobs file's `images` may hold http(s) URLs and the file
names of images uploaded with it; any other reference (a path, absolute or relative, `..`, a name
that was not uploaded, another scheme) is refused with its line and field, in every mode, and the
server opens no file for it: the app never reads a server path from a jobs file. Refusals do not
depend on what exists on the server, so they tell nothing about it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from wan26.batch import Defaults, Jobs, read_jobs
from wan26.batch.jobs import SUFFIXES, Locate
from wan26.images import is_web_url

MAX_JOBS_BYTES = 1_000_000  # 200 rows of 2000-character prompts fit with room to spare
MAX_IMAGES = 100  # uploaded with one jobs file
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp"})
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")  # two letters at least: "C:\..." is a Windows path
_ANY_URL = "give an http(s) URL, or the file name of an image uploaded with the jobs file"
A_PATH = f"is a file path; the app reads no path from a jobs file: {_ANY_URL}"
NOT_A_WEB_URL = f"is not an http(s) URL: {_ANY_URL}"


class UploadError(Exception):
    """The uploads cannot be read as a batch at all; `str()` says why, for the visitor."""


@dataclass(frozen=True, slots=True)
class Uploads:
    jobs: Path
    images: Mapping[str, Path]  # by file name, the way a jobs file names them

    @property
    def name(self) -> str:
        return self.jobs.name


def uploads(jobs: str | Path, images: Sequence[str | Path] | None) -> Uploads:
    """The jobs file and the images, each image by its file name; UploadError for a jobs file of
    another kind, too many images, a file that is no image, or two images of the same name."""
    jobs = Path(jobs)
    if jobs.suffix.lower() not in SUFFIXES:
        raise UploadError(f"{jobs.name}: a jobs file must end in .csv or .jsonl")
    paths = [Path(image) for image in images or ()]
    if len(paths) > MAX_IMAGES:
        raise UploadError(f"{len(paths)} images uploaded; a batch takes at most {MAX_IMAGES}")
    named: dict[str, Path] = {}
    for path in paths:
        if path.suffix.lower() not in IMAGE_SUFFIXES or path.name in (".", ".."):
            raise UploadError(f"{path.name} is not an image file (PNG, JPEG, WEBP or BMP)")
        if path.name in named:
            raise UploadError(f"two uploaded images are named {path.name}: rename one")
        named[path.name] = path
    return Uploads(jobs, named)


def locate_in(images: Mapping[str, Path]) -> Locate:
    """A reference's place: a URL as it is, an uploaded image's file; anything else refused (ValueError)."""

    def locate(reference: str) -> str:
        if reference in images:
            return str(images[reference])
        if is_web_url(reference):
            return reference
        if "://" in reference or _SCHEME.match(reference):
            raise ValueError(NOT_A_WEB_URL)
        if _is_path(reference):
            raise ValueError(A_PATH)
        raise ValueError(not_uploaded(reference, images))

    return locate


def not_uploaded(name: str, images: Mapping[str, Path]) -> str:
    uploaded = ", ".join(sorted(images)[:10]) + (", …" if len(images) > 10 else "")
    if not images:
        return f"{name} was not uploaded with the jobs file (no images were)"
    return f"{name} was not uploaded with the jobs file (uploaded: {uploaded})"


def _is_path(reference: str) -> bool:
    return "/" in reference or "\\" in reference or reference in (".", "..") or reference.startswith("~")


def read_batch(given: Uploads, defaults: Defaults, max_rows: int) -> Jobs:
    """The jobs file's rows and problems, its references placed among the uploads; UploadError
    (before any row is read) for a file too big, not UTF-8, or of more rows than `max_rows`."""
    text = _text(given.jobs)
    rows = _row_count(text, SUFFIXES[given.jobs.suffix.lower()])
    if rows > max_rows:
        raise UploadError(f"{rows} rows; the app runs at most {max_rows} rows a batch (split the file)")
    return read_jobs(given.jobs, defaults, locate_in(given.images))


def referenced(jobs: Jobs, given: Uploads) -> dict[str, Path]:
    """The uploaded images some row names: the ones a batch keeps a copy of."""
    names = {reference for row in jobs.rows for reference in row.references}
    return {name: path for name, path in given.images.items() if name in names}


def _text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_JOBS_BYTES:
        raise UploadError(f"the jobs file is {size:,} bytes; the app reads at most {MAX_JOBS_BYTES:,} (split it)")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError("the jobs file is not UTF-8 text: save it as CSV UTF-8 or JSON Lines") from None


def _row_count(text: str, kind: str) -> int:
    """Rows as `read_jobs` will count them, found cheaply, so a huge file is refused unread."""
    if kind == "jsonl":
        return sum(1 for line in text.split("\n") if line.strip())
    records = csv.reader(io.StringIO(text, newline=""))
    return max(0, sum(1 for cells in records if any(cell.strip() for cell in cells)) - 1)  # less the header
