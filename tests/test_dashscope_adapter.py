"""The DashScope adapter alone: canonical request in, exact wire payload out, and back."""

import asyncio

import pytest

from wan26 import (
    AsyncClient,
    AuthenticationError,
    BadRequest,
    ConfigError,
    ContentModerated,
    ImageRequest,
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
from wan26._sse import SSEEvent
from wan26.images import PreparedImage
from wan26.providers._base import Credentials, OutputImage, OutputText, TaskStatus, WireRequest
from wan26.providers._wire import mentions_billing
from wan26.providers.dashscope import DashScope

ADAPTER = DashScope()
CREDS = Credentials("https://dashscope-intl.aliyuncs.com/api/v1", "sk-secret")
REF = PreparedImage("data:image/png;base64,AAAA", "cat.png", 300, 300, 3)


def wire(mode, images=(), seed=7, **changes) -> WireRequest:
    return WireRequest(ImageRequest(mode, "make it", images=tuple("x" for _ in images), **changes), images, seed)


def test_text_to_image_payload():
    call = ADAPTER.build_direct(wire(Mode.TEXT_TO_IMAGE, size=Size(1280, 1280), n=2, negative_prompt="blur"), CREDS)
    assert (call.method, call.url, call.stream) == (
        "POST",
        "https://dashscope-intl.aliyuncs.com/api/v1/services/aigc/multimodal-generation/generation",
        False,
    )
    assert call.json == {
        "model": "wan2.6-t2i",
        "input": {"messages": [{"role": "user", "content": [{"text": "make it"}]}]},
        "parameters": {
            "watermark": False,
            "negative_prompt": "blur",
            "seed": 7,
            "size": "1280*1280",
            "n": 2,
            "prompt_extend": True,
        },
    }
    assert call.headers["Authorization"] == "Bearer sk-secret"


def test_edit_payload_keeps_image_order_and_sends_n_explicitly():
    second = PreparedImage("https://example.com/b.png", "https://example.com/b.png", None, None, None)
    call = ADAPTER.build_direct(wire(Mode.EDIT, images=(REF, second), size=SizeTier.K2, prompt_extend=False), CREDS)
    assert call.json["model"] == "wan2.6-image"
    assert call.json["input"]["messages"][0]["content"] == [
        {"text": "make it"},
        {"image": "data:image/png;base64,AAAA"},
        {"image": "https://example.com/b.png"},
    ]
    assert call.json["parameters"] == {
        "watermark": False,
        "seed": 7,
        "size": "2K",
        "n": 1,
        "prompt_extend": False,
        "enable_interleave": False,
    }


def test_direct_interleave_streams_with_the_sse_header():
    interleave = wire(Mode.INTERLEAVE, max_images=3, watermark=True)
    call = ADAPTER.build_stream(interleave, CREDS)
    assert ADAPTER.build_direct(interleave, CREDS) == call  # the direct endpoint answers interleave only as a stream
    assert call.stream is True
    assert call.headers["X-DashScope-Sse"] == "enable"
    # n is not sent: interleave takes only 1, and no size means "follow the input image".
    assert call.json["parameters"] == {
        "watermark": True,
        "seed": 7,
        "enable_interleave": True,
        "max_images": 3,
        "stream": True,
    }


def test_task_submit_and_poll_calls():
    submit = ADAPTER.build_submit(wire(Mode.INTERLEAVE), CREDS)
    assert submit.url.endswith("/services/aigc/image-generation/generation")
    assert submit.headers["X-DashScope-Async"] == "enable"
    assert "stream" not in submit.json["parameters"]
    poll = ADAPTER.build_poll("t-1", CREDS)
    assert (poll.method, poll.url) == ("GET", "https://dashscope-intl.aliyuncs.com/api/v1/tasks/t-1")


def test_key_is_not_in_the_repr_of_credentials_or_calls():
    assert "sk-secret" not in repr(CREDS)
    assert "sk-secret" not in repr(ADAPTER.build_poll("t-1", CREDS))


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({}, "https://dashscope-intl.aliyuncs.com/api/v1"),
        ({"DASHSCOPE_REGION": "cn"}, "https://dashscope.aliyuncs.com/api/v1"),
        ({"DASHSCOPE_REGION": "us"}, "https://dashscope-us.aliyuncs.com/api/v1"),
        (
            {"DASHSCOPE_REGION": "us", "DASHSCOPE_BASE_URL": "http://127.0.0.1:8123/api/v1/"},
            "http://127.0.0.1:8123/api/v1",
        ),
    ],
)
def test_base_url_from_region_or_override(env, url):
    assert ADAPTER.facts.base_url(env) == url


def test_unknown_region_is_a_config_error_naming_the_choices():
    with pytest.raises(ConfigError, match="intl, cn, us"):
        ADAPTER.facts.base_url({"DASHSCOPE_REGION": "eu"})


def test_parse_sync_output_one_choice_per_image():
    body = {
        "output": {
            "choices": [
                {
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": [{"image": "https://r/1.png", "type": "image"}]},
                },
                {
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": [{"image": "https://r/2.png", "type": "image"}]},
                },
            ],
            "finished": True,
        },
        "usage": {"image_count": 2, "size": "1280*1280"},
        "request_id": "req-1",
    }
    output = ADAPTER.parse_output(body, {})
    assert output.items == (OutputImage("https://r/1.png"), OutputImage("https://r/2.png"))
    assert (output.request_id, output.size, output.finished) == ("req-1", "1280*1280", True)


def test_http_200_with_a_business_error_is_an_error():
    with pytest.raises(BadRequest) as caught:
        ADAPTER.parse_output({"code": "InvalidParameter", "message": "bad size", "request_id": "r-9"}, {})
    assert caught.value.request_id == "r-9"


def test_stream_event_with_string_null_finish_reason_is_not_the_end():
    data = (
        '{"output":{"choices":[{"message":{"content":[{"type":"text","text":"The"}],"role":"assistant"},'
        '"finish_reason":"null"}],"finished":true},"usage":{"size":"0*0"},"request_id":"d2"}'
    )
    chunk = ADAPTER.parse_stream_event(SSEEvent("result", data))
    assert chunk.items == (OutputText("The"),) and chunk.finished is False


def test_stream_error_event_raises_with_status_from_the_comment():
    event = SSEEvent(
        "error", '{"code":"DataInspectionFailed","message":"bad","request_id":"r-2"}', comments=("HTTP_STATUS/400",)
    )
    with pytest.raises(ContentModerated) as caught:
        ADAPTER.parse_stream_event(event)
    assert (caught.value.status_code, caught.value.code, caught.value.request_id) == (
        400,
        "DataInspectionFailed",
        "r-2",
    )


def test_malformed_stream_data_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        ADAPTER.parse_stream_event(SSEEvent("result", "{not json"))


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("PENDING", TaskStatus.QUEUED),
        ("RUNNING", TaskStatus.RUNNING),
        ("SUCCEEDED", TaskStatus.SUCCEEDED),
        ("FAILED", TaskStatus.FAILED),
        ("CANCELED", TaskStatus.CANCELED),
        ("UNKNOWN", TaskStatus.UNKNOWN),
    ],
)
def test_task_statuses(raw, status):
    body = {"request_id": "r", "output": {"task_id": "t", "task_status": raw, "choices": []}}
    assert ADAPTER.parse_task(body, "t").status is status


def test_an_undocumented_task_status_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="PAUSED"):
        ADAPTER.parse_task({"output": {"task_id": "t", "task_status": "PAUSED"}}, "t")


@pytest.mark.parametrize(
    "body",
    [
        # The three documented FAILED shapes: the API reference's, the task query page's, the FAQ's.
        {"request_id": "r", "code": "InvalidParameter", "message": "num_images_per_prompt must be 1"},
        {
            "request_id": "r",
            "output": {"task_id": "t", "task_status": "FAILED"},
            "code": "InvalidParameter",
            "message": "num_images_per_prompt must be 1",
        },
        {
            "request_id": "r",
            "output": {
                "task_id": "t",
                "task_status": "FAILED",
                "code": "InvalidParameter",
                "message": "num_images_per_prompt must be 1",
            },
        },
    ],
)
def test_failed_task_shapes_all_give_code_message_and_task_id(body):
    state = ADAPTER.parse_task(body, "t")
    assert state.status is TaskStatus.FAILED
    assert isinstance(state.error, BadRequest)
    assert (state.error.code, state.error.task_id) == ("InvalidParameter", "t")
    assert "num_images_per_prompt must be 1" in str(state.error)


# Every code on https://www.alibabacloud.com/help/en/model-studio/error-code lands in the right cause with a hint.
@pytest.mark.parametrize(
    ("status", "code", "cause"),
    [
        (400, "InvalidParameter", BadRequest),
        (400, "DataInspectionFailed", ContentModerated),
        (400, "data_inspection_failed", ContentModerated),
        (400, "IPInfringementSuspect", ContentModerated),
        (400, "Arrearage", PermissionDenied),
        (400, "BadRequest.InputDownloadFailed", BadRequest),
        (401, "InvalidApiKey", AuthenticationError),
        (403, "AccessDenied", PermissionDenied),
        (403, "AccessDenied.Unpurchased", PermissionDenied),
        (403, "Model.AccessDenied", PermissionDenied),
        (403, "Workspace.AccessDenied", PermissionDenied),
        (403, "AllocationQuota.FreeTierOnly", PermissionDenied),
        (404, "ModelNotFound", BadRequest),
        (429, "Throttling", RateLimited),
        (429, "Throttling.RateQuota", RateLimited),
        (429, "Throttling.BurstRate", RateLimited),
        (429, "Throttling.AllocationQuota", RateLimited),
        (500, "InternalError", ProviderFailure),
        (500, "InternalError.Algo", ProviderFailure),
        (500, "SystemError", ProviderFailure),
        (500, "ModelServiceFailed", ProviderFailure),
        (500, "ModelServingError", ProviderFailure),
        (503, "ModelUnavailable", ProviderFailure),
        (500, "InternalError.Timeout", ProviderTimeout),
        (500, "RequestTimeOut", ProviderTimeout),
        (418, "SomethingNew", BadRequest),
        (502, "SomethingNew", ProviderFailure),
    ],
)
def test_error_mapping(status, code, cause):
    error = ADAPTER.parse_error(status, {"code": code, "message": "msg", "request_id": "req-7"}, {})
    assert type(error) is cause
    assert (error.status_code, error.code, error.request_id, error.provider) == (status, code, "req-7", "dashscope")
    assert error.hint
    assert code in str(error) and "req-7" in str(error) and error.hint in str(error)


def test_invalid_key_hint_mentions_the_region():
    error = ADAPTER.parse_error(401, {"code": "InvalidApiKey", "message": "Invalid API-key provided."}, {})
    assert "DASHSCOPE_REGION" in error.hint


def test_retry_after_and_request_id_from_headers():
    error = ADAPTER.parse_error(429, None, {"retry-after": "3", "x-request-id": "hdr-1"})
    assert (error.retry_after, error.request_id, type(error)) == (3.0, "hdr-1", RateLimited)


# ---- tolerant readers: unknown output items, `msg`, SUSPENDED, billing is never retried ----------------


def _choice(*content):
    return {"finish_reason": "stop", "message": {"role": "assistant", "content": list(content)}}


def _sync_body(*choices):
    return {"output": {"choices": list(choices), "finished": True}, "usage": {"size": "1280*1280"}, "request_id": "r"}


def test_an_unknown_output_item_is_skipped_with_a_note_and_the_images_are_kept():
    body = _sync_body(
        _choice({"type": "image", "image": "https://r/1.png"}),
        _choice({"type": "video", "video": "https://r/1.mp4"}),
        _choice({"type": "image", "image": "https://r/2.png"}),
    )
    output = ADAPTER.parse_output(body, {})
    assert output.items == (OutputImage("https://r/1.png"), OutputImage("https://r/2.png"))
    assert output.notes == ("skipped an output item of unknown type 'video'",)


def test_an_item_missing_its_fields_and_a_choice_without_content_are_skipped_with_notes():
    body = _sync_body(
        _choice({"type": "image"}, {"type": "image", "image": "https://r/1.png"}),
        {"finish_reason": "stop", "message": {"role": "assistant"}},
    )
    output = ADAPTER.parse_output(body, {})
    assert output.items == (OutputImage("https://r/1.png"),)
    assert output.notes[0] == "skipped an output item of type 'image' that has no 'image' field"
    assert output.notes[1].startswith("skipped an output choice without message.content")


def test_a_succeeded_task_keeps_its_images_beside_an_unknown_item():
    body = {
        "request_id": "r",
        "output": {
            "task_id": "t",
            "task_status": "SUCCEEDED",
            "choices": [_choice({"type": "text", "text": "a"}, {"type": "audio"}, {"type": "image", "image": "u"})],
        },
    }
    state = ADAPTER.parse_task(body, "t")
    assert state.status is TaskStatus.SUCCEEDED and state.error is None
    assert state.output.items == (OutputText("a"), OutputImage("u"))
    assert state.output.notes == ("skipped an output item of unknown type 'audio'",)


def test_a_stream_event_with_only_an_unknown_item_is_an_empty_chunk_with_a_note():
    data = (
        '{"output":{"choices":[{"message":{"content":[{"type":"video","video":"https://r/v.mp4"}],'
        '"role":"assistant"},"finish_reason":"null"}]},"request_id":"d2"}'
    )
    chunk = ADAPTER.parse_stream_event(SSEEvent("result", data))
    assert chunk.items == () and chunk.notes == ("skipped an output item of unknown type 'video'",)


@pytest.mark.parametrize(
    "body",
    [
        {"output": {"finished": True}, "request_id": "r"},  # no choices at all
        _sync_body(_choice({"type": "video", "video": "https://r/1.mp4"})),  # nothing usable
    ],
    ids=["no-choices", "only-unknown-items"],
)
def test_an_answer_with_nothing_usable_is_still_a_protocol_error(body):
    with pytest.raises(ProtocolError):
        ADAPTER.parse_output(body, {})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"code": "InvalidParameter", "msg": "bad size", "request_id": "r"}, "bad size"),
        ({"code": "InvalidParameter", "message": "from message", "msg": "from msg"}, "from message"),
    ],
    ids=["msg-only", "message-wins"],
)
def test_an_http_error_reads_msg_as_well_as_message(body, message):
    error = ADAPTER.parse_error(400, body, {})
    assert type(error) is BadRequest and error.message == message


@pytest.mark.parametrize(
    "body",
    [
        {"request_id": "r", "code": "InvalidParameter", "msg": "num_images_per_prompt must be 1"},
        {
            "request_id": "r",
            "output": {
                "task_id": "t",
                "task_status": "FAILED",
                "code": "InvalidParameter",
                "msg": "num_images_per_prompt must be 1",
            },
        },
        {
            "request_id": "r",
            "output": {"task_id": "t", "task_status": "FAILED"},
            "code": "InvalidParameter",
            "msg": "num_images_per_prompt must be 1",
        },
    ],
    ids=["top-level", "in-output", "output-without-code"],
)
def test_a_failed_task_reads_msg_as_well_as_message(body):
    state = ADAPTER.parse_task(body, "t")
    assert isinstance(state.error, BadRequest) and state.error.message == "num_images_per_prompt must be 1"


def test_a_suspended_task_ends_the_wait_and_says_what_to_do():
    state = ADAPTER.parse_task({"request_id": "r", "output": {"task_id": "t-9", "task_status": "SUSPENDED"}}, "t-9")
    assert state.status is TaskStatus.FAILED and state.status.is_terminal and state.raw_status == "SUSPENDED"
    error = state.error
    assert type(error) is ProviderFailure and error.task_id == "t-9"
    assert "suspended the task" in error.message
    assert "arrears" in error.hint and "console" in error.hint and "fetch" in error.hint


def test_a_suspended_task_keeps_the_providers_words():
    body = {"output": {"task_id": "t", "task_status": "SUSPENDED", "code": "Arrearage", "msg": "account overdue"}}
    error = ADAPTER.parse_task(body, "t").error
    assert error.message == "The provider suspended the task: account overdue" and error.code == "Arrearage"


def _retried(error):
    return should_retry(error, idempotent=True, attempt=0, policy=RetryPolicy())


@pytest.mark.parametrize(
    "body",
    [
        {"code": "insufficient_quota", "message": "You exceeded your current quota, please check your plan."},
        {"code": "QuotaExhausted", "message": "quota used up"},
        {"code": "SomethingNew", "msg": "Insufficient balance"},
        {"code": "Throttling.AllocationQuota", "message": "Free allocated quota exceeded."},
        {"code": "SomethingNew", "message": "Insufficient funds"},
    ],
    ids=["openai-insufficient-quota", "quota-code", "balance-in-msg", "free-quota", "insufficient-funds"],
)
def test_billing_on_a_429_is_permission_denied_and_never_retried(body):
    error = ADAPTER.parse_error(429, body, {})
    assert type(error) is PermissionDenied and not _retried(error)


@pytest.mark.parametrize(
    "body",
    [
        {"code": "Throttling.RateQuota", "message": "Requests rate limit exceeded, please try again later."},
        {
            "code": "Throttling.AllocationQuota",
            "message": "Allocated quota exceeded, please increase your quota limit.",
        },
        {"code": "SomethingNew", "message": "Too many requests: rate limit quota reached"},
        {"code": "SomethingNew", "message": "Insufficient resources, try again later"},
    ],
    ids=["rate-quota", "allocated-quota", "throttle-words", "insufficient-resources"],
)
def test_real_throttling_stays_a_retried_rate_limit(body):
    error = ADAPTER.parse_error(429, body, {})
    assert type(error) is RateLimited and _retried(error)


def test_a_key_error_that_names_the_billing_page_is_still_a_key_error():
    error = ADAPTER.parse_error(401, {"code": "SomethingNew", "message": "Get a key on the billing page"}, {})
    assert type(error) is AuthenticationError


def test_a_billing_429_from_the_fake_is_sent_once_and_reported(dashscope_fake, tmp_path):
    dashscope_fake.fail_next(429, "insufficient_quota", "You exceeded your current quota.", times=5)

    async def go():
        env = {"DASHSCOPE_API_KEY": dashscope_fake.api_key, "DASHSCOPE_BASE_URL": dashscope_fake.base_url}
        async with AsyncClient("dashscope", env=env, output_dir=tmp_path, sleep=_no_sleep) as client:
            await client.generate(ImageRequest(Mode.TEXT_TO_IMAGE, "a fox"))

    with pytest.raises(PermissionDenied) as caught:
        asyncio.run(go())
    assert caught.value.code == "insufficient_quota" and caught.value.status_code == 429
    assert len(dashscope_fake.generation_requests()) == 1


async def _no_sleep(_seconds):
    await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("text", "status", "billing"),
    [
        ("upstream load balancer timed out", 503, False),  # a server failure: retried, whatever it says
        ("upstream load balancer unavailable", 400, False),  # "balancer" is not "balance"
        ("Insufficient balance", 403, True),
        ("You exceeded your current quota (insufficient_quota)", 429, True),
        ("insufficientCredits", None, True),
        ("Requests rate limit exceeded, quota per second", 429, False),
        ("Insufficient permissions for this model", 403, False),
        ("Invalid key; manage billing at https://example.com/billing", 401, False),
    ],
)
def test_only_words_about_money_make_an_error_billing(text, status, billing):
    assert mentions_billing(text, status=status) is billing


def test_a_server_error_that_mentions_a_load_balancer_is_still_a_server_failure():
    error = DashScope().parse_error(503, {"code": "", "message": "upstream load balancer timed out"}, {})
    assert type(error).__name__ == "ProviderFailure"
