"""What the vendor produced, in order: text passed on at once, images saved while the rest goes on.

Downloads run as tasks of their own, so a stream keeps being read while an image downloads, and
text after an image is not held back by it. While images download and the flow may still produce
more, the flow's next item is read in a task too, so that an image saved meanwhile is announced
(`ImageSaved`) at once rather than when the flow next speaks; otherwise it is read here, directly
(a task per run costs the event loop more than the rest of the hand-over). Images are announced in
the order they were offered; `ImageOffered` marks each one's place among the text the moment it is
known. When the run is stopped, what the flow had already read but not yet passed on is still
recorded, its image URLs with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field

from wan26._redact import redact
from wan26._run.downloads import Downloads
from wan26._run.produced import Produced, VendorEvent
from wan26.providers._base import OutputImage, OutputText, ProviderOutput
from wan26.types import Event, ImageOffered, ImageSaved, Phase, Progress, TextDelta


@dataclass(slots=True)
class OutputLog:
    """The facts the vendor reported across all of a run's calls."""

    output: ProviderOutput = field(default_factory=lambda: ProviderOutput(()))
    request_ids: list[str] = field(default_factory=list)  # the submit's and the result's; each of n calls'
    cost_usd: float | None = None
    seeds: dict[str, int | None] = field(default_factory=dict)  # image URL -> the seed of the call that made it
    notes: list[str] = field(default_factory=list)  # what the user should know that is not an error
    parts: list[str | int] = field(default_factory=list)  # text runs and image numbers, in the order they came

    def take(self, produced: Produced, api_key: str) -> None:
        output, part = produced.output, produced.part
        self.notes += [redact(note, api_key) for note in output.notes]
        if output.request_id and output.request_id not in self.request_ids:
            self.request_ids.append(output.request_id)
        self.output = ProviderOutput(
            self.output.items + output.items if part else output.items,
            output.request_id or self.output.request_id,
            output.usage or self.output.usage,
            output.size or self.output.size,
        )
        if output.cost_usd is not None:  # fanned-out calls each report their own share
            self.cost_usd = (self.cost_usd or 0.0) + output.cost_usd if part else output.cost_usd
        self.seeds |= {item.url: item.seed for item in output.items if isinstance(item, OutputImage)}

    def add_text(self, text: str) -> None:
        if self.parts and isinstance(self.parts[-1], str):
            self.parts[-1] += text
        else:
            self.parts.append(text)


class _FlowEnded:
    """The flow has nothing more: it returned, or raised `error` (held until its images are saved)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error


_DOWNLOAD_ENDED = object()  # no new item yet, but a download ended: announce what is saved


async def collected(
    source: AsyncIterator[VendorEvent],
    log: OutputLog,
    downloads: Downloads,
    api_key: str,
    on_output: Callable[[], None],
) -> AsyncGenerator[Event, None]:
    """Pass on `source`'s progress, text and images as events; images are saved beside it. A flow's
    error is raised once every image it offered is saved or known unsaved."""
    reader = _Reader(source, downloads)
    try:
        while not isinstance(item := await reader.next(), _FlowEnded):
            if isinstance(item, Produced):
                on_output()
                log.take(item, api_key)
                for event in _taken(item, log, downloads, api_key):
                    yield event
            elif isinstance(item, Progress):
                yield item
            for saved in downloads.finished_in_order():
                if saved is not None:
                    yield ImageSaved(saved)
        while True:  # the flow has ended: announce the rest as each is saved
            for saved in downloads.finished_in_order():
                if saved is not None:
                    yield ImageSaved(saved)
            if not downloads.busy:
                break
            await reader.download_ended()
        if item.error is not None:
            raise item.error
    finally:
        downloads.cancel()
        await reader.close(lambda unread: _keep_unread(unread, log, downloads, api_key))


class _Reader:
    """The flow's items, one at a time: read directly, or in a task while images download and the
    flow may produce more (`Produced.last` says it will not)."""

    def __init__(self, source: AsyncIterator[VendorEvent], downloads: Downloads) -> None:
        self._source, self._downloads = source, downloads
        self._pending: asyncio.Future[VendorEvent | _FlowEnded] | None = None
        self._direct = False  # the flow's last output is in: read the rest (its end) directly

    async def next(self) -> VendorEvent | _FlowEnded | object:
        """The next item, or `_DOWNLOAD_ENDED` when a download ended first."""
        if self._pending is None and (self._direct or not self._downloads.busy):
            return self._noted(await self._read())
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._read())
        if not self._pending.done():
            await self._first_to_end(self._pending)
        if not self._pending.done():
            return _DOWNLOAD_ENDED
        item, self._pending = self._pending.result(), None
        return self._noted(item)

    async def download_ended(self) -> None:
        await self._first_to_end(None)

    async def close(self, keep: Callable[[Produced], None]) -> None:
        """The run ends (or is stopped): an item read but not passed on is kept, and the flow is
        closed now rather than when it is collected, so that its own clean-up (the key's place in
        line, fanned-out calls) happens at once."""
        pending, self._pending = self._pending, None
        if pending is not None and not pending.done():
            pending.cancel()  # the cancellation ends the flow where it waits
            return
        if pending is not None and not pending.cancelled() and isinstance(item := pending.result(), Produced):
            keep(item)
        aclose = getattr(self._source, "aclose", None)  # every flow is an async generator; a test's may not be
        if aclose is not None:
            await aclose()

    def _noted(self, item: VendorEvent | _FlowEnded) -> VendorEvent | _FlowEnded:
        self._direct |= isinstance(item, Produced) and item.last
        return item

    async def _read(self) -> VendorEvent | _FlowEnded:
        try:
            return await anext(self._source)
        except StopAsyncIteration:
            return _FlowEnded()
        except Exception as error:  # noqa: BLE001 (handed over whole: raised after the downloads)
            return _FlowEnded(error)

    async def _first_to_end(self, read: asyncio.Future[VendorEvent | _FlowEnded] | None) -> None:
        """Wait until `read` or any download ends (a download wakes this through `on_done`)."""
        woken = asyncio.get_running_loop().create_future()

        def wake(*_: object) -> None:
            if not woken.done():
                woken.set_result(None)

        self._downloads.on_done = wake
        if read is not None:
            read.add_done_callback(wake)
        try:
            await woken
        finally:
            self._downloads.on_done = _nothing
            if read is not None:
                read.remove_done_callback(wake)


def _nothing() -> None:
    pass


def _keep_unread(item: Produced, log: OutputLog, downloads: Downloads, api_key: str) -> None:
    """Stopped: output the flow had read but not yet passed on goes into the record, its images as
    URLs (not downloaded), so the run's record and error still name them."""
    log.take(item, api_key)
    _taken(item, log, downloads, api_key, download=False)


def _taken(
    produced: Produced, log: OutputLog, downloads: Downloads, api_key: str, download: bool = True
) -> list[Event]:
    """Text and image offers in the order they came; each image starts saving at once (`download`)."""
    events: list[Event] = []
    index = produced.first_index
    for item in produced.output.items:
        if isinstance(item, OutputText):
            text = redact(item.text, api_key)
            log.add_text(text)
            events.append(TextDelta(text))
            continue
        number = downloads.start(item.url, index) if download else downloads.offer(item.url, index)
        index = None if index is None else index + 1
        log.parts.append(number)
        events.append(ImageOffered(number, item.url))
    images = sum(isinstance(event, ImageOffered) for event in events)
    return [Progress(Phase.DOWNLOADING, f"Downloading {images} image(s)")] * bool(images) + events
