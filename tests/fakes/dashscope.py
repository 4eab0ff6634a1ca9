"""FakeDashScope: a strict loopback stand-in for DashScope's wan2.6 and wan2.7 image endpoints.

Built from DashScope's public pages, cited in the fake's modules by these names:
- API reference: https://www.alibabacloud.com/help/en/model-studio/wan-image-generation-api-reference
- t2i reference: https://platform.qianwenai.com/docs/api-reference/image-generation/wan-text-to-image-v2/synchronous
- task query page: https://platform.qianwenai.com/docs/api-reference/image-generation/wan26-image-gen-edit/query-result
- error codes page: https://www.alibabacloud.com/help/en/model-studio/error-code
- rate limits page: https://help.aliyun.com/zh/model-studio/rate-limit
- official SDK: https://pypi.org/project/dashscope/ (its requests, captured from 2.0.2)
- 2.7 reference: https://help.aliyun.com/zh/model-studio/wan-image-generation-and-editing-api-reference
Validation lives in ``dashscope_rules``, response shapes in ``dashscope_bodies``; this module holds
the state, the routes, and the knobs tests turn (faults, delays, task scripts, stream faults).
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from .dashscope_bodies import (
    TASK_STATUSES,
    Segment,
    Task,
    chunked,
    error_body,
    interleave_segments,
    sse_error_event,
    sse_event,
    stream_payloads,
    submit_body,
    sync_images_body,
    task_body,
    unknown_task_body,
)
from .dashscope_rules import BODY_INVALID, ApiError, Job, Truncation
from .dashscope_rules27 import parse_request
from .pngs import png_bytes
from .vendor import FailureKind, RecordedRequest, ServedFake, recorded
from .wan27_rules import CountScript, usage_tokens

API_PREFIX = "/api/v1"
SYNC_PATH = f"{API_PREFIX}/services/aigc/multimodal-generation/generation"
ASYNC_PATH = f"{API_PREFIX}/services/aigc/image-generation/generation"
GENERATION_PATHS = (SYNC_PATH, ASYNC_PATH)
RESULTS_PREFIX = "/results/"
FAKE_API_KEY = "sk-fake-test-key-0123456789abcdef"
RESULT_QUERY = {"Expires": "1767225600", "Signature": "fake"}  # stands in for OSS signing (API reference)
FAULT_TARGETS = ("generate", "poll", "download")
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

DEFAULT_TASK_SCRIPT = ("RUNNING", "SUCCEEDED")
DEFAULT_TASK_FAILURE = ("InternalError", "An internal error has occured, try again later.")  # sic (error codes page)
DEFAULT_MAX_RUNNING_TASKS = 5  # 5 concurrent tasks (rate limits page)
DEFAULT_INTERLEAVE_IMAGE_COUNT = 3

NO_KEY = ApiError(401, "InvalidApiKey", "No API-key provided.")
BAD_KEY = ApiError(401, "InvalidApiKey", "Invalid API-key provided.")
# The API reference's answer to a task submitted without X-DashScope-Async.
SYNC_NOT_SUPPORTED = ApiError(403, "AccessDenied", "current user api does not support synchronous calls.")
RATE_LIMITED = ApiError(429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.")
# [U] The error codes page does not say how a wrong Content-Type is answered.
NOT_JSON = ApiError(400, "InvalidParameter", "Content-Type must be application/json.")
# [U] The error for sync interleave without the SSE header is undocumented (API reference).
SSE_REQUIRED = ApiError(
    400, "InvalidParameter", "enable_interleave=true requires streaming: send X-DashScope-Sse: enable."
)
# [U] The API reference says to omit the SSE header outside interleave mode; the fake treats sending it as a
# client bug.
SSE_NOT_ALLOWED = ApiError(
    400, "InvalidParameter", "X-DashScope-Sse: enable is only supported with enable_interleave=true."
)
# [U] Cancel only works while PENDING (official SDK); the code and message for other states are undocumented.
CANNOT_CANCEL = ApiError(
    400, "UnsupportedOperation", "Failed to cancel the task, please confirm if the task is in PENDING status."
)
FAKE_RESET = ApiError(503, "ServiceUnavailable", "The fake was reset while this request was delayed.")
# [U] No streaming is documented for wan2.7 (2.7 reference); the fake refuses the SSE header on both paths.
SSE_NOT_FOR_27 = ApiError(400, "InvalidParameter", "wan2.7 models do not stream: do not send X-DashScope-Sse: enable.")


@dataclass
class _Fault:
    status: int
    code: str
    message: str
    retry_after: float | str | None
    remaining: int


@dataclass
class _Delay:
    seconds: float
    remaining: int


@dataclass(frozen=True)
class _ResultFile:
    width: int
    height: int
    color_seed: int


def _new_id() -> str:
    return str(uuid.uuid4())


def _json_response(request_id: str, body: dict, status: int = 200, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"x-request-id": request_id, **(headers or {})})


def _error_response(request_id: str, error: ApiError) -> JSONResponse:
    return _json_response(request_id, error_body(request_id, error.code, error.message), error.status)


def _header_enabled(request: Request, name: str) -> bool:
    return request.headers.get(name, "").strip().lower() == "enable"


def _tokens(job: Job, urls: list[str]) -> tuple[int, int]:
    return usage_tokens(len(job.images), job.prompt, len(urls))


async def _trickle(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
        await asyncio.sleep(0)  # let each chunk reach the socket on its own


# How each common failure looks on DashScope's wire (error codes page).
_FAILURES = {
    FailureKind.AUTH: BAD_KEY,
    FailureKind.CREDITS: ApiError(
        400, "Arrearage", "Access denied, please make sure your account is in good standing."
    ),
    FailureKind.RATE_LIMIT: RATE_LIMITED,
    FailureKind.MODERATION: ApiError(400, "DataInspectionFailed", "Input data may contain inappropriate content."),
    FailureKind.SERVER: ApiError(500, "InternalError", "An internal error has occured, try again later."),
}


class FakeDashScope(ServedFake):
    """In-memory DashScope. Serve ``fake.app``, then set ``fake.server_url`` to its root URL."""

    name = "dashscope"
    base_path = API_PREFIX

    def __init__(self, api_key: str = FAKE_API_KEY) -> None:
        self.api_key = api_key
        self.server_url: str | None = None
        self._lock = threading.RLock()
        self._epoch = 0
        self.app = Starlette(routes=self._routes())
        self.reset()

    # ---- knobs for tests -------------------------------------------------------------------

    def fail_with(self, kind: FailureKind, times: int = 1) -> None:
        """The contract suite's failures (`fakes.vendor.FailureKind`) in DashScope's wire format."""
        error = _FAILURES[kind]
        self.fail_next(error.status, error.code, error.message, times=times)

    def reset(self) -> None:
        """Restore every default; drop recorded requests, tasks, results, faults and delays."""
        with self._lock:
            self._epoch += 1
            self.requests: list[RecordedRequest] = []
            self.tasks: dict[str, Task] = {}
            self.truncations: list[Truncation] = []
            self.jobs: list[Job] = []  # every generation request that passed validation (wan2.7: job.wan27, .boxes)
            # wan2.7 non-set n>1: one choice per image (default, [U] like 2.6) or one choice holding them all
            self.wan27_single_choice = False
            self._set_counts = CountScript()  # wan2.7 image sets: see set_count()
            self.task_script: list[str] = list(DEFAULT_TASK_SCRIPT)
            self.task_failure: tuple[str, str] = DEFAULT_TASK_FAILURE
            self.task_failure_shape: str = "output"  # or "top" (the FAQ's and the task query page's shapes)
            self.interleave_image_count = DEFAULT_INTERLEAVE_IMAGE_COUNT
            self.sse_chunk_size: int | None = None
            self.stream_fault: tuple | None = None
            # When set, results point here (in turn) instead of at this fake's own files: lets a
            # test serve result images from a misbehaving server (tests/fakes/faulty.py).
            self.result_urls: list[str] | None = None
            self.max_running_tasks = DEFAULT_MAX_RUNNING_TASKS
            self.in_flight = 0  # generation requests being answered right now
            self.max_in_flight = 0  # the most seen at once since reset: shows whether callers overlap
            self._faults: dict[str, list[_Fault]] = {target: [] for target in FAULT_TARGETS}
            self._delays: dict[str, list[_Delay]] = {target: [] for target in FAULT_TARGETS}
            self._results: dict[str, _ResultFile] = {}

    def fail_next(
        self,
        status: int,
        code: str,
        message: str,
        *,
        times: int = 1,
        target: str = "generate",
        retry_after: float | str | None = None,
    ) -> None:
        """Answer the next ``times`` requests to ``target`` with this status and error body."""
        with self._lock:
            self._queue(self._faults, target).append(_Fault(status, code, message, retry_after, times))

    def delay(self, target: str, seconds: float, times: int = 1) -> None:
        """Sleep ``seconds`` before answering the next ``times`` requests to ``target``."""
        with self._lock:
            self._queue(self._delays, target).append(_Delay(seconds, times))

    def set_count(self, *counts: int) -> None:
        """wan2.7 image sets return fewer images than n: each next set answer (sync or task) takes the
        next count, the last one repeating, capped at n. ``set_count()`` (or reset) returns all n again.
        "实际数量由模型决定且不超过 n" (the model decides, at most n: 2.7 reference)."""
        with self._lock:
            self._set_counts.set(counts)

    def generation_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path in GENERATION_PATHS]

    def downloads(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "GET" and r.path.startswith(RESULTS_PREFIX)]

    @staticmethod
    def _queue(queues: dict[str, list], target: str) -> list:
        if target not in queues:
            raise ValueError(f"unknown target {target!r}; expected one of {FAULT_TARGETS}")
        return queues[target]

    def _take(self, queues: dict[str, list], target: str):
        with self._lock:
            queue = queues[target]
            if not queue:
                return None
            entry = queue[0]
            entry.remaining -= 1
            if entry.remaining <= 0:
                queue.pop(0)
            return entry

    # ---- plumbing shared by routes -------------------------------------------------------

    def _routes(self) -> list[Route]:
        return [
            Route(SYNC_PATH, self._recorded(self._sync_generation), methods=["POST"]),
            Route(ASYNC_PATH, self._recorded(self._async_submit), methods=["POST"]),
            Route(f"{API_PREFIX}/tasks/{{task_id}}", self._recorded(self._poll), methods=["GET"]),
            Route(f"{API_PREFIX}/tasks/{{task_id}}/cancel", self._recorded(self._cancel), methods=["POST"]),
            Route(RESULTS_PREFIX + "{name}.png", self._recorded(self._download), methods=["GET"]),
            Route("/{path:path}", self._recorded(self._not_found), methods=ALL_METHODS),
        ]

    def _recorded(self, handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            await self._record(request)
            return await handler(request)

        return endpoint

    async def _record(self, request: Request) -> None:
        record = await recorded(request)
        with self._lock:
            self.requests.append(record)

    async def _before_responding(self, target: str, request_id: str) -> Response | None:
        """Apply a scripted delay, then a scripted fault; None means answer normally."""
        epoch = self._epoch
        delay = self._take(self._delays, target)
        if delay is not None:
            await asyncio.sleep(delay.seconds)
        if epoch != self._epoch:  # a reset happened meanwhile: don't leak into the next test
            return _error_response(request_id, FAKE_RESET)
        fault = self._take(self._faults, target)
        return None if fault is None else self._fault_response(fault, target, request_id)

    @staticmethod
    def _fault_response(fault: _Fault, target: str, request_id: str) -> Response:
        headers = {} if fault.retry_after is None else {"retry-after": str(fault.retry_after)}
        if target == "download":  # result files come from OSS, not the DashScope gateway
            return PlainTextResponse(f"{fault.code}: {fault.message}", fault.status, headers=headers)
        body = error_body(request_id, fault.code, fault.message)
        return _json_response(request_id, body, fault.status, headers)

    def _authorize(self, request: Request) -> None:
        scheme, _, key = request.headers.get("authorization", "").strip().partition(" ")
        if not scheme or (scheme.lower() == "bearer" and not key.strip()):
            raise NO_KEY
        if scheme.lower() != "bearer" or key.strip() != self.api_key:
            raise BAD_KEY

    @staticmethod
    async def _json_body(request: Request) -> object:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise NOT_JSON
        try:
            return json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "InvalidParameter", BODY_INVALID) from None

    def _new_results(self, request: Request, job: Job, count: int) -> list[str]:
        """Register ``count`` PNGs of the job's output size; return their signed-looking URLs."""
        if self.result_urls:
            return [self.result_urls[index % len(self.result_urls)] for index in range(count)]
        urls = []
        for index in range(count):
            name = _new_id()
            with self._lock:
                self._results[name] = _ResultFile(*job.size, color_seed=(job.seed or 0) + index)
            query = "&".join(f"{k}={v}" for k, v in RESULT_QUERY.items())
            urls.append(f"{request.base_url}results/{name}.png?{query}")
        return urls

    def _interleave_segments(self, request: Request, job: Job) -> list[Segment]:
        count = min(job.max_images, self.interleave_image_count)  # max_images is an upper bound (API reference)
        return interleave_segments(self._new_results(request, job, count))

    # ---- generation (API reference, t2i reference) ------------------------------------------

    async def _sync_generation(self, request: Request) -> Response:
        return await self._generation(request, submit=False)

    async def _async_submit(self, request: Request) -> Response:
        return await self._generation(request, submit=True)

    async def _generation(self, request: Request, *, submit: bool) -> Response:
        with self._lock:
            epoch = self._epoch
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._generation_answer(request, submit=submit)
        finally:
            with self._lock:
                if epoch == self._epoch:  # one answered across a reset is not this test's
                    self.in_flight -= 1

    async def _generation_answer(self, request: Request, *, submit: bool) -> Response:
        request_id = _new_id()
        early = await self._before_responding("generate", request_id)
        if early is not None:
            return early
        try:
            self._authorize(request)
            if submit and not _header_enabled(request, "x-dashscope-async"):
                raise SYNC_NOT_SUPPORTED
            job = parse_request(await self._json_body(request))
            if job.wan27 is not None and _header_enabled(request, "x-dashscope-sse"):
                raise SSE_NOT_FOR_27
            with self._lock:
                self.truncations.extend(job.truncations)
                self.jobs.append(job)
            if submit:
                return _json_response(request_id, submit_body(request_id, self._create_task(request, job)))
            return self._answer_sync(request, job, request_id)
        except ApiError as error:
            return _error_response(request_id, error)

    def _answer_sync(self, request: Request, job: Job, request_id: str) -> Response:
        sse = _header_enabled(request, "x-dashscope-sse")
        if job.mode == "interleave":
            # Sync interleave only streams (API reference); parameters.stream is optional (the official SDK omits it)
            if not sse:
                raise SSE_REQUIRED
            return self._stream(request, job, request_id)
        if sse:
            raise SSE_NOT_ALLOWED
        if job.wan27 is not None:
            urls = self._new_results(request, job, self._image_count(job))
            body = sync_images_body(request_id, urls, job.size, grouped=self._grouped(job), tokens=_tokens(job, urls))
            return _json_response(request_id, body)
        urls = self._new_results(request, job, job.n)
        return _json_response(request_id, sync_images_body(request_id, urls, job.size))

    def _image_count(self, job: Job) -> int:
        """How many images a job returns: n, or fewer for a wan2.7 image set (set_count)."""
        with self._lock:
            return self._set_counts.take(job.n) if job.mode == "set" else job.n

    def _grouped(self, job: Job) -> bool:
        """wan2.7 answers one choice holding every image for sets (2.7 reference), or when asked to."""
        return job.wan27 is not None and (job.mode == "set" or self.wan27_single_choice)

    def _stream(self, request: Request, job: Job, request_id: str) -> StreamingResponse:
        payloads = stream_payloads(request_id, self._interleave_segments(request, job), job.size)
        events = self._apply_stream_fault([sse_event(i, p) for i, p in enumerate(payloads, 1)], request_id)
        chunks = chunked(b"".join(events), self.sse_chunk_size) if self.sse_chunk_size else events
        headers = {"x-request-id": request_id}
        return StreamingResponse(_trickle(chunks), media_type="text/event-stream;charset=UTF-8", headers=headers)

    def _apply_stream_fault(self, events: list[bytes], request_id: str) -> list[bytes]:
        """``("error", code, message, after)`` or ``("cut", after)``; stays set until reset()."""
        fault = self.stream_fault
        if fault is None:
            return events
        if fault[0] == "cut":
            return events[: fault[1]]
        if fault[0] == "error":
            _, code, message, after = fault
            return events[:after] + [sse_error_event(min(after, len(events)) + 1, request_id, code, message)]
        raise ValueError(f"unknown stream_fault {fault!r}")

    def _create_task(self, request: Request, job: Job) -> Task:
        with self._lock:
            if sum(not task.terminal for task in self.tasks.values()) >= self.max_running_tasks:
                raise RATE_LIMITED
            script = list(self.task_script)
            if not script or not set(script) <= TASK_STATUSES:
                raise ApiError(500, "FakeMisconfigured", f"bad task_script {script!r}")
            segments, urls = self._task_outputs(request, job)
            task = Task(
                _new_id(),
                job.mode,
                job.size,
                urls,
                segments,
                script,
                tuple(self.task_failure),
                self.task_failure_shape,
                grouped=self._grouped(job),
                tokens=_tokens(job, urls) if job.wan27 is not None else (0, 0),
            )
            self.tasks[task.task_id] = task
            return task

    def _task_outputs(self, request: Request, job: Job) -> tuple[list[Segment], list[str]]:
        if job.mode != "interleave":
            return [], self._new_results(request, job, self._image_count(job))
        segments = self._interleave_segments(request, job)
        return segments, [s.value for s in segments if s.kind == "image"]

    # ---- tasks (task query page) ------------------------------------------------------------

    async def _poll(self, request: Request) -> Response:
        request_id = _new_id()
        early = await self._before_responding("poll", request_id)
        if early is not None:
            return early
        try:
            self._authorize(request)
        except ApiError as error:
            return _error_response(request_id, error)
        task_id = request.path_params["task_id"]
        with self._lock:
            task = self.tasks.get(task_id)
            if task is None:  # unknown or expired ids are HTTP 200 UNKNOWN (task query page, official SDK)
                return _json_response(request_id, unknown_task_body(request_id, task_id))
            task.advance()
            return _json_response(request_id, task_body(request_id, task))

    async def _cancel(self, request: Request) -> Response:
        request_id = _new_id()
        try:
            self._authorize(request)
            with self._lock:
                task = self.tasks.get(request.path_params["task_id"])
                if task is None or task.status != "PENDING":  # PENDING only (official SDK)
                    raise CANNOT_CANCEL
                task.move_to("CANCELED")
        except ApiError as error:
            return _error_response(request_id, error)
        return _json_response(request_id, {"request_id": request_id})  # [U] the exact body

    # ---- result files ------------------------------------------------------------------------

    async def _download(self, request: Request) -> Response:
        early = await self._before_responding("download", _new_id())
        if early is not None:
            return early
        with self._lock:
            result = self._results.get(request.path_params["name"])
        if result is None:
            return PlainTextResponse("NoSuchKey: The specified key does not exist.", 404)
        if any(request.query_params.get(k) != v for k, v in RESULT_QUERY.items()):
            return PlainTextResponse("AccessDenied: the signed query string is missing or altered.", 403)
        data = await asyncio.to_thread(png_bytes, result.width, result.height, result.color_seed)
        return Response(data, media_type="image/png")

    async def _not_found(self, request: Request) -> Response:
        return PlainTextResponse("Not Found", 404)
