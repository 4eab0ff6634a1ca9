"""`python -m wan26 batch` as a user runs it: real subprocesses against the loopback fakes, killed
with SIGKILL part-way and run again, the fakes' request logs showing what was sent."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from wan26.batch import RowStatus, read_records
from wan26.providers import PROVIDERS

REPO = Path(__file__).resolve().parent.parent
GUARD = Path(__file__).resolve().parent / "subprocess_guard"
VENDOR_PREFIXES = tuple(adapter.facts.key_env.split("_")[0] + "_" for adapter in PROVIDERS.values())
WAIT_S = 90  # a generous bound on any state a test waits for; reaching it fails the test

# A task held running (it advances one step per poll) until `release` lets it finish at its next poll.
HELD = {"dashscope": ["RUNNING"], "vtrix": [("in_progress", 0.5)] * 10_000 + [("completed", None)]}
QUICK = {"dashscope": ["SUCCEEDED"], "vtrix": [("completed", None)]}


def batch_env(tmp_path, *fakes) -> dict:
    environment = {key: value for key, value in os.environ.items() if not key.startswith((*VENDOR_PREFIXES, "WAN26_"))}
    environment |= {"PYTHONPATH": f"{GUARD}{os.pathsep}{REPO}", "WAN26_OUTPUT_DIR": str(tmp_path / "outputs")}
    for fake in fakes:
        environment |= fake.env()
    return environment


def run_batch(*args, env, cwd):
    return subprocess.run(
        [sys.executable, "-m", "wan26", "batch", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=180
    )


def start_batch(*args, env, cwd, log: Path):
    with log.open("w") as stderr:  # a file, not a pipe: nobody reads it while the batch runs
        return subprocess.Popen(
            [sys.executable, "-m", "wan26", "batch", *args], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr
        )


def wait_for(condition, process, what: str, log: Path) -> None:
    """Poll `condition` (the journal, the fakes) until it holds; fail if the batch ends first."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the batch ended ({process.returncode}) before {what}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"timed out waiting for {what}:\n{log.read_text()}")
        time.sleep(0.05)


def statuses(folder: Path) -> list[RowStatus]:
    return [record.status for record in read_records(folder) or []]


def count(folder: Path, status: RowStatus) -> int:
    return statuses(folder).count(status)


def set_scripts(scripts: dict, *fakes) -> None:
    for fake in fakes:
        fake.task_script = list(scripts[fake.name])


def release(fake, task_id: str) -> None:
    """Let a held task finish at its next poll."""
    with fake._lock:
        task = fake.tasks[task_id]
        task.script, task.step = list(QUICK[fake.name]), -1


def sent(token: str, *fakes) -> int:
    """How many generation requests carried `token` (each row's prompt holds its own)."""
    return sum(token in request.body.decode() for fake in fakes for request in fake.generation_requests())


def write_jobs(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=sorted({key for row in rows for key in row}))
        writer.writeheader()
        writer.writerows(rows)
    return path


def item(number: int) -> str:
    return f"catalogue item {number:02d}"


def test_a_killed_batch_resumes_sending_each_row_once_and_saving_every_image(vendor_fakes, tmp_path):
    dashscope, vtrix = vendor_fakes["dashscope"], vendor_fakes["vtrix"]
    rows = [
        {"prompt": item(i), "provider": "dashscope" if i % 2 else "vtrix", "n": 2 if i % 3 == 0 else 1}
        for i in range(1, 13)
    ]
    jobs = write_jobs(tmp_path / "jobs.csv", rows)
    env, folder, log = batch_env(tmp_path, dashscope, vtrix), tmp_path / "outputs" / "batch-jobs", tmp_path / "run1.log"
    set_scripts(HELD, dashscope, vtrix)
    process = start_batch(jobs.name, "--size", "1280x1280", "--concurrency", "2", env=env, cwd=tmp_path, log=log)

    # Two rows at a time per vendor: four tasks accepted and held, so nothing else is sent.
    wait_for(lambda: count(folder, RowStatus.ACCEPTED) == 4, process, "four accepted tasks", log)
    for record in read_records(folder):
        if record.status is RowStatus.ACCEPTED and record.number in (1, 2):
            release(vendor_fakes[record.provider], record.task_id)
    # Those two end; the next two rows take their places and are held in turn.
    done_and_held = lambda: statuses(folder).count(RowStatus.DONE) == 2 and count(folder, RowStatus.ACCEPTED) == 4  # noqa: E731
    wait_for(done_and_held, process, "two rows done and four held", log)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    before = {record.number: record for record in read_records(folder)}
    assert [before[n].status for n in sorted(before)].count(RowStatus.NOT_STARTED) == 6
    held = {n: record.task_id for n, record in before.items() if record.status is RowStatus.ACCEPTED}
    assert len(held) == 4 and all(held.values())
    polls_before = {name: len(fake.requests) for name, fake in vendor_fakes.items()}

    set_scripts(QUICK, dashscope, vtrix)
    for number, task_id in held.items():
        release(vendor_fakes[before[number].provider], task_id)
    resumed = run_batch(jobs.name, "--size", "1280x1280", "--concurrency", "2", env=env, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr

    after = {record.number: record for record in read_records(folder)}
    assert all(record.status is RowStatus.DONE for record in after.values())
    assert [sent(item(i), dashscope, vtrix) for i in range(1, 13)] == [1] * 12  # each row paid once
    for number, task_id in held.items():  # accepted before the kill: fetched by its task id, not sent again
        assert after[number].task_id == task_id
        assert after[number].seed == before[number].seed is not None  # journaled before sending
        fake = vendor_fakes[after[number].provider]
        assert any(task_id in request.path for request in fake.requests[polls_before[fake.name] :])
    for number, record in after.items():
        assert len(record.files) == rows[number - 1]["n"]
        for file in record.files:
            with Image.open(folder / file) as image:
                assert image.size == (1280, 1280)
    assert Path(resumed.stdout.strip()) == folder / "index.html"


def test_a_row_cut_off_mid_request_is_listed_and_sent_again_only_when_asked(dashscope_fake, tmp_path):
    jobs = write_jobs(tmp_path / "jobs.csv", [{"prompt": item(i)} for i in (1, 2, 3)])
    env, folder, log = batch_env(tmp_path, dashscope_fake), tmp_path / "outputs" / "batch-jobs", tmp_path / "run1.log"
    args = (jobs.name, "--provider", "dashscope", "--concurrency", "1")
    dashscope_fake.task_script = list(QUICK["dashscope"])
    dashscope_fake.delay("generate", 5)  # the first submission gets no answer before the kill
    process = start_batch(*args, env=env, cwd=tmp_path, log=log)
    wait_for(lambda: sent(item(1), dashscope_fake) == 1, process, "the first request to arrive", log)
    assert statuses(tmp_path / "outputs" / "batch-jobs")[0] is RowStatus.SENDING
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    again = run_batch(*args, env=env, cwd=tmp_path)
    assert again.returncode == 1
    assert "1 row(s) outcome unknown" in again.stderr and "--retry-unknown" in again.stderr
    assert "row 1 (line 2, dashscope)" in again.stderr
    index = {row["row"]: row for row in csv.DictReader((folder / "index.csv").open(encoding="utf-8"))}
    assert [index[n]["status"] for n in ("1", "2", "3")] == ["unknown", "done", "done"]
    assert "may have been billed" in index["1"]["error"]
    assert [sent(item(i), dashscope_fake) for i in (1, 2, 3)] == [1, 1, 1]  # not resent silently

    still = run_batch(*args, env=env, cwd=tmp_path)
    assert still.returncode == 1 and sent(item(1), dashscope_fake) == 1

    retried = run_batch(*args, "--retry-unknown", env=env, cwd=tmp_path)
    assert retried.returncode == 0, retried.stderr
    assert [sent(item(i), dashscope_fake) for i in (1, 2, 3)] == [2, 1, 1]
    assert statuses(folder) == [RowStatus.DONE] * 3
    wait_until_answered(dashscope_fake)


def wait_until_answered(fake) -> None:
    """The fake answers the delayed request (to no one) before the next test resets it."""
    deadline = time.monotonic() + WAIT_S
    while fake.in_flight and time.monotonic() < deadline:
        time.sleep(0.05)


def test_ctrl_c_exits_130_with_the_index_written_and_accepted_tasks_kept(dashscope_fake, tmp_path):
    dashscope_fake.task_script = list(HELD["dashscope"])
    jobs = write_jobs(tmp_path / "jobs.csv", [{"prompt": item(i)} for i in (1, 2, 3)])
    env, folder, log = batch_env(tmp_path, dashscope_fake), tmp_path / "outputs" / "batch-jobs", tmp_path / "run.log"
    process = start_batch(jobs.name, "--provider", "dashscope", "--concurrency", "2", env=env, cwd=tmp_path, log=log)
    wait_for(lambda: count(folder, RowStatus.ACCEPTED) == 2, process, "two accepted tasks", log)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 130
    assert "interrupted; run the same command again" in log.read_text()
    index = list(csv.DictReader((folder / "index.csv").open(encoding="utf-8")))
    assert [row["status"] for row in index] == ["accepted", "accepted", "not_started"]
    assert all(row["task_id"] for row in index[:2])


def test_the_cost_cap_leaves_rows_not_started_and_counts_earlier_runs(dashscope_fake, tmp_path):
    dashscope_fake.task_script = list(QUICK["dashscope"])
    jobs = write_jobs(tmp_path / "jobs.csv", [{"prompt": item(i)} for i in range(1, 7)])
    env, folder = batch_env(tmp_path, dashscope_fake), tmp_path / "outputs" / "batch-jobs"

    capped = run_batch(jobs.name, "--provider", "dashscope", "--max-cost", "0.10", env=env, cwd=tmp_path)
    assert capped.returncode == 1
    assert statuses(folder) == [RowStatus.DONE] * 3 + [RowStatus.NOT_STARTED] * 3  # 3 × $0.03 fit, a 4th would not
    assert "3 row(s) not started" in capped.stderr and "its cost cap (--max-cost) $0.10" in capped.stderr
    assert [sent(item(i), dashscope_fake) for i in range(1, 7)] == [1, 1, 1, 0, 0, 0]

    # The cap is the batch's: $0.09 is spent already, so $0.20 leaves room for the three others.
    raised = run_batch(jobs.name, "--provider", "dashscope", "--max-cost", "0.20", env=env, cwd=tmp_path)
    assert raised.returncode == 0, raised.stderr
    assert [sent(item(i), dashscope_fake) for i in range(1, 7)] == [1] * 6


def test_bad_rows_are_reported_with_line_and_field_and_nothing_is_sent(vendor_fakes, tmp_path):
    rows = [
        {"prompt": "fine", "n": "1", "size": "", "provider": ""},
        {"prompt": "too many", "n": "7", "size": "", "provider": ""},
        {"prompt": "odd size", "n": "1", "size": "1000x1000", "provider": "runware"},
        {"prompt": "", "n": "1", "size": "", "provider": ""},
    ]
    jobs = write_jobs(tmp_path / "jobs.csv", rows)
    env = batch_env(tmp_path, vendor_fakes["dashscope"], vendor_fakes["runware"])
    done = run_batch(jobs.name, "--provider", "dashscope", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "3 problem(s); nothing was sent" in done.stderr
    assert "line 3 (row 2): n: 7 images per run; allowed 1–4" in done.stderr
    assert "line 4 (row 3): size: 1000x1000" in done.stderr
    assert "line 5 (row 4): prompt: is required" in done.stderr
    assert all(fake.requests == [] for fake in vendor_fakes.values())
    assert not (tmp_path / "outputs").exists()


def test_a_cost_cap_over_a_vendor_without_a_price_is_refused_before_sending(vendor_fakes, tmp_path):
    jobs = write_jobs(tmp_path / "jobs.csv", [{"prompt": "an owl", "provider": "vtrix"}])
    done = run_batch(jobs.name, "--max-cost", "1", env=batch_env(tmp_path, vendor_fakes["vtrix"]), cwd=tmp_path)
    assert done.returncode == 2
    assert "line 2 (row 1): provider: vtrix publishes no price, so --max-cost cannot bound this row" in done.stderr
    assert vendor_fakes["vtrix"].requests == []


def test_a_dry_run_prints_the_plan_and_its_total_and_sends_nothing(vendor_fakes, tmp_path):
    rows = [
        {"prompt": "a fox", "provider": "dashscope", "n": "2"},
        {"prompt": "an owl", "provider": "aimlapi", "n": "1"},
    ]
    jobs = write_jobs(tmp_path / "jobs.csv", rows)
    done = run_batch(jobs.name, "--dry-run", env=batch_env(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "dashscope" in lines[1] and "$0.060" in lines[1] and "a fox" in lines[1]
    assert "aimlapi" in lines[2] and "$0.039" in lines[2] and "an owl" in lines[2]
    assert lines[-1] == "2 rows, 3 images; estimated total $0.099"
    assert all(fake.requests == [] for fake in vendor_fakes.values())
    assert not (tmp_path / "outputs").exists()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags, self.links, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [value for name, value in attrs if name in ("href", "src")]

    def handle_data(self, data):
        self.text.append(data)


def test_the_index_and_contact_sheet_link_every_image_and_escape_prompts(vendor_fakes, tmp_path):
    dashscope, vtrix = vendor_fakes["dashscope"], vendor_fakes["vtrix"]
    set_scripts(QUICK, dashscope, vtrix)
    prompt = '<script>alert("hi")</script> & a fox'
    rows = [{"prompt": prompt, "provider": "dashscope", "n": "2"}, {"prompt": "an owl", "provider": "vtrix", "n": "1"}]
    jobs = write_jobs(tmp_path / "jobs.csv", rows)
    done = run_batch(
        jobs.name, "--size", "1280x1280", "--out", "here", env=batch_env(tmp_path, dashscope, vtrix), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "here"

    entries = [json.loads(line) for line in (folder / "index.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(e["row"], e["status"], e["provider"], len(e["files"])) for e in entries] == [
        (1, "done", "dashscope", 2),
        (2, "done", "vtrix", 1),
    ]
    assert entries[0]["prompt"] == prompt and entries[0]["task_id"] and entries[0]["request_id"]
    assert isinstance(entries[0]["seed"], int) and entries[1]["cost_usd"] > 0  # Vtrix reports its charge
    table = list(csv.DictReader((folder / "index.csv").open(encoding="utf-8")))
    assert [row["files"].split(" | ") for row in table] == [entry["files"] for entry in entries]

    page = _Links()
    page.feed((folder / "index.html").read_text(encoding="utf-8"))
    assert "script" not in page.tags and prompt in "".join(page.text)  # shown as text, never run
    images = [link for link in page.links]
    assert sorted(set(images)) == sorted(file for entry in entries for file in entry["files"])
    assert all(not link.startswith(("/", "file:")) and (folder / link).is_file() for link in images)

    keys = [fake.api_key for fake in vendor_fakes.values()]
    written = [path.read_bytes() for path in folder.rglob("*") if path.is_file()]
    assert not any(key.encode() in data for key in keys for data in [*written, done.stderr.encode()])


def test_rate_limit_answers_slow_the_batch_down_instead_of_failing_rows(dashscope_fake, tmp_path):
    dashscope_fake.task_script = list(QUICK["dashscope"])
    # More refusals than the client's own retries absorb: rows come back to the batch rate limited.
    dashscope_fake.fail_next(429, "Throttling.RateQuota", "Requests rate limit exceeded.", times=20, retry_after=0)
    jobs = write_jobs(tmp_path / "jobs.csv", [{"prompt": item(i)} for i in range(1, 5)])
    done = run_batch(jobs.name, "--provider", "dashscope", env=batch_env(tmp_path, dashscope_fake), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "dashscope is rate limiting: waiting" in done.stderr
    assert statuses(tmp_path / "outputs" / "batch-jobs") == [RowStatus.DONE] * 4
    assert len(dashscope_fake.tasks) == 4  # one task per row: the refused requests cost nothing


def test_a_changed_jobs_file_is_refused_rather_than_mixed(dashscope_fake, tmp_path):
    dashscope_fake.task_script = list(QUICK["dashscope"])
    jobs = write_jobs(tmp_path / "jobs.csv", [{"prompt": item(1)}, {"prompt": item(2)}])
    env = batch_env(tmp_path, dashscope_fake)
    assert run_batch(jobs.name, "--provider", "dashscope", env=env, cwd=tmp_path).returncode == 0
    write_jobs(jobs, [{"prompt": item(1)}, {"prompt": item(3)}])
    changed = run_batch(jobs.name, "--provider", "dashscope", env=env, cwd=tmp_path)
    assert changed.returncode == 2
    assert "rows differ: row 2 (line 3)" in changed.stderr and "--out" in changed.stderr
    assert sent(item(3), dashscope_fake) == 0


def test_a_damaged_journal_is_refused_in_one_line_and_nothing_is_sent(dashscope_fake, tmp_path):
    jobs = write_jobs(tmp_path / "jobs.csv", [{"prompt": "a fox"}])
    folder = tmp_path / "outputs" / "batch-jobs"
    folder.mkdir(parents=True)
    (folder / "journal.sqlite").write_bytes(b"this is not a database, it was overwritten" * 100)
    done = run_batch(jobs.name, "--provider", "dashscope", env=batch_env(tmp_path, dashscope_fake), cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "the batch journal in" in done.stderr and "could not be read or written" in done.stderr
    assert dashscope_fake.generation_requests() == []
