"""AI/ML API end to end against its loopback fake, plus the adapter alone on plain dicts.

Docs: https://docs.aimlapi.com/api-references/image-models/alibaba-cloud/wan-2-6-image
"""

import asyncio
import base64
import io
import json

import httpx
import pytest
from PIL import Image

from fakes.aimlapi import AUTH_MESSAGE, CREDITS_MESSAGE, MODERATION_MESSAGE, FakeAIMLAPI
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
    SizeTier,
)
from wan26._http import RetryPolicy, should_retry
from wan26.images import PreparedImage
from wan26.providers._aimlapi_errors import BILLING_URL
from wan26.providers._base import Credentials, WireRequest, flows_of, streamed_calls, task_calls
from wan26.providers.aimlapi import AIMLAPI

MODEL = "alibaba/wan-2-6-image"
REMOTE_REF = "https://example.com/ref.png"  # never fetched: the fake checks it is a URL, nothing more


@pytest.fixture
def fake(vendor_fakes) -> FakeAIMLAPI:
    """The session's FakeAIMLAPI (conftest), reset."""
    return vendor_fakes["aimlapi"]


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


def generate(fake, tmp_path, request, *, env=None, sleeps=None, flow=None, **options):
    async def go():
        settings = {"env": env or fake.env(), "output_dir": tmp_path / "out", "sleep": sleeps or Sleeps(), **options}
        async with AsyncClient("aimlapi", **settings) as client:
            return await client.generate(request, flow=flow)

    return asyncio.run(go())


def failing(fake, tmp_path, request, error_class, **options):
    with pytest.raises(error_class) as caught:
        generate(fake, tmp_path, request, **options)
    return caught.value


def sidecar(result):
    return json.loads(result.sidecar.read_text())


def sent(fake):
    [request] = fake.generation_requests()
    return request


# ---- every mode saves real PNGs, with a sidecar --------------------------------------------


def test_text_to_image_saves_the_served_png_and_a_sidecar_with_cost(fake, tmp_path):
    result = generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a red fox", size=Size(1280, 960), seed=42))

    [image] = result.images
    assert Image.open(image.path).size == (1280, 960) == (image.width, image.height)
    assert image.path.read_bytes() == httpx.get(image.source_url).content  # the provider's bytes, as served
    record = sidecar(result)
    assert (record["status"], record["provider"], record["model"], record["flow"]) == (
        "succeeded",
        "aimlapi",
        MODEL,
        "direct",
    )
    assert record["cost_usd"] == 0.039 and record["usage"] == {"credits_used": 78000, "usd_spent": 0.039}
    assert record["seed"] == 42 == record["images"][0]["seed"]
    assert [record["request_id"]] == fake.inference_ids  # the x-inference-id the charge is recorded under


def test_text_to_image_without_a_size_gets_the_vendor_default(fake, tmp_path):
    result = generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a red fox"))

    assert "image_size" not in sent(fake).json  # the vendor's default, landscape_4_3
    assert (result.images[0].width, result.images[0].height) == (1024, 768)


def test_edit_sends_local_images_as_data_uris_and_urls_unchanged(fake, tmp_path, photo):
    request = ImageRequest(Mode.EDIT, "image 1 at night", images=(photo, REMOTE_REF), size=Size(768, 1024))
    result = generate(fake, tmp_path, request)

    assert Image.open(result.images[0].path).size == (768, 1024)
    first, second = sent(fake).json["image_urls"]
    assert first.startswith("data:image/png;base64,") and second == REMOTE_REF
    decoded = Image.open(io.BytesIO(base64.b64decode(first.split(",", 1)[1])))
    assert decoded.size == (600, 400)
    assert [entry["label"] for entry in sidecar(result)["reference_images"]] == ["photo.png", REMOTE_REF]


# ---- the exact wire payload -------------------------------------------------------------------


def test_text_to_image_wire_payload(fake, tmp_path):
    request = ImageRequest(
        Mode.TEXT_TO_IMAGE,
        "a red fox",
        negative_prompt="blurry",
        size=Size(1280, 960),
        seed=7,
        prompt_extend=False,
        watermark=True,
    )
    generate(fake, tmp_path, request)

    recorded = sent(fake)
    assert recorded.json == {
        "model": MODEL,
        "prompt": "a red fox",
        "image_size": {"width": 1280, "height": 960},
        "negative_prompt": "blurry",
        "seed": 7,
        "enhance_prompt": False,
        "watermark": True,
    }
    assert recorded.headers["authorization"] == f"Bearer {fake.api_key}"
    assert recorded.headers["content-type"] == "application/json"


def test_edit_wire_payload_leaves_out_what_was_not_asked_for(fake, tmp_path):
    generate(fake, tmp_path, ImageRequest(Mode.EDIT, "make it snow", images=(REMOTE_REF,), seed=3))

    assert sent(fake).json == {
        "model": MODEL,
        "prompt": "make it snow",
        "image_urls": [REMOTE_REF],
        "seed": 3,
        "enhance_prompt": True,
        "watermark": False,
    }  # no n (one image per call), no image_size, no negative_prompt


# ---- n > 1: one call per image, side by side --------------------------------------------------


def test_three_images_are_three_overlapping_calls_with_their_own_seeds(fake, tmp_path):
    fake.latency = 0.3
    result = generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", n=3, seed=100))

    calls = fake.generation_requests()
    assert len(calls) == 3 and fake.max_in_flight == 3
    assert sorted(call.json["seed"] for call in calls) == [100, 101, 102]
    assert all("n" not in call.json for call in calls)
    record = sidecar(result)
    assert len(result.images) == 3 and all(Image.open(image.path).size == (1024, 768) for image in result.images)
    assert record["cost_usd"] == pytest.approx(3 * 0.039)
    for entry in record["images"]:
        assert entry["seed"] == fake.issued[entry["source_url"]]["seed"]  # each image with the seed that made it


def test_when_one_of_three_calls_fails_the_other_two_are_kept(fake, tmp_path):
    fake.latency = 0.2
    fake.fail_with(FailureKind.SERVER)  # whichever call arrives first
    error = failing(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", n=3, seed=5), ProviderFailure)

    assert len(fake.generation_requests()) == 3  # a failed POST is never sent again
    partial = error.partial_result
    assert partial is not None and len(partial.images) == 2
    assert all(image.path.exists() for image in partial.images)
    record = sidecar(partial)
    assert record["status"] == "failed" and len(record["images"]) == 2
    assert record["cost_usd"] == pytest.approx(2 * 0.039)
    assert "2 of 3 calls succeeded" in error.hint


# ---- failures ----------------------------------------------------------------------------------


HINT_WORDS = {
    FailureKind.AUTH: ("AIMLAPI_API_KEY", "https://aimlapi.com/app/keys"),
    FailureKind.CREDITS: ("top up", "https://aimlapi.com/app/billing/"),
    FailureKind.RATE_LIMIT: ("try again",),
    FailureKind.MODERATION: ("flagged",),
    FailureKind.SERVER: ("Try again",),
}
MESSAGES = {
    FailureKind.AUTH: AUTH_MESSAGE,
    FailureKind.CREDITS: CREDITS_MESSAGE,
    FailureKind.RATE_LIMIT: "Too Many Requests",
    FailureKind.MODERATION: MODERATION_MESSAGE,
    FailureKind.SERVER: "Internal server error",
}


@pytest.mark.parametrize("kind", list(FailureKind))
def test_each_failure_kind_becomes_its_error_with_the_vendor_message_and_a_hint(fake, tmp_path, kind):
    fake.fail_with(kind)
    request = ImageRequest(Mode.TEXT_TO_IMAGE, "a fox")
    error = failing(fake, tmp_path, request, EXPECTED_ERROR[kind], retry=RetryPolicy(max_retries=0))

    assert error.provider == "aimlapi" and error.message == MESSAGES[kind]
    assert error.request_id  # the envelope's requestId
    assert all(word in error.hint for word in HINT_WORDS[kind])
    assert error.code == ("DataInspectionFailed" if kind is FailureKind.MODERATION else None)
    assert error.partial_result is None  # nothing was made, so no empty run folder is left behind


def test_a_wrong_key_is_refused_by_the_vendor(fake, tmp_path):
    env = {**fake.env(), "AIMLAPI_API_KEY": "not-the-key"}
    error = failing(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), AuthenticationError, env=env)
    assert error.status_code == 401 and "AIMLAPI_API_KEY" in error.hint
    assert "not-the-key" not in str(error)


def test_rate_limit_waits_as_long_as_retry_after_says_then_succeeds(fake, tmp_path):
    fake.fail_next(429, "Too Many Requests", retry_after=7)
    sleeps = Sleeps()
    result = generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), sleeps=sleeps)

    assert len(result.images) == 1 and len(fake.generation_requests()) == 2
    assert sleeps.waits == [7.0]


def test_rate_limit_that_persists_is_reported_after_the_retries(fake, tmp_path):
    fake.fail_with(FailureKind.RATE_LIMIT, times=10)
    error = failing(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), RateLimited)
    assert error.status_code == 429 and len(fake.generation_requests()) == 4  # 1 + 3 retries


def test_generation_timeout_is_a_timeout_that_may_still_be_billed_and_is_not_resent(fake, tmp_path):
    fake.fail_next(504, "Generation timeout")
    error = failing(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), ProviderTimeout)
    assert "billed" in error.hint and len(fake.generation_requests()) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_failures_and_a_generation_is_not_resent(fake, tmp_path, status):
    fake.fail_next(status, "Service unavailable")
    error = failing(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), ProviderFailure)
    assert error.status_code == status and len(fake.generation_requests()) == 1


def test_moderation_wrapped_in_a_500_is_still_moderation(fake, tmp_path):
    fake.fail_next(500, "Upstream error: DataInspectionFailed - Output data may contain inappropriate content.")
    error = failing(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), ContentModerated)
    assert error.code == "DataInspectionFailed" and error.status_code == 500


def test_a_body_validation_error_keeps_the_vendor_detail(fake, tmp_path):
    fake.fail_next(400, "Body validation error!\nseed: Number must be less than or equal to 2147483647")
    error = failing(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), BadRequest)
    assert "seed: Number must be" in str(error) and error.hint


def test_a_string_status_code_in_the_envelope_is_accepted(fake, tmp_path):
    fake.fail_next(403, CREDITS_MESSAGE, status_as_string=True)
    error = failing(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), PermissionDenied)
    assert error.status_code == 403 and "https://aimlapi.com/app/billing/" in error.hint


# ---- cost and malformed answers ----------------------------------------------------------------


def test_cost_falls_back_to_the_usd_header_then_to_unknown(fake, tmp_path):
    fake.cost_in_body = False
    assert generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox")).cost_usd == 0.039
    fake.cost_in_headers = False
    assert generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox")).cost_usd is None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"created": 1, "data": []}, "no images"),
        ({"created": 1}, "no images"),
        ({"created": 1, "data": [{"url": None, "b64_json": "iVBORw0KGgo="}]}, "b64_json"),
        ({"created": 1, "data": [{"revised_prompt": "x"}]}, "no url"),
        ("<html>bad gateway</html>", "expected JSON"),
    ],
)
def test_malformed_answers_are_protocol_errors(fake, tmp_path, body, words):
    fake.reply_next(body)
    error = failing(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), ProtocolError)
    assert words in str(error) and len(fake.generation_requests()) == 1


# ---- bad input never leaves the machine --------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", size=Size(1000, 1000)),  # not a multiple of 32
        ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", size=Size(1472, 1024)),  # a side over 1440
        ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", size=Size(480, 512)),  # a side under 512
        ImageRequest(Mode.EDIT, "a fox", images=(REMOTE_REF,), size=SizeTier.K1),  # no size tiers here
        ImageRequest(Mode.EDIT, "a fox", images=(REMOTE_REF,) * 4),  # image_urls takes 1–3
        ImageRequest(Mode.EDIT, "a fox"),  # edit needs an image
        ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", images=(REMOTE_REF,)),
        ImageRequest(Mode.TEXT_TO_IMAGE, "x" * 2001),
        ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", negative_prompt="x" * 501),
        ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", n=5),
        ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", seed=2_147_483_648),
        ImageRequest(Mode.INTERLEAVE, "a recipe"),  # not offered by AI/ML API
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(fake, tmp_path, request_):
    with pytest.raises(InvalidRequest):
        generate(fake, tmp_path, request_)
    assert fake.requests == []


def test_the_task_flow_is_refused_before_anything_is_sent(fake, tmp_path):
    with pytest.raises(InvalidRequest, match="task"):
        generate(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), flow=Flow.TASK)
    assert fake.requests == []


# ---- the fake is as strict as the schema -------------------------------------------------------


GOOD = {"model": MODEL, "prompt": "a fox"}


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"n": 2}, "Unrecognized key(s) in object: 'n'"),
        ({"model": "alibaba/wan-2-6-t2i"}, "model: Invalid enum value"),
        ({"prompt": "x" * 2001}, "prompt: String must contain at most 2000"),
        ({"negative_prompt": "x" * 501}, "negative_prompt: String must contain at most 500"),
        ({"image_size": {"width": 1000, "height": 1024}}, "image_size.width: Number must be a multiple of 32"),
        ({"image_size": {"width": 1024, "height": 1472}}, "image_size.height: Number must be less than"),
        ({"image_size": {"width": 1024}}, "image_size.height: Required"),
        ({"image_size": "portrait_21_9"}, "image_size: Invalid enum value"),
        ({"image_urls": []}, "at least 1"),
        ({"image_urls": [REMOTE_REF] * 4}, "at most 3"),
        ({"image_urls": ["iVBORw0KGgoAAAANSUhEUg=="]}, "image_urls.0: Invalid url"),
        ({"seed": -1}, "seed: Number must be greater than or equal to 0"),
        ({"seed": 1.5}, "seed: Expected integer, received float"),
        ({"enhance_prompt": "yes"}, "enhance_prompt: Expected boolean, received string"),
        ({"watermark": 1}, "watermark: Expected boolean, received number"),
    ],
)
def test_fake_refuses_what_the_schema_refuses(fake, changes, detail):
    response = httpx.post(
        fake.base_url + "/v1/images/generations",
        json=GOOD | changes,
        headers={"Authorization": f"Bearer {fake.api_key}"},
    )
    body = response.json()
    assert response.status_code == 400 and body["statusCode"] == 400
    assert body["message"].startswith("Body validation error!") and detail in body["message"]
    assert set(body) == {"message", "path", "requestId", "statusCode", "timestamp"}


def test_fake_accepts_enum_sizes_and_serves_their_pixels(fake):
    response = httpx.post(
        fake.base_url + "/v1/images/generations",
        json=GOOD | {"image_size": "portrait_16_9"},
        headers={"Authorization": f"Bearer {fake.api_key}"},
    )
    assert response.headers["x-aimlapi-usd-spent"] == "0.039000000" and response.headers["x-inference-id"]
    image = Image.open(io.BytesIO(httpx.get(response.json()["data"][0]["url"]).content))
    assert image.size == (576, 1024)


# ---- the adapter alone -------------------------------------------------------------------------

ADAPTER = AIMLAPI()
CREDS = Credentials("https://api.aimlapi.com", "secret-key")


def test_build_direct_targets_the_v1_route_and_keeps_the_key_in_the_header_only():
    wire = WireRequest(
        ImageRequest(Mode.EDIT, "p", images=("x",)), (PreparedImage("data:image/png;base64,AA", "a", 1, 1, 1),), 9
    )
    call = ADAPTER.build_direct(wire, CREDS)
    assert (call.method, call.url) == ("POST", "https://api.aimlapi.com/v1/images/generations")
    assert call.json["image_urls"] == ["data:image/png;base64,AA"] and call.json["seed"] == 9
    assert call.headers["Authorization"] == "Bearer secret-key" and "secret-key" not in repr(call)
    assert not call.is_idempotent  # a generation POST is never resent blindly


def test_parse_output_reads_url_request_id_and_cost():
    body = {"created": 1, "data": [{"url": "https://oss/x.png"}], "meta": {"usage": {"credits_used": 78000}}}
    output = ADAPTER.parse_output(body, {"x-inference-id": "inf-1", "x-aimlapi-usd-spent": "0.039000000"})
    assert [item.url for item in output.items] == ["https://oss/x.png"]
    assert (output.request_id, output.cost_usd, output.usage) == ("inf-1", 0.039, {"credits_used": 78000})


def test_an_error_envelope_on_a_200_is_still_an_error():
    body = {"message": "Too Many Requests", "requestId": "r-9", "statusCode": "429"}
    with pytest.raises(RateLimited) as caught:
        ADAPTER.parse_output(body, {})
    assert caught.value.request_id == "r-9"


@pytest.mark.parametrize(
    ("status", "message", "error_class", "hint_words"),
    [
        (401, AUTH_MESSAGE, AuthenticationError, "AIMLAPI_API_KEY"),
        (403, CREDITS_MESSAGE, PermissionDenied, "https://aimlapi.com/app/billing/"),
        (429, "Free-tier limit: You've reached your free limit for the hour.", PermissionDenied, "hour"),
        (429, "Too Many Requests", RateLimited, "try again"),
        (400, "Body validation error!\nInvalid enum value.", BadRequest, "refused a field"),
        (400, MODERATION_MESSAGE, ContentModerated, "flagged"),
        (500, "The model is under maintenance, please contact us at help@aimlapi.com.", ProviderFailure, "maintenance"),
        (502, "Bad Gateway", ProviderFailure, "Try again"),
        (504, "Generation timeout", ProviderTimeout, "billed"),
        (404, "", BadRequest, "refused"),
    ],
)
def test_parse_error_maps_the_documented_messages(status, message, error_class, hint_words):
    body = {"message": message, "path": "/v1/images/generations", "requestId": "req-1", "statusCode": status}
    error = ADAPTER.parse_error(status, body, {"retry-after": "3", "x-inference-id": "inf-2"})
    assert type(error) is error_class and hint_words in error.hint
    assert (error.status_code, error.request_id, error.retry_after) == (status, "req-1", 3.0)


def test_parse_error_without_a_body_uses_the_inference_id_header():
    error = ADAPTER.parse_error(503, None, {"x-inference-id": "inf-3"})
    assert type(error) is ProviderFailure and error.request_id == "inf-3" and "HTTP 503" in error.message


def test_only_direct_calls_are_offered_and_the_others_are_refused_by_name():
    assert flows_of(ADAPTER) == {Flow.DIRECT}
    with pytest.raises(ConfigError, match="AI/ML API has no task flow"):
        task_calls(ADAPTER)
    with pytest.raises(ConfigError, match="AI/ML API has no streamed call"):
        streamed_calls(ADAPTER)


# ---- billing is never retried, even on a 429 -------------------------------------------------------

# OpenAI's envelope for an account out of quota, which upstreams pass through with HTTP 429 [I].
INSUFFICIENT_QUOTA = {
    "error": {
        "message": "You exceeded your current quota, please check your plan and billing details.",
        "type": "insufficient_quota",
        "param": None,
        "code": "insufficient_quota",
    }
}


def _retried(error):
    return should_retry(error, idempotent=True, attempt=0, policy=RetryPolicy())


def test_insufficient_quota_on_a_429_is_permission_denied_with_its_words_and_never_retried():
    error = ADAPTER.parse_error(429, INSUFFICIENT_QUOTA, {"x-inference-id": "inf-4"})
    assert type(error) is PermissionDenied and not _retried(error)
    assert (error.code, error.status_code, error.request_id) == ("insufficient_quota", 429, "inf-4")
    assert error.message.startswith("You exceeded your current quota") and BILLING_URL in error.hint


@pytest.mark.parametrize(
    ("body", "error_class"),
    [
        ({"message": "Insufficient balance on this account", "statusCode": 429}, PermissionDenied),
        ({"error": {"type": "insufficient_quota"}}, PermissionDenied),
        ({"error": "credit limit reached"}, PermissionDenied),
        ({"message": "Too Many Requests", "statusCode": 429}, RateLimited),
        ({"message": "Rate limit exceeded: quota of 10 requests per minute", "statusCode": 429}, RateLimited),
    ],
    ids=["balance", "type-only", "error-string", "throttled", "rate-quota"],
)
def test_a_429_is_billing_only_when_its_words_say_money(body, error_class):
    error = ADAPTER.parse_error(429, body, {})
    assert type(error) is error_class and _retried(error) is (error_class is RateLimited)


def test_an_insufficient_quota_429_from_the_fake_is_sent_once(fake, tmp_path):
    fake.reply_next(INSUFFICIENT_QUOTA, status=429, times=5)
    error = failing(fake, tmp_path, ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"), PermissionDenied)
    assert error.code == "insufficient_quota" and len(fake.generation_requests()) == 1
