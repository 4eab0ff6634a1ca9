"""What the vendor produced, in order: text passed on at once, images saved while the rest goes on.

The flow runs in a task of its own and hands over what it gets; downloads run beside it. So a
stream keeps being read while an image downloads, and text after an image is not held back by it.
Images are announced (`ImageSaved`) in the order they were offered; `ImageOffered` marks each
one's place among the text the moment it is known. When the run is stopped, what the flow had
already read but not yet passed on is still recorded, its image URLs with it.
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


_FLOW_ENDED = object()
_DOWNLOAD_ENDED = object()


async def collected(
    source: AsyncIterator[VendorEvent],
    log: OutputLog,
    downloads: Downloads,
    api_key: str,
    on_output: Callable[[], None],
) -> AsyncGenerator[Event, None]:
    """Pass on `source`'s progress, text and images as events; images are saved beside it. A flow's
    error is raised once every image it offered is saved or known unsaved."""
    inbox: asyncio.Queue[object] = asyncio.Queue()
    downloads.on_done = lambda: inbox.put_nowait(_DOWNLOAD_ENDED)
    pump = asyncio.create_task(_pump(source, inbox))
    flow_ended, failure = False, None
    try:
        while not (flow_ended and not downloads.busy):
            item = await inbox.get()
            if item is _FLOW_ENDED or isinstance(item, BaseException):
                flow_ended, failure = True, item if isinstance(item, BaseException) else None
            elif isinstance(item, Produced):
                on_output()
                log.take(item, api_key)
                for event in _taken(item, log, downloads, api_key):
                    yield event
            elif isinstance(item, Progress):
                yield item
            for saved in downloads.finished_in_order():
                if saved is not None:
                    yield ImageSaved(saved)
        if failure is not None:
            raise failure
    finally:
        pump.cancel()
        _keep_unread(inbox, log, downloads, api_key)
        downloads.cancel()


async def _pump(source: AsyncIterator[VendorEvent], inbox: asyncio.Queue[object]) -> None:
    try:
        async for event in source:
            inbox.put_nowait(event)
    except Exception as error:  # noqa: BLE001 (handed over whole: the collector raises it after the downloads)
        inbox.put_nowait(error)
    except BaseException as ending:  # a cancellation: the collector must not wait for an end that never comes
        inbox.put_nowait(ending)
        raise
    else:
        inbox.put_nowait(_FLOW_ENDED)


def _keep_unread(inbox: asyncio.Queue[object], log: OutputLog, downloads: Downloads, api_key: str) -> None:
    """Stopped: output the flow had read but not yet passed on goes into the record, its images as
    URLs (not downloaded), so the run's record and error still name them."""
    while not inbox.empty():
        item = inbox.get_nowait()
        if isinstance(item, Produced):
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
