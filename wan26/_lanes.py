"""Runs that share one key at one vendor wait their turn here, not at the vendor.

A vendor may cap the jobs one account runs at once (DashScope: 5 for wan2.6-image, per Alibaba
Cloud account, https://www.alibabacloud.com/help/en/model-studio/rate-limit) and refuse the rest
with a throttling error. Runs beyond the cap wait in a line in arrival order, can see their place
in it, and start as soon as a run ahead of them ends. Other keys have lines of their own.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import weakref
from collections import deque
from collections.abc import Callable, Mapping

from wan26.errors import ConfigError

MAX_CONCURRENT_ENV = "WAN26_MAX_CONCURRENT_PER_KEY"


class Ticket:
    """One run's place: `admitted` once it may start; `place` (1 = next) while it waits."""

    def __init__(self, lane: Lane) -> None:
        self._lane = lane
        self.admitted = False
        self.left = False

    @property
    def place(self) -> int:
        return self._lane.place_of(self)

    @property
    def limit(self) -> int:
        return self._lane.limit

    async def moved(self) -> None:
        """Return when the line moved: this run was admitted or came closer to the front."""
        await self._lane.changed()

    def leave(self) -> None:
        """Free the slot (or the place in line); safe to call more than once."""
        self._lane.leave(self)


class Lane:
    """At most `limit` runs at once; the others wait in arrival order."""

    def __init__(self, limit: int, on_idle: Callable[[], None] = lambda: None) -> None:
        self.limit = limit
        self.running = 0
        self._waiting: deque[Ticket] = deque()
        self._moved: asyncio.Event | None = None  # made when a run waits: most runs never do
        self._on_idle = on_idle  # nothing running or waiting: the registry may forget this line

    def join(self) -> Ticket:
        ticket = Ticket(self)
        self._waiting.append(ticket)
        self._admit()
        return ticket

    def place_of(self, ticket: Ticket) -> int:
        return 0 if ticket.admitted or ticket.left else self._waiting.index(ticket) + 1

    async def changed(self) -> None:
        if self._moved is None:
            self._moved = asyncio.Event()
        await self._moved.wait()

    def leave(self, ticket: Ticket) -> None:
        if ticket.left:
            return
        ticket.left = True
        if ticket.admitted:
            self.running -= 1
        else:
            self._waiting.remove(ticket)
        self._admit(moved=True)
        if not self.running and not self._waiting:
            self._on_idle()

    def _admit(self, moved: bool = False) -> None:
        while self._waiting and self.running < self.limit:
            self._waiting.popleft().admitted = True
            self.running += 1
            moved = True
        if moved and self._moved is not None:  # wake every waiter once; each reads its new place
            self._moved.set()
            self._moved = None


# One registry per event loop: asyncio primitives belong to the loop that first waits on them.
_LANES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], Lane]] = weakref.WeakKeyDictionary()


def lane_for(vendor: str, api_key: str, limit: int) -> Lane:
    """The line for this key at this vendor (keys are told apart by a hash, never stored)."""
    lanes = _LANES.setdefault(asyncio.get_running_loop(), {})
    key = (vendor, _fingerprint(api_key))
    lane = lanes.get(key)
    if lane is None:  # forgotten again once idle, so every visitor's own key does not stay for ever

        def forget() -> None:
            lanes.pop(key, None)

        lane = lanes[key] = Lane(limit, on_idle=forget)
    lane.limit = limit
    return lane


@functools.lru_cache(maxsize=256)
def _fingerprint(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def concurrency_limit(documented: int | None, env: Mapping[str, str]) -> int | None:
    """`WAN26_MAX_CONCURRENT_PER_KEY` if set (0: no limit of ours), else the vendor's documented figure."""
    raw = (env.get(MAX_CONCURRENT_ENV) or "").strip()
    if not raw:
        return documented
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigError(f"{MAX_CONCURRENT_ENV} must be a whole number of runs (0 for no limit), not {raw!r}")
    return value or None
