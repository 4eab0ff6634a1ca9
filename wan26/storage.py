"""Saving what a run produced: one folder per run, atomic writes, names that never collide.

Provider URLs expire after 24 h (dashscope.md §2.5), so images are saved the moment they arrive,
as the exact bytes the provider served, with a JSON sidecar describing the run. Keys never go here.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

SIDECAR_NAME = "run.json"
_IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}


class NotAnImage(ValueError):
    """Downloaded bytes are not an image (an expired URL serves an XML error page, for one)."""


def default_output_dir(env: dict[str, str] | os._Environ[str]) -> Path:
    return Path(env.get("WAN26_OUTPUT_DIR") or "outputs")


class RunFolder:
    """`<root>/<YYYYmmdd-HHMMSS>-<label>-<random>/`, made on first write so failed runs leave nothing."""

    def __init__(self, root: Path, label: str, now: datetime | None = None) -> None:
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        self.path = Path(root) / f"{stamp}-{label}-{secrets.token_hex(4)}"

    def check_writable(self) -> None:
        """Raise OSError now if this run's folder could not be written later."""
        existing = next(folder for folder in (self.path.parent, *self.path.parent.parents) if folder.exists())
        if not existing.is_dir():
            raise NotADirectoryError(20, "Not a directory", str(existing))
        if not os.access(existing, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied", str(existing))

    def save_image(self, index: int, data: bytes) -> tuple[Path, int, int]:
        """Write image number `index` unchanged; return its path, width and height."""
        extension, width, height = inspect_image(data)
        path = self.path / f"{index:02d}{extension}"
        self._write_atomically(path, data)
        return path, width, height

    def write_sidecar(self, record: dict[str, Any]) -> Path:
        path = self.path / SIDECAR_NAME
        self._write_atomically(path, json.dumps(record, ensure_ascii=False, indent=2).encode())
        return path

    def _write_atomically(self, path: Path, data: bytes) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path, prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)  # readers see the whole file or none of it
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def inspect_image(data: bytes) -> tuple[str, int, int]:
    """The file extension and size of image bytes, or `NotAnImage`."""
    extension = next((ext for magic, ext in _IMAGE_SIGNATURES.items() if data.startswith(magic)), None)
    if extension is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        extension = ".webp"
    if extension is None:
        raise NotAnImage(f"not a PNG, JPEG or WEBP file (starts with {data[:16]!r})")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError) as exc:
        raise NotAnImage(f"the image data is unreadable ({exc})") from exc
    return extension, width, height
