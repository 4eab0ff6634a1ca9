"""Files handed to Gradio to show. Gradio copies each image it shows into its cache under an
unguessable name, and serves only the copy. It copies only from the working folder or the temp
folder (allowed_paths would also serve every run.json), so a result saved elsewhere, such as a
Space's persistent /data, is handed to it as a hard link (or copy) in a folder of ours under the
temp folder, pruned after an hour."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
import time
import unicodedata
from pathlib import Path

SHOWN_DIR = Path(tempfile.gettempdir()) / "wan26-shown"
_COPIED_FROM = (Path.cwd().resolve(), Path(tempfile.gettempdir()).resolve())
MAX_AGE_S = 3600
MAX_SLUG = 40  # characters of the prompt in a download's name
_PRUNED_AT = [0.0]  # when SHOWN_DIR was last swept: every minute is enough, not every image


def shown(path: Path, name: str | None = None) -> str:
    """The path of `path` that Gradio can show: itself, or a link to it under SHOWN_DIR, called
    `name` where one is given (the name a visitor's download gets; the saved file keeps its own)."""
    if name is None and any(inside(path.resolve(), home) for home in _COPIED_FROM):
        return str(path)
    _prune(SHOWN_DIR, max_age_s=MAX_AGE_S)
    link = SHOWN_DIR / secrets.token_hex(16) / (name or path.name)
    link.parent.mkdir(parents=True)
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


def _prune(folder: Path, max_age_s: float) -> None:
    now = time.time()
    if now - _PRUNED_AT[0] < 60:
        return
    _PRUNED_AT[0], cutoff = now, now - max_age_s
    for entry in folder.glob("*"):
        with contextlib.suppress(OSError):  # another run may prune the same entry
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry)


def inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
