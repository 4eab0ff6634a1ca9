"""A batch row's state: the closed set of statuses, and the record the journal keeps of each row."""

from __future__ import annotations

from dataclasses import dataclass
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
