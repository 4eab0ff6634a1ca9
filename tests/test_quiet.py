"""A run's events with quiet moments marked: what the page shows late, and what it never misses."""

import asyncio

import pytest

from wan26.ui.quiet import Quiet, with_quiet


async def slow_source(log, pause_after_first=0.3):
    try:
        yield "first"
        await asyncio.sleep(pause_after_first)
        yield "second"
    finally:
        log.append("source cleaned up")


def collected(source, seconds):
    async def run():
        return [item if not isinstance(item, Quiet) else "quiet" async for item in with_quiet(source, seconds)]

    return asyncio.run(run())


def test_items_pass_in_order_with_a_quiet_marker_where_the_source_paused():
    log = []
    assert collected(slow_source(log), 0.1)[:2] == ["first", "quiet"]
    assert collected(slow_source(log), 0.1)[-1] == "second"
    assert collected(slow_source(log, pause_after_first=0), 5) == ["first", "second"]  # no pause, no marker
    assert log == ["source cleaned up"] * 3


def test_the_sources_error_reaches_the_reader_after_what_came_before():
    async def failing():
        yield "made"
        raise ValueError("vendor refused")

    async def run():
        seen = []
        with pytest.raises(ValueError, match="vendor refused"):
            async for item in with_quiet(failing(), 5):
                seen.append(item)
        return seen

    assert asyncio.run(run()) == ["made"]


def test_stopping_the_reader_stops_the_source_and_lets_it_clean_up():
    log = []

    async def run():
        reader = asyncio.create_task(_read_all(with_quiet(slow_source(log, pause_after_first=60), 5)))
        await asyncio.sleep(0.2)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader

    asyncio.run(run())
    assert log == ["source cleaned up"]


async def _read_all(source):
    return [item async for item in source]
