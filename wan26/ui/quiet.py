"""A run's events, with a `Quiet` marker whenever nothing has come for a moment.

What only needs to be seen if it lasts (a progress step, a vendor's link before its image is saved)
is shown on a quiet moment rather than at once: a run that moves on within the moment costs the
server no update for it, and the page does not flicker through steps nobody can read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

T = TypeVar("T")
QUIET_S = 0.5  # long enough to skip what is over at once, short enough to feel immediate


class Quiet:
    """Nothing new for QUIET_S seconds."""


class _Ended(Generic[T]):
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


async def with_quiet(source: AsyncIterator[T], seconds: float = QUIET_S) -> AsyncIterator[T | Quiet]:
    """`source`'s items, and a Quiet after each `seconds` without one. `source` runs in a task of its
    own (so waiting here never interrupts it); its error is raised here; stopping here stops it."""
    inbox: asyncio.Queue[T | _Ended[T]] = asyncio.Queue()
    pump = asyncio.create_task(_pump(source, inbox))
    try:
        while True:
            try:
                async with asyncio.timeout(seconds):
                    item = await inbox.get()
            except TimeoutError:
                yield Quiet()
                continue
            if isinstance(item, _Ended):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)  # its own clean-up runs before we end


async def _pump(source: AsyncIterator[T], inbox: asyncio.Queue[T | _Ended[T]]) -> None:
    try:
        async for item in source:
            inbox.put_nowait(item)
    except Exception as error:  # noqa: BLE001 (handed over whole, raised by the reader)
        inbox.put_nowait(_Ended(error))
    else:
        inbox.put_nowait(_Ended())
