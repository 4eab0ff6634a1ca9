"""A batch row's state: the closed set of statuses, the record the journal keeps of each row, and
the batch's running totals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class RowStatus(StrEnum):
    """Where a row stands. Only NOT_STARTED rows are ever sent without being asked."""

    NOT_STARTED = "not_started"  # never sent (or refused unprocessed: rate limited, no connection)
    SENDING = "sending"  # a request may be on its way, and no task id is known yet
    ACCEPTED = "accepted"  # the vendor accepted a task: it is fetched, never sent again
    DONE = "done"  # its images are on disk
    FAILED = "failed"  # refused, or the task failed: nothing was billed (`--retry-failed` sends it again)
    UNKNOWN = "unknown"  # sent, with no answer kept: it may have been billed (`--retry-unknown`)

    @property
    def is_final(self) -> bool:
        """Nothing more happens to the row unless the user asks (a retry flag)."""
        return self in (RowStatus.DONE, RowStatus.FAILED, RowStatus.UNKNOWN)


@dataclass(frozen=True, slots=True)
class RowRecord:
    """What the journal knows of one row; paths are relative to the batch folder."""

    number: int  # 1-based, in the jobs file's order
    line: int  # the line of the jobs file the row starts on
    row_hash: str  # what was asked, so a changed jobs file is noticed
    provider: str
    mode: str
    status: RowStatus = RowStatus.NOT_STARTED
    task_id: str | None = None
    request_id: str | None = None
    cost_usd: float | None = None  # as the vendor reported it
    estimate_usd: float | None = None  # the list-price estimate, before sending
    earlier_usd: float = 0.0  # estimates of earlier attempts whose outcome stayed unknown (maybe billed)
    run_dir: str | None = None
    files: tuple[str, ...] = ()
    seed: int | None = None
    error: str | None = None  # why it failed, is unknown, or was not started
    attempts: int = 0  # requests sent for this row, over every run of the batch

    @property
    def spent_usd(self) -> float:
        """What this row has cost or may have cost: the reported cost, else the estimate once sent."""
        if self.status is RowStatus.NOT_STARTED or self.status is RowStatus.FAILED:
            return self.earlier_usd
        if self.cost_usd is not None:
            return self.cost_usd + self.earlier_usd
        return (self.estimate_usd or 0.0) + self.earlier_usd


@dataclass(frozen=True, slots=True)
class Tally:
    """The batch at a glance, for a progress line."""

    total: int
    done: int
    failed: int
    unknown: int
    accepted: int  # tasks accepted and not yet saved (being fetched, or left for the next run)
    not_started: int
    running: int
    images: int
    spent_usd: float  # rows done or unknown: the reported cost, else the estimate
    committed_usd: float  # `spent_usd` plus the rows under way
    rows_per_min: float | None  # rows ended in this run, per minute
    eta_s: float | None  # for the rows this run still has to do, at that rate


@dataclass(slots=True)
class Totals:
    """Sums over every row's record, kept up to date one change at a time (`replaced`), so a batch
    of thousands of rows does not add them all up again on each event."""

    counts: Counter[RowStatus] = field(default_factory=Counter)
    images: int = 0  # files of DONE rows
    spent_usd: float = 0.0  # rows no longer under way
    committed_usd: float = 0.0  # every row, those under way included

    @classmethod
    def of(cls, records: Iterable[RowRecord]) -> Totals:
        totals = cls()
        for record in records:
            totals.add(record, 1)
        return totals

    def replaced(self, old: RowRecord, new: RowRecord) -> None:
        self.add(old, -1)
        self.add(new, 1)

    def add(self, record: RowRecord, sign: int) -> None:
        under_way = record.status in (RowStatus.SENDING, RowStatus.ACCEPTED)
        self.counts[record.status] += sign
        self.images += sign * len(record.files) * (record.status is RowStatus.DONE)
        self.spent_usd += 0.0 if under_way else sign * record.spent_usd
        self.committed_usd += sign * record.spent_usd
