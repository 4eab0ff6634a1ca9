"""A batch found again after a page reload, by the id its browser keeps (a gr.BrowserState).

- the pieces: one batch followed by any number of pages (each gets the events so far, then the
  new ones), and the ids a browser sends, checked for their exact shape before any file is touched;
- over HTTP, as any visitor can call it: a new session presenting the stored id follows the running
  batch, stops it, and after its end sees how it ended, its images and its zip (after a restart too);
  a session presenting another, forged or path-like id sees nothing and stops nothing.
"""

import asyncio
import io
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from batch_tab_client import Visitor, output
from history_app import free_port, history_env, launched
from wan26.batch import BatchEnded, Journal, RowRecord, RowStatus, Tally, make_plan, read_jobs
from wan26.ui.batch_folder import KEPT_IDS, batch_id_is_valid, held_folder, kept_ids, new_folder
from wan26.ui.batch_live import Ended, LiveBatch, LiveBatches
from wan26.ui.batch_past import read_past
from wan26.ui.batch_tab import STORAGE_KEY

AN_ID = "batch-20261130-101500-" + "0123456789abcdef" * 2
HELD, QUICK = ["RUNNING"], ["SUCCEEDED"]
WAIT_S = 60


# ---- one batch, many followers ------------------------------------------------------------------


def tally(done: int) -> Tally:
    return Tally(3, done, 0, 0, 0, 3 - done, 0, done, 0.03 * done, 0.03 * done, None, None)


class FakeRun:
    """The events a test hands in, one at a time."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.records: list[RowRecord] = []

    async def events(self):
        while (event := await self.inbox.get()) is not None:
            yield event

    def tally(self) -> Tally:
        return tally(0)

    def stop(self) -> None:
        pass


class Quick(LiveBatch):
    def _report(self):  # no folder to zip
        return None


def test_every_follower_gets_the_events_so_far_then_the_new_ones_and_a_late_one_gets_them_all(tmp_path):
    async def scenario():
        run = FakeRun()
        journal = type("Journal", (), {"close": lambda self: None})()
        live = Quick(tmp_path / AN_ID, None, run, journal)  # type: ignore[arg-type]
        live.start(lambda: None)
        events = [BatchEnded(tally(n), False) for n in range(3)]  # any event will do: their tallies differ
        await run.inbox.put(events[0])
        await asyncio.sleep(0.01)
        seen_a, later_a = live.follow()  # the page that started it, say
        await run.inbox.put(events[1])
        await asyncio.sleep(0.01)
        seen_b, later_b = live.follow()  # a page reloaded meanwhile
        seen_c, closed = live.follow()  # a page closed after one more event
        await run.inbox.put(events[2])
        assert await asyncio.wait_for(closed.__anext__(), 5) == events[2]
        await closed.aclose()
        assert len(live._followers) == 2  # its queue went with it
        await run.inbox.put(None)
        got_a = await asyncio.wait_for(_all(later_a), 5)
        got_b = await asyncio.wait_for(_all(later_b), 5)
        everything = await asyncio.wait_for(_all(live.updates()), 5)  # a page that comes after the end
        return events, seen_a, got_a, seen_b, got_b, seen_c, everything, live

    events, seen_a, got_a, seen_b, got_b, seen_c, everything, live = asyncio.run(scenario())
    assert seen_a == events[:1] and got_a[:-1] == events[1:] and isinstance(got_a[-1], Ended)
    assert seen_b == seen_c == events[:2] and got_b == [events[2], got_a[-1]]
    assert everything == [*events, got_a[-1]] and live.ended
    assert live._followers == set()  # nothing held once it ended


async def _all(items):
    return [item async for item in items]


def test_the_registry_finds_a_batch_by_its_id_and_keeps_only_the_newest_ended():
    class Started:
        def __init__(self, number: int) -> None:
            self.id, self.ended = f"batch-20261130-1015{number:02d}-" + "a" * 32, False

        def start(self, on_end):
            self.on_end = on_end

    live = LiveBatches(most=5, kept=2)
    batches = [Started(n) for n in range(4)]
    for n, batch in enumerate(batches):
        live.claim(str(n))
        live.start(str(n), batch)  # type: ignore[arg-type]
    assert live.find(batches[0].id) is batches[0] and live.running(batches[0].id) is batches[0]
    for batch in batches[:3]:
        batch.ended = True
        batch.on_end()
    assert live.find(batches[0].id) is None  # the oldest ended is forgotten (its folder still tells)
    assert live.find(batches[2].id) is batches[2] and live.running(batches[2].id) is None
    assert live.running(batches[3].id) is batches[3] and live.find("batch-nothing") is None


# ---- the ids a browser sends --------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        17,
        ["batch"],
        "",
        "batch-",
        AN_ID + "/",
        AN_ID + "\n",
        "../" + AN_ID,
        "/tmp/" + AN_ID,
        AN_ID + "/../..",
        AN_ID.upper(),
        AN_ID[:-1],
        AN_ID + "0",
        AN_ID.replace("2026", "２０２６"),  # digits of another script
        AN_ID.replace("-", "/", 1),
        "20261130-101500-" + "0" * 32,  # a run folder's shape, not a batch's
    ],
)
def test_only_a_batch_folders_exact_name_is_an_id(value, tmp_path):
    assert not batch_id_is_valid(value)
    assert held_folder(tmp_path, value) is None
    assert kept_ids([value]) == []


def test_an_id_names_a_real_folder_directly_under_the_output_folder_and_no_link(tmp_path):
    outputs, elsewhere = tmp_path / "outputs", tmp_path / "elsewhere"
    outputs.mkdir()
    (elsewhere / AN_ID).mkdir(parents=True)
    assert held_folder(outputs, AN_ID) is None  # no such folder
    (outputs / AN_ID).symlink_to(elsewhere / AN_ID)
    assert held_folder(outputs, AN_ID) is None  # a link out of the output folder
    (outputs / AN_ID).unlink()
    (outputs / AN_ID).write_text("a file")
    assert held_folder(outputs, AN_ID) is None
    (outputs / AN_ID).unlink()
    made = new_folder(outputs)
    assert batch_id_is_valid(made.name) and held_folder(outputs, made.name) == made


def test_a_browsers_list_keeps_its_newest_valid_ids_with_the_new_one_first():
    ids = [f"batch-202611{day:02d}-101500-" + "b" * 32 for day in range(1, 30)]
    sent = ["../x", None, *ids, ids[3], {"id": ids[0]}]
    kept = kept_ids(sent, AN_ID)
    assert kept[0] == AN_ID and kept[1:] == sorted(ids, reverse=True)[: KEPT_IDS - 1] and len(kept) == KEPT_IDS
    assert kept_ids("not a list") == [] and kept_ids([AN_ID] * 3) == [AN_ID]
    assert kept_ids(["x"] * 100_000 + [AN_ID]) == []  # a huge list is not read to its end


def test_a_batch_read_back_from_its_folder(tmp_path):
    folder = new_folder(tmp_path)
    assert read_past(tmp_path, folder.name) is None  # no journal yet: nothing to show
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("prompt\na\nb\n")
    plan = make_plan(read_jobs(jobs))
    journal = Journal.open(folder)
    [first, second] = journal.bind(plan)
    journal.save(replace(first, status=RowStatus.DONE, files=("x.png",), cost_usd=0.03))
    journal.close()
    past = read_past(tmp_path, folder.name)
    assert past is not None and [record.status for record in past.records] == [RowStatus.DONE, second.status]
    counted = past.tally()
    assert (counted.total, counted.done, counted.not_started, counted.images, counted.spent_usd) == (2, 1, 1, 1, 0.03)
    assert read_past(tmp_path, "../" + folder.name) is None


# ---- over HTTP ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reload_app(_vendor_servers, tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("reload-outputs")
    env = history_env(_vendor_servers, output_dir, mode="all")
    with launched(env, free_port()) as url:
        yield url, output_dir, env


def prompts_csv(path: Path, *prompts: str) -> Path:
    path.write_text("prompt\n" + "".join(f"{prompt}\n" for prompt in prompts), encoding="utf-8")
    return path


def started(owner: Visitor, jobs: dict) -> tuple[str, str]:
    """Run the batch; the run's event and the id the page put in its browser."""
    event = owner.join("batch-run", "click", owner.inputs(jobs))
    deadline = time.monotonic() + WAIT_S
    while not owner.updates(event) and time.monotonic() < deadline:
        time.sleep(0.05)
    [batch_id] = owner.updates(event)[0][-1]
    return event, batch_id


def reloaded(url: str, held: object, source: str = "127.0.0.1") -> tuple[Visitor, str]:
    """A new page (a new session) whose browser sends `held` on load; the load event's id."""
    page = Visitor(url, source=source)
    return page, page.join("", "load", [held], page.loaded(STORAGE_KEY))


def shown_on_load(url: str, held: object, source: str = "127.0.0.1") -> list:
    """What a new page whose browser sends `held` shows once its load event is over."""
    page, load = reloaded(url, held, source)
    with page:
        return output(page.result(load))


def release(fake) -> None:
    fake.task_script = list(QUICK)
    with fake._lock:
        for task in fake.tasks.values():
            task.script, task.step = list(QUICK), -1


def wait_for(test, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not test() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert test(), what


def forged(batch_id: str, output_dir: Path) -> list:
    other = batch_id[:-32] + ("f" if batch_id[-32] != "f" else "e") + batch_id[-31:]
    return [
        [other],
        ["../" + batch_id],
        [str(output_dir / batch_id)],
        [batch_id + "/../.."],
        [batch_id + "/index.csv"],
        [batch_id.upper()],
        batch_id,  # not a list
        [{"id": batch_id}],
        ["/etc/passwd"],
    ]


def test_a_new_page_with_the_stored_id_follows_the_running_batch_stops_it_and_sees_its_end(
    reload_app, dashscope_fake, tmp_path
):
    url, output_dir, _ = reload_app
    dashscope_fake.task_script = list(HELD)
    with Visitor(url) as owner:
        [jobs] = owner.upload(prompts_csv(tmp_path / "mine.csv", *(f"reload item {n}" for n in range(1, 13))))
        run, batch_id = started(owner, jobs)
        assert (output_dir / batch_id).is_dir()
        wait_for(lambda: dashscope_fake.tasks, "no row was sent")
        page, follow = reloaded(url, [batch_id, "../junk"])
        with page:
            wait_for(lambda: page.updates(follow), "the reloaded page saw nothing")
            first = page.updates(follow)[0]
            assert "Your latest batch" in first[0] and "mine.csv" in first[0] and "/ 12 rows" in first[0], first[0]
            assert first[2]["visible"] is True and first[5]["interactive"] is True  # gallery on, Stop on
            assert page.call("batch-stop", "click", [[batch_id]])["success"]  # by the id its browser holds
            wait_for(lambda: any("Stopping" in str(state[0]) for state in page.updates(follow)), "no 'Stopping'")
            release(dashscope_fake)
            followed = output(page.result(follow))
            texts = page.text()
        final = output(owner.result(run))
    assert "Stopped" in final[0] and "Stopped" in followed[0]  # both pages saw it end
    assert "Your latest batch" in followed[0] and followed[3]["visible"] is True
    assert len(followed[2]["value"]) == len(final[2]["value"]) > 0
    assert "Traceback" not in texts and str(output_dir) not in texts

    shown = shown_on_load(url, [batch_id])  # after the end: how it ended, its images, its zip
    assert "Stopped" in shown[0] and len(shown[2]["value"]) == len(final[2]["value"])
    archive = zipfile.ZipFile(io.BytesIO(httpx.get(shown[3]["value"]["url"]).content))
    assert any(name.endswith("/index.csv") for name in archive.namelist())


def test_a_page_with_another_forged_or_path_like_id_sees_nothing_and_stops_nothing(
    reload_app, dashscope_fake, tmp_path
):
    url, output_dir, _ = reload_app
    dashscope_fake.task_script = list(HELD)
    with Visitor(url) as owner:
        [jobs] = owner.upload(prompts_csv(tmp_path / "private.csv", "my private product", "another"))
        run, batch_id = started(owner, jobs)
        wait_for(lambda: dashscope_fake.tasks, "no row was sent")
        for held in forged(batch_id, output_dir):
            stranger, load = reloaded(url, held, source="127.0.0.2")
            with stranger:
                shown = output(stranger.result(load))
                assert stranger.call("batch-stop", "click", [held])["success"]
                text = stranger.text()
            assert all(value == {"__type__": "update"} for value in shown), (held, shown)
            assert "my private product" not in text and "Traceback" not in text and str(output_dir) not in text
        release(dashscope_fake)
        final = output(owner.result(run))
    assert "Batch done" in final[0]  # no stranger's Stop reached it
    for held in forged(batch_id, output_dir):  # nor does anything show after its end
        shown = shown_on_load(url, held, source="127.0.0.2")
        assert all(value == {"__type__": "update"} for value in shown), (held, shown)


def test_after_a_restart_the_stored_id_still_shows_how_the_batch_ended(reload_app, dashscope_fake, tmp_path):
    url, output_dir, env = reload_app
    dashscope_fake.task_script = list(QUICK)
    with Visitor(url) as owner:
        [jobs] = owner.upload(prompts_csv(tmp_path / "before.csv", "kept item 1", "kept item 2"))
        run, batch_id = started(owner, jobs)
        assert "Batch done" in output(owner.result(run))[0]
    with launched(env, free_port()) as restarted:
        shown = shown_on_load(restarted, [batch_id])
        zipped = httpx.get(shown[3]["value"]["url"]).content
    assert "Your latest batch" in shown[0] and "before.csv" in shown[0] and "2 of 2 row(s)" in shown[0], shown[0]
    assert len(shown[2]["value"]) == 2 and shown[2]["visible"] is True and shown[4] == {"__type__": "update"}
    assert any(name.endswith("/index.html") for name in zipfile.ZipFile(io.BytesIO(zipped)).namelist())
