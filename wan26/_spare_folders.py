"""Run folders made ahead, between runs, so that a run's first save makes one new file, not three.

A run's first save used to make its folder, run.json's (empty) file and the image, each a new
file or folder. On this project's machine (ext4 mounted without a journal), each new one costs
0.02 ms to over 1 ms of kernel time, by how many files were deleted in the minutes before: with no
journal, ext4 passes over every inode freed in the last minute (five, while its block is unwritten)
before it hands out a new one (`recently_deleted` in
https://github.com/torvalds/linux/blob/v6.18/fs/ext4/ialloc.c). After a run has saved its first
image, a background thread makes the next run's folder and run.json's file in the same output
folder; the next run writes its image straight into that folder and gives it the run's name.

A spare is hidden (`.spare-<random>`: History lists only names of RunFolder's shape) and holds
only a temporary file, so a spare left by a killed process is removed with it by
`storage.remove_stale_partials` once a day old. One older than `MAX_AGE_S` is not used (another
process may be about to sweep it), and those left at exit are removed then. (A crash between a
run's image reaching the disk and the folder's rename leaves the image in the hidden folder, where
no sweep removes it.)
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

SPARE_PREFIX = ".spare-"
MAX_AGE_S = 3600.0  # well under a day, the age at which any process's sweep removes a leftover
# Output folders with a spare at once: each batch and comparison has its own, used for a while.
MAX_FOLDERS = 4


@dataclass(frozen=True)
class Spare:
    folder: str
    record_file: str  # run.json's file, made ahead (empty)
    made: float  # the clock's reading when it was made


def removed(spare: Spare) -> None:
    """The spare's file and folder removed, as far as they can be (a spare is never worth an error)."""
    with contextlib.suppress(OSError):
        os.unlink(spare.record_file)
    with contextlib.suppress(OSError):
        os.rmdir(spare.folder)


class SpareFolders:
    """At most one spare per output folder, made in a background thread by `make(output folder)`,
    which gives the new folder's path and its file's."""

    def __init__(self, make: Callable[[str], tuple[str, str]], clock: Callable[[], float] = time.monotonic) -> None:
        self._make, self._clock = make, clock
        self._lock = threading.Lock()
        self._ready: dict[str, Spare] = {}
        self._pending: dict[str, Future[None]] = {}
        self._executor: ThreadPoolExecutor | None = None

    def take(self, root: str) -> Spare | None:
        """The spare made for `root`, now this caller's; None if there is none young enough."""
        with self._lock:
            spare = self._ready.pop(root, None)
        if spare is not None and self._clock() - spare.made > MAX_AGE_S:
            removed(spare)
            return None
        return spare

    def prepare(self, root: str) -> None:
        """Have a spare made for `root` in the background, unless one is there or on its way."""
        with self._lock:
            if root in self._ready or root in self._pending:
                return
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="wan26-spare-folder")
                atexit.register(self.discard)
            self._pending[root] = self._executor.submit(self._made, root)
            evicted = self._oldest_beyond_limit()
        for spare in evicted:
            removed(spare)

    def _oldest_beyond_limit(self) -> list[Spare]:
        """The spares made longest ago beyond `MAX_FOLDERS` folders, taken out (caller holds the lock)."""
        extra = len(self._ready) + len(self._pending) - MAX_FOLDERS
        return [self._ready.pop(root) for root in list(self._ready)[: max(extra, 0)]]

    def settled(self) -> None:
        """Return once the spares on their way are made (for measurements and tests)."""
        with self._lock:
            pending = list(self._pending.values())
        for future in pending:
            future.result()

    def discard(self) -> None:
        """Remove every spare (at exit: nothing of ours is left behind)."""
        self.settled()
        with self._lock:
            spares, self._ready = list(self._ready.values()), {}
        for spare in spares:
            removed(spare)

    def _made(self, root: str) -> None:
        try:
            spare: Spare | None = Spare(*self._make(root), self._clock())
        except OSError:  # no room, no rights, the folder removed: the next run makes its own folder
            spare = None
        with self._lock:
            del self._pending[root]
            if spare is not None:
                self._ready[root] = spare
