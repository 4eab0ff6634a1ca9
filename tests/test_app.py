"""The Gradio app launched in-process and driven through gradio_client, against the DashScope fake."""

import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError, ValidationError
from PIL import Image
from test_app_security import raw_call

from app_client import connected
from wan26 import Mode
from wan26.providers import PROVIDERS

USER_KEY = "sk-user-own-key-9876543210fedcba"


@pytest.fixture
def client(served, dashscope_fake):
    with connected(served) as client:
        yield client


@pytest.fixture
def reference(tmp_path):
    path = tmp_path / "reference.png"
    Image.new("RGB", (512, 384), (240, 180, 20)).save(path)
    return path


def is_png(path: str) -> bool:
    return Path(path).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


T2I = ["prompt", "negative_prompt", "width", "height", "n", "seed", "prompt_extend", "watermark"]
EDIT = ["prompt", "images", "negative_prompt", "size", "n", "seed", "prompt_extend", "watermark"]
INTERLEAVE = ["prompt", "image", "negative_prompt", "width", "height", "max_images", "seed", "watermark"]


IMAGE_SET = ["prompt", "images", "size", "n", "seed", "watermark", "provider", "image_urls", "model"]


def test_only_the_four_runs_are_public_with_the_documented_parameters(client):
    endpoints = client.view_api(return_format="dict", print_info=False)
    assert set(endpoints["named_endpoints"]) == {"/text_to_image", "/edit", "/interleave", "/image_set"}
    assert endpoints["unnamed_endpoints"] == {}
    names = {
        name: [p["parameter_name"] for p in info["parameters"]] for name, info in endpoints["named_endpoints"].items()
    }
    # Wan 2.7's options come after the 2.6 ones, each with a default: a 2.6 caller's call is unchanged.
    assert names == {
        "/text_to_image": [*T2I, "provider", "model", "thinking", "palette", "tier"],
        "/edit": [*EDIT, "provider", "image_urls", "model", "palette", "boxes"],
        "/interleave": [*INTERLEAVE, "provider"],
        "/image_set": IMAGE_SET,
    }
    required = {
        name: [p["parameter_name"] for p in info["parameters"] if not p["parameter_has_default"]]
        for name, info in endpoints["named_endpoints"].items()
    }
    assert required == {
        "/text_to_image": ["prompt"],
        "/edit": ["prompt"],
        "/interleave": ["prompt"],
        "/image_set": ["prompt"],
    }


def test_text_to_image_returns_saved_pngs_with_seed_captions(client, dashscope_fake):
    gallery, details, seed = client.predict(
        "a red fox", n=2, seed=42, width=1104, height=1472, api_name="/text_to_image"
    )
    assert seed == 42 and len(gallery) == 2
    assert all(is_png(item["image"]) and item["caption"] == "seed 42 · 1104×1472" for item in gallery)
    assert "wan2.6-t2i" in details and "request id" in details
    sent = dashscope_fake.generation_requests()[0].json["parameters"]
    assert (sent["size"], sent["n"], sent["seed"]) == ("1104*1472", 2, 42)


def test_edit_sends_the_references_in_order(client, dashscope_fake, reference, tmp_path):
    second = tmp_path / "second.jpg"
    Image.new("RGB", (300, 600), "navy").save(second)
    images = [
        {"image": handle_file(str(reference)), "caption": None},
        {"image": handle_file(str(second)), "caption": None},
    ]
    gallery, details, seed = client.predict("image 1 on image 2", images, size="2K", api_name="/edit")
    assert len(gallery) == 1 and is_png(gallery[0]["image"]) and isinstance(seed, int)
    content = dashscope_fake.generation_requests()[0].json["input"]["messages"][0]["content"]
    assert [item.get("image", "")[:15] for item in content[1:]] == ["data:image/png;", "data:image/jpeg"]


def test_interleave_streams_text_then_images_in_order(client, dashscope_fake, reference):
    job = client.submit("a two-step recipe", handle_file(str(reference)), max_images=2, api_name="/interleave")
    updates = list(job)
    assert len(updates) > 5  # text arrives in many pieces, not all at the end
    answer = updates[-1][0][-1]["content"]
    assert [part["type"] for part in answer] == ["text", "file", "text", "file", "text"]
    assert all(is_png(part["file"]) for part in answer if part["type"] == "file")
    partial = [update[0][-1]["content"] for update in updates[:-1]]
    assert any(parts and parts[0].get("type") == "text" and len(parts) == 1 for parts in partial)
    assert "2 image(s)" in updates[-1][1]


def test_an_empty_seed_means_a_random_one_and_a_fraction_is_rounded(client, dashscope_fake):
    _, _, random_seed = client.predict("a fox", seed=None, api_name="/text_to_image")
    _, _, rounded = client.predict("a fox", seed=41.6, api_name="/text_to_image")
    assert random_seed is not None and rounded == 42
    assert [request.json["parameters"]["seed"] for request in dashscope_fake.generation_requests()][1] == 42


def test_interleaved_text_after_an_image_is_shown_while_the_image_downloads(client, dashscope_fake):
    dashscope_fake.delay("download", 1.0, times=2)
    updates = list(client.submit("a two-step recipe", max_images=2, api_name="/interleave"))
    waiting = [
        [part.get("text", part["type"]) for part in update[0][-1]["content"]]
        for update in updates
        if any("is being saved" in part.get("text", "") for part in update[0][-1]["content"])
    ]
    # The image keeps its place among the text while its file is on the way, and the text after it is shown.
    assert any("image 1 is being saved" in parts[1] and "Step 2" in parts[2] for parts in waiting if len(parts) > 2)
    answer = updates[-1][0][-1]["content"]
    assert [part["type"] for part in answer] == ["text", "file", "text", "file", "text"]


@pytest.mark.parametrize(
    ("endpoint", "args", "kwargs", "limit"),
    [
        ("/text_to_image", ("x" * 2101,), {}, "the limit is 2100"),
        ("/text_to_image", ("fox",), {"width": 2880, "height": 2880}, "allowed 1,638,400–2,073,600 pixels"),
        ("/text_to_image", ("fox",), {"n": 5}, "n: 5 images per run; allowed 1–4"),
        # Text to image takes its inputs raw (no Gradio preprocessing): our own check refuses these.
        ("/text_to_image", ("fox",), {"seed": 2_147_483_648}, "seed: 2147483648"),
        ("/text_to_image", ("fox",), {"width": "wide"}, "'wide' is not a number"),
        ("/edit", ("image 1 in blue", []), {}, "0 given; this mode takes 1–4"),
        ("/edit", ("image 1 in blue", None), {"size": "4000x4000"}, "allowed 589,824–4,194,304 pixels"),
        ("/interleave", ("recipe",), {"max_images": 6}, "max_images: 6; allowed 1–5"),
        ("/interleave", ("recipe",), {"width": 1280, "height": 1296}, "allowed 589,824–1,638,400 pixels"),
        ("/interleave", ("recipe",), {"seed": 2_147_483_648}, "seed: 2147483648 is outside 0–2147483647"),
        ("/image_set", ("a garden",), {"n": 13}, "n: 13 images at most; allowed 1–12"),
    ],
)
def test_out_of_limit_inputs_are_refused_naming_the_limit_before_anything_is_sent(
    client, dashscope_fake, reference, endpoint, args, kwargs, limit
):
    if endpoint == "/edit" and args[1] is None:
        args = (args[0], [{"image": handle_file(str(reference)), "caption": None}])
    # Our validator answers with ValidationError (the number boxes have no bounds of Gradio's left);
    # HTTP 400 for what Gradio itself refuses.
    with pytest.raises((ValidationError, httpx.HTTPStatusError)) as caught:
        client.predict(*args, api_name=endpoint, **kwargs)
    error = caught.value
    message = error.response.text if isinstance(error, httpx.HTTPStatusError) else str(error)
    assert limit in message
    assert dashscope_fake.requests == []


def test_provider_errors_reach_the_client_with_code_hint_and_request_id(client, dashscope_fake):
    dashscope_fake.fail_next(
        400, "IPInfringementSuspect", "Input data is suspected of being involved in IP infringement."
    )
    with pytest.raises(AppError) as caught:
        client.predict("a famous mouse", api_name="/text_to_image")
    message = str(caught.value)
    assert caught.value.title == "Blocked by content moderation"
    assert "[IPInfringementSuspect]" in message and "prompt rewriting" in message and "Request id: " in message


def test_the_server_key_never_reaches_the_browser(served, client, dashscope_fake):
    config = httpx.get(served + "config").text
    page = httpx.get(served).text
    result = client.predict("a fox", api_name="/text_to_image")
    dashscope_fake.fail_next(401, "InvalidApiKey", "Invalid API-key provided.")
    with pytest.raises(AppError) as caught:
        client.predict("a fox", api_name="/text_to_image")
    for text in (config, page, json.dumps(result), str(caught.value)):
        assert dashscope_fake.api_key not in text


def test_a_visitors_own_key_is_used_for_that_call_only(served, dashscope_fake, monkeypatch):
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-server-key-the-fake-refuses")
    dashscope_fake.api_key = USER_KEY  # only the visitor's key is valid now
    try:
        with connected(served, headers={"X-Dashscope-Key": USER_KEY}) as own_key:
            assert len(own_key.predict("a fox", api_name="/text_to_image")[0]) == 1
        with connected(served) as plain, pytest.raises(AppError, match="InvalidApiKey"):
            plain.predict("a fox", api_name="/text_to_image")
    finally:
        dashscope_fake.api_key = dashscope_fake.__class__().api_key
    keys = [request.headers["authorization"] for request in dashscope_fake.generation_requests()]
    assert keys == [f"Bearer {USER_KEY}", "Bearer sk-server-key-the-fake-refuses"]


def test_without_any_key_the_error_says_how_to_add_one(client, dashscope_fake, monkeypatch):
    monkeypatch.delenv("DASHSCOPE_API_KEY")
    with pytest.raises(AppError) as caught:
        client.predict("a fox", api_name="/text_to_image")
    assert caught.value.title == "Setup needed" and "DASHSCOPE_API_KEY" in str(caught.value)
    assert dashscope_fake.requests == []


def test_users_do_not_queue_behind_each_other(served, dashscope_fake):
    dashscope_fake.delay("generate", 1.0, times=3)

    def one_run(_):
        with connected(served) as own:
            return own.predict("a fox", api_name="/text_to_image")

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(one_run, range(3)))
    assert len(results) == 3
    assert dashscope_fake.max_in_flight == 3  # all three were at the provider at the same time


def test_downloads_are_named_after_what_they_are_and_keep_the_saved_bytes(client, served):
    gallery, details, _ = client.predict("A lighthouse at dawn, watercolour!", n=2, seed=42, api_name="/text_to_image")
    names = [Path(item["image"]).name for item in gallery]
    assert names == [
        "text_to_image-a-lighthouse-at-dawn-watercolour-seed42-1.png",
        "text_to_image-a-lighthouse-at-dawn-watercolour-seed42-2.png",
    ]
    run_folder = details.split("run folder `")[1].split("`")[0]
    saved = sorted((Path(os.environ["WAN26_OUTPUT_DIR"]) / run_folder).glob("0*.png"))
    assert [path.name for path in saved] == ["01.png", "02.png"]  # the originals keep their own names
    assert [Path(item["image"]).read_bytes() for item in gallery] == [path.read_bytes() for path in saved]


def test_an_image_shown_is_the_saved_file_itself_not_a_second_copy(served, dashscope_fake):
    """A Space's disk holds each result once: the page is served a link to the saved image (under its
    download name), not a copy Gradio makes of it in its own folder."""
    prompt = "a lone fox under a copper moon"  # no other test's: its download name is this run's alone
    gallery, details, _ = raw_call(served, "text_to_image", [prompt, "", 1280, 1280, 1, 7]).data
    served_file = httpx.get(gallery[0]["image"]["url"], timeout=60)
    shown = Path(gallery[0]["image"]["path"])
    run_folder = Path(os.environ["WAN26_OUTPUT_DIR"]) / details.split("run folder `")[1].split("`")[0]
    assert shown.name == "text_to_image-a-lone-fox-under-a-copper-moon-seed7-1.png"
    assert os.path.samefile(shown, run_folder / "01.png")
    assert served_file.content == (run_folder / "01.png").read_bytes()
    in_gradios_folder = [path for path in Path(os.environ["GRADIO_TEMP_DIR"]).rglob("*.png") if path.name == shown.name]
    assert [os.path.samefile(path, shown) for path in in_gradios_folder] == [True]


def test_each_run_gets_its_own_files(client):
    first = client.predict("a fox", seed=1, api_name="/text_to_image")
    second = client.predict("a fox", seed=1, api_name="/text_to_image")
    folder = [details.split("run folder `")[1].split("`")[0] for _, details, _ in (first, second)]
    assert folder[0] != folder[1]


@pytest.fixture
def outside_output_dir():
    """An output folder outside both the working folder and the temp folder, like a Space's /data."""
    base = Path("/var/tmp") if Path("/var/tmp").is_dir() else Path.home()
    folder = Path(tempfile.mkdtemp(prefix="wan26-test-outputs-", dir=base))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_results_saved_outside_the_working_and_temp_folders_are_shown(dashscope_fake, outside_output_dir):
    from wan26.ui import build_app

    studio = build_app({**dashscope_fake.env(), "WAN26_OUTPUT_DIR": str(outside_output_dir), "WAN26_MCP": "off"})
    _, url, _ = studio.launch(prevent_thread_lock=True, quiet=True)
    try:
        with connected(url) as client:
            gallery, _, _ = client.predict("a fox", n=2, api_name="/text_to_image")
    finally:
        studio.blocks.close()
    saved = sorted(outside_output_dir.rglob("*.png"))
    assert len(gallery) == 2 and len(saved) == 2
    assert sorted(Path(item["image"]).read_bytes() for item in gallery) == sorted(p.read_bytes() for p in saved)


def test_the_app_removes_what_a_crash_left_half_written_in_the_output_folder(dashscope_fake, outside_output_dir):
    from wan26.ui import build_app

    left = outside_output_dir / ".partial-0123456789abcdef"  # where earlier versions wrote a first image
    left.write_bytes(b"\x89PNG half")
    two_days_ago = left.stat().st_mtime - 2 * 86400
    os.utime(left, (two_days_ago, two_days_ago))
    studio = build_app({**dashscope_fake.env(), "WAN26_OUTPUT_DIR": str(outside_output_dir), "WAN26_MCP": "off"})
    studio.launch(prevent_thread_lock=True, quiet=True)
    studio.blocks.close()
    assert not left.exists()


# ---- every vendor, from the app ---------------------------------------------------------------

REFERENCE_URL = "http://127.0.0.1:9/reference/cat.png"  # never fetched: the fakes check the form only


def _vendor_call(mode, name, reference):
    if mode == "text_to_image":
        return ("a red fox",), {"width": 1280, "height": 1280, "n": 2}
    if mode == "edit":
        local = [{"image": handle_file(str(reference)), "caption": None}]
        if name == "shortapi":  # URLs only
            return ("image 1 in watercolour", []), {"image_urls": REFERENCE_URL, "size": "1024x1024"}
        return ("image 1 in watercolour", local), {"size": "1024x1024"}
    return ("a two-step tea recipe",), {"max_images": 2}


@pytest.mark.parametrize(
    ("name", "mode"), [(name, mode.value) for name, adapter in PROVIDERS.items() for mode in adapter.facts.limits_of()]
)
def test_each_vendor_generates_from_the_app_with_only_its_own_key(served, only_vendor, reference, name, mode):
    fake = only_vendor(name)
    args, kwargs = _vendor_call(mode, name, reference)
    with connected(served) as client:
        output, details, seed = client.submit(*args, provider=name, api_name=f"/{mode}", **kwargs).result()
    images = output if mode != "interleave" else [p for p in output[-1]["content"] if p["type"] == "file"]
    assert images and len(fake.generation_requests()) >= 1
    assert PROVIDERS[name].facts.title in details
    if name != "dashscope":
        assert f"Cost reported by {PROVIDERS[name].facts.title}" in details
    if PROVIDERS[name].facts.limits_of()[Mode(mode)].seed is None:
        assert seed is None and "no seed sent" in details


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("aimlapi", {"width": 1300, "height": 1280}, "1300 must be a positive multiple of 32"),
        ("aimlapi", {"width": 1472, "height": 1280}, "1472 is outside 512–1440 px"),
        ("runware", {"seed": 5}, "this provider takes no seed"),
        ("shortapi", {"watermark": True}, "watermark: is not supported here"),
    ],
)
def test_the_chosen_vendors_own_limits_are_enforced_before_sending(
    served, only_vendor, vendor_fakes, name, kwargs, message
):
    if name in vendor_fakes:
        only_vendor(name)
    with connected(served) as client, pytest.raises(ValidationError, match=message):
        client.predict("a fox", provider=name, api_name="/text_to_image", **kwargs)
    assert all(fake.requests == [] for fake in vendor_fakes.values())


@pytest.mark.parametrize("endpoint", ["/text_to_image", "/interleave"])
def test_an_unknown_vendor_is_refused_with_the_list_of_vendors(served, vendor_fakes, endpoint):
    with connected(served) as client, pytest.raises((httpx.HTTPStatusError, ValidationError)) as caught:
        client.predict("a fox", provider="nobody", api_name=endpoint)
    error = caught.value
    message = error.response.text if isinstance(error, httpx.HTTPStatusError) else str(error)
    assert "nobody" in message and "aimlapi" in message  # Gradio's dropdown check, or ours where inputs come raw
    assert all(fake.requests == [] for fake in vendor_fakes.values())


def test_a_mode_the_vendor_lacks_is_refused_with_the_reason(served, only_vendor, vendor_fakes):
    only_vendor("runware")
    with connected(served) as client, pytest.raises(ValidationError, match="Runware does not offer text with images"):
        client.predict("a recipe", provider="runware", api_name="/interleave")
    assert vendor_fakes["runware"].requests == []


def test_a_key_in_a_header_goes_only_to_the_vendor_it_is_named_after(served, only_vendor, vendor_fakes, monkeypatch):
    only_vendor("aimlapi")
    monkeypatch.setenv("RUNWARE_BASE_URL", vendor_fakes["runware"].base_url)  # but no server key for Runware
    runware_key = vendor_fakes["runware"].api_key
    with connected(served, headers={"X-Runware-Key": runware_key}) as client:
        client.predict("a fox", provider="aimlapi", width=1024, height=1024, api_name="/text_to_image")
        client.predict("a fox", provider="runware", api_name="/text_to_image")  # no server key: the header's
    [aiml] = vendor_fakes["aimlapi"].generation_requests()
    assert aiml.headers["authorization"] == f"Bearer {vendor_fakes['aimlapi'].api_key}"
    assert vendor_fakes["runware"].generation_requests()[0].headers["authorization"] == f"Bearer {runware_key}"


def test_with_one_vendors_key_the_default_vendor_is_that_one(served, only_vendor, vendor_fakes):
    only_vendor("vtrix")
    import app

    assert app.studio.settings.vendors.configured_default() == "vtrix"
