"""Whose key pays for each vendor's rows of a batch, and the owner's limits wherever the server's key pays.

On a public Space (SPACE_ID set) every visitor is a stranger: a batch runs with the visitor's own
keys only, unless the owner allows the server's key for batches by setting
WAN26_BATCH_SERVER_KEY_USD, the most one batch may spend on it. Run locally, the server's key runs
batches as it runs single runs (and the cap applies too if it is set). Wherever the server's key
pays, each row also passes the owner's guard (`wan26.guard`: the daily budget and each visitor's
runs an hour), admitted before it is sent and settled with what it cost, as a single run is.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncGenerator, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import gradio as gr

from wan26 import AsyncClient, shared_http_client
from wan26._lanes import MAX_CONCURRENT_ENV
from wan26.batch import ClientFactory
from wan26.errors import ConfigError, Wan26Error
from wan26.guard import BRING_YOUR_OWN_KEY, FALLBACK_USD_PER_IMAGE, KeyGuard, LimitReached
from wan26.pricing import estimate
from wan26.providers import Adapter
from wan26.types import Event, Finished, Flow, ImageRequest
from wan26.ui.keys import own_key
from wan26.ui.settings import Settings
from wan26.ui.spending import Spend, spent, spent_before
from wan26.ui.vendors import SessionKeys

MAX_ROWS_ENV = "WAN26_BATCH_MAX_ROWS"
SERVER_KEY_USD_ENV = "WAN26_BATCH_SERVER_KEY_USD"
DEFAULT_MAX_ROWS = 200


@dataclass(frozen=True, slots=True)
class BatchRules:
    """What the owner allows batches: rows in one, and the server's key (`server_key_usd`: the cap)."""

    max_rows: int
    on_space: bool
    server_key_usd: float | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BatchRules:
        """ConfigError naming the variable when a value is wrong (so a bad value stops the start)."""
        return cls(
            max_rows=_whole(env, MAX_ROWS_ENV, DEFAULT_MAX_ROWS),
            on_space=bool((env.get("SPACE_ID") or "").strip()),
            server_key_usd=_dollars(env, SERVER_KEY_USD_ENV),
        )

    @property
    def server_key_allowed(self) -> bool:
        return not self.on_space or self.server_key_usd is not None


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number of rows, at least 1, not {raw[:40]!r}")
    return int(raw)


def _dollars(env: Mapping[str, str], name: str) -> float | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name} must be a number of dollars, 0 or more (e.g. 2.50), or empty; got {raw[:40]!r}")
    return value


class Lack(StrEnum):
    """Why a vendor's rows have no key to run with."""

    NONE = "none"  # neither the visitor nor the server has one
    SPACE = "space"  # the server has one, but this Space keeps it out of batches


@dataclass(frozen=True, slots=True)
class Payers:
    """For each vendor of a batch: the visitor's own key, the server's key, or none (and why)."""

    own: dict[str, str] = field(default_factory=dict, repr=False)
    server: tuple[str, ...] = ()
    missing: dict[str, Lack] = field(default_factory=dict)


def payers(
    vendors: Iterable[str], keys: SessionKeys | None, http: gr.Request | None, rules: BatchRules, keyed: list[str]
) -> Payers:
    """Who pays for each of `vendors`: the visitor's key first, then the server's where allowed."""
    own: dict[str, str] = {}
    server: list[str] = []
    missing: dict[str, Lack] = {}
    for vendor in dict.fromkeys(vendors):
        key = own_key(vendor, keys, http)
        if key:
            own[vendor] = key
        elif vendor in keyed and rules.server_key_allowed:
            server.append(vendor)
        else:
            missing[vendor] = Lack.SPACE if vendor in keyed else Lack.NONE
    return Payers(own, tuple(server), missing)


def reserved_usd(adapter: Adapter, request: ImageRequest) -> float:
    """What a row is counted at until it is settled; a vendor with no price at the guard's fallback."""
    expected = estimate(adapter.facts.price_of(request.model), request)
    return expected.usd if expected.usd is not None else max(1, expected.images) * FALLBACK_USD_PER_IMAGE


class OwnerLimits:
    """The server key's limits for one batch: its cap (rows under way counted at their estimate)
    and the owner's guard, for the visitor who started it."""

    def __init__(self, guard: KeyGuard, cap_usd: float | None, http: gr.Request | None, hops: int) -> None:
        self.guard, self.cap_usd, self.http, self.hops = guard, cap_usd, http, hops
        self.committed_usd = 0.0

    def admit(self, adapter: Adapter, request: ImageRequest) -> AdmittedRow:
        """The row counted against the cap and the guard, or LimitReached (nothing counted or sent)."""
        usd = reserved_usd(adapter, request)
        if self.cap_usd is not None and self.committed_usd + usd > self.cap_usd + 1e-9:
            raise LimitReached(cap_message(self.cap_usd, usd, self.committed_usd))
        spend = Spend(self.guard)
        spend.admit(adapter, request, self.http, self.hops)
        self.committed_usd += usd
        return AdmittedRow(self, spend, usd)


def cap_message(cap_usd: float, row_usd: float, committed_usd: float) -> str:
    return (
        f"A batch may spend at most ${cap_usd:.2f} on this Space's key; this row (about ${row_usd:.3f}) would "
        f"take it past that (${committed_usd:.3f} spent or under way). {BRING_YOUR_OWN_KEY}"
    )


@dataclass(slots=True)
class AdmittedRow:
    limits: OwnerLimits
    spend: Spend
    reserved_usd: float

    def settle(self, usd: float | None) -> None:
        """What the row cost (None: its estimate stands, as the owner's money is the side to err on)."""
        self.spend.settle(usd)
        self.limits.committed_usd += (self.reserved_usd if usd is None else usd) - self.reserved_usd


class ServerKeyClient(AsyncClient):
    """A vendor's client on the server's key, for a batch: each row is admitted by the owner's
    limits before its request can leave, and settled with what it cost when it ends."""

    def __init__(self, provider: str, limits: OwnerLimits, **options: Any) -> None:
        super().__init__(provider, **options)
        self.limits = limits

    def events(self, request: ImageRequest, *, flow: Flow | None = None) -> AsyncGenerator[Event, None]:
        return self._limited(request, super().events(request, flow=flow))

    async def _limited(self, request: ImageRequest, events: AsyncGenerator[Event, None]) -> AsyncGenerator[Event, None]:
        row = self.limits.admit(self.adapter, request)  # at the first read: nothing has left yet
        cost: float | None = None
        try:
            async with contextlib.aclosing(events):  # closed with this one: the run's record is written at once
                async for event in events:
                    if isinstance(event, Finished):
                        cost = spent(self.adapter, event.result)
                    yield event
        except Wan26Error as error:
            cost = spent_before(self.adapter, request, error)
            raise
        finally:
            row.settle(cost)


def batch_clients(settings: Settings, folder: Path, paying: Payers, limits: OwnerLimits) -> ClientFactory:
    """A client per vendor, saving into the batch folder: on the visitor's key, else the server's
    under `limits`. The batch paces each vendor itself, so the client's own line per key is off
    (a row waiting there would be journaled as sending)."""
    env = {**settings.env, MAX_CONCURRENT_ENV: "0"}

    def make(provider: str) -> AsyncClient:
        options: dict[str, Any] = {"env": env, "output_dir": folder, "http_client": shared_http_client(provider)}
        if provider in paying.own:
            return AsyncClient(provider, api_key=paying.own[provider], **options)
        if provider in paying.server:
            return ServerKeyClient(provider, limits, **options)
        raise ConfigError(f"No key for {provider} in this batch")  # `payers` found none: refused before

    return make
