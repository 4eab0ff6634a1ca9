"""Saving what a run produced: one folder per run, atomic writes, names that never collide.

Provider URLs expire after 24 h (https://www.alibabacloud.com/help/en/model-studio/wan-image-generation-api-reference),
so images are saved the moment they arrive, as the exact bytes the provider served, with a JSON
sidecar describing the run. Keys never go here.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import stat
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from PIL import Image, UnidentifiedImageError

from wan26._spare_folders import SPARE_PREFIX, Spare, SpareFolders, removed
from wan26.errors import ConfigError

SIDECAR_NAME = "run.json"
PARTIAL_PREFIX = ".partial-"  # a file being written, renamed into place when whole
STALE_PARTIAL_S = 86400.0  # a day: far longer than any save, so a file this old is no run's any more
_STAMP = "%Y%m%d-%H%M%S"  # a run folder's local start time: folders sort by it
_IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}


class NotAnImage(ValueError):
    """Downloaded bytes are not an image (an expired URL serves an XML error page, for one)."""


def default_output_dir(env: Mapping[str, str]) -> Path:
    """WAN26_OUTPUT_DIR, with "~/wan" read as a shell would, else `outputs`."""
    try:
        return Path(env.get("WAN26_OUTPUT_DIR") or "outputs").expanduser()
    except RuntimeError:  # "~nobody/x", or no home folder known: Python cannot expand it
        said = "WAN26_OUTPUT_DIR starts with ~ but no home folder was found for it; write the whole path."
        raise ConfigError(said) from None


class RunFolder:
    """`<root>/<YYYYmmdd-HHMMSS>-<label>-<random>/`, made on first write so runs refused or failed
    before anything was made leave nothing (a run that fails later keeps its record there).

    The random part carries 128 bits, so no one can guess another run's folder from its time."""

    def __init__(self, root: Path, label: str, now: datetime | None = None) -> None:
        # time.strftime: a quarter of the time of datetime.strftime, which wraps it
        stamp = now.strftime(_STAMP) if now else time.strftime(_STAMP)
        self.path = Path(root, f"{stamp}-{label}-{secrets.token_hex(16)}")
        self._made = False  # made on first write; later writes skip asking again
        self._record_lock = threading.Lock()  # `_make_record_file` runs in a worker thread
        self._record_file: str | None = None  # run.json's file, made ahead and still empty
        self._record_written = False
        self._may_take_spare = True  # a new run's folder: a spare one may become it

    @classmethod
    def reopened(cls, path: Path) -> RunFolder:
        """The folder of an earlier run, to save more into: a task that run sent, fetched later."""
        folder = cls(path.parent, "")
        folder.path = path  # made again on the first write if it was removed meanwhile (History's Delete)
        folder._may_take_spare = False
        return folder

    def check_writable(self) -> None:
        """Raise OSError now if this run's folder could not be written later."""
        existing = self.path.parent
        while (mode := _mode(existing)) is None:  # the nearest folder that exists is where it will be made
            if existing == existing.parent:  # nothing above exists either (a relative path in a removed folder)
                raise FileNotFoundError(2, "No such file or directory", str(existing))
            existing = existing.parent
        if not stat.S_ISDIR(mode):
            raise NotADirectoryError(20, "Not a directory", str(existing))
        if not os.access(existing, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied", str(existing))

    def save_image(self, index: int, data: bytes) -> tuple[Path, int, int]:
        """Write image number `index` unchanged, durably (it was paid for); its path, width and height.

        The first one comes with the run's folder and run.json's (empty) file: a spare folder made
        ahead when one is ready (`wan26._spare_folders`), else made now, before the image, so that
        the image's fsync carries them."""
        extension, width, height = inspect_image(data)
        path = self.path / f"{index:02d}{extension}"
        if self._made:
            write_atomically(path, data, durable=True)
            return path, width, height
        root = os.path.abspath(self.path.parent)  # the same key if the working folder changes
        spare = SPARES.take(root) if self._may_take_spare else None
        if spare is None or not self._moved_into(spare, path.name, data):
            self._make()
            self._make_record_file()
            write_atomically(path, data, durable=True)
        return path, width, height

    def _moved_into(self, spare: Spare, name: str, data: bytes) -> bool:
        """The image written straight into the spare (hidden: no one sees it half written), then the
        spare given this run's name; False, and the spare removed, if either failed."""
        image = os.path.join(spare.folder, name)
        try:
            _written(image, lambda: os.open(image, _CREATE_NEW, 0o600), data, durable=True)
            # Fails where the record's write has made this folder and put a file in it meanwhile (a
            # run stopped); an empty one made that instant is replaced, which POSIX rename allows.
            os.rename(spare.folder, self.path)
        except OSError:
            Path(image).unlink(missing_ok=True)
            removed(spare)
            return False
        self._made = True
        self._claimed(os.path.join(self.path, os.path.basename(spare.record_file)))
        return True

    @property
    def sidecar_path(self) -> Path:
        return self.path / SIDECAR_NAME

    def _make_record_file(self) -> None:
        """Make run.json's file (hidden, empty) now, with the folder, in the worker thread saving
        the first image, rather than later on the event loop: a new file was the most variable
        step of a run on this project's machine (0.03-0.7 ms). Not kept if the record was written
        meanwhile (a run stopped while its first image was saved); a failure is left for the
        record's own write to report. Made outside the lock, so the event loop never waits on it."""
        if self._record_written:
            return
        try:
            self._claimed(_written_temporary(self.path, b"", durable=False))
        except OSError:
            return

    def _claimed(self, record_file: str) -> None:
        """`record_file` kept as run.json's file, or removed if the record was written meanwhile."""
        with self._record_lock:  # the record may be being written on the event loop meanwhile
            if self._record_file is None and not self._record_written:
                self._record_file = record_file
                return
        Path(record_file).unlink(missing_ok=True)

    def write_sidecar(self, record: dict[str, Any]) -> Path:
        """Write run.json atomically. It is not fsynced: it only describes the run, and a sync costs
        as much as the rest of a run's own work; a crash of the process loses nothing either way.
        Then, the run's writes over, the next run's folder is made ahead (`wan26._spare_folders`):
        made as soon as the image was saved, it had competed with the run's last steps for the CPU."""
        path = self._write_record(readable_json(record).encode())
        SPARES.prepare(os.path.abspath(self.path.parent))
        return path

    def _write_record(self, data: bytes) -> Path:
        path = self.sidecar_path
        with self._record_lock:  # waits for a file being made ahead
            made_ahead, self._record_file, self._record_written = self._record_file, None, True
        if made_ahead is not None:
            try:
                _moved(_filled(made_ahead, data), path)
                return path
            except FileNotFoundError:  # removed since it was made (a clean-up of hidden files): a new one
                pass
        self._write_atomically(path, data, durable=False)
        return path

    def _write_atomically(self, path: Path, data: bytes, durable: bool) -> None:
        self._make()
        write_atomically(path, data, durable)

    def _make(self) -> None:
        if not self._made:
            self.path.mkdir(parents=True, exist_ok=True)
            self._made = True


def made_spare(root: str) -> tuple[str, str]:
    """A hidden folder in `root`, and run.json's (empty) file in it, for a run to come."""
    folder = os.path.join(root, f"{SPARE_PREFIX}{secrets.token_hex(16)}")
    os.mkdir(folder)
    try:
        return folder, _written_temporary(Path(folder), b"", durable=False)
    except OSError:
        os.rmdir(folder)
        raise


SPARES = SpareFolders(made_spare)  # one per process: the app makes a client for each run


def read_record(folder: Path) -> dict[str, Any] | None:
    """The run record (run.json) in `folder` as a dict; None where there is none or it cannot be
    read (bad JSON or UTF-8, nested too deep, a link put in its place)."""
    try:
        with open_no_follow(folder / SIDECAR_NAME) as file:
            record = json.load(file)
    except (OSError, ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def open_no_follow(path: Path) -> IO[bytes]:
    """Open `path` for reading, refusing a symlink put there since the folder was listed (Windows
    has no O_NOFOLLOW: there a folder listing's own check remains)."""
    return os.fdopen(os.open(path, _READ_NO_FOLLOW), "rb")


def _mode(path: Path) -> int | None:
    """The file type and permissions of `path`, or None where nothing is (one stat, where
    `os.path.exists` and `os.path.isdir` make two)."""
    try:
        return os.stat(path).st_mode
    except (OSError, ValueError):  # as os.path.exists: a path that cannot exist does not
        return None


def write_atomically(path: Path, data: bytes, durable: bool = True) -> None:
    """Write `path` so that readers (and a restart) see the whole old file or the whole new one;
    `durable`: its bytes on disk before this returns, so a power cut after it loses nothing."""
    _moved(_written_temporary(path.parent, data, durable), path)


def _moved(temporary: str, path: Path) -> None:
    """Rename `temporary` to `path`; removed if that fails."""
    try:
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _written_temporary(folder: Path, data: bytes, durable: bool) -> str:
    """A hidden file in `folder` holding `data` (fsynced when `durable`), to be renamed into place.
    Plain `os` calls: `tempfile.mkstemp` and a buffered file object cost about 10 µs more a file."""
    temporary, descriptor = _created(folder)
    return _written(temporary, lambda: descriptor, data, durable)


def _filled(name: str, data: bytes) -> str:
    """The file `name` made ahead (empty), now holding `data`."""
    return _written(name, lambda: os.open(name, _WRITE_EXISTING), data, durable=False)


def _written(name: str, opened: Callable[[], int], data: bytes, durable: bool) -> str:
    """`name`, holding `data` written through the descriptor `opened()` gives (then closed); the
    file is removed if anything fails."""
    try:
        descriptor = opened()
        try:
            _write_all(descriptor, data)
            if durable:
                os.fsync(descriptor)
        finally:
            os.close(descriptor)  # a full disk can surface here too
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return name


def _write_all(descriptor: int, data: bytes) -> None:
    view, written = memoryview(data), 0
    while written < len(view):  # os.write may write less than it is given
        written += os.write(descriptor, view[written:])


# O_BINARY: on Windows a descriptor is opened in text mode otherwise, and a "\n" in an image's bytes
# would be written as "\r\n" (tempfile.mkstemp adds it for the same reason).
_CREATE_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


# No O_TRUNC for the file made ahead: it is empty, and ext4 takes a file truncated to nothing for the
# "replace via truncate" pattern and forces its blocks out when it is closed (auto_da_alloc,
# https://docs.kernel.org/admin-guide/ext4.html): that cost more than the rest of writing run.json
# (in-process A/B on this project's machine, 2026-11-30).
_READ_NO_FOLLOW = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
# O_NOFOLLOW: the file has had a name since the folder was made; a link put in its place is refused.
_WRITE_EXISTING = os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _created(folder: Path) -> tuple[str, int]:
    """A new hidden file in `folder`, readable by its owner only (as `tempfile.mkstemp` makes it)."""
    while True:
        name = os.path.join(folder, f"{PARTIAL_PREFIX}{secrets.token_hex(8)}")
        try:
            return name, os.open(name, _CREATE_NEW, 0o600)
        except FileExistsError:  # 64 random bits: taken only in theory
            continue


def remove_stale_partials(root: Path, max_age_s: float = STALE_PARTIAL_S) -> int:
    """Remove the temporary files a crash left in the output folder `root` (where earlier versions
    wrote a run's first image) and in its run folders (run.json's file is made with the folder, and
    each image is written there first) and spare folders (`wan26._spare_folders`) once they are
    older than `max_age_s`; a younger one may be a save still going on in another process. The
    number of files removed."""
    cutoff = time.time() - max_age_s
    entries = _entries(root)
    folders = (entry.path for entry in entries if _is_folder(entry))
    return _remove_stale(entries, cutoff) + sum(_swept_run_folder(folder, cutoff) for folder in folders)


def _swept_run_folder(folder: str, cutoff: float) -> int:
    """Its stale temporary files removed, and the folder too when they were all it held (a run
    killed while saving its first image: nothing a user could open, and History would count it)."""
    entries = _entries(folder)
    removed = _remove_stale(entries, cutoff)
    if entries and removed == len(entries):
        with contextlib.suppress(OSError):  # something was written there meanwhile
            os.rmdir(folder)
    return removed


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)  # a link to a folder elsewhere is not looked into
    except OSError:  # removed meanwhile
        return False


def _entries(folder: str | Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError:  # no output folder yet, removed meanwhile, or not readable: nothing of ours to remove
        return []


def _remove_stale(entries: list[os.DirEntry[str]], cutoff: float) -> int:
    removed = 0
    for entry in entries:
        if not entry.name.startswith(PARTIAL_PREFIX):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except OSError:  # removed meanwhile by another process, or not ours to remove
            continue
    return removed


def _value_encoder() -> Callable[[Any, int], list[str] | tuple[str, ...]]:
    """json's own C encoder, made once: `json.dumps` and `JSONEncoder.encode` build a new one for
    every value that is not a string (about 1 µs each, 20 of them in a run record)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without json's C part
        encoder = json.JSONEncoder(ensure_ascii=False)
        return lambda value, _level: [encoder.encode(value)]
    # No circular-reference markers (None): a record is a tree of plain values, built here.
    encoded: Callable[[Any, int], tuple[str, ...]] = make(
        None, json.JSONEncoder().default, json.encoder.encode_basestring, None, ": ", ", ", False, False, True
    )
    return encoded


_ENCODE_VALUE = _value_encoder()
_encode_text = json.encoder.encode_basestring  # a key: quoted and escaped, non-ASCII kept (as ensure_ascii=False)


def readable_json(record: dict[str, Any]) -> str:
    """One top-level key per line. (`indent=` makes json use its pure-Python encoder up to CPython
    3.13, several times slower than the C one used here for each value.)"""
    lines = [f"  {_encode_text(key)}: {''.join(_ENCODE_VALUE(value, 0))}" for key, value in record.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def inspect_image(data: bytes) -> tuple[str, int, int]:
    """The file extension and size of image bytes, or `NotAnImage` (for a cut-off file too)."""
    extension = _extension(data)
    if extension is None:
        raise NotAnImage(f"not a PNG, JPEG or WEBP file (starts with {data[:16]!r})")
    if (cut := truncation(data)) is not None:
        raise NotAnImage(cut)
    if (size := _png_size(data)) is not None:
        return extension, *size
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError) as exc:
        raise NotAnImage(f"the image data is unreadable ({exc})") from exc
    return extension, width, height


def _png_size(data: bytes) -> tuple[int, int] | None:
    """A PNG's width and height from its first chunk, IHDR, when its CRC checks out (PNG spec §11.2.2,
    https://www.w3.org/TR/png-3/#11IHDR); None for anything else, which Pillow then reads. Opening
    the file with Pillow for the same two numbers takes 15-100 µs a call."""
    if data[8:16] != b"\x00\x00\x00\x0dIHDR" or len(data) < 33:
        return None
    if zlib.crc32(data[12:29]) != int.from_bytes(data[29:33], "big"):
        return None
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    # Pillow's own cap on what it opens stays in force: past it, Pillow is asked (and refuses).
    limit = Image.MAX_IMAGE_PIXELS
    if width <= 0 or height <= 0 or (limit is not None and width * height > 2 * limit):
        return None
    return width, height


def truncation(data: bytes) -> str | None:
    """Why `data` looks like a download cut short (a known format without its end), else None.

    A body sent without Content-Length ends when the connection closes, so a dropped connection
    looks like a complete answer; the format's own end marker tells them apart."""
    extension = _extension(data)
    if extension is None or _is_complete(data, extension):
        return None
    return f"the image ended early ({len(data):,} bytes, no {extension[1:].upper()} end marker)"


def _extension(data: bytes) -> str | None:
    extension = next((ext for magic, ext in _IMAGE_SIGNATURES.items() if data.startswith(magic)), None)
    if extension is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return extension


def _is_complete(data: bytes, extension: str) -> bool:
    if extension == ".png":  # the IEND chunk's type and CRC (PNG spec §11.2.5), allowing stray trailing bytes
        return b"IEND\xaeB`\x82" in data[-64:]
    if extension == ".jpg":  # EOI; some encoders pad after it, so look near the end
        return b"\xff\xd9" in data[-64:]
    return len(data) >= 8 and int.from_bytes(data[4:8], "little") + 8 <= len(data)  # the RIFF size
