"""Vtrix end to end against its loopback fake, plus the adapter alone where plain dicts say it best."""

import asyncio
import json

import httpx
import pytest
from PIL import Image

from fakes.vendor import EXPECTED_ERROR, FailureKind
from fakes.vtrix import FakeVtrix
from wan26 import (
    AsyncClient,
    AuthenticationError,
    BadRequest,
    ConfigError,
    ContentModerated,
    Flow,
    ImageOffered,
    ImageRequest,
    ImageSaved,
    InvalidRequest,
    Mode,
    PermissionDenied,
    ProtocolError,
    ProviderFailure,
    ProviderTimeout,
    RateLimited,
    Size,
    SizeTier,
    TextDelta,
)
from wan26._http import RetryPolicy, should_retry
from wan26._poll import PollPolicy
from wan26.images import PreparedImage
from wan26.providers._base import (
    Credentials,
    OutputImage,
    OutputText,
    TaskStatus,
    WireRequest,
    direct_calls,
    flows_of,
)
from wan26.providers.vtrix import Vtrix
from wan26.types import Progress

FAST_POLL = PollPolicy(first_interval=0.01, growth=1.0, max_interval=0.01, deadline=30)
ADAPTER = Vtrix()
CREDS = Credentials("https://cloud.vtrix.ai", "vx-secret")


async def no_sleep(_seconds):
    await asyncio.sleep(0)


@pytest.fixture
def fake(vendor_fakes) -> FakeVtrix:
    """The session's FakeVtrix (conftest), reset."""
    return vendor_fakes["vtrix"]


@pytest.fixture
def photo(tmp_path):
    """A 400x300 PNG with transparency: the API refuses alpha, so the fake proves it was flattened."""
    path = tmp_path / "photo.png"
    Image.new("RGBA", (400, 300), (200, 30, 30, 128)).save(path)
    return path


def generate(fake, tmp_path, request, env=None, **options):
    """Run `request` through wan26 against the fake; the result and every event on the way."""
    events = []

    async def go():
        async with AsyncClient(
            provider="vtrix",
            env=env or fake.env(),
            output_dir=tmp_path / "outputs",
            sleep=no_sleep,
            poll=FAST_POLL,
            **options,
        ) as client:
            return await client.generate(request, on_event=events.append)

    return asyncio.run(go()), events


def sent(fake):
    [request] = fake.generation_requests()
    return request.json


REQUESTS = {
    Mode.TEXT_TO_IMAGE: lambda photo: ImageRequest(Mode.TEXT_TO_IMAGE, "a lighthouse", size=Size(1280, 1280), n=2),
    Mode.EDIT: lambda photo: ImageRequest(Mode.EDIT, "image 1 at night", images=(photo,), size=Size(1280, 720), n=2),
    Mode.INTERLEAVE: lambda photo: ImageRequest(Mode.INTERLEAVE, "a recipe", size=Size(1024, 1024), max_images=2),
}
SIZES = {Mode.TEXT_TO_IMAGE: (1280, 1280), Mode.EDIT: (1280, 720), Mode.INTERLEAVE: (1024, 1024)}


# ---- every mode, end to end ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(REQUESTS))
def test_every_mode_saves_the_served_pngs_and_a_sidecar_with_model_and_cost(fake, tmp_path, photo, mode):
    result, _ = generate(fake, tmp_path, REQUESTS[mode](photo))

    assert len(result.images) == 2 and len(fake.downloads()) == 2
    for image in result.images:
        assert image.path.read_bytes() == httpx.get(image.source_url).content
        assert Image.open(image.path).size == SIZES[mode] == (image.width, image.height)
    record = json.loads(result.sidecar.read_text())
    model = "wan26_t2i" if mode is Mode.TEXT_TO_IMAGE else "wan26_image"
    assert (record["status"], record["provider"], record["model"], record["flow"]) == (
        "succeeded",
        "vtrix",
        model,
        "task",
    )
    assert record["task_id"] in fake.tasks
    assert record["cost_usd"] == pytest.approx(2 * 0.035714285714, abs=1e-6)
    assert record["seed"] == sent(fake)["input"][0]["params"]["parameters"]["seed"]


def test_text_to_image_wire_is_the_wrapped_native_body(fake, tmp_path):
    generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a lighthouse", "blur", size=Size(1280, 1280), seed=42))

    assert sent(fake) == {
        "model": "wan26_t2i",
        "input": [
            {
                "params": {
                    "input": {"messages": [{"role": "user", "content": [{"text": "a lighthouse"}]}]},
                    "parameters": {
                        "watermark": False,
                        "negative_prompt": "blur",
                        "seed": 42,
                        "size": "1280*1280",
                        "n": 1,
                        "prompt_extend": True,
                    },
                }
            }
        ],
    }
    [request] = fake.generation_requests()
    assert request.headers["authorization"] == f"Bearer {fake.api_key}" and "x-model" not in request.headers
    assert [(s.form, s.model_from) for s in fake.submissions] == [("wrapped", "body")]


def test_edit_wire_sends_the_flattened_image_the_tier_and_interleave_off(fake, tmp_path, photo):
    request = ImageRequest(Mode.EDIT, "image 1 at night", images=(photo,), size=SizeTier.K2, prompt_extend=False)
    generate(fake, tmp_path, request)

    body = sent(fake)
    native = body["input"][0]["params"]
    assert body["model"] == "wan26_image" and "model" not in native  # the model at the top only [?]
    [text, image] = native["input"]["messages"][0]["content"]
    assert text == {"text": "image 1 at night"} and image["image"].startswith("data:image/png;base64,")
    parameters = native["parameters"]
    assert parameters == {
        "watermark": False,
        "seed": parameters["seed"],
        "size": "2K",
        "n": 1,
        "prompt_extend": False,
        "enable_interleave": False,
    }


def test_interleave_wire_asks_for_max_images_without_n_or_prompt_extend(fake, tmp_path):
    generate(fake, tmp_path, ImageRequest(Mode.INTERLEAVE, "a recipe", max_images=3, seed=7, watermark=True))

    native = sent(fake)["input"][0]["params"]
    assert native["input"]["messages"] == [{"role": "user", "content": [{"text": "a recipe"}]}]
    assert native["parameters"] == {"watermark": True, "seed": 7, "enable_interleave": True, "max_images": 3}


def test_interleave_keeps_text_and_images_in_order(fake, tmp_path):
    result, events = generate(fake, tmp_path, ImageRequest(Mode.INTERLEAVE, "a recipe", max_images=2))

    kinds = [type(event).__name__ for event in events if isinstance(event, TextDelta | ImageOffered)]
    assert kinds == ["TextDelta", "ImageOffered", "TextDelta", "ImageOffered", "TextDelta"]
    assert sum(isinstance(event, ImageSaved) for event in events) == 2
    assert result.text.startswith("Step 1 — 准备食材") and result.text.endswith("Done — 完成!")
    record = json.loads(result.sidecar.read_text())
    assert [(s["type"], s.get("file")) for s in record["segments"]] == [
        ("text", None),
        ("image", "01.png"),
        ("text", None),
        ("image", "02.png"),
        ("text", None),
    ]
    assert record["text"] == result.text


def test_task_progress_reaches_the_caller(fake, tmp_path):
    fake.task_script = [("pending", None), ("in_progress", 0.3), ("processing", 0.8), ("completed", None)]
    _, events = generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"))

    waiting = [event.message for event in events if isinstance(event, Progress) and event.task_status]
    assert waiting[-3:] == ["Task pending", "Task in_progress (30%)", "Task processing (80%)"]


@pytest.mark.parametrize(
    ("cost", "expected"), [("0.0357142857", 0.035714), (0.05, 0.05), ("not a number", None)], ids=str
)
def test_cost_is_reported_from_a_string_or_a_number(fake, tmp_path, cost, expected):
    fake.cost = cost
    result, _ = generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"))

    assert result.cost_usd == expected
    assert len(result.images) == 1  # an unreadable cost never costs the images


# ---- failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(FailureKind))
def test_each_failure_becomes_its_error_with_the_vendors_words_and_a_hint(fake, tmp_path, kind):
    fake.fail_with(kind, times=10)  # more than the retries a rate limit gets

    with pytest.raises(EXPECTED_ERROR[kind]) as caught:
        generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"))

    error = caught.value
    assert error.provider == "vtrix" and error.code and error.message and error.hint
    words = {
        FailureKind.AUTH: ("API key is missing", "VTRIX_API_KEY"),
        FailureKind.CREDITS: ("Insufficient balance", "top up"),
        FailureKind.RATE_LIMIT: ("Rate limit exceeded", "Wait"),
        FailureKind.MODERATION: ("inappropriate content", "Rephrase"),
        FailureKind.SERVER: ("Internal server error", "Try again"),
    }[kind]
    assert words[0] in error.message and words[1] in error.hint


def test_rate_limit_is_retried_and_billed_once(fake, tmp_path):
    fake.fail_with(FailureKind.RATE_LIMIT)
    result, _ = generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"))
    assert len(result.images) == 1 and len(fake.generation_requests()) == 2 and len(fake.tasks) == 1


def test_server_error_on_submit_is_not_resubmitted(fake, tmp_path):
    fake.fail_with(FailureKind.SERVER)
    with pytest.raises(ProviderFailure) as caught:
        generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"))
    assert len(fake.generation_requests()) == 1
    assert (caught.value.code, caught.value.status_code) == ("500", 500)


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        ("upstream worker crashed", None, "upstream worker crashed"),
        ({"code": 2014001, "message": "Image generation failed"}, "2014001", "Image generation failed"),
        ({"code": "002014001", "error_message": "Image generation failed"}, "002014001", "Image generation failed"),
    ],
    ids=["string", "object", "error_message"],
)
def test_a_failed_task_reports_its_error_and_task_id(fake, tmp_path, error, code, message):
    fake.task_error = error
    fake.task_script = [("in_progress", 0.5), ("failed", None)]

    with pytest.raises(ProviderFailure) as caught:
        generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"))

    assert (caught.value.code, caught.value.message) == (code, message)
    assert caught.value.task_id in fake.tasks and caught.value.hint
    assert len(fake.generation_requests()) == 1


def test_moderation_passed_through_as_text_is_still_moderation(fake, tmp_path):
    fake.task_error = "DataInspectionFailed: Output data may contain inappropriate content."
    fake.task_script = [("failed", None)]

    with pytest.raises(ContentModerated) as caught:
        generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"))
    assert caught.value.code == "DataInspectionFailed" and "Rephrase" in caught.value.hint


def test_wrong_key_names_the_setting_and_never_shows_the_key(fake, tmp_path):
    env = {**fake.env(), "VTRIX_API_KEY": "vx-wrong-key-123456"}
    with pytest.raises(AuthenticationError) as caught:
        generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), env=env)
    assert "VTRIX_API_KEY" in str(caught.value) and "vx-wrong-key-123456" not in str(caught.value)


@pytest.mark.parametrize(
    "poll_body",
    [
        {"id": "t1", "model": "wan26_t2i"},  # no status
        {"id": "t1", "status": "completed"},  # no output
        {"id": "t1", "status": "completed", "output": [{"content": [{"type": "image"}]}]},  # no url
        {"id": "t1", "status": "completed", "output": [{"content": [{"type": "video", "url": "http://x/v.mp4"}]}]},
    ],
    ids=["no-status", "no-output", "no-url", "video"],
)
def test_malformed_task_answers_are_protocol_errors(fake, tmp_path, poll_body):
    fake.raw_poll_body = poll_body
    with pytest.raises(ProtocolError):
        generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"))


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (ImageRequest(Mode.TEXT_TO_IMAGE, "fox", size=Size(1104, 1472)), "size"),  # DashScope allows it, Vtrix not
        (ImageRequest(Mode.EDIT, "no image given"), "images"),
        (ImageRequest(Mode.INTERLEAVE, "x", max_images=6), "max_images"),
        (ImageRequest(Mode.TEXT_TO_IMAGE, "x" * 2101), "prompt"),
    ],
    ids=["t2i-below-1280²", "edit-without-image", "max-images", "long-prompt"],
)
def test_bad_input_is_refused_before_anything_is_sent(fake, tmp_path, request_, field):
    with pytest.raises(InvalidRequest) as caught:
        generate(fake, tmp_path, request_)
    assert field in {violation.field for violation in caught.value.violations}
    assert fake.requests == []


def test_the_direct_flow_is_refused_before_anything_is_sent(fake, tmp_path):
    async def go():
        async with AsyncClient(provider="vtrix", env=fake.env(), output_dir=tmp_path) as client:
            await client.generate(ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), flow=Flow.DIRECT)

    with pytest.raises(InvalidRequest, match="direct flow"):
        asyncio.run(go())
    assert fake.requests == []


# ---- the fake is as strict as Vtrix documents -----------------------------------------------------


def post(fake, body, headers=None):
    headers = {"Authorization": f"Bearer {fake.api_key}", **(headers or {})}
    return httpx.post(fake.base_url + "/model/v1/generation", json=body, headers=headers)


def native(text="x", images=(), **parameters):
    content = [{"text": text}, *({"image": image} for image in images)]
    return {"input": {"messages": [{"role": "user", "content": content}]}, "parameters": parameters}


def test_fake_also_accepts_the_flat_body_and_the_model_in_a_header(fake):
    assert post(fake, {"model": "wan26_t2i", **native(n=1)}).status_code == 200
    assert post(fake, {"input": [{"params": native(n=1)}]}, {"X-Model": "wan26_t2i"}).status_code == 200
    assert [(s.form, s.model_from) for s in fake.submissions] == [("flat", "body"), ("wrapped", "header")]


@pytest.mark.parametrize(
    ("model", "params", "fragment"),
    [
        ("wan26_t2i", native(enable_interleave=True), "enable_interleave"),
        ("wan26_image", native(stream=True), "stream"),
        ("wan26_image", native(n=1, enable_interleave=False), "1-4 input images"),
        ("wan26_image", native(images=("http://a/1.png",) * 2, enable_interleave=True), "0-1 input images"),
        ("wan26_image", native(enable_interleave=True, n=2), "num_images_per_prompt must be 1"),
        ("wan26_image", native(images=("ftp://a/1.png",), n=1), "http(s) URL"),
        ("wan26_t2i", native(size="1104*1472"), "below 1280*1280"),
        ("wan26_t2i", native(seed=-1), "seed"),
        ("wan26_image", native(images=("http://a/1.png",), size="700*700"), "pixels"),
        ("wan26_video", native(), "not found"),
    ],
)
def test_fake_refuses_what_the_docs_forbid_in_vtrix_error_shape(fake, model, params, fragment):
    response = post(fake, {"model": model, "input": [{"params": params}]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert fragment in error["message"] and error["code"]
    assert fake.submissions == []


def test_fake_refuses_a_wrapped_body_with_extra_blocks(fake):
    assert post(fake, {"model": "wan26_t2i", "input": [{"params": native()}, {"params": native()}]}).status_code == 400
    assert post(fake, {"model": "wan26_t2i", "input": [{"params": native()}], "seed": 1}).status_code == 400


# ---- the adapter alone ----------------------------------------------------------------------------


def wire(mode, images=(), seed=7, **changes) -> WireRequest:
    return WireRequest(ImageRequest(mode, "make it", images=tuple("x" for _ in images), **changes), images, seed)


def test_submit_and_poll_urls_and_no_direct_call():
    call = ADAPTER.build_submit(wire(Mode.TEXT_TO_IMAGE), CREDS)
    assert (call.method, call.url) == ("POST", "https://cloud.vtrix.ai/model/v1/generation")
    assert call.headers["Authorization"] == "Bearer vx-secret" and "vx-secret" not in repr(call)
    poll = ADAPTER.build_poll("d88pmute/87", CREDS)
    assert (poll.method, poll.url) == ("GET", "https://cloud.vtrix.ai/model/v1/generation/task/d88pmute%2F87")
    assert flows_of(ADAPTER) == {Flow.TASK}
    with pytest.raises(ConfigError, match="Vtrix has no direct call; the flows it offers: task"):
        direct_calls(ADAPTER)


def test_edit_sends_image_urls_in_order():
    first = PreparedImage("data:image/png;base64,AAAA", "a.png", 300, 300, 3)
    second = PreparedImage("https://example.com/b.png", "https://example.com/b.png", None, None, None)
    call = ADAPTER.build_submit(wire(Mode.EDIT, images=(first, second)), CREDS)
    content = call.json["input"][0]["params"]["input"]["messages"][0]["content"]
    assert content == [
        {"text": "make it"},
        {"image": "data:image/png;base64,AAAA"},
        {"image": "https://example.com/b.png"},
    ]


def test_submit_answer_is_a_running_task():
    state = ADAPTER.parse_submit({"id": "d88", "created_at": 1775594707, "status": "in_progress", "model": "x"})
    assert (state.task_id, state.status, state.raw_status, state.progress) == (
        "d88",
        TaskStatus.RUNNING,
        "in_progress",
        None,
    )


@pytest.mark.parametrize(
    ("raw", "status"),
    [("pending", TaskStatus.QUEUED), ("processing", TaskStatus.RUNNING), ("queued", TaskStatus.RUNNING)],
)
def test_anything_but_completed_or_failed_is_still_going(raw, status):
    state = ADAPTER.parse_task({"id": "t", "status": raw, "progress": 0.25}, "t")
    assert (state.status, state.progress, state.output, state.error) == (status, 0.25, None, None)


def test_completed_task_keeps_text_and_images_in_order_and_reads_the_cost():
    body = {
        "id": "t",
        "status": "completed",
        "output": [
            {"content": [{"type": "text", "text": "a"}, {"type": "image", "url": "https://cdn/1.png", "jobId": "j"}]},
            {"content": [{"type": "text", "text": "b"}]},
        ],
        "usage": {"cost": "0.035714285714", "discount": 0.7},
    }
    state = ADAPTER.parse_task(body, "t")
    assert state.status is TaskStatus.SUCCEEDED
    assert state.output.items == (OutputText("a"), OutputImage("https://cdn/1.png"), OutputText("b"))
    assert state.output.cost_usd == pytest.approx(0.035714285714)


def test_submit_answer_with_only_an_error_is_a_failure():
    state = ADAPTER.parse_submit({"error": "model is offline"})
    assert state.status is TaskStatus.FAILED and state.error.message == "model is offline"


@pytest.mark.parametrize(
    ("status", "body", "headers", "cls", "code", "message"),
    [
        (401, {"error": {"code": 401, "message": "bad key"}}, {}, AuthenticationError, "401", "bad key"),
        (403, {"error": {"code": "x", "error_message": "insufficient balance"}}, {}, PermissionDenied, "x", None),
        (403, {"message": "permission denied"}, {}, PermissionDenied, None, "permission denied"),
        (429, {"error": "slow down"}, {"retry-after": "3"}, RateLimited, None, "slow down"),
        (400, {"error": {"code": "InvalidParameter", "message": "size"}}, {}, BadRequest, "InvalidParameter", "size"),
        (400, {"error": {"code": "DataInspectionFailed", "message": "m"}}, {}, ContentModerated, None, "m"),
        (502, None, {"x-request-id": "req-9"}, ProviderFailure, None, "HTTP 502 with no message"),
    ],
)
def test_http_errors_by_cause(status, body, headers, cls, code, message):
    error = ADAPTER.parse_error(status, body, headers)
    assert type(error) is cls and error.status_code == status and error.hint
    assert code is None or error.code == code
    assert message is None or error.message == message


def test_http_error_details_are_kept():
    balance = ADAPTER.parse_error(403, {"error": {"code": 403, "error_message": "Insufficient balance"}}, {})
    denied = ADAPTER.parse_error(403, {"error": {"code": 403, "message": "permission denied"}}, {})
    assert "top up" in balance.hint and balance.hint != denied.hint
    throttled = ADAPTER.parse_error(429, {"error": "slow"}, {"retry-after": "3", "x-request-id": "req-1"})
    assert (throttled.retry_after, throttled.request_id) == (3.0, "req-1")


# ---- tolerant readers: unknown output items, statuses that end a task, billing is never retried ------


def test_a_completed_task_keeps_its_images_beside_items_it_does_not_know(fake, tmp_path):
    fake.extra_content = [{"type": "video", "url": "https://cdn.vtrix.ai/outputs/x.mp4"}, {"type": "image"}]
    result, _ = generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "fox", n=2))

    assert len(result.images) == 2 and len(fake.downloads()) == 2
    assert len(fake.generation_requests()) == 1


def test_unknown_output_items_are_skipped_with_notes_a_user_can_read():
    body = {
        "id": "t",
        "status": "completed",
        "output": [
            {"content": [{"type": "image", "url": "https://cdn/1.png"}, {"type": "video", "url": "https://cdn/v.mp4"}]},
            {"content": [{"type": "image"}, {"type": "image", "url": "https://cdn/2.png"}]},
            {"no": "content"},
        ],
    }
    output = ADAPTER.parse_task(body, "t").output
    assert output.items == (OutputImage("https://cdn/1.png"), OutputImage("https://cdn/2.png"))
    assert output.notes[:2] == (
        "skipped an output item of unknown type 'video'",
        "skipped an output item of type 'image' that has no url",
    )
    assert output.notes[2].startswith("skipped an output group without content")


def test_a_completed_task_with_only_unknown_items_is_still_a_protocol_error():
    body = {"id": "t", "status": "completed", "output": [{"content": [{"type": "video", "url": "https://cdn/v"}]}]}
    with pytest.raises(ProtocolError, match="unknown type 'video'"):
        ADAPTER.parse_task(body, "t")


@pytest.mark.parametrize(
    ("raw", "status", "words", "hint"),
    [
        ("cancelled", TaskStatus.CANCELED, "was canceled", "Submit it again"),
        ("CANCELED", TaskStatus.CANCELED, "was canceled", "Submit it again"),
        ("Expired", TaskStatus.FAILED, "expired", "24 hours"),
        ("timed_out", TaskStatus.FAILED, "ran out of time", "Try again later"),
        ("TIMEOUT", TaskStatus.FAILED, "ran out of time", "Try again later"),
        ("rejected", TaskStatus.FAILED, "'rejected' without a message", "Try again"),
        ("error", TaskStatus.FAILED, "'error' without a message", "Try again"),
    ],
)
def test_statuses_that_mean_an_end_end_the_wait_with_a_clear_error(raw, status, words, hint):
    state = ADAPTER.parse_task({"id": "t", "status": raw}, "t")
    assert state.status is status and state.status.is_terminal and state.raw_status == raw
    assert type(state.error) is ProviderFailure and state.error.task_id == "t"
    assert words in state.error.message and hint in state.error.hint


def test_an_ended_status_keeps_the_vendors_words_and_their_cause():
    canceled = ADAPTER.parse_task({"id": "t", "status": "canceled", "error": "canceled by the user"}, "t").error
    assert canceled.message == "The task was canceled before it finished: canceled by the user"
    rejected = {"id": "t", "status": "rejected", "error": {"code": "DataInspectionFailed", "message": "flagged"}}
    assert type(ADAPTER.parse_task(rejected, "t").error) is ContentModerated


def test_a_canceled_task_ends_the_poll_at_once(fake, tmp_path):
    fake.raw_poll_body = {"id": "t1", "status": "cancelled", "model": "wan26_t2i"}

    with pytest.raises(ProviderFailure, match="was canceled") as caught:
        generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"))

    assert caught.value.task_id == "t1" and "Submit it again" in caught.value.hint
    assert len(fake.polls()) == 1 and len(fake.generation_requests()) == 1


def test_an_unknown_status_still_keeps_polling_until_the_deadline(fake, tmp_path):
    fake.raw_poll_body = {"id": "t1", "status": "warming_up"}
    now = [0.0]

    async def sleep(seconds):  # time moves only when the poller waits: a 5 s deadline without waiting
        now[0] += seconds
        await asyncio.sleep(0)

    async def go():
        poll = PollPolicy(first_interval=1.0, growth=1.0, max_interval=1.0, deadline=5.0)
        options = {"env": fake.env(), "output_dir": tmp_path, "sleep": sleep, "clock": lambda: now[0], "poll": poll}
        async with AsyncClient(provider="vtrix", **options) as client:
            await client.generate(ImageRequest(Mode.TEXT_TO_IMAGE, "fox"))

    with pytest.raises(ProviderTimeout, match="warming_up"):
        asyncio.run(go())
    assert len(fake.polls()) > 1  # polled on, not ended at the first answer


def _retried(error):
    return should_retry(error, idempotent=True, attempt=0, policy=RetryPolicy())


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"code": "insufficient_quota", "message": "You exceeded your current quota."}},
        {"error": {"code": 429, "error_message": "Insufficient balance"}},
        {"message": "credit exhausted"},
    ],
    ids=["insufficient-quota", "balance", "credit"],
)
def test_billing_on_a_429_is_permission_denied_never_retried_and_says_top_up(body):
    error = ADAPTER.parse_error(429, body, {})
    assert type(error) is PermissionDenied and not _retried(error) and "top up" in error.hint


def test_a_real_rate_limit_is_still_retried():
    error = ADAPTER.parse_error(429, {"error": {"code": "rate_limit_exceeded", "message": "Rate limit exceeded"}}, {})
    assert type(error) is RateLimited and _retried(error)


def test_an_insufficient_quota_429_from_the_fake_is_submitted_once(fake, tmp_path):
    fake.fail_next(429, "insufficient_quota", "You exceeded your current quota.", times=5)

    with pytest.raises(PermissionDenied) as caught:
        generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"))

    assert (caught.value.code, caught.value.status_code) == ("insufficient_quota", 429)
    assert len(fake.generation_requests()) == 1 and fake.tasks == {}
