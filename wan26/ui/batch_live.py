"""Batches running in the app. Each runs in an asyncio task of its own, not in the page's event:
closing the page (or losing the connection) does not cut a batch off, so every row sent is seen to
its end and its images saved. Any number of pages follow it (the one that started it, and any page
that brings it back by its id after a reload): each gets the events so far, then the new ones. One
batch at a time per session, and at most MAX_RUNNING in the whole app; the newest ended batches
are kept a while, so a page reloaded just after the end finds how it ended."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from wan26.batch import BatchEnded, BatchEvent, BatchRun, Journal, Plan, RowRecord, Tally, write_report
from wan26.errors import Wan26Error
from wan26.ui.batch_folder import zip_folder

MAX_RUNNING = 8  # batches at once in the app; each holds a few connections per vendor
KEPT_ENDED = 32  # ended batches kept with their events; older ones are read back from their folder
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Ended:
    """The batch is over: the zip of its folder (None if it could not be written), how its run
    ended (None if it never started), and the error that kept it from starting or going on."""

    archive: Path | None
    ended: BatchEnded | None
    failure: Exception | None


Item = BatchEvent | Ended


class LiveBatch:
    """One batch of one session: `start()` it, `follow()` it (from any number of pages), `stop()` it politely."""

    def __init__(self, folder: Path, plan: Plan, run: BatchRun, journal: Journal, cap_usd: float | None = None) -> None:
        self.folder, self.plan, self.run, self.journal = folder, plan, run, journal
        self.cap_usd = cap_usd  # the visitor's most to spend, for the end summary
        self.stopping = False
        self._seen: list[Item] = []  # every event so far: a page that comes later rebuilds its view from them
        self._followers: set[asyncio.Queue[Item]] = set()
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[None] | None = None

    @property
    def id(self) -> str:
        return self.folder.name

    @property
    def records(self) -> list[RowRecord]:
        return self.run.records

    def tally(self) -> Tally:
        return self.run.tally()

    @property
    def ended(self) -> bool:
        return bool(self._seen) and isinstance(self._seen[-1], Ended)

    def start(self, on_end: Callable[[], None]) -> None:
        self._task = asyncio.create_task(self._drive(on_end))

    def stop(self) -> None:
        """Start no more rows; the rows under way finish and are saved. (From any thread: the run
        belongs to the loop it was started on.)"""
        self.stopping = True
        self._loop.call_soon_threadsafe(self.run.stop)

    def follow(self) -> tuple[list[Item], AsyncIterator[Item]]:
        """The events so far, and the later ones as they come (ending with `Ended`). Taken in one
        step, so no event is missed or seen twice; each follower has its own queue."""
        if self.ended:
            return list(self._seen), _nothing()
        inbox: asyncio.Queue[Item] = asyncio.Queue()
        self._followers.add(inbox)
        return list(self._seen), self._later(inbox)

    async def updates(self) -> AsyncIterator[Item]:
        """Every event, those so far first, ending with `Ended`."""
        seen, later = self.follow()
        for item in seen:
            yield item
        async for item in later:
            yield item

    async def _later(self, inbox: asyncio.Queue[Item]) -> AsyncIterator[Item]:
        try:
            while not isinstance(item := await inbox.get(), Ended):
                yield item
            yield item
        finally:  # a page closed: its queue goes
            self._followers.discard(inbox)

    def _tell(self, item: Item) -> None:
        self._seen.append(item)
        for inbox in self._followers:
            inbox.put_nowait(item)
        if isinstance(item, Ended):  # nothing comes after it: a follower that never read on holds no queue
            self._followers.clear()

    async def _drive(self, on_end: Callable[[], None]) -> None:
        ended: BatchEnded | None = None
        failure: Exception | None = None
        try:
            async for event in self.run.events():
                ended = event if isinstance(event, BatchEnded) else ended
                self._tell(event)
        except Exception as error:  # noqa: BLE001 (the page says it in one sentence; the log keeps the traceback)
            failure = error
            # A setup error (a key refused before anything was sent) needs no traceback in the log.
            log.warning("batch %s ended early: %s", self.folder.name, error, exc_info=not isinstance(error, Wan26Error))
        finally:
            self.journal.close()
            archive = await asyncio.to_thread(self._report)
            self._tell(Ended(archive, ended, failure))
            on_end()

    def _report(self) -> Path | None:
        """The index, the contact sheet and the zip, however the batch ended (its rows are journaled)."""
        try:
            write_report(self.folder, self.plan, self.run.records)
            return zip_folder(self.folder)
        except OSError:
            log.exception("batch %s: its report or zip could not be written", self.folder.name)
            return None


async def _nothing() -> AsyncIterator[Item]:
    return
    yield  # an async generator that yields nothing


class BusyError(Exception):
    """This session runs a batch already, or the app runs its most."""


class LiveBatches:
    """The running batches, by the session that started each (Gradio's session hash, which only
    that page holds), and by id (the folder's name, which only that page's browser keeps): a page
    can stop and follow its own batch, and a batch whose id it holds, and no other."""

    def __init__(self, most: int = MAX_RUNNING, kept: int = KEPT_ENDED) -> None:
        self.most, self.kept = most, kept
        self._by_session: dict[str, LiveBatch | None] = {}  # None: claimed, being started
        self._by_id: OrderedDict[str, LiveBatch] = OrderedDict()  # running, and the newest ended

    def of(self, session: str | None) -> LiveBatch | None:
        return self._by_session.get(session or "")

    def find(self, batch_id: str) -> LiveBatch | None:
        """The batch of this id, running or lately ended (an id a browser sends: checked before)."""
        return self._by_id.get(batch_id)

    def running(self, batch_id: str) -> LiveBatch | None:
        live = self.find(batch_id)
        return live if live is not None and not live.ended else None

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
        self._by_id[live.id] = live

        def ended() -> None:
            del self._by_session[session]
            self._by_id.move_to_end(live.id)
            finished = [key for key, kept in self._by_id.items() if kept.ended]
            for key in finished[: max(0, len(finished) - self.kept)]:  # the oldest ended go first
                del self._by_id[key]

        live.start(ended)
