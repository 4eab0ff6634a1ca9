"""Ctrl-C in the middle of `python -m wan26 compare`: nothing a vendor was paid for goes unmentioned."""

import json
from pathlib import Path

import pytest
from test_compare import env_for
from test_faults import BOUND_S, Cli

from wan26._run import fetch_command
from wan26.types import Mode

NAMES = ["dashscope", "vtrix"]


@pytest.fixture
def held_vtrix(vendor_fakes):
    vendor_fakes["vtrix"].task_script = [("in_progress", 0.5)] * 10_000 + [("completed", None)]  # never ends
    return vendor_fakes["vtrix"]


def interrupted_comparison(vendor_fakes, tmp_path, *options):
    env = env_for(vendor_fakes, NAMES, tmp_path)
    cli = Cli("compare", "a fox", "--providers", ",".join(NAMES), *options, env=env, cwd=tmp_path)
    cli.wait_for("[dashscope] succeeded")
    cli.wait_for("[vtrix] Task")
    cli.interrupt()
    return cli.finish(BOUND_S)


def test_ctrl_c_mid_comparison_names_the_saved_images_and_how_to_save_the_task_still_running(
    vendor_fakes, held_vtrix, tmp_path
):
    done = interrupted_comparison(vendor_fakes, tmp_path)
    assert done.returncode == 130 and "Traceback" not in done.stderr
    [task_id] = held_vtrix.tasks
    command = fetch_command(task_id, Mode.TEXT_TO_IMAGE, "vtrix")
    assert f"[vtrix] task id {task_id}; save it within 24 h with: {command}" in done.stderr
    [folder] = (tmp_path / "outputs").iterdir()
    [image] = folder.glob("dashscope/*/01.png")
    assert f"[dashscope] 1 image(s) saved in {image.parent}" in done.stderr
    assert f"what was saved is in {folder}" in done.stderr
    assert len(held_vtrix.generation_requests()) == 1 and len(vendor_fakes["dashscope"].generation_requests()) == 1


def test_ctrl_c_mid_comparison_in_json_lists_each_vendors_images_and_task(vendor_fakes, held_vtrix, tmp_path):
    done = interrupted_comparison(vendor_fakes, tmp_path, "--json")
    assert done.returncode == 130
    report = json.loads(done.stdout)  # stdout is exactly one JSON object
    assert report["error"]["type"] == "Interrupted"
    vendors = {vendor["provider"]: vendor for vendor in report["vendors"]}
    [image] = vendors["dashscope"]["images"]
    assert Path(image).is_file() and Path(image).is_relative_to(report["run_dir"])
    [task_id] = held_vtrix.tasks
    assert (vendors["vtrix"]["task_id"], vendors["vtrix"]["images"]) == (task_id, [])
    assert vendors["vtrix"]["fetch"] == fetch_command(task_id, Mode.TEXT_TO_IMAGE, "vtrix")
    assert vendors["dashscope"]["fetch"] is None  # its images are saved: nothing to fetch
