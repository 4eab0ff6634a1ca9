"""The History data layer: past runs listed newest first a page at a time, loaded, deleted and
zipped, from real run folders; and no run id from a visitor reaches anything outside the root."""

import asyncio
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from wan26 import AsyncClient, ImageRequest, Mode, Size
from wan26.history import delete_run, list_runs, load_run, originals_zip, run_id_is_valid
from wan26.storage import RunFolder
from wan26.types import ImageSegment, TextSegment

MONDAY = datetime(2026, 11, 23, 9, 30, 0)


def picture(width=32, height=16, kind="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, kind)
    return buffer.getvalue()


def record_for(mode, images, **fields):
    """A run.json shaped like the one wan26._run.record.sidecar() writes."""
    return {
        "status": "succeeded",
        "mode": mode,
        "provider": "dashscope",
        "model": "wan2.6-t2i",
        "flow": "direct",
        "prompt": "a lighthouse at dawn",
        "negative_prompt": "fog",
        "parameters": {"size": "1280x1280", "seed": 42, "watermark": False, "n": 1, "prompt_extend": True},
        "seed": 42,
        "size": {"requested": "1280x1280", "actual": "1280*1280"},
        "cost_usd": 0.03,
        "timings": {"started_at": "2026-11-23T08:30:00.123+00:00", "elapsed_s": 4.2},
        "reference_images": [{"label": "image 1", "mime": "image/png", "width": 400, "height": 300}],
        "images": [
            {"index": i, "seed": 41 + i, "file": path.name, "width": w, "height": h, "source_url": f"http://x/{i}"}
            for path, w, h in images
            if (i := int(path.stem))
        ],
        "text": "",
        "segments": [],
        "notes": ["a note"],
        "error": None,
    } | fields


def make_run(root, when=MONDAY, mode="text_to_image", images=1, record=True, **fields):
    """A real run folder as RunFolder writes it; the folder's name is the run id."""
    folder = RunFolder(root, mode, when)
    saved = [folder.save_image(i, picture(32 + i, 16)) for i in range(1, images + 1)]
    if record:
        folder.write_sidecar(record_for(mode, saved, **fields))
    return folder.path.name


def runs_at(root, count, mode="text_to_image"):
    """`count` runs a minute apart, oldest first."""
    return [make_run(root, MONDAY + timedelta(minutes=minute), mode) for minute in range(count)]


def shown_ids(page):
    return [run.run_id for run in page.runs]


# ---- listing ------------------------------------------------------------------------------


def test_runs_are_listed_newest_first_a_page_at_a_time(tmp_path):
    oldest_first = runs_at(tmp_path, 5)
    newest_first = oldest_first[::-1]

    pages = [list_runs(tmp_path, page=number, per_page=2) for number in (1, 2, 3)]

    assert [shown_ids(page) for page in pages] == [newest_first[:2], newest_first[2:4], newest_first[4:]]
    assert [(page.page, page.pages, page.total) for page in pages] == [(1, 3, 5), (2, 3, 5), (3, 3, 5)]


def test_runs_of_every_mode_are_listed_together_by_time(tmp_path):
    modes = [mode.value for mode in Mode]
    made = [make_run(tmp_path, MONDAY + timedelta(hours=hour), mode) for hour, mode in enumerate(modes)]

    page = list_runs(tmp_path)

    assert shown_ids(page) == made[::-1] and [run.mode for run in page.runs] == list(Mode)[::-1]


@pytest.mark.parametrize(("asked", "shown"), [(0, 1), (-3, 1), (99, 2)])
def test_a_page_out_of_range_shows_the_nearest_page(tmp_path, asked, shown):
    runs_at(tmp_path, 3)
    assert list_runs(tmp_path, page=asked, per_page=2).page == shown


def test_an_empty_or_missing_output_folder_is_one_empty_page(tmp_path):
    for root in (tmp_path, tmp_path / "not-yet"):
        page = list_runs(root)
        assert (page.runs, page.page, page.pages, page.total) == ((), 1, 1, 0)


def test_per_page_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="per_page"):
        list_runs(tmp_path, per_page=0)


def test_only_the_given_runs_are_listed_and_bad_ids_are_ignored(tmp_path):
    first, second, third = runs_at(tmp_path, 3)
    missing = "20261123-093000-edit-" + "0" * 32
    asked = [first, third, third, "../" + second, str(tmp_path / second), missing, None, 7, ["x"]]

    page = list_runs(tmp_path, run_ids=asked)

    assert shown_ids(page) == [third, first] and page.total == 2


def test_files_and_folders_that_are_not_runs_are_not_listed(tmp_path):
    run = make_run(tmp_path)
    (tmp_path / ".server-key-spend.json").write_text("{}")
    (tmp_path / "notes").mkdir()
    (tmp_path / "20261123-093000-edit-0123456789abcdef0123456789ABCDEF").mkdir()  # upper-case hex
    (tmp_path / ("20261123-093001-edit-" + "a" * 32)).write_text("a file, not a folder")

    assert shown_ids(list_runs(tmp_path)) == [run]


def test_a_run_folder_holding_nothing_is_not_shown(tmp_path):
    run = make_run(tmp_path)
    empty = RunFolder(tmp_path, "edit", MONDAY + timedelta(minutes=1)).path
    empty.mkdir()
    (empty / ".partial-abc").write_bytes(b"cut short by a crash")

    assert shown_ids(list_runs(tmp_path)) == [run] and load_run(tmp_path, empty.name) is None


def test_a_page_reads_only_its_own_run_records(tmp_path, monkeypatch):
    runs_at(tmp_path, 30)
    reads = []
    real_load = json.load
    monkeypatch.setattr(json, "load", lambda file: reads.append(file.name) or real_load(file))

    list_runs(tmp_path, page=2, per_page=12)

    assert len(reads) == 12


# ---- one run ------------------------------------------------------------------------------


def test_a_run_gives_everything_a_card_and_reuse_need(tmp_path):
    run_id = make_run(tmp_path, mode="text_to_image", images=2)

    run = load_run(tmp_path, run_id)

    assert (run.run_id, run.folder, run.mode, run.status) == (
        run_id,
        tmp_path / run_id,
        Mode.TEXT_TO_IMAGE,
        "succeeded",
    )
    assert (run.provider, run.model, run.flow) == ("dashscope", "wan2.6-t2i", "direct")
    assert (run.prompt, run.negative_prompt, run.seed, run.size, run.cost_usd) == (
        "a lighthouse at dawn",
        "fog",
        42,
        "1280*1280",
        0.03,
    )
    assert run.started_at == datetime(2026, 11, 23, 8, 30, 0, 123000, tzinfo=UTC)
    assert run.parameters["n"] == 1 and run.reference_images[0]["label"] == "image 1"
    assert [(i.index, i.path.name, i.width, i.height, i.seed) for i in run.images] == [
        (1, "01.png", 33, 16, 42),
        (2, "02.png", 34, 16, 43),
    ]
    assert run.notes == ("a note",) and run.error is None


def test_without_a_start_time_the_folder_name_gives_it_in_local_time(tmp_path):
    run_id = make_run(tmp_path, timings={})
    assert load_run(tmp_path, run_id).started_at == MONDAY.astimezone()


@pytest.mark.parametrize("damage", ["delete", b"{ not json", b"[1, 2]", b"\xff\xfe\x00", b""])
def test_a_run_without_a_readable_record_still_shows_its_images(tmp_path, damage):
    run_id = make_run(tmp_path, mode="edit", images=2)
    record = tmp_path / run_id / "run.json"
    record.unlink() if damage == "delete" else record.write_bytes(damage)

    [run] = list_runs(tmp_path).runs

    assert (run.run_id, run.mode, run.status, run.prompt) == (run_id, Mode.EDIT, "unknown", None)
    assert run.started_at == MONDAY.astimezone()
    assert [(i.path.name, i.width, i.height, i.seed) for i in run.images] == [
        ("01.png", 33, 16, None),
        ("02.png", 34, 16, None),
    ]


def test_images_are_the_files_present_in_index_order(tmp_path):
    folder = RunFolder(tmp_path, "text_to_image", MONDAY)
    first = folder.save_image(1, picture(kind="JPEG"))
    third = folder.save_image(3, picture())  # number 2 failed to download
    folder.write_sidecar(record_for("text_to_image", [first, third]))
    (folder.path / "10.webp").write_bytes(picture(8, 8, "WEBP"))  # saved, then a crash before run.json

    run = load_run(tmp_path, folder.path.name)

    assert [(i.index, i.path.name, i.seed) for i in run.images] == [
        (1, "01.jpg", 42),
        (3, "03.png", 44),
        (10, "10.webp", None),
    ]
    assert (run.images[2].width, run.images[2].height) == (8, 8)  # read from the file itself


def test_a_failed_run_with_only_its_record_is_shown_with_its_error(tmp_path):
    error = {"type": "ContentModerated", "message": "The prompt was refused.", "code": "DataInspectionFailed"}
    run_id = make_run(tmp_path, images=0, status="failed", error=error, cost_usd=None)

    run = load_run(tmp_path, run_id)

    assert (run.status, run.error, run.images, run.cost_usd) == ("failed", "The prompt was refused.", (), None)


def test_values_of_the_wrong_type_in_a_record_are_left_out(tmp_path):
    wrong = {"prompt": 3, "seed": "42", "cost_usd": float("nan"), "parameters": [], "size": "1K", "notes": "x"}
    run_id = make_run(tmp_path, **wrong)

    run = load_run(tmp_path, run_id)

    assert (run.prompt, run.seed, run.cost_usd, run.parameters, run.size, run.notes) == (None, None, None, {}, None, ())


# ---- ids from outside ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", [mode.value for mode in Mode])
def test_every_mode_makes_a_valid_run_id(tmp_path, mode):
    assert run_id_is_valid(RunFolder(tmp_path, mode).path.name)


@pytest.mark.parametrize(
    "run_id",
    [
        "..",
        "../x",
        "/etc/passwd",
        "20261123-093000-edit-" + "a" * 31,
        "20261123-093000-edit-" + "a" * 32 + "\n",
        "20261123-093000-edit-" + "A" * 32,
        "20261123-093000-video-" + "a" * 32,
        "20261399-093000-edit-" + "a" * 32,  # no 99th of the 13th month
        "٢٠٢٦١١٢٣-093000-edit-" + "a" * 32,  # Arabic-Indic digits
        "x/20261123-093000-edit-" + "a" * 32,
        None,
        20261123,
    ],
)
def test_a_malformed_run_id_is_not_valid(run_id):
    assert not run_id_is_valid(run_id)


def outside_run(tmp_path):
    """A real run folder outside the output root, and the root."""
    root, elsewhere = tmp_path / "outputs", tmp_path / "private"
    root.mkdir()
    return root, elsewhere / make_run(elsewhere)


def test_an_id_that_climbs_out_of_the_root_reads_and_deletes_nothing(tmp_path):
    root, secret = outside_run(tmp_path)
    for run_id in (f"../private/{secret.name}", str(secret), f"{secret.name}/..", "../private"):
        assert load_run(root, run_id) is None
        assert originals_zip(root, run_id) is None
        assert delete_run(root, run_id) is False
    assert (secret / "run.json").is_file() and (secret / "01.png").is_file()


def test_a_symlinked_run_folder_leading_out_of_the_root_is_not_followed(tmp_path):
    root, secret = outside_run(tmp_path)
    (root / secret.name).symlink_to(secret, target_is_directory=True)

    assert list_runs(root).total == 0 and list_runs(root, run_ids=[secret.name]).total == 0
    assert load_run(root, secret.name) is None and originals_zip(root, secret.name) is None
    assert delete_run(root, secret.name) is False
    assert (root / secret.name).is_symlink() and (secret / "run.json").is_file()


def test_symlinked_files_inside_a_run_are_neither_shown_nor_zipped(tmp_path):
    root, secret = outside_run(tmp_path)
    run_id = make_run(root, record=False)
    (root / run_id / "02.png").symlink_to(secret / "01.png")
    (root / run_id / "run.json").symlink_to(secret / "run.json")

    run = load_run(root, run_id)

    assert [image.path.name for image in run.images] == ["01.png"] and run.status == "unknown"
    assert zipfile.ZipFile(io.BytesIO(originals_zip(root, run_id))).namelist() == [f"{run_id}/01.png"]


def test_file_names_written_in_a_record_are_never_opened(tmp_path):
    root, secret = outside_run(tmp_path)
    escape = {"index": 2, "file": f"../../private/{secret.name}/01.png", "width": 1, "height": 1}
    run_id = make_run(root)
    record = json.loads((root / run_id / "run.json").read_text())
    (root / run_id / "run.json").write_text(json.dumps(record | {"images": [*record["images"], escape]}))

    assert [image.path.name for image in load_run(root, run_id).images] == ["01.png"]


def test_a_valid_looking_id_that_does_not_exist_reads_and_deletes_nothing(tmp_path):
    kept = make_run(tmp_path)
    missing = "20261123-093000-text_to_image-" + "f" * 32

    assert load_run(tmp_path, missing) is None and originals_zip(tmp_path, missing) is None
    assert delete_run(tmp_path, missing) is False and load_run(tmp_path, kept) is not None


# ---- deleting and downloading -------------------------------------------------------------


def test_deleting_a_run_removes_that_run_only(tmp_path):
    first, second, third = runs_at(tmp_path, 3)
    (tmp_path / ".server-key-spend.json").write_text("{}")

    assert delete_run(tmp_path, second) is True

    assert not (tmp_path / second).exists() and shown_ids(list_runs(tmp_path)) == [third, first]
    assert (tmp_path / ".server-key-spend.json").is_file()
    assert delete_run(tmp_path, second) is False  # already gone


def test_the_zip_holds_the_original_files_byte_for_byte(tmp_path):
    folder = RunFolder(tmp_path, "edit", MONDAY)
    jpeg, png = picture(kind="JPEG"), picture(64, 48)
    saved = [folder.save_image(1, jpeg), folder.save_image(2, png)]
    folder.write_sidecar(record_for("edit", saved))
    (folder.path / ".partial-x1").write_bytes(b"an unfinished write")
    run_id = folder.path.name

    archive = zipfile.ZipFile(io.BytesIO(originals_zip(tmp_path, run_id)))

    assert archive.namelist() == [f"{run_id}/01.jpg", f"{run_id}/02.png", f"{run_id}/run.json"]
    assert archive.read(f"{run_id}/01.jpg") == jpeg and archive.read(f"{run_id}/02.png") == png
    assert archive.read(f"{run_id}/run.json") == (folder.path / "run.json").read_bytes()
    assert archive.testzip() is None


# ---- runs the real client saved -----------------------------------------------------------


def run_client(dashscope_fake, outputs, request):
    async def go():
        settings = {"api_key": dashscope_fake.api_key, "base_url": dashscope_fake.base_url, "output_dir": outputs}
        async with AsyncClient(**settings) as client:
            return await client.generate(request)

    return asyncio.run(go())


def test_a_run_saved_by_the_client_reads_back_as_it_was(dashscope_fake, tmp_path):
    request = ImageRequest(Mode.TEXT_TO_IMAGE, "a lighthouse", negative_prompt="fog", size=Size(1280, 1280), n=2)
    result = run_client(dashscope_fake, tmp_path, request)

    [run] = list_runs(tmp_path).runs

    assert run.run_id == result.run_dir.name and run.mode is Mode.TEXT_TO_IMAGE and run.status == "succeeded"
    assert (run.prompt, run.negative_prompt, run.provider, run.model) == (
        "a lighthouse",
        "fog",
        result.provider,
        result.model,
    )
    assert (run.seed, run.size, run.cost_usd) == (result.seed, result.size, result.cost_usd)
    assert run.images == result.images and run.parameters["n"] == 2


def test_an_interleaved_run_reads_back_with_its_text_in_order(dashscope_fake, tmp_path):
    result = run_client(dashscope_fake, tmp_path, ImageRequest(Mode.INTERLEAVE, "a recipe", max_images=2))

    run = load_run(tmp_path, result.run_dir.name)

    assert run.mode is Mode.INTERLEAVE and run.text == result.text and run.text
    assert run.segments == result.segments
    assert any(isinstance(s, ImageSegment) for s in run.segments) and isinstance(run.segments[0], TextSegment)
    assert run.parameters["max_images"] == 2
