"""What a batch will do: each row's flow and estimated cost, and the hashes that tie a batch
folder to the jobs it was started with."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from wan26.batch.jobs import JobRow, Jobs
from wan26.limits import ModeLimits
from wan26.pricing import Estimate, estimate
from wan26.providers import PROVIDERS, Adapter, flows_of
from wan26.types import Flow


@dataclass(frozen=True, slots=True)
class PlannedRow:
    job: JobRow
    flow: Flow
    estimate: Estimate
    row_hash: str

    @property
    def number(self) -> int:
        return self.job.number

    @property
    def provider(self) -> str:
        return self.job.provider.value


@dataclass(frozen=True, slots=True)
class Plan:
    jobs_path: Path
    rows: tuple[PlannedRow, ...]
    batch_hash: str

    @property
    def images(self) -> int:
        return sum(row.estimate.images for row in self.rows)

    @property
    def total_usd(self) -> float:
        """The estimated cost of every row with a published price."""
        return round(sum(row.estimate.usd or 0.0 for row in self.rows), 6)

    @property
    def unpriced(self) -> tuple[PlannedRow, ...]:
        """Rows whose vendor publishes no price: not in `total_usd`."""
        return tuple(row for row in self.rows if row.estimate.usd is None)


def make_plan(jobs: Jobs) -> Plan:
    rows = tuple(_planned(row) for row in jobs.rows)
    digest = hashlib.sha256("".join(f"{row.number}:{row.row_hash}\n" for row in rows).encode()).hexdigest()
    return Plan(jobs.path, rows, digest)


def _planned(row: JobRow) -> PlannedRow:
    adapter = PROVIDERS[row.provider]
    return PlannedRow(
        row,
        preferred_flow(adapter, adapter.facts.mode_limits(row.request)),
        estimate(adapter.facts.price_of(row.request.model), row.request),
        row_hash(row),
    )


def preferred_flow(adapter: Adapter, limits: ModeLimits | None = None) -> Flow:
    """The task flow wherever the vendor has one (for the row's mode: `limits`). Its task id outlives
    this process: a row cut off after its task was accepted (Ctrl-C, a crash, a reboot) is fetched on
    the next run instead of being sent again and paid twice. A direct call cut off leaves nothing to fetch."""
    has_tasks = Flow.TASK in flows_of(adapter) and not (limits is not None and limits.direct_only)
    return Flow.TASK if has_tasks else adapter.facts.default_flow


def row_hash(row: JobRow) -> str:
    """A digest of everything asked for in the row: a row that changes is a different request. The
    references count as written, so the jobs file's folder may move with its images."""
    asked = {"provider": row.provider.value, **row.request.settings(), "images": list(row.references)}
    canonical = json.dumps(asked, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()
