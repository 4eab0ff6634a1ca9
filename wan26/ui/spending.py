"""The owner's key on a public Space: each server-key run is admitted against the owner's limits
before it is sent, and settled with what it cost (see wan26.guard)."""

from __future__ import annotations

import gradio as gr

from wan26.errors import (
    AuthenticationError,
    BadRequest,
    ConnectionFailed,
    PermissionDenied,
    ProviderError,
    RateLimited,
    Wan26Error,
)
from wan26.guard import KeyGuard, Reservation, visitor_address
from wan26.pricing import estimate
from wan26.providers import Adapter
from wan26.types import GenerationResult, ImageRequest


class Spend:
    """A server-key run's reservation, and whether its request may have reached the vendor."""

    def __init__(self, guard: KeyGuard) -> None:
        self.guard = guard
        self.reservation: Reservation | None = None
        self.sent = False

    def admit(self, adapter: Adapter, request: ImageRequest, http: gr.Request | None, hops: int) -> None:
        """Count a server-key run against the owner's limits, or raise LimitReached before anything is sent."""
        if not self.guard.enabled:
            return
        client = http.client.host if http and http.client else None
        visitor = visitor_address(http.headers if http else {}, client, hops)
        expected = estimate(adapter.facts.price_of(request.model), request)
        self.reservation = self.guard.admit(visitor, expected.usd, expected.images)

    def settle(self, usd: float | None) -> None:
        """Settle at `usd` (None keeps the estimate); only the first call counts."""
        if self.reservation is not None:
            self.guard.settle(self.reservation, usd)


def spent(adapter: Adapter, result: GenerationResult, unsaved: int = 0) -> float | None:
    """What a run cost: the vendor's word, else its images at list price (None: keep the estimate)."""
    if result.cost_usd is not None:
        return result.cost_usd
    price = adapter.facts.price_of(result.wan_model).per_image_usd
    return None if price is None else price * (len(result.images) + unsaved)


# The one call of a run was refused before any generation started: nothing was billed.
_REFUSED = (ConnectionFailed, AuthenticationError, PermissionDenied, BadRequest, RateLimited)


def spent_before(adapter: Adapter, request: ImageRequest, error: Wan26Error) -> float | None:
    """What a failed run cost; None (keep the estimate) wherever a vendor may have billed unseen."""
    if not isinstance(error, ProviderError):
        return 0.0  # refused here (invalid input, setup, a limit): nothing was sent
    partial = error.partial_result
    if partial is not None and partial.cost_usd is not None:
        return partial.cost_usd  # the vendor's own word
    limits = adapter.facts.mode_limits(request)
    fanned_out = request.n > 1 and limits is not None and limits.one_image_per_call
    if fanned_out or error.task_id:
        return None  # another call, or an accepted task, may have been billed
    if partial is not None:
        return spent(adapter, partial, unsaved=len(error.urls))
    return 0.0 if isinstance(error, _REFUSED) else None
