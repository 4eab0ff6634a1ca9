"""The app as a stranger on the internet meets it: over HTTP only, with no session of its own.

Every visitor action goes through gradio_client or raw httpx requests to the served app (the
`served` fixture); the only in-process step is the owner's configuration of the key guard.
Each test also checks that no answer it saw carries a traceback or the server's key.
"""

import json
import os
import re
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from gradio_client.exceptions import AppError, ValidationError
from PIL import Image

from app_client import connected
from fakes.dashscope import FAKE_API_KEY
from fakes.vendor import FailureKind
from wan26.guard import KeyGuard

PROMPT_WAIT_S = 20  # a refusal is answered well within this; a blocked read would not be
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STRANGER = "127.0.0.2"  # a loopback address uvicorn does not trust as a proxy: an ordinary visitor
T2I_DEFAULTS = ["", 1280, 1280, 1, -1, True, False, "dashscope"]  # after the prompt, in API order


def assert_clean(*texts: str) -> None:
    """What reached the visitor: never a traceback, never the server's key."""
    for text in texts:
        assert "Traceback" not in text and 'File "' not in text, text
        assert FAKE_API_KEY not in text, "the server's key reached a visitor"


@dataclass
class Answer:
    """One raw API call: the HTTP status of the call, the final SSE event and its data."""

    status: int
    event: str | None  # "complete" or "error"; None when the call was refused before it was queued
    data: Any
    text: str  # every body received, for the traceback and key checks

    @property
    def message(self) -> str:
        if isinstance(self.data, dict):
            return str(self.data.get("error") or self.data.get("detail") or self.data)
        return str(self.data)


def raw_call(url: str, api_name: str, data: list, *, headers=None, source="127.0.0.1") -> Answer:
    """POST /gradio_api/call/<api_name> as-is (no upload of anything, no session), then read its
    events; `source` is the address the request comes from."""
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=url, headers=headers or {}, transport=transport, timeout=PROMPT_WAIT_S) as http:
        joined = http.post(f"gradio_api/call/{api_name}", json={"data": data})
        if joined.status_code != 200:
            return Answer(joined.status_code, None, joined.json(), joined.text)
        answer = http.get(f"gradio_api/call/{api_name}/{joined.json()['event_id']}")
    final, payload = None, None
    for block in answer.text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if fields.get("event") in ("complete", "error"):
            final, payload = fields["event"], json.loads(fields["data"])
    return Answer(answer.status_code, final, payload, joined.text + answer.text)


def file_data(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


@pytest.fixture
def server_png(tmp_path) -> Path:
    """An image on the server's disk that no visitor uploaded."""
    path = tmp_path / "server-side.png"
    Image.new("RGB", (512, 384), (20, 120, 200)).save(path)
    return path


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.png"
    os.mkfifo(path)
    yield path
    # Should anything have opened it for reading, give it an end so no thread hangs; ENXIO (no reader) is right.
    with suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


@pytest.fixture
def guard(served, monkeypatch, tmp_path):
    """guard(**limits): the owner's key guard, as if set in the environment (server configuration)."""
    import app

    for variable in ("SPACE_ID", "WAN26_PROXY_HOPS"):
        monkeypatch.delenv(variable, raising=False)

    def configure(**limits) -> KeyGuard:
        key_guard = KeyGuard(**limits, ledger_path=tmp_path / "ledger.json")
        monkeypatch.setattr(app.studio.settings, "guard", key_guard)
        return key_guard

    return configure


# ---- 1. references come only from where they should ---------------------------------------


def test_pasted_references_that_are_not_web_links_are_refused_alike_and_nothing_is_sent(
    served, dashscope_fake, server_png, fifo
):
    lines = [
        "/etc/passwd",
        "/no/such/file.png",
        "/etc",
        str(server_png),
        "file:///etc/passwd",
        str(fifo),
        "app.py",  # relative to the folder the app runs from
    ]
    messages = {}
    with connected(served) as client:
        for line in lines:
            started = time.monotonic()
            job = client.submit("image 1 as a sketch", [], image_urls=line, api_name="/edit")
            with pytest.raises((ValidationError, AppError)) as caught:
                job.result(timeout=PROMPT_WAIT_S)  # a FIFO opened for reading would block here
            assert time.monotonic() - started < PROMPT_WAIT_S / 2
            messages[line] = str(caught.value)
    for line, message in messages.items():
        assert line not in message  # not quoted back
        assert "not an http(s) link" in message
    assert len(set(messages.values())) == 1, messages  # exists or not, file or folder: one answer
    assert dashscope_fake.requests == []
    assert_clean(*messages.values())


def test_one_bad_line_among_web_links_refuses_the_whole_run(served, dashscope_fake):
    urls = "https://example.com/cat.png\n/etc/passwd"
    with connected(served) as client, pytest.raises(ValidationError) as caught:
        client.predict("image 1 and image 2", [], image_urls=urls, api_name="/edit")
    assert "line 2 is not an http(s) link" in str(caught.value) and "/etc/passwd" not in str(caught.value)
    assert dashscope_fake.requests == []


def test_a_web_link_reference_reaches_the_vendor_untouched(served, dashscope_fake):
    with connected(served) as client:
        result = client.predict("image 1 as a sketch", [], image_urls="https://example.com/cat.png", api_name="/edit")
    [sent] = dashscope_fake.generation_requests()
    content = sent.json["input"]["messages"][0]["content"]
    assert [part["image"] for part in content if "image" in part] == ["https://example.com/cat.png"]
    assert not any(request.path.endswith("cat.png") for request in dashscope_fake.requests)  # never fetched
    assert_clean(json.dumps(result))


def _edit_with_reference(path: str) -> tuple[str, list]:
    item = {"image": file_data(path), "caption": None}
    return "edit", ["image 1 as a sketch", [item], "", "1K", 1, -1, True, False, "dashscope", "", ""]


def _interleave_with_image(path: str) -> tuple[str, list]:
    return "interleave", ["a two-step recipe", file_data(path), "", 0, 0, 1, -1, False, "dashscope"]


@pytest.mark.parametrize("call", [_edit_with_reference, _interleave_with_image], ids=["gallery", "interleave"])
def test_server_files_named_in_file_data_are_refused_alike_and_nothing_is_sent(
    served, dashscope_fake, server_png, call
):
    # Raw JSON: gradio_client would upload a local path it is given, which is not the attack.
    paths = ["/etc/hostname", str(server_png), "/no/such/file.png", "/etc"]
    answers = {path: raw_call(served, *call(path)) for path in paths}
    for path, answer in answers.items():
        assert answer.event != "complete", f"{path} was accepted"
        assert answer.status >= 400 or answer.event == "error"
    without_path = {answer.message.replace(path, "<path>") for path, answer in answers.items()}
    assert len(without_path) == 1, without_path  # no hint whether the file exists
    assert dashscope_fake.requests == []
    assert_clean(*(answer.text for answer in answers.values()))


def test_a_url_in_file_data_is_not_fetched_by_the_server(served, dashscope_fake):
    """A reference 'file' that is a URL on the server's own network is neither fetched nor sent."""
    inside = f"{dashscope_fake.server_url}/results/private.png"
    for endpoint, data in (_edit_with_reference(inside), _interleave_with_image(inside)):
        answer = raw_call(served, endpoint, data)
        assert answer.event != "complete" and (answer.status >= 400 or answer.event == "error")
        assert_clean(answer.text)
    assert dashscope_fake.requests == []  # not even a GET of the "image"


# ---- 2. each visitor sees only their own results --------------------------------------------


def test_run_folders_are_not_served_to_anyone(served, dashscope_fake):
    with connected(served, download_files=False) as visitor_a:
        gallery, details, _ = visitor_a.predict("a red fox", api_name="/text_to_image")
    name = re.search(r"run folder `([^`]+)`", details).group(1)
    output_dir = Path(os.environ["WAN26_OUTPUT_DIR"]).resolve()
    folder = output_dir / name
    assert (folder / "run.json").is_file() and (folder / "01.png").is_file()
    assert re.fullmatch(r".+-[0-9a-f]{32,}", name), name  # 128 random bits at least
    assert str(output_dir) not in details and os.environ["WAN26_OUTPUT_DIR"] not in json.dumps(gallery)

    # Visitor A's own copy is served (so the address form below is right)...
    own_copy = httpx.get(gallery[0]["image"]["url"])
    assert own_copy.status_code == 200 and own_copy.content == (folder / "01.png").read_bytes()
    # ...but the run folder is not, to a stranger with no session.
    bodies = []
    with httpx.Client(base_url=served) as stranger:
        for file in (folder / "run.json", folder / "01.png"):
            for address in (
                f"gradio_api/file={file}",
                f"gradio_api/file={quote(str(file), safe='')}",
                f"file={file}",
            ):
                answer = stranger.get(address)
                assert answer.status_code != 200, address
                assert not answer.content.startswith(PNG_SIGNATURE) and b"request_id" not in answer.content
                bodies.append(answer.text)
    assert_clean(details, json.dumps(gallery), *bodies)


def test_a_stranger_cannot_read_how_much_others_use_the_app(served, dashscope_fake):
    """Gradio's traffic monitoring (on by default) would tell anyone each function's request count,
    success rate and run times: it is off."""
    with connected(served, download_files=False) as visitor_a:
        visitor_a.predict("a red fox", api_name="/text_to_image")
    with httpx.Client(base_url=served) as stranger:
        answers = [stranger.get(path) for path in ("monitoring/summary", "monitoring")]
    assert [answer.status_code for answer in answers] == [403, 403]
    assert all("text_to_image" not in answer.text and "success_rate" not in answer.text for answer in answers)
    assert_clean(*(answer.text for answer in answers))


def test_another_visitor_cannot_use_a_run_file_as_a_reference(served, dashscope_fake):
    with connected(served) as visitor_a:
        _, details, _ = visitor_a.predict("a red fox", api_name="/text_to_image")
    folder = Path(os.environ["WAN26_OUTPUT_DIR"]) / re.search(r"run folder `([^`]+)`", details).group(1)
    answer = raw_call(served, *_edit_with_reference(str(folder / "01.png")))
    assert answer.event != "complete" and (answer.status >= 400 or answer.event == "error")
    assert len(dashscope_fake.generation_requests()) == 1  # visitor A's run only
    assert_clean(answer.text)


# ---- 3. the owner's key guard -----------------------------------------------------------------


def test_the_server_key_makes_one_run_an_hour_per_visitor_and_own_keys_are_not_counted(served, dashscope_fake, guard):
    guard(runs_per_hour=1)
    own_key = {"X-Dashscope-Key": dashscope_fake.api_key}  # the fake takes only its own key
    with connected(served, headers=own_key) as with_own_key:
        first_own = with_own_key.predict("a fox", api_name="/text_to_image")
    with connected(served) as visitor:
        server_run = visitor.predict("a fox", api_name="/text_to_image")  # so the own-key run was not counted
        with pytest.raises(AppError) as caught:
            visitor.predict("a fox", api_name="/text_to_image")
    refusal = str(caught.value)
    assert caught.value.title == "The server's key has reached its limit"
    assert "1 run with this Space's key in the last hour" in refusal and "the limit per visitor" in refusal
    assert "Paste your own key" in refusal
    assert len(dashscope_fake.generation_requests()) == 2  # the own-key run and one server-key run
    with connected(served, headers=own_key) as with_own_key:
        second_own = with_own_key.predict("a fox", api_name="/text_to_image")  # over the limit: still fine
    assert len(second_own[0]) == 1 and len(dashscope_fake.generation_requests()) == 3
    assert_clean(refusal, *(json.dumps(run) for run in (first_own, server_run, second_own)))


def test_a_forged_x_forwarded_for_gets_no_fresh_allowance(served, dashscope_fake, guard):
    guard(runs_per_hour=1)
    first = raw_call(served, "text_to_image", ["a fox", *T2I_DEFAULTS], source=STRANGER)
    assert first.event == "complete"
    answers = [
        raw_call(
            served, "text_to_image", ["a fox", *T2I_DEFAULTS], headers={"X-Forwarded-For": forged}, source=STRANGER
        )
        for forged in ("203.0.113.9", "198.51.100.1, 203.0.113.10")
    ]
    for answer in answers:
        assert answer.event == "error" and "limit per visitor" in answer.message
    assert len(dashscope_fake.generation_requests()) == 1
    assert_clean(first.text, *(answer.text for answer in answers))


def test_behind_one_proxy_only_the_address_it_appended_tells_visitors_apart(served, dashscope_fake, guard, monkeypatch):
    guard(runs_per_hour=1)
    monkeypatch.setenv("WAN26_PROXY_HOPS", "1")  # a proxy (STRANGER here) appends the visitor's address

    def run(forwarded: str) -> Answer:
        headers = {"X-Forwarded-For": forwarded}
        return raw_call(served, "text_to_image", ["a fox", *T2I_DEFAULTS], headers=headers, source=STRANGER)

    assert run("198.51.100.7").event == "complete"
    forged = run("203.0.113.9, 198.51.100.7")  # the visitor wrote the left part; the proxy appended theirs
    assert forged.event == "error" and "limit per visitor" in forged.message
    assert run("198.51.100.8").event == "complete"  # someone else
    assert len(dashscope_fake.generation_requests()) == 2
    assert_clean(forged.text)


def test_a_visitor_connecting_from_loopback_cannot_pick_its_identity(served, dashscope_fake, guard):
    guard(runs_per_hour=1)
    assert raw_call(served, "text_to_image", ["a fox", *T2I_DEFAULTS]).event == "complete"
    forged = raw_call(served, "text_to_image", ["a fox", *T2I_DEFAULTS], headers={"X-Forwarded-For": "203.0.113.9"})
    assert forged.event == "error" and "limit per visitor" in forged.message


def test_the_daily_spending_limit_refuses_a_run_that_would_pass_it_before_sending(served, dashscope_fake, guard):
    guard(daily_usd=0.05)
    with connected(served) as visitor:
        with pytest.raises(AppError) as caught:
            visitor.predict("a fox", n=2, api_name="/text_to_image")  # 2 × $0.03 = $0.06
        assert dashscope_fake.requests == []
        refusal = str(caught.value)
        assert "daily spending limit of $0.05" in refusal and "about $0.06" in refusal
        assert "Paste your own key" in refusal
        gallery, _, _ = visitor.predict("a fox", n=1, api_name="/text_to_image")  # $0.03 fits
    assert len(gallery) == 1 and len(dashscope_fake.generation_requests()) == 1
    assert_clean(refusal, json.dumps(gallery))


# ---- 4. nothing paid for is lost -----------------------------------------------------------------


def test_images_that_could_not_be_saved_are_shown_with_their_links(served, dashscope_fake):
    dashscope_fake.fail_next(404, "NoSuchKey", "The specified key does not exist.", target="download", times=10)
    with connected(served) as visitor, pytest.raises(AppError) as caught:
        visitor.predict("a fox", n=2, api_name="/text_to_image")
    message = str(caught.value)
    urls = {dashscope_fake.server_url + request.path for request in dashscope_fake.downloads()}
    assert len(urls) == 2  # both made, both billed
    assert all(url in message for url in urls), message
    assert "Not saved" in message
    assert_clean(message)


def test_the_owner_is_charged_what_the_vendor_may_have_billed_and_nothing_for_refusals(served, dashscope_fake, guard):
    key_guard = guard(daily_usd=1.0)
    with connected(served) as visitor:
        visitor.predict("a fox", n=2, api_name="/text_to_image")  # two images made: 2 × $0.03
        assert key_guard.remaining_today() == pytest.approx(0.94)
        dashscope_fake.fail_with(FailureKind.AUTH)  # refused before anything was generated
        with pytest.raises(AppError):
            visitor.predict("a fox", n=2, api_name="/text_to_image")
        assert key_guard.remaining_today() == pytest.approx(0.94)
        dashscope_fake.fail_with(FailureKind.SERVER)  # failed after it was received: may be billed
        with pytest.raises(AppError):
            visitor.predict("a fox", n=1, api_name="/text_to_image")
        assert key_guard.remaining_today() == pytest.approx(0.91)


def test_a_fan_out_whose_calls_all_failed_keeps_its_estimate(served, only_vendor, guard):
    fake = only_vendor("aimlapi")  # one image per call: n=2 is two calls
    key_guard = guard(daily_usd=1.0)
    fake.fail_with(FailureKind.SERVER, times=2)
    with connected(served) as visitor, pytest.raises(AppError):
        visitor.predict("a fox", n=2, width=1024, height=1024, provider="aimlapi", api_name="/text_to_image")
    assert len(fake.generation_requests()) == 2
    assert key_guard.remaining_today() == pytest.approx(1.0 - 2 * 0.039)
