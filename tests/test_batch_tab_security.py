"""The Batch tab as a stranger on the internet meets it: over HTTP only (uploads and the tab's
private events, as any page can send them), against apps configured as the owner would.

- a jobs file naming a server path is refused, line and field named, and nothing is read or sent;
- on a Space the server's key pays for no batch unless the owner allows it, and then within the
  owner's cap and guard;
- one visitor can neither stop, see nor download another's batch.
"""

import json
import os
import time
from contextlib import suppress
from pathlib import Path

import httpx
import pytest
from PIL import Image

from batch_tab_client import Visitor, output
from history_app import free_port, history_env, launched
from wan26.batch import RowStatus, read_records

PROMPT_WAIT_S = 20  # a refusal comes well within this; a blocked read of a pipe would not
QUICK = ["SUCCEEDED"]


def app_env(fakes: dict, output_dir: Path, **settings: str) -> dict:
    """Every vendor's base URL at its fake, DashScope's key on the server, and `settings`."""
    return history_env(fakes, output_dir, mode="all") | settings


@pytest.fixture(scope="module")
def local_app(_vendor_servers, tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("local-outputs")
    with launched(app_env(_vendor_servers, output_dir), free_port()) as url:
        yield url, output_dir


@pytest.fixture(scope="module")
def space_app(_vendor_servers, tmp_path_factory):
    """A public Space whose owner has not allowed the server's key for batches."""
    output_dir = tmp_path_factory.mktemp("space-outputs")
    settings = {"SPACE_ID": "owner/studio", "WAN26_BATCH_MAX_ROWS": "3"}
    with launched(app_env(_vendor_servers, output_dir, **settings), free_port()) as url:
        yield url, output_dir


def prompts_csv(path: Path, *prompts: str) -> Path:
    path.write_text("prompt\n" + "".join(f"{prompt}\n" for prompt in prompts), encoding="utf-8")
    return path


def assert_clean(text: str, *secrets: str) -> None:
    assert "Traceback" not in text and 'File "' not in text, text
    for secret in secrets:
        assert secret not in text


def batch_folders(output_dir: Path) -> list[Path]:
    return [folder for folder in output_dir.iterdir() if folder.name.startswith("batch-")]


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.png"
    os.mkfifo(path)
    yield path
    with suppress(OSError):  # should anything have opened it for reading, give it an end
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


# ---- 1. a jobs file names no server file ------------------------------------------------------


def test_a_jobs_file_naming_server_paths_is_refused_by_line_and_field_and_nothing_is_read_or_sent(
    local_app, dashscope_fake, tmp_path, fifo
):
    url, output_dir = local_app
    someone = output_dir / "someone-elses.png"  # a real image on the server, in the output folder
    Image.new("RGB", (512, 512), (200, 30, 30)).save(someone)
    references = [
        "/etc/passwd",
        "/no/such/file.png",
        "../run.json",
        str(someone),
        str(fifo),  # opened for reading, it would block the check
        "file:///etc/passwd",
        "~/.ssh/id_rsa",
        "subfolder/cat.png",
        "run.json",  # a bare name, but not uploaded
    ]
    rows = [json.dumps({"prompt": f"row {n}", "mode": "edit", "images": [ref]}) for n, ref in enumerate(references)]
    jobs_path = tmp_path / "jobs.jsonl"
    jobs_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    before = batch_folders(output_dir)
    with Visitor(url, source="127.0.0.2") as stranger:
        [jobs] = stranger.upload(jobs_path)
        started = time.monotonic()
        status, _, table, run_button = output(stranger.call("batch-jobs", "change", stranger.inputs(jobs)))
        assert time.monotonic() - started < PROMPT_WAIT_S / 2
        ran = stranger.call("batch-run", "click", stranger.inputs(jobs))  # a stranger can send it anyway
        messages = stranger.text()
    assert f"{len(references)} problem(s)" in status and run_button["interactive"] is False
    checks = {line[1]: line[-1] for line in table["data"]}
    for line, reference in enumerate(references, start=1):
        check = checks[str(line)]
        assert check.startswith("⛔ image 1: "), (reference, check)
        assert reference not in check or reference == "run.json"  # a path is never quoted back
    path_refusal = "is a file path; the app reads no path from a jobs file"
    assert len({checks[str(line)] for line in (1, 2, 3, 4, 5, 7, 8)}) == 1 and path_refusal in checks["1"]
    assert "not an http(s) URL" in checks["6"] and "run.json was not uploaded with the jobs file" in checks["9"]
    # Whatever the path names (a file, none, a pipe, another visitor's image), the answer is the same.
    assert ran["success"] and "problem(s)" in output(ran)[0]
    assert batch_folders(output_dir) == before  # Run made no folder, copied nothing
    assert dashscope_fake.requests == []
    assert_clean(messages, str(output_dir), dashscope_fake.api_key)


def test_a_reference_file_made_on_the_server_cannot_be_sent_as_an_upload(local_app, dashscope_fake, tmp_path):
    """The upload boxes take only files a visitor uploaded: a server path in their place is refused."""
    url, output_dir = local_app
    jobs_path = prompts_csv(tmp_path / "jobs.csv", "image 1 as a sketch")
    before = batch_folders(output_dir)
    with Visitor(url) as stranger:
        [jobs] = stranger.upload(jobs_path)
        forged = {"path": "/etc/hostname", "orig_name": "hostname.png", "meta": {"_type": "gradio.FileData"}}
        answer = stranger.call("batch-run", "click", stranger.inputs(jobs, [forged]))
        jobs_forged = stranger.call("batch-run", "click", stranger.inputs(forged | {"orig_name": "jobs.csv"}))
        messages = stranger.text()
    assert not answer["success"] and not jobs_forged["success"]
    assert dashscope_fake.requests == [] and batch_folders(output_dir) == before
    assert_clean(messages, dashscope_fake.api_key)


# ---- 2. whose key pays on a Space -------------------------------------------------------------


def test_on_a_space_the_server_key_runs_no_batch_and_the_visitor_is_asked_for_their_own(
    space_app, dashscope_fake, tmp_path
):
    url, output_dir = space_app
    jobs_path = prompts_csv(tmp_path / "jobs.csv", "a red fox", "a blue owl")
    before = batch_folders(output_dir)
    with Visitor(url) as stranger:
        [jobs] = stranger.upload(jobs_path)
        status, _, _, run_button = output(stranger.call("batch-jobs", "change", stranger.inputs(jobs)))
        ran = output(stranger.call("batch-run", "click", stranger.inputs(jobs)))
        messages = stranger.text()
    wanted = "On this Space a batch runs with your own key only: paste your Alibaba Cloud DashScope key"
    assert wanted in status and "(rows 1, 2)" in status and run_button["interactive"] is False
    assert wanted in ran[0]
    assert dashscope_fake.requests == [] and batch_folders(output_dir) == before
    assert_clean(messages, dashscope_fake.api_key)


def test_a_file_of_more_rows_than_the_owner_allows_is_refused_unread(space_app, dashscope_fake, tmp_path):
    url, _ = space_app
    with Visitor(url, headers={"X-Dashscope-Key": dashscope_fake.api_key}) as visitor:
        [jobs] = visitor.upload(prompts_csv(tmp_path / "four.csv", "a", "b", "c", "d"))
        status, rows, _, run_button = output(visitor.call("batch-jobs", "change", visitor.inputs(jobs)))
        ran = output(visitor.call("batch-run", "click", visitor.inputs(jobs)))
    assert status == "⛔ 4 rows; the app runs at most 3 rows a batch (split the file)" == ran[0]
    assert run_button["interactive"] is False and rows["visible"] is False
    assert dashscope_fake.requests == []


def test_on_a_space_a_batch_runs_with_the_visitors_own_key(space_app, dashscope_fake, tmp_path):
    url, output_dir = space_app
    dashscope_fake.task_script = list(QUICK)
    own_key = {"X-Dashscope-Key": dashscope_fake.api_key}  # the fake takes only its own key
    with Visitor(url, headers=own_key) as visitor:
        [jobs] = visitor.upload(prompts_csv(tmp_path / "jobs.csv", "a red fox", "a blue owl"))
        status, _, _, run_button = output(visitor.call("batch-jobs", "change", visitor.inputs(jobs)))
        final = output(visitor.call("batch-run", "click", visitor.inputs(jobs)))
    assert "Paid with your Alibaba Cloud DashScope key." in status and run_button["interactive"] is True
    assert "Batch done" in final[0] and len(dashscope_fake.generation_requests()) == 2


def test_with_the_owners_permission_the_cap_and_the_guard_hold(_vendor_servers, dashscope_fake, tmp_path):
    dashscope_fake.task_script = list(QUICK)
    settings = {
        "SPACE_ID": "owner/studio",
        "WAN26_BATCH_SERVER_KEY_USD": "0.09",  # three DashScope images at $0.03
        "WAN26_SERVER_KEY_RUNS_PER_HOUR": "2",
    }
    output_dir = tmp_path / "outputs"
    with launched(app_env(_vendor_servers, output_dir, **settings), free_port()) as url, Visitor(url) as visitor:
        [four] = visitor.upload(prompts_csv(tmp_path / "four.csv", *(f"item {n}" for n in range(1, 5))))
        over_cap, _, _, refused = output(visitor.call("batch-jobs", "change", visitor.inputs(four)))
        assert "estimated at $0.120, over the $0.09 a batch may spend on it" in over_cap
        assert refused["interactive"] is False and dashscope_fake.requests == []

        [three] = visitor.upload(prompts_csv(tmp_path / "three.csv", *(f"item {n}" for n in range(1, 4))))
        ready, *_ = output(visitor.call("batch-jobs", "change", visitor.inputs(three)))
        assert "Paid with the server's Alibaba Cloud DashScope key (at most $0.09 a batch)." in ready
        final = output(visitor.call("batch-run", "click", visitor.inputs(three)))
        messages = visitor.text()
    [folder] = batch_folders(output_dir)
    records = read_records(folder)
    assert [record.status for record in records] == [RowStatus.DONE, RowStatus.DONE, RowStatus.NOT_STARTED]
    assert len(dashscope_fake.generation_requests()) == 2  # the guard's two runs an hour
    assert "You have made 2 runs with this Space's key in the last hour" in records[2].error
    assert "Row 3 (line 4, Alibaba Cloud DashScope) not started: You have made 2 runs" in final[0]
    assert_clean(messages, dashscope_fake.api_key, str(output_dir))


# ---- 3. each visitor sees only their own batch ------------------------------------------------


def test_another_visitor_can_neither_stop_see_nor_download_a_batch(local_app, dashscope_fake, tmp_path):
    url, output_dir = local_app
    dashscope_fake.task_script = ["RUNNING"] * 6 + ["SUCCEEDED"]  # a few polls: time for the stranger to try
    with Visitor(url) as owner, Visitor(url, source="127.0.0.2") as stranger:
        [jobs] = owner.upload(prompts_csv(tmp_path / "mine.csv", "my secret product"))
        event = owner.join("batch-run", "click", owner.inputs(jobs))
        deadline = time.monotonic() + 30
        while not dashscope_fake.tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stranger.call("batch-stop", "click", [[]])["success"]  # stops nothing: the stranger holds no batch
        stranger_run = output(stranger.call("batch-run", "click", stranger.inputs(None)))
        final = output(owner.result(event))
        owner_text, stranger_text = owner.text(), stranger.text()
    assert "Batch done" in final[0]  # the stranger's Stop did not stop it
    assert "Upload a jobs file" in stranger_run[0]
    [folder] = [
        folder for folder in batch_folders(output_dir) if "my secret product" in (folder / "index.csv").read_text()
    ]
    # The batch's folder name (its id) reaches its owner's page alone, kept in their browser; the zip
    # is named without it.
    assert folder.name in owner_text and folder.name not in stranger_text
    assert "my secret product" not in stranger_text
    with httpx.Client(base_url=url) as anyone:
        assert folder.name not in anyone.get("config").text
        for file in (folder / "index.html", folder / "index.csv", folder / "inputs" / "mine.csv"):
            for address in (f"gradio_api/file={file}", f"file={file}"):
                answer = anyone.get(address)
                assert answer.status_code != 200 and b"my secret product" not in answer.content, address
        [record] = read_records(folder)
        image = folder / record.files[0]
        assert anyone.get(f"gradio_api/file={image}").status_code != 200
    assert_clean(owner_text + stranger_text, dashscope_fake.api_key, str(output_dir))
