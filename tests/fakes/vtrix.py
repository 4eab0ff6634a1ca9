"""FakeVtrix: a strict loopback stand-in for Vtrix's generation gateway (wan26_image, wan26_t2i, wan27_image(_pro)).

Built from the vendor's pages and official clients, cited below by name:
- model page (wan26_image): https://doc.vtrix.ai/domestic/api/qwen/wan26-image
- t2i page (wan26_t2i): https://doc.vtrix.ai/docs/api/qwen/wan26-t2i
- generation API: https://docs.vtrix.ai/api-reference/models/model_api_documentation_gitbook
- CLI task page: https://doc.vtrix.ai/public/cli/cmd-task/
- vtrix-cli: https://github.com/VtrixAI/vtrix-cli
- SeaArt SDK (the same gateway): https://github.com/SeaArt-Infra/sea-sdk-python
- wan 2.7 page: https://doc.vtrix.ai/domestic/api/qwen/wan27-image-intl (ids from vtrix-cli's wan2.7-image skills)
Vtrix forwards DashScope's native body, so that body is checked by ``dashscope_rules.parse_job``
(``dashscope_rules27`` for 2.7) plus the Vtrix-only rules below; this module holds the envelope, the
task state machine, the result files and the knobs tests turn (failures, task script, error shape,
cost, raw poll bodies).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .dashscope_rules import MODEL_IMAGE, MODEL_T2I, SIZE_PATTERN, ApiError, Job
from .dashscope_rules27 import parse_request
from .pngs import png_bytes
from .vendor import FailureKind, RecordedRequest, ServedFake, recorded
from .wan27_rules import MODEL_27, MODEL_27_PRO

SUBMIT_PATH = "/model/v1/generation"  # generation API [C]
TASK_PREFIX = "/model/v1/generation/task/"  # vtrix-cli GetTask [C]
RESULTS_PREFIX = "/results/"
FAKE_API_KEY = "vtrix-fake-test-key-0123456789abcdef"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# The Vtrix ids and their upstream models; wan27_image(_pro) come from vtrix-cli's skills (wan 2.7 page).
UPSTREAM_MODELS = {
    "wan26_image": MODEL_IMAGE,
    "wan26_t2i": MODEL_T2I,
    "wan27_image": MODEL_27,
    "wan27_image_pro": MODEL_27_PRO,
}
# The wan 2.7 page documents size, n, watermark, thinking_mode and seed; vtrix-cli lists color_palette.
WAN27_PARAMETERS = frozenset({"size", "n", "watermark", "thinking_mode", "seed", "color_palette"})
# [U] Whether Vtrix passes these through is undocumented; the client never sends them to Vtrix, so they are refused.
WAN27_UNDOCUMENTED = ("bbox_list", "enable_sequential")
# The model page's parameter list; wan26_t2i has no interleave switch (t2i page). Anything else is refused [I].
KNOWN_PARAMETERS = {
    "wan26_image": frozenset(
        {"negative_prompt", "size", "enable_interleave", "n", "max_images", "prompt_extend", "watermark", "seed"}
    ),
    "wan26_t2i": frozenset({"negative_prompt", "size", "n", "prompt_extend", "watermark", "seed"}),
    "wan27_image": WAN27_PARAMETERS,
    "wan27_image_pro": WAN27_PARAMETERS,
}
T2I_MIN_PIXELS = 1280 * 1280  # the t2i page: 1280²–1440², no exceptions below

# in_progress | completed | failed [C] (vtrix-cli, SeaArt SDK); the CLI task page also lists pending and processing.
TASK_STATUSES = frozenset({"pending", "processing", "in_progress", "completed", "failed"})
TERMINAL = frozenset({"completed", "failed"})
DEFAULT_TASK_SCRIPT = (("in_progress", 0.3), ("in_progress", 0.8), ("completed", None))
DEFAULT_TASK_ERROR: str | dict = {"code": 2014001, "message": "Image generation failed"}  # [?] Vtrix's Veo code
MODERATION_TASK_ERROR = {"code": "DataInspectionFailed", "message": "Input data may contain inappropriate content."}
DEFAULT_UNIT_COST = "0.035714285714"  # a string, as the clients read it
DEFAULT_INTERLEAVE_IMAGE_COUNT = 2


class VtrixError(Exception):
    """An HTTP error the fake answers with: `{"error": {"code", <message_key>}}` (as the clients parse it)."""

    def __init__(self, status: int, code: str | int, message: str, message_key: str = "message") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.message_key = status, code, message, message_key

    def body(self) -> dict:
        return {"error": {"code": self.code, self.message_key: self.message}}


# The model page's table: 401 key, 403 balance or permission, 429 rate, 500 server; the codes are [?].
BAD_KEY = VtrixError(401, "unauthorized", "API key is missing or invalid")
_HTTP_FAILURES = {
    FailureKind.AUTH: BAD_KEY,
    FailureKind.CREDITS: VtrixError(403, "insufficient_balance", "Insufficient balance", "error_message"),
    FailureKind.RATE_LIMIT: VtrixError(429, "rate_limit_exceeded", "Rate limit exceeded"),
    FailureKind.SERVER: VtrixError(500, 500, "Internal server error"),
}
NOT_JSON = VtrixError(400, "InvalidParameter", "Content-Type must be application/json.")  # [?]
TASK_NOT_FOUND = VtrixError(404, "task_not_found", "Task not found")  # [?]


def invalid(where: str, detail: str) -> VtrixError:
    """A refused body: upstream's InvalidParameter passed through at submit time [?]."""
    return VtrixError(400, "InvalidParameter", f"Required parameter({where}) missing or invalid: {detail}")


@dataclass(frozen=True)
class Submission:
    """An accepted submission: which body form ([?]) and where the model came from ([I] X-Model)."""

    form: str  # "wrapped" ({"model", "input": [{"params": …}]}) or "flat" (DashScope's own body)
    model: str
    model_from: str  # "body" or "header"
    native: dict  # the DashScope body inside


@dataclass
class _Fault:
    error: VtrixError | None  # answered at submit time
    task_error: object  # or: the task is accepted, then fails with this error
    remaining: int


@dataclass
class _Task:
    """One task; each poll moves one step through its script, the last step repeats."""

    id: str
    model: str
    script: list[tuple[str, float | None]]
    content: list[dict]
    usage: dict
    error: object
    created_at: int = field(default_factory=lambda: int(time.time()))
    step: int = -1

    @property
    def status(self) -> str:
        return "in_progress" if self.step < 0 else self.script[self.step][0]

    def advance(self) -> None:
        if self.status not in TERMINAL:
            self.step = min(self.step + 1, len(self.script) - 1)

    def body(self) -> dict:
        """The task as the gateway shows it (the SeaArt SDK's `Task`, Vtrix's Veo "Response Format")."""
        body = {"id": self.id, "created_at": self.created_at, "status": self.status, "model": self.model}
        if self.status == "completed":
            metadata = {"in_queue_at": self.created_at + 0.1, "upload_at": time.time(), "completed_at": time.time()}
            return body | {"output": [{"content": self.content}], "usage": self.usage, "metadata": metadata}
        if self.status == "failed":
            return body | {"error": self.error}
        progress = self.script[self.step][1] if self.step >= 0 else None
        return body if progress is None else body | {"progress": progress}


def _new_id() -> str:
    return uuid.uuid4().hex[:20]


def _error_response(error: VtrixError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers={"x-request-id": _new_id()})


class FakeVtrix(ServedFake):
    """In-memory Vtrix. Serve ``fake.app``, then set ``fake.server_url`` to its root URL."""

    name = "vtrix"

    def __init__(self, api_key: str = FAKE_API_KEY) -> None:
        self.api_key = api_key
        self.server_url: str | None = None
        self._lock = threading.RLock()
        self.app = Starlette(routes=self._routes())
        self.reset()

    # ---- knobs for tests -------------------------------------------------------------------

    def reset(self) -> None:
        """Restore every default; drop recorded requests, submissions, tasks, results and faults."""
        with self._lock:
            self.requests: list[RecordedRequest] = []
            self.submissions: list[Submission] = []
            self.jobs: list[Job] = []  # each accepted submission's DashScope body, parsed (wan 2.7: job.wan27)
            self.tasks: dict[str, _Task] = {}
            self.task_script: list[tuple[str, float | None]] = list(DEFAULT_TASK_SCRIPT)
            self.task_error: str | dict = DEFAULT_TASK_ERROR  # what a scripted "failed" carries
            self.interleave_image_count = DEFAULT_INTERLEAVE_IMAGE_COUNT
            self.unit_cost: str = DEFAULT_UNIT_COST
            self.cost: str | float | None = None  # None: unit_cost × images, as a string
            self.raw_poll_body: dict | None = None  # answer every poll with this instead
            self.extra_content: list[dict] = []  # appended to a completed task's content (items we may not know)
            self._faults: list[_Fault] = []
            self._results: dict[str, tuple[int, int, int]] = {}

    def fail_with(self, kind: FailureKind, times: int = 1) -> None:
        """The next ``times`` submissions fail as ``kind`` would on Vtrix's wire.

        Moderation has no HTTP code ([?]): the task is accepted, then fails with upstream's
        DataInspectionFailed passed through [I].
        """
        with self._lock:
            if kind is FailureKind.MODERATION:
                self._faults.append(_Fault(None, MODERATION_TASK_ERROR, times))
            else:
                self._faults.append(_Fault(_HTTP_FAILURES[kind], None, times))

    def fail_next(self, status: int, code: str | int, message: str, times: int = 1) -> None:
        """The next ``times`` submissions are refused with this status and `{"error": {code, message}}`."""
        with self._lock:
            self._faults.append(_Fault(VtrixError(status, code, message), None, times))

    def generation_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path == SUBMIT_PATH]

    def polls(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "GET" and r.path.startswith(TASK_PREFIX)]

    def downloads(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "GET" and r.path.startswith(RESULTS_PREFIX)]

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.pop(0)
            return fault

    # ---- plumbing ------------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        return [
            Route(SUBMIT_PATH, self._recorded(self._submit), methods=["POST"]),
            Route(TASK_PREFIX + "{task_id}", self._recorded(self._poll), methods=["GET"]),
            Route(RESULTS_PREFIX + "{name}.png", self._recorded(self._download), methods=["GET"]),
            Route("/{path:path}", self._recorded(self._not_found), methods=ALL_METHODS),
        ]

    def _recorded(self, handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            record = await recorded(request)
            with self._lock:
                self.requests.append(record)
            try:
                return await handler(request)
            except VtrixError as error:
                return _error_response(error)

        return endpoint

    def _authorize(self, request: Request) -> None:
        scheme, _, key = request.headers.get("authorization", "").strip().partition(" ")  # Bearer [C]
        if scheme.lower() != "bearer" or key.strip() != self.api_key:
            raise BAD_KEY

    # ---- submission (the clients' body format, the model page's "Parameters") -----------------

    async def _submit(self, request: Request) -> Response:
        fault = self._take_fault()
        if fault is not None and fault.error is not None:
            raise fault.error
        self._authorize(request)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise NOT_JSON
        submission = self._submission(await self._json(request), request.headers.get("x-model"))
        job = _job(submission.model, submission.native)
        model = submission.model
        task = self._create_task(request, model, job, fault)
        with self._lock:
            self.submissions.append(submission)
            self.jobs.append(job)
        return JSONResponse(
            {"id": task.id, "created_at": task.created_at, "status": "in_progress", "model": task.model}
        )

    @staticmethod
    async def _json(request: Request) -> object:
        try:
            return json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise invalid("body", "not valid JSON") from None

    @staticmethod
    def _submission(body: object, header_model: str | None) -> Submission:
        """Unwrap ``{"model", "input": [{"params": …}]}``, or take DashScope's flat body as is [?]."""
        if not isinstance(body, dict):
            raise invalid("body", "must be a JSON object")
        model, model_from = _model(body, header_model)
        if not isinstance(body.get("input"), list):
            _only_keys(body, {"model", "input", "parameters"}, "body")
            return Submission("flat", model, model_from, body)
        _only_keys(body, {"model", "input"}, "body")
        blocks = body["input"]
        # Newer Vtrix model pages: "input must be an array; parameters under input[0].params" [C].
        if len(blocks) != 1 or not isinstance(blocks[0], dict) or set(blocks[0]) != {"params"}:
            raise invalid("input", 'must be [{"params": {...}}]')
        native = blocks[0]["params"]
        if not isinstance(native, dict):
            raise invalid("input[0].params", "must be an object")
        _only_keys(native, {"model", "input", "parameters"}, "input[0].params")
        if "model" in native and native["model"] != model:
            raise invalid("input[0].params.model", f"{native['model']!r} differs from model {model!r}")
        return Submission("wrapped", model, model_from, native)

    def _create_task(self, request: Request, model: str, job: Job, fault: _Fault | None) -> _Task:
        script = list(self.task_script)
        if not script or not {status for status, _ in script} <= TASK_STATUSES or script[-1][0] not in TERMINAL:
            raise VtrixError(500, "FakeMisconfigured", f"bad task_script {script!r}")
        if fault is not None:  # moderation: accepted, then failed at the first poll
            script = [("failed", None)]
        content = self._content(request, job)
        image_count = sum(item["type"] == "image" for item in content)
        error = fault.task_error if fault is not None else self.task_error
        content += [dict(item) for item in self.extra_content]
        task = _Task(_new_id(), model, script, content, self._usage(image_count), error)
        with self._lock:
            self.tasks[task.id] = task
        return task

    def _content(self, request: Request, job: Job) -> list[dict]:
        """Images in order; interleave puts text before, between and after them [?]."""
        count = min(job.max_images, self.interleave_image_count) if job.mode == "interleave" else job.n
        images = [
            {"type": "image", "url": url, "jobId": str(uuid.uuid4())} for url in self._results_for(request, job, count)
        ]
        if job.mode != "interleave":
            return images
        content: list[dict] = []
        for step, image in enumerate(images, start=1):
            content += [{"type": "text", "text": f"Step {step} — 准备食材: café ✓ "}, image]
        return content + [{"type": "text", "text": "Done — 完成!"}]

    def _results_for(self, request: Request, job: Job, count: int) -> list[str]:
        names = [_new_id() for _ in range(count)]
        with self._lock:
            for index, name in enumerate(names):
                self._results[name] = (*job.size, (job.seed or 0) + index)
        return [f"{request.base_url}results/{name}.png" for name in names]

    def _usage(self, image_count: int) -> dict:
        """A superset of the SeaArt SDK's and vtrix-cli's usage fields."""
        cost = self.cost if self.cost is not None else f"{float(self.unit_cost) * image_count:.12f}"
        return {
            "cost": cost,
            "discount": 0.7,
            "quantity": image_count,
            "unit_price": self.unit_cost,
            "model_batch_uuid": str(uuid.uuid4()),
            "extra_info": {},
        }

    # ---- tasks and result files -------------------------------------------------------------

    async def _poll(self, request: Request) -> Response:
        self._authorize(request)
        if self.raw_poll_body is not None:
            return JSONResponse(self.raw_poll_body)
        with self._lock:
            task = self.tasks.get(request.path_params["task_id"])
            if task is None:
                raise TASK_NOT_FOUND
            task.advance()
            return JSONResponse(task.body())

    async def _download(self, request: Request) -> Response:
        with self._lock:
            result = self._results.get(request.path_params["name"])
        if result is None:
            return PlainTextResponse("Not Found", 404)
        return Response(png_bytes(*result), media_type="image/png")

    async def _not_found(self, request: Request) -> Response:
        return PlainTextResponse("Not Found", 404)


def _model(body: dict, header_model: str | None) -> tuple[str, str]:
    """The model from the body (vtrix-cli) or the X-Model header (newer SeaArt SDK) [I]."""
    in_body = body.get("model")
    if in_body is not None and header_model is not None and in_body != header_model:
        raise invalid("model", f"body says {in_body!r}, X-Model says {header_model!r}")
    model = in_body if in_body is not None else header_model
    if not isinstance(model, str) or not model:
        raise invalid("model", "a model id is required")
    if model not in UPSTREAM_MODELS:
        raise VtrixError(400, "model_not_found", f"model {model} not found")  # [?]
    return model, "body" if in_body is not None else "header"


def _only_keys(mapping: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise invalid(where, f"unknown field(s) {unknown}")


def _job(model: str, native: dict) -> Job:
    """DashScope's own checks (messages, content, counts, ranges, sizes), plus Vtrix's stricter ones."""
    params = native.get("parameters", {})
    if isinstance(params, dict):
        for name in WAN27_UNDOCUMENTED:
            if model in ("wan27_image", "wan27_image_pro") and name in params:
                raise invalid(f"parameters.{name}", f"Vtrix documents no {name} for {model}")
        _only_keys(params, set(KNOWN_PARAMETERS[model]), "parameters")
        if model == "wan26_t2i":
            _check_t2i_size(params.get("size"))
    try:
        job = parse_request({"model": UPSTREAM_MODELS[model], "input": native.get("input"), "parameters": params})
    except ApiError as error:
        raise VtrixError(error.status, error.code, error.message) from None
    if model == "wan26_image" and job.mode == "edit" and "n" not in params:
        return replace(job, n=1)  # the model page: n defaults to 1 here (DashScope's own default is 4)
    return job


def _check_t2i_size(size: object) -> None:
    match = SIZE_PATTERN.fullmatch(size) if isinstance(size, str) else None
    if match and int(match[1]) * int(match[2]) < T2I_MIN_PIXELS:
        raise invalid("size", f"{size} is below 1280*1280 pixels; wan26_t2i allows [1638400, 2073600]")
