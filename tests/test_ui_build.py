"""The interface package: built from the environment it is given, and never loaded by `import wan26`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from wan26.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
GUARD = Path(__file__).resolve().parent / "subprocess_guard"


def test_importing_the_package_and_its_command_line_never_loads_gradio():
    probe = "import sys, wan26, wan26.cli, wan26.providers; print('gradio' in sys.modules)"
    environment = {**os.environ, "PYTHONPATH": f"{GUARD}{os.pathsep}{REPO}"}
    done = subprocess.run([sys.executable, "-c", probe], env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_the_app_follows_the_environment_it_is_built_with_not_the_process(monkeypatch, tmp_path):
    from wan26.ui import build_app

    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-process")  # what the process has must not matter
    studio = build_app({"VTRIX_API_KEY": "vt-given", "WAN26_OUTPUT_DIR": str(tmp_path / "out")})
    try:
        assert studio.settings.vendors.server_keyed() == ["vtrix"]
        assert studio.settings.vendors.configured_default() == "vtrix"
        assert studio.settings.output_dir == (tmp_path / "out").resolve()
    finally:
        studio.blocks.close()


def test_runs_take_the_key_vendor_address_and_folder_from_the_environment_the_app_was_built_with(
    dashscope_fake, monkeypatch, tmp_path
):
    """The process's own settings, pointing elsewhere, are not what a run uses."""
    from app_client import connected
    from wan26.ui import build_app

    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-process-wrong")
    monkeypatch.setenv("DASHSCOPE_BASE_URL", "http://127.0.0.1:9/api/v1")  # nothing listens there
    monkeypatch.setenv("WAN26_OUTPUT_DIR", str(tmp_path / "process-out"))
    studio = build_app({**dashscope_fake.env(), "WAN26_OUTPUT_DIR": str(tmp_path / "given-out"), "WAN26_MCP": "off"})
    _, url, _ = studio.launch(prevent_thread_lock=True, quiet=True)
    try:
        with connected(url) as client:
            gallery, _, seed = client.predict(
                "a fox", "", 1280, 1280, 1, -1, True, False, "dashscope", api_name="/text_to_image"
            )
    finally:
        studio.blocks.close()
    assert len(gallery) == 1 and isinstance(seed, int)
    assert [path.name for path in (tmp_path / "given-out").glob("*/01.png")] == ["01.png"]
    assert not (tmp_path / "process-out").exists()
    posted = [request for request in dashscope_fake.requests if request.method == "POST"]
    assert [request.headers["authorization"] for request in posted] == [f"Bearer {dashscope_fake.api_key}"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WAN26_CONCURRENCY", "many"),
        ("WAN26_QUEUE_SIZE", "0"),
        ("WAN26_SERVER_KEY_DAILY_USD", "lots"),
        ("WAN26_MCP", "maybe"),
        ("WAN26_HISTORY", "mine"),
    ],
)
def test_a_wrong_setting_stops_the_build_naming_the_variable(variable, value, tmp_path):
    from wan26.ui import build_app

    with pytest.raises(ConfigError, match=variable):
        build_app({variable: value, "WAN26_OUTPUT_DIR": str(tmp_path)})


def test_python_app_py_with_a_wrong_setting_exits_with_one_line_naming_it(tmp_path):
    environment = {**os.environ, "PYTHONPATH": f"{GUARD}{os.pathsep}{REPO}", "WAN26_CONCURRENCY": "many"}
    environment["WAN26_OUTPUT_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, str(REPO / "app.py")],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "app.py: WAN26_CONCURRENCY must be a whole number" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_key_given_without_a_vendor_is_kept_and_the_vendor_asked_for(tmp_path):
    """The browser always sends a vendor; a crafted event may not, and once crashed the handler."""
    from wan26.ui.keys import KeyActions
    from wan26.ui.settings import Settings

    actions = KeyActions(Settings.from_env({"WAN26_OUTPUT_DIR": str(tmp_path)}))
    keys, box, status, *_ = actions.use_key(None, "sk-visitor", {}, None)
    assert keys == {}
    assert "Choose the vendor this key is for" in status
    assert "sk-visitor" not in status


def test_the_examples_only_fill_the_form_and_the_four_runs_stay_the_only_endpoints(monkeypatch, tmp_path):
    import gradio as gr

    from wan26.ui import build_app

    monkeypatch.setenv("GRADIO_CACHE_EXAMPLES", "true")  # what a Space may set: it must not run them at start-up
    studio = build_app({"DASHSCOPE_API_KEY": "sk-test", "WAN26_OUTPUT_DIR": str(tmp_path / "out")})
    try:
        blocks = studio.blocks
        info = blocks.get_api_info()
        assert sorted(info["named_endpoints"]) == ["/edit", "/image_set", "/interleave", "/text_to_image"]
        assert info["unnamed_endpoints"] == {}
        clicked = [
            fn
            for fn in blocks.fns.values()
            if any(isinstance(blocks.blocks.get(target), gr.Dataset) for target, _ in fn.targets)
        ]
        # One per tab, filling the form only: caching or running on click would add events of other names.
        assert [(fn.name, fn.api_visibility) for fn in clicked] == [("load_example", "private")] * 3
    finally:
        studio.blocks.close()


def picture(path: Path, size: tuple[int, int]) -> str:
    Image.new("RGB", size, (90, 140, 200)).save(path)
    return str(path)


def test_the_before_after_view_is_the_first_uploaded_reference_against_the_chosen_result(tmp_path):
    from wan26.ui.before_after import before_after

    first, second = picture(tmp_path / "a.png", (640, 480)), picture(tmp_path / "b.png", (300, 300))
    results = [(picture(tmp_path / f"r{i}.png", (1472, 1104)), "seed 7 · 1472×1104") for i in (1, 2)]
    shown = before_after([(first, "Image 1"), (second, "Image 2")], results, 1)
    assert shown["visible"] and shown["value"] == (first, results[1][0])
    assert before_after([(first, "Image 1")], results, None)["value"] == (first, results[0][0])
    assert before_after([], results)["visible"] is False  # references given as links only
    assert before_after([("https://example.com/cat.png", None)], results)["visible"] is False  # never fetched
    assert before_after([(first, "Image 1")], [])["visible"] is False


def test_a_reference_of_another_shape_is_padded_to_the_results_shape_so_the_two_line_up(tmp_path):
    from wan26.ui.before_after import shaped_like

    padded = shaped_like(picture(tmp_path / "square.png", (512, 512)), picture(tmp_path / "wide.png", (1696, 944)))
    assert isinstance(padded, Image.Image)
    assert padded.height == 512 and abs(padded.width / padded.height - 1696 / 944) < 0.01
    assert padded.getpixel((0, 0))[3] == 0 and padded.getpixel((padded.width // 2, 256))[3] == 255


def test_the_shipped_example_images_are_small_and_drawn_by_the_committed_script():
    import make_example_images as made

    from wan26.ui.form_examples import EDIT

    assert sorted(path.name for path in made.FOLDER.iterdir()) == sorted(made.IMAGES)
    assert {name for names, _ in EDIT for name in names} == set(made.IMAGES)  # each one used, none missing
    for name, drawing in made.IMAGES.items():
        assert (made.FOLDER / name).stat().st_size <= 60_000
        with Image.open(made.FOLDER / name) as shipped:
            assert min(shipped.size) >= 240  # Wan's smallest reference side
            difference = ImageChops.difference(shipped.convert("RGB"), made.drawn(drawing))
            assert max(high for _, high in difference.getextrema()) <= 8  # leeway for another Pillow's resampling


def test_gradio_may_serve_the_example_images_by_path_and_nothing_more_than_the_operator_allows():
    from wan26.ui.page import with_example_images

    images = with_example_images(None, {})
    names = ["blue-hat.png", "cat-at-sunset.png", "house-by-day.png", "red-cube.png"]
    assert [Path(path).name for path in images] == names
    assert all(Path(path).is_file() and Path(path).parent == REPO / "wan26" / "ui" / "examples" for path in images)
    assert with_example_images(["/srv/shared"], {"GRADIO_ALLOWED_PATHS": "/elsewhere"}) == ["/srv/shared", *images]
    assert with_example_images(None, {"GRADIO_ALLOWED_PATHS": "/a, /b"}) == ["/a", "/b", *images]  # as Gradio reads it
    # Not a list: left whole for Gradio to refuse; taken apart, "/srv" would have allowed "/".
    assert with_example_images("/srv", {}) == "/srv"


def test_the_checks_redone_after_a_vendor_switch_each_get_their_own_inputs_in_one_event():
    """One event does every check (Gradio's page pays per event): each check still gets its own
    controls' values, a control two checks read is sent once, and the updates land in order."""
    from wan26.ui.rechecks import Recheck, combined

    choice, prompt, width, count_box, verdict_box, buttons = object(), object(), object(), object(), object(), [1, 2]
    rechecks = [
        Recheck(lambda text, picked, request: f"{len(text)} chars for {picked}", [prompt, choice], count_box),
        Recheck(lambda picked, side, request: f"{picked}: {side} px", [choice, width], verdict_box),
        Recheck(lambda picked, request: [picked, picked], [choice], buttons),
    ]
    rechecked, inputs, outputs = combined(rechecks)
    assert inputs == [prompt, choice, width]
    assert outputs == [count_box, verdict_box, 1, 2]
    updates = rechecked(None, "a fox", "runware", 1280)
    assert updates == ["5 chars for runware", "runware: 1280 px", "runware", "runware"]
