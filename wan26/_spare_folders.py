"""Run folders made ahead, between runs: a run's first save then makes one new file, not three.

A run's first save makes its folder, run.json's (empty) file and the image, each a new file or
folder. On this project's machine (ext4 mounted without a journal), each new one costs 0.02 ms to
over 1 ms of kernel time, by how many files were deleted in the minutes before: with no journal,
ext4 passes over every inode freed in the last minute (five minutes, while its block is unwritten)
before it hands out a new one (`recently_deleted` in
https://github.com/torvalds/linux/blob/v6.18/fs/ext4/ialloc.c). After a run has written its record
(its last write), a background thread makes the next run's folder and run.json's file in the same output
folder; the next run there, when one is ready, writes its image straight into that folder and gives
it the run's name. Without one (the first run in a process or an output folder, runs at once, a
spare over an hour old), a run makes its own, as before.

A spare is hidden (`.spare-<random>`: History lists only names of RunFolder's shape) and holds
only a temporary file. Those left at exit are removed then; one left by a killed process is
removed with its file by `storage.remove_stale_partials` once a day old, which the app runs on its
output folder when it starts (not the command line, nor inside batch and comparison folders). One
older than `MAX_AGE_S` is not used, as another process's sweep may be about to remove it. (A crash
or power cut between a run's image reaching the disk and the folder's rename reaching it leaves the
image in the hidden folder, where no sweep removes it.)
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


def _all_removed(spares: list[Spare]) -> None:
    for spare in spares:
        removed(spare)


def removed(spare: Spare) -> None:
    """The spare's file and folder removed, as far as they can be (a spare is never worth an error)."""
    with contextlib.suppress(OSError):
        os.unlink(spare.record_file)
    with contextlib.suppress(OSError):
        os.rmdir(spare.folder)


class SpareFolders:
    """At most one spare per output folder, made in a background thread by `make(output folder)`,
    which gives the new folder's path and its file's."""

    def __init__(self, make: Callable[[str], tuple[str, str]], clock: Callable[[], float] = time.time) -> None:
        # Wall-clock time, as the sweep reads a file's age from its modification time.
        self._make, self._clock = make, clock
        self._reset()
        if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        """Nothing made yet. Also in a forked child: the parent's spares are the parent's, and the
        parent's background thread does not exist there."""
        self._lock = threading.Lock()
        self._ready: dict[str, Spare] = {}
        self._pending: dict[str, Future[None]] = {}
        self._executor: ThreadPoolExecutor | None = None

    def take(self, root: str) -> Spare | None:
        """The spare made for `root`, now this caller's; None if there is none young enough."""
        with self._lock:
            spare = self._ready.pop(root, None)
            if spare is None or self._clock() - spare.made <= MAX_AGE_S:
                return spare
            self._remove_later([spare])
            return None

    def prepare(self, root: str) -> None:
        """Have a spare made for `root` in the background, unless one is there or on its way. Never
        raises: it is called once a run's record is written, and what the run saved is what counts."""
        with self._lock:
            if root in self._ready or root in self._pending:
                return
            try:
                self._pending[root] = self._background().submit(self._made, root)
            except RuntimeError:  # the interpreter is shutting down (Ctrl-C while a run saved)
                return
            self._remove_later(self._oldest_beyond_limit())

    def _background(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="wan26-spare-folder")
            atexit.register(self.discard)
        return self._executor

    def _remove_later(self, spares: list[Spare]) -> None:
        """Removed in the background, off the run's path (caller holds the lock)."""
        if spares:
            try:
                self._background().submit(_all_removed, spares)
            except RuntimeError:  # the interpreter is shutting down: now, then
                _all_removed(spares)

    def _oldest_beyond_limit(self) -> list[Spare]:
        """The spares made longest ago beyond `MAX_FOLDERS` folders, taken out (caller holds the lock)."""
        extra = len(self._ready) + len(self._pending) - MAX_FOLDERS
        return [self._ready.pop(root) for root in list(self._ready)[: max(extra, 0)]]

    def settled(self) -> None:
        """Return once the spares on their way are made, and those let go removed (for
        measurements and tests)."""
        with self._lock:
            executor = self._executor
        if executor is None:
            return
        try:
            executor.submit(lambda: None).result()  # one thread: everything submitted before is done
        except RuntimeError:  # at exit: its thread has already finished all it was given
            return

    def discard(self) -> None:
        """Remove every spare (at exit: nothing of ours is left behind)."""
        self.settled()
        with self._lock:
            spares, self._ready = list(self._ready.values()), {}
        for spare in spares:
            removed(spare)

    def _made(self, root: str) -> None:
        spare: Spare | None = None
        try:
            spare = Spare(*self._make(root), self._clock())
        except OSError:  # no room, no rights, the folder removed: the next run makes its own folder
            pass
        finally:
            with self._lock:
                del self._pending[root]
                if spare is not None:
                    self._ready[root] = spare
