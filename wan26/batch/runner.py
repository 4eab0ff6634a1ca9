"""Running a batch: each vendor's rows at that vendor's pace, within the cost cap, every state
journaled before it matters. `BatchRun.events()` drives it and yields what changed; `stop()` ends
it early. Nothing is printed here: the command line (`wan26._cli_batch`) and the app show events.

Exactly once: a row is journaled SENDING before its request can leave, and ACCEPTED with its task
id the moment the vendor gives one. A later run fetches ACCEPTED rows instead of sending them and
finds a row still SENDING to have been cut off mid-request: UNKNOWN, never sent again silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from wan26._lanes import MAX_CONCURRENT_ENV
from wan26._run.checks import drawn_seed
from wan26.batch.journal import CUT_OFF, Journal, JournalError
from wan26.batch.outcome import error_text, status_after
from wan26.batch.plan import Plan, PlannedRow
from wan26.batch.state import RowRecord, RowStatus, Tally, Totals
from wan26.batch.throttle import Throttle
from wan26.client import AsyncClient, fetch_command
from wan26.errors import ProtocolError, ProviderError, RateLimited, Wan26Error
from wan26.providers import get_adapter
from wan26.types import Event, Finished, GenerationResult, ImageRequest, Mode, Progress

DEFAULT_CONCURRENCY = 4  # rows at once for a vendor that documents no cap of its own
MAX_RATE_LIMITED = 10  # rate-limit answers one row may get before it is left not started
_EPSILON_USD = 1e-9  # sums of prices in floating point: $0.03 × 3 must still fit a $0.09 cap

CAPPED = "its cost cap (--max-cost)"  # in the reason of every row the cap left not started


def left_by_cap(record: RowRecord) -> bool:
    """The row was not started because of the cost cap (the app words it for its own page)."""
    return record.status is RowStatus.NOT_STARTED and CAPPED in (record.error or "")


ClientFactory = Callable[[str], AsyncClient]
"""A client for a vendor name, saving its runs into the batch folder."""


def default_clients(folder: Path, env: Mapping[str, str]) -> ClientFactory:
    """Clients from the environment's keys. The batch paces each vendor itself (`Throttle`), so the
    client's own line per key is switched off: a row waiting there would be journaled as sending."""
    settings = {**env, MAX_CONCURRENT_ENV: "0"}

    def make(provider: str) -> AsyncClient:
        return AsyncClient(provider, output_dir=folder, env=settings)

    return make


@dataclass(frozen=True, slots=True)
class RunOptions:
    max_cost_usd: float | None = None  # for the whole batch, over every run of it
    concurrency: int | None = None  # rows at once per vendor; None: the vendor's documented cap
    retry_unknown: bool = False  # send UNKNOWN rows again (they may have been billed once already)
    retry_failed: bool = False  # send FAILED rows again
    rate: float | None = None  # rows started per second per vendor; None: the vendor's documented rate

    def concurrency_for(self, provider: str) -> int:
        return self.concurrency or get_adapter(provider).facts.max_concurrent_per_key or DEFAULT_CONCURRENCY

    def gap_for(self, provider: str) -> float:
        """Seconds between two starts for `provider` (0: as fast as the rows at once allow)."""
        rate = self.rate or get_adapter(provider).facts.submissions_per_second
        return 1.0 / rate if rate else 0.0


@dataclass(frozen=True, slots=True)
class RowChanged:
    record: RowRecord  # as journaled
    tally: Tally


@dataclass(frozen=True, slots=True)
class SlowedDown:
    """A vendor answered "rate limited": its row goes back in line, and the vendor's pace drops."""

    provider: str
    pause_s: float
    at_once: int
    tally: Tally


@dataclass(frozen=True, slots=True)
class BatchEnded:
    tally: Tally
    stopped: bool  # by `stop()`, before every row was tried


BatchEvent = RowChanged | SlowedDown | BatchEnded


@dataclass(slots=True)
class _Item:
    row: PlannedRow
    fetch: bool  # its task was accepted earlier: fetch it, never send it
    rate_limited: int = 0


@dataclass(slots=True)
class _Lane:
    """One vendor's rows: its client, its pace, its queue."""

    client: AsyncClient
    throttle: Throttle
    queue: deque[_Item]
    running: int = 0


class BatchRun:
    """One run of a batch: `async for event in BatchRun(...).events()`. Construction checks the
    journal against the plan (`journal.BatchChanged` when the rows differ) before anything is sent."""

    def __init__(
        self,
        plan: Plan,
        journal: Journal,
        clients: ClientFactory,
        options: RunOptions = RunOptions(),
        *,
        folder: Path,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rows = {row.number: row for row in plan.rows}
        self._journal, self._clients, self._options = journal, clients, options
        self._folder, self._clock = folder.resolve(), clock
        self._records = {record.number: record for record in journal.bind(plan)}
        self._totals = Totals.of(self._records.values())
        self._lanes: dict[str, _Lane] = {}
        self._todo: set[int] = set()  # rows this run still has to take somewhere
        self._ended_here, self._started_at = 0, clock()
        self._stopping = self._capped = False
        self._reserved_usd = 0.0  # estimates of rows admitted under the cap, not yet journaled as sending
        self._moved = asyncio.Event()
        self._inbox: asyncio.Queue[BatchEvent | None] = asyncio.Queue()
        self._row_tasks: set[asyncio.Task[None]] = set()

    @property
    def records(self) -> list[RowRecord]:
        return [self._records[number] for number in sorted(self._records)]

    def stop(self, now: bool = False) -> None:
        """Start no more rows; `now`: also cut off the rows under way (their accepted tasks stay
        fetchable by the next run; a request still out becomes UNKNOWN)."""
        self._stopping = True
        if now:
            for task in self._row_tasks:
                task.cancel()
        self._wake()

    async def events(self) -> AsyncIterator[BatchEvent]:
        """Run the batch, yielding each change; the last event is `BatchEnded`. Raises `ConfigError`
        (a vendor's key is missing) before anything is sent."""
        await self._open_lanes()
        driver = asyncio.create_task(self._drive())
        try:
            while (event := await self._inbox.get()) is not None:
                yield event
            await driver  # its error, if it failed
        finally:
            if not driver.done():
                driver.cancel()
                await asyncio.gather(driver, return_exceptions=True)
        yield BatchEnded(self.tally(), self._stopping)

    def tally(self) -> Tally:
        counts = self._totals.counts
        minutes = (self._clock() - self._started_at) / 60
        rate = self._ended_here / minutes if self._ended_here and minutes > 0 else None
        return Tally(
            total=len(self._records),
            done=counts[RowStatus.DONE],
            failed=counts[RowStatus.FAILED],
            unknown=counts[RowStatus.UNKNOWN],
            accepted=counts[RowStatus.ACCEPTED],
            not_started=counts[RowStatus.NOT_STARTED],
            running=sum(lane.running for lane in self._lanes.values()),
            images=self._totals.images,
            spent_usd=round(self._totals.spent_usd, 6),
            committed_usd=round(self._committed(), 6),
            rows_per_min=rate,
            eta_s=None if rate is None else len(self._todo) / rate * 60,
        )

    # ---- scheduling ------------------------------------------------------------------------------

    async def _open_lanes(self) -> None:
        """A lane per vendor with work, fetches first; every client made before any row is sent."""
        try:
            for item in self._work():
                self._lane(item.row.provider).queue.append(item)
                self._todo.add(item.row.number)
        except Wan26Error:
            await self._close_clients()
            raise

    def _work(self) -> list[_Item]:
        sendable = {RowStatus.NOT_STARTED}
        sendable |= {RowStatus.UNKNOWN} if self._options.retry_unknown else set()
        sendable |= {RowStatus.FAILED} if self._options.retry_failed else set()
        records = self.records
        fetches = [_Item(self._rows[r.number], True) for r in records if r.status is RowStatus.ACCEPTED]
        return fetches + [_Item(self._rows[r.number], False) for r in records if r.status in sendable]

    def _lane(self, provider: str) -> _Lane:
        if provider not in self._lanes:
            options = self._options
            throttle = Throttle(options.concurrency_for(provider), min_gap_s=options.gap_for(provider))
            self._lanes[provider] = _Lane(self._clients(provider), throttle, deque())
        return self._lanes[provider]

    async def _drive(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                for lane in self._lanes.values():
                    group.create_task(self._dispatch(lane, group))
        except BaseExceptionGroup as failed:  # the first journal failure, as itself: the caller can say it
            journal_failures = failed.subgroup(JournalError)
            if journal_failures is None:
                raise
            raise _first_leaf(journal_failures) from None
        finally:
            await self._close_clients()
            self._inbox.put_nowait(None)

    async def _close_clients(self) -> None:
        await asyncio.gather(*(lane.client.aclose() for lane in self._lanes.values()), return_exceptions=True)

    async def _dispatch(self, lane: _Lane, group: asyncio.TaskGroup) -> None:
        while (item := await self._next(lane)) is not None:
            if item.fetch or self._within_cap(item):
                # Counted at once: the row's own task journals it as SENDING only when it first runs.
                self._reserved_usd += 0.0 if item.fetch else item.row.estimate.usd or 0.0
                lane.running += 1
                task = group.create_task(self._run_row(lane, item))
                self._row_tasks.add(task)
                task.add_done_callback(functools.partial(self._row_ended, lane))

    def _row_ended(self, lane: _Lane, task: asyncio.Task[None]) -> None:
        """A row's task ended, however (even cancelled before it ran): its place is free."""
        self._row_tasks.discard(task)
        lane.running -= 1
        self._wake()

    async def _next(self, lane: _Lane) -> _Item | None:
        """The lane's next row once the vendor's pace allows; None when the lane is done or stopped."""
        while not self._stopping:
            if self._capped:
                self._drop_sends(lane)
            if not lane.queue and not lane.running:
                return None
            now = self._clock()
            if lane.queue and lane.throttle.may_start(lane.running, now):
                lane.throttle.started(now)
                return lane.queue.popleft()
            pause = lane.throttle.wait_s(now)
            await self._changed(pause if lane.queue and pause > 0 else None)
        return None

    async def _changed(self, timeout: float | None) -> None:
        """Return when a row ended, the batch was stopped, or `timeout` passed."""
        moved = self._moved
        try:
            async with asyncio.timeout(timeout):
                await moved.wait()
        except TimeoutError:
            pass

    def _wake(self) -> None:
        self._moved.set()
        self._moved = asyncio.Event()

    def _within_cap(self, item: _Item) -> bool:
        """Whether the row may start under --max-cost; if not, no row to send starts any more."""
        cap, estimate, committed = self._options.max_cost_usd, item.row.estimate.usd or 0.0, self._committed()
        if cap is None or committed + estimate <= cap + _EPSILON_USD:
            return True
        self._capped = True
        why = f"its estimated ${estimate:.3f} would take the batch past {CAPPED} ${cap:.2f}"
        self._set_aside(item, f"not started: {why} (${committed:.3f} spent or under way)")
        return False

    def _drop_sends(self, lane: _Lane) -> None:
        """Past the cap: the rows left to send are set aside; fetches go on (they are paid for)."""
        for item in [item for item in lane.queue if not item.fetch]:
            lane.queue.remove(item)
            self._set_aside(item, f"not started: the batch reached {CAPPED}")

    def _committed(self) -> float:
        return self._totals.committed_usd + self._reserved_usd

    # ---- one row ----------------------------------------------------------------------------------

    async def _run_row(self, lane: _Lane, item: _Item) -> None:
        try:
            if item.fetch:
                await self._fetch(lane, item)
            else:
                await self._send(lane, item)
        except asyncio.CancelledError:
            self._cut_off(item)
            raise

    async def _send(self, lane: _Lane, item: _Item) -> None:
        row, record = item.row, self._records[item.row.number]
        request = _seeded(row, record.seed)
        events = lane.client.events(request, flow=row.flow)  # nothing leaves until it is read
        # Counted by its record from now on: released first, as saving shows the progress line at once.
        self._reserved_usd -= record.estimate_usd or 0.0
        self._save(_sending(record, request.seed, self._relative(lane.client.run_dir)))  # before it can leave
        try:
            result = await self._followed(events, row)
        except JournalError:
            raise  # not this row's outcome: the batch stops (see _drive)
        except Exception as error:  # noqa: BLE001 (any error becomes this row's state; the batch goes on)
            self._failed(lane, item, error)
        else:
            self._done(lane, row.number, result)

    async def _followed(self, events: AsyncGenerator[Event, None], row: PlannedRow) -> GenerationResult:
        """Read the run to its end, journaling its task id the moment the vendor gives it. Closed
        however it ends, so a run left unread writes its record (with its task id) at once."""
        result = None
        async with contextlib.aclosing(events):
            async for event in events:
                if isinstance(event, Progress) and event.task_id and self._records[row.number].task_id is None:
                    self._accepted(row, event.task_id)
                elif isinstance(event, Finished):
                    result = event.result
        if result is None:
            raise ProtocolError("the run ended without a result", provider="wan26")
        return result

    def _accepted(self, row: PlannedRow, task_id: str) -> None:
        try:
            self._save(replace(self._records[row.number], status=RowStatus.ACCEPTED, task_id=task_id))
        except JournalError as error:  # the task runs at the vendor: the user must learn its id here
            command = fetch_command(task_id, row.job.request.mode, row.provider, row.job.request.model)
            error.add_note(f"Row {row.number}'s task {task_id} was accepted and is not journaled: {command}")
            raise

    async def _fetch(self, lane: _Lane, item: _Item) -> None:
        record = self._records[item.row.number]
        try:
            # The row's own request names the model: the journal's record was made from it.
            model = item.row.job.request.model
            into = Path(self._folder, record.run_dir) if record.run_dir else None  # beside what the row sent
            result = await lane.client.fetch(record.task_id or "", Mode(record.mode), model, into=into)
        except Exception as error:  # noqa: BLE001 (as in _send)
            self._failed(lane, item, error)
        else:
            self._done(lane, record.number, result)

    def _done(self, lane: _Lane, number: int, result: GenerationResult) -> None:
        lane.throttle.got_through()
        record = self._records[number]
        done = replace(
            record,
            status=RowStatus.DONE,
            task_id=result.task_id or record.task_id,
            request_id=result.request_id or record.request_id,
            cost_usd=result.cost_usd,
            run_dir=self._relative(result.run_dir),
            files=self._files(result),
            seed=result.seed if result.seed is not None else record.seed,  # a fetched run never saw its seed
            error=None,
        )
        self._ended(done)

    def _failed(self, lane: _Lane, item: _Item, error: Exception) -> None:
        record = self._records[item.row.number]
        status = status_after(error, accepted=record.task_id is not None)
        if isinstance(error, RateLimited) and status is RowStatus.NOT_STARTED:
            self._rate_limited(lane, item, error)
            return
        lane.throttle.got_through()  # the vendor answered, and not with "slow down"
        partial = error.partial_result if isinstance(error, ProviderError) else None
        request_id = error.request_id if isinstance(error, ProviderError) else None
        self._ended(
            replace(
                record,
                status=status,
                error=error_text(error),
                request_id=request_id or record.request_id,
                files=self._files(partial) if partial is not None else record.files,
                run_dir=self._relative(partial.run_dir) if partial is not None else record.run_dir,
            )
        )

    def _rate_limited(self, lane: _Lane, item: _Item, error: RateLimited) -> None:
        """Refused unprocessed: back to the front of the line, and the vendor's pace drops."""
        item.rate_limited += 1
        record = replace(self._records[item.row.number], status=RowStatus.NOT_STARTED)
        if item.rate_limited >= MAX_RATE_LIMITED:
            self._ended(replace(record, error=f"not sent: still rate limited after {item.rate_limited} tries"))
            return
        self._save(replace(record, error=None))
        pause = lane.throttle.limited(self._clock(), error.retry_after)
        lane.queue.appendleft(item)
        self._inbox.put_nowait(SlowedDown(item.row.provider, pause, lane.throttle.at_once, self.tally()))

    def _cut_off(self, item: _Item) -> None:
        """Stopped mid-row: a request still out may have been billed (UNKNOWN); a task stays fetchable."""
        record = self._records[item.row.number]
        if record.status is RowStatus.SENDING:
            self._ended(replace(record, status=RowStatus.UNKNOWN, error=CUT_OFF))

    def _set_aside(self, item: _Item, why: str) -> None:
        self._todo.discard(item.row.number)
        self._save(replace(self._records[item.row.number], status=RowStatus.NOT_STARTED, error=why))

    def _ended(self, record: RowRecord) -> None:
        self._todo.discard(record.number)
        self._ended_here += 1
        self._save(record)

    def _save(self, record: RowRecord) -> None:
        """Journal `record` (or raise `JournalError`), then count it."""
        self._journal.save(record)
        self._totals.replaced(self._records[record.number], record)
        self._records[record.number] = record
        self._inbox.put_nowait(RowChanged(record, self.tally()))

    # ---- paths ----------------------------------------------------------------------------------

    def _files(self, result: GenerationResult) -> tuple[str, ...]:
        return tuple(self._relative(image.path) or str(image.path) for image in result.images)

    def _relative(self, path: Path | None) -> str | None:
        """`path` from the batch folder, so the folder can move; absolute if it lies elsewhere."""
        if path is None:
            return None
        absolute = path.resolve()
        return absolute.relative_to(self._folder).as_posix() if absolute.is_relative_to(self._folder) else str(path)


def _first_leaf(group: BaseExceptionGroup[JournalError]) -> JournalError:
    first = group.exceptions[0]
    return first if isinstance(first, JournalError) else _first_leaf(first)


def _seeded(row: PlannedRow, kept: int | None) -> ImageRequest:
    """The row's request with its seed fixed here, not in the client, so that the journal knows it
    before sending: a row fetched after a crash still records the seed its images were made with.
    A row sent again keeps the seed it was first given."""
    request = row.job.request
    limits = get_adapter(row.provider).facts.mode_limits(request)
    if request.seed is not None or limits is None or limits.seed is None:
        return request
    return replace(request, seed=kept if kept is not None else drawn_seed(request, limits))


def _sending(record: RowRecord, seed: int | None, run_dir: str | None) -> RowRecord:
    """A fresh attempt: what an earlier one left is cleared, except what it may have cost. An
    attempt left UNKNOWN may have been billed, so its estimate stays counted when the row is sent again."""
    earlier = record.earlier_usd + (record.estimate_usd or 0.0) * (record.status is RowStatus.UNKNOWN)
    return RowRecord(
        record.number,
        record.line,
        record.row_hash,
        record.provider,
        record.mode,
        RowStatus.SENDING,
        estimate_usd=record.estimate_usd,
        earlier_usd=earlier,
        run_dir=run_dir,
        seed=seed,
        attempts=record.attempts + 1,
    )
