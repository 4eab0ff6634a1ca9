"""The Batch tab run from the page's own events, over HTTP: a batch across two vendor fakes, its
images saved and zipped with the index and contact sheet; Stop mid-batch with no row paid twice."""

import io
import json
import re
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from batch_tab_client import Visitor, output
from fakes.vendor import FailureKind
from history_app import free_port, history_env, launched
from wan26.batch import RowStatus, read_records

HELD = {"dashscope": ["RUNNING"], "runware": ["processing:10"] * 10_000}
QUICK = {"dashscope": ["SUCCEEDED"], "runware": ["success"]}


@pytest.fixture(scope="module")
def batch_app(_vendor_servers, tmp_path_factory):
    """The app run locally (no SPACE_ID) with server keys for DashScope and Runware."""
    output_dir = tmp_path_factory.mktemp("batch-outputs")
    env = history_env(_vendor_servers, output_dir, mode="all") | _vendor_servers["runware"].env()
    with launched(env, free_port()) as url:
        yield url, output_dir


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def catalogue(tmp_path: Path, rows: int) -> Path:
    lines = ["prompt,provider,n"] + [
        f"catalogue item {i:02d},{'dashscope' if i % 2 else 'runware'},{2 if i % 3 == 0 else 1}"
        for i in range(1, rows + 1)
    ]
    return write_csv(tmp_path / "catalogue.csv", "\n".join(lines) + "\n")


def sent(token: str, *fakes) -> int:
    return sum(token in request.body.decode() for fake in fakes for request in fake.generation_requests())


def release(fake) -> None:
    """The fake's held tasks, and those it is yet to make, end well at their next poll."""
    fake.task_script = list(QUICK[fake.name])
    with fake._lock:
        for task in fake.tasks.values():
            task.script, task.step = list(QUICK[fake.name]), -1


def shown_progress(updates: list[list]) -> bool:
    return any(re.search(r"\d / 6 rows", str(update[0])) for update in updates)


def batch_folders(output_dir: Path) -> list[Path]:
    return sorted(folder for folder in output_dir.iterdir() if folder.name.startswith("batch-"))


def test_a_batch_across_two_vendors_saves_every_image_and_zips_them_with_the_index(batch_app, vendor_fakes, tmp_path):
    url, output_dir = batch_app
    dashscope, runware = vendor_fakes["dashscope"], vendor_fakes["runware"]
    # DashScope's rows held until the page has shown the batch part way through: a progress line is
    # then certain to come, however fast the rest goes.
    dashscope.task_script, runware.task_script = list(HELD["dashscope"]), list(QUICK["runware"])
    before = set(batch_folders(output_dir))
    with Visitor(url) as visitor:
        [jobs] = visitor.upload(catalogue(tmp_path, 6))
        checked = visitor.call("batch-jobs", "change", visitor.inputs(jobs))
        status, _, table, run_button = output(checked)
        assert "6 row(s) · 8 image(s)" in status and "estimated $0.240" in status, status
        assert [line[0] for line in table["data"]] == [str(n) for n in range(1, 7)]
        assert run_button["interactive"] is True
        event = visitor.join("batch-run", "click", visitor.inputs(jobs))
        deadline = time.monotonic() + 60
        while not shown_progress(visitor.updates(event)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert shown_progress(visitor.updates(event)), visitor.updates(event)  # while it ran
        release(dashscope)
        final = output(visitor.result(event))
    status, _, gallery, download, *_ = final
    assert "Batch done" in status and "6 of 6 row(s)" in status and "8 image(s)" in status, status
    assert len(gallery["value"]) == 8 and gallery["visible"] is True
    [folder] = set(batch_folders(output_dir)) - before
    assert re.fullmatch(r"batch-\d{8}-\d{6}-[0-9a-f]{32}", folder.name)
    records = read_records(folder)
    assert [record.status for record in records] == [RowStatus.DONE] * 6
    assert [sent(f"catalogue item {i:02d}", dashscope, runware) for i in range(1, 7)] == [1] * 6
    assert sum(len(record.files) for record in records) == 8
    assert all((folder / name).is_file() for record in records for name in record.files)

    archive = zipfile.ZipFile(io.BytesIO(httpx.get(download["value"]["url"]).content))
    names = archive.namelist()
    top = folder.name.rsplit("-", 1)[0]
    assert all(name.startswith(top + "/") for name in names)
    for wanted in ("index.csv", "index.jsonl", "index.html", "inputs/catalogue.csv"):
        assert f"{top}/{wanted}" in names
    saved = [f"{top}/{name}" for record in records for name in record.files]
    assert set(saved) <= set(names) and len([n for n in names if n.endswith("/run.json")]) == 6
    assert not [name for name in names if "journal" in name]
    assert archive.read(saved[0]) == (folder / records[0].files[0]).read_bytes()
    every_text = b"".join(archive.read(name) for name in names if not name.endswith(".png"))
    assert dashscope.api_key.encode() not in every_text and runware.api_key.encode() not in every_text
    assert "catalogue item 03" in archive.read(f"{top}/index.html").decode()


def test_stop_lets_the_rows_under_way_finish_and_sends_no_row_twice(batch_app, vendor_fakes, tmp_path):
    url, output_dir = batch_app
    dashscope, runware = vendor_fakes["dashscope"], vendor_fakes["runware"]
    dashscope.task_script, runware.task_script = list(HELD["dashscope"]), list(HELD["runware"])
    before = set(batch_folders(output_dir))
    with Visitor(url) as visitor:
        [jobs] = visitor.upload(catalogue(tmp_path, 20))
        event = visitor.join("batch-run", "click", visitor.inputs(jobs))
        deadline = time.monotonic() + 60
        while len(dashscope.tasks) + len(runware.tasks) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        held = len(dashscope.tasks) + len(runware.tasks)
        assert held >= 4
        stopped = visitor.call("batch-stop", "click", [[]])
        assert stopped["success"]
        time.sleep(1.0)  # Stop has reached the batch: nothing new starts
        in_flight = len(dashscope.generation_requests()) + len(runware.generation_requests())
        for fake in (dashscope, runware):
            release(fake)
        final = output(visitor.result(event))
        shown = [str(update[0]) for update in visitor.updates(event)]
    assert any("Stopping" in line for line in shown), shown  # said where Run is, while the rows under way end
    status, _, gallery, download, run_button, _, _ = final
    [folder] = set(batch_folders(output_dir)) - before
    records = read_records(folder)
    done = [record for record in records if record.status is RowStatus.DONE]
    assert "Stopped" in status and f"{len(done)} of 20 row(s) done" in status, status
    assert len(done) == in_flight  # every row sent was seen to its end
    assert all(
        record.status is RowStatus.NOT_STARTED and record.attempts == 0 for record in records if record not in done
    )
    for record in records:  # sent once if it ran, never if it did not
        assert sent(f"catalogue item {record.number:02d}", dashscope, runware) == (record in done)
    assert all((folder / name).is_file() for record in done for name in record.files)
    assert len(gallery["value"]) == sum(len(record.files) for record in done)
    assert download["visible"] is True and run_button["interactive"] is True
    assert json.dumps(final).count("Traceback") == 0


def test_a_batch_goes_on_to_its_end_when_its_page_is_gone(batch_app, vendor_fakes, tmp_path):
    """Joined, and its page never reads another message (closed, or the connection lost): the batch
    still sees every row sent to its end, saves its images and writes its index."""
    url, output_dir = batch_app
    dashscope = vendor_fakes["dashscope"]
    dashscope.task_script = list(HELD["dashscope"])
    before = set(batch_folders(output_dir))
    with Visitor(url) as visitor:
        [jobs] = visitor.upload(catalogue(tmp_path, 3).rename(tmp_path / "gone.csv"))
        run = visitor.dependency("batch-run", "click")
        body = {"data": visitor.inputs(jobs, provider="dashscope"), "fn_index": run["id"], "event_data": None}
        body |= {"session_hash": visitor.session, "trigger_id": run["trigger"]}
        assert visitor.http.post("gradio_api/queue/join", json=body).status_code == 200
    deadline = time.monotonic() + 60
    while len(dashscope.tasks) < 2 and time.monotonic() < deadline:  # rows 1 and 3; row 2 is Runware's
        time.sleep(0.05)
    release(dashscope)
    [folder] = set(batch_folders(output_dir)) - before
    while not (folder / "index.html").is_file() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [record.status for record in read_records(folder)] == [RowStatus.DONE] * 3
    assert (folder / "index.html").is_file()


def test_a_row_the_vendor_refuses_is_named_with_its_code_hint_and_request_id(batch_app, vendor_fakes, tmp_path):
    url, output_dir = batch_app
    dashscope = vendor_fakes["dashscope"]
    dashscope.task_script = list(QUICK["dashscope"])
    dashscope.fail_with(FailureKind.MODERATION)  # the first row to reach it
    with Visitor(url) as visitor:
        [jobs] = visitor.upload(write_csv(tmp_path / "flagged.csv", "prompt\nfirst\n"))
        final = output(visitor.call("batch-run", "click", visitor.inputs(jobs)))
        status = final[0]
    assert "Batch ended" in status and "0 of 1 row(s) done" in status, status
    note = status.split("\n- ", 1)[1]
    assert note.startswith("⚠️ Row 1 (line 2, Alibaba Cloud DashScope) failed (not billed): Blocked by content")
    assert "[DataInspectionFailed]" in note and "Hint: " in note and "Request id: " in note
    assert "Traceback" not in json.dumps(final) and str(output_dir) not in json.dumps(final)


def test_most_to_spend_starts_no_row_past_it_and_says_which_were_left(batch_app, vendor_fakes, tmp_path):
    """Four DashScope rows at $0.03 under a $0.06 cap: two are sent, two are left not started and named."""
    url, output_dir = batch_app
    dashscope = vendor_fakes["dashscope"]
    dashscope.task_script = list(QUICK["dashscope"])
    sent_before = len(dashscope.generation_requests())
    before = set(batch_folders(output_dir))
    rows = "prompt,provider\n" + "".join(f"capped item {i},dashscope\n" for i in range(1, 5))
    with Visitor(url) as visitor:
        [jobs] = visitor.upload(write_csv(tmp_path / "capped.csv", rows))
        status, *_, run_button = output(visitor.call("batch-jobs", "change", visitor.inputs(jobs, max_cost="0.06")))
        assert "estimated $0.120" in status and "Stops starting rows past $0.06" in status, status
        assert run_button["interactive"] is True
        final = output(visitor.call("batch-run", "click", visitor.inputs(jobs, max_cost="0.06")))
    assert len(dashscope.generation_requests()) - sent_before == 2
    [folder] = set(batch_folders(output_dir)) - before
    statuses = [record.status for record in read_records(folder)]
    assert statuses.count(RowStatus.DONE) == 2 and statuses.count(RowStatus.NOT_STARTED) == 2
    status = final[0]
    assert "2 of 4 row(s) done" in status and "2 row(s) not started" in status and "$0.06" in status, status
    assert status.count("not started: its estimate would take the batch past your most to spend") == 2, status
    assert "--max-cost" not in status


def test_a_negative_most_to_spend_is_refused_before_anything_is_sent(batch_app, vendor_fakes, tmp_path):
    url, output_dir = batch_app
    dashscope = vendor_fakes["dashscope"]
    sent_before, before = len(dashscope.generation_requests()), set(batch_folders(output_dir))
    with Visitor(url) as visitor:
        [jobs] = visitor.upload(write_csv(tmp_path / "negative.csv", "prompt\nnever sent\n"))
        status, _, _, run_button = output(visitor.call("batch-jobs", "change", visitor.inputs(jobs, max_cost="-1")))
        ran = output(visitor.call("batch-run", "click", visitor.inputs(jobs, max_cost="-1")))
    assert "Most to spend** must be an amount of US$ 0 or more" in status and run_button["interactive"] is False
    assert ran[0] == status
    assert len(dashscope.generation_requests()) == sent_before and set(batch_folders(output_dir)) == before
