"""FakeShortAPI: a strict loopback stand-in for ShortAPI's job/create + job/query (Wan 2.6 models).

Built from the vendor's model pages:
- image-to-image: https://shortapi.ai/models/alibaba/wan-2.6/image-to-image/llms.txt
- text-to-image: https://shortapi.ai/models/alibaba/wan-2.6/text-to-image/llms.txt
Only the success bodies are documented [C]; the error envelope, HTTP statuses, statuses 0/1/3 and the
failed-job payload are our readings (after third-party integrations), marked [?] / [I] where they are used.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .pngs import png_bytes
from .vendor import FailureKind, RecordedRequest, ServedFake, recorded

API_PREFIX = "/api/v1"
CREATE_PATH = f"{API_PREFIX}/job/create"
QUERY_PATH = f"{API_PREFIX}/job/query"
FILES_PREFIX = "/files/"
FAKE_API_KEY = "sa-fake-test-key-0123456789abcdef"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

MODEL_T2I = "alibaba/wan-2.6/text-to-image"
MODEL_EDIT = "alibaba/wan-2.6/image-to-image"
PRICE_PER_IMAGE = 0.026  # both models (both llms.txt) [C]
DEFAULT_T2I_SIZE = (1280, 1280)  # [?] the size a text-to-image job makes when none is given

QUEUED, PROCESSING, SUCCEEDED, FAILED = 0, 1, 2, 3  # only 2 is documented [C]; the rest [I]
DEFAULT_STATUS_SCRIPT = (QUEUED, PROCESSING, SUCCEEDED)
DEFAULT_JOB_ERROR = "InternalError: An internal error has occured, try again later."  # sic, DashScope's text
MODERATION_JOB_ERROR = "DataInspectionFailed: Output data may contain inappropriate content."


class ApiError(Exception):
    """An answer the fake refuses with: `{"code": <non-zero>, "info": "<text>"}` [?]."""

    def __init__(self, status: int, info: str, code: int | None = None) -> None:
        super().__init__(f"{status}: {info}")
        self.status, self.info, self.code = status, info, code if code is not None else status


# [?] HTTP statuses are undocumented; the code mirrors the status (our reading).
NO_KEY = ApiError(401, "invalid api key")
NOT_JSON = ApiError(400, "Content-Type must be application/json")
NOT_FOUND = ApiError(404, "not found")
JOB_NOT_FOUND = ApiError(404, "job not found")
_FAILURES = {  # how the common failures look on ShortAPI's wire [?]; MODERATION fails the job instead
    FailureKind.AUTH: NO_KEY,
    FailureKind.CREDITS: ApiError(402, "insufficient balance, please recharge"),
    FailureKind.RATE_LIMIT: ApiError(429, "too many requests, please try again later"),
    FailureKind.SERVER: ApiError(500, "internal server error"),
}


@dataclass(frozen=True)
class ArgRules:
    """One model's `args` schema (its llms.txt page)."""

    model: str
    prompt_max: int
    side: tuple[int, int]
    pixels: tuple[int, int]
    size_required: bool
    takes_images: bool

    @property
    def allowed(self) -> frozenset[str]:
        names = {"prompt", "negative_prompt", "num_images", "width", "height", "prompt_extend"}
        return frozenset(names | ({"image_urls"} if self.takes_images else set()))


RULES = {
    MODEL_T2I: ArgRules(MODEL_T2I, 2100, (640, 2880), (1280 * 1280, 1440 * 1440), False, False),
    MODEL_EDIT: ArgRules(MODEL_EDIT, 2000, (384, 2560), (768 * 768, 1280 * 1280), True, True),
}
TOP_LEVEL = frozenset({"model", "args", "callback_url"})
MAX_RATIO = 4  # 1:4 .. 4:1 in both schemas
NEGATIVE_MAX = 500
NUM_IMAGES = (1, 4)
IMAGE_URLS = (1, 4)


@dataclass(frozen=True)
class JobSpec:
    """A validated job/create body."""

    model: str
    num_images: int
    size: tuple[int, int]


@dataclass
class FakeJob:
    job_id: str
    urls: list[str]
    script: list[int]
    error: str
    queries: int = 0

    def advance(self) -> int:
        """The next status in the script; the last one repeats."""
        status = self.script[min(self.queries, len(self.script) - 1)]
        self.queries += 1
        return status


@dataclass
class _Scripted:
    """A raw answer that replaces the next normal one (malformed bodies for ProtocolError tests)."""

    body: object
    status: int = 200


# ---- validation -------------------------------------------------------------------------------


def parse_job(body: object) -> JobSpec:
    """Check a job/create body as strictly as the two llms.txt schemas; raise ApiError(400)."""
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    _no_unknown(body, TOP_LEVEL, "")
    rules = RULES.get(body.get("model"))  # type: ignore[arg-type]
    if rules is None:
        raise ApiError(400, f"invalid model: {body.get('model')!r}")
    if "callback_url" in body and not _is_http_url(body["callback_url"]):
        raise ApiError(400, "callback_url must be an http(s) URL")
    args = body.get("args")
    if not isinstance(args, dict):
        raise ApiError(400, "args is required and must be an object")
    _no_unknown(args, rules.allowed, "args.")
    _check_texts(args, rules)
    _check_options(args)
    if rules.takes_images:
        _check_image_urls(args.get("image_urls"))
    size = _size(args, rules)
    return JobSpec(rules.model, args.get("num_images", 1), size or DEFAULT_T2I_SIZE)


def _no_unknown(given: dict, allowed: frozenset[str], prefix: str) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ApiError(400, f"unknown parameter(s): {', '.join(prefix + name for name in unknown)}")


def _check_texts(args: dict, rules: ArgRules) -> None:
    prompt = args.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ApiError(400, "args.prompt is required")
    if len(prompt) > rules.prompt_max:
        raise ApiError(400, f"args.prompt must be at most {rules.prompt_max} characters")
    negative = args.get("negative_prompt", "")
    if not isinstance(negative, str) or len(negative) > NEGATIVE_MAX:
        raise ApiError(400, f"args.negative_prompt must be a string of at most {NEGATIVE_MAX} characters")


def _check_options(args: dict) -> None:
    if not _int_in(args.get("num_images", 1), NUM_IMAGES):
        raise ApiError(400, "args.num_images must be one of 1, 2, 3, 4")
    if not isinstance(args.get("prompt_extend", False), bool):
        raise ApiError(400, "args.prompt_extend must be a boolean")


def _check_image_urls(urls: object) -> None:
    """1–4 public URLs; they are checked for shape only, never fetched (the tests are offline)."""
    if not isinstance(urls, list) or not _int_in(len(urls), IMAGE_URLS):
        raise ApiError(400, "args.image_urls is required: 1 to 4 image URLs")
    for index, url in enumerate(urls):
        if not _is_http_url(url):
            raise ApiError(400, f"args.image_urls[{index}] must be an http(s) URL")


def _size(args: dict, rules: ArgRules) -> tuple[int, int] | None:
    given = [name for name in ("width", "height") if name in args]
    if not given and not rules.size_required:
        return None
    if len(given) < 2:
        raise ApiError(400, "args.width and args.height must be given together" + (" (required)" * rules.size_required))
    width, height = args["width"], args["height"]
    for name, side in (("width", width), ("height", height)):
        if not _int_in(side, rules.side):
            raise ApiError(400, f"args.{name} must be an integer from {rules.side[0]} to {rules.side[1]}")
    low, high = rules.pixels
    if not low <= width * height <= high:
        raise ApiError(400, f"width*height must be between {low} and {high} pixels")
    if max(width, height) > MAX_RATIO * min(width, height):
        raise ApiError(400, "the aspect ratio must be within 1:4 to 4:1")
    return width, height


def _int_in(value: object, bounds: tuple[int, int]) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# ---- the fake ---------------------------------------------------------------------------------


class FakeShortAPI(ServedFake):
    """In-memory ShortAPI. Serve ``fake.app``, then set ``fake.server_url`` to its root URL."""

    name = "shortapi"
    base_path = API_PREFIX

    def __init__(self, api_key: str = FAKE_API_KEY) -> None:
        self.api_key = api_key
        self.server_url: str | None = None
        self._lock = threading.RLock()
        self.app = Starlette(routes=self._routes())
        self.reset()

    # ---- knobs for tests -------------------------------------------------------------------

    def reset(self) -> None:
        """Restore every default; drop recorded requests, jobs, results and scripted answers."""
        with self._lock:
            self.requests: list[RecordedRequest] = []
            self.jobs: dict[str, FakeJob] = {}
            self.status_script: list[int] = list(DEFAULT_STATUS_SCRIPT)
            self.job_error = DEFAULT_JOB_ERROR  # the text a job that ends in status 3 carries
            self.errors_in_http_200 = False  # [?] answer every error as HTTP 200 + non-zero code
            self.job_id_at_top_level = False  # [D] job/create answers {"code", "job_id", "amount"}, without `data`
            self._failures: list[FailureKind] = []
            self._scripted: dict[str, list[_Scripted]] = {"create": [], "query": []}
            self._results: dict[str, tuple[int, int, int]] = {}

    def fail_with(self, kind: FailureKind, times: int = 1) -> None:
        """The next ``times`` job/create calls fail as ``kind`` (moderation: the job ends in status 3)."""
        with self._lock:
            self._failures.extend([kind] * times)

    def respond_next(self, target: str, body: object, status: int = 200) -> None:
        """Answer the next ``target`` ("create" or "query") call with this raw body instead."""
        with self._lock:
            self._scripted[target].append(_Scripted(body, status))

    def generation_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path == CREATE_PATH]

    def queries(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "GET" and r.path == QUERY_PATH]

    def downloads(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "GET" and r.path.startswith(FILES_PREFIX)]

    # ---- plumbing --------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        return [
            Route(CREATE_PATH, self._recorded(self._create), methods=["POST"]),
            Route(QUERY_PATH, self._recorded(self._query), methods=["GET"]),
            Route(FILES_PREFIX + "{name}.png", self._recorded(self._download), methods=["GET"]),
            Route("/{path:path}", self._recorded(self._not_found), methods=ALL_METHODS),
        ]

    def _recorded(self, handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            record = await recorded(request)
            with self._lock:
                self.requests.append(record)
            try:
                return await handler(request)
            except ApiError as error:
                return self._error_response(error)

        return endpoint

    def _error_response(self, error: ApiError) -> JSONResponse:
        status = 200 if self.errors_in_http_200 else error.status
        return JSONResponse({"code": error.code, "info": error.info}, status_code=status)

    def _authorize(self, request: Request) -> None:
        # `Authorization: Bearer <key>` (llms.txt) [C]; the refusal's shape is ours [?].
        scheme, _, key = request.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or key.strip() != self.api_key:
            raise NO_KEY

    def _take_scripted(self, target: str) -> JSONResponse | None:
        with self._lock:
            if not self._scripted[target]:
                return None
            scripted = self._scripted[target].pop(0)
        return JSONResponse(scripted.body, status_code=scripted.status)

    def _take_failure(self) -> FailureKind | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    # ---- job/create --------------------------------------------------------------------------

    async def _create(self, request: Request) -> Response:
        if (scripted := self._take_scripted("create")) is not None:
            return scripted
        failure = self._take_failure()
        if failure in _FAILURES:
            raise _FAILURES[failure]  # type: ignore[index]
        self._authorize(request)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise NOT_JSON
        try:
            spec = parse_job(json.loads(await request.body()))
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "request body is not valid JSON") from None
        job = self._new_job(request, spec, moderated=failure is FailureKind.MODERATION)
        amount = f"{PRICE_PER_IMAGE * spec.num_images:.3f}"  # a string, as in the seed's "0.02"
        created = {"amount": amount, "job_id": job.job_id}
        return JSONResponse({"code": 0, **created} if self.job_id_at_top_level else {"code": 0, "data": created})

    def _new_job(self, request: Request, spec: JobSpec, *, moderated: bool) -> FakeJob:
        with self._lock:
            script = [PROCESSING, FAILED] if moderated else list(self.status_script)
            if not script or not set(script) <= {QUEUED, PROCESSING, SUCCEEDED, FAILED}:
                raise ApiError(500, f"fake misconfigured: bad status_script {script!r}")
            urls = [self._new_result(request, spec.size, index) for index in range(spec.num_images)]
            error = MODERATION_JOB_ERROR if moderated else self.job_error
            job = FakeJob(uuid.uuid4().hex, urls, script, error)
            self.jobs[job.job_id] = job
            return job

    def _new_result(self, request: Request, size: tuple[int, int], index: int) -> str:
        name = uuid.uuid4().hex
        self._results[name] = (*size, index)
        return f"{request.base_url}files/{name}.png"

    # ---- job/query -----------------------------------------------------------------------------

    async def _query(self, request: Request) -> Response:
        if (scripted := self._take_scripted("query")) is not None:
            return scripted
        self._authorize(request)
        job_id = request.query_params.get("id")
        if not job_id:
            raise ApiError(400, "id is required")
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None:
                raise JOB_NOT_FOUND  # [?] the unknown-id answer is undocumented
            return JSONResponse({"code": 0, "data": _job_data(job, job.advance())})

    # ---- result files --------------------------------------------------------------------------

    async def _download(self, request: Request) -> Response:
        with self._lock:
            result = self._results.get(request.path_params["name"])
        if result is None:
            return Response(b"Not Found", 404, media_type="text/plain")
        return Response(await asyncio.to_thread(png_bytes, *result), media_type="image/png")

    async def _not_found(self, request: Request) -> Response:
        raise NOT_FOUND


def _job_data(job: FakeJob, status: int) -> dict:
    """`data` of a job/query answer: the seed's success shape [C]; the failure field is ours [?]."""
    if status == SUCCEEDED:
        return {"status": status, "result": {"images": [{"url": url} for url in job.urls]}}
    if status == FAILED:
        return {"status": status, "error": job.error}
    return {"status": status}
