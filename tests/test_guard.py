"""The server-key guard: daily spending limit, per-visitor run rate, the ledger, and the messages."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wan26.errors import ConfigError, Wan26Error
from wan26.guard import (
    BRING_YOUR_OWN_KEY,
    DAILY_USD_ENV,
    RUNS_PER_HOUR_ENV,
    KeyGuard,
    LimitReached,
    proxy_hops,
    visitor_address,
)

# 18:48 UTC: midnight is 5 h 12 min away, as in the example.
START = datetime(2025, 6, 1, 18, 48, tzinfo=UTC).timestamp()
NEXT_DAY = datetime(2025, 6, 2, 0, 0, 1, tzinfo=UTC).timestamp()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def guard(tmp_path: Path, clock: Clock, daily: str = "", runs: str = "") -> KeyGuard:
    env = {DAILY_USD_ENV: daily, RUNS_PER_HOUR_ENV: runs}
    return KeyGuard.from_env(env, tmp_path / ".server-key-spend.json", clock)


def test_unset_or_empty_env_sets_no_limits(tmp_path):
    for env in ({}, {DAILY_USD_ENV: "", RUNS_PER_HOUR_ENV: "  "}):
        unlimited = KeyGuard.from_env(env, tmp_path / "ledger.json", Clock())
        assert not unlimited.enabled
        for _ in range(50):
            unlimited.admit("1.2.3.4", 1.0)
        assert unlimited.remaining_today() is None
        assert unlimited.status() == f"Server key: ${50 * (1 + (env != {})):.2f} spent today (UTC), no daily limit"


def test_valid_env_is_read():
    configured = KeyGuard.from_env({DAILY_USD_ENV: " 2.5 ", RUNS_PER_HOUR_ENV: "10"}, None, Clock())
    assert configured.enabled
    assert (configured.daily_usd, configured.runs_per_hour) == (2.5, 10)
    assert configured.status() == "Server key: $0.00 of $2.50 spent today (UTC); up to 10 runs per visitor an hour"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        (DAILY_USD_ENV, "-1"),
        (DAILY_USD_ENV, "two dollars"),
        (DAILY_USD_ENV, "nan"),
        (DAILY_USD_ENV, "inf"),
        (RUNS_PER_HOUR_ENV, "-3"),
        (RUNS_PER_HOUR_ENV, "2.5"),
        (RUNS_PER_HOUR_ENV, "ten"),
    ],
)
def test_invalid_env_is_a_config_error_naming_the_variable(variable, value):
    with pytest.raises(ConfigError, match=variable) as caught:
        KeyGuard.from_env({variable: value}, None, Clock())
    assert repr(value) in str(caught.value)


def test_daily_limit_refuses_the_run_that_would_pass_it(tmp_path):
    limited = guard(tmp_path, Clock(), daily="0.10")
    for _ in range(3):
        limited.admit("a", 0.03)
    with pytest.raises(LimitReached) as caught:
        limited.admit("b", 0.03)
    assert str(caught.value) == (
        "This run (about $0.03) would take this Space's key past its daily spending limit of $0.10; "
        "$0.01 is left today (resets at 00:00 UTC, in 5 h 12 min). "
        "Paste your own key under 'Your API key' to continue without this limit."
    )
    assert isinstance(caught.value, Wan26Error)
    limited.admit("b", 0.01)  # exactly up to the limit is allowed


def test_reached_daily_limit_says_so_and_when_it_resets(tmp_path):
    limited = guard(tmp_path, Clock(), daily="2")
    limited.admit("a", 2.0)
    with pytest.raises(LimitReached) as caught:
        limited.admit("a", 0.03)
    assert str(caught.value) == (
        "This Space's key has reached its daily spending limit of $2.00 (resets at 00:00 UTC, in 5 h 12 min). "
        + BRING_YOUR_OWN_KEY
    )
    assert limited.status() == "Server key: $2.00 of $2.00 spent today (UTC)"


def test_a_zero_limit_refuses_every_run_plainly(tmp_path):
    no_spend = guard(tmp_path, Clock(), daily="0")
    with pytest.raises(LimitReached, match=r"daily spending limit of \$0\.00, so it makes no runs"):
        no_spend.admit("a", 0.03)
    no_runs = guard(tmp_path, Clock(), runs="0")
    with pytest.raises(LimitReached, match="its limit is 0 runs an hour") as caught:
        no_runs.admit("a", 0.03)
    assert str(caught.value).endswith(BRING_YOUR_OWN_KEY)


def test_settling_with_a_cheaper_reported_cost_frees_the_difference(tmp_path):
    limited = guard(tmp_path, Clock(), daily="0.10")
    first = limited.admit("a", 0.06)
    with pytest.raises(LimitReached):
        limited.admit("b", 0.06)
    limited.settle(first, 0.03)
    limited.admit("b", 0.06)
    assert limited.remaining_today() == pytest.approx(0.01)


def test_settling_twice_does_nothing_the_second_time(tmp_path):
    limited = guard(tmp_path, Clock(), daily="1")
    run = limited.admit("a", 0.30)
    limited.settle(run, 0.0)  # failed with nothing made
    limited.settle(run, 0.0)
    limited.admit("a", 0.30)
    assert limited.remaining_today() == pytest.approx(0.70)


def test_settling_without_a_cost_keeps_the_estimate(tmp_path):
    limited = guard(tmp_path, Clock(), daily="1")
    limited.settle(limited.admit("a", 0.30), None)
    assert limited.remaining_today() == pytest.approx(0.70)


def test_a_dearer_reported_cost_is_charged(tmp_path):
    limited = guard(tmp_path, Clock(), daily="1")
    limited.settle(limited.admit("a", 0.30), 0.45)
    assert limited.remaining_today() == pytest.approx(0.55)


def test_an_unsettled_reservation_stays_charged_across_a_restart(tmp_path):
    clock = Clock()
    guard(tmp_path, clock, daily="1").admit("a", 0.40)  # the app dies before settling
    assert guard(tmp_path, clock, daily="1").remaining_today() == pytest.approx(0.60)


def test_no_published_price_reserves_the_fallback_per_image(tmp_path):
    limited = guard(tmp_path, Clock(), daily="1")
    limited.admit("a", None, images=4)  # 4 × $0.05
    assert limited.remaining_today() == pytest.approx(0.80)


def test_concurrent_admits_near_the_limit_cannot_overspend(tmp_path):
    def slow_clock() -> float:
        time.sleep(0.005)  # widens the gap between check and reserve, were they not under one lock
        return START

    limited = guard(tmp_path, Clock(), daily="0.30")
    limited._clock = slow_clock  # after the ledger is read, so only admit is slowed
    admitted, refused = [], []
    barrier = threading.Barrier(8)

    def run(visitor: str) -> None:
        barrier.wait()
        try:
            admitted.append(limited.admit(visitor, 0.10))
        except LimitReached:
            refused.append(visitor)

    threads = [threading.Thread(target=run, args=(f"v{index}",)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(admitted), len(refused)) == (3, 5)
    assert limited.remaining_today() == 0


def test_the_ledger_survives_a_restart_the_same_day_and_is_ignored_the_next(tmp_path):
    clock = Clock()
    first = guard(tmp_path, clock, daily="1")
    first.settle(first.admit("a", 0.40), 0.25)
    record = json.loads((tmp_path / ".server-key-spend.json").read_text())
    assert record == {"day": "2025-06-01", "spent_usd": 0.25}
    assert guard(tmp_path, clock, daily="1").remaining_today() == pytest.approx(0.75)
    assert not list(tmp_path.glob(".partial-*"))
    clock.now = NEXT_DAY
    assert guard(tmp_path, clock, daily="1").remaining_today() == 1.0


def test_a_running_guard_starts_a_new_budget_at_utc_midnight(tmp_path):
    clock = Clock()
    limited = guard(tmp_path, clock, daily="1")
    before_midnight = limited.admit("a", 1.0)
    clock.now = NEXT_DAY
    limited.admit("a", 0.40)
    limited.settle(before_midnight, 0.0)  # yesterday's run does not refund today's budget
    assert limited.remaining_today() == pytest.approx(0.60)


def test_a_corrupt_ledger_starts_from_zero_with_a_warning(tmp_path, caplog):
    (tmp_path / ".server-key-spend.json").write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="wan26.guard"):
        limited = guard(tmp_path, Clock(), daily="1")
    assert limited.remaining_today() == 1.0
    assert "unreadable" in caplog.text


def test_per_visitor_limit_refuses_the_eleventh_run_in_an_hour(tmp_path):
    clock = Clock()
    limited = guard(tmp_path, clock, runs="10")
    for minute in range(10):
        clock.now = START + minute * 60
        limited.admit("1.1.1.1", 0.03)
    clock.now = START + 10 * 60
    with pytest.raises(LimitReached) as caught:
        limited.admit("1.1.1.1", 0.03)
    assert str(caught.value) == (
        "You have made 10 runs with this Space's key in the last hour, the limit per visitor; "
        "the next is possible in 50 min. " + BRING_YOUR_OWN_KEY
    )
    limited.admit("2.2.2.2", 0.03)  # another visitor is not held back
    clock.now = START + 3600  # the first run has left the window
    limited.admit("1.1.1.1", 0.03)
    clock.now = START + 3600 + 15
    with pytest.raises(LimitReached, match="the next is possible in 45 s"):
        limited.admit("1.1.1.1", 0.03)


def test_a_refused_run_is_neither_charged_nor_counted(tmp_path):
    limited = guard(tmp_path, Clock(), daily="0.10", runs="1")
    with pytest.raises(LimitReached, match="daily spending limit"):
        limited.admit("a", 0.50)
    limited.admit("a", 0.05)  # the refused run did not use up the visitor's one run
    with pytest.raises(LimitReached, match="1 run with this Space's key"):
        limited.admit("a", 0.05)
    assert limited.remaining_today() == pytest.approx(0.05)  # nor did the rate refusal reserve money


def test_visitors_idle_for_an_hour_are_forgotten(tmp_path):
    clock = Clock()
    limited = guard(tmp_path, clock, runs="10")
    for index in range(100):
        limited.admit(f"visitor-{index}", 0.03)
    clock.now = START + 3600
    limited.admit("newcomer", 0.03)
    assert list(limited._runs) == ["newcomer"]  # memory holds only the last hour's visitors


@pytest.mark.parametrize("blocker", ["directory at the ledger path", "file where its folder should be"])
def test_a_ledger_that_cannot_be_written_does_not_stop_runs(tmp_path, caplog, blocker):
    if blocker == "directory at the ledger path":
        ledger = tmp_path / ".server-key-spend.json"
        ledger.mkdir()
    else:
        (tmp_path / "outputs").write_text("not a folder")
        ledger = tmp_path / "outputs" / ".server-key-spend.json"
    with caplog.at_level(logging.WARNING, logger="wan26.guard"):
        limited = KeyGuard.from_env({DAILY_USD_ENV: "1"}, ledger, Clock())
        limited.settle(limited.admit("a", 0.30), 0.20)
        limited.admit("a", 0.30)
    assert limited.remaining_today() == pytest.approx(0.50)  # kept in memory
    assert caplog.text.count("not saved") == 1  # said once, not on every run
    assert not list(tmp_path.rglob(".partial-*"))


# ---- who a visitor is ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "hops"),
    [({}, 0), ({"SPACE_ID": "owner/space"}, 1), ({"SPACE_ID": "o/s", "WAN26_PROXY_HOPS": "2"}, 2)],
)
def test_proxy_hops_default_to_one_on_a_space_and_none_elsewhere(env, hops):
    assert proxy_hops(env) == hops


@pytest.mark.parametrize("value", ["one", "-1", "1.5"])
def test_a_proxy_hops_value_that_is_not_a_count_is_a_config_error(value):
    with pytest.raises(ConfigError, match="WAN26_PROXY_HOPS"):
        proxy_hops({"WAN26_PROXY_HOPS": value})


def test_only_the_address_the_trusted_proxy_appended_is_believed():
    forged = {"x-forwarded-for": "1.2.3.4, 198.51.100.7"}  # the visitor wrote the first, the proxy the last
    assert visitor_address(forged, "10.0.0.1", 1) == "198.51.100.7"
    assert visitor_address(forged, "203.0.113.5", 0) == "203.0.113.5"  # no proxy: the header means nothing


def test_an_ipv6_visitor_is_counted_by_their_64_block():
    first = visitor_address({}, "2001:db8:1:2::1", 0)
    assert first == visitor_address({}, "2001:db8:1:2:ffff::9", 0) == "2001:db8:1:2::/64"
    assert visitor_address({}, "2001:db8:1:3::1", 0) != first
    assert visitor_address({}, "::ffff:192.0.2.1", 0) == "192.0.2.1"
