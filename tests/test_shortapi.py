"""ShortAPI end to end against its loopback fake (job/create + job/query), plus the adapter alone."""

import asyncio
import json

import httpx
import pytest
from PIL import Image

from fakes.shortapi import MODEL_EDIT, MODEL_T2I, FakeShortAPI
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
    Phase,
    Progress,
    ProtocolError,
    ProviderFailure,
    RateLimited,
    Size,
    TaskNotFound,
)
from wan26._http import RetryPolicy, should_retry
from wan26.images import PreparedImage
from wan26.providers._base import Credentials, TaskStatus, WireRequest, direct_calls, flows_of
from wan26.providers.shortapi import ShortAPI

SQUARE = {"width": 1280, "height": 1280}
CAT = "https://example.com/cat.png"  # never fetched: neither wan26 nor the fake downloads references
SOFA = "https://example.com/sofa.jpg"


async def no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


@pytest.fixture
def fake(vendor_fakes) -> FakeShortAPI:
    """The session's FakeShortAPI (conftest), reset."""
    return vendor_fakes["shortapi"]


def run(fake, tmp_path, request=None, *, fetch=None, env=None, flow=None, **options):
    """Generate `request` (or fetch a job id) through AsyncClient(provider="shortapi"); return (result, events)."""
    events = []

    async def go():
        settings = {"env": env or fake.env(), "output_dir": tmp_path / "outputs", "sleep": no_sleep, **options}
        async with AsyncClient("shortapi", **settings) as client:
            if fetch is not None:
                return await client.fetch(fetch, Mode.TEXT_TO_IMAGE, on_event=events.append)
            return await client.generate(request, flow=flow, on_event=events.append)

    return asyncio.run(go()), events


def sent(fake) -> dict:
    [create] = fake.generation_requests()
    return create.json


def t2i(prompt="a lighthouse at dawn", **changes) -> ImageRequest:
    return ImageRequest(Mode.TEXT_TO_IMAGE, prompt, **changes)


def edit(*images, prompt="put the cat from image 1 on the sofa from image 2", **changes) -> ImageRequest:
    return ImageRequest(Mode.EDIT, prompt, images=images or (CAT,), **changes)


# ---- every mode generates, saves and records ---------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "model", "size"),
    [
        (t2i(size=Size(2560, 768), n=2), MODEL_T2I, (2560, 768)),
        (t2i(n=2), MODEL_T2I, (1280, 1280)),  # no size: ShortAPI's default
        (edit(CAT, SOFA, size=Size(1024, 1024), n=2), MODEL_EDIT, (1024, 1024)),
        (edit(CAT, n=2), MODEL_EDIT, (1280, 1280)),  # no size: the adapter's required default
    ],
    ids=["t2i-sized", "t2i-default", "edit-sized", "edit-default"],
)
def test_every_mode_saves_decodable_pngs_and_a_record_with_the_cost(fake, tmp_path, request_, model, size):
    result, _ = run(fake, tmp_path, request_)

    assert len(result.images) == 2 and len(fake.downloads()) == 2
    for image in result.images:
        assert image.path.read_bytes() == httpx.get(image.source_url).content
        with Image.open(image.path) as png:
            assert (png.format, png.size) == ("PNG", size)
    record = json.loads(result.sidecar.read_text())
    assert (record["status"], record["provider"], record["model"], record["flow"]) == (
        "succeeded",
        "shortapi",
        model,
        "task",
    )
    assert record["cost_usd"] == result.cost_usd == 0.052  # the submit's "amount", not the list price
    assert record["task_id"] == result.task_id and result.task_id in fake.jobs
    assert record["seed"] is None and all(entry["seed"] is None for entry in record["images"])


def test_text_to_image_wire_payload(fake, tmp_path):
    run(fake, tmp_path, t2i(size=Size(1440, 1440), n=3, negative_prompt="blurry", prompt_extend=False))

    [create] = fake.generation_requests()
    assert create.headers["authorization"] == f"Bearer {fake.api_key}"
    assert create.headers["content-type"] == "application/json"
    # Exactly these fields: no seed, no watermark (neither llms.txt schema has them), no callback_url.
    assert create.json == {
        "model": "alibaba/wan-2.6/text-to-image",
        "args": {
            "prompt": "a lighthouse at dawn",
            "negative_prompt": "blurry",
            "num_images": 3,
            "width": 1440,
            "height": 1440,
            "prompt_extend": False,
        },
    }
    job_id = next(iter(fake.jobs))
    assert [(q.path, q.query) for q in fake.queries()] == [("/api/v1/job/query", {"id": job_id})] * 3
    assert all(q.headers["authorization"] == f"Bearer {fake.api_key}" for q in fake.queries())


def test_edit_wire_payload_sends_the_urls_in_order_and_always_a_size(fake, tmp_path):
    run(fake, tmp_path, edit(SOFA, CAT))

    assert sent(fake) == {
        "model": "alibaba/wan-2.6/image-to-image",
        "args": {
            "prompt": "put the cat from image 1 on the sofa from image 2",
            "num_images": 1,
            "width": 1280,  # both required for image-to-image
            "height": 1280,
            "prompt_extend": True,
            "image_urls": [SOFA, CAT],
        },
    }
    assert [r.path for r in fake.requests if "example.com" in r.path] == []


def test_text_to_image_without_a_size_leaves_it_to_shortapi(fake, tmp_path):
    run(fake, tmp_path, t2i())
    assert "width" not in sent(fake)["args"] and "height" not in sent(fake)["args"]
    assert "negative_prompt" not in sent(fake)["args"]


# ---- tasks: statuses, failures, fetch -------------------------------------------------------


def test_waiting_shows_queued_then_processing(fake, tmp_path):
    fake.status_script = [0, 0, 1, 1, 2]
    result, events = run(fake, tmp_path, t2i())

    waiting = [e for e in events if isinstance(e, Progress) and e.phase is Phase.WAITING]
    assert [e.task_status for e in waiting] == ["queued", "queued", "queued", "processing", "processing"]
    assert [e.message for e in waiting[-2:]] == ["Task processing"] * 2
    assert all(e.task_id == result.task_id for e in waiting)
    assert len(fake.generation_requests()) == 1 and len(fake.queries()) == 5


def test_a_failed_job_reports_shortapis_words_and_the_job_id(fake, tmp_path):
    fake.status_script = [1, 3]
    fake.job_error = "upstream model returned an error"
    with pytest.raises(ProviderFailure) as caught:
        run(fake, tmp_path, t2i())

    error = caught.value
    job_id = next(iter(fake.jobs))
    assert error.message == "upstream model returned an error" and error.task_id == job_id
    assert "ShortAPI's side" in error.hint and f"Task id: {job_id}" in str(error)
    assert len(fake.generation_requests()) == 1  # never resubmitted


@pytest.mark.parametrize("kind", list(FailureKind))
def test_each_failure_becomes_its_error_class_with_the_vendors_words_and_a_hint(fake, tmp_path, kind):
    fake.fail_with(kind, times=10)  # more than the retries a 429 gets
    with pytest.raises(EXPECTED_ERROR[kind]) as caught:
        run(fake, tmp_path, t2i())

    error = caught.value
    assert error.provider == "shortapi" and error.message and error.hint
    if kind is FailureKind.MODERATION:  # the job is accepted, then ends in status 3
        assert "DataInspectionFailed" in error.message and error.task_id in fake.jobs
        assert "Rephrase" in error.hint
    else:
        assert error.code == str(error.status_code)  # the body's code, next to the HTTP status
    assert fake.api_key not in str(error)


@pytest.mark.parametrize(
    ("kind", "expected", "hint"),
    [
        (FailureKind.CREDITS, PermissionDenied, "top up"),
        (FailureKind.AUTH, AuthenticationError, "SHORTAPI_API_KEY"),
        (FailureKind.RATE_LIMIT, RateLimited, "Wait"),
    ],
)
def test_an_error_inside_an_http_200_answer_is_still_an_error(fake, tmp_path, kind, expected, hint):
    fake.errors_in_http_200 = True
    fake.fail_with(kind)
    with pytest.raises(expected) as caught:
        run(fake, tmp_path, t2i())
    assert caught.value.status_code is None and caught.value.code in ("401", "402", "429")
    assert hint in caught.value.hint
    assert fake.queries() == []  # a refused job is never polled


def test_a_throttled_submission_is_retried_and_billed_once(fake, tmp_path):
    fake.fail_with(FailureKind.RATE_LIMIT)
    result, _ = run(fake, tmp_path, t2i())
    assert len(result.images) == 1
    assert len(fake.generation_requests()) == 2 and len(fake.jobs) == 1


def test_a_server_error_on_submit_is_not_resubmitted(fake, tmp_path):
    fake.fail_with(FailureKind.SERVER, times=10)
    with pytest.raises(ProviderFailure):
        run(fake, tmp_path, t2i())
    assert len(fake.generation_requests()) == 1


def test_a_wrong_key_names_the_variable_and_never_shows_the_key(fake, tmp_path):
    env = {**fake.env(), "SHORTAPI_API_KEY": "sa-wrong-key-987"}
    with pytest.raises(AuthenticationError) as caught:
        run(fake, tmp_path, t2i(), env=env)
    assert "SHORTAPI_API_KEY" in str(caught.value) and "sa-wrong-key-987" not in str(caught.value)
    assert caught.value.code == "401" and caught.value.message == "invalid api key"


def test_fetch_saves_the_images_of_a_finished_job(fake, tmp_path):
    body = {"model": MODEL_T2I, "args": {"prompt": "fox", "num_images": 2, "width": 1280, "height": 1280}}
    headers = {"Authorization": f"Bearer {fake.api_key}"}
    job_id = httpx.post(fake.base_url + "/job/create", json=body, headers=headers).json()["data"]["job_id"]

    result, _ = run(fake, tmp_path, fetch=job_id)

    assert result.task_id == job_id and len(result.images) == 2
    assert all(Image.open(image.path).size == (1280, 1280) for image in result.images)
    record = json.loads(result.sidecar.read_text())
    assert record["fetched_task"] is True and record["prompt"] is None
    assert len(fake.generation_requests()) == 1  # fetching never submits


@pytest.mark.parametrize("in_http_200", [False, True])
def test_fetching_an_unknown_job_says_so(fake, tmp_path, in_http_200):
    fake.errors_in_http_200 = in_http_200
    with pytest.raises(TaskNotFound) as caught:
        run(fake, tmp_path, fetch="no-such-job")
    assert caught.value.message == "job not found" and "does not know this job id" in caught.value.hint
    assert fake.queries()[0].query == {"id": "no-such-job"}


@pytest.mark.parametrize(
    ("target", "body"),
    [
        ("create", {"code": 0, "data": {"amount": "0.026"}}),  # no job_id
        ("create", {"code": 0}),  # no data
        ("create", ["not", "an", "object"]),
        ("query", {"code": 0, "data": {"status": 7}}),  # an undocumented status
        ("query", {"code": 0, "data": {"status": "done"}}),
        ("query", {"code": 0, "data": {"status": 2, "result": {"images": []}}}),  # succeeded without images
        ("query", {"code": 0, "data": {"status": 2, "result": {"images": [{"uri": "x"}]}}}),
    ],
)
def test_malformed_answers_become_protocol_errors(fake, tmp_path, target, body):
    fake.respond_next(target, body)
    with pytest.raises(ProtocolError) as caught:
        run(fake, tmp_path, t2i())
    assert caught.value.provider == "shortapi"
    assert len(fake.generation_requests()) == 1


# ---- refused before anything is sent ---------------------------------------------------------


@pytest.mark.parametrize("local", ["photo-path", b"\x89PNG\r\n\x1a\n-bytes"], ids=["path", "bytes"])
def test_local_reference_images_are_refused_before_any_request(fake, tmp_path, local):
    if local == "photo-path":
        local = tmp_path / "photo.png"
        Image.new("RGB", (512, 512), "red").save(local)
    with pytest.raises(InvalidRequest) as caught:
        run(fake, tmp_path, edit(local))
    [violation] = caught.value.violations
    assert violation.field == "image 1" and "URLs only" in violation.message
    assert fake.requests == []


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (t2i(seed=42), "seed"),  # ShortAPI takes no seed
        (t2i(watermark=True), "watermark"),
        (t2i(size=Size(1024, 1024)), "size"),  # t2i needs 1280²–1440² pixels
        (t2i(size=Size(3072, 768)), "size.width"),  # over 2880 per side
        (t2i(n=5), "n"),
        (t2i(prompt="x" * 2101), "prompt"),
        (edit(size=Size(1440, 1440)), "size"),  # edit allows at most 1280² pixels
        (edit(CAT, SOFA, CAT, SOFA, CAT), "images"),
        (edit(prompt="x" * 2001), "prompt"),
        (ImageRequest(Mode.EDIT, "no image"), "images"),
        (ImageRequest(Mode.INTERLEAVE, "a recipe"), "mode"),
    ],
)
def test_bad_input_never_reaches_shortapi(fake, tmp_path, request_, field):
    with pytest.raises(InvalidRequest) as caught:
        run(fake, tmp_path, request_)
    assert field in [v.field for v in caught.value.violations]
    assert fake.requests == []


def test_the_direct_flow_is_refused_before_any_request(fake, tmp_path):
    with pytest.raises(InvalidRequest, match="does not offer the direct flow"):
        run(fake, tmp_path, t2i(), flow=Flow.DIRECT)
    assert fake.requests == []


# ---- the fake is as strict as ShortAPI's schemas ---------------------------------------------


@pytest.mark.parametrize(
    ("model", "args", "complaint"),
    [
        (MODEL_T2I, {"prompt": "fox", "seed": 1}, "args.seed"),
        (MODEL_T2I, {"prompt": "fox", "width": 1280}, "together"),
        (MODEL_T2I, {"prompt": "fox", "width": 1024, "height": 1024}, "pixels"),
        (MODEL_T2I, {"prompt": "fox", "num_images": "2"}, "num_images"),
        (MODEL_EDIT, {"prompt": "fox", "image_urls": [CAT]}, "required"),
        (
            MODEL_EDIT,
            {"prompt": "fox", "image_urls": ["data:image/png;base64,AA"], "width": 1280, "height": 1280},
            "URL",
        ),
        (MODEL_EDIT, {"prompt": "fox", "image_urls": [CAT], "width": 2560, "height": 384}, "aspect ratio"),
        ("alibaba/wan-2.6", {"prompt": "fox"}, "invalid model"),
    ],
)
def test_the_fake_refuses_what_shortapi_documents_as_invalid(fake, model, args, complaint):
    answer = httpx.post(
        fake.base_url + "/job/create",
        json={"model": model, "args": args},
        headers={"Authorization": f"Bearer {fake.api_key}"},
    )
    assert answer.status_code == 400 and answer.json()["code"] == 400
    assert complaint in answer.json()["info"]
    assert fake.jobs == {}


# ---- the adapter alone ------------------------------------------------------------------------

ADAPTER = ShortAPI()
CREDS = Credentials("https://api.shortapi.ai/api/v1", "sa-secret")


def test_build_calls_and_refuse_the_direct_flow():
    request = ImageRequest(Mode.EDIT, "p", images=(CAT,), size=Size(1280, 720))
    wire = WireRequest(request, (PreparedImage(CAT, CAT, None, None, None),), None)
    submit = ADAPTER.build_submit(wire, CREDS)
    assert (submit.method, submit.url) == ("POST", "https://api.shortapi.ai/api/v1/job/create")
    assert "sa-secret" not in repr(submit)
    poll = ADAPTER.build_poll("a b/c", CREDS)
    assert (poll.method, poll.url) == ("GET", "https://api.shortapi.ai/api/v1/job/query?id=a%20b%2Fc")
    assert flows_of(ADAPTER) == {Flow.TASK}
    with pytest.raises(ConfigError, match="ShortAPI has no direct call; the flows it offers: task"):
        direct_calls(ADAPTER)


def test_submit_reports_the_charge_as_a_float():
    state = ADAPTER.parse_submit({"code": 0, "data": {"amount": "0.02", "job_id": "j1"}})
    assert (state.task_id, state.status, state.cost_usd) == ("j1", TaskStatus.QUEUED, 0.02)
    assert ADAPTER.parse_submit({"code": 0, "data": {"amount": "n/a", "job_id": "j1"}}).cost_usd is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [(0, TaskStatus.QUEUED), (1, TaskStatus.RUNNING), (2, TaskStatus.SUCCEEDED), (3, TaskStatus.FAILED)],
)
def test_job_statuses(status, expected):
    data = {"status": status, "result": {"images": [{"url": "https://file.shortapi.ai/x.png"}]}}
    assert ADAPTER.parse_task({"code": 0, "data": data}, "j1").status is expected


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (403, {"code": 403, "info": "Insufficient balance"}, PermissionDenied),
        (403, {"code": 403, "info": "model not allowed"}, PermissionDenied),
        (400, {"code": 1001, "message": "invalid api key"}, AuthenticationError),
        (400, {"code": 400, "info": "prompt contains sensitive words"}, ContentModerated),
        (200, {"code": 500, "info": "oops"}, ProviderFailure),
        (200, {"code": 10086, "info": "args.width out of range"}, BadRequest),
        (503, None, ProviderFailure),
    ],
)
def test_errors_are_classified_by_status_text_and_code(status, body, expected):
    error = ADAPTER.parse_error(status, body, {"x-request-id": "req-9", "retry-after": "3"})
    assert type(error) is expected and error.hint
    assert (error.request_id, error.retry_after) == ("req-9", 3.0)


def test_insufficient_balance_points_to_topping_up():
    error = ADAPTER.parse_error(402, {"code": 402, "info": "insufficient balance"}, {})
    assert isinstance(error, PermissionDenied) and "https://shortapi.ai" in error.hint
    assert (error.code, error.message, error.status_code) == ("402", "insufficient balance", 402)


def test_a_failed_job_without_words_still_says_it_failed():
    state = ADAPTER.parse_task({"code": 0, "data": {"status": 3}}, "j1")
    assert isinstance(state.error, ProviderFailure) and state.error.task_id == "j1"
    assert state.error.message == "the job failed without a message"


def test_a_decisive_code_inside_an_http_200_body_counts_like_the_status():
    error = ADAPTER.parse_error(200, {"code": 402, "info": "payment required"}, {})
    assert isinstance(error, PermissionDenied) and "top up" in error.hint and error.status_code is None


# ---- tolerant readers: the job id in either place, billing is never retried ------------------------


def test_a_job_id_at_the_top_level_is_polled_and_its_images_saved(fake, tmp_path):
    fake.job_id_at_top_level = True
    result, _ = run(fake, tmp_path, t2i(n=2))

    assert result.task_id in fake.jobs and len(result.images) == 2
    assert result.cost_usd == pytest.approx(0.052)
    assert {query.query["id"] for query in fake.queries()} == {result.task_id}


@pytest.mark.parametrize(
    ("body", "job_id", "cost"),
    [
        ({"code": 0, "data": {"amount": "0.02", "job_id": "j1"}}, "j1", 0.02),  # the llms.txt shape
        ({"code": 0, "job_id": "j2", "amount": "0.026"}, "j2", 0.026),  # at the top level
        ({"code": 0, "job_id": "j3", "data": {"amount": "0.02"}}, "j3", 0.02),  # mixed
        ({"code": 0, "job_id": "top", "data": {"job_id": "inner"}}, "inner", None),  # `data` first
    ],
    ids=["data", "top-level", "mixed", "data-wins"],
)
def test_submit_reads_the_job_id_from_data_or_the_top_level(body, job_id, cost):
    state = ADAPTER.parse_submit(body)
    assert (state.task_id, state.status, state.cost_usd) == (job_id, TaskStatus.QUEUED, cost)


def test_submit_without_a_job_id_anywhere_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="without a job_id"):
        ADAPTER.parse_submit({"code": 0, "data": {"amount": "0.02"}, "job_id": ""})


def _retried(error):
    return should_retry(error, idempotent=True, attempt=0, policy=RetryPolicy())


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (429, {"code": 429, "info": "insufficient balance, please recharge"}),
        (429, {"code": "insufficient_quota", "message": "You exceeded your current quota."}),
        (200, {"code": 429, "info": "credit exhausted"}),
        (429, {"code": 429, "info": "quota used up"}),
    ],
    ids=["balance", "insufficient-quota", "credit-in-http-200", "quota"],
)
def test_billing_on_a_429_is_permission_denied_and_never_retried(status, body):
    error = ADAPTER.parse_error(status, body, {})
    assert type(error) is PermissionDenied and not _retried(error) and "top up" in error.hint


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (429, {"code": 429, "info": "too many requests, please try again later"}, RateLimited),
        (429, {"code": 429, "info": "rate limit quota exceeded"}, RateLimited),
        (401, {"code": 401, "info": "invalid api key: see the billing page"}, AuthenticationError),
    ],
    ids=["throttled", "rate-quota", "key-error-naming-billing"],
)
def test_real_throttling_and_key_errors_keep_their_class(status, body, expected):
    assert type(ADAPTER.parse_error(status, body, {})) is expected


def test_a_billing_429_from_the_fake_is_submitted_once(fake, tmp_path):
    fake.respond_next("create", {"code": 429, "info": "insufficient balance, please recharge"}, status=429)
    with pytest.raises(PermissionDenied) as caught:
        run(fake, tmp_path, t2i())
    assert caught.value.status_code == 429 and "top up" in caught.value.hint
    assert len(fake.generation_requests()) == 1 and fake.jobs == {}


def test_a_finished_job_keeps_its_images_beside_an_entry_without_a_url():
    good = "https://file.shortapi.ai/result-1.png?Expires=1767225600&Signature=" + "s" * 300
    data = {"status": 2, "result": {"images": [{"url": good}, {"url": None}]}}
    state = ADAPTER.parse_task({"code": 0, "data": data}, "j1")
    assert [item.url for item in state.output.items] == [good]
    assert state.output.notes == ("skipped 1 result entry without an image URL",)
