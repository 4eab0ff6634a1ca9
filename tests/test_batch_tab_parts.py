"""The Batch tab's pieces that need no server: the uploads and their references, the owner's rules
and limits, the batch folder's zip, and the tab's words in both languages."""

import json
import os
import zipfile
from pathlib import Path

import gradio as gr
import pytest
from PIL import Image
from starlette.requests import Request

from wan26.batch import Defaults, Problem, RowRecord, RowStatus, make_plan, read_jobs
from wan26.batch.outcome import error_text, status_after
from wan26.errors import ConfigError
from wan26.guard import KeyGuard, LimitReached
from wan26.providers import get_adapter
from wan26.types import ImageRequest, Mode, ProviderName
from wan26.ui import batch_upload
from wan26.ui.batch_folder import new_folder, stage, zip_folder, zip_name
from wan26.ui.batch_keys import BatchRules, Lack, OwnerLimits, cap_message, payers, reserved_usd
from wan26.ui.batch_tab import parsed_cap
from wan26.ui.batch_text import plan_table, problem_line, progress_text, row_notes
from wan26.ui.batch_upload import A_PATH, NOT_A_WEB_URL, UploadError, locate_in, read_batch, uploads
from wan26.ui.i18n import BATCH_MESSAGES, LABELS, TEXTS, Lang, batch_message, t


def png(path: Path, size=(512, 512)) -> Path:
    Image.new("RGB", size, (10, 120, 200)).save(path)
    return path


def visitor(headers: dict | None = None) -> gr.Request:
    raw = [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    return gr.Request(request=Request({"type": "http", "headers": raw, "client": ("127.0.0.9", 1)}))


# ---- references --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "refusal"),
    [
        ("/etc/passwd", A_PATH),
        ("../run.json", A_PATH),
        ("refs/cat.png", A_PATH),
        ("refs\\cat.png", A_PATH),
        ("..", A_PATH),
        ("~/cat.png", A_PATH),
        ("file:///etc/passwd", NOT_A_WEB_URL),
        ("ftp://example.com/cat.png", NOT_A_WEB_URL),
        ("data:image/png;base64,iVBORw0KGgo=", NOT_A_WEB_URL),
        ("http://", NOT_A_WEB_URL),
        ("dog.png", "dog.png was not uploaded with the jobs file (uploaded: cat.png)"),
        ("CAT.png", "CAT.png was not uploaded with the jobs file (uploaded: cat.png)"),
    ],
)
def test_a_reference_is_a_web_url_or_an_uploaded_name_and_nothing_else(reference, refusal, tmp_path):
    locate = locate_in({"cat.png": tmp_path / "upload" / "cat.png"})
    with pytest.raises(ValueError) as refused:
        locate(reference)
    assert str(refused.value) == refusal


def test_an_uploaded_name_is_read_from_its_upload_and_a_url_is_passed_on(tmp_path):
    locate = locate_in({"cat.png": tmp_path / "upload" / "cat.png"})
    assert locate("cat.png") == str(tmp_path / "upload" / "cat.png")
    assert locate("https://example.com/a b.png".replace(" ", "%20")) == "https://example.com/a%20b.png"


def test_a_refused_reference_is_a_problem_of_its_line_and_field_and_no_file_is_opened(tmp_path, monkeypatch):
    jobs = tmp_path / "jobs.jsonl"
    rows = [{"prompt": "a", "mode": "edit", "images": ["cat.png", "/etc/passwd"]}, {"prompt": "b"}]
    jobs.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, *a, **k: opened.append(str(path)) or real_open(path, *a, **k))
    found = read_jobs(jobs, Defaults(), locate_in({"cat.png": png(tmp_path / "cat.png")}))
    assert [str(problem) for problem in found.problems] == [f"line 1 (row 1): image 2: {A_PATH}"]
    assert [row.number for row in found.rows] == [2]
    assert not [path for path in opened if "passwd" in path]


def test_the_command_line_still_reads_a_relative_path_from_the_jobs_files_folder(tmp_path):
    png(tmp_path / "cat.png")
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("prompt,mode,images\nimage 1 as a sketch,edit,cat.png\n")
    [row] = read_jobs(jobs).rows
    assert row.request.images == (str(tmp_path / "cat.png"),) and row.references == ("cat.png",)


# ---- the uploads -------------------------------------------------------------------------------


def test_uploads_take_one_jobs_file_and_images_by_their_names(tmp_path):
    given = uploads(tmp_path / "jobs.CSV", [tmp_path / "a" / "cat.png", tmp_path / "b" / "dog.JPG"])
    assert given.name == "jobs.CSV" and sorted(given.images) == ["cat.png", "dog.JPG"]
    for jobs, images, said in (
        (tmp_path / "jobs.txt", [], "jobs.txt: a jobs file must end in .csv or .jsonl"),
        (tmp_path / "jobs.csv", [tmp_path / "notes.txt"], "notes.txt is not an image file (PNG, JPEG, WEBP or BMP)"),
        (
            tmp_path / "jobs.csv",
            [tmp_path / "a/cat.png", tmp_path / "b/cat.png"],
            "two uploaded images are named cat.png",
        ),
        (
            tmp_path / "jobs.csv",
            [tmp_path / f"{n}.png" for n in range(101)],
            "101 images uploaded; a batch takes at most 100",
        ),
    ):
        with pytest.raises(UploadError, match=said.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
            uploads(jobs, images)


def test_a_file_too_big_not_utf8_or_of_too_many_rows_is_refused_before_its_rows_are_read(tmp_path, monkeypatch):
    big = tmp_path / "big.csv"
    big.write_text("prompt\n" + "x" * batch_upload.MAX_JOBS_BYTES)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("prompt\ncafé\n".encode("latin-1"))
    many = tmp_path / "many.jsonl"
    many.write_text("".join('{"prompt": "p"}\n' for _ in range(4)))
    monkeypatch.setattr(batch_upload, "read_jobs", lambda *_: pytest.fail("the rows were read"))
    for path, said in (
        (big, "the jobs file is 1,000,007 bytes; the app reads at most 1,000,000 (split it)"),
        (latin, "the jobs file is not UTF-8 text: save it as CSV UTF-8 or JSON Lines"),
        (many, "4 rows; the app runs at most 3 rows a batch (split the file)"),
    ):
        with pytest.raises(UploadError) as refused:
            read_batch(uploads(path, []), Defaults(), max_rows=3)
        assert str(refused.value) == said


def test_a_csv_counts_its_rows_not_its_lines(tmp_path):
    jobs = tmp_path / "jobs.csv"
    jobs.write_text('prompt\n"a poem\non two lines"\nsecond\n\n')
    assert len(read_batch(uploads(jobs, []), Defaults(), max_rows=2).rows) == 2


# ---- the owner's rules, keys and limits ---------------------------------------------------------


def test_the_owners_rules_come_from_the_environment_and_a_wrong_value_names_its_variable():
    assert BatchRules.from_env({}) == BatchRules(200, False, None)
    rules = BatchRules.from_env({"SPACE_ID": "a/b", "WAN26_BATCH_MAX_ROWS": "50", "WAN26_BATCH_SERVER_KEY_USD": "2.5"})
    assert rules == BatchRules(50, True, 2.5) and rules.server_key_allowed
    assert not BatchRules.from_env({"SPACE_ID": "a/b"}).server_key_allowed
    for variable, value in (
        ("WAN26_BATCH_MAX_ROWS", "0"),
        ("WAN26_BATCH_MAX_ROWS", "lots"),
        ("WAN26_BATCH_SERVER_KEY_USD", "-1"),
    ):
        with pytest.raises(ConfigError, match=variable):
            BatchRules.from_env({variable: value})


def test_the_visitors_own_key_pays_first_and_the_servers_only_where_allowed():
    space, local = BatchRules(200, True, None), BatchRules(200, False, None)
    keyed = ["dashscope", "runware"]
    own = payers(["runware", "dashscope", "vtrix"], {"runware": "mine"}, visitor(), space, keyed)
    assert own.own == {"runware": "mine"} and own.server == ()
    assert own.missing == {"dashscope": Lack.SPACE, "vtrix": Lack.NONE}
    header = payers(["dashscope"], None, visitor({"X-Dashscope-Key": "from-header"}), space, keyed)
    assert header.own == {"dashscope": "from-header"}
    assert payers(["dashscope", "vtrix"], None, visitor(), local, keyed).server == ("dashscope",)
    assert "mine" not in repr(own)


def test_the_server_keys_cap_counts_rows_under_way_and_settles_at_what_they_cost(tmp_path):
    dashscope = get_adapter("dashscope")
    request = ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", n=2)  # $0.06 at list price
    limits = OwnerLimits(KeyGuard(), 0.10, visitor(), 0)
    first = limits.admit(dashscope, request)
    with pytest.raises(LimitReached) as refused:
        limits.admit(dashscope, request)
    assert str(refused.value) == cap_message(0.10, 0.06, 0.06)
    first.settle(0.03)  # the vendor reported less: room for another
    limits.admit(dashscope, request)
    assert limits.committed_usd == pytest.approx(0.09)
    assert reserved_usd(get_adapter("vtrix"), request) == pytest.approx(0.10)  # no price: the guard's fallback


def test_the_owners_guard_counts_each_row_and_refuses_before_sending(tmp_path):
    guard = KeyGuard(daily_usd=0.05, ledger_path=tmp_path / "ledger.json")
    limits = OwnerLimits(guard, None, visitor(), 0)
    row = limits.admit(get_adapter("dashscope"), ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"))
    with pytest.raises(LimitReached, match="daily spending limit"):
        limits.admit(get_adapter("dashscope"), ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", n=2))
    row.settle(0.03)
    assert guard.remaining_today() == pytest.approx(0.02) and limits.committed_usd == pytest.approx(0.03)


def test_a_row_held_back_by_a_limit_is_not_started_and_says_why():
    refused = LimitReached("This Space's key has reached its daily spending limit of $2.00.")
    assert status_after(refused, accepted=False) is RowStatus.NOT_STARTED
    assert error_text(refused) == "This Space's key has reached its daily spending limit of $2.00."


# ---- the batch folder ----------------------------------------------------------------------------


def test_a_batch_folder_is_new_unguessable_and_holds_copies_of_what_its_rows_name(tmp_path):
    first, second = new_folder(tmp_path), new_folder(tmp_path)
    assert first != second and len(first.name.rsplit("-", 1)[1]) == 32 and zip_name(first) == first.name[:-33]
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "jobs.csv").write_text("prompt,mode,images\nimage 1,edit,cat.png\n")
    given = uploads(upload / "jobs.csv", [png(upload / "cat.png"), png(upload / "dog.png")])
    staged = stage(given, {"cat.png": given.images["cat.png"]}, first)
    assert sorted(path.name for path in (first / "inputs").iterdir()) == ["cat.png", "jobs.csv"]
    assert staged.images == {"cat.png": first / "inputs" / "cat.png"}


def test_the_zip_holds_the_batch_folder_but_its_journal_hidden_folders_and_no_link_out_of_it(tmp_path):
    folder = new_folder(tmp_path)
    (folder / "run-1").mkdir()
    png(folder / "run-1" / "01.png")
    (folder / "run-1" / "run.json").write_text("{}")
    for name in ("index.csv", "index.html", "journal.sqlite", "journal.sqlite-wal", ".journal.lock", ".partial-x"):
        (folder / name).write_text(name)
    (folder / "leak.txt").symlink_to("/etc/hostname")
    (folder / "leak-dir").symlink_to("/etc")
    (folder / ".spare-0123").mkdir()  # the next run's folder, made ahead, an image being written in it
    png(folder / ".spare-0123" / "01.png")
    archive = zip_folder(folder)
    top = zip_name(folder)
    with zipfile.ZipFile(archive) as bundle:
        names = sorted(bundle.namelist())
    assert names == [f"{top}/index.csv", f"{top}/index.html", f"{top}/run-1/01.png", f"{top}/run-1/run.json"]
    assert archive.name == f"{top}.zip" and folder.name not in str(archive)


# ---- the words -----------------------------------------------------------------------------------


def test_each_batch_text_has_the_same_fields_in_both_languages_and_labels_have_no_braces():
    import string

    for key in [key for key in {**LABELS, **TEXTS} if key.startswith(("batch_", "tab_batch", "title_batch"))]:
        words = TEXTS.get(key) or LABELS[key]
        fields = [{n for _, n, _, _ in string.Formatter().parse(text) if n} for text in (words.en, words.zh)]
        assert fields[0] == fields[1], key
        if key in LABELS:
            assert "{" not in words.en + words.zh


def jobs_messages(tmp_path: Path) -> list[str]:
    """Every problem a jobs file and its uploads can have, as the core and the tab write them."""
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_text(
        '{"prompt": 1}\n{"mode": "paint"}\n{"provider": "nobody"}\n{"n": "two"}\n{"watermark": "maybe"}\n'
        '{"images": 3}\nnot json\n[1]\n{"colour": "red"}\n{"prompt": "a", "mode": "edit", "images": ["http://"]}\n'
        '{"prompt": "a", "model": "wan 3"}\n'
    )
    csv = tmp_path / "bad.csv"
    csv.write_text("prompt\na,b\n")
    links = tmp_path / "links.csv"
    links.write_text("prompt,mode,provider,images\na,edit,shortapi,cat.png\n")
    found = [p.message for path in (jsonl, csv, links) for p in read_jobs(path, locate=lambda ref: ref).problems]
    made = []
    for attempt in (
        lambda: uploads(tmp_path / "a.txt", []),
        lambda: uploads(tmp_path / "a.csv", [tmp_path / "n.txt"]),
        lambda: uploads(tmp_path / "a.csv", [tmp_path / "x/c.png", tmp_path / "y/c.png"]),
        lambda: uploads(tmp_path / "a.csv", [tmp_path / f"{n}.png" for n in range(101)]),
    ):
        with pytest.raises(UploadError) as refused:
            attempt()
        made.append(str(refused.value))
    empty = tmp_path / "empty.csv"
    empty.write_text("prompt\n")
    from wan26.batch import JobsFileError

    with pytest.raises(JobsFileError) as no_rows:
        read_jobs(empty)
    return (
        found
        + made
        + [
            str(no_rows.value),
            "the jobs file is 1,200,000 bytes; the app reads at most 1,000,000 (split it)",
            "the jobs file is not UTF-8 text: save it as CSV UTF-8 or JSON Lines",
            "250 rows; the app runs at most 200 rows a batch (split the file)",
            A_PATH,
            NOT_A_WEB_URL,
            batch_upload.not_uploaded("cat.png", {}),
            batch_upload.not_uploaded("cat.png", {"dog.png": Path("dog.png")}),
            cap_message(1.0, 0.06, 0.98),
            "not sent: still rate limited after 10 tries",
            "unexpected KeyError: 'x'",
        ]
    )


def test_every_problem_of_a_jobs_file_is_said_in_chinese_and_each_pattern_is_used(tmp_path):
    messages = jobs_messages(tmp_path)
    untranslated = [message for message in messages if batch_message(message, Lang.ZH) == message]
    assert untranslated == []
    unused = [pattern.pattern for pattern, _ in BATCH_MESSAGES if not any(pattern.fullmatch(m) for m in messages)]
    assert unused == []


def test_a_rows_provider_error_keeps_the_vendors_words_and_code_and_says_ours_in_chinese():
    error = (
        "Rate limited (dashscope) [Throttling] (HTTP 429): Requests rate limit exceeded; "
        "Hint: Requests rose too quickly. Slow down and try again.; Request id: req-42"
    )
    said = batch_message(error, Lang.ZH)
    assert (
        said.startswith("请求过于频繁（dashscope）[Throttling] (HTTP 429)") and "Requests rate limit exceeded" in said
    )
    assert "提示：请求增长过快。请放慢速度后重试。" in said and "请求 ID：req-42" in said
    assert batch_message(error, Lang.EN) == error


def test_the_table_and_the_progress_in_both_languages(tmp_path):
    jobs_path = tmp_path / "jobs.csv"
    jobs_path.write_text("prompt,provider,n\na red fox,dashscope,2\nan owl,nobody,1\n")
    found = read_jobs(jobs_path, Defaults(provider=ProviderName.DASHSCOPE))
    plan = make_plan(found)
    english, chinese = plan_table(found, plan, Lang.EN), plan_table(found, plan, Lang.ZH)
    assert english["headers"][:4] == ["Row", "Line", "Vendor", "Mode"] and chinese["headers"][:2] == ["序号", "行号"]
    assert english["data"][0] == [
        "1",
        "2",
        "Alibaba Cloud DashScope",
        "text to image",
        "a red fox",
        "2",
        "$0.060",
        "✅",
    ]
    assert english["data"][1][-1].startswith("⛔ Vendor: 'nobody' is not a vendor")
    assert chinese["data"][1][-1].startswith("⛔ 服务商：'nobody' 不是服务商")
    assert problem_line(Problem(3, "image 2", A_PATH, 2), Lang.ZH).startswith("第 3 行（序号 2） · 图2：是文件路径")
    from wan26.batch import Tally

    tally = Tally(12, 6, 1, 0, 0, 3, 2, 9, 0.21, 0.27, 3.0, 100.0)
    assert progress_text(tally, Lang.EN) == (
        "⏳ **7 / 12 rows** ▰▰▰▰▰▰▰▰▰▱▱▱▱▱▱▱ 6 done (1 failed, 2 running) · 9 image(s) · $0.210 spent"
        " (+$0.060 under way) · about 1m40s left"
    )
    assert progress_text(tally, Lang.ZH).startswith("⏳ **7 / 12 行**") and "失败 1、运行中 2" in progress_text(
        tally, Lang.ZH
    )


def test_a_rows_note_names_it_and_hides_the_servers_folder(tmp_path):
    failed = RowRecord(3, 4, "h", "dashscope", "text_to_image", RowStatus.FAILED, error=f"saved in {tmp_path}/x.")
    running = RowRecord(4, 5, "h", "runware", "text_to_image", RowStatus.ACCEPTED, task_id="t-1")
    assert row_notes([failed, running], Lang.EN, tmp_path) == [
        "- ⚠️ Row 3 (line 4, Alibaba Cloud DashScope) failed (not billed): saved in the server's output folder/x."
    ]
    assert "task `t-1` may still be running" in row_notes([running], Lang.EN, tmp_path, ended=True)[0]
    assert t("batch_caption_n", Lang.ZH, row=3, index=2) == "序号 3 · 2"


def test_a_live_batch_registry_holds_one_batch_a_session_and_at_most_its_most():
    from wan26.ui.batch_live import BusyError, LiveBatches

    live = LiveBatches(most=1)

    class Started:
        id, ended = "batch-20261130-101500-" + "a" * 32, False

        def start(self, on_end):
            self.on_end = on_end

    live.claim("a")
    with pytest.raises(BusyError, match="session"):
        live.claim("a")  # a second click while the first batch is being started
    with pytest.raises(BusyError, match="app"):
        live.claim("b")
    batch = Started()
    live.start("a", batch)  # type: ignore[arg-type]
    live.release("a")  # a batch started keeps its place
    assert live.of("a") is batch
    batch.ended = True
    batch.on_end()
    assert live.of("a") is None
    live.claim("b")
    live.release("b")
    live.claim("b")
    with pytest.raises(BusyError):
        live.claim("")


def test_the_view_shows_every_image_saved_in_row_order_and_says_when_it_stops(tmp_path):
    import asyncio
    from types import SimpleNamespace

    from wan26.batch import RowChanged, Tally
    from wan26.ui.batch_view import BatchView

    for name in ("r1.png", "r2a.png", "r2b.png", "r3.png"):
        png(tmp_path / name, (64, 64))
    records = [RowRecord(n, n + 1, "h", "dashscope", "text_to_image") for n in (1, 2, 3)]
    live = SimpleNamespace(folder=tmp_path, stopping=False, records=records)
    view = BatchView(live, Lang.EN)  # type: ignore[arg-type]
    tally = Tally(3, 1, 1, 0, 0, 0, 1, 3, 0.09, 0.12, None, None)
    ended = [
        RowRecord(2, 3, "h", "dashscope", "text_to_image", RowStatus.DONE, files=("r2a.png", "r2b.png")),
        RowRecord(3, 4, "h", "dashscope", "text_to_image", RowStatus.UNKNOWN, files=("r3.png",), error="cut"),
        RowRecord(1, 2, "h", "dashscope", "text_to_image", RowStatus.SENDING),
    ]
    for record in ended:
        view.add(RowChanged(record, tally))
    captions = [caption for _, caption in asyncio.run(view.gallery())]
    assert captions == ["row 2 · 1", "row 2 · 2", "row 3"]  # the unknown row's saved image too
    assert "⚠️ Row 3 (line 4, Alibaba Cloud DashScope): outcome unknown" in view.status() and not view.changed
    live.stopping = True
    assert view.changed and "Stopping" in view.status()


@pytest.mark.parametrize(
    ("typed", "cap"), [("", None), ("  ", None), ("0.5", 0.5), ("$2", 2.0), (" 10 ", 10.0), ("0", 0.0), (3, 3.0)]
)
def test_most_to_spend_is_empty_for_no_cap_or_an_amount(typed, cap):
    assert parsed_cap(typed) == cap


@pytest.mark.parametrize("typed", ["-1", "ten", "nan", "inf", "1e999", True, [1]])
def test_most_to_spend_refuses_what_is_no_amount(typed):
    with pytest.raises(ValueError):
        parsed_cap(typed)
