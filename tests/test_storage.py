"""Saving: provider bytes unchanged, atomic writes, and a clear refusal of non-image downloads."""

import io
import os
import shutil
import subprocess
import sys
import threading
import time
import zlib
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from wan26._spare_folders import MAX_FOLDERS, SpareFolders
from wan26.history import list_runs
from wan26.storage import SPARES, NotAnImage, RunFolder, inspect_image, made_spare, remove_stale_partials


def png(width=32, height=16):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, "PNG")
    return buffer.getvalue()


def test_saved_image_is_byte_for_byte_what_was_downloaded(tmp_path):
    data = png()
    path, width, height = RunFolder(tmp_path, "edit").save_image(3, data)
    assert path.name == "03.png" and path.read_bytes() == data and (width, height) == (32, 16)


def test_two_runs_in_the_same_second_get_different_folders(tmp_path):
    now = datetime(2026, 11, 21, 12, 0, 0)
    first, second = RunFolder(tmp_path, "edit", now), RunFolder(tmp_path, "edit", now)
    assert first.path != second.path and first.path.name.startswith("20261121-120000-edit-")


def test_a_reopened_run_folder_removed_meanwhile_is_made_again_for_the_image(tmp_path):
    """A stopped run's task fetched into its folder while History's Delete removes it: the image
    the task was paid for is saved all the same."""
    earlier = RunFolder(tmp_path, "text_to_image")
    earlier.save_image(1, png())
    reopened = RunFolder.reopened(earlier.path)
    shutil.rmtree(earlier.path)
    path, _, _ = reopened.save_image(2, png())
    assert path == earlier.path / "02.png" and path.read_bytes() == png()


def test_nothing_is_created_until_something_is_written(tmp_path):
    folder = RunFolder(tmp_path / "outputs", "edit")
    assert not folder.path.exists()
    folder.write_sidecar({"prompt": "猫"})
    assert "猫" in (folder.path / "run.json").read_text(encoding="utf-8")


def test_run_json_is_the_file_made_with_the_folder_and_nothing_else_is_left(tmp_path):
    folder = RunFolder(tmp_path, "edit")
    folder.save_image(1, png())
    folder.save_image(2, png())
    [made_ahead] = folder.path.glob(".partial-*")  # one, made with the folder
    inode = made_ahead.stat().st_ino
    folder.write_sidecar({"prompt": "a fox"})
    assert sorted(path.name for path in folder.path.iterdir()) == ["01.png", "02.png", "run.json"]
    assert (folder.path / "run.json").stat().st_ino == inode
    assert '"prompt": "a fox"' in (folder.path / "run.json").read_text(encoding="utf-8")


def test_no_record_file_is_made_once_the_record_is_written(tmp_path, monkeypatch):
    """A run stopped while its first image is being saved writes its record (on the event loop)
    meanwhile: the save's thread must not then leave an empty file beside it."""
    folder = RunFolder(tmp_path, "edit")
    real_make = RunFolder._make

    def made_then_stopped(self):
        real_make(self)
        if not self._record_written:  # stopped just after the folder was made, before its record file
            self.write_sidecar({"status": "stopped"})

    monkeypatch.setattr(RunFolder, "_make", made_then_stopped)
    folder.save_image(1, png())
    assert sorted(path.name for path in folder.path.iterdir()) == ["01.png", "run.json"]


def test_a_record_written_while_the_first_image_is_saved_leaves_one_file(tmp_path):
    """The race itself, with real threads: whichever of the two comes first, run.json is the only
    file beside the image."""
    for attempt in range(60):
        folder = RunFolder(tmp_path, f"edit{attempt}")
        saving = threading.Thread(target=folder.save_image, args=(1, png()))
        saving.start()
        folder.write_sidecar({"status": "stopped"})
        saving.join()
        assert sorted(path.name for path in folder.path.iterdir()) == ["01.png", "run.json"]
    SPARES.discard()
    assert not list(tmp_path.rglob(".partial-*"))


def test_a_record_that_cannot_be_written_leaves_no_file_made_ahead(tmp_path, monkeypatch):
    folder = RunFolder(tmp_path, "edit")
    folder.save_image(1, png())

    def full(descriptor, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("wan26.storage.os.write", full)
    with pytest.raises(OSError, match="No space"):
        folder.write_sidecar({"prompt": "a fox"})
    assert [path.name for path in folder.path.iterdir()] == ["01.png"]


@pytest.mark.parametrize(
    "data", [b"<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>", b"", b"\x89PNG\r\n\x1a\nbroken"]
)
def test_an_expired_url_error_page_is_not_saved_as_an_image(data):
    with pytest.raises(NotAnImage):
        inspect_image(data)


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    folder = RunFolder(tmp_path, "edit")

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr("wan26.storage.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        folder.save_image(1, png())
    monkeypatch.undo()
    folder.write_sidecar({"status": "failed"})  # as the run does next: its record fills the file made for it
    SPARES.discard()  # as at exit
    assert [path.name for path in folder.path.iterdir()] == ["run.json"]
    assert not list(tmp_path.rglob(".partial-*"))


@pytest.mark.parametrize("image", [1, 2, "in a folder made ahead"])
def test_a_disk_full_during_a_write_leaves_no_partial_file(tmp_path, monkeypatch, image):
    folder = RunFolder(tmp_path, "edit")
    if image == 2:
        folder.save_image(1, png())
    elif image != 1:  # a later run's first image, in the folder the run before had made ahead
        earlier = RunFolder(tmp_path, "edit")
        earlier.save_image(1, png())
        earlier.write_sidecar({"status": "succeeded"})
        SPARES.settled()
        image = 1

    def full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("wan26.storage.os.fsync", full)
    with pytest.raises(OSError, match="No space left"):
        folder.save_image(image, png())
    folder.write_sidecar({"status": "failed"})  # as the run does next
    SPARES.discard()  # as at exit
    assert not list(tmp_path.rglob(".partial-*")) and not list(tmp_path.glob(".spare-*"))


def test_the_folder_and_the_record_file_are_made_before_the_first_images_fsync(tmp_path, monkeypatch):
    """On ext4 an fsync commits every change before it: the folder and run.json's file go to disk
    with the first image's commit rather than costing one of their own after it."""
    folder, seen = RunFolder(tmp_path, "edit"), []
    real_fsync = os.fsync

    def fsync(descriptor):
        seen.append(sorted(path.name[:9] for path in folder.path.iterdir()) if folder.path.is_dir() else None)
        real_fsync(descriptor)

    monkeypatch.setattr("wan26.storage.os.fsync", fsync)
    first, _, _ = folder.save_image(1, png())
    second, _, _ = folder.save_image(2, png(8, 8))
    assert seen == [[".partial-", ".partial-"], [".partial-", ".partial-", "01.png"]]  # the record's, the image's
    record_file, *images = sorted(folder.path.iterdir())
    assert images == [first, second] and first.read_bytes() == png()
    assert record_file.name.startswith(".partial-") and record_file.stat().st_size == 0
    SPARES.discard()  # the next run's folder, made ahead
    assert sorted(tmp_path.iterdir()) == [folder.path]
    folder.write_sidecar({"status": "succeeded"})
    assert sorted(path.name for path in folder.path.iterdir()) == ["01.png", "02.png", "run.json"]


def test_an_output_folder_that_does_not_exist_yet_is_made_with_the_first_image(tmp_path):
    folder = RunFolder(tmp_path / "new" / "outputs", "edit")
    folder.check_writable()
    path, _, _ = folder.save_image(1, png())
    assert path.read_bytes() == png() and path.parent == folder.path


@pytest.mark.parametrize(("width", "height"), [(32, 16), (1, 4096), (2048, 2048)])
def test_a_pngs_size_is_read_as_pillow_reads_it(width, height):
    data = png(width, height)
    assert inspect_image(data) == (".png", width, height)
    with Image.open(io.BytesIO(data)) as opened:
        assert opened.size == (width, height)


def test_a_png_whose_header_does_not_check_out_is_not_saved_as_an_image():
    data = bytearray(png())
    data[17] ^= 0xFF  # the width's bytes changed under the header's CRC
    with pytest.raises(NotAnImage):
        inspect_image(bytes(data))


def test_a_png_claiming_more_pixels_than_pillow_opens_is_not_measured_from_its_header():
    data = bytearray(png())
    data[16:24] = (60000).to_bytes(4, "big") * 2  # 3.6 gigapixels claimed
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")  # with a CRC that checks out
    with pytest.raises((NotAnImage, Image.DecompressionBombError)):
        inspect_image(bytes(data))


def test_the_writable_check_stops_when_no_folder_above_exists(monkeypatch):
    """A relative output folder whose every parent is gone (a removed working folder, a stale network
    mount) is refused, rather than searched for forever: the parent of "." is "." itself."""
    monkeypatch.setattr("wan26.storage._mode", lambda path: None)  # nothing exists
    with pytest.raises(FileNotFoundError):
        RunFolder(Path("outputs"), "edit").check_writable()


def test_a_half_written_file_a_crash_left_is_removed_once_a_day_old(tmp_path):
    old, young = tmp_path / ".partial-0123456789abcdef", tmp_path / ".partial-fedcba9876543210"
    run = tmp_path / "20261130-120000-text_to_image-abc"
    for path in (old, young):
        path.write_bytes(b"half an image")
    run.mkdir()
    (run / ".partial-1111111111111111").write_bytes(b"")  # run.json's file, made with the folder
    (run / ".partial-2222222222222222").write_bytes(b"")
    (run / "01.png").write_bytes(png())
    (tmp_path / "notes.partial-keep").write_bytes(b"not ours")
    two_days_ago = datetime.now().timestamp() - 2 * 86400
    for path in (old, run / ".partial-1111111111111111", run / "01.png"):
        os.utime(path, (two_days_ago, two_days_ago))
    assert remove_stale_partials(tmp_path) == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        ".partial-fedcba9876543210",  # a day younger: maybe a save still going on elsewhere
        "20261130-120000-text_to_image-abc",
        "notes.partial-keep",
    ]
    assert sorted(path.name for path in run.iterdir()) == [".partial-2222222222222222", "01.png"]
    assert remove_stale_partials(tmp_path / "not-made-yet") == 0


def test_a_run_folder_a_crash_left_holding_only_temporary_files_is_removed_with_them(tmp_path):
    killed, saving = tmp_path / "20261130-120000-edit-aaa", tmp_path / "20261201-120000-edit-bbb"
    for folder in (killed, saving, tmp_path / "mine"):
        folder.mkdir()
    for path in (killed / ".partial-1111111111111111", killed / ".partial-2222222222222222"):
        path.write_bytes(b"")  # run.json's file and half the first image, from a run killed a day ago
        os.utime(path, (time.time() - 2 * 86400,) * 2)
    (saving / ".partial-3333333333333333").write_bytes(b"")  # a run saving its first image right now
    assert remove_stale_partials(tmp_path) == 2
    # the run still saving stays, and so does an empty folder the user made
    assert sorted(path.name for path in tmp_path.iterdir()) == [saving.name, "mine"]


# ---- run folders made ahead (wan26/_spare_folders.py) -------------------------------------------------


def _spares(root):
    return [path for path in root.iterdir() if path.name.startswith(".spare-")]


def _run(root, label="text_to_image"):
    folder = RunFolder(root, label)
    folder.save_image(1, png())
    folder.write_sidecar({"mode": label})
    return folder


def test_after_a_run_the_next_runs_folder_is_made_ahead_and_the_next_run_takes_it(tmp_path):
    """The next run's first save makes one new file: its folder and run.json's file already exist."""
    _run(tmp_path)
    SPARES.settled()
    [spare] = _spares(tmp_path)
    [record_file] = spare.iterdir()
    folder_inode, record_inode = spare.stat().st_ino, record_file.stat().st_ino
    second = _run(tmp_path)
    assert second.path.stat().st_ino == folder_inode and (second.path / "run.json").stat().st_ino == record_inode
    assert sorted(path.name for path in second.path.iterdir()) == ["01.png", "run.json"]
    assert (second.path / "01.png").read_bytes() == png()
    SPARES.settled()
    assert len(_spares(tmp_path)) == 1 and not spare.exists()  # a new one for the run after
    assert list_runs(tmp_path).total == 2  # History lists the runs, not the spare


def test_a_folder_made_ahead_and_removed_meanwhile_does_not_stop_a_run_saving(tmp_path):
    """Another process's sweep, or a user clearing the folder, took the spare: the run makes its own."""
    _run(tmp_path)
    SPARES.settled()
    for spare in _spares(tmp_path):
        shutil.rmtree(spare)
    second = _run(tmp_path)
    assert sorted(path.name for path in second.path.iterdir()) == ["01.png", "run.json"]


def test_a_folder_made_ahead_over_an_hour_ago_is_removed_rather_than_used(tmp_path, monkeypatch):
    """A day old, another process's sweep may remove it while a run writes into it: an hour is the limit."""
    now = [1000.0]
    spares = SpareFolders(made_spare, clock=lambda: now[0])
    monkeypatch.setattr("wan26.storage.SPARES", spares)
    _run(tmp_path)
    spares.settled()
    [old] = _spares(tmp_path)
    (old / "marker").write_bytes(b"")  # (kept there: the old folder is then left, not removed)
    now[0] += 3601
    second = _run(tmp_path)
    spares.settled()
    assert sorted(path.name for path in second.path.iterdir()) == ["01.png", "run.json"]  # a folder of its own
    assert [path.name for path in old.iterdir()] == ["marker"]  # the old one's file removed
    spares.discard()


def test_folders_made_ahead_are_kept_in_the_last_few_output_folders_only(tmp_path):
    """Each batch and comparison saves into a folder of its own: an old one keeps no spare."""
    roots = [tmp_path / f"batch-{index}" for index in range(MAX_FOLDERS + 1)]
    for root in roots:
        _run(root)
        SPARES.settled()
    assert [len(_spares(root)) for root in roots] == [0] + [1] * MAX_FOLDERS


def test_a_reopened_run_folder_never_takes_a_folder_made_ahead(tmp_path):
    first = _run(tmp_path)
    SPARES.settled()
    [spare] = _spares(tmp_path)
    shutil.rmtree(first.path)  # History's Delete, while a task of that run is still fetched into it
    RunFolder.reopened(first.path).save_image(2, png())
    assert spare.exists() and (first.path / "02.png").read_bytes() == png()


def test_folders_made_ahead_are_removed_when_the_process_exits(tmp_path):
    script = (
        "import sys; from wan26.storage import RunFolder\n"
        "for label in ('a', 'b'):\n"
        f"    folder = RunFolder(sys.argv[1], label); folder.save_image(1, {png()!r}); folder.write_sidecar({{}})\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=60)
    runs = sorted(tmp_path.iterdir())
    assert [path.name.split("-")[2] for path in runs] == ["a", "b"]  # nothing else: no spare left
    assert all(sorted(path.name for path in run.iterdir()) == ["01.png", "run.json"] for run in runs)


def test_a_folder_made_ahead_that_a_killed_process_left_is_removed_once_a_day_old(tmp_path):
    _run(tmp_path)
    SPARES.settled()
    [spare] = _spares(tmp_path)
    for path in spare.iterdir():
        os.utime(path, (time.time() - 2 * 86400,) * 2)
    assert remove_stale_partials(tmp_path) == 1
    assert not spare.exists()
    assert len(list_runs(tmp_path).runs) == 1


def test_a_record_file_made_ahead_and_removed_meanwhile_does_not_lose_run_json(tmp_path):
    """A clean-up of hidden files between the folder made ahead and the run's end."""
    _run(tmp_path)
    SPARES.settled()
    folder = RunFolder(tmp_path, "text_to_image")
    folder.save_image(1, png())
    for made_ahead in folder.path.glob(".partial-*"):
        made_ahead.unlink()
    folder.write_sidecar({"status": "succeeded"})
    assert sorted(path.name for path in folder.path.iterdir()) == ["01.png", "run.json"]
    assert '"status": "succeeded"' in (folder.path / "run.json").read_text(encoding="utf-8")


def test_an_image_saved_while_the_interpreter_shuts_down_is_reported_saved(tmp_path, monkeypatch):
    """Ctrl-C in the app while a run saves: no new background work can start, and the save, done,
    must not turn into an error (the run would report a saved image as lost)."""
    spares = SpareFolders(made_spare)
    monkeypatch.setattr("wan26.storage.SPARES", spares)
    _run(tmp_path)
    spares.settled()
    spares._background().shutdown()  # as at interpreter exit: submit() now raises RuntimeError
    path, _, _ = RunFolder(tmp_path, "text_to_image").save_image(1, png())
    assert path.read_bytes() == png()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")
def test_a_forked_child_does_not_take_its_parents_folder_made_ahead_and_exits(tmp_path):
    script = (
        "import os, sys; from wan26.storage import RunFolder, SPARES\n"
        f"folder = RunFolder(sys.argv[1], 'edit'); folder.save_image(1, {png()!r}); SPARES.settled()\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    taken = SPARES.take(os.path.abspath(sys.argv[1]))\n"
        "    SPARES.prepare(os.path.abspath(sys.argv[1]) + '-elsewhere')\n"
        "    sys.exit(0 if taken is None else 3)  # atexit waits for the child's own thread\n"
        "_, status = os.waitpid(child, 0)\n"
        "sys.exit(os.waitstatus_to_exitcode(status))\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=60)
