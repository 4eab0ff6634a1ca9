"""A comparison run: every ready vendor at once, each in a task of its own, so that one vendor's
failure (or slowness) only ever shows in its own column while the others finish."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from enum import StrEnum

from wan26.compare.plan import ComparePlan, VendorPlan
from wan26.errors import InvalidRequest, ProtocolError, Wan26Error
from wan26.pricing import estimate
from wan26.providers import get_adapter
from wan26.types import Event, Finished, GenerationResult, ImageRequest

log = logging.getLogger(__name__)

VendorRun = Callable[[str, ImageRequest], AsyncIterator[Event]]
"""Runs one vendor's request (`AsyncClient.events`, or the app's guarded equivalent)."""


class Status(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # left out before anything was sent: the request could not be adapted for it


@dataclass(frozen=True, slots=True)
class Cost:
    usd: float | None  # None: unknown (no cost reported and no published price)
    estimated: bool  # True: the list-price estimate, not what the vendor reported

    def __str__(self) -> str:
        if self.usd is None:
            return "unknown"
        return f"~${self.usd:.3f} (estimate)" if self.estimated else f"${self.usd:.4f}"


@dataclass(frozen=True, slots=True)
class VendorOutcome:
    """How one vendor's share of the comparison ended."""

    plan: VendorPlan
    status: Status
    elapsed_s: float = 0.0
    result: GenerationResult | None = None
    error: Exception | None = None  # set when FAILED; a Wan26Error unless something of ours broke

    @property
    def provider(self) -> str:
        return self.plan.provider

    @property
    def cost(self) -> Cost:
        """What the vendor reported, else the list-price estimate of what it was sent."""
        made = self.result or getattr(self.error, "partial_result", None)
        if made is not None and made.cost_usd is not None:
            return Cost(made.cost_usd, estimated=False)
        if self.status is not Status.SUCCEEDED:
            return Cost(None, estimated=True)
        request = self.plan.request
        return Cost(estimate(get_adapter(self.provider).facts.price_of(request.model), request).usd, estimated=True)

    @property
    def seeds(self) -> tuple[int, ...]:
        """The seeds of the images made (one call per image gives each its own), else the one sent."""
        if self.result is None:
            return ()
        made = sorted({image.seed for image in self.result.images if image.seed is not None})
        return tuple(made) or ((self.result.seed,) if self.result.seed is not None else ())


@dataclass(frozen=True, slots=True)
class VendorEvent:
    """A vendor's run moved on (progress, an image saved)."""

    provider: str
    event: Event


@dataclass(frozen=True, slots=True)
class VendorEnded:
    outcome: VendorOutcome


CompareEvent = VendorEvent | VendorEnded


@dataclass(frozen=True, slots=True)
class Comparison:
    plan: ComparePlan
    outcomes: tuple[VendorOutcome, ...]  # in the order the vendors were chosen

    @property
    def all_succeeded(self) -> bool:
        return all(outcome.status is Status.SUCCEEDED for outcome in self.outcomes)


async def compare_events(
    plan: ComparePlan, run: VendorRun, clock: Callable[[], float] = time.monotonic
) -> AsyncIterator[CompareEvent]:
    """The skipped vendors' outcomes first, then every ready vendor's events as they come and its
    outcome as it ends. Closing this iterator (Ctrl-C, Stop) cancels every run still going."""
    for vendor in plan.vendors:
        if not vendor.ready:
            yield VendorEnded(VendorOutcome(vendor, Status.SKIPPED, error=InvalidRequest(vendor.problems)))
    inbox: asyncio.Queue[CompareEvent] = asyncio.Queue()
    tasks = [asyncio.create_task(_vendor(vendor, run, inbox, clock)) for vendor in plan.ready]
    try:
        for _ in tasks:
            while not isinstance(item := await inbox.get(), VendorEnded):
                yield item
            yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # each run's own clean-up ends before we do


async def run_compare(
    plan: ComparePlan, run: VendorRun, on_event: Callable[[CompareEvent], None] | None = None
) -> Comparison:
    """Run the comparison to its end; every vendor's outcome, in the plan's order."""
    ended: dict[str, VendorOutcome] = {}
    async for item in compare_events(plan, run):
        if on_event is not None:
            on_event(item)
        if isinstance(item, VendorEnded):
            ended[item.outcome.provider] = item.outcome
    return Comparison(plan, tuple(ended[vendor.provider] for vendor in plan.vendors))


async def _vendor(
    vendor: VendorPlan, run: VendorRun, inbox: asyncio.Queue[CompareEvent], clock: Callable[[], float]
) -> None:
    """One vendor's run, to the end; however it ends, its outcome is the last thing it puts in `inbox`."""
    started, result = clock(), None
    try:
        async for event in run(vendor.provider, vendor.request):
            result = event.result if isinstance(event, Finished) else result
            inbox.put_nowait(VendorEvent(vendor.provider, event))
        if result is None:
            raise ProtocolError("the run ended without a result", provider=vendor.provider)
    except Exception as error:  # noqa: BLE001 (whatever broke, it stays in this vendor's column)
        if not isinstance(error, Wan26Error):
            log.error("compare: %s failed unexpectedly", vendor.provider, exc_info=error)
        inbox.put_nowait(VendorEnded(VendorOutcome(vendor, Status.FAILED, clock() - started, error=error)))
        return
    inbox.put_nowait(VendorEnded(VendorOutcome(vendor, Status.SUCCEEDED, clock() - started, result)))
