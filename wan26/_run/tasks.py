"""The task flow: submit, then poll the task to its end; also used to fetch a task submitted earlier."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from wan26._poll import poll_states
from wan26._run.context import RunContext
from wan26._run.produced import Produced, VendorEvent
from wan26.errors import ProtocolError, ProviderError, TaskNotFound
from wan26.providers._base import ProviderOutput, TaskState, WireRequest, task_calls
from wan26.types import ImageRequest, Mode, Model, Phase, Progress


@dataclass(slots=True)
class TaskWatch:
    """What the run knows of its task. `unsettled`: accepted, and not yet seen to end, so it may still
    run (and be billed) after we stop following it."""

    task_id: str | None = None
    unsettled: bool = False


async def submitted_task(ctx: RunContext, wire: WireRequest, watch: TaskWatch) -> AsyncGenerator[VendorEvent, None]:
    tasks = task_calls(ctx.adapter)
    call = tasks.build_submit(wire, ctx.creds)
    body, _ = await ctx.http.json(call)
    submitted = tasks.parse_submit(body, call)
    if submitted.error is not None:
        raise submitted.error
    if not submitted.task_id:
        raise ProtocolError(
            "the task was accepted without a task id", provider=ctx.adapter.facts.name, request_id=submitted.request_id
        )
    watch.task_id, watch.unsettled = submitted.task_id, True  # accepted: from now on it may be billed
    yield Produced(ProviderOutput((), submitted.request_id, cost_usd=submitted.cost_usd))
    yield Progress(Phase.WAITING, f"Task {submitted.raw_status.lower()}", submitted.task_id, submitted.raw_status)
    # How many images to wait for; none where n is not a count (interleave, image sets: the model decides).
    limits = ctx.adapter.facts.mode_limits(wire.request)
    fixed_count = wire.request.mode is not Mode.INTERLEAVE and limits is not None and not limits.n_is_most
    expected = wire.request.n if fixed_count else None
    async for event in followed_task(ctx, submitted.task_id, wire.request, expected, watch):
        yield event


async def followed_task(
    ctx: RunContext,
    task_id: str,
    asked: ImageRequest,
    expected: int | None,
    watch: TaskWatch,
    typed: bool = False,
) -> AsyncGenerator[VendorEvent, None]:
    """Poll `task_id` (made for `asked`'s mode and model) to its end and pass on what it made.
    `expected`: the number of images asked for, None where it is not known (interleave, image sets,
    or a task submitted earlier). `typed`: the id was given by a user (fetch), not just returned by
    the vendor, so a 404 means no such task; for a task just sent it may be a proxy's fault, and the
    task, accepted and billed, may go on."""
    watch.task_id, watch.unsettled = task_id, True
    try:
        async for event in _task_events(ctx, task_id, expected, watch):
            yield event
    except ProviderError as error:
        error.task_id = error.task_id or task_id
        if isinstance(error, TaskNotFound) or (typed and error.status_code == 404):  # the vendor knows no such task
            watch.unsettled = False
        if watch.unsettled:  # a poll failed or the deadline passed: the task itself may go on
            advice = fetch_advice(task_id, asked.mode, ctx.adapter.facts.name, asked.model)
            error.hint = f"{advice} {error.hint or ''}".strip()
        raise


async def _task_events(
    ctx: RunContext, task_id: str, expected: int | None, watch: TaskWatch
) -> AsyncGenerator[VendorEvent, None]:
    async for state in _states(ctx, task_id, expected):
        if state.output is None and state.error is None:
            yield Progress(Phase.WAITING, _task_message(state), task_id, state.raw_status)
            continue
        watch.unsettled = False  # it ended: what it made is saved, its failure reported
        if state.output is not None:
            yield Produced(state.output, last=True)
        if state.error is not None:
            raise state.error
        return


def _states(ctx: RunContext, task_id: str, expected: int | None) -> AsyncIterator[TaskState]:
    tasks = task_calls(ctx.adapter)
    poll_call = tasks.build_poll(task_id, ctx.creds)

    async def fetch() -> TaskState:
        timeouts = ctx.http.timeouts
        body, _ = await ctx.http.json(poll_call, timeouts.poll, timeouts.poll_total)
        return tasks.parse_task(body, task_id, expected)

    return poll_states(
        fetch, task_id=task_id, provider=ctx.adapter.facts.name, policy=ctx.poll, sleep=ctx.sleep, clock=ctx.clock
    )


def fetch_advice(task_id: str, mode: Mode, provider: str, model: Model = Model.WAN26) -> str:
    command = fetch_command(task_id, mode, provider, model)
    return f"The task may still finish and be billed. Save it within 24 h with: {command}."


def fetch_command(task_id: str, mode: Mode, provider: str, model: Model = Model.WAN26) -> str:
    """The exact command that saves a task's result later (task ids live 24 h)."""
    command = f"python -m wan26 fetch {task_id} --mode {mode.value} --provider {provider}"
    return command if model is Model.WAN26 else f"{command} --model {model.value}"


def _task_message(state: TaskState) -> str:
    message = f"Task {state.raw_status.lower()}"
    return message if state.progress is None else f"{message} ({state.progress:.0%})"
