"""Tests OF the DashScope fake (and the net guard), with plain httpx against the served app.

The fake must accept the documented examples, answer in the documented shapes, and reject
what the real API rejects. DashScope's pages:
- API reference: https://www.alibabacloud.com/help/en/model-studio/wan-image-generation-api-reference
- t2i reference: https://platform.qianwenai.com/docs/api-reference/image-generation/wan-text-to-image-v2/synchronous
- task query page: https://platform.qianwenai.com/docs/api-reference/image-generation/wan26-image-gen-edit/query-result
- error codes page: https://www.alibabacloud.com/help/en/model-studio/error-code
"""

from __future__ import annotations

import base64
import copy
import io
import json
import re
import socket
import time
import uuid

import httpx
import pytest
from PIL import Image

import netguard
from fakes.dashscope_bodies import chunked

SYNC = "/services/aigc/multimodal-generation/generation"
ASYNC = "/services/aigc/image-generation/generation"
SSE_HEADERS = {"X-DashScope-Sse": "enable"}
ASYNC_HEADERS = {"X-DashScope-Async": "enable"}
SERVER_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}")

# The API reference's edit example, verbatim.
EDIT_EXAMPLE = {
    "model": "wan2.6-image",
    "input": {
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "text": "Generate an image of scrambled eggs with tomatoes using the style of image 1 "
                        "and the background of image 2"
                    },
                    {"image": "https://cdn.wanx.aliyuncs.com/tmp/pressure/umbrella1.png"},
                    {
                        "image": "https://img.alicdn.com/imgextra/i3/O1CN01SfG4J41UYn9WNt4X1_!!6000000002530-49-tps-1696-960.webp"
                    },
                ],
            }
        ]
    },
    "parameters": {"prompt_extend": True, "watermark": False, "n": 1, "enable_interleave": False, "size": "1K"},
}
# The API reference's interleave example, verbatim.
INTERLEAVE_EXAMPLE = {
    "model": "wan2.6-image",
    "input": {
        "messages": [
            {"role": "user", "content": [{"text": "Give me a 3-image tutorial for stir-fried pork with chili peppers"}]}
        ]
    },
    "parameters": {"max_images": 3, "size": "1280*1280", "stream": True, "enable_interleave": True},
}
# The t2i reference's example, verbatim.
T2I_EXAMPLE = {
    "model": "wan2.6-t2i",
    "input": {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": "A flower shop with exquisite windows, a beautiful wooden door, and flowers on display"}
                ],
            }
        ]
    },
    "parameters": {"prompt_extend": True, "watermark": False, "n": 1, "negative_prompt": "", "size": "1280*1280"},
}
# The API reference's async example, verbatim.
ASYNC_INTERLEAVE_EXAMPLE = {
    "model": "wan2.6-image",
    "input": {
        "messages": [
            {"role": "user", "content": [{"text": "Give me a 3-image tutorial for stir-fried pork with chili peppers"}]}
        ]
    },
    "parameters": {"max_images": 3, "size": "1280*1280", "enable_interleave": True},
}
URL_IMAGE = "https://example.com/a.png"


@pytest.fixture
def client(dashscope_fake):
    headers = {"Authorization": f"Bearer {dashscope_fake.api_key}"}
    with httpx.Client(base_url=dashscope_fake.base_url, headers=headers, timeout=10) as http:
        yield http


def data_uri(width: int, height: int, fmt: str = "PNG", mode: str = "RGB", mime: str | None = None) -> str:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), (10, 200, 90) if mode == "RGB" else (10, 200, 90, 128)).save(buffer, fmt)
    return f"data:image/{mime or fmt.lower()};base64,{base64.b64encode(buffer.getvalue()).decode()}"


def body(model: str, text: str = "a cat", images: tuple[str, ...] = (), **parameters) -> dict:
    content = [{"text": text}] + [{"image": image} for image in images]
    return {"model": model, "input": {"messages": [{"role": "user", "content": content}]}, "parameters": parameters}


def t2i(**parameters) -> dict:
    return body("wan2.6-t2i", **parameters)


def edit(images: tuple[str, ...] = (URL_IMAGE,), **parameters) -> dict:
    return body("wan2.6-image", images=images, **parameters)


def interleave(images: tuple[str, ...] = (), **parameters) -> dict:
    return body("wan2.6-image", images=images, enable_interleave=True, **parameters)


def image_urls(payload: dict) -> list[str]:
    items = [item for c in payload["output"]["choices"] for item in c["message"]["content"]]
    return [item["image"] for item in items if item["type"] == "image"]


def png_size(client: httpx.Client, url: str) -> tuple[int, int]:
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as image:
        image.load()
        assert image.format == "PNG" and image.mode == "RGB"
        return image.size


def parse_sse(raw: bytes) -> list[tuple[str, str, str, dict]]:
    """Strict SSE framing: id, event, status comment, data; a blank line after each event."""
    text = raw.decode("utf-8")
    assert text.endswith("\n\n") and "[DONE]" not in text
    events = []
    for block in text[:-2].split("\n\n"):
        event_id, event, status, data = block.split("\n")
        assert event_id.startswith("id:") and event.startswith("event:") and data.startswith("data:")
        events.append((event_id[3:], event[6:], status, json.loads(data[5:])))
    return events


def assert_error(response: httpx.Response, status: int, code: str, fragment: str = "") -> None:
    payload = response.json()
    assert response.status_code == status, payload
    assert payload["code"] == code and fragment in payload["message"], payload
    assert uuid.UUID(payload["request_id"]) and response.headers["x-request-id"] == payload["request_id"]


# ---- documented examples are accepted -----------------------------------------------------


def test_t2i_example_returns_the_documented_sync_shape(client):
    response = client.post(SYNC, json=T2I_EXAMPLE)
    payload = response.json()
    assert response.status_code == 200
    assert set(payload) == {"output", "usage", "request_id"}
    assert response.headers["x-request-id"] == payload["request_id"]
    assert payload["usage"] == {
        "image_count": 1,
        "input_tokens": 0,
        "output_tokens": 0,
        "size": "1280*1280",
        "total_tokens": 0,
    }
    [choice] = payload["output"]["choices"]
    assert payload["output"]["finished"] is True and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    [item] = choice["message"]["content"]
    assert item["type"] == "image" and item["image"].endswith(".png?Expires=1767225600&Signature=fake")
    assert png_size(client, item["image"]) == (1280, 1280)


def test_edit_example_accepts_urls_without_fetching_them(client, dashscope_fake):
    payload = client.post(SYNC, json=EDIT_EXAMPLE).json()
    assert payload["usage"]["size"] == "1280*1280"  # 1K, last image is a URL: assumed square
    assert len(payload["output"]["choices"]) == 1
    assert all(r.path.startswith("/api/v1/") for r in dashscope_fake.requests)


def test_n_defaults_to_four_with_one_choice_per_image(client):
    payload = client.post(SYNC, json=edit()).json()
    assert payload["usage"]["image_count"] == 4
    assert [len(c["message"]["content"]) for c in payload["output"]["choices"]] == [1, 1, 1, 1]


def test_edit_1k_follows_the_aspect_ratio_of_the_last_image(client):
    images = (data_uri(300, 300), data_uri(600, 300, "JPEG"))
    url = image_urls(client.post(SYNC, json=edit(images, n=1, size="1K")).json())[0]
    assert png_size(client, url) == (1808, 912)  # sqrt(1280²·2) ≈ 1810 → 1808; 905 → 912


def test_edit_2k_and_explicit_sizes_round_to_multiples_of_16(client):
    assert client.post(SYNC, json=edit(n=1, size="2K")).json()["usage"]["size"] == "2048*2048"
    assert client.post(SYNC, json=edit(n=1, size="1000*1000")).json()["usage"]["size"] == "1008*1008"


def test_unknown_parameters_are_ignored(client):
    response = client.post(ASYNC, json=t2i(n=1, size="1280*1280", is_async=True), headers=ASYNC_HEADERS)
    assert response.status_code == 200  # the official SDK leaks is_async (https://pypi.org/project/dashscope/)


def test_long_text_is_truncated_and_recorded(client, dashscope_fake):
    response = client.post(SYNC, json=t2i(text="x" * 2500, n=1, negative_prompt="y" * 600))
    assert response.status_code == 200
    assert [(t.field, t.length, t.limit) for t in dashscope_fake.truncations] == [
        ("text", 2500, 2100),
        ("negative_prompt", 600, 500),
    ]


# ---- interleave streaming --------------------------------------------------------------------


def test_interleave_example_streams_with_exact_framing(client):
    response = client.post(SYNC, json=INTERLEAVE_EXAMPLE, headers=SSE_HEADERS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.content.startswith(b"id:1\nevent:result\n:HTTP_STATUS/200\ndata:{")
    events = parse_sse(response.content)
    payloads = [payload for _, _, _, payload in events]
    assert [e[0] for e in events] == [str(i) for i in range(1, len(events) + 1)]
    assert {e[1] for e in events} == {"result"} and {e[2] for e in events} == {":HTTP_STATUS/200"}
    assert [p["output"]["choices"][0]["finish_reason"] for p in payloads] == ["null"] * (len(payloads) - 1) + ["stop"]
    assert [p["output"]["finished"] for p in payloads] == [False] * (len(payloads) - 1) + [True]
    assert {p["request_id"] for p in payloads} == {response.headers["x-request-id"]}
    assert all(len(p["output"]["choices"][0]["message"]["content"]) == 1 for p in payloads)
    assert payloads[0]["usage"]["size"] == "0*0" and payloads[0]["usage"]["image_count"] == 0
    assert payloads[-1]["usage"]["image_count"] == 3 and payloads[-1]["usage"]["size"] == "1280*1280"
    counts = [p["usage"]["image_count"] for p in payloads]
    assert counts == sorted(counts)


def test_interleave_text_deltas_concatenate_to_non_ascii_paragraphs(client):
    payloads = [p for *_, p in parse_sse(client.post(SYNC, json=interleave(), headers=SSE_HEADERS).content)]
    items = [p["output"]["choices"][0]["message"]["content"][0] for p in payloads]
    text = "".join(i["text"] for i in items if i["type"] == "text")
    assert "准备食材" in text and "café ✓" in text
    assert all(len(i["text"]) <= 8 for i in items if i["type"] == "text")
    assert [i["type"] for i in items].count("image") == 3  # default interleave_image_count
    assert items[-1]["type"] == "text"


def test_interleave_image_count_is_bounded_by_max_images(client, dashscope_fake):
    dashscope_fake.interleave_image_count = 5
    payloads = [p for *_, p in parse_sse(client.post(SYNC, json=interleave(max_images=2), headers=SSE_HEADERS).content)]
    assert payloads[-1]["usage"]["image_count"] == 2


def test_interleave_images_are_real_pngs_following_the_input_size(client):
    response = client.post(SYNC, json=interleave((data_uri(800, 640),)), headers=SSE_HEADERS)
    urls = [
        item["image"]
        for *_, p in parse_sse(response.content)
        for item in p["output"]["choices"][0]["message"]["content"]
        if item["type"] == "image"
    ]
    assert len(urls) == 3 and png_size(client, urls[0]) == (800, 640)
    big = client.post(SYNC, json=interleave((data_uri(2000, 1000),)), headers=SSE_HEADERS)
    assert parse_sse(big.content)[-1][3]["usage"]["size"] == "1808*912"


def test_sse_header_alone_is_enough_and_names_are_case_insensitive(client):
    parameters = {k: v for k, v in INTERLEAVE_EXAMPLE["parameters"].items() if k != "stream"}
    response = client.post(
        SYNC, json={**INTERLEAVE_EXAMPLE, "parameters": parameters}, headers={"x-dashscope-sse": "ENABLE"}
    )
    assert response.status_code == 200 and parse_sse(response.content)


def test_sync_interleave_without_sse_header_is_rejected(client):
    assert_error(client.post(SYNC, json=INTERLEAVE_EXAMPLE), 400, "InvalidParameter", "X-DashScope-Sse")


def test_sse_chunk_size_splits_events_and_utf8_characters(client, dashscope_fake):
    dashscope_fake.sse_chunk_size = 7
    with client.stream("POST", SYNC, json=interleave(), headers=SSE_HEADERS) as response:
        chunks = list(response.iter_raw())
    assert len(chunks) > 10 and max(map(len, chunks)) <= 7
    events = parse_sse(b"".join(chunks))
    assert events[-1][3]["output"]["choices"][0]["finish_reason"] == "stop"
    assert chunked(b"abcdefgh", 3) == [b"abc", b"def", b"gh"]


def test_stream_fault_error_emits_an_error_event_and_ends(client, dashscope_fake):
    dashscope_fake.stream_fault = ("error", "DataInspectionFailed", "Output data may contain inappropriate content.", 2)
    raw = client.post(SYNC, json=interleave(), headers=SSE_HEADERS).content.decode()
    blocks = raw.rstrip("\n").split("\n\n")
    assert len(blocks) == 3
    event_id, event, status, data = blocks[-1].split("\n")
    assert (event_id, event, status) == ("id:3", "event:error", ":HTTP_STATUS/400")
    error = json.loads(data[5:])
    assert error["code"] == "DataInspectionFailed" and uuid.UUID(error["request_id"])


def test_stream_fault_cut_closes_without_a_stop_event(client, dashscope_fake):
    dashscope_fake.stream_fault = ("cut", 4)
    events = parse_sse(client.post(SYNC, json=interleave(), headers=SSE_HEADERS).content)
    assert len(events) == 4
    assert {e[3]["output"]["choices"][0]["finish_reason"] for e in events} == {"null"}


# ---- rejections ------------------------------------------------------------------------------


def test_auth_missing_and_wrong_key(client):
    assert_error(
        client.post(SYNC, json=T2I_EXAMPLE, headers={"Authorization": ""}), 401, "InvalidApiKey", "No API-key provided."
    )
    assert_error(
        client.post(SYNC, json=T2I_EXAMPLE, headers={"Authorization": "Bearer sk-wrong"}),
        401,
        "InvalidApiKey",
        "Invalid API-key provided.",
    )
    assert_error(client.get("/tasks/x", headers={"Authorization": ""}), 401, "InvalidApiKey")


def test_body_must_be_a_json_object_sent_as_json(client):
    assert_error(
        client.post(SYNC, content=b"{not json", headers={"Content-Type": "application/json"}),
        400,
        "InvalidParameter",
        "Required body invalid, please check the request body format.",
    )
    assert_error(client.post(SYNC, json=[T2I_EXAMPLE]), 400, "InvalidParameter", "Required body invalid")
    assert_error(
        client.post(SYNC, content=json.dumps(T2I_EXAMPLE), headers={"Content-Type": "text/plain"}),
        400,
        "InvalidParameter",
        "Content-Type",
    )


def test_unknown_model_is_404(client):
    assert_error(
        client.post(SYNC, json={**T2I_EXAMPLE, "model": "wan2.5-t2i-preview"}),
        404,
        "ModelNotFound",
        "Model can not be found.",
    )


def _with_type_key() -> dict:
    request = copy.deepcopy(T2I_EXAMPLE)
    request["input"]["messages"][0]["content"][0]["type"] = "text"
    return request


def _two_messages() -> dict:
    request = copy.deepcopy(T2I_EXAMPLE)
    request["input"]["messages"].append(copy.deepcopy(request["input"]["messages"][0]))
    return request


def _assistant_role() -> dict:
    request = copy.deepcopy(T2I_EXAMPLE)
    request["input"]["messages"][0]["role"] = "assistant"
    return request


def _no_text() -> dict:
    request = edit()
    request["input"]["messages"][0]["content"].pop(0)
    return request


def _two_texts() -> dict:
    request = t2i()
    request["input"]["messages"][0]["content"].append({"text": "again"})
    return request


BAD_BODIES = {
    "type key in request item": (_with_type_key, "type"),
    "two messages": (_two_messages, "input.messages"),
    "assistant role": (_assistant_role, "role"),
    "no text item": (_no_text, "text"),
    "two text items": (_two_texts, "text"),
    "empty text": (lambda: t2i(text=""), "text"),
    "t2i with an image": (lambda: body("wan2.6-t2i", images=(URL_IMAGE,)), "image"),
    "edit without images": (lambda: edit(()), "image"),
    "edit with five images": (lambda: edit((URL_IMAGE,) * 5), "image"),
    "interleave with two images": (lambda: interleave((URL_IMAGE, URL_IMAGE)), "image"),
    "ftp image url": (lambda: edit(("ftp://example.com/a.png",)), "image"),
    "gif data uri": (lambda: edit((data_uri(300, 300, "GIF"),)), "image"),
    "png with alpha": (lambda: edit((data_uri(300, 300, "PNG", "RGBA"),)), "alpha"),
    "image too small": (lambda: edit((data_uri(200, 300),)), "[240, 8000]"),
    "bad base64": (lambda: edit(("data:image/png;base64,!!!",)), "base64"),
    "not an image": (lambda: edit(("data:image/png;base64," + base64.b64encode(b"hello").decode(),)), "decode"),
    "mime does not match bytes": (lambda: edit((data_uri(300, 300, "JPEG", mime="png"),)), "JPEG"),
    "n zero": (lambda: t2i(n=0), "n"),
    "n five": (lambda: edit(n=5), "n"),
    "n boolean": (lambda: t2i(n=True), "n"),
    "n string": (lambda: t2i(n="1"), "n"),
    "max_images six": (lambda: interleave(max_images=6), "max_images"),
    "seed negative": (lambda: t2i(seed=-1), "seed"),
    "seed too big": (lambda: t2i(seed=2_147_483_648), "seed"),
    "watermark as string": (lambda: t2i(watermark="false"), "watermark"),
    "enable_interleave as int": (lambda: edit(enable_interleave=1), "enable_interleave"),
    "size with x": (lambda: t2i(size="1280x1280"), "separator"),
    "size not a string": (lambda: t2i(size=[1280, 1280]), "size"),
    "t2i size too small": (lambda: t2i(size="1024*1024"), "pixels"),
    "t2i size too large": (lambda: t2i(size="1500*1500"), "pixels"),
    "t2i 1K": (lambda: t2i(size="1K"), "size"),
    "edit size too large": (lambda: edit(size="2100*2100"), "pixels"),
    "edit ratio over 4:1": (lambda: edit(size="2500*600"), "aspect ratio"),
    "interleave size too large": (lambda: interleave(size="1440*1440"), "pixels"),
    "interleave 2K": (lambda: interleave(size="2K"), "size"),
    "negative_prompt not a string": (lambda: t2i(negative_prompt=5), "negative_prompt"),
    "parameters not an object": (lambda: {**t2i(), "parameters": []}, "parameters"),
}


@pytest.mark.parametrize("make_body, fragment", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_malformed_bodies_are_rejected(client, make_body, fragment):
    request = make_body()
    parameters = request["parameters"] if isinstance(request["parameters"], dict) else {}
    response = client.post(SYNC, json=request, headers=SSE_HEADERS if parameters.get("enable_interleave") else None)
    assert_error(response, 400, "InvalidParameter", fragment)


@pytest.mark.parametrize("n", [2, 0, "1", True])
def test_interleave_n_must_be_one(client, n):
    assert_error(
        client.post(SYNC, json=interleave(n=n), headers=SSE_HEADERS),
        400,
        "InvalidParameter",
        "num_images_per_prompt must be 1",
    )


@pytest.mark.parametrize("size", ["1104*1472", "960*1696", "1440*1440", "1696*960"])
def test_t2i_recommended_sizes_are_accepted(client, size):
    assert client.post(SYNC, json=t2i(n=1, size=size)).json()["usage"]["size"] == size


def test_edit_mode_rejects_the_sse_header(client):
    assert_error(client.post(SYNC, json=EDIT_EXAMPLE, headers=SSE_HEADERS), 400, "InvalidParameter", "X-DashScope-Sse")


# ---- async tasks -----------------------------------------------------------------------------


def submit(client: httpx.Client, request: dict) -> str:
    response = client.post(ASYNC, json=request, headers=ASYNC_HEADERS)
    payload = response.json()
    assert response.status_code == 200, payload
    assert payload["output"]["task_status"] == "PENDING" and set(payload) == {"output", "request_id"}
    return payload["output"]["task_id"]


def test_async_submit_without_async_header_is_403(client):
    assert_error(
        client.post(ASYNC, json=T2I_EXAMPLE),
        403,
        "AccessDenied",
        "current user api does not support synchronous calls.",
    )


def test_async_interleave_runs_through_the_default_script(client):
    task_id = submit(client, ASYNC_INTERLEAVE_EXAMPLE)
    running = client.get(f"/tasks/{task_id}").json()
    assert running["output"] == {"task_id": task_id, "task_status": "RUNNING"}
    done = client.get(f"/tasks/{task_id}").json()
    output = done["output"]
    assert output["task_status"] == "SUCCEEDED" and output["finished"] is True
    assert all(SERVER_TIME.fullmatch(output[k]) for k in ("submit_time", "scheduled_time", "end_time"))
    [choice] = output["choices"]
    kinds = [item["type"] for item in choice["message"]["content"]]
    assert kinds == ["text", "image", "text", "image", "text", "image", "text"]
    assert "准备食材" in choice["message"]["content"][0]["text"]
    assert done["usage"]["image_count"] == 3 and done["usage"]["size"] == "1280*1280"
    assert client.get(f"/tasks/{task_id}").json()["output"]["task_status"] == "SUCCEEDED"


def test_async_edit_succeeds_with_one_choice_per_image(client, dashscope_fake):
    dashscope_fake.task_script = ["PENDING", "RUNNING", "SUCCEEDED"]
    task_id = submit(client, edit(n=2, size="1280*720"))
    statuses = [client.get(f"/tasks/{task_id}").json()["output"]["task_status"] for _ in range(3)]
    assert statuses == ["PENDING", "RUNNING", "SUCCEEDED"]
    done = client.get(f"/tasks/{task_id}").json()
    assert len(done["output"]["choices"]) == 2
    assert done["usage"] == {
        "image_count": 2,
        "input_tokens": 0,
        "output_tokens": 0,
        "size": "1280*720",
        "total_tokens": 0,
    }
    assert png_size(client, image_urls(done)[1]) == (1280, 720)


def test_failed_task_nests_code_in_output_by_default(client, dashscope_fake):
    dashscope_fake.task_script = ["FAILED"]
    output = client.get(f"/tasks/{submit(client, T2I_EXAMPLE)}").json()["output"]
    assert (output["task_status"], output["code"]) == ("FAILED", "InternalError")
    assert output["message"] == "An internal error has occured, try again later." and output["finished"] is True


def test_failed_task_top_level_shape(client, dashscope_fake):
    dashscope_fake.task_script = ["FAILED"]
    dashscope_fake.task_failure = ("InvalidParameter", "num_images_per_prompt must be 1")
    dashscope_fake.task_failure_shape = "top"
    payload = client.get(f"/tasks/{submit(client, T2I_EXAMPLE)}").json()
    assert payload["code"] == "InvalidParameter" and payload["output"]["task_status"] == "FAILED"
    assert "code" not in payload["output"]


def test_canceled_script_state_and_cancel_endpoint(client, dashscope_fake):
    dashscope_fake.task_script = ["CANCELED"]
    assert client.get(f"/tasks/{submit(client, T2I_EXAMPLE)}").json()["output"]["task_status"] == "CANCELED"
    dashscope_fake.task_script = ["RUNNING", "SUCCEEDED"]
    pending = submit(client, T2I_EXAMPLE)
    canceled = client.post(f"/tasks/{pending}/cancel")
    assert canceled.status_code == 200 and set(canceled.json()) == {"request_id"}
    assert client.get(f"/tasks/{pending}").json()["output"]["task_status"] == "CANCELED"
    running = submit(client, T2I_EXAMPLE)
    client.get(f"/tasks/{running}")
    assert_error(client.post(f"/tasks/{running}/cancel"), 400, "UnsupportedOperation")


def test_unknown_task_is_200_unknown(client):
    payload = client.get("/tasks/no-such-task").json()
    assert payload["output"] == {"task_id": "no-such-task", "task_status": "UNKNOWN"} and payload["request_id"]


def test_rate_limit_counts_non_terminal_tasks(client, dashscope_fake):
    dashscope_fake.max_running_tasks = 2
    first = submit(client, T2I_EXAMPLE)
    submit(client, T2I_EXAMPLE)
    assert_error(
        client.post(ASYNC, json=T2I_EXAMPLE, headers=ASYNC_HEADERS),
        429,
        "Throttling.RateQuota",
        "Requests rate limit exceeded, please try again later.",
    )
    client.get(f"/tasks/{first}")
    client.get(f"/tasks/{first}")
    submit(client, T2I_EXAMPLE)


# ---- faults, delays, recording, reset ---------------------------------------------------------


def test_fail_next_fires_times_then_recovers(client, dashscope_fake):
    dashscope_fake.fail_next(500, "InternalError", "boom", times=2, retry_after=3)
    for _ in range(2):
        failed = client.post(SYNC, json=T2I_EXAMPLE)
        assert_error(failed, 500, "InternalError", "boom")
        assert failed.headers["retry-after"] == "3"
    assert client.post(SYNC, json=T2I_EXAMPLE).status_code == 200


def test_fail_next_with_status_200_business_error(client, dashscope_fake):
    dashscope_fake.fail_next(200, "Throttling", "Requests throttling triggered.")
    assert_error(client.post(ASYNC, json=T2I_EXAMPLE, headers=ASYNC_HEADERS), 200, "Throttling")


def test_poll_and_download_faults(client, dashscope_fake):
    url = image_urls(client.post(SYNC, json=T2I_EXAMPLE).json())[0]
    dashscope_fake.fail_next(404, "NoSuchKey", "gone", target="download")
    assert client.get(url).status_code == 404
    assert client.get(url).status_code == 200
    dashscope_fake.fail_next(503, "ModelUnavailable", "Model is unavailable, try again later.", target="poll")
    assert_error(client.get("/tasks/anything"), 503, "ModelUnavailable")
    with pytest.raises(ValueError):
        dashscope_fake.fail_next(500, "X", "y", target="nope")


def test_download_requires_the_signed_query(client):
    url = image_urls(client.post(SYNC, json=T2I_EXAMPLE).json())[0]
    assert client.get(url.split("?")[0]).status_code == 403


def test_delay_sleeps_before_answering(client, dashscope_fake):
    dashscope_fake.delay("poll", 0.3)
    started = time.monotonic()
    assert client.get("/tasks/x").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    client.get("/tasks/x")
    assert time.monotonic() - started < 0.3


def test_requests_are_recorded_with_lowercased_headers(client, dashscope_fake):
    url = image_urls(client.post(SYNC, json=T2I_EXAMPLE, headers={"X-Custom": "1"}).json())[0]
    client.get(url)
    client.get("/tasks/abc?x=1")
    [generation] = dashscope_fake.generation_requests()
    assert generation.json == T2I_EXAMPLE and generation.headers["x-custom"] == "1"
    assert generation.headers["authorization"] == f"Bearer {dashscope_fake.api_key}"
    [download] = dashscope_fake.downloads()
    assert download.query == {"Expires": "1767225600", "Signature": "fake"}
    assert [r.method for r in dashscope_fake.requests] == ["POST", "GET", "GET"]
    assert dashscope_fake.requests[-1].query == {"x": "1"} and dashscope_fake.requests[-1].json is None


def test_reset_restores_defaults(dashscope_fake):
    dashscope_fake.task_script = ["FAILED"]
    dashscope_fake.sse_chunk_size = 3
    dashscope_fake.fail_next(500, "InternalError", "boom")
    dashscope_fake.reset()
    assert dashscope_fake.task_script == ["RUNNING", "SUCCEEDED"] and dashscope_fake.sse_chunk_size is None
    assert dashscope_fake.requests == [] and dashscope_fake.tasks == {}
    assert dashscope_fake.max_running_tasks == 5 and dashscope_fake.interleave_image_count == 3
    assert dashscope_fake.base_url.startswith("http://127.0.0.1:") and dashscope_fake.base_url.endswith("/api/v1")


def test_dashscope_env_points_at_the_fake(dashscope_env, tmp_path):
    import os

    assert os.environ["DASHSCOPE_API_KEY"] == dashscope_env.api_key
    assert os.environ["DASHSCOPE_BASE_URL"] == dashscope_env.base_url
    assert os.environ["WAN26_OUTPUT_DIR"] == str(tmp_path / "outputs")
    assert "DASHSCOPE_REGION" not in os.environ


# ---- the net guard -----------------------------------------------------------------------------


def test_net_guard_blocks_non_loopback_http():
    with pytest.raises(netguard.NetworkBlocked, match="guard-test.invalid"):
        httpx.get("http://guard-test.invalid/")


@pytest.mark.parametrize("method", ["connect", "connect_ex"])
def test_net_guard_blocks_raw_sockets_before_resolving(method):
    with socket.socket() as sock, pytest.raises(netguard.NetworkBlocked, match="guard-test.invalid"):
        getattr(sock, method)(("guard-test.invalid", 80))


def test_net_guard_lets_unix_sockets_through(tmp_path):
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX) as server, socket.socket(socket.AF_UNIX) as client:
        server.bind(path)
        server.listen()
        client.connect(path)


@pytest.mark.parametrize(
    "host, expected",
    [
        ("127.0.0.1", True),
        ("127.9.8.7", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("::ffff:127.0.0.1", True),
        (b"127.0.0.1", True),
        ("192.0.2.1", False),
        ("10.0.0.1", False),
        ("0.0.0.0", False),
        ("guard-test.invalid", False),
        ("localhost.example.invalid", False),
        ("", False),
        (None, False),
    ],
)
def test_is_loopback(host, expected):
    assert netguard.is_loopback(host) is expected
