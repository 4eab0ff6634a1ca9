"""Batch pieces that need no vendor: reading and checking jobs files, the plan, a row's fate after an
error, the pace after rate limits, and the progress line."""

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from wan26.batch import Defaults, JobsFileError, RunOptions, make_plan, read_jobs
from wan26.batch.outcome import status_after
from wan26.batch.progress import ProgressLine, duration, progress_text
from wan26.batch.state import RowRecord, RowStatus, Tally
from wan26.batch.throttle import Throttle
from wan26.errors import (
    BadRequest,
    ConnectionFailed,
    ContentModerated,
    InvalidRequest,
    NetworkError,
    ProviderFailure,
    ProviderTimeout,
    RateLimited,
    TaskNotFound,
    Violation,
)
from wan26.types import GenerationResult, Mode, ProviderName, SavedImage, Size, SizeTier


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(jobs) -> list[str]:
    return [str(problem) for problem in jobs.problems]


def test_a_csv_row_takes_the_defaults_for_the_cells_it_leaves_empty(tmp_path):
    jobs = read_jobs(
        write(tmp_path / "jobs.csv", "Prompt,Vendor,n,Negative prompt\na red fox,,,\na tea set,runware,3,blur\n"),
        Defaults(provider=ProviderName.DASHSCOPE, n=2, size=Size(1280, 1280), negative_prompt="text"),
    )
    assert jobs.problems == ()
    fox, tea = jobs.rows
    assert (fox.number, fox.line, fox.provider, fox.request.n, fox.request.negative_prompt) == (
        1,
        2,
        "dashscope",
        2,
        "text",
    )
    assert fox.request.size == Size(1280, 1280) and fox.request.mode is Mode.TEXT_TO_IMAGE
    assert (tea.provider, tea.request.n, tea.request.negative_prompt) == ("runware", 3, "blur")


def test_a_quoted_cell_over_several_lines_keeps_the_next_rows_line_numbers(tmp_path):
    text = 'prompt,n\n"a poem\non two lines",1\nsecond,9\n'
    jobs = read_jobs(write(tmp_path / "jobs.csv", text))
    assert jobs.rows[0].request.prompt == "a poem\non two lines"
    assert problems_of(jobs) == ["line 4 (row 2): n: 9 images per run; allowed 1–4"]


def test_jsonl_rows_with_lists_numbers_and_booleans(tmp_path):
    photo = tmp_path / "refs" / "cat.png"
    photo.parent.mkdir()
    Image.new("RGB", (640, 480)).save(photo)
    lines = [
        {"mode": "edit", "prompt": "image 1 at night", "images": ["refs/cat.png"], "size": "2K", "watermark": True},
        {"mode": "interleave", "prompt": "a recipe", "max_images": 2, "prompt_extend": "no", "provider": "vtrix"},
    ]
    jobs = read_jobs(write(tmp_path / "jobs.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n\n"))
    assert jobs.problems == ()
    edit, interleave = jobs.rows
    assert edit.request.images == (str(tmp_path / "refs" / "cat.png"),)  # found from the jobs file's folder
    assert edit.references == ("refs/cat.png",)
    assert (edit.request.size, edit.request.watermark) == (SizeTier.K2, True)
    assert (interleave.provider, interleave.request.max_images, interleave.request.prompt_extend) == ("vtrix", 2, False)


def test_every_problem_is_reported_with_its_line_and_field_and_bad_rows_are_left_out(tmp_path):
    text = (
        "prompt,n,size,colour,provider,images\n"
        "fine,1,1280x1280,,,\n"
        "too many,9,100x100,,,\n"
        ",1,,,,\n"
        "odd,two,,,,\n"
        "no such vendor,1,,,acme,\n"
        "edit me,1,,,shortapi,/tmp/local.png\n"
    )
    jobs = read_jobs(write(tmp_path / "jobs.csv", text), Defaults(mode=Mode.TEXT_TO_IMAGE))
    found = problems_of(jobs)
    assert found[0].startswith("line 1: colour: unknown column; the columns are: mode, prompt")
    assert "line 3 (row 2): n: 9 images per run; allowed 1–4" in found
    assert "line 3 (row 2): size.width: 100 must be a positive multiple of 16" in found
    assert "line 4 (row 3): prompt: is required" in found
    assert "line 5 (row 4): n: must be a whole number, not 'two'" in found
    assert any(p.startswith("line 6 (row 5): provider: 'acme' is not a vendor") for p in found)
    assert "line 7 (row 6): images: 1 given; this mode takes 0–0" in found  # text to image takes none
    assert [row.number for row in jobs.rows] == [1]


def test_references_are_checked_before_sending(tmp_path):
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (100, 100)).save(tiny)
    lines = [
        {"mode": "edit", "prompt": "a", "images": "missing.png"},
        {"mode": "edit", "prompt": "b", "images": "tiny.png"},
        {"mode": "edit", "prompt": "c", "images": "tiny.png", "provider": "shortapi"},
        {"mode": "edit", "prompt": "d", "images": "https://example.com/cat.png | http://"},
        {"mode": "edit", "prompt": "e", "images": "photos"},
    ]
    (tmp_path / "photos").mkdir()
    jobs = read_jobs(write(tmp_path / "jobs.jsonl", "\n".join(json.dumps(line) for line in lines)))
    found = problems_of(jobs)
    assert f"line 1 (row 1): image 1: file not found: {tmp_path / 'missing.png'}" in found
    assert any(p.startswith("line 2 (row 2): image 1:") and "240" in p for p in found)  # under the minimum side
    assert any(p.startswith("line 3 (row 3): image 1:") and "URLs only" in p for p in found)
    assert "line 4 (row 4): image 2: 'http://' is not a complete http(s) URL" in found
    assert f"line 5 (row 5): image 1: is a folder, not an image file: {tmp_path / 'photos'}" in found
    assert jobs.rows == ()


def test_a_mode_the_vendor_lacks_is_a_problem_of_the_row(tmp_path):
    jobs = read_jobs(write(tmp_path / "jobs.csv", "prompt,mode,provider\nrecipe,interleave,runware\n"))
    assert problems_of(jobs) == [
        "line 2 (row 1): mode: runware does not offer interleave with Wan 2.6 (it offers: text_to_image, edit)"
    ]


def test_lines_that_are_not_json_objects(tmp_path):
    jobs = read_jobs(write(tmp_path / "jobs.jsonl", '{"prompt": "ok"}\nnot json\n["a list"]\n'))
    found = problems_of(jobs)
    assert found[0].startswith("line 2 (row 2): json: not valid JSON")
    assert found[1] == "line 3 (row 3): json: each line must be one JSON object"
    assert len(jobs.rows) == 1


@pytest.mark.parametrize(("name", "text"), [("jobs.txt", "prompt\nx\n"), ("jobs.csv", "prompt\n"), ("nope.csv", None)])
def test_a_file_that_is_no_jobs_file_at_all(tmp_path, name, text):
    if text is not None:
        write(tmp_path / name, text)
    with pytest.raises(JobsFileError):
        read_jobs(tmp_path / name)


def test_the_plan_estimates_each_row_and_prefers_the_task_flow(tmp_path):
    text = "prompt,provider,n\na,dashscope,2\nb,aimlapi,1\nc,vtrix,1\n"
    plan = make_plan(read_jobs(write(tmp_path / "jobs.csv", text)))
    flows = [row.flow.value for row in plan.rows]
    assert flows == ["task", "direct", "task"]  # AI/ML API has no task flow
    assert plan.total_usd == pytest.approx(2 * 0.03 + 0.039)
    assert plan.images == 4
    assert [row.provider for row in plan.unpriced] == ["vtrix"]


def test_the_batch_hash_changes_with_any_row_and_with_the_defaults(tmp_path):
    path = write(tmp_path / "jobs.csv", "prompt\na\nb\n")
    first = make_plan(read_jobs(path))
    assert make_plan(read_jobs(path)).batch_hash == first.batch_hash
    assert make_plan(read_jobs(path, Defaults(n=2))).batch_hash != first.batch_hash
    write(tmp_path / "jobs.csv", "prompt\na\nB\n")
    changed = make_plan(read_jobs(path))
    assert changed.batch_hash != first.batch_hash
    assert [row.row_hash == old.row_hash for row, old in zip(changed.rows, first.rows, strict=True)] == [True, False]


def _with_saved_image(error):
    """`error` as a run raises it when it had saved one image first."""
    image = SavedImage(1, Path("01.png"), "https://oss.example/1.png", 16, 16, 7)
    error.partial_result = GenerationResult(Mode.TEXT_TO_IMAGE, "x", "m", (image,), 7, Path("run"), None)
    return error


@pytest.mark.parametrize(
    ("error", "accepted", "status"),
    [
        (RateLimited("slow down", provider="x"), False, RowStatus.NOT_STARTED),
        (ConnectionFailed("no route", provider="x"), False, RowStatus.NOT_STARTED),
        (InvalidRequest([Violation("image 1", "unreadable")]), False, RowStatus.FAILED),
        (BadRequest("refused", provider="x"), False, RowStatus.FAILED),
        (ContentModerated("flagged", provider="x"), False, RowStatus.FAILED),
        (ProviderFailure("HTTP 500", provider="x"), False, RowStatus.UNKNOWN),  # a POST that may have been taken
        (ProviderTimeout("no answer", provider="x"), False, RowStatus.UNKNOWN),
        (NetworkError("cut", provider="x"), False, RowStatus.UNKNOWN),
        (ProviderFailure("task failed", provider="x"), True, RowStatus.FAILED),
        (ProviderTimeout("still running", provider="x"), True, RowStatus.ACCEPTED),  # fetched next time
        (NetworkError("poll cut", provider="x"), True, RowStatus.ACCEPTED),
        (TaskNotFound("expired", provider="x"), True, RowStatus.UNKNOWN),  # it may well have run, and been billed
        (_with_saved_image(RateLimited("1 of 2 calls", provider="x")), False, RowStatus.UNKNOWN),  # one got through
        (_with_saved_image(ProviderFailure("2 of 3 failed", provider="x")), True, RowStatus.UNKNOWN),
    ],
)
def test_what_an_error_means_for_the_row(error, accepted, status):
    assert status_after(error, accepted) is status


def test_rate_limits_halve_the_pace_and_rows_that_get_through_restore_it():
    throttle = Throttle(limit=8)
    assert throttle.may_start(running=7, now=0.0) and not throttle.may_start(running=8, now=0.0)
    assert throttle.limited(now=0.0, retry_after=None) == 1.0
    assert throttle.at_once == 4 and not throttle.may_start(running=0, now=0.5)
    assert throttle.limited(now=0.5, retry_after=None) == 0.5  # sent before the pause: the same overload
    assert throttle.at_once == 4
    assert throttle.limited(now=1.0, retry_after=None) == 2.0  # doubles while answers keep coming
    assert throttle.limited(now=3.0, retry_after=30) == 30  # the vendor's Retry-After when longer
    assert throttle.at_once == 1 and throttle.wait_s(now=13.0) == 20.0
    throttle.got_through()
    throttle.got_through()
    assert throttle.at_once == 3 and throttle.strikes == 0


def test_spend_counts_the_reported_cost_else_the_estimate_once_sent():
    record = RowRecord(1, 2, "h", "dashscope", "text_to_image", estimate_usd=0.06)
    assert record.spent_usd == 0
    assert RowRecord(**{**_fields(record), "status": RowStatus.UNKNOWN}).spent_usd == 0.06
    assert RowRecord(**{**_fields(record), "status": RowStatus.DONE, "cost_usd": 0.05}).spent_usd == 0.05
    assert RowRecord(**{**_fields(record), "status": RowStatus.FAILED, "earlier_usd": 0.06}).spent_usd == 0.06


def _fields(record: RowRecord) -> dict:
    return {name: getattr(record, name) for name in RowRecord.__dataclass_fields__}


TALLY = Tally(12, 7, 1, 0, 2, 0, 2, 14, 0.21, 0.27, 3.2, 100.0)


def test_the_progress_text_says_rows_images_spend_rate_and_eta():
    assert progress_text(TALLY) == (
        "rows 7/12 done (1 failed, 2 running) · 14 images · $0.210 spent (+$0.060 under way) · 3.2 rows/min · ETA 1m40s"
    )
    assert [duration(s) for s in (5, 65, 3725)] == ["5s", "1m05s", "1h02m"]


def test_the_progress_line_rewrites_itself_on_a_terminal_and_logs_plain_lines_elsewhere():
    screen = io.StringIO()
    line = ProgressLine(screen, tty=True)
    line.show(TALLY)
    line.say("row 3 failed")
    line.show(TALLY)
    line.close()
    assert screen.getvalue().count("\r") == 3 and screen.getvalue().endswith("\n")
    log, now = io.StringIO(), [0.0]
    line = ProgressLine(log, tty=False, every=10, clock=lambda: now[0])
    for now[0] in (0.0, 1.0, 2.0, 11.0):
        line.show(TALLY)
    line.show(TALLY, force=True)
    assert "\r" not in log.getvalue() and log.getvalue().count("\n") == 3  # at 0 s, at 11 s, and the forced one


def test_rows_start_no_faster_than_the_vendors_documented_rate():
    throttle = Throttle(limit=5, min_gap_s=0.2)  # DashScope: 5 new jobs per second per account
    assert throttle.may_start(running=0, now=10.0)
    throttle.started(now=10.0)
    assert not throttle.may_start(running=1, now=10.1) and throttle.wait_s(now=10.1) == pytest.approx(0.1)
    assert throttle.may_start(running=1, now=10.2)


def test_the_documented_rate_is_adapter_data_and_can_be_overridden():
    assert RunOptions().gap_for("dashscope") == pytest.approx(0.2)
    assert RunOptions().gap_for("runware") == 0.0  # no number published
    assert RunOptions(rate=2).gap_for("runware") == pytest.approx(0.5)


def test_a_model_is_read_as_the_picker_writes_it_too(tmp_path):
    jobs = tmp_path / "models.csv"
    jobs.write_text("prompt,model\na,Wan 2.7 Pro\nb,wan2.7\nc,wan 2.6\nd,Wan 3\n", encoding="utf-8")
    read = read_jobs(jobs)
    assert [row.request.model.value for row in read.rows] == ["wan2.7-pro", "wan2.7", "wan2.6"]
    assert [problem.message for problem in read.problems] == [
        "'Wan 3' is not a model; use one of: wan2.6, wan2.7, wan2.7-pro"
    ]
