"""Runs beyond a vendor's cap on one key's jobs at once wait their turn here, not at the vendor."""

import asyncio

import httpx
import pytest

from wan26 import AsyncClient, ConfigError, Flow, ImageRequest, Mode, Phase, Progress
from wan26._lanes import Lane, concurrency_limit, lane_for
from wan26._poll import PollPolicy

FAST_POLL = PollPolicy(first_interval=0.01, growth=1.0, max_interval=0.01, deadline=30)


def test_runs_beyond_the_limit_wait_in_arrival_order():
    async def scenario():
        lane = Lane(2)
        first, second, third, fourth = (lane.join() for _ in range(4))
        assert [t.admitted for t in (first, second, third, fourth)] == [True, True, False, False]
        assert (third.place, fourth.place) == (1, 2)
        first.leave()
        assert third.admitted and fourth.place == 1
        fourth.leave()  # gave up while waiting: frees its place, not a slot
        assert lane.running == 2
        second.leave(), third.leave()
        assert lane.running == 0

    asyncio.run(scenario())


def test_a_waiting_run_wakes_when_its_place_changes():
    async def scenario():
        lane = Lane(1)
        running, waiting = lane.join(), lane.join()
        woken = asyncio.ensure_future(waiting.moved())
        await asyncio.sleep(0)
        assert not woken.done()
        running.leave()
        await asyncio.wait_for(woken, 1)
        return waiting.admitted

    assert asyncio.run(scenario())


def test_each_key_and_vendor_has_its_own_line():
    async def scenario():
        mine, other_key = lane_for("dashscope", "k1", 1), lane_for("dashscope", "k2", 1)
        other_vendor = lane_for("runware", "k1", 1)
        held = mine.join()
        return held.admitted, other_key.join().admitted, other_vendor.join().admitted, mine.join().admitted

    assert asyncio.run(scenario()) == (True, True, True, False)


@pytest.mark.parametrize(("setting", "limit"), [("", 5), ("2", 2), ("0", None), ("32", 32)])
def test_the_setting_overrides_the_documented_limit(setting, limit):
    assert concurrency_limit(5, {"WAN26_MAX_CONCURRENT_PER_KEY": setting}) == limit


@pytest.mark.parametrize("setting", ["-1", "five", "1.5"])
def test_a_bad_setting_is_refused_by_name(setting):
    with pytest.raises(ConfigError, match="WAN26_MAX_CONCURRENT_PER_KEY"):
        concurrency_limit(5, {"WAN26_MAX_CONCURRENT_PER_KEY": setting})


def _run_together(fake, outputs, runs, env, flow=Flow.DIRECT):
    """`runs` generations at once through one client; each run's events."""

    async def go():
        options = {"api_key": fake.api_key, "base_url": fake.base_url, "output_dir": outputs, "poll": FAST_POLL}
        async with AsyncClient("dashscope", env=env, **options) as client:

            async def one():
                events = []
                await client.generate(ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), flow=flow, on_event=events.append)
                return events

            return await asyncio.gather(*(one() for _ in range(runs)))

    return asyncio.run(go())


def _places(events):
    return [e.message for e in events if isinstance(e, Progress) and e.phase is Phase.QUEUED]


def test_dashscope_runs_never_pass_its_five_tasks_at_once(dashscope_fake, tmp_path):
    dashscope_fake.task_script = ["RUNNING", "RUNNING", "RUNNING", "SUCCEEDED"]
    runs = _run_together(dashscope_fake, tmp_path, 7, env={}, flow=Flow.TASK)
    submits = dashscope_fake.generation_requests()
    assert len(submits) == 7  # none refused as throttled and sent again
    waited = [_places(events) for events in runs if _places(events)]
    assert len(waited) == 2
    assert any("number 2 in line" in message for messages in waited for message in messages)
    assert all("DashScope runs at most 5 at once" in messages[0] for messages in waited)


def test_the_setting_narrows_and_lifts_the_cap(dashscope_fake, tmp_path):
    dashscope_fake.delay("generate", 0.3, times=3)
    _run_together(dashscope_fake, tmp_path, 3, env={"WAN26_MAX_CONCURRENT_PER_KEY": "1"})
    assert dashscope_fake.max_in_flight == 1
    dashscope_fake.max_in_flight = 0
    dashscope_fake.delay("generate", 1.0, times=3)
    runs = _run_together(dashscope_fake, tmp_path, 3, env={"WAN26_MAX_CONCURRENT_PER_KEY": "0"})
    assert dashscope_fake.max_in_flight == 3 and not any(_places(events) for events in runs)


def test_a_run_whose_turn_comes_while_its_place_is_read_starts(dashscope_fake, tmp_path):
    """The run ahead ends while the waiting run's "number 1 in line" is being shown: it starts then,
    rather than waiting for the line to move again (nothing else would ever move it)."""

    async def go():
        options = {"api_key": dashscope_fake.api_key, "base_url": dashscope_fake.base_url, "output_dir": tmp_path}
        async with AsyncClient("dashscope", env={"WAN26_MAX_CONCURRENT_PER_KEY": "1"}, **options) as client:
            request = ImageRequest(Mode.TEXT_TO_IMAGE, "a fox")
            ahead, waiting = client.events(request), client.events(request)
            while (await anext(ahead)).phase is not Phase.SUBMITTING:
                pass
            while getattr(await anext(waiting), "phase", None) is not Phase.QUEUED:
                pass
            async for _ in ahead:  # the run ahead ends while the waiting one has not asked for more
                pass
            later = [event async for event in _within(waiting, seconds=10)]
            return [type(event).__name__ for event in later]

    assert asyncio.run(go())[-1] == "Finished"


def test_a_run_stopped_while_it_waits_frees_its_place_at_once(dashscope_fake, tmp_path):
    """Stop (the app closes the run's events) leaves the line there and then: the next run is
    told it is first, not second behind a run that no longer exists."""
    dashscope_fake.delay("generate", 2.0)

    async def go():
        options = {"api_key": dashscope_fake.api_key, "base_url": dashscope_fake.base_url, "output_dir": tmp_path}
        async with AsyncClient("dashscope", env={"WAN26_MAX_CONCURRENT_PER_KEY": "1"}, **options) as client:
            request = ImageRequest(Mode.TEXT_TO_IMAGE, "a fox")
            running, stopped, after = (client.events(request) for _ in range(3))
            while (await anext(running)).phase is not Phase.SUBMITTING:
                pass
            while getattr(await anext(stopped), "phase", None) is not Phase.QUEUED:
                pass
            await stopped.aclose()
            while getattr(event := await anext(after), "phase", None) is not Phase.QUEUED:
                pass
            await after.aclose()
            await running.aclose()
            return event.message

    assert asyncio.run(go()).startswith("Waiting for a free slot: number 1 in line for this key")


async def _within(events, seconds):
    async with asyncio.timeout(seconds):
        async for event in events:
            yield event


def test_a_line_is_forgotten_once_nothing_runs_or_waits_in_it():
    async def scenario():
        first = lane_for("dashscope", "visitor-key", 1)
        ticket = first.join()
        same = lane_for("dashscope", "visitor-key", 1)
        ticket.leave()
        return first is same, lane_for("dashscope", "visitor-key", 1) is first

    assert asyncio.run(scenario()) == (True, False)


def test_a_task_being_fetched_holds_a_place_in_its_keys_line(dashscope_fake, tmp_path):
    """A task submitted earlier still counts at the vendor while it runs, so a new run waits for it."""
    dashscope_fake.task_script = ["RUNNING"] * 20 + ["SUCCEEDED"]
    headers = {"Authorization": f"Bearer {dashscope_fake.api_key}", "X-DashScope-Async": "enable"}
    body = {"model": "wan2.6-t2i", "input": {"messages": [{"role": "user", "content": [{"text": "a fox"}]}]}}
    submit_url = f"{dashscope_fake.base_url}/services/aigc/image-generation/generation"
    task_id = httpx.post(submit_url, json=body, headers=headers).json()["output"]["task_id"]

    async def go():
        options = {"api_key": dashscope_fake.api_key, "base_url": dashscope_fake.base_url, "output_dir": tmp_path}
        env = {"WAN26_MAX_CONCURRENT_PER_KEY": "1"}
        async with AsyncClient("dashscope", env=env, poll=FAST_POLL, **options) as client:
            fetching = asyncio.ensure_future(client.fetch(task_id, Mode.TEXT_TO_IMAGE))
            await asyncio.sleep(0.05)
            events = []
            await client.generate(ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), on_event=events.append)
            return await fetching, events

    fetched, events = asyncio.run(go())
    assert fetched.images and _places(events) == [
        "Waiting for a free slot: number 1 in line for this key (Alibaba Cloud DashScope runs at most 1 at once)"
    ]
