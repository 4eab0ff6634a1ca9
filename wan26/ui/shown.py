"""Files handed to Gradio to show. Gradio serves a file inside its cache folder (its upload folder)
as it is, and copies any other file there first, hashing and copying every byte on the event loop
(`Block.async_move_resource_to_block_cache`,
https://github.com/gradio-app/gradio/blob/gradio%406.31.0/gradio/blocks.py). It copies only from the
working folder or the temp folder (allowed_paths would also serve every run.json). So a run's images
are handed to it as hard links (or copies, across file systems) made in a folder of ours inside that
cache, each in a folder with a random 128-bit name that only the visitor who made the run is told,
pruned after a day (as long as Gradio keeps its own copies: a page left open that long still shows
them); so are the downloads made for a visitor (a run's or a batch's zip). History shows the images
of runs saved under the working or temp folder by their own path, which Gradio copies as before;
its cards show small thumbnails, kept a day."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import tempfile
import time
import unicodedata
from pathlib import Path

from gradio import utils as gr_utils
from PIL import Image, ImageDraw

THUMBS_DIR = Path(tempfile.gettempdir()) / "wan26-thumbs"
THUMB_SIDE = 384  # px: a History card at two columns on a phone, or four on a laptop
_SALT = secrets.token_bytes(16)
_COPIED_FROM = (Path.cwd().resolve(), Path(tempfile.gettempdir()).resolve())
MAX_AGE_S = 86400  # the app's delete_cache age for Gradio's own copies (wan26/ui/page.py)
MAX_SLUG = 40  # characters of the prompt in a download's name
THUMBS_MAX_AGE_S = 86400
_PRUNED_AT: dict[Path, float] = {}  # when each folder was last swept: every minute is enough, not every image


def shown_dir() -> Path:
    """Our folder inside Gradio's cache (read when asked: `GRADIO_TEMP_DIR` may be set after import)."""
    return Path(gr_utils.get_upload_folder()) / "wan26-shown"


def shown(path: Path, name: str | None = None) -> str:
    """The path of `path` that Gradio can show: itself, or a link to it under `shown_dir()`, called
    `name` where one is given (the name a visitor's download gets; the saved file keeps its own)."""
    if name is None and any(inside(path.resolve(), home) for home in _COPIED_FROM):
        return str(path)
    link = _new_place(name or path.name)
    try:
        os.link(path, link)
    except OSError:  # another file system
        shutil.copyfile(path, link)
    return str(link)


def download_name(mode: str, prompt: str, seed: int | None, index: int, suffix: str) -> str:
    """What a downloaded image is called: its mode, the prompt's first words, its seed and number,
    e.g. `text_to_image-a-lighthouse-at-dawn-seed42-1.png`."""
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", prompt).lower())
    slug = "-".join(words)
    if len(slug) > MAX_SLUG:  # whole words where there are any to cut between
        slug = slug[: MAX_SLUG + 1].rsplit("-", 1)[0] if "-" in slug[:MAX_SLUG] else slug[:MAX_SLUG]
    slug = slug.strip("-_") or "image"
    seed_part = f"-seed{seed}" if seed is not None else ""
    return f"{mode}-{slug}{seed_part}-{index}{suffix}"


def handed(name: str, data: bytes) -> str:
    """`data` as a file named `name` that Gradio can serve (a download), in a folder of its own under
    `shown_dir()`, pruned like the links."""
    path = _new_place(name)
    path.write_bytes(data)
    return str(path)


def _new_place(name: str) -> Path:
    """Where a file named `name` goes under `shown_dir()`: in a new folder with a random 128-bit
    name (made), after pruning what is older than a day."""
    folder = shown_dir()
    _prune(folder, max_age_s=MAX_AGE_S)
    path = folder / secrets.token_hex(16) / name
    path.parent.mkdir(parents=True)
    return path


def thumbnail(path: Path) -> str:
    """A small WEBP of the image at `path`, for a gallery of many runs (an original can weigh
    megabytes); the original itself if it cannot be read. Made once per file version, under a name
    salted per process so that it says nothing about the path."""
    try:
        stat = path.stat()
        key = hashlib.sha256(_SALT + f"{path}|{stat.st_mtime_ns}|{stat.st_size}".encode()).hexdigest()[:32]
        small = THUMBS_DIR / f"{key}.webp"
        if not small.exists():
            _make_thumbnail(path, small)
    except (OSError, ValueError, Image.DecompressionBombError):
        return shown(path)
    return str(small)


def no_image() -> str:
    """A card for a run that saved no image (it failed, or was stopped before one arrived): a crossed
    picture frame, with no words, as every visitor shares it whatever their language (the caption
    below it says what happened)."""
    card = THUMBS_DIR / "no-image-frame.png"
    if not card.exists():
        THUMBS_DIR.mkdir(parents=True, exist_ok=True)
        partial = card.with_name(f".{secrets.token_hex(8)}.partial")
        image = Image.new("RGB", (THUMB_SIDE, THUMB_SIDE), (214, 217, 225))
        frame = (THUMB_SIDE // 3, THUMB_SIDE // 5, THUMB_SIDE * 2 // 3, THUMB_SIDE * 2 // 5)
        draw = ImageDraw.Draw(image)
        draw.rectangle(frame, outline=(110, 116, 130), width=4)
        draw.line(frame, fill=(110, 116, 130), width=4)
        image.save(partial, "PNG")
        partial.replace(card)
    return str(card)


def _make_thumbnail(path: Path, small: Path) -> None:
    _prune(THUMBS_DIR, max_age_s=THUMBS_MAX_AGE_S)
    THUMBS_DIR.mkdir(parents=True, exist_ok=True)
    partial = small.with_name(f".{secrets.token_hex(8)}.partial")  # two visitors may make it at once
    try:
        with Image.open(path) as image:
            image.thumbnail((THUMB_SIDE, THUMB_SIDE))
            image.convert("RGBA" if "A" in image.getbands() else "RGB").save(partial, "WEBP", quality=80)
        partial.replace(small)
    finally:
        partial.unlink(missing_ok=True)


def _prune(folder: Path, max_age_s: float) -> None:
    now = time.time()
    if now - _PRUNED_AT.get(folder, 0.0) < 60:
        return
    _PRUNED_AT[folder], cutoff = now, now - max_age_s
    for entry in folder.glob("*"):
        with contextlib.suppress(OSError):  # another run may prune the same entry
            if entry.stat().st_mtime >= cutoff:
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
