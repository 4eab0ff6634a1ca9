"""FakeRunware: a strict loopback stand-in for Runware's task API, `alibaba:wan@2.6-image` and wan 2.7.

Built from the vendor's pages, cited below by name:
- model page (schema and worked examples): https://runware.ai/docs/models/alibaba-wan2-6-image
- 2.7 schemas: https://runware.ai/docs/models/alibaba-wan2-7-image/schema.json and
  https://runware.ai/docs/models/alibaba-wan2-7-image-pro/schema.json (pages: drop /schema.json)
- task polling page: https://runware.ai/docs/platform/task-polling
- errors page: https://runware.ai/docs/platform/errors
- official SDK: https://pypi.org/project/runware-sdk/ (tests: https://github.com/Runware/runware-python)
Upstream rules are DashScope's: https://www.alibabacloud.com/help/en/model-studio/wan-image-generation-api-reference
Every call
is `POST /v1` with a JSON array of tasks (imageInference, getResponse, authentication); results are
served under /results/. Marks: [C] documented, [I] inferred, [?] our reading where nothing is documented.
"""

from __future__ import annotations

import base64
import io
import random
import re
import threading
import uuid
from collections.abc import Collection
from dataclasses import dataclass

from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .pngs import png_bytes
from .vendor import FailureKind, RecordedRequest, ServedFake, recorded
from .wan27_rules import (
    CountScript,
    Refused,
    Wan27Options,
    check_bool,
    check_boxes,
    check_n,
    check_palette,
    check_seed,
    image_size_of,
)

API_PATH = "/v1"
RESULTS_PREFIX = "/results/"
FAKE_API_KEY = "rw-fake-test-key-0123456789abcdef"
MODEL = "alibaba:wan@2.6-image"
COST_PER_IMAGE = 0.03  # every example on the model page
DOCS = "https://runware.ai/docs/models/alibaba-wan2-6-image"
FAULT_TARGETS = ("generate", "poll", "download")
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

DEFAULT_TASK_SCRIPT = ("processing:50", "success")
DEFAULT_TASK_FAILURE = ("inferenceError", "Inference failed at the provider.")  # code [C-SDK test], message [?]

# The imageInference fields in the model page's schema; anything else is refused.
INFERENCE_FIELDS = frozenset(
    {
        *("taskType", "taskUUID", "outputType", "outputFormat", "outputQuality", "webhookURL"),
        *("deliveryMethod", "uploadEndpoint", "safety", "ttl", "includeCost", "numberResults"),
        *("inputs", "model", "positivePrompt", "negativePrompt", "width", "height", "providerSettings"),
    }
)
OUTPUT_TYPES = {"URL": "imageURL", "base64Data": "imageBase64Data", "dataURI": "imageDataURI"}  # the SDK's result type
OUTPUT_FORMATS = {"PNG": "png", "JPG": "jpeg", "WEBP": "webp"}  # model page (default JPG)
T2I_PIXELS = (1280 * 1280, 1440 * 1440)  # [?] per-mode upstream rule, not the model page's 576/1440 box
EDIT_PIXELS = (768 * 768, 1280 * 1280)
MAX_RATIO = 4  # 1:4–4:1 upstream
MAX_RESULTS = 4  # [?] the schema says 20; upstream n is 1–4

# Wan 2.7 (2.7 schemas). 2.7 takes a seed and `settings`, and has no negative prompt nor promptExtend.
MODEL_27 = "alibaba:wan@2.7-image"
MODEL_27_PRO = "alibaba:wan@2.7-image-pro"
MODELS = (MODEL, MODEL_27, MODEL_27_PRO)
COSTS_27 = {MODEL_27: 0.03, MODEL_27_PRO: 0.075}  # per image, every mode (2.7 schemas' price quotes)
INFERENCE_FIELDS_27 = (INFERENCE_FIELDS - {"negativePrompt"}) | {"seed", "settings"}
SETTINGS_27 = frozenset({"thinking", "sequential", "colorPalette", "editRegions"})  # additionalProperties: false
PROMPT_MAX_27 = 3000  # maxLength 3000
SIDE_27 = (768, 2048)  # per side, multipleOf 16; pro 768–4096, but at most 2048 with inputs.referenceImages
SIDE_27_PRO = (768, 4096)
SIDE_STEP_27 = 16
MAX_REFERENCES_27 = 9


class ApiError(Exception):
    """One entry of Runware's `errors` list, and the HTTP status it comes with (errors page)."""

    def __init__(self, status: int, code: str, message: str, parameter: object = None, task_type: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.parameter = parameter
        self.task_type = task_type
        self.task_uuid: str | None = None

    def entry(self) -> dict:
        entry = {"code": self.code, "message": self.message}
        if self.parameter is not None:
            entry["parameter"] = self.parameter
        return entry | {"taskType": self.task_type, "taskUUID": self.task_uuid, "documentation": DOCS}


def _missing(name: str, task_type: str = "imageInference") -> ApiError:
    # [?] code names follow the SDK's validation prefixes (missing*/invalid*), per parameter
    return ApiError(
        400, f"missing{name[0].upper()}{name[1:]}", f"Missing required parameter '{name}'.", name, task_type
    )


def _invalid(name: str, why: str, task_type: str = "imageInference") -> ApiError:
    return ApiError(400, f"invalid{name[0].upper()}{name[1:]}", f"Invalid value for '{name}': {why}", name, task_type)


_SIGNUP = "Get one at https://my.runware.ai/signup"
NO_KEY = ApiError(401, "invalidApiKey", f"Missing API key. {_SIGNUP}", "apiKey", "authentication")  # [?] status
BAD_KEY = ApiError(401, "invalidApiKey", f"Invalid API key. {_SIGNUP}", "apiKey", "authentication")  # [C] body
NOT_AN_ARRAY = ApiError(400, "invalidPayload", "The request body must be a JSON array of task objects.")  # [?]

# How each common failure looks on Runware's wire: code [C-SDK buckets], HTTP status [?] (undocumented).
_FAILURES = {
    FailureKind.AUTH: BAD_KEY,
    FailureKind.CREDITS: ApiError(402, "insufficientCredits", "Insufficient credits to run this task."),  # [?] code
    FailureKind.RATE_LIMIT: ApiError(429, "rateLimitExceeded", "Rate limit exceeded, slow down your requests."),
    FailureKind.MODERATION: ApiError(
        400, "providerContentPolicyViolation", "The provider rejected the content.", "positivePrompt"
    ),
    FailureKind.SERVER: ApiError(500, "internalServerError", "An internal server error occurred."),
}


@dataclass
class _Canned:
    status: int
    body: object  # JSON, or a str sent as plain text
    headers: dict[str, str]
    remaining: int


@dataclass(frozen=True)
class _ResultFile:
    width: int
    height: int
    color_seed: int
    image_format: str  # a Pillow format name


@dataclass(frozen=True)
class Job:
    """A checked imageInference task."""

    task_uuid: str
    size: tuple[int, int]
    count: int
    output_type: str
    output_format: str
    include_cost: bool
    asynchronous: bool
    model: str = MODEL
    seed: int | None = None  # wan 2.7 only (2.6 refuses a seed)
    reference_images: tuple[str, ...] = ()  # wan 2.7: inputs.referenceImages, in order
    wan27: Wan27Options | None = None  # wan 2.7 settings; bbox_list holds settings.editRegions per image

    @property
    def sequential(self) -> bool:
        return self.wan27 is not None and self.wan27.sequential


@dataclass
class _Image:
    result: dict  # the finished item
    status: str = "hidden"  # hidden | processing | success | error
    progress: int | None = None


@dataclass
class Task:
    """An async imageInference task: each getResponse poll applies the next script step."""

    task_uuid: str
    images: list[_Image]
    script: list[str]
    failure: tuple[str, str]

    def advance(self) -> None:
        """Apply the next script step; once the script is used up, the task stays as it is."""
        if self.script:
            step, _, arg = self.script.pop(0).partition(":")
            getattr(self, f"_step_{step}")(int(arg) if arg else None)

    def _unfinished(self) -> list[_Image]:
        return [image for image in self.images if image.status in ("hidden", "processing")]

    def _step_wait(self, _: int | None) -> None:
        """Nothing new: the images stay as they were (none shown at first, like the SDK's {"data":[]})."""

    def _step_processing(self, progress: int | None) -> None:
        for image in self._unfinished():
            image.status, image.progress = "processing", progress

    def _step_success(self, count: int | None) -> None:
        unfinished = self._unfinished()
        for position, image in enumerate(unfinished):
            image.status = "success" if count is None or position < count else "processing"

    def _step_error(self, _: int | None) -> None:
        unfinished = self._unfinished()
        for position, image in enumerate(unfinished):
            image.status = "error" if position == 0 else "processing"

    def items(self, repeat_finished: bool) -> list[dict]:
        """Poll `data`: one item per visible image (status processing|success|error, task polling page)."""
        items = []
        for image in self.images:
            item = self._item(image)
            if item is not None:
                items += [item, item] if repeat_finished and image.status == "success" else [item]
        return items

    def _item(self, image: _Image) -> dict | None:
        head = {"taskType": "imageInference", "taskUUID": self.task_uuid, "imageUUID": image.result["imageUUID"]}
        if image.status == "processing":
            return head | {"status": "processing"} | ({} if image.progress is None else {"progress": image.progress})
        if image.status == "success":
            return image.result | {"status": "success"}
        if image.status == "error":
            code, message = self.failure
            return head | {"status": "error", "error": {"code": code, "message": message}}  # [C-SDK test] shape
        return None


def _is_uuid4(value: object) -> bool:
    try:
        return isinstance(value, str) and uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_fields(obj: object, allowed: frozenset[str] | set[str], where: str) -> dict:
    if not isinstance(obj, dict):
        raise _invalid(where, "must be an object")
    for name in obj:
        if name not in allowed:
            prefix = f"{where}." if where else ""
            raise ApiError(400, "unknownParameter", f"Unknown parameter '{prefix}{name}'.", f"{prefix}{name}")
    return obj


def _enum(task: dict, name: str, allowed: Collection[str], default: str) -> str:
    value = task.get(name, default)
    if value not in allowed:
        raise _invalid(name, f"must be one of {', '.join(allowed)}")
    return value


def _text(task: dict, name: str, limit: int, *, required: bool) -> None:
    if name not in task:
        if required:
            raise _missing(name)
        return
    value = task[name]
    if not isinstance(value, str) or not 1 <= len(value) <= limit:  # min 1, max per the model page
        raise _invalid(name, f"must be a string of 1–{limit} characters")


def _dimension(task: dict, name: str) -> int:
    if name not in task:
        raise _missing(name)
    if not _is_int(task[name]) or task[name] <= 0:
        raise _invalid(name, "must be a positive integer")
    return task[name]


def _check_size(width: int, height: int, edit: bool) -> None:
    low, high = EDIT_PIXELS if edit else T2I_PIXELS
    if not low <= width * height <= high:
        why = f"{width}x{height} is {width * height} pixels; this mode allows {low}–{high} in total"
        raise ApiError(400, "invalidDimensions", why, ["width", "height"])  # [?] code; list form [C]
    if max(width, height) > MAX_RATIO * min(width, height):
        raise ApiError(400, "invalidDimensions", f"{width}x{height} is beyond 1:4 / 4:1", ["width", "height"])


def _check_inputs(task: dict) -> bool:
    """True in edit mode: `inputs.referenceImages` holds 1–4 images (URL, data URI, base64 or UUID)."""
    if "inputs" not in task:
        return False
    inputs = _check_fields(task["inputs"], {"referenceImages"}, "inputs")
    images = inputs.get("referenceImages")
    if not isinstance(images, list) or not 1 <= len(images) <= 4:
        raise _invalid("referenceImages", "must be an array of 1–4 images")
    if not all(isinstance(image, str) and image for image in images):
        raise _invalid("referenceImages", "every image must be a non-empty string")
    return True


def _check_provider_settings(task: dict) -> None:
    if "providerSettings" not in task:
        return
    settings = _check_fields(task["providerSettings"], {"alibaba"}, "providerSettings")
    alibaba = _check_fields(settings.get("alibaba", {}), {"promptExtend"}, "providerSettings.alibaba")
    if not isinstance(alibaba.get("promptExtend", True), bool):
        raise _invalid("promptExtend", "must be a boolean")


def _check_platform_options(task: dict) -> None:
    """The model page's API options the adapter never sends, still checked for type and range."""
    if "outputQuality" in task and not (_is_int(task["outputQuality"]) and 20 <= task["outputQuality"] <= 99):
        raise _invalid("outputQuality", "must be an integer 20–99")
    if "ttl" in task and not (_is_int(task["ttl"]) and task["ttl"] >= 60):
        raise _invalid("ttl", "must be an integer of at least 60")
    for name in ("webhookURL", "uploadEndpoint"):
        if name in task and not (isinstance(task[name], str) and task[name].startswith(("http://", "https://"))):
            raise _invalid(name, "must be a URI")
    safety = _check_fields(task.get("safety", {}), {"checkContent", "mode"}, "safety")
    if not isinstance(safety.get("checkContent", False), bool) or safety.get("mode", "none") not in ("none", "fast"):
        raise _invalid("safety", "checkContent is a boolean and mode is none or fast")


def parse_inference(task: dict) -> Job:
    """Check one imageInference task as the model page documents it; raise ApiError on the first problem."""
    if task.get("model") in COSTS_27:
        return parse_inference_27(task)
    _check_fields(task, INFERENCE_FIELDS, "")
    if not _is_uuid4(task.get("taskUUID")):
        raise _missing("taskUUID") if "taskUUID" not in task else _invalid("taskUUID", "must be a UUID v4")
    if task.get("model") != MODEL:
        served = ", ".join(MODELS)
        raise _missing("model") if "model" not in task else _invalid("model", f"this fake serves only {served}")
    edit = _check_inputs(task)
    _text(task, "positivePrompt", 2000 if edit else 2100, required=True)  # 2000 in edit (upstream)
    _text(task, "negativePrompt", 500, required=False)
    width, height = _dimension(task, "width"), _dimension(task, "height")
    _check_size(width, height, edit)
    count = task.get("numberResults", 1)
    if not _is_int(count) or not 1 <= count <= MAX_RESULTS:
        raise _invalid("numberResults", f"must be an integer 1–{MAX_RESULTS}")
    if not isinstance(task.get("includeCost", False), bool):
        raise _invalid("includeCost", "must be a boolean")
    _check_provider_settings(task)
    _check_platform_options(task)
    output_type = _enum(task, "outputType", OUTPUT_TYPES, "URL")
    output_format = _enum(task, "outputFormat", OUTPUT_FORMATS, "JPG")
    delivery = _enum(task, "deliveryMethod", ("sync", "async"), "sync")  # default sync for this model [C]
    include_cost = task.get("includeCost", False)
    return Job(task["taskUUID"], (width, height), count, output_type, output_format, include_cost, delivery == "async")


def parse_inference_27(task: dict) -> Job:
    """Check one wan 2.7 imageInference task against the 2.7 schemas; raise ApiError on the first problem."""
    if "negativePrompt" in task:  # absent from the 2.7 schemas
        raise ApiError(400, "unknownParameter", "Wan 2.7 has no 'negativePrompt'.", "negativePrompt")
    _check_fields(task, INFERENCE_FIELDS_27, "")
    if not _is_uuid4(task.get("taskUUID")):
        raise _missing("taskUUID") if "taskUUID" not in task else _invalid("taskUUID", "must be a UUID v4")
    model = task["model"]
    references = _references_27(task)
    _text(task, "positivePrompt", PROMPT_MAX_27, required=True)
    low, high = SIDE_27_PRO if model == MODEL_27_PRO and not references else SIDE_27
    width, height = _side_27(task, "width", low, high), _side_27(task, "height", low, high)
    try:
        options = _settings_27(task, references)
        count = check_n(task.get("numberResults", 1), options.sequential, "numberResults")  # [U] the mapping to n
        seed = check_seed(task["seed"]) if "seed" in task else None
    except Refused as refused:
        name = re.split(r"[\[.]", refused.field)[0]  # colorPalette[0].ratio -> invalidColorPalette
        code = f"invalid{name[0].upper()}{name[1:]}"
        raise ApiError(400, code, f"Invalid value for '{refused.field}': {refused.detail}", refused.field) from None
    if not isinstance(task.get("includeCost", False), bool):
        raise _invalid("includeCost", "must be a boolean")
    if "providerSettings" in task:  # providerSettings.alibaba.promptExtend is gone in 2.7; nothing else is left
        settings = _check_fields(task["providerSettings"], {"alibaba"}, "providerSettings")
        _check_fields(settings.get("alibaba", {}), set(), "providerSettings.alibaba")
    _check_platform_options(task)
    output_type = _enum(task, "outputType", OUTPUT_TYPES, "URL")
    output_format = _enum(task, "outputFormat", OUTPUT_FORMATS, "JPG")
    delivery = _enum(task, "deliveryMethod", ("sync", "async"), "sync")
    include_cost = task.get("includeCost", False)
    size = (width, height)
    return Job(
        task["taskUUID"],
        size,
        count,
        output_type,
        output_format,
        include_cost,
        delivery == "async",
        model=model,
        seed=seed,
        reference_images=references,
        wan27=options,
    )


def _references_27(task: dict) -> tuple[str, ...]:
    """`inputs.referenceImages`: 1–9 images (UUID, URL, data URI or base64); no other `inputs` key."""
    if "inputs" not in task:
        return ()
    images = _check_fields(task["inputs"], {"referenceImages"}, "inputs").get("referenceImages")
    if not isinstance(images, list) or not 1 <= len(images) <= MAX_REFERENCES_27:
        raise _invalid("referenceImages", f"must be an array of 1–{MAX_REFERENCES_27} images")
    if not all(isinstance(image, str) and image for image in images):
        raise _invalid("referenceImages", "every image must be a non-empty string")
    return tuple(images)


def _side_27(task: dict, name: str, low: int, high: int) -> int:
    """Required; an integer low–high and a multiple of 16 (2.7 schemas)."""
    side = _dimension(task, name)
    if not low <= side <= high or side % SIDE_STEP_27:
        raise _invalid(name, f"must be an integer {low}–{high} and a multiple of {SIDE_STEP_27}")
    return side


def _settings_27(task: dict, references: tuple[str, ...]) -> Wan27Options:
    """`settings` (additionalProperties: false): thinking, sequential, colorPalette, editRegions (2.7 schemas)."""
    settings = _check_fields(task.get("settings", {}), SETTINGS_27, "settings")
    sequential = check_bool("sequential", settings["sequential"]) if "sequential" in settings else False
    thinking = check_bool("thinking", settings["thinking"]) if "thinking" in settings else None
    if thinking is not None and (references or sequential):  # upstream: text-to-image only [U: refusal]
        raise Refused("thinking", "only applies without inputs.referenceImages and without sequential")
    palette = None
    if "colorPalette" in settings:
        if sequential:  # the schema's allOf forbids colorPalette with sequential
            raise Refused("colorPalette", "is not allowed with sequential")
        palette = check_palette(settings["colorPalette"], "colorPalette")
    regions = None
    if "editRegions" in settings:  # requires inputs.referenceImages; bounds only for images the fake can decode
        if sequential:  # [U] upstream does not say; strict like the DashScope fake
            raise Refused("editRegions", "is not allowed with sequential")
        regions = check_boxes(settings["editRegions"], [image_size_of(image) for image in references], "editRegions")
    return Wan27Options(sequential, thinking, None, palette, regions)


class FakeRunware(ServedFake):
    """In-memory Runware. Serve ``fake.app``, then set ``fake.server_url`` to its root URL."""

    name = "runware"
    base_path = API_PATH

    def __init__(self, api_key: str = FAKE_API_KEY) -> None:
        self.api_key = api_key
        self.server_url: str | None = None
        self._lock = threading.RLock()
        self.app = Starlette(routes=self._routes())
        self.reset()

    # ---- knobs for tests -------------------------------------------------------------------

    def reset(self) -> None:
        """Restore every default; drop recorded requests, tasks, results and canned answers."""
        with self._lock:
            self.requests: list[RecordedRequest] = []
            self.tasks: dict[str, Task] = {}
            self.results: list[dict] = []  # every finished result item made, in order
            self.task_script: list[str] = list(DEFAULT_TASK_SCRIPT)  # wait | processing[:%] | success[:n] | error
            self.task_failure: tuple[str, str] = DEFAULT_TASK_FAILURE
            self.repeat_finished_items = False  # list each finished item twice per poll (a cumulative log)
            self.empty_ack = False  # acknowledge async tasks with {"data":[]}, as the SDK mocks do [I]
            self.cost_per_image = COST_PER_IMAGE  # wan 2.6; wan 2.7 costs COSTS_27[model]
            self.jobs: list[Job] = []  # every accepted imageInference task, parsed (wan 2.7: job.wan27, seed, ...)
            self._set_counts = CountScript()  # wan 2.7 settings.sequential: see set_count()
            self._used_uuids: set[str] = set()
            self._canned: dict[str, list[_Canned]] = {target: [] for target in FAULT_TARGETS}
            self._results: dict[str, _ResultFile] = {}

    def fail_with(self, kind: FailureKind, times: int = 1) -> None:
        """The contract suite's failures (`fakes.vendor.FailureKind`) in Runware's wire format."""
        error = _FAILURES[kind]
        self.fail_next(error.status, error.code, error.message, times=times, parameter=error.parameter)

    def fail_next(
        self,
        status: int,
        code: str,
        message: str,
        *,
        times: int = 1,
        target: str = "generate",
        parameter: object = None,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next ``times`` calls to ``target`` with Runware's `errors` body."""
        error = ApiError(status, code, message, parameter, "getResponse" if target == "poll" else "imageInference")
        headers = {} if retry_after is None else {"retry-after": str(retry_after)}
        self.answer_next({"errors": [error.entry()]}, status=status, times=times, target=target, headers=headers)

    def answer_next(
        self, body: object, *, status: int = 200, times: int = 1, target: str = "generate", headers: dict | None = None
    ) -> None:
        """Answer the next ``times`` calls to ``target`` with ``body`` verbatim (a str goes as plain text)."""
        if target not in self._canned:
            raise ValueError(f"unknown target {target!r}; expected one of {FAULT_TARGETS}")
        with self._lock:
            self._canned[target].append(_Canned(status, body, headers or {}, times))

    def set_count(self, *counts: int) -> None:
        """Wan 2.7 `settings.sequential` tasks return fewer items than numberResults: each next one takes
        the next count (the last repeating), capped at numberResults; ``set_count()`` (or reset) undoes it."""
        with self._lock:
            self._set_counts.set(counts)

    def generation_requests(self) -> list[RecordedRequest]:
        """The billable submissions: POSTs carrying an imageInference task."""
        with self._lock:
            return [r for r in self.requests if r.path == API_PATH and _task_types(r.json) & {"imageInference"}]

    def polls(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == API_PATH and _task_types(r.json) & {"getResponse"}]

    def downloads(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "GET" and r.path.startswith(RESULTS_PREFIX)]

    # ---- plumbing ------------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        return [
            Route(API_PATH, self._api, methods=["POST"]),
            Route(RESULTS_PREFIX + "{name}", self._download, methods=["GET"]),
            Route("/{path:path}", self._not_found, methods=ALL_METHODS),
        ]

    async def _record(self, request: Request) -> object | None:
        record = await recorded(request)
        with self._lock:
            self.requests.append(record)
        return record.json

    def _take_canned(self, target: str, task_uuid: object = None) -> Response | None:
        with self._lock:
            queue = self._canned[target]
            if not queue:
                return None
            canned = queue[0]
            canned.remaining -= 1
            if canned.remaining <= 0:
                queue.pop(0)
        if isinstance(canned.body, str):
            return PlainTextResponse(canned.body, canned.status, headers=canned.headers)
        return JSONResponse(_naming_task(canned.body, task_uuid), canned.status, headers=canned.headers)

    def _authorize(self, request: Request, tasks: list) -> list:
        """Bearer header [C], or an authentication task first in the array [C]; the tasks left to run."""
        if tasks and isinstance(tasks[0], dict) and tasks[0].get("taskType") == "authentication":
            if tasks[0].get("apiKey") != self.api_key:
                raise BAD_KEY
            return tasks[1:]
        scheme, _, key = request.headers.get("authorization", "").strip().partition(" ")
        if not key.strip():
            raise NO_KEY
        if scheme.lower() != "bearer" or key.strip() != self.api_key:
            raise BAD_KEY
        return tasks

    # ---- the one endpoint ----------------------------------------------------------------------

    async def _api(self, request: Request) -> Response:
        body = await self._record(request)
        if not isinstance(body, list) or not body:
            return _errors_response([NOT_AN_ARRAY])
        target = "generate" if "imageInference" in _task_types(body) else "poll"
        canned = self._take_canned(target, body[-1].get("taskUUID") if isinstance(body[-1], dict) else None)
        if canned is not None:
            return canned
        try:
            tasks = self._authorize(request, body)
        except ApiError as error:
            return _errors_response([error])
        data, errors = [], []
        for task in tasks:
            try:
                data += self._run_task(request, task)
            except ApiError as error:
                error.task_uuid = task.get("taskUUID") if isinstance(task, dict) else None
                errors.append(error)
        return _answer(data, errors)

    def _run_task(self, request: Request, task: object) -> list[dict]:
        task_type = task.get("taskType") if isinstance(task, dict) else None
        if task_type == "imageInference":
            return self._inference(request, parse_inference(task))  # type: ignore[arg-type]
        if task_type == "getResponse":
            return self._get_response(task)  # type: ignore[arg-type]
        if task_type is None:
            raise _missing("taskType", "")
        raise ApiError(400, "unsupportedTaskType", f"This fake does not serve taskType {task_type!r}.", "taskType")

    def _inference(self, request: Request, job: Job) -> list[dict]:
        with self._lock:
            if job.task_uuid in self._used_uuids:  # "Must be unique per task" (model page)
                raise ApiError(400, "duplicateTaskUUID", "This taskUUID was already used.", "taskUUID")  # [?] code
            self._used_uuids.add(job.task_uuid)
            self.jobs.append(job)
            count = self._set_counts.take(job.count) if job.sequential else job.count
            results = [self._new_result(request, job, index) for index in range(count)]
            if not job.asynchronous:
                return results
            images = [_Image(result) for result in results]
            self.tasks[job.task_uuid] = Task(
                job.task_uuid, images, _checked(self.task_script), tuple(self.task_failure)
            )
        # The ack carries taskType and taskUUID (webhook docs) [I]; the SDK mocks send {"data":[]} [I].
        return [] if self.empty_ack else [{"taskType": "imageInference", "taskUUID": job.task_uuid}]

    def _new_result(self, request: Request, job: Job, index: int) -> dict:
        """One finished result item (shape: the model page and the SDK's result type), its file registered.

        Its seed: a seed sent (2.7) plus the image's place, as DashScope numbers a run's images; a
        random one otherwise. [U] Runware's pages show a seed per result without saying how it
        relates to the one sent (https://runware.ai/docs/en/image-inference/api-reference)."""
        image_uuid = str(uuid.uuid4())
        seed = random.randint(0, 2**31 - 1) if job.seed is None else (job.seed + index) % 2**31
        extension = job.output_format.lower()
        result = _ResultFile(*job.size, color_seed=seed, image_format=OUTPUT_FORMATS[job.output_format].upper())
        self._results[f"{image_uuid}.{extension}"] = result
        item = {"taskType": "imageInference", "taskUUID": job.task_uuid, "imageUUID": image_uuid}
        item[OUTPUT_TYPES[job.output_type]] = self._delivered(request, job, f"{image_uuid}.{extension}", result)
        item |= {"seed": seed, "NSFWContent": False}
        cost = COSTS_27.get(job.model, self.cost_per_image)
        item |= {"cost": cost} if job.include_cost else {}
        self.results.append(item)
        return item

    @staticmethod
    def _delivered(request: Request, job: Job, name: str, result: _ResultFile) -> str:
        if job.output_type == "URL":
            return f"{request.base_url}{RESULTS_PREFIX.lstrip('/')}{name}"
        encoded = base64.b64encode(_encoded(result)).decode()
        return (
            encoded if job.output_type == "base64Data" else f"data:image/{result.image_format.lower()};base64,{encoded}"
        )

    def _get_response(self, task: dict) -> list[dict]:
        _check_fields(task, {"taskType", "taskUUID"}, "")
        task_uuid = task.get("taskUUID")
        with self._lock:
            found = self.tasks.get(task_uuid) if isinstance(task_uuid, str) else None
            if found is None:  # [?] code from the SDK's not-found set; HTTP status undocumented
                raise ApiError(
                    400, "taskFailedOrNotFound", "No task found with this taskUUID.", "taskUUID", "getResponse"
                )
            found.advance()
            return found.items(self.repeat_finished_items)

    # ---- result files ------------------------------------------------------------------------

    async def _download(self, request: Request) -> Response:
        await self._record(request)
        canned = self._take_canned("download")
        if canned is not None:
            return canned
        with self._lock:
            result = self._results.get(request.path_params["name"])
        if result is None:
            return PlainTextResponse("Not Found", 404)
        return Response(_encoded(result), media_type=f"image/{result.image_format.lower()}")

    async def _not_found(self, request: Request) -> Response:
        await self._record(request)
        return PlainTextResponse("Not Found", 404)


def _checked(script: list[str]) -> list[str]:
    steps = {"wait", "processing", "success", "error"}
    if not all(step.partition(":")[0] in steps for step in script):
        raise ApiError(500, "fakeMisconfigured", f"bad task_script {script!r}; steps are {sorted(steps)}")
    return list(script)


def _task_types(body: object) -> set[str]:
    if not isinstance(body, list):
        return set()
    return {task.get("taskType") for task in body if isinstance(task, dict)}


def _naming_task(body: object, task_uuid: object) -> object:
    """A canned `errors` body names the task it answers, as Runware's errors do (errors page)."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return body
    errors = [entry | {"taskUUID": entry.get("taskUUID") or task_uuid} for entry in body["errors"]]
    return body | {"errors": errors}


def _encoded(result: _ResultFile) -> bytes:
    data = png_bytes(result.width, result.height, result.color_seed)
    if result.image_format == "PNG":
        return data
    buffer = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buffer, result.image_format)
    return buffer.getvalue()


def _errors_response(errors: list[ApiError]) -> JSONResponse:
    return JSONResponse({"errors": [error.entry() for error in errors]}, errors[0].status)


def _answer(data: list[dict], errors: list[ApiError]) -> JSONResponse:
    """Errors are per task, so a batch can mix `data` and `errors` (errors page) [C]."""
    if errors and not data:
        return _errors_response(errors)
    body: dict = {"data": data}
    if errors:
        body["errors"] = [error.entry() for error in errors]
    return JSONResponse(body)
