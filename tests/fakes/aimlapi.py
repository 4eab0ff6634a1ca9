"""FakeAIMLAPI: a strict loopback stand-in for AI/ML API's `POST /v1/images/generations` (wan 2.6 and 2.7 image).

Built from the vendor's pages, cited below by name:
- model page (with its OpenAPI schema): https://docs.aimlapi.com/api-references/image-models/alibaba-cloud/wan-2-6-image
- 2.7 pages (the same schema, another model id):
  https://github.com/aimlapi/api-docs/blob/f14fa72f/docs/api-references/image-models/alibaba-cloud/wan2.7-image.md
  and its twin wan2.7-image-pro.md
- errors: https://docs.aimlapi.com/errors-and-messages/general-info and
  https://docs.aimlapi.com/errors-and-messages/errors-with-status-code-4xx (and its 5xx twin)
Validation follows that schema as Zod would enforce it; answers use the documented success and error bodies.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .pngs import png_bytes
from .vendor import FailureKind, RecordedRequest, ServedFake, recorded

GENERATION_PATH = "/v1/images/generations"
RESULTS_PREFIX = "/results/"
FAKE_API_KEY = "aiml-fake-test-key-0123456789abcdef"
MODEL = "alibaba/wan-2-6-image"
RESULT_QUERY = {"Expires": "1775681104", "OSSAccessKeyId": "fake", "Signature": "fake"}  # a raw OSS URL (model page)
CREDITS_PER_IMAGE = 78000  # the model page's example usage, and 1 USD = 2,000,000 credits
USD_PER_IMAGE = 0.039
MODEL_27 = "alibaba/wan-2-7-image"  # the schema's enum form (2.7 pages)
MODEL_27_PRO = "alibaba/wan-2-7-image-pro"
# (credits_used, usd_spent) per image: the 2.7 pages' examples (78000 / 0.039 and 195000 / 0.0975)
COSTS = {MODEL: (CREDITS_PER_IMAGE, USD_PER_IMAGE), MODEL_27: (78000, 0.039), MODEL_27_PRO: (195000, 0.0975)}
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# Seed 000 schema: the request's fields and ranges.
FIELDS = {"model", "prompt", "image_urls", "image_size", "enhance_prompt", "negative_prompt", "seed", "watermark"}
PROMPT_MAX, NEGATIVE_MAX, SEED_MAX = 2000, 500, 2_147_483_647
SIDE_MIN, SIDE_MAX, SIDE_STEP = 512, 1440, 32
IMAGE_URLS_MIN, IMAGE_URLS_MAX = 1, 3
# [I] fal's pixel sizes behind the enum (undocumented here); landscape_4_3 is the default.
SIZE_PRESETS = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
DEFAULT_PRESET = "landscape_4_3"
DATA_URI = re.compile(r"data:image/(png|jpeg|jpg|bmp|webp);base64,(.+)", re.DOTALL | re.IGNORECASE)

# Documented messages (the 4xx and 5xx errors pages).
BODY_INVALID = "Body validation error!"
AUTH_MESSAGE = (
    "This request requires a valid API key. You can create a new API key on the Billing page: "
    "https://aimlapi.com/app/keys"
)
CREDITS_MESSAGE = (
    "You've run out of credits. Please top up your balance or update your payment method to continue: "
    "https://aimlapi.com/app/billing/"
)
# [?] Moderation is undocumented: upstream DashScope's code and message wrapped in a 400, we expect.
MODERATION_MESSAGE = "DataInspectionFailed: Input data may contain inappropriate content."


class ApiError(Exception):
    """An error the fake answers with: HTTP status plus the envelope's `message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


def invalid(detail: str) -> ApiError:
    """400 "Body validation error!" followed by Zod-style detail (errors-with-status-code-4xx.md)."""
    return ApiError(400, f"{BODY_INVALID}\n{detail}")


_FAILURES = {
    FailureKind.AUTH: ApiError(401, AUTH_MESSAGE),
    FailureKind.CREDITS: ApiError(403, CREDITS_MESSAGE),  # insufficient balance is 403, not 402 (4xx page)
    FailureKind.RATE_LIMIT: ApiError(429, "Too Many Requests"),
    FailureKind.MODERATION: ApiError(400, MODERATION_MESSAGE),
    FailureKind.SERVER: ApiError(500, "Internal server error"),
}


@dataclass(frozen=True)
class Job:
    """A validated request: what the fake needs to answer it."""

    size: tuple[int, int]
    seed: int | None
    image_count: int
    model: str = MODEL


@dataclass
class _Scripted:
    """A canned answer for the next `remaining` generation requests."""

    status: int
    body: object  # a JSON value, or str sent as it is
    headers: dict[str, str]
    remaining: int


# ---- validation (the model page's schema, as Zod reports it) -------------------------------


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def _expect(path: str, value: object, expected: str) -> None:
    if expected == "integer" and isinstance(value, float):
        raise invalid(f"{path}: Expected integer, received float")
    checks = {"string": str, "boolean": bool, "array": list, "object": dict, "integer": int}
    wrong_bool = expected == "integer" and isinstance(value, bool)
    if not isinstance(value, checks[expected]) or wrong_bool:
        zod_name = "number" if expected == "integer" else expected
        raise invalid(f"{path}: Expected {zod_name}, received {_type_name(value)}")


def _check_range(path: str, value: int, low: int, high: int) -> None:
    if value < low:
        raise invalid(f"{path}: Number must be greater than or equal to {low}")
    if value > high:
        raise invalid(f"{path}: Number must be less than or equal to {high}")


def _check_text(path: str, value: object, limit: int) -> None:
    _expect(path, value, "string")
    if len(value) > limit:  # type: ignore[arg-type]
        raise invalid(f"{path}: String must contain at most {limit} character(s)")


def _check_image_url(path: str, value: object) -> None:
    """`format: uri` — an http(s) URL, or a data URI holding a real image ([?] "Base64 encoded" only)."""
    _expect(path, value, "string")
    match = DATA_URI.fullmatch(value)  # type: ignore[arg-type]
    if match:
        try:
            Image.open(io.BytesIO(base64.b64decode(match.group(2), validate=True))).verify()
        except (binascii.Error, ValueError, UnidentifiedImageError, OSError):
            raise invalid(f"{path}: the data URI does not hold a readable image") from None
        return
    url = urlsplit(value)  # type: ignore[arg-type]
    if url.scheme not in ("http", "https") or not url.netloc:
        raise invalid(f"{path}: Invalid url")


def _image_urls(body: dict) -> int:
    if "image_urls" not in body:
        return 0  # text-to-image: the field is left out (model page)
    urls = body["image_urls"]
    _expect("image_urls", urls, "array")
    if len(urls) < IMAGE_URLS_MIN:
        raise invalid(f"image_urls: Array must contain at least {IMAGE_URLS_MIN} element(s)")
    if len(urls) > IMAGE_URLS_MAX:
        raise invalid(f"image_urls: Array must contain at most {IMAGE_URLS_MAX} element(s)")
    for index, url in enumerate(urls):
        _check_image_url(f"image_urls.{index}", url)
    return len(urls)


def _image_size(body: dict) -> tuple[int, int]:
    """anyOf an object {width, height} (512–1440, multiples of 32) or one of the six enum names."""
    size = body.get("image_size", DEFAULT_PRESET)
    if isinstance(size, str):
        if size not in SIZE_PRESETS:
            expected = " | ".join(f"'{name}'" for name in SIZE_PRESETS)
            raise invalid(f"image_size: Invalid enum value. Expected {expected}, received '{size}'")
        return SIZE_PRESETS[size]
    _expect("image_size", size, "object")
    if set(size) - {"width", "height"}:
        raise invalid(f"image_size: Unrecognized key(s) in object: {_quoted(set(size) - {'width', 'height'})}")
    return _side(size, "width"), _side(size, "height")


def _side(size: dict, name: str) -> int:
    path = f"image_size.{name}"
    if name not in size:
        raise invalid(f"{path}: Required")
    _expect(path, size[name], "integer")
    _check_range(path, size[name], SIDE_MIN, SIDE_MAX)
    if size[name] % SIDE_STEP:
        raise invalid(f"{path}: Number must be a multiple of {SIDE_STEP}")
    return size[name]


def _seed(body: dict) -> int | None:
    if "seed" not in body:
        return None
    _expect("seed", body["seed"], "integer")
    _check_range("seed", body["seed"], 0, SEED_MAX)
    return body["seed"]


def _quoted(names: set) -> str:
    return ", ".join(f"'{name}'" for name in sorted(names))


def parse_job(body: object) -> Job:
    """Validate a request body against the model page's schema; unknown fields are refused."""
    if not isinstance(body, dict):
        raise invalid(f"Expected object, received {_type_name(body)}")
    if set(body) - FIELDS:
        raise invalid(f"Unrecognized key(s) in object: {_quoted(set(body) - FIELDS)}")
    for required in ("model", "prompt"):
        if required not in body:
            raise invalid(f"{required}: Required")
    _expect("model", body["model"], "string")
    if body["model"] not in COSTS:
        expected = " | ".join(f"'{model}'" for model in COSTS)
        raise invalid(f"model: Invalid enum value. Expected {expected}, received '{body['model']}'")
    if body["model"] != MODEL:
        _check_wan27(body)
    _check_text("prompt", body["prompt"], PROMPT_MAX)
    if "negative_prompt" in body:
        _check_text("negative_prompt", body["negative_prompt"], NEGATIVE_MAX)
    for flag in ("enhance_prompt", "watermark"):
        if flag in body:
            _expect(flag, body[flag], "boolean")
    return Job(_image_size(body), _seed(body), _image_urls(body), body["model"])


def _check_wan27(body: dict) -> None:
    """Upstream wan 2.7 has no negative prompt and no prompt extension, per
    https://platform.qianwenai.com/docs/developer-guides/image-generation/text-to-image. The 2.7 pages still
    carry both fields; whether AI/ML API forwards them is [?], so the fake refuses them (the client omits both)."""
    if "negative_prompt" in body:
        raise invalid(f"negative_prompt: {body['model']} does not support a negative prompt")
    if body.get("enhance_prompt") is True:
        raise invalid(f"enhance_prompt: {body['model']} does not support prompt enhancement; leave it out")


# ---- bodies ---------------------------------------------------------------------------------


def error_body(status: int, message: str, request_id: str, *, status_as_string: bool = False) -> dict:
    """The documented envelope (general-info.md); [?] statusCode is a number, or a string in the docs' example."""
    return {
        "message": message,
        "path": GENERATION_PATH,
        "requestId": request_id,
        "statusCode": str(status) if status_as_string else status,
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def success_body(url: str, model: str = MODEL) -> dict:
    """Verbatim shape of the model page's example response."""
    return {
        "created": int(time.time() * 1000),
        "data": [{"url": url}],
        "meta": {"usage": {"credits_used": COSTS[model][0], "usd_spent": COSTS[model][1]}},
    }


def cost_headers(model: str = MODEL) -> dict[str, str]:
    """Sent on non-streaming JSON answers (request-tracing-and-cost.md)."""
    credits, usd = COSTS[model]
    return {"x-aimlapi-credits-used": str(credits), "x-aimlapi-usd-spent": f"{usd:.9f}"}


# ---- the fake ---------------------------------------------------------------------------------


class FakeAIMLAPI(ServedFake):
    """In-memory AI/ML API. Serve ``fake.app``, then set ``fake.server_url`` to its root URL."""

    name = "aimlapi"

    def __init__(self, api_key: str = FAKE_API_KEY) -> None:
        self.api_key = api_key
        self.server_url: str | None = None
        self._lock = threading.RLock()
        self._epoch = 0
        self.app = Starlette(
            routes=[
                Route(GENERATION_PATH, self._recorded(self._generation), methods=["POST"]),
                Route(RESULTS_PREFIX + "{name}.png", self._recorded(self._download), methods=["GET"]),
                Route("/{path:path}", self._recorded(self._not_found), methods=ALL_METHODS),
            ]
        )
        self.reset()

    # ---- knobs for tests -----------------------------------------------------------------

    def reset(self) -> None:
        """Restore every default; drop recorded requests, results and scripted answers."""
        with self._lock:
            self._epoch += 1
            self.requests: list[RecordedRequest] = []
            self.latency = 0.0  # seconds every generation takes before it answers
            self.cost_in_body = True  # meta.usage.usd_spent
            self.cost_in_headers = True  # x-aimlapi-usd-spent / x-aimlapi-credits-used
            self.in_flight = 0  # generation requests being answered right now
            self.max_in_flight = 0  # the most seen at once since reset: shows whether callers overlap
            self.issued: dict[str, object] = {}  # result URL -> the request body that made it
            self.inference_ids: list[str] = []  # x-inference-id of each successful answer
            self._scripted: list[_Scripted] = []
            self._results: dict[str, tuple[int, int, int]] = {}

    def fail_with(self, kind: FailureKind, times: int = 1) -> None:
        """The contract suite's failures (`fakes.vendor.FailureKind`) in AI/ML API's wire format."""
        error = _FAILURES[kind]
        self.fail_next(error.status, error.message, times=times)

    def fail_next(
        self,
        status: int,
        message: str,
        *,
        times: int = 1,
        retry_after: float | None = None,
        status_as_string: bool = False,
    ) -> None:
        """Answer the next ``times`` generation requests with the error envelope."""
        body = error_body(status, message, str(uuid.uuid4()), status_as_string=status_as_string)
        headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
        self.reply_next(body, status=status, headers=headers, times=times)

    def reply_next(self, body: object, *, status: int = 200, headers: dict | None = None, times: int = 1) -> None:
        """Answer the next ``times`` generation requests with exactly this body (str = raw text)."""
        with self._lock:
            self._scripted.append(_Scripted(status, body, dict(headers or {}), times))

    def generation_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path == GENERATION_PATH]

    def downloads(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "GET" and r.path.startswith(RESULTS_PREFIX)]

    # ---- plumbing -------------------------------------------------------------------------

    def _recorded(self, handler):
        async def endpoint(request: Request) -> Response:
            record = await recorded(request)
            with self._lock:
                self.requests.append(record)
            return await handler(request)

        return endpoint

    def _take_scripted(self) -> _Scripted | None:
        with self._lock:
            if not self._scripted:
                return None
            entry = self._scripted[0]
            entry.remaining -= 1
            if entry.remaining <= 0:
                self._scripted.pop(0)
            return entry

    def _authorize(self, request: Request) -> None:
        scheme, _, key = request.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or key.strip() != self.api_key:  # Bearer only (model page)
            raise ApiError(401, AUTH_MESSAGE)

    @staticmethod
    async def _json_body(request: Request) -> object:
        try:
            return json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise invalid("body: Expected object, received invalid JSON") from None  # [?] undocumented

    # ---- generation ------------------------------------------------------------------------

    async def _generation(self, request: Request) -> Response:
        with self._lock:
            epoch = self._epoch
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            with self._lock:
                if epoch == self._epoch:  # one answered across a reset is not this test's
                    self.in_flight -= 1

    async def _answer(self, request: Request) -> Response:
        inference_id = str(uuid.uuid4())
        epoch, scripted = self._epoch, self._take_scripted()
        await asyncio.sleep(self.latency)
        if epoch != self._epoch:  # a reset happened meanwhile: don't leak into the next test
            return self._error(ApiError(503, "Service unavailable"), inference_id)
        if scripted is not None:
            return self._scripted_response(scripted, inference_id)
        try:
            self._authorize(request)
            body = await self._json_body(request)
            job = parse_job(body)
        except ApiError as error:
            return self._error(error, inference_id)
        return self._success(request, body, job, inference_id)

    def _success(self, request: Request, sent: object, job: Job, inference_id: str) -> Response:
        name = str(uuid.uuid4())
        query = "&".join(f"{k}={v}" for k, v in RESULT_QUERY.items())
        url = f"{request.base_url}results/{name}.png?{query}"
        with self._lock:
            self._results[name] = (*job.size, job.seed or 0)
            self.issued[url] = sent
            self.inference_ids.append(inference_id)
        body = success_body(url, job.model)
        if not self.cost_in_body:
            body["meta"]["usage"].pop("usd_spent")
        headers = {"x-inference-id": inference_id, **(cost_headers(job.model) if self.cost_in_headers else {})}
        return JSONResponse(body, headers=headers)

    @staticmethod
    def _error(error: ApiError, inference_id: str) -> Response:
        body = error_body(error.status, error.message, inference_id)
        return JSONResponse(body, status_code=error.status, headers={"x-inference-id": inference_id})

    @staticmethod
    def _scripted_response(scripted: _Scripted, inference_id: str) -> Response:
        headers = {"x-inference-id": inference_id, **scripted.headers}
        if isinstance(scripted.body, str):
            return PlainTextResponse(scripted.body, scripted.status, headers=headers)
        return JSONResponse(scripted.body, scripted.status, headers=headers)

    # ---- result files and everything else ------------------------------------------------

    async def _download(self, request: Request) -> Response:
        with self._lock:
            result = self._results.get(request.path_params["name"])
        if result is None:
            return PlainTextResponse("NoSuchKey: The specified key does not exist.", 404)
        if any(request.query_params.get(k) != v for k, v in RESULT_QUERY.items()):
            return PlainTextResponse("AccessDenied: the signed query string is missing or altered.", 403)
        data = await asyncio.to_thread(png_bytes, *result)
        return Response(data, media_type="image/png")

    async def _not_found(self, request: Request) -> Response:
        # [?] 404 has no documented body; the envelope's NestJS shape suggests this one.
        body = error_body(404, f"Cannot {request.method} {request.url.path}", str(uuid.uuid4()))
        return JSONResponse(body | {"path": request.url.path}, status_code=404)
