"""`python -m wan26` as a user runs it: real subprocesses against the loopback fake."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from wan26.providers import PROVIDERS
from wan26.types import Mode

REPO = Path(__file__).resolve().parent.parent
GUARD = Path(__file__).resolve().parent / "subprocess_guard"


VENDOR_PREFIXES = tuple(adapter.facts.key_env.split("_")[0] + "_" for adapter in PROVIDERS.values())


def run_cli(*args, env, cwd):
    environment = {key: value for key, value in os.environ.items() if not key.startswith((*VENDOR_PREFIXES, "WAN26_"))}
    environment |= {"PYTHONPATH": f"{GUARD}{os.pathsep}{REPO}", **env}
    return subprocess.run(
        [sys.executable, "-m", "wan26", *args], env=environment, cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def fake_env(dashscope_fake, tmp_path):
    return {
        "DASHSCOPE_API_KEY": dashscope_fake.api_key,
        "DASHSCOPE_BASE_URL": dashscope_fake.base_url,
        "WAN26_OUTPUT_DIR": str(tmp_path / "outputs"),
    }


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "ref.jpg"
    Image.new("RGB", (640, 480), (20, 120, 200)).save(path)
    return path


def test_text_to_image_json(fake_env, tmp_path, dashscope_fake):
    done = run_cli(
        "text_to_image",
        "a red fox",
        "--size",
        "1472x1104",
        "-n",
        "2",
        "--seed",
        "7",
        "--json",
        env=fake_env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # stdout is exactly one JSON object
    assert len(report["images"]) == 2 and all(Path(path).is_file() for path in report["images"])
    assert (report["seed"], report["provider"], report["model"]) == (7, "dashscope", "wan2.6-t2i")
    assert report["request_id"] and Path(report["sidecar"]).is_file()
    assert "wan26: Sending the request" in done.stderr
    assert dashscope_fake.generation_requests()[0].json["parameters"]["size"] == "1472*1104"


def test_edit_with_local_images_through_the_task_api(fake_env, tmp_path, photo, dashscope_fake):
    done = run_cli(
        "edit",
        "image 1 with the sky of image 2",
        "--image",
        str(photo),
        "--image",
        str(photo),
        "--size",
        "2K",
        "-n",
        "2",
        "--async",
        "--json",
        env=fake_env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["images"]) == 2
    assert "[RUNNING]" in done.stderr  # task status shown while waiting
    [submit] = dashscope_fake.generation_requests()
    assert submit.path.endswith("/image-generation/generation")


def test_interleave_streams_text_and_image_places_to_stdout(fake_env, tmp_path, dashscope_fake):
    dashscope_fake.sse_chunk_size = 5
    done = run_cli("interleave", "a two-step recipe", "--max-images", "2", env=fake_env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "准备食材" in done.stdout and "café ✓" in done.stdout
    first, second = done.stdout.index("[image 1: "), done.stdout.index("[image 2: ")
    assert 0 < first < second
    assert done.stdout.index("Step 2") > first  # the second paragraph comes after the first image


def test_missing_key_exits_2_and_says_what_to_set(tmp_path, dashscope_fake):
    done = run_cli("text_to_image", "fox", env={}, cwd=tmp_path)
    assert done.returncode == 2
    assert "DASHSCOPE_API_KEY" in done.stderr and ".env" in done.stderr and "get-api-key" in done.stderr
    assert dashscope_fake.requests == []


def test_out_of_limit_input_exits_2_naming_each_limit(fake_env, tmp_path, dashscope_fake):
    done = run_cli("interleave", "x" * 2001, "--size", "2048x2048", "--max-images", "6", env=fake_env, cwd=tmp_path)
    assert done.returncode == 2
    for text in ("prompt: is 2001 characters; the limit is 2000", "1,638,400", "max_images: 6; allowed 1–5"):
        assert text in done.stderr
    assert dashscope_fake.requests == []


def test_malformed_size_exits_2(fake_env, tmp_path):
    done = run_cli("text_to_image", "fox", "--size", "huge", env=fake_env, cwd=tmp_path)
    assert done.returncode == 2 and "size must look like 1280x1280" in done.stderr


def test_provider_error_exits_1_with_code_hint_and_request_id(fake_env, tmp_path, dashscope_fake):
    dashscope_fake.fail_next(
        400, "IPInfringementSuspect", "Input data is suspected of being involved in IP infringement."
    )
    done = run_cli("text_to_image", "a famous mouse", "--json", env=fake_env, cwd=tmp_path)
    assert done.returncode == 1
    assert "[IPInfringementSuspect]" in done.stderr and "--no-prompt-extend" in done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "IPInfringementSuspect" and error["request_id"] in done.stderr


def test_dotenv_in_the_working_folder_is_loaded(fake_env, tmp_path):
    (tmp_path / ".env").write_text("".join(f"{key}={value}\n" for key, value in fake_env.items()))
    done = run_cli("text_to_image", "fox", env={}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_file()  # without --json, stdout lists the saved files


def test_the_key_never_appears_in_output(fake_env, tmp_path, dashscope_fake):
    outputs = []
    for args in (["text_to_image", "fox", "--json"], ["interleave", "recipe", "--max-images", "1"]):
        done = run_cli(*args, env=fake_env, cwd=tmp_path)
        outputs += [done.stdout, done.stderr]
    done = run_cli("text_to_image", "fox", env={**fake_env, "DASHSCOPE_API_KEY": "sk-wrong-0123456789"}, cwd=tmp_path)
    assert done.returncode == 1 and "InvalidApiKey" in done.stderr
    outputs += [done.stdout, done.stderr]
    assert all(dashscope_fake.api_key not in text and "sk-wrong-0123456789" not in text for text in outputs)


def test_subprocesses_started_by_tests_are_guarded_too(tmp_path):
    probe = "import socket; socket.getaddrinfo('guard-test.invalid', 443)"
    environment = {**os.environ, "PYTHONPATH": f"{GUARD}{os.pathsep}{REPO}"}
    done = subprocess.run([sys.executable, "-c", probe], env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "NetworkBlocked" in done.stderr


REFERENCE_URL = "http://127.0.0.1:9/reference/cat.png"  # never fetched: the fakes check the form only
VENDOR_COMMANDS = {
    Mode.TEXT_TO_IMAGE: ["text_to_image", "a red fox", "--size", "1280x1280"],
    Mode.EDIT: ["edit", "image 1 in watercolour", "--size", "1024x1024"],
    Mode.INTERLEAVE: ["interleave", "a two-step tea recipe", "--max-images", "2"],
}


@pytest.mark.parametrize(
    ("name", "mode"), [(name, mode) for name, adapter in PROVIDERS.items() for mode in adapter.facts.limits_of()]
)
def test_each_vendor_generates_from_the_command_line_with_only_its_own_key(name, mode, vendor_fakes, tmp_path, photo):
    fake = vendor_fakes[name]
    args = list(VENDOR_COMMANDS[mode])
    if mode is Mode.EDIT:
        args += ["--image", str(photo) if PROVIDERS[name].facts.image_rules_of().accepts_local else REFERENCE_URL]
    env = fake.env() | {"WAN26_OUTPUT_DIR": str(tmp_path / "outputs")}
    done = run_cli(*args, "--provider", name, "--json", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["provider"] == name and report["images"] and all(Path(p).is_file() for p in report["images"])
    assert f"estimated cost with {PROVIDERS[name].facts.title}" in done.stderr
    assert len(fake.generation_requests()) >= 1


def test_a_vendor_that_takes_urls_only_refuses_a_local_file_before_sending(vendor_fakes, tmp_path, photo):
    fake = vendor_fakes["shortapi"]
    env = fake.env() | {"WAN26_OUTPUT_DIR": str(tmp_path / "outputs")}
    done = run_cli("edit", "image 1 at night", "--image", str(photo), "--provider", "shortapi", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "image 1" in done.stderr and "URLs only" in done.stderr
    assert fake.requests == []


def test_providers_lists_every_vendor_with_its_limits_and_whether_its_key_is_set(vendor_fakes, tmp_path):
    done = run_cli("providers", env=vendor_fakes["runware"].env(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for adapter in PROVIDERS.values():
        assert f"{adapter.facts.name}: {adapter.facts.title}" in done.stdout
    assert "RUNWARE_API_KEY set" in done.stdout and "DASHSCOPE_API_KEY not set" in done.stdout
    runware = done.stdout.split("runware: Runware")[1].split("shortapi:")[0]
    assert "options: negative prompt, prompt rewriting" in runware and "not offered: interleave" in runware


# ---- Wan 2.7 from the shell ---------------------------------------------------------------------


def test_an_image_set_with_2_7_by_default_saves_what_the_model_made(fake_env, tmp_path, dashscope_fake):
    dashscope_fake.set_count(2)
    done = run_cli("image_set", "a cat through the seasons", "--json", env=fake_env, cwd=tmp_path)  # n: at most 4
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["images"]) == 2 and report["model"] == "wan2.7-image"
    assert "up to 4 × $0.030" in done.stderr
    sent = dashscope_fake.generation_requests()[-1].json
    assert sent["parameters"]["enable_sequential"] is True and sent["parameters"]["n"] == 4


def test_a_box_edit_with_a_palette_on_2_7_pro(fake_env, tmp_path, dashscope_fake, photo):
    done = run_cli(
        "edit",
        "image 1 at night",
        "--model",
        "wan2.7-pro",
        "--image",
        str(photo),
        "--box",
        "1:10,20,300,400",
        "--palette",
        "#C2D1E6:60",
        "#636574:25",
        "#cbd4e4:15",
        "--json",
        env=fake_env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    parameters = dashscope_fake.generation_requests()[-1].json["parameters"]
    assert parameters["bbox_list"] == [[[10, 20, 300, 400]]]
    assert [entry["ratio"] for entry in parameters["color_palette"]] == ["60.00%", "25.00%", "15.00%"]
    record = json.loads(Path(json.loads(done.stdout)["sidecar"]).read_text())
    assert record["wan_model"] == "wan2.7-pro" and record["boxes"] == [{"image": 1, "box": [10, 20, 300, 400]}]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--box", "1:10,20"), "a box looks like 2:989,515,1138,681"),
        (("--palette", "#C2D1E6"), "a palette colour looks like #C2D1E6:25"),
        (("--model", "wan3"), "invalid choice: 'wan3'"),
    ],
)
def test_a_mistyped_2_7_option_is_refused_by_the_parser(args, said, fake_env, tmp_path, photo):
    done = run_cli("edit", "x", "--image", str(photo), *args, env=fake_env, cwd=tmp_path)
    assert done.returncode == 2 and said in done.stderr


def test_what_2_7_lacks_is_refused_before_sending_with_the_field_named(fake_env, tmp_path, dashscope_fake):
    done = run_cli(
        "text_to_image", "a fox", "--model", "wan2.7", "--negative", "blur", "--size", "4K", env=fake_env, cwd=tmp_path
    )
    assert done.returncode == 2
    assert "negative_prompt" in done.stderr and "4K is not available here" in done.stderr
    assert dashscope_fake.generation_requests() == []


def test_the_providers_listing_shows_each_model_each_vendor_serves(tmp_path):
    done = run_cli("providers", env={}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    dashscope = done.stdout.split("\naimlapi:")[0]
    assert "Wan 2.7 Pro (--model wan2.7-pro): $0.075/image" in dashscope
    assert "image_set (wan2.7-image):" in dashscope and "text_to_image (wan2.7-image-pro):" in dashscope
    assert "shortapi:" in done.stdout and "not served: Wan 2.7, Wan 2.7 Pro" in done.stdout.split("shortapi:")[1]


def test_the_seeds_runware_draws_are_named(vendor_fakes, tmp_path):
    env = vendor_fakes["runware"].env() | {"WAN26_OUTPUT_DIR": str(tmp_path / "outputs")}
    done = run_cli("text_to_image", "a red fox", "-n", "2", "--provider", "runware", "--json", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    seeds = json.loads(done.stdout)["seeds"]
    assert all(isinstance(seed, int) for seed in seeds) and "no seed" not in done.stderr
    assert all(str(seed) in done.stderr for seed in seeds)


def test_fetch_without_a_task_id_is_refused_before_sending(fake_env, tmp_path, dashscope_fake):
    done = run_cli("fetch", " ", "--mode", "text_to_image", env=fake_env, cwd=tmp_path)
    assert done.returncode == 2 and "task_id" in done.stderr and "empty" in done.stderr
    assert dashscope_fake.requests == []


def test_a_task_id_stays_one_part_of_the_status_address(fake_env, tmp_path, dashscope_fake):
    done = run_cli("fetch", "../../x?y=1", "--mode", "text_to_image", env=fake_env, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert dashscope_fake.requests and all(r.path.startswith("/api/v1/tasks/") for r in dashscope_fake.requests)
    assert all("y" not in request.query for request in dashscope_fake.requests)


@pytest.mark.parametrize(
    ("name", "mode"),
    [("dashscope", "text_to_image"), ("vtrix", "text_to_image"), ("shortapi", "edit"), ("runware", "text_to_image")],
)
def test_fetching_a_task_the_vendor_does_not_know_ends_at_once_without_advice_to_fetch_it(
    name, mode, vendor_fakes, tmp_path
):
    env = vendor_fakes[name].env() | {"WAN26_OUTPUT_DIR": str(tmp_path / "outputs")}
    done = run_cli(
        "fetch", "no-such-task", "--mode", mode, "--provider", name, "--timeout", "60", env=env, cwd=tmp_path
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "no-such-task" in done.stderr and "Save it within 24 h" not in done.stderr
    assert not (tmp_path / "outputs").exists() or not any((tmp_path / "outputs").rglob("run.json"))


@pytest.mark.parametrize("command", [("text_to_image", "a fox"), ("batch", "jobs.csv")])
def test_a_misspelt_wan26_provider_is_named_as_the_setting_to_fix(command, fake_env, tmp_path, dashscope_fake):
    (tmp_path / "jobs.csv").write_text("prompt\na fox\n", encoding="utf-8")
    done = run_cli(*command, env=fake_env | {"WAN26_PROVIDER": "dashscop"}, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "WAN26_PROVIDER" in done.stderr and "'dashscop'" in done.stderr and "dashscope, aimlapi" in done.stderr
    assert dashscope_fake.requests == []


def test_an_output_folder_under_the_home_folder_is_read_as_a_shell_would(fake_env, tmp_path, dashscope_fake):
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    env = fake_env | {"WAN26_OUTPUT_DIR": "~/wan-images", "HOME": str(home)}
    done = run_cli("text_to_image", "a fox", "--json", env=env, cwd=work)
    assert done.returncode == 0, done.stderr
    [image] = json.loads(done.stdout)["images"]
    assert Path(image).is_relative_to(home / "wan-images") and Path(image).is_file()
    assert not (work / "~").exists()


@pytest.mark.parametrize(
    "address", ["dashscope-intl.aliyuncs.com/api/v1", "https://", "ftp://files.example", "http://[::1", "https://h:abc"]
)
def test_a_base_url_that_is_no_web_address_is_refused_naming_the_setting(address, fake_env, tmp_path, dashscope_fake):
    done = run_cli("text_to_image", "a fox", env=fake_env | {"DASHSCOPE_BASE_URL": address}, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "DASHSCOPE_BASE_URL is not a web address" in done.stderr and "https://" in done.stderr
    assert "network" not in done.stderr.lower()
    assert not (tmp_path / "outputs").exists()


@pytest.mark.parametrize(
    "command", [("text_to_image", "a fox"), ("batch", "jobs.csv"), ("compare", "a fox", "--providers", "dashscope")]
)
def test_an_output_folder_under_an_unknown_users_home_is_refused_naming_the_setting(
    command, fake_env, tmp_path, dashscope_fake
):
    (tmp_path / "jobs.csv").write_text("prompt\na fox\n", encoding="utf-8")
    env = fake_env | {"WAN26_OUTPUT_DIR": "~no-such-user-wan26/images"}
    done = run_cli(*command, env=env, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "WAN26_OUTPUT_DIR starts with ~" in done.stderr
    assert dashscope_fake.requests == []
