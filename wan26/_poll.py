"""Polling a task: a generator of states with a growing interval and an overall deadline."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

from wan26.errors import NetworkError, ProviderError, ProviderFailure, ProviderTimeout, RateLimited, TaskNotFound
from wan26.providers._base import TaskState


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """When to ask a task's status: once soon after submitting (a cached or refused task answers at
    once), then at an even pace. Tasks take 10 s to 2 minutes, and a finished one is found on
    average half an interval late, so an even 4 s finds it 2.0 s late on average, with fewer
    polls than the official SDK's schedule (1 s doubling every 3 polls to 5 s: 2.45 s late;
    tests/benchmarks/bench_polling.py). The docs only ask for a "reasonable" interval and allow
    20 status queries a second per account:
    https://www.alibabacloud.com/help/en/model-studio/wan-image-generation-api-reference
    """

    first_interval: float = 0.5
    growth: float = 8.0
    max_interval: float = 4.0
    deadline: float = 900.0  # seconds from submission; the task itself may live on for 24 h


def intervals(policy: PollPolicy) -> Iterator[float]:
    """`first_interval`, then each one `growth` times the last, capped at `max_interval` (by
    default 0.5 s, then 4 s)."""
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
            if not isinstance(error, _PASSING) or isinstance(error, TaskNotFound):
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
