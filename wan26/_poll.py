"""Polling a task: a generator of states with a growing interval and an overall deadline."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

from wan26.errors import ProviderTimeout
from wan26.providers._base import TaskState


@dataclass(frozen=True, slots=True)
class PollPolicy:
    # About 1 s at first, growing to the 5–10 s the docs ask for (dashscope.md §3.5); jobs
    # typically take 1–2 minutes, so a short first interval catches fast ones early.
    first_interval: float = 1.0
    growth: float = 1.5
    max_interval: float = 8.0
    deadline: float = 900.0  # seconds from submission; the task itself may live on for 24 h


def intervals(policy: PollPolicy) -> Iterator[float]:
    """1, 1.5, 2.25, … seconds, capped at `max_interval`."""
    interval = policy.first_interval
    while True:
        yield interval
        interval = min(interval * policy.growth, policy.max_interval)


async def poll_states(
    fetch: Callable[[], Awaitable[TaskState]],
    *,
    task_id: str,
    provider: str,
    policy: PollPolicy,
    sleep: Callable[[float], Awaitable[None]],
    clock: Callable[[], float],
) -> AsyncIterator[TaskState]:
    """Yield each polled state until a terminal one (yielded last), or raise at the deadline.

    The caller adds the hint: only it knows how the user can pick the task up again.
    """
    started = clock()
    for interval in intervals(policy):
        await sleep(interval)
        state = await fetch()
        yield state
        if state.status.is_terminal:
            return
        if clock() - started + interval > policy.deadline:
            raise ProviderTimeout(
                f"the task was still {state.raw_status} after {clock() - started:.0f} s",
                provider=provider,
                task_id=task_id,
                request_id=state.request_id,
            )
