"""Batches running in the app. Each runs in an asyncio task of its own, not in the page's event:
closing the page (or losing the connection) does not cut a batch off, so every row sent is seen to
its end and its images saved; its page follows it through a queue of its events. One batch at a
time per session, and at most MAX_RUNNING in the whole app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from wan26.batch import BatchEnded, BatchEvent, BatchRun, Journal, Plan, write_report
from wan26.errors import Wan26Error
from wan26.ui.batch_folder import zip_folder

MAX_RUNNING = 8  # batches at once in the app; each holds a few connections per vendor
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Ended:
    """The batch is over: the zip of its folder (None if it could not be written), how its run
    ended (None if it never started), and the error that kept it from starting or going on."""

    archive: Path | None
    ended: BatchEnded | None
    failure: Exception | None


class LiveBatch:
    """One batch of one session: `start()` it, read `updates()`, `stop()` it politely."""

    def __init__(self, folder: Path, plan: Plan, run: BatchRun, journal: Journal, cap_usd: float | None = None) -> None:
        self.folder, self.plan, self.run, self.journal = folder, plan, run, journal
        self.cap_usd = cap_usd  # the visitor's most to spend, for the end summary
        self.stopping = False
        self._inbox: asyncio.Queue[BatchEvent | Ended] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[None] | None = None

    def start(self, on_end: Callable[[], None]) -> None:
        self._task = asyncio.create_task(self._drive(on_end))

    def stop(self) -> None:
        """Start no more rows; the rows under way finish and are saved. (From any thread: the run
        belongs to the loop it was started on.)"""
        self.stopping = True
        self._loop.call_soon_threadsafe(self.run.stop)

    async def updates(self) -> AsyncIterator[BatchEvent | Ended]:
        """The batch's events as they come, ending with `Ended`."""
        while True:
            item = await self._inbox.get()
            yield item
            if isinstance(item, Ended):
                return

    async def _drive(self, on_end: Callable[[], None]) -> None:
        ended: BatchEnded | None = None
        failure: Exception | None = None
        try:
            async for event in self.run.events():
                ended = event if isinstance(event, BatchEnded) else ended
                self._inbox.put_nowait(event)
        except Exception as error:  # noqa: BLE001 (the page says it in one sentence; the log keeps the traceback)
            failure = error
            # A setup error (a key refused before anything was sent) needs no traceback in the log.
            log.warning("batch %s ended early: %s", self.folder.name, error, exc_info=not isinstance(error, Wan26Error))
        finally:
            self.journal.close()
            archive = await asyncio.to_thread(self._report)
            self._inbox.put_nowait(Ended(archive, ended, failure))
            on_end()

    def _report(self) -> Path | None:
        """The index, the contact sheet and the zip, however the batch ended (its rows are journaled)."""
        try:
            write_report(self.folder, self.plan, self.run.records)
            return zip_folder(self.folder)
        except OSError:
            log.exception("batch %s: its report or zip could not be written", self.folder.name)
            return None


class BusyError(Exception):
    """This session runs a batch already, or the app runs its most."""


class LiveBatches:
    """The running batches, by the session that started each (Gradio's session hash, which only
    that page holds): a page can stop and follow its own batch, and no other."""

    def __init__(self, most: int = MAX_RUNNING) -> None:
        self.most = most
        self._by_session: dict[str, LiveBatch | None] = {}  # None: claimed, being started

    def of(self, session: str | None) -> LiveBatch | None:
        return self._by_session.get(session or "")

    def claim(self, session: str) -> None:
        """Hold `session`'s place while its batch is being started; BusyError("session") when it
        has a batch already (or no session), BusyError("app") when the app runs its most."""
        if not session or session in self._by_session:
            raise BusyError("session")
        if len(self._by_session) >= self.most:
            raise BusyError("app")
        self._by_session[session] = None

    def release(self, session: str) -> None:
        """Give back a claim that no batch took up (the file did not run); a batch started stays."""
        if session in self._by_session and self._by_session[session] is None:
            del self._by_session[session]

    def start(self, session: str, live: LiveBatch) -> None:
        """Start `live` in `session`'s claimed place, kept until the batch ends."""
        self._by_session[session] = live

        def ended() -> None:
            del self._by_session[session]

        live.start(ended)
