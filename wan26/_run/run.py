"""`Run`: one generation, its parts put together (see the package docstring for each job's home)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any

from wan26._run.checks import check_output_folder, check_region, mode_limits, wire_request
from wan26._run.collect import OutputLog, collected
from wan26._run.context import RunContext
from wan26._run.downloads import Downloads
from wan26._run.flows import in_turn, vendor_events
from wan26._run.outcome import kept
from wan26._run.produced import VendorEvent
from wan26._run.tasks import TaskWatch, followed_task
from wan26.providers._base import WireRequest
from wan26.storage import RunFolder, read_record
from wan26.types import Event, Flow, ImageRequest, Phase, Progress


class Run:
    """One generation; `events()` drives it and yields progress as it goes."""

    def __init__(
        self, ctx: RunContext, request: ImageRequest, flow: Flow | None = None, folder: RunFolder | None = None
    ) -> None:
        self.ctx, self.request, self.flow = ctx, request, flow or ctx.adapter.facts.default_flow
        self.folder = folder or RunFolder(ctx.output_dir, request.mode.value)
        self.wire: WireRequest | None = None
        self.log = OutputLog()
        self.task = TaskWatch()
        self.downloads = Downloads(ctx.http, self.folder, ctx.creds.api_key, self._seed_of)
        self.fetched = False  # following a task submitted earlier: its request is unknown
        self.earlier: dict[str, Any] | None = None  # the record of the run that sent it, where known
        self.started_at, self.started = datetime.now(UTC), ctx.clock()
        self.provider_s = 0.0  # until the vendor's last answer

    def events(self) -> AsyncGenerator[Event, None]:
        return self._saved(self._checked_and_sent())

    def fetch_events(self, task_id: str) -> AsyncGenerator[Event, None]:
        """Follow a task submitted earlier (its request is unknown here) and save what it made. It
        takes a place in this key's line like a new run: the task counts at the vendor until it ends."""
        self.fetched = True
        self.earlier = read_record(self.folder.path)  # None in a new folder
        check_output_folder(self.folder, self.ctx.output_dir)
        followed = followed_task(self.ctx, task_id, self.request, None, self.task, typed=True)
        return self._saved(in_turn(self.ctx, followed))

    async def _checked_and_sent(self) -> AsyncGenerator[VendorEvent, None]:
        """Every check first (nothing out of limits is billed), then the vendor's side of the run.
        The checks sit below `kept` and `collected` rather than above them, so that every event of
        the run passes through one generator fewer."""
        limits = mode_limits(self.ctx.adapter, self.request, self.flow)
        check_region(self.ctx.adapter, self.ctx.creds, self.request.model)
        yield Progress(Phase.PREPARING, "Preparing reference images" if self.request.images else "Checking the request")
        self.wire = await wire_request(self.request, limits, self.ctx.adapter.facts.image_rules_of(self.request.model))
        self.request = self.wire.request  # with the vendor's default size where none was given
        check_output_folder(self.folder, self.ctx.output_dir)
        async with aclosing(vendor_events(self.ctx, self.wire, self.flow, self.task)) as sent:  # Stop: closed now
            async for event in sent:
                yield event

    def _saved(self, source: AsyncIterator[VendorEvent]) -> AsyncGenerator[Event, None]:
        key = self.ctx.creds.api_key
        return kept(self, collected(source, self.log, self.downloads, key, self._took_output))

    def _took_output(self) -> None:
        self.provider_s = self.ctx.clock() - self.started

    def _seed_of(self, url: str) -> int | None:
        seed = self.log.seeds.get(url)
        return seed if seed is not None or self.wire is None else self.wire.seed
