"""Talking to the vendor: the flow a run takes, and each flow's calls, as a stream of what the vendor
said (`Progress`) and produced (`Produced`). Nothing here downloads or saves: that is `collect`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import replace

from wan26._lanes import Ticket, lane_for
from wan26._run.context import RunContext
from wan26._run.produced import Produced, VendorEvent
from wan26._run.tasks import TaskWatch, submitted_task
from wan26.errors import (
    AuthenticationError,
    BadRequest,
    ConnectionFailed,
    ContentModerated,
    PermissionDenied,
    ProtocolError,
    ProviderError,
    RateLimited,
)
from wan26.limits import SEED_MAX
from wan26.providers._base import OutputImage, ProviderOutput, WireRequest, direct_calls, streamed_calls
from wan26.types import Flow, Mode, Phase, Progress


def vendor_events(
    ctx: RunContext, wire: WireRequest, flow: Flow, task: TaskWatch
) -> AsyncGenerator[VendorEvent, None]:
    """The flow this request takes, run once this key's turn comes."""
    sending = Progress(Phase.SUBMITTING, f"Sending the request to {ctx.adapter.facts.title}")
    return in_turn(ctx, _flow(ctx, wire, flow, task), announce=sending)


def _flow(ctx: RunContext, wire: WireRequest, flow: Flow, task: TaskWatch) -> AsyncGenerator[VendorEvent, None]:
    request, adapter = wire.request, ctx.adapter
    if flow is Flow.TASK:
        return submitted_task(ctx, wire, task)
    limits = adapter.facts.mode_limits(request)
    if request.n > 1 and limits is not None and limits.one_image_per_call:
        return fanned_out(ctx, wire)
    if request.mode is Mode.INTERLEAVE:
        return streamed(ctx, wire)
    return direct(ctx, wire)


async def in_turn(
    ctx: RunContext, source: AsyncGenerator[VendorEvent, None], announce: Progress | None = None
) -> AsyncGenerator[VendorEvent, None]:
    """Run `source` once this key has a free slot at the vendor, saying our place in line till then,
    and `announce` when the turn has come. Stopped, it closes `source` and frees the place at once."""
    limit = ctx.max_concurrent
    ticket = None if limit is None else lane_for(ctx.adapter.facts.name, ctx.creds.api_key, limit).join()
    try:
        async with aclosing(source):  # stopped: its own clean-up (fanned-out calls) now, not when collected
            if ticket is not None:
                async for place in _places(ticket, ctx.adapter.facts.title):
                    yield place
            if announce is not None:
                yield announce
            async for event in source:
                yield event
    finally:
        if ticket is not None:
            ticket.leave()


async def _places(ticket: Ticket, vendor: str) -> AsyncGenerator[Progress, None]:
    """This run's place in line whenever it changes, until its turn comes."""
    place = 0
    while not ticket.admitted:
        if ticket.place != place:
            place = ticket.place
            yield Progress(Phase.QUEUED, _queue_message(place, ticket.limit, vendor))
            continue  # the line may have moved while the message was being read: look again
        await ticket.moved()


async def direct(ctx: RunContext, wire: WireRequest) -> AsyncGenerator[VendorEvent, None]:
    yield Progress(Phase.WAITING, "Generating (this usually takes 1–2 minutes)")
    output = await _answer(ctx, wire)
    yield Produced(output, last=True)
    if output.error is not None:  # part of the run failed; what it made is saved first
        raise output.error


async def fanned_out(ctx: RunContext, wire: WireRequest) -> AsyncGenerator[VendorEvent, None]:
    """n single-image calls at once, each with its own seed; each result passed on as it lands.
    Files are numbered in seed order, whichever call answers first: 01 has seed s, 02 has s+1…"""
    wires = single_image_wires(wire)
    seeds = ", ".join(str(one.seed) for one in wires)
    calls_at_once = f"{len(wires)} calls at once (seeds {seeds})"
    yield Progress(Phase.WAITING, f"{ctx.adapter.facts.title} makes one image per call: {calls_at_once}")
    calls = [asyncio.create_task(_one_call(ctx, one, index)) for index, one in enumerate(wires, start=1)]
    failures: list[ProviderError] = []
    try:
        for finished in asyncio.as_completed(calls):
            try:
                produced = await finished
            except ProviderError as error:
                failures.append(error)
                continue
            yield produced
            if produced.output.error is not None:
                failures.append(produced.output.error)
    finally:
        for call in calls:
            call.cancel()
    if failures:
        raise fanned_out_failure(failures, len(wires))


async def _one_call(ctx: RunContext, wire: WireRequest, index: int) -> Produced:
    output = await _answer(ctx, wire)
    items = tuple(replace(item, seed=wire.seed) if isinstance(item, OutputImage) else item for item in output.items)
    return Produced(replace(output, items=items), part=True, first_index=index)


async def _answer(ctx: RunContext, wire: WireRequest) -> ProviderOutput:
    """One direct call's output (within Timeouts.total)."""
    calls = direct_calls(ctx.adapter)
    body, headers = await ctx.http.json(calls.build_direct(wire, ctx.creds))
    return calls.parse_output(body, headers)


async def streamed(ctx: RunContext, wire: WireRequest) -> AsyncGenerator[VendorEvent, None]:
    calls = streamed_calls(ctx.adapter)
    yield Progress(Phase.WAITING, "Generating; text and images stream in as they are made")
    request_id = None
    async for sse in ctx.http.stream(calls.build_stream(wire, ctx.creds)):  # within Timeouts.total
        chunk = calls.parse_stream_event(sse)
        request_id = chunk.request_id or request_id
        yield Produced(chunk, part=True)
        if chunk.finished:
            return
    raise ProtocolError(
        "the stream ended before the last event",
        provider=ctx.adapter.facts.name,
        request_id=request_id,
        hint="What arrived before the cut has been saved.",
    )


def single_image_wires(wire: WireRequest) -> list[WireRequest]:
    """One request per image, with consecutive seeds so every image differs and can be redone."""
    one = replace(wire.request, n=1)
    first = wire.seed
    if first is None:
        return [replace(wire, request=one) for _ in range(wire.request.n)]
    return [replace(wire, request=one, seed=(first + i) % (SEED_MAX + 1)) for i in range(wire.request.n)]


def fanned_out_failure(failures: list[ProviderError], calls: int) -> ProviderError:
    """The failure that stands for the fan-out: the first that may have been billed, else the first
    refusal, else one never processed (429, no connection). A caller that sends again on "never
    processed" (a batch) must not do so when another call may have been billed."""
    error = min(failures, key=_billing_rank)  # min is stable: the earliest of the worst
    if len(failures) < calls:
        error.hint = f"{calls - len(failures)} of {calls} calls succeeded. {error.hint or ''}".strip()
    return error


def _billing_rank(error: ProviderError) -> int:
    if isinstance(error, RateLimited | ConnectionFailed):
        return 2
    return 1 if isinstance(error, BadRequest | AuthenticationError | PermissionDenied | ContentModerated) else 0


def _queue_message(place: int, limit: int, vendor: str) -> str:
    return f"Waiting for a free slot: number {place} in line for this key ({vendor} runs at most {limit} at once)"
