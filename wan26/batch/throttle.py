"""How fast one vendor's rows start: at most so many at once, no faster than the vendor's documented
rate of new jobs, and slowed down by rate-limit answers.

A rate-limit answer (after the client's own retries) halves the rows allowed at once, at least
one, and pauses new starts: for the vendor's Retry-After, else a backoff that doubles with each
answer in a row (answers from rows sent before the pause count once). Each row that then ends
without one lets one more run at once, up to the limit (additive increase, multiplicative
decrease, as TCP does), so a batch settles just under what the vendor allows instead of failing
rows. Pure: the caller passes the time.
"""

from __future__ import annotations

from dataclasses import dataclass

BASE_PAUSE_S = 1.0
MAX_PAUSE_S = 60.0


@dataclass(slots=True)
class Throttle:
    limit: int  # rows at once when nothing is refused
    at_once: int = 0  # rows allowed at once now (0: `limit`)
    paused_until: float = 0.0  # no new row starts before this time
    strikes: int = 0  # rate-limit answers since the last row that got through
    min_gap_s: float = 0.0  # the least time between two starts: 1 / the vendor's documented rate
    last_start: float = float("-inf")

    def __post_init__(self) -> None:
        self.at_once = self.at_once or self.limit

    def may_start(self, running: int, now: float) -> bool:
        return running < self.at_once and self.wait_s(now) == 0.0

    def wait_s(self, now: float) -> float:
        """Seconds until a row may start, as far as time goes (0: now)."""
        return max(0.0, self.paused_until - now, self.last_start + self.min_gap_s - now)

    def started(self, now: float) -> None:
        self.last_start = now

    def limited(self, now: float, retry_after: float | None) -> float:
        """A rate-limit answer: fewer at once, and a pause; returns the pause in seconds. Answers
        that come during a pause were sent before it, to the same overload: they change nothing."""
        if now < self.paused_until:
            return self.paused_until - now
        self.strikes += 1
        self.at_once = max(1, self.at_once // 2)
        backoff = min(MAX_PAUSE_S, BASE_PAUSE_S * 2.0 ** (self.strikes - 1))
        pause = max(backoff, min(retry_after or 0.0, MAX_PAUSE_S))
        self.paused_until = max(self.paused_until, now + pause)
        return pause

    def got_through(self) -> None:
        """A row ended without a rate-limit answer: one more may run at once."""
        self.strikes = 0
        self.at_once = min(self.limit, self.at_once + 1)
