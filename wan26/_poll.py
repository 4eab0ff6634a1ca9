"""Polling a task: a generator of states with a growing interval and an overall deadline."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

from wan26.errors import NetworkError, ProviderError, ProviderFailure, ProviderTimeout, RateLimited
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

    A poll that fails for a passing reason (5xx, throttling, a refused or broken connection) is
    simply made again at the next interval: an outage of the status route does not end a task that
    may be running and billed. The caller adds the hint: only it knows how the user can pick the
    task up again.
    """
    started = clock()
    last: TaskState | ProviderError | None = None
    for interval in intervals(policy):
        await sleep(interval)
        try:
            last = await fetch()
        except ProviderError as error:
            if not isinstance(error, _PASSING):
                raise
            last = error
        if isinstance(last, TaskState):
            yield last
            if last.status.is_terminal:
                return
        if clock() - started + interval > policy.deadline:
            raise _past_deadline(last, clock() - started, provider, task_id)


# A poll failure that says nothing about the task itself: poll again until the deadline.
_PASSING = (ProviderFailure, ProviderTimeout, NetworkError, RateLimited)


def _past_deadline(
    last: TaskState | ProviderError | None, elapsed: float, provider: str, task_id: str
) -> ProviderTimeout:
    if isinstance(last, TaskState):
        where = f"the task was still {last.raw_status}"
        request_id = last.request_id
    else:
        where = f"the task's status could not be read ({last.message if last else 'no answer'})"
        request_id = last.request_id if last else None
    return ProviderTimeout(f"{where} after {elapsed:.0f} s", provider=provider, task_id=task_id, request_id=request_id)
