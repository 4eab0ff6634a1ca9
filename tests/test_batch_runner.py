"""`BatchRun`, the Python API the app's Batch tab drives: its events, `stop()`, a rerun on the same
journal, and a direct-flow row cut off mid-request. Against the loopback fakes, or (for a request
that never answers) an injected transport."""

import asyncio
import csv
import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from fakes.vendor import FailureKind
from wan26 import AsyncClient, RetryPolicy
from wan26.batch import (
    BatchBusy,
    BatchEnded,
    BatchRun,
    Defaults,
    Journal,
    JournalError,
    RowChanged,
    RowStatus,
    RunOptions,
    default_clients,
    make_plan,
    read_jobs,
)
from wan26.batch.journal import CUT_OFF
from wan26.errors import ConfigError
from wan26.types import ProviderName

QUICK, HELD = ["SUCCEEDED"], ["RUNNING"]


def plan_of(tmp_path: Path, prompts: list[str], provider: ProviderName = ProviderName.DASHSCOPE):
    path = tmp_path / "jobs.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([["prompt"], *([prompt] for prompt in prompts)])
    return make_plan(read_jobs(path, Defaults(provider=provider)))


async def events_of(run: BatchRun, on_event=lambda event: None) -> list:
    seen = []
    async for event in run.events():
        seen.append(event)
        on_event(event)
    return seen


def statuses_by_row(events) -> dict[int, list[RowStatus]]:
    ways: dict[int, list[RowStatus]] = {}
    for event in events:
        if isinstance(event, RowChanged):
            ways.setdefault(event.record.number, []).append(event.record.status)
    return ways


def sent(fake, prompt: str) -> int:
    return sum(prompt in request.body.decode() for request in fake.generation_requests())


def three_quick_rows(dashscope_fake, tmp_path) -> tuple[BatchRun, list, Path]:
    """A batch of three rows run to its end against the fake: the run, its events and its folder."""
    dashscope_fake.task_script = QUICK
    plan, folder = plan_of(tmp_path, ["a fox", "an owl", "a cat"]), tmp_path / "batch"
    journal = Journal.open(folder)
    run = BatchRun(plan, journal, default_clients(folder, dashscope_fake.env()), folder=folder)
    events = asyncio.run(events_of(run))
    journal.close()
    return run, events, folder


def test_events_follow_each_row_from_sending_to_done(dashscope_fake, tmp_path):
    run, events, folder = three_quick_rows(dashscope_fake, tmp_path)
    assert statuses_by_row(events) == {n: [RowStatus.SENDING, RowStatus.ACCEPTED, RowStatus.DONE] for n in (1, 2, 3)}
    ended = events[-1]
    assert isinstance(ended, BatchEnded) and not ended.stopped
    assert (ended.tally.done, ended.tally.images, ended.tally.spent_usd) == (3, 3, pytest.approx(0.09))
    assert all((folder / record.files[0]).is_file() and record.task_id for record in run.records)


def test_the_cost_under_way_counts_each_row_once(dashscope_fake, tmp_path):
    """The progress line's "(+$… under way)": three rows of $0.03 sent at once are $0.09, never more."""
    _, events, _ = three_quick_rows(dashscope_fake, tmp_path)
    committed = [event.tally.committed_usd for event in events if isinstance(event, RowChanged)]
    assert max(committed) == pytest.approx(0.09) and committed[-1] == pytest.approx(0.09)


def test_stop_now_leaves_accepted_tasks_to_be_fetched_by_the_next_run(dashscope_fake, tmp_path):
    dashscope_fake.task_script = HELD
    prompts = ["item 1", "item 2", "item 3"]
    plan, folder = plan_of(tmp_path, prompts), tmp_path / "batch"
    journal = Journal.open(folder)
    run = BatchRun(
        plan, journal, default_clients(folder, dashscope_fake.env()), RunOptions(concurrency=2), folder=folder
    )

    def stop_once_two_are_accepted(event) -> None:
        if isinstance(event, RowChanged) and [r.status for r in run.records].count(RowStatus.ACCEPTED) == 2:
            run.stop(now=True)

    ended = asyncio.run(events_of(run, stop_once_two_are_accepted))[-1]
    journal.close()
    assert ended.stopped
    assert [r.status for r in run.records] == [RowStatus.ACCEPTED, RowStatus.ACCEPTED, RowStatus.NOT_STARTED]

    dashscope_fake.task_script = QUICK
    for task in dashscope_fake.tasks.values():
        task.script, task.step = list(QUICK), -1
    journal = Journal.open(folder)
    again = BatchRun(plan, journal, default_clients(folder, dashscope_fake.env()), folder=folder)
    asyncio.run(events_of(again))
    journal.close()
    assert [r.status for r in again.records] == [RowStatus.DONE] * 3
    assert [sent(dashscope_fake, prompt) for prompt in prompts] == [1, 1, 1]


def test_a_direct_call_cut_off_is_unknown_and_sent_again_only_when_asked(vendor_fakes, tmp_path):
    aimlapi = vendor_fakes["aimlapi"]
    plan, folder = plan_of(tmp_path, ["a heron"], ProviderName.AIMLAPI), tmp_path / "batch"
    arrived, calls = asyncio.Event(), []

    async def never_answers(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        arrived.set()
        await asyncio.Event().wait()  # the answer that never comes
        raise AssertionError("unreachable")

    def hanging_clients(provider: str) -> AsyncClient:
        transport = httpx.MockTransport(never_answers)
        return AsyncClient(
            provider, api_key="k", base_url="http://aimlapi.test", output_dir=folder, transport=transport
        )

    async def cut_off(run: BatchRun) -> list:
        stopper = asyncio.create_task(arrived.wait())
        stopper.add_done_callback(lambda _: run.stop(now=True))
        return await events_of(run)

    journal = Journal.open(folder)
    run = BatchRun(plan, journal, hanging_clients, folder=folder)
    asyncio.run(cut_off(run))
    journal.close()
    [record] = run.records
    assert (record.status, record.error, len(calls)) == (RowStatus.UNKNOWN, CUT_OFF, 1)  # AI/ML API has no task id

    clients = default_clients(folder, aimlapi.env())
    for options, status in ((RunOptions(), RowStatus.UNKNOWN), (RunOptions(retry_unknown=True), RowStatus.DONE)):
        journal = Journal.open(folder)
        rerun = BatchRun(plan, journal, clients, options, folder=folder)
        asyncio.run(events_of(rerun))
        journal.close()
        assert rerun.records[0].status is status
    assert sent(aimlapi, "a heron") == 1  # only the explicit retry reached the vendor
    assert rerun.records[0].spent_usd == pytest.approx(0.039 * 2)  # the cut-off attempt may have been billed too


def test_a_missing_key_stops_the_batch_before_anything_is_sent(dashscope_fake, tmp_path):
    plan, folder = plan_of(tmp_path, ["a fox"]), tmp_path / "batch"
    journal = Journal.open(folder)
    run = BatchRun(plan, journal, default_clients(folder, {}), folder=folder)
    with pytest.raises(ConfigError, match="DASHSCOPE_API_KEY"):
        asyncio.run(events_of(run))
    journal.close()
    assert run.records[0].status is RowStatus.NOT_STARTED and dashscope_fake.requests == []


def test_one_process_at_a_time_runs_a_batch(tmp_path):
    journal = Journal.open(tmp_path / "batch")
    with pytest.raises(BatchBusy):
        Journal.open(tmp_path / "batch")
    journal.close()
    Journal.open(tmp_path / "batch").close()  # free again once the first is closed


def test_rows_start_no_faster_than_the_rate_asked_for(dashscope_fake, tmp_path, monkeypatch):
    from wan26.batch.throttle import Throttle

    starts: list[float] = []
    original = Throttle.started
    monkeypatch.setattr(Throttle, "started", lambda self, now: (starts.append(now), original(self, now)))
    dashscope_fake.task_script = QUICK
    plan, folder = plan_of(tmp_path, ["a fox", "an owl", "a cat", "a hen"]), tmp_path / "batch"
    journal = Journal.open(folder)
    run = BatchRun(plan, journal, default_clients(folder, dashscope_fake.env()), RunOptions(rate=10), folder=folder)
    asyncio.run(events_of(run))
    journal.close()
    assert len(starts) == 4 and all(later - earlier >= 0.1 for earlier, later in zip(starts, starts[1:], strict=False))
    assert all(record.status is RowStatus.DONE for record in run.records)


def test_a_row_part_paid_for_is_never_sent_again_even_when_another_part_was_rate_limited(vendor_fakes, tmp_path):
    """AI/ML API makes one image per call: with n=2, one call may be billed while the other is
    refused with 429. The row is then not "not started" but unknown, its saved image kept."""
    aimlapi = vendor_fakes["aimlapi"]
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("prompt,n\na heron,2\n", encoding="utf-8")
    plan, folder = make_plan(read_jobs(jobs, Defaults(provider=ProviderName.AIMLAPI))), tmp_path / "batch"

    def clients_without_retries(provider: str) -> AsyncClient:
        env = aimlapi.env()
        return AsyncClient(provider, env=env, output_dir=folder, retry=RetryPolicy(max_retries=0))

    aimlapi.fail_with(FailureKind.RATE_LIMIT, times=1)  # one of the two calls
    for _ in range(2):  # the run, then a plain rerun
        journal = Journal.open(folder)
        run = BatchRun(plan, journal, clients_without_retries, folder=folder)
        asyncio.run(events_of(run))
        journal.close()
        [record] = run.records
        assert record.status is RowStatus.UNKNOWN and len(record.files) == 1
        assert (folder / record.files[0]).is_file()
    assert len(aimlapi.generation_requests()) == 2  # the two calls of the first run, nothing since


def test_a_journal_that_cannot_be_written_stops_the_batch_and_names_the_accepted_task(dashscope_fake, tmp_path):
    dashscope_fake.task_script = HELD
    plan, folder = plan_of(tmp_path, ["a fox"]), tmp_path / "batch"

    class DiskFullAtAcceptance(Journal):
        def save(self, record):
            if record.status is RowStatus.ACCEPTED:
                raise JournalError(folder, sqlite3.OperationalError("database or disk is full"))
            return super().save(record)

    journal = Journal.open(folder)
    journal.__class__ = DiskFullAtAcceptance
    run = BatchRun(plan, journal, default_clients(folder, dashscope_fake.env()), folder=folder)
    with pytest.raises(JournalError) as caught:
        asyncio.run(events_of(run))
    journal.close()
    [note] = caught.value.__notes__
    assert "disk is full" in str(caught.value) and "python -m wan26 fetch" in note
    record = json.loads(next(folder.rglob("run.json")).read_text())
    assert record["status"] == "stopped" and record["task_id"] and record["task_id"] in note
    assert len(dashscope_fake.generation_requests()) == 1  # and the batch sent nothing more


def test_a_journal_that_cannot_be_opened_lets_go_of_the_batch(tmp_path):
    """A long-lived process (the app) that met a damaged journal can open it again once mended."""
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "journal.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(JournalError):
        Journal.open(folder)
    (folder / "journal.sqlite").unlink()
    Journal.open(folder).close()  # not BatchBusy: the failed open did not keep the lock


def test_a_resumed_2_7_set_row_is_fetched_as_the_model_it_was_sent_with(dashscope_fake, tmp_path):
    dashscope_fake.task_script = HELD
    path = tmp_path / "jobs.csv"
    path.write_text("prompt,mode,model,n\na cat through the seasons,image_set,wan2.7,3\n", encoding="utf-8")
    plan, folder = make_plan(read_jobs(path, Defaults())), tmp_path / "batch"
    journal = Journal.open(folder)
    run = BatchRun(plan, journal, default_clients(folder, dashscope_fake.env()), folder=folder)

    def stop_once_accepted(event) -> None:
        if isinstance(event, RowChanged) and event.record.status is RowStatus.ACCEPTED:
            run.stop(now=True)

    asyncio.run(events_of(run, stop_once_accepted))
    journal.close()
    for task in dashscope_fake.tasks.values():
        task.script, task.step = list(QUICK), -1
    journal = Journal.open(folder)
    again = BatchRun(plan, journal, default_clients(folder, dashscope_fake.env()), folder=folder)
    asyncio.run(events_of(again))
    journal.close()
    [record] = again.records
    assert record.status is RowStatus.DONE and len(record.files) == 3
    saved = json.loads(next(folder.glob("*-image_set-*/run.json")).read_text())
    assert (saved["model"], saved["wan_model"]) == ("wan2.7-image", "wan2.7")
    assert sent(dashscope_fake, "a cat through the seasons") == 1
