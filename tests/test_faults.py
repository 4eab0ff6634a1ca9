"""Faults as a user meets them: a hang-up, a trickle, a cut-off file, a silent stream, a full disk,
Stop and Ctrl-C, a status outage, odd paths and counts, a vendor echoing the key.

Each test checks what the user is left with (exit code, message, the URLs of images not saved,
that nothing was sent twice) and that the run ends within a generous bound: these guard against
hangs, not for speed.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakes.faulty import serve_faulty
from wan26 import (
    AsyncClient,
    DownloadError,
    Flow,
    ImageOffered,
    ImageRequest,
    Mode,
    PollPolicy,
    ProviderError,
    ProviderTimeout,
    RetryPolicy,
    Timeouts,
)
from wan26.providers import PROVIDERS

REPO = Path(__file__).resolve().parent.parent
GUARD = Path(__file__).resolve().parent / "subprocess_guard"
VENDOR_PREFIXES = tuple(adapter.facts.key_env.split("_")[0] + "_" for adapter in PROVIDERS.values())

BOUND_S = 15.0  # a fault with a deadline of 2–3 s must end well within this
QUICK_S = 10.0  # refusals that need no network at all
FAST_POLL = PollPolicy(first_interval=0.02, growth=1.0, max_interval=0.02, deadline=30)
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.02)
FOX = ImageRequest(Mode.TEXT_TO_IMAGE, "a red fox")


# ---- running the command line ----------------------------------------------------------------


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str
    elapsed: float

    def report(self) -> dict:
        """--json prints exactly one object on stdout, however the run ends."""
        return json.loads(self.stdout)


class Cli:
    """`python -m wan26 …` in a guarded subprocess, its stderr readable while it runs."""

    def __init__(self, *args: str, env: dict[str, str], cwd: Path) -> None:
        environment = {k: v for k, v in os.environ.items() if not k.startswith((*VENDOR_PREFIXES, "WAN26_"))}
        environment |= {"PYTHONPATH": f"{GUARD}{os.pathsep}{REPO}", "PYTHONUNBUFFERED": "1", **env}
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wan26", *args],
            env=environment,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._out: list[str] = []
        self._err: list[str] = []
        self._lock = threading.Lock()
        self._readers = [
            threading.Thread(target=self._collect, args=(self.process.stdout, self._out), daemon=True),
            threading.Thread(target=self._collect, args=(self.process.stderr, self._err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _collect(self, stream, into: list[str]) -> None:
        for line in iter(stream.readline, ""):
            with self._lock:
                into.append(line)

    @property
    def stderr(self) -> str:
        with self._lock:
            return "".join(self._err)

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        """Block until `text` shows on stderr; fail (and stop the process) if it never does."""
        deadline = time.monotonic() + timeout
        while text not in self.stderr:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                self.finish()
                pytest.fail(f"{text!r} never showed on stderr:\n{self.stderr}")
            time.sleep(0.02)

    def interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)  # what Ctrl-C in a terminal sends

    def finish(self, timeout: float = 60.0) -> Done:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            pytest.fail(f"the command did not end within {timeout} s:\n{self.stderr}")
        elapsed = time.monotonic() - self.started
        for reader in self._readers:
            reader.join(10)
        with self._lock:
            return Done(self.process.returncode, "".join(self._out), "".join(self._err), elapsed)


def run_cli(*args: str, env: dict[str, str], cwd: Path, timeout: float = 60.0) -> Done:
    return Cli(*args, env=env, cwd=cwd).finish(timeout)


@pytest.fixture
def outputs(tmp_path) -> Path:
    return tmp_path / "outputs"


@pytest.fixture
def fake_env(dashscope_fake, outputs) -> dict[str, str]:
    return {
        "DASHSCOPE_API_KEY": dashscope_fake.api_key,
        "DASHSCOPE_BASE_URL": dashscope_fake.base_url,
        "WAN26_OUTPUT_DIR": str(outputs),
    }


# ---- running in-process ------------------------------------------------------------------------


def run_client(scenario, *, base_url: str, api_key: str, outputs: Path, limit: float = 60.0, **options):
    """`scenario(client)` with a fresh AsyncClient; returns (what it returned or raised, seconds taken)."""

    async def go():
        settings = {"api_key": api_key, "base_url": base_url, "output_dir": outputs, "poll": FAST_POLL}
        async with AsyncClient(**(settings | {"retry": FAST_RETRY} | options)) as client:
            return await asyncio.wait_for(scenario(client), limit)  # a hang fails here, not in CI

    started = time.monotonic()
    try:
        outcome = asyncio.run(go())
    except Exception as error:  # noqa: BLE001 (the test inspects it)
        outcome = error
    return outcome, time.monotonic() - started


def generating(request: ImageRequest = FOX, flow: Flow | None = Flow.DIRECT, on_event=None):
    async def scenario(client):
        return await client.generate(request, flow=flow, on_event=on_event)

    return scenario


def records(outputs: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(outputs.rglob("run.json"))]


def saved_images(outputs: Path) -> list[Path]:
    return [path for path in outputs.rglob("*") if path.suffix in (".png", ".jpg", ".webp")] if outputs.is_dir() else []


def fetch_command(task_id: str, mode: str = "text_to_image") -> str:
    return f"python -m wan26 fetch {task_id} --mode {mode} --provider dashscope"


# ---- 1. the connection closes after the request --------------------------------------------------


@pytest.mark.parametrize("flow_args", [[], ["--async"]], ids=["direct", "task"])
def test_a_hang_up_after_the_request_is_reported_and_not_sent_again(fake_env, tmp_path, flow_args):
    with serve_faulty("close") as faulty:
        env = fake_env | {"DASHSCOPE_BASE_URL": faulty.url + "/api/v1"}
        done = run_cli("text_to_image", "a red fox", *flow_args, "--json", env=env, cwd=tmp_path)
        assert faulty.count == 1, faulty.requests  # a generation may be billed: never resent
        assert faulty.requests[0].method == "POST"
    assert done.returncode == 1, done.stderr
    assert "may still have been received" in done.stderr and "not sent again" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.report()["error"]["type"] == "NetworkError"
    assert done.elapsed < BOUND_S


# ---- 2. a download that trickles -----------------------------------------------------------------


def test_a_trickling_download_ends_at_its_deadline_with_the_url_kept(dashscope_fake, outputs):
    with serve_faulty("trickle", interval=0.5) as faulty:
        url = faulty.image_url()
        dashscope_fake.result_urls = [url]
        error, elapsed = run_client(
            generating(),
            base_url=dashscope_fake.base_url,
            api_key=dashscope_fake.api_key,
            outputs=outputs,
            timeouts=Timeouts(download_total=2),
        )
        assert faulty.count >= 1
    assert isinstance(error, DownloadError), error
    assert elapsed < BOUND_S
    assert error.urls == (url,) and url in str(error)
    [record] = records(outputs)
    assert [entry["source_url"] for entry in record["failed_downloads"]] == [url]
    assert saved_images(outputs) == []
    assert len(dashscope_fake.generation_requests()) == 1


def test_a_trickling_download_ends_at_the_command_line_timeout_with_the_url_shown(
    dashscope_fake, fake_env, tmp_path, outputs
):
    with serve_faulty("trickle", interval=0.5) as faulty:
        url = faulty.image_url()
        dashscope_fake.result_urls = [url]
        done = run_cli("text_to_image", "a red fox", "--timeout", "3", "--json", env=fake_env, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.elapsed < BOUND_S
    assert "gave up after 3 s" in done.stderr and url in done.stderr
    assert done.report()["error"]["urls"] == [url]
    assert [entry["source_url"] for record in records(outputs) for entry in record["failed_downloads"]] == [url]
    assert len(dashscope_fake.generation_requests()) == 1
    assert "Traceback" not in done.stderr


# ---- 3. a body cut off, with and without Content-Length ------------------------------------------


@pytest.mark.parametrize("behaviour", ["truncated", "short"])
def test_a_cut_off_download_is_fetched_again_then_reported(dashscope_fake, fake_env, tmp_path, outputs, behaviour):
    with serve_faulty(behaviour) as faulty:
        url = faulty.image_url()
        dashscope_fake.result_urls = [url]
        done = run_cli("text_to_image", "a red fox", "--json", env=fake_env, cwd=tmp_path)
        gets = faulty.count
    assert gets > 1  # treated like a broken connection: tried again
    assert done.returncode == 1, done.stderr
    assert done.elapsed < BOUND_S
    assert url in done.stderr and done.report()["error"]["urls"] == [url]
    assert saved_images(outputs) == []  # no 01.png holding half an image
    [record] = records(outputs)
    assert [entry["source_url"] for entry in record["failed_downloads"]] == [url]
    assert len(dashscope_fake.generation_requests()) == 1


# ---- 4. a stream that only ever sends keep-alive comments --------------------------------------


def test_a_stream_of_only_comments_ends_at_the_overall_deadline(dashscope_fake, outputs):
    with serve_faulty("comments") as faulty:
        error, elapsed = run_client(
            generating(ImageRequest(Mode.INTERLEAVE, "a two-step recipe", max_images=1), flow=None),
            base_url=faulty.url + "/api/v1",
            api_key=dashscope_fake.api_key,
            outputs=outputs,
            timeouts=Timeouts(total=2),
        )
        assert faulty.count == 1
    assert isinstance(error, ProviderTimeout), error
    assert 1.5 < elapsed < BOUND_S


def test_a_stream_of_only_comments_ends_at_the_command_line_timeout(dashscope_fake, fake_env, tmp_path):
    with serve_faulty("comments") as faulty:
        env = fake_env | {"DASHSCOPE_BASE_URL": faulty.url + "/api/v1"}
        done = run_cli("interleave", "a two-step recipe", "--timeout", "3", "--json", env=env, cwd=tmp_path)
        assert faulty.count == 1
    assert done.returncode == 1, done.stderr
    assert done.elapsed < BOUND_S
    assert "did not finish in time" in done.stderr or "gave up after 3 s" in done.stderr
    assert "error" in done.report() and "Traceback" not in done.stderr


# ---- 5. the output folder vanishes while an image downloads --------------------------------------


def replace_with_a_file(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.write_text("not a folder any more")


def test_a_save_failure_mid_run_keeps_the_urls_and_says_the_record_is_not_written(dashscope_fake, outputs):
    outputs.mkdir()
    dashscope_fake.delay("download", 1.5, times=2)
    offered: list[str] = []

    def on_event(event):
        if isinstance(event, ImageOffered):
            offered.append(event.url)
            if len(offered) == 1:
                replace_with_a_file(outputs)

    error, elapsed = run_client(
        generating(ImageRequest(Mode.TEXT_TO_IMAGE, "a red fox", n=2), on_event=on_event),
        base_url=dashscope_fake.base_url,
        api_key=dashscope_fake.api_key,
        outputs=outputs,
    )
    assert isinstance(error, DownloadError), error
    assert elapsed < BOUND_S
    assert len(offered) == 2 and sorted(error.urls) == sorted(offered)
    assert all(url in str(error) for url in offered)
    assert "could not be written" in str(error)  # says so, rather than pointing at a record
    assert error.partial_result is None or error.partial_result.sidecar is None
    assert outputs.is_file()
    assert len(dashscope_fake.generation_requests()) == 1


def test_a_save_failure_mid_run_from_the_command_line(dashscope_fake, fake_env, tmp_path, outputs):
    outputs.mkdir()
    dashscope_fake.delay("download", 2, times=1)
    cli = Cli("text_to_image", "a red fox", "--json", env=fake_env, cwd=tmp_path)
    cli.wait_for("Downloading")
    replace_with_a_file(outputs)
    done = cli.finish()
    assert done.returncode == 1, done.stderr
    assert done.elapsed < BOUND_S
    assert "Traceback" not in done.stderr
    error = done.report()["error"]
    [url] = error["urls"]
    assert "/results/" in url and url in done.stderr
    assert "could not be written" in done.stderr
    assert "record " not in done.stderr.replace("record could not be written", "")  # no claim of a record
    report = done.report()
    assert report.get("sidecar") is None, f"--json names {report.get('sidecar')}, which was never written"
    assert len(dashscope_fake.generation_requests()) == 1


# ---- 6. Stop and Ctrl-C while an image downloads -----------------------------------------------


def test_stop_during_a_download_records_the_url_as_stopped(dashscope_fake, outputs):
    dashscope_fake.delay("download", 10)

    async def stop_while_downloading(client):
        offered: list[str] = []
        ready = asyncio.Event()

        async def follow():
            async for event in client.events(FOX, flow=Flow.DIRECT):
                if isinstance(event, ImageOffered):
                    offered.append(event.url)
                    ready.set()

        run = asyncio.create_task(follow())
        await asyncio.wait_for(ready.wait(), 10)
        run.cancel()  # what the app's Stop does
        with pytest.raises(asyncio.CancelledError):
            await run
        return offered

    offered, elapsed = run_client(
        stop_while_downloading, base_url=dashscope_fake.base_url, api_key=dashscope_fake.api_key, outputs=outputs
    )
    assert isinstance(offered, list), offered
    assert elapsed < 8  # did not wait for the 10 s download
    [record] = records(outputs)
    assert record["status"] == "stopped"
    assert [entry["source_url"] for entry in record["failed_downloads"]] == offered
    assert saved_images(outputs) == []
    assert len(dashscope_fake.generation_requests()) == 1


def test_ctrl_c_during_a_download_exits_130_and_shows_the_url(dashscope_fake, fake_env, tmp_path, outputs):
    dashscope_fake.delay("download", 10)
    cli = Cli("text_to_image", "a red fox", "--json", env=fake_env, cwd=tmp_path)
    cli.wait_for("Downloading")
    cli.interrupt()
    done = cli.finish(BOUND_S)
    assert done.returncode == 130, done.stderr
    assert done.elapsed < BOUND_S and "Traceback" not in done.stderr
    [url] = done.report()["error"]["urls"]
    assert "/results/" in url and url in done.stderr
    [record] = records(outputs)
    assert record["status"] == "stopped" and record["failed_downloads"][0]["source_url"] == url
    assert len(dashscope_fake.generation_requests()) == 1


def wait_for_files(outputs: Path, count: int) -> list[Path]:
    deadline = time.monotonic() + BOUND_S
    while len(found := sorted(saved_images(outputs))) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(found) >= count, f"{len(found)} image(s) saved within {BOUND_S} s"
    return found


def test_ctrl_c_names_the_images_saved_behind_a_slow_one_as_saved(dashscope_fake, fake_env, tmp_path, outputs):
    dashscope_fake.delay("download", 10)  # the first image only: the two after it are saved at once
    cli = Cli("interleave", "a three-step recipe", "--max-images", "3", env=fake_env, cwd=tmp_path)
    second, third = wait_for_files(outputs, 2)
    time.sleep(0.3)  # their places are held back behind image 1, which is still on its way
    cli.interrupt()
    done = cli.finish(BOUND_S)
    assert done.returncode == 130 and "Traceback" not in done.stderr, done.stderr
    assert "[image 1: not saved]" in done.stdout
    assert f"[image 2: {second}]" in done.stdout and f"[image 3: {third}]" in done.stdout
    assert done.stdout.endswith("\n")  # what follows on the terminal starts on a line of its own
    assert f"what was saved is in {second.parent}" in done.stderr
    [record] = records(outputs)
    [unsaved] = [entry["source_url"] for entry in record["failed_downloads"]]
    not_saved = done.stderr.split("not saved; fetch these yourself")[1]
    assert unsaved in not_saved and not_saved.count("http") == 1


def test_the_timeout_reports_in_json_what_was_saved_and_what_was_not(dashscope_fake, fake_env, tmp_path, outputs):
    dashscope_fake.delay("download", 10)  # one of the two images
    done = run_cli("text_to_image", "a red fox", "-n", "2", "--timeout", "3", "--json", env=fake_env, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    report = done.report()
    [saved] = saved_images(outputs)
    assert report["images"] == [str(saved)] and report["run_dir"] == str(saved.parent)
    [record] = records(outputs)
    assert report["error"]["urls"] == [entry["source_url"] for entry in record["failed_downloads"]]
    assert len(report["error"]["urls"]) == 1 and saved.name in {image["file"] for image in record["images"]}


def command_with_stdout_closed(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """`python -m wan26 ...` whose output nobody reads (`... | head -0`): its return code and stderr."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith((*VENDOR_PREFIXES, "WAN26_"))}
    environment |= {"PYTHONPATH": f"{GUARD}{os.pathsep}{REPO}", **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "wan26", *args], env=environment, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()  # before the command has written anything: its first write finds no reader
    stderr = process.stderr.read().decode()
    process.stderr.close()
    return process.wait(60), stderr


def test_a_run_whose_output_nobody_reads_still_saves_every_image(dashscope_fake, fake_env, tmp_path, outputs):
    code, stderr = command_with_stdout_closed("text_to_image", "a red fox", "-n", "4", env=fake_env, cwd=tmp_path)
    assert code == 0 and "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert len(saved_images(outputs)) == 4 and "Saved 4 image(s)" in stderr
    assert len(dashscope_fake.generation_requests()) == 1


@pytest.mark.parametrize("args", [["providers"], ["interleave", "a recipe", "--max-images", "2"]])
def test_output_nobody_reads_shows_no_traceback(dashscope_fake, fake_env, tmp_path, args):
    code, stderr = command_with_stdout_closed(*args, env=fake_env, cwd=tmp_path)
    assert code == 0 and "Traceback" not in stderr and "Exception ignored" not in stderr, stderr


# ---- 7. the task status route fails for a while, or for good -------------------------------------


def test_a_poll_outage_is_ridden_out_without_resubmitting(dashscope_fake, outputs):
    failed_polls = 12  # what a minute of polls at the default 1 s growing to 8 s would be
    dashscope_fake.fail_next(503, "ServiceUnavailable", "try later", target="poll", times=failed_polls)
    result, elapsed = run_client(
        generating(flow=Flow.TASK),
        base_url=dashscope_fake.base_url,
        api_key=dashscope_fake.api_key,
        outputs=outputs,
        retry=RetryPolicy(max_retries=0),  # each failed poll is one request: the poll loop rides it out
    )
    assert not isinstance(result, Exception), result
    assert len(result.images) == 1 and result.images[0].path.is_file()
    polls = [r for r in dashscope_fake.requests if r.method == "GET" and "/tasks/" in r.path]
    assert len(polls) >= failed_polls + 1
    assert len(dashscope_fake.generation_requests()) == 1
    assert elapsed < BOUND_S


def test_a_poll_outage_past_the_deadline_names_the_fetch_command(dashscope_fake, outputs):
    dashscope_fake.fail_next(503, "ServiceUnavailable", "try later", target="poll", times=100_000)
    error, elapsed = run_client(
        generating(flow=Flow.TASK),
        base_url=dashscope_fake.base_url,
        api_key=dashscope_fake.api_key,
        outputs=outputs,
        poll=PollPolicy(first_interval=0.05, growth=1.0, max_interval=0.05, deadline=2),
    )
    assert isinstance(error, ProviderTimeout), error
    assert 1.5 < elapsed < BOUND_S
    assert error.task_id in dashscope_fake.tasks
    assert fetch_command(error.task_id) in error.hint and fetch_command(error.task_id) in str(error)
    [record] = records(outputs)
    assert (record["status"], record["task_id"]) == ("still_running", error.task_id)
    assert len(dashscope_fake.generation_requests()) == 1


def test_a_404_while_polling_a_task_just_sent_keeps_its_id_and_the_fetch_command(dashscope_fake, outputs):
    """A proxy in DASHSCOPE_BASE_URL that passes the submission but not the status route: the task
    was accepted (and may be billed), so it is kept as still running, with how to save it later."""
    dashscope_fake.fail_next(404, "NotFound", "no route", target="poll", times=100_000)
    error, _ = run_client(
        generating(flow=Flow.TASK), base_url=dashscope_fake.base_url, api_key=dashscope_fake.api_key, outputs=outputs
    )
    assert isinstance(error, ProviderError) and error.task_id in dashscope_fake.tasks, error
    assert fetch_command(error.task_id) in error.hint
    [record] = records(outputs)
    assert (record["status"], record["task_id"]) == ("still_running", error.task_id)
    assert len(dashscope_fake.generation_requests()) == 1


def test_a_task_submission_that_trickles_ends_at_the_overall_deadline(outputs):
    with serve_faulty("slow-json", interval=0.5) as faulty:
        error, elapsed = run_client(
            generating(flow=Flow.TASK),
            base_url=faulty.url + "/api/v1",
            api_key="sk-anything",
            outputs=outputs,
            timeouts=Timeouts(total=2),
        )
        assert isinstance(error, ProviderTimeout), error
        assert "longer than 2 s" in error.message and "not sent again" in error.hint
        assert elapsed < BOUND_S
        assert [request.method for request in faulty.requests] == ["POST"]


def test_a_status_query_that_never_answers_is_given_up_and_polled_again_until_the_deadline(dashscope_fake, outputs):
    dashscope_fake.delay("poll", 30, times=100)  # each poll would hang far past the task deadline
    error, elapsed = run_client(
        generating(flow=Flow.TASK),
        base_url=dashscope_fake.base_url,
        api_key=dashscope_fake.api_key,
        outputs=outputs,
        timeouts=Timeouts(poll_total=1),
        poll=PollPolicy(first_interval=0.05, growth=1.0, max_interval=0.05, deadline=3),
    )
    assert isinstance(error, ProviderTimeout), error
    assert elapsed < BOUND_S
    assert fetch_command(error.task_id) in error.hint
    assert len(dashscope_fake.generation_requests()) == 1


def test_ctrl_c_while_polling_exits_130_with_the_task_id_and_fetch_command(dashscope_fake, fake_env, tmp_path):
    dashscope_fake.task_script = ["RUNNING"]  # never ends
    cli = Cli("text_to_image", "a red fox", "--async", "--json", env=fake_env, cwd=tmp_path)
    cli.wait_for("[RUNNING]")
    cli.interrupt()
    done = cli.finish(BOUND_S)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    [task_id] = dashscope_fake.tasks
    assert task_id in done.stderr and fetch_command(task_id) in done.stderr
    assert done.report()["error"]["fetch"] == fetch_command(task_id)
    assert len(dashscope_fake.generation_requests()) == 1


def test_the_command_line_timeout_while_polling_names_the_task_and_fetch_command(dashscope_fake, fake_env, tmp_path):
    dashscope_fake.task_script = ["RUNNING"]  # never ends
    done = run_cli("text_to_image", "a red fox", "--async", "--timeout", "3", "--json", env=fake_env, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.elapsed < BOUND_S and "Traceback" not in done.stderr
    [task_id] = dashscope_fake.tasks
    assert "3 s" in done.stderr and task_id in done.stderr and fetch_command(task_id) in done.stderr
    assert fetch_command(task_id) in json.dumps(done.report()["error"])
    assert len(dashscope_fake.generation_requests()) == 1


# ---- 8. a reference "image" that is a FIFO or a device -----------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_fifo_or_device_as_a_reference_image_is_refused_at_once(dashscope_fake, fake_env, tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "pipe.png"
        os.mkfifo(path)  # opening it for reading would wait for a writer for ever
    else:
        path = Path("/dev/zero")  # reading it never ends
    done = run_cli("edit", "image 1 in watercolour", "--image", str(path), env=fake_env, cwd=tmp_path, timeout=30)
    assert done.returncode == 2, done.stderr
    assert done.elapsed < QUICK_S
    assert "image 1" in done.stderr and "Traceback" not in done.stderr
    assert dashscope_fake.requests == []


# ---- 9. asking for zero images -------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["text_to_image", "a red fox", "-n", "0"], ["edit", "image 1", "--image", "x.png", "-n", "0"]]
    + [["interleave", "a recipe", "--max-images", "0"]],
    ids=["t2i-n", "edit-n", "interleave-max-images"],
)
def test_a_count_of_zero_is_refused_before_anything_is_sent(dashscope_fake, fake_env, tmp_path, outputs, args):
    done = run_cli(*args, "--json", env=fake_env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.elapsed < QUICK_S
    assert "at least 1" in done.stderr and "Traceback" not in done.stderr
    assert "estimated cost" not in done.stderr  # refused before the estimate, let alone the call
    assert dashscope_fake.requests == [] and not outputs.exists()


# ---- 10. a vendor message that quotes the key -------------------------------------------------


def echo_in_generation_error(fake):
    fake.fail_next(400, "InvalidParameter", f"Bad request from {fake.api_key}: size is wrong.")
    return ["text_to_image", "a red fox"], False


def echo_in_stream_error(fake):
    fake.stream_fault = ("error", "InternalError", f"Stream failed for key {fake.api_key}.", 3)
    return ["interleave", "a recipe", "--max-images", "1"], True  # text arrived first: a record is written


def echo_in_poll_error(fake):
    fake.fail_next(400, "InvalidParameter", f"Task lookup by {fake.api_key} refused.", target="poll", times=10)
    return ["text_to_image", "a red fox", "--async"], True  # the task may still run: a record is written


def echo_in_task_failure(fake):
    fake.task_script = ["RUNNING", "FAILED"]
    fake.task_failure = ("InternalError", f"The task of {fake.api_key} failed.")
    return ["text_to_image", "a red fox", "--async"], False


@pytest.mark.parametrize(
    "echo", [echo_in_generation_error, echo_in_stream_error, echo_in_poll_error, echo_in_task_failure]
)
def test_a_key_echoed_by_the_vendor_is_never_shown_or_saved(dashscope_fake, fake_env, tmp_path, outputs, echo):
    args, recorded = echo(dashscope_fake)
    done = run_cli(*args, "--json", env=fake_env, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.elapsed < BOUND_S
    assert "[key hidden]" in done.stderr  # the vendor's message is shown, masked
    key = dashscope_fake.api_key
    assert key not in done.stderr and key not in done.stdout
    assert "error" in done.report()
    written = [path for path in outputs.rglob("*") if path.is_file()] if outputs.exists() else []
    assert bool(records(outputs)) == recorded
    assert all(key.encode() not in path.read_bytes() for path in written)
    assert len(dashscope_fake.generation_requests()) == 1
