"""Runware end to end against its loopback fake, plus the adapter alone on plain dicts.

Docs: https://runware.ai/docs/models/alibaba-wan2-6-image, https://runware.ai/docs/platform/task-polling
"""

import asyncio
import io
import json
import uuid

import httpx
import pytest
from PIL import Image

from fakes.runware import FakeRunware
from fakes.vendor import EXPECTED_ERROR, FailureKind
from wan26 import (
    AsyncClient,
    AuthenticationError,
    BadRequest,
    ConfigError,
    ContentModerated,
    Flow,
    ImageRequest,
    InvalidRequest,
    Mode,
    PermissionDenied,
    ProtocolError,
    ProviderFailure,
    ProviderTimeout,
    RateLimited,
    Size,
)
from wan26._http import RetryPolicy, should_retry
from wan26.images import PreparedImage
from wan26.providers._base import Credentials, TaskStatus, WireRequest, flows_of, streamed_calls
from wan26.providers.runware import Runware
from wan26.types import Progress

MODEL = "alibaba:wan@2.6-image"
REMOTE_REF = "https://example.com/ref.png"  # never fetched: the fake only checks it is a string


@pytest.fixture
def fake(vendor_fakes) -> FakeRunware:
    """The session's FakeRunware (conftest), reset."""
    return vendor_fakes["runware"]


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.new("RGB", (600, 400), (20, 120, 200)).save(path)
    return path


class Sleeps:
    """An async no-op sleep that remembers what it was asked to wait."""

    def __init__(self):
        self.waits: list[float] = []

    async def __call__(self, seconds):
        self.waits.append(seconds)


def generate(fake, tmp_path, request, *, flow=None, events=None, **options):
    async def go():
        settings = {"env": fake.env(), "output_dir": tmp_path / "out", "sleep": Sleeps(), **options}
        async with AsyncClient("runware", **settings) as client:
            return await client.generate(request, flow=flow, on_event=None if events is None else events.append)

    return asyncio.run(go())


def failing(fake, tmp_path, request, error_class, **options):
    with pytest.raises(error_class) as caught:
        generate(fake, tmp_path, request, **options)
    return caught.value


def sent_task(fake, index=0):
    [task] = fake.generation_requests()[index].json
    return task


T2I = ImageRequest(Mode.TEXT_TO_IMAGE, "a lighthouse at dusk", size=Size(2700, 768), n=2)


def edit_request(photo, **changes):
    return ImageRequest(Mode.EDIT, "image 1 as a watercolour", images=(photo, REMOTE_REF), **changes)


# ---- every mode and flow saves the provider's images --------------------------------------------


@pytest.mark.parametrize("flow", list(Flow))
@pytest.mark.parametrize("mode", [Mode.TEXT_TO_IMAGE, Mode.EDIT])
def test_every_mode_and_flow_saves_provider_pngs_with_a_sidecar(fake, tmp_path, photo, mode, flow):
    request = T2I if mode is Mode.TEXT_TO_IMAGE else edit_request(photo, size=Size(1024, 768), n=2)

    result = generate(fake, tmp_path, request, flow=flow)

    assert len(result.images) == 2
    for image in result.images:
        assert image.path.read_bytes() == httpx.get(image.source_url).content  # the provider's own bytes
        assert Image.open(image.path).format == "PNG"
        assert (image.width, image.height) == (request.size.width, request.size.height)
    record = json.loads(result.sidecar.read_text())
    assert (record["provider"], record["model"], record["flow"]) == ("runware", MODEL, flow.value)
    assert record["cost_usd"] == pytest.approx(0.06)  # the sum of each item's `cost`
    assert record["task_id"] == (sent_task(fake)["taskUUID"] if flow is Flow.TASK else None)


def test_runware_is_direct_by_default_and_the_default_size_is_sent(fake, tmp_path):
    result = generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"))

    assert len(result.images) == 1 and (result.images[0].width, result.images[0].height) == (1280, 1280)
    assert (sent_task(fake)["width"], sent_task(fake)["height"]) == (1280, 1280)
    assert fake.polls() == []


# ---- the exact wire payload --------------------------------------------------------------------


def test_text_to_image_wire_payload_has_no_seed_and_no_empty_negative_prompt(fake, tmp_path):
    generate(fake, tmp_path, T2I)

    [call] = fake.generation_requests()
    assert call.path == "/v1" and call.headers["authorization"] == f"Bearer {fake.api_key}"
    assert isinstance(call.json, list) and len(call.json) == 1  # always an array of tasks
    task = dict(call.json[0])
    assert uuid.UUID(task.pop("taskUUID")).version == 4
    assert task == {
        "taskType": "imageInference",
        "model": MODEL,
        "positivePrompt": "a lighthouse at dusk",
        "width": 2700,
        "height": 768,
        "numberResults": 2,
        "outputType": "URL",
        "outputFormat": "PNG",
        "includeCost": True,
        "deliveryMethod": "sync",
        "providerSettings": {"alibaba": {"promptExtend": True}},
    }
    assert "seed" not in json.dumps(call.json) and "watermark" not in json.dumps(call.json)


def test_edit_wire_payload_sends_references_in_order_and_the_negative_prompt(fake, tmp_path, photo):
    request = edit_request(photo, negative_prompt="blurry", prompt_extend=False, size=Size(1536, 1024))

    generate(fake, tmp_path, request, flow=Flow.TASK)

    task = sent_task(fake)
    assert task["deliveryMethod"] == "async"
    assert task["negativePrompt"] == "blurry"
    assert task["providerSettings"] == {"alibaba": {"promptExtend": False}}
    first, second = task["inputs"]["referenceImages"]
    assert first.startswith("data:image/png;base64,") and second == REMOTE_REF
    assert "seed" not in task


def test_each_request_gets_a_fresh_task_uuid_and_polls_ask_for_it(fake, tmp_path):
    generate(fake, tmp_path, T2I, flow=Flow.TASK)
    generate(fake, tmp_path, T2I, flow=Flow.TASK)

    first, second = (sent_task(fake, i)["taskUUID"] for i in range(2))
    assert first != second
    poll = fake.polls()[0]
    assert poll.json == [{"taskType": "getResponse", "taskUUID": first}]
    assert poll.headers["authorization"] == f"Bearer {fake.api_key}"


# ---- seeds: never sent, reported back ----------------------------------------------------------


@pytest.mark.parametrize("flow", list(Flow))
def test_the_seed_runware_reports_is_kept_on_each_saved_image(fake, tmp_path, flow):
    result = generate(fake, tmp_path, T2I, flow=flow)

    served = {item["imageURL"]: item["seed"] for item in fake.results}
    assert {image.source_url: image.seed for image in result.images} == served
    record = json.loads(result.sidecar.read_text())
    assert sorted(image["seed"] for image in record["images"]) == sorted(served.values())
    assert result.seed is None  # nothing was sent


def test_a_seed_is_refused_before_anything_is_sent(fake, tmp_path):
    error = failing(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", seed=42), InvalidRequest)

    assert "seed" in str(error)
    assert fake.requests == []


# ---- the task flow ---------------------------------------------------------------------------


def test_task_progress_is_reported_and_repeated_items_are_saved_once(fake, tmp_path):
    fake.task_script = ["wait", "processing:25", "processing:75", "success"]
    fake.repeat_finished_items = True  # a cumulative poll lists the finished image twice
    events = []

    result = generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), flow=Flow.TASK, events=events)

    messages = [event.message for event in events if isinstance(event, Progress)]
    assert "Task queued" in messages
    assert "Task processing (25%)" in messages and "Task processing (75%)" in messages
    assert len(result.images) == 1 and len(fake.downloads()) == 1
    assert len(fake.polls()) == 4


def test_a_task_with_two_images_is_polled_until_both_are_done(fake, tmp_path):
    fake.task_script = ["success:1", "processing:60", "success"]

    result = generate(fake, tmp_path, T2I, flow=Flow.TASK)

    assert len(result.images) == 2
    assert len(fake.polls()) == 3  # one finished image was not the end


def test_a_failed_image_fails_the_task_but_the_images_made_before_it_are_saved(fake, tmp_path):
    fake.task_failure = ("inferenceError", "one of N failed")
    fake.task_script = ["success:1", "error"]

    error = failing(fake, tmp_path, T2I, ProviderFailure, flow=Flow.TASK)

    task_id = sent_task(fake)["taskUUID"]
    assert (error.code, error.message, error.task_id) == ("inferenceError", "one of N failed", task_id)
    made = fake.tasks[task_id].images[0].result["imageURL"]
    [saved] = error.partial_result.images  # billed, so downloaded and kept
    assert saved.source_url == made and saved.path.is_file()
    assert json.loads(error.partial_result.sidecar.read_text())["status"] == "failed"


def test_a_poll_answered_502_is_asked_again(fake, tmp_path):
    fake.answer_next("Bad Gateway", status=502, target="poll")

    result = generate(fake, tmp_path, T2I, flow=Flow.TASK)

    assert len(result.images) == 2
    assert len(fake.generation_requests()) == 1


@pytest.mark.parametrize("flow", list(Flow))
def test_a_submission_answered_502_is_not_sent_again(fake, tmp_path, flow):
    fake.answer_next("Bad Gateway", status=502)

    error = failing(fake, tmp_path, T2I, ProviderFailure, flow=flow)

    assert error.status_code == 502
    assert len(fake.generation_requests()) == 1  # a resubmit could bill twice


def test_an_empty_acknowledgement_is_followed_by_the_task_uuid_we_sent(fake, tmp_path):
    fake.empty_ack = True  # {"data":[]}, as in the SDK's mocks

    result = generate(fake, tmp_path, T2I, flow=Flow.TASK)

    assert len(result.images) == T2I.n and result.task_id == sent_task(fake)["taskUUID"]
    assert fake.polls() and len(fake.generation_requests()) == 1


# ---- failures ------------------------------------------------------------------------------------

HINT_WORDS = {
    FailureKind.AUTH: "RUNWARE_API_KEY",
    FailureKind.CREDITS: "https://my.runware.ai",
    FailureKind.RATE_LIMIT: "try again",
    FailureKind.MODERATION: "flagged",
    FailureKind.SERVER: "Try again",
}
CODES = {
    FailureKind.AUTH: "invalidApiKey",
    FailureKind.CREDITS: "insufficientCredits",
    FailureKind.RATE_LIMIT: "rateLimitExceeded",
    FailureKind.MODERATION: "providerContentPolicyViolation",
    FailureKind.SERVER: "internalServerError",
}


@pytest.mark.parametrize("flow", list(Flow))
@pytest.mark.parametrize("kind", list(FailureKind))
def test_each_failure_becomes_the_expected_error_with_code_message_and_hint(fake, tmp_path, kind, flow):
    fake.fail_with(kind)

    error = failing(fake, tmp_path, T2I, EXPECTED_ERROR[kind], flow=flow, retry=RetryPolicy(max_retries=0))

    assert error.code == CODES[kind]
    body = fake.generation_requests()[0]
    assert error.request_id == body.json[0]["taskUUID"]  # Runware has no request id: the task names the call
    assert HINT_WORDS[kind] in error.hint
    assert error.provider == "runware" and error.message
    if kind is FailureKind.MODERATION:
        assert "(parameter: positivePrompt)" in error.message


def test_rate_limits_are_retried_then_reported(fake, tmp_path):
    fake.fail_with(FailureKind.RATE_LIMIT, times=10)

    failing(fake, tmp_path, T2I, RateLimited, retry=RetryPolicy(max_retries=2))

    assert len(fake.generation_requests()) == 3


def test_a_wrong_key_is_refused_by_the_fake_and_named_in_the_hint(fake, tmp_path):
    error = failing(fake, tmp_path, T2I, AuthenticationError, env={**fake.env(), "RUNWARE_API_KEY": "rw-wrong"})

    assert error.code == "invalidApiKey" and error.status_code == 401
    assert "RUNWARE_API_KEY" in error.hint and "rw-wrong" not in str(error)


@pytest.mark.parametrize(
    "body",
    [{"data": "nope"}, {"data": [{"taskUUID": "x", "imageUUID": "i"}]}, {"result": []}],
    ids=["data-not-a-list", "no-finished-image", "no-data"],
)
def test_malformed_answers_become_protocol_errors(fake, tmp_path, body):
    fake.answer_next(body)

    failing(fake, tmp_path, T2I, ProtocolError)


def test_an_unknown_item_status_is_a_protocol_error(fake, tmp_path):
    fake.answer_next({"data": [{"taskUUID": "t", "imageUUID": "i", "status": "queued"}]}, target="poll", times=10)

    failing(fake, tmp_path, T2I, ProtocolError, flow=Flow.TASK)


# ---- bad input never reaches Runware -------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        ImageRequest(Mode.TEXT_TO_IMAGE, "x" * 2101),
        ImageRequest(Mode.EDIT, "x" * 2001, images=(REMOTE_REF,)),
        ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", negative_prompt="x" * 501),
        ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", size=Size(1024, 1024)),  # below 1280² in t2i
        ImageRequest(Mode.EDIT, "a fox", images=(REMOTE_REF,), size=Size(1440, 1440)),  # above 1280² in edit
        ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", size=Size(3200, 700)),  # ratio beyond 4:1
        ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", n=5),
        ImageRequest(Mode.EDIT, "a fox", images=(REMOTE_REF,) * 5),
        ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", watermark=True),
        ImageRequest(Mode.INTERLEAVE, "a recipe"),
    ],
    ids=["prompt", "edit-prompt", "negative", "t2i-pixels", "edit-pixels", "ratio", "n", "images", "watermark", "mode"],
)
def test_bad_input_is_refused_before_any_request(fake, tmp_path, request_):
    failing(fake, tmp_path, request_, InvalidRequest)

    assert fake.requests == []


# ---- the fake is as strict as Runware documents ---------------------------------------------------


def valid_task(**changes):
    task = {
        "taskType": "imageInference",
        "taskUUID": str(uuid.uuid4()),
        "model": MODEL,
        "positivePrompt": "a fox",
        "width": 2700,
        "height": 768,
    }
    return {key: value for key, value in (task | changes).items() if value is not None}


@pytest.mark.parametrize(
    ("task", "code"),
    [
        (valid_task(seed=42), "unknownParameter"),
        (valid_task(taskUUID="not-a-uuid"), "invalidTaskUUID"),
        (valid_task(taskUUID=str(uuid.uuid1())), "invalidTaskUUID"),
        (valid_task(model="alibaba:wan@2.5-image"), "invalidModel"),
        (valid_task(positivePrompt=None), "missingPositivePrompt"),
        (valid_task(negativePrompt=""), "invalidNegativePrompt"),
        (valid_task(width=1024, height=1024), "invalidDimensions"),
        (valid_task(width=1600, height=1600, inputs={"referenceImages": [REMOTE_REF]}), "invalidDimensions"),
        (valid_task(width="2700"), "invalidWidth"),
        (valid_task(numberResults=5), "invalidNumberResults"),
        (valid_task(outputFormat="GIF"), "invalidOutputFormat"),
        (valid_task(inputs={"referenceImages": [REMOTE_REF] * 5}), "invalidReferenceImages"),
        (valid_task(providerSettings={"alibaba": {"watermark": False}}), "unknownParameter"),
    ],
)
def test_the_fake_refuses_what_runware_would(fake, task, code):
    answer = httpx.post(fake.base_url, json=[task], headers={"Authorization": f"Bearer {fake.api_key}"})

    assert answer.status_code == 400
    [entry] = answer.json()["errors"]
    assert entry["code"] == code and entry["taskUUID"] == task.get("taskUUID")


def test_the_fake_accepts_the_seed_example_and_the_auth_task(fake):
    task = valid_task(width=1024, height=768, inputs={"referenceImages": [REMOTE_REF]}, outputFormat="JPG")
    answer = httpx.post(fake.base_url, json=[{"taskType": "authentication", "apiKey": fake.api_key}, task])

    [item] = answer.json()["data"]
    assert item["imageURL"].endswith(".jpg") and "cost" not in item  # includeCost defaults to false
    served = Image.open(io.BytesIO(httpx.get(item["imageURL"]).content))
    assert (served.format, served.size) == ("JPEG", (1024, 768))


# ---- the adapter alone ------------------------------------------------------------------------

ADAPTER = Runware()
CREDS = Credentials("https://api.runware.ai/v1", "rw-secret")


def test_the_key_goes_only_in_the_authorization_header():
    call = ADAPTER.build_direct(WireRequest(ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), (), None), CREDS)

    assert (call.method, call.url) == ("POST", "https://api.runware.ai/v1")
    assert call.headers["Authorization"] == "Bearer rw-secret"
    assert "rw-secret" not in repr(call) and "rw-secret" not in json.dumps(call.json)


def test_only_the_poll_is_marked_safe_to_repeat():
    wire = WireRequest(ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), (), None)

    assert not ADAPTER.build_direct(wire, CREDS).is_idempotent
    assert not ADAPTER.build_submit(wire, CREDS).is_idempotent
    assert ADAPTER.build_poll("t-1", CREDS).is_idempotent


def test_an_edit_sends_prepared_images_as_they_are():
    ref = PreparedImage("data:image/png;base64,AAAA", "cat.png", 300, 300, 3)
    request = ImageRequest(Mode.EDIT, "make it", images=("cat.png",), size=Size(1280, 1280))

    task = ADAPTER.build_direct(WireRequest(request, (ref,), None), CREDS).json[0]

    assert task["inputs"] == {"referenceImages": ["data:image/png;base64,AAAA"]}


@pytest.mark.parametrize(
    ("code", "status", "error_class"),
    [
        ("invalidApiKey", 401, AuthenticationError),
        ("insufficientCredits", 400, PermissionDenied),
        ("paymentRequired", 400, PermissionDenied),
        ("rateLimitExceeded", 400, RateLimited),
        ("nsfwContentDetected", 400, ContentModerated),
        ("providerContentPolicyViolation", 400, ContentModerated),  # a safety code, not a provider failure
        ("invalidWidth", 400, BadRequest),
        ("unknownParameter", 400, BadRequest),
        ("maxNumberResultsExceeded", 400, BadRequest),
        ("timeoutProvider", 400, ProviderTimeout),
        ("providerError", 400, ProviderFailure),
        ("somethingNew", 503, ProviderFailure),  # unknown code: the HTTP status decides
        ("somethingNew", 403, PermissionDenied),
    ],
)
def test_error_codes_map_by_cause(code, status, error_class):
    body = {"errors": [{"code": code, "message": "m", "taskUUID": "t-1", "parameter": ["width", "height"]}]}

    error = ADAPTER.parse_error(status, body, {})

    assert type(error) is error_class
    assert (error.code, error.request_id, error.status_code) == (code, "t-1", status)
    assert error.message == "m (parameter: width, height)" and error.hint


def test_an_error_without_a_body_falls_back_on_the_status():
    assert isinstance(ADAPTER.parse_error(401, None, {}), AuthenticationError)
    assert ADAPTER.parse_error(429, None, {"retry-after": "3"}).retry_after == 3.0


def test_errors_in_a_2xx_answer_are_raised_not_ignored():
    body = {"data": [], "errors": [{"code": "invalidPositivePrompt", "message": "too long", "taskUUID": "t"}]}

    with pytest.raises(BadRequest):
        ADAPTER.parse_output(body, {})


def test_cost_is_the_sum_of_the_items_and_seeds_are_per_image():
    body = {"data": [_item("a", cost=0.03, seed=1), _item("b", cost=0.03, seed=2)]}

    output = ADAPTER.parse_output(body, {})

    assert output.cost_usd == pytest.approx(0.06)
    assert [(image.url, image.seed) for image in output.items] == [("https://x/a.png", 1), ("https://x/b.png", 2)]
    assert output.request_id == "t"


def _item(image_uuid, status=None, **extra):
    item = {"taskType": "imageInference", "taskUUID": "t", "imageUUID": image_uuid}
    if status != "processing":
        item["imageURL"] = f"https://x/{image_uuid}.png"
    return item | ({"status": status} if status else {}) | extra


@pytest.mark.parametrize(
    ("items", "expected", "status"),
    [
        ([], 1, TaskStatus.QUEUED),
        ([_item("a", "processing", progress=40)], 1, TaskStatus.RUNNING),
        ([_item("a", "success")], 2, TaskStatus.RUNNING),  # one of two asked for
        ([_item("a", "success"), _item("a", "success")], 2, TaskStatus.RUNNING),  # a repeat is not a second image
        ([_item("a", "processing"), _item("a", "success"), _item("b", "success")], 2, TaskStatus.SUCCEEDED),
        ([_item("a", "success"), _item("b", "processing")], None, TaskStatus.RUNNING),  # fetch: wait for all
        ([_item("a", "success")], None, TaskStatus.SUCCEEDED),
        ([_item("a", "success"), {"taskUUID": "t", "imageUUID": "b", "status": "error"}], 2, TaskStatus.FAILED),
    ],
)
def test_task_status_from_poll_items(items, expected, status):
    state = ADAPTER.parse_task({"data": items}, "t", expected)

    assert state.status is status
    made = any(item.get("status") == "success" for item in items)
    assert (state.output is not None) == (status is TaskStatus.SUCCEEDED or (status is TaskStatus.FAILED and made))
    assert (state.error is not None) == (status is TaskStatus.FAILED)


def test_progress_counts_finished_images_and_the_ones_still_running():
    state = ADAPTER.parse_task({"data": [_item("a", "success"), _item("b", "processing", progress=50)]}, "t", 2)

    assert state.progress == pytest.approx(0.75)


def test_a_provider_timeout_inside_a_task_is_a_failure_not_a_wait():
    item = {"taskUUID": "t", "imageUUID": "a", "status": "error", "error": {"code": "timeoutProvider", "message": "m"}}

    state = ADAPTER.parse_task({"data": [item]}, "t", 1)

    assert type(state.error) is ProviderFailure and state.error.code == "timeoutProvider"


def test_a_poll_error_envelope_fails_the_task():
    body = {"errors": [{"code": "taskFailedOrNotFound", "message": "No task found"}]}

    state = ADAPTER.parse_task(body, "t-9", 1)

    assert state.status is TaskStatus.FAILED and state.error.task_id == "t-9"
    assert "expire" in state.error.hint


def test_direct_and_task_flows_are_offered_but_no_stream():
    assert flows_of(ADAPTER) == {Flow.DIRECT, Flow.TASK}
    with pytest.raises(ConfigError, match="Runware has no streamed call"):
        streamed_calls(ADAPTER)


# ---- billing is never retried, even on a 429 -------------------------------------------------------


def _retried(error):
    return should_retry(error, idempotent=True, attempt=0, policy=RetryPolicy())


@pytest.mark.parametrize(
    "entry",
    [
        {"code": "insufficient_quota", "message": "You exceeded your current quota."},  # any case
        {"code": "creditsExhausted", "message": "No credits left."},
        {"code": "somethingNew", "message": "Insufficient credits to run this task."},  # by the words
        {"message": "account balance too low"},  # no code at all
    ],
    ids=["insufficient-quota", "credits-code", "credits-message", "balance-without-code"],
)
def test_billing_on_a_429_is_permission_denied_and_never_retried(entry):
    error = ADAPTER.parse_error(429, {"errors": [{"taskUUID": "t-1", **entry}]}, {})
    assert type(error) is PermissionDenied and not _retried(error) and "top up" in error.hint


def test_a_real_rate_limit_is_still_retried_and_a_key_error_stays_one():
    throttled = ADAPTER.parse_error(429, {"errors": [{"code": "rateLimitExceeded", "message": "slow down"}]}, {})
    assert type(throttled) is RateLimited and _retried(throttled)
    key = ADAPTER.parse_error(401, {"errors": [{"message": "add a key on the billing page"}]}, {})
    assert type(key) is AuthenticationError


@pytest.mark.parametrize("flow", list(Flow))
def test_an_insufficient_quota_429_from_the_fake_is_submitted_once(fake, tmp_path, flow):
    fake.fail_next(429, "insufficient_quota", "You exceeded your current quota.", times=5)

    error = failing(fake, tmp_path, T2I, PermissionDenied, flow=flow)

    assert (error.code, error.status_code) == ("insufficient_quota", 429)
    assert len(fake.generation_requests()) == 1


def test_a_finished_item_without_a_url_is_skipped_with_a_note_and_the_others_kept():
    missing = {"taskType": "imageInference", "taskUUID": "t", "imageUUID": "b", "status": "success"}
    state = ADAPTER.parse_task({"data": [_item("a", "success"), missing]}, "t", 2)
    assert [item.url for item in state.output.items] == ["https://x/a.png"]
    assert state.output.notes == ("skipped 1 finished item(s) without an imageURL",)
