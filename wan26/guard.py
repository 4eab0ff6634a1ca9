"""A guard for the owner's key on a public Space: a daily spending limit and a per-visitor run rate.

Set by the owner in the environment (unset or empty: no limit):

    WAN26_SERVER_KEY_DAILY_USD      dollars the server key may spend per UTC day, e.g. 2.50
    WAN26_SERVER_KEY_RUNS_PER_HOUR  runs one visitor may make with the server key in any 3600 s

Only runs made with the server key go through the guard: the app does not call it for a run made
with the visitor's own key, so those are never counted or refused.

Each run is `admit`ted before it is sent, which reserves its estimate against today's budget, then
`settle`d with the cost it really had. A reservation that is never settled (the app crashed mid-run)
stays charged at its estimate: the owner's money is the side to err on. Today's total, reservations
included, is kept in a small JSON ledger so it survives a restart; the run counts are kept in memory.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from wan26.errors import ConfigError, Wan26Error
from wan26.storage import write_atomically

DAILY_USD_ENV = "WAN26_SERVER_KEY_DAILY_USD"
RUNS_PER_HOUR_ENV = "WAN26_SERVER_KEY_RUNS_PER_HOUR"
PROXY_HOPS_ENV = "WAN26_PROXY_HOPS"
# Reserved per image when the vendor publishes no price: above every list price we know ($0.039),
# so a run of unknown cost cannot slip under the limit by counting as free.
FALLBACK_USD_PER_IMAGE = 0.05
WINDOW_S = 3600.0
BRING_YOUR_OWN_KEY = "Paste your own key under 'Your API key' to continue without this limit."
_MICROS = 1_000_000  # money is counted in whole micro-dollars so sums never drift past a limit

log = logging.getLogger(__name__)
_Number = TypeVar("_Number", int, float)


class LimitReached(Wan26Error):
    """A server-key limit refuses this run; `str()` says which, when it lifts, and the way on."""


class Reservation:
    """One admitted run's estimate, held against the day it was admitted until it is settled."""

    __slots__ = ("day", "estimate_usd", "settled")

    def __init__(self, day: str, estimate_usd: float) -> None:
        self.day = day
        self.estimate_usd = estimate_usd
        self.settled = False


class KeyGuard:
    """Limits on the server key; thread-safe, since several runs (WAN26_CONCURRENCY) are admitted at once.

    Build it with `from_env`, which checks the values; the app calls it only for server-key runs.
    """

    def __init__(
        self,
        daily_usd: float | None = None,
        runs_per_hour: int | None = None,
        *,
        ledger_path: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.daily_usd = daily_usd
        self.runs_per_hour = runs_per_hour
        self._ledger = _Ledger(ledger_path)
        self._clock = clock
        self._lock = threading.Lock()
        self._day, self._spent = self._ledger.load(_utc_day(clock()))
        self._runs: dict[str, deque[float]] = {}

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], ledger_path: Path | None, clock: Callable[[], float] = time.time
    ) -> KeyGuard:
        """The guard the owner configured; raises ConfigError naming a variable whose value is invalid."""
        daily = _parse(env, DAILY_USD_ENV, float, "a number of dollars, 0 or more (e.g. 2.50)")
        runs = _parse(env, RUNS_PER_HOUR_ENV, int, "a whole number of runs, 0 or more (e.g. 10)")
        return cls(daily, runs, ledger_path=ledger_path, clock=clock)

    @property
    def enabled(self) -> bool:
        return self.daily_usd is not None or self.runs_per_hour is not None

    def admit(self, visitor: str, estimate_usd: float | None, images: int = 1) -> Reservation:
        """Reserve this run's cost and count it for `visitor`, or raise LimitReached (nothing counted).

        `estimate_usd` is the list-price estimate; None (no published price) reserves
        `images` × FALLBACK_USD_PER_IMAGE instead. `visitor` is whatever tells visitors apart.
        """
        usd = _valid_cost(estimate_usd, max(1, images) * FALLBACK_USD_PER_IMAGE)
        with self._lock:
            now = self._clock()
            self._roll_day(now)
            self._check_budget(usd, now)
            self._check_rate(visitor, now)
            self._charge(_to_micros(usd))
            self._count_run(visitor, now)
            return Reservation(self._day, usd)

    def settle(self, reservation: Reservation, actual_usd: float | None) -> None:
        """Replace the estimate with what the run cost; a second settle of the same run does nothing.

        None keeps the estimate (the vendor reported no cost and no price is known); 0.0 fits a run
        that failed with nothing made. Either way the run still counts toward the visitor's hour.
        A run admitted before midnight UTC stays on that day: settling it changes nothing today.
        """
        with self._lock:
            if reservation.settled:
                return
            reservation.settled = True
            self._roll_day(self._clock())
            if reservation.day == self._day:
                actual = _valid_cost(actual_usd, reservation.estimate_usd)
                self._charge(_to_micros(actual) - _to_micros(reservation.estimate_usd))

    def remaining_today(self) -> float | None:
        """Dollars left under today's limit (reservations count as spent); None when there is no limit."""
        with self._lock:
            self._roll_day(self._clock())
            if self.daily_usd is None:
                return None
            return max(0, _to_micros(self.daily_usd) - self._spent) / _MICROS

    def status(self) -> str:
        """One line for the page: "Server key: $0.42 of $2.00 spent today (UTC); up to 10 runs per visitor an hour"."""
        with self._lock:
            self._roll_day(self._clock())
            spent = self._spent / _MICROS
        if self.daily_usd is None:
            parts = [f"${spent:.2f} spent today (UTC), no daily limit"]
        else:
            parts = [f"${spent:.2f} of ${self.daily_usd:.2f} spent today (UTC)"]
        if self.runs_per_hour is not None:
            parts.append(f"up to {self.runs_per_hour} runs per visitor an hour")
        return "Server key: " + "; ".join(parts)

    def _roll_day(self, now: float) -> None:
        # The budget is per UTC day: the first call after midnight starts the new day from zero.
        today = _utc_day(now)
        if today != self._day:
            self._day, self._spent = today, 0

    def _check_budget(self, usd: float, now: float) -> None:
        if self.daily_usd is None:
            return
        left = _to_micros(self.daily_usd) - self._spent
        if _to_micros(usd) > left:
            raise LimitReached(_budget_message(self.daily_usd, max(0, left) / _MICROS, usd, now))

    def _check_rate(self, visitor: str, now: float) -> None:
        if self.runs_per_hour is None:
            return
        self._forget_idle_visitors(now)
        recent = self._runs.get(visitor, deque())
        if len(recent) >= self.runs_per_hour:
            raise LimitReached(_rate_message(self.runs_per_hour, recent, now))

    def _forget_idle_visitors(self, now: float) -> None:
        # Keeps memory bounded by the visitors active in the last hour, not every address ever seen.
        for visitor in list(self._runs):
            recent = self._runs[visitor]
            while recent and recent[0] <= now - WINDOW_S:
                recent.popleft()
            if not recent:
                del self._runs[visitor]

    def _count_run(self, visitor: str, now: float) -> None:
        if self.runs_per_hour is not None:
            self._runs.setdefault(visitor, deque()).append(now)

    def _charge(self, micros: int) -> None:
        if micros:  # nothing to write when a run cost what was reserved
            self._spent = max(0, self._spent + micros)
            self._ledger.save(self._day, self._spent)


class _Ledger:
    """Today's server-key spend in a JSON file: `{"day": "2025-06-01", "spent_usd": 0.42}`.

    One guard per file: the guard writes its own total, so a second writer would be overwritten.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._failing = False

    def load(self, today: str) -> tuple[str, int]:
        """(day, micro-dollars) to start from: an unreadable ledger starts at zero, with a warning."""
        if self.path is None or not self.path.exists():
            return today, 0
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
            day, spent = record["day"], float(record["spent_usd"])
        except (OSError, ValueError, TypeError, KeyError) as error:
            log.warning("Server-key ledger %s is unreadable (%s); counting today's spend from $0", self.path, error)
            return today, 0
        if day != today or not math.isfinite(spent) or spent < 0:
            return today, 0
        return today, _to_micros(spent)

    def save(self, day: str, micros: int) -> None:
        """Write atomically; a failure is logged once and the run goes on with the total in memory."""
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, json.dumps({"day": day, "spent_usd": micros / _MICROS}).encode())
        except OSError as error:
            if not self._failing:
                log.warning("Server-key ledger %s not saved (%s); keeping today's spend in memory", self.path, error)
            self._failing = True
        else:
            self._failing = False


def _parse(env: Mapping[str, str], name: str, kind: type[_Number], expected: str) -> _Number | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value: _Number | None = kind(raw)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name} must be {expected}, or empty for no limit; got {raw[:40]!r}")
    return value


def _valid_cost(usd: float | None, fallback: float) -> float:
    # A missing or nonsensical figure never lowers the charge below what is already assumed.
    return usd if usd is not None and math.isfinite(usd) and usd >= 0 else fallback


def _to_micros(usd: float) -> int:
    return round(usd * _MICROS)


def _utc_day(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).date().isoformat()


def _until_midnight(now: float) -> float:
    moment = datetime.fromtimestamp(now, UTC)
    midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - moment).total_seconds()


def _budget_message(limit_usd: float, left_usd: float, run_usd: float, now: float) -> str:
    resets = f"resets at 00:00 UTC, in {_wait_text(_until_midnight(now))}"
    if limit_usd == 0:
        head = "This Space's key has a daily spending limit of $0.00, so it makes no runs."
    elif left_usd <= 0:
        head = f"This Space's key has reached its daily spending limit of ${limit_usd:.2f} ({resets})."
    else:
        head = (
            f"This run (about ${run_usd:.2f}) would take this Space's key past its daily spending limit of "
            f"${limit_usd:.2f}; ${left_usd:.2f} is left today ({resets})."
        )
    return f"{head} {BRING_YOUR_OWN_KEY}"


def _rate_message(limit: int, recent: deque[float], now: float) -> str:
    if limit == 0:
        return f"This Space's key makes no runs for visitors (its limit is 0 runs an hour). {BRING_YOUR_OWN_KEY}"
    # The next run is possible once enough of the oldest runs have left the window.
    wait = recent[len(recent) - limit] + WINDOW_S - now
    return (
        f"You have made {_plural(len(recent), 'run')} with this Space's key in the last hour, the limit per "
        f"visitor; the next is possible in {_wait_text(wait)}. {BRING_YOUR_OWN_KEY}"
    )


def _wait_text(seconds: float) -> str:
    """A wait as a person reads it, rounded up: "45 s", "14 min", "5 h 12 min"."""
    if seconds < 60:
        return f"{max(1, math.ceil(seconds))} s"
    hours, minutes = divmod(math.ceil(seconds / 60), 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def proxy_hops(env: Mapping[str, str]) -> int:
    """How many proxies in front of the app append the address they saw to X-Forwarded-For.

    WAN26_PROXY_HOPS; empty means 1 on a Hugging Face Space (SPACE_ID is set there), else 0. That a
    Space has exactly one such proxy is our reading of how Spaces are served, not a documented fact
    [U]: a Space owner who sees every visitor counted as one sets the number their logs show.
    """
    raw = (env.get(PROXY_HOPS_ENV) or "").strip()
    if not raw:
        return 1 if env.get("SPACE_ID") else 0
    if not raw.isdigit():
        raise ConfigError(f"{PROXY_HOPS_ENV} must be a whole number of proxies, 0 or more, or empty; got {raw!r}")
    return int(raw)


def visitor_address(headers: Mapping[str, str], client_host: str | None, hops: int) -> str:
    """Who a visitor is, for the per-visitor limit: their network address (an IPv6 one by its /64).

    Behind proxies every request comes from the last proxy's address, and the visitor's is in
    X-Forwarded-For. Only the entries the `hops` trusted proxies appended can be believed (a client
    can write anything to the left of them), so the one `hops` from the right is the visitor's.
    """
    chain = [part.strip() for part in (headers.get("x-forwarded-for") or "").split(",") if part.strip()]
    address = chain[-hops] if hops and len(chain) >= hops else (client_host or "unknown")
    return _subscriber(address)


def _subscriber(address: str) -> str:
    """An IPv6 subscriber usually holds a whole /64 (RFC 6177), so counting single addresses would
    give them endless fresh allowances; IPv4 addresses count one by one."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else ip)
