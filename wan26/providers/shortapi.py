"""ShortAPI (shortapi.ai): `job/create` then `job/query`, always a task.

The vendor's pages (one llms.txt per model, each with its `args` schema and example answers):
- image-to-image: https://shortapi.ai/models/alibaba/wan-2.6/image-to-image/llms.txt
- text-to-image: https://shortapi.ai/models/alibaba/wan-2.6/text-to-image/llms.txt
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from wan26.errors import ConfigError, InvalidRequest, ProtocolError, ProviderError, Violation
from wan26.images import ImageRules
from wan26.limits import ModeLimits, Range
from wan26.pricing import Price
from wan26.providers import _shortapi_errors
from wan26.providers._base import (
    Credentials,
    HttpCall,
    JSONObject,
    ModelOffer,
    OutputImage,
    ProviderFacts,
    ProviderOutput,
    TaskState,
    TaskStatus,
    WireRequest,
)
from wan26.providers._wire import bearer, text
from wan26.types import Flow, Mode, Model, Size, SizeSpec

_MODELS = {Mode.TEXT_TO_IMAGE: "alibaba/wan-2.6/text-to-image", Mode.EDIT: "alibaba/wan-2.6/image-to-image"}

LIMITS = {  # both llms.txt schemas: no seed, no watermark
    Mode.TEXT_TO_IMAGE: ModeLimits(
        prompt_max=2100,
        negative_max=500,
        side=Range(640, 2880),
        pixels=Range(1280 * 1280, 1440 * 1440),
        images=Range(0, 0),
        n=Range(1, 4),
        seed=None,
        watermark=False,
    ),
    Mode.EDIT: ModeLimits(
        prompt_max=2000,
        negative_max=500,
        side=Range(384, 2560),
        pixels=Range(768 * 768, 1280 * 1280),
        images=Range(1, 4),
        n=Range(1, 4),
        default_size=Size(1280, 1280),  # width and height are both required for image-to-image
        seed=None,
        watermark=False,
    ),
}
RECOMMENDED_SIZES = {
    Mode.TEXT_TO_IMAGE: (Size(1280, 1280), Size(1440, 1440), Size(2560, 768), Size(768, 2560)),
    Mode.EDIT: (Size(1280, 1280), Size(1024, 1024), Size(1280, 960), Size(960, 1280), Size(1280, 720)),
}
# Image URLs only: the image-to-image llms.txt documents no base64 input, and there is no upload route.
IMAGE_RULES = ImageRules(accepts_local=False)

# Only 2 (succeeded) is documented [C] (both llms.txt); 0 queued, 1 processing, 3 failed are our reading [I].
_JOB_STATUSES = {
    0: (TaskStatus.QUEUED, "queued"),
    1: (TaskStatus.RUNNING, "processing"),
    2: (TaskStatus.SUCCEEDED, "succeeded"),
    3: (TaskStatus.FAILED, "failed"),
}


FACTS = ProviderFacts(
    name="shortapi",
    title="ShortAPI",
    key_env="SHORTAPI_API_KEY",
    base_url_env="SHORTAPI_BASE_URL",
    default_base_url="https://api.shortapi.ai/api/v1",
    key_help="Create a key in your ShortAPI dashboard: https://shortapi.ai",
    # 2.6 only: no Wan 2.7 image model is listed (only a 2.7 image-to-video one).
    offers={
        Model.WAN26: ModelOffer(
            ids=_MODELS,
            limits=LIMITS,
            recommended_sizes=RECOMMENDED_SIZES,
            image_rules=IMAGE_RULES,
            price=Price(0.026, "ShortAPI's list price"),
        )
    },
    default_flow=Flow.TASK,  # the only one: every generation is a job (both llms.txt)
)


class ShortAPI:
    """Tasks only: job/create, then job/query."""

    facts = FACTS

    def build_submit(self, wire: WireRequest, creds: Credentials) -> HttpCall:
        # No callback_url: the core polls job/query instead (both llms.txt show both ways).
        body = {"model": FACTS.model_id(wire.request.model, wire.request.mode), "args": _args(wire)}
        headers = bearer(creds)
        return HttpCall("POST", f"{creds.base_url}/job/create", headers, body)

    def build_poll(self, task_id: str, creds: Credentials) -> HttpCall:
        url = f"{creds.base_url}/job/query?id={quote(task_id, safe='')}"
        return HttpCall("GET", url, bearer(creds, json_body=False))

    def parse_submit(self, body: JSONObject, sent: HttpCall | None = None) -> TaskState:
        self._raise_if_refused(body, task_id=None)
        # [D] ShortAPI's docs show job_id both inside `data` (the llms.txt JSON) and at the top level: read
        # both, `data` first. https://shortapi.ai/models/alibaba/wan-2.6/image-to-image/llms.txt
        data = body.get("data")
        sources = (data, body) if isinstance(data, dict) else (body,)
        job_id = next((text(source.get("job_id")) for source in sources if text(source.get("job_id"))), None)
        if job_id is None:
            raise ProtocolError(f"job/create answered without a job_id: {body!r:.200}", provider=FACTS.name)
        # `amount` is the USD charge as a string, e.g. "0.02" (the image-to-image llms.txt).
        amount = next((source["amount"] for source in sources if source.get("amount") is not None), None)
        return TaskState(job_id, TaskStatus.QUEUED, "queued", cost_usd=_amount(amount))

    def parse_task(self, body: JSONObject, task_id: str, expected_images: int | None = None) -> TaskState:
        data = self._data(body, task_id=task_id)
        raw = data.get("status")
        if not isinstance(raw, int) or isinstance(raw, bool) or raw not in _JOB_STATUSES:
            raise ProtocolError(f"unknown job status {raw!r}", provider=FACTS.name, task_id=task_id)
        status, name = _JOB_STATUSES[raw]
        if status is TaskStatus.SUCCEEDED:
            return TaskState(task_id, status, name, output=self._output(data, task_id))
        if status is TaskStatus.FAILED:
            return TaskState(task_id, status, name, error=self._job_error(data, task_id))
        return TaskState(task_id, status, name)

    def parse_error(self, status: int, body: JSONObject | None, headers: Mapping[str, str]) -> ProviderError:
        return _shortapi_errors.to_error(status, body or {}, headers, provider=FACTS.name)

    def _data(self, body: JSONObject, task_id: str | None) -> JSONObject:
        """`data` of a `code: 0` answer."""
        self._raise_if_refused(body, task_id)
        data = body.get("data")
        if not isinstance(data, dict):
            raise ProtocolError(f"no data object in the answer: {body!r:.200}", provider=FACTS.name, task_id=task_id)
        return data

    def _raise_if_refused(self, body: JSONObject, task_id: str | None) -> None:
        # [I] A non-zero code is an error even with HTTP 200 (how third-party integrations read it).
        if body.get("code", 0) not in (0, "0"):
            raise _shortapi_errors.to_error(200, body, {}, provider=FACTS.name, task_id=task_id)

    def _output(self, data: JSONObject, task_id: str) -> ProviderOutput:
        result = data.get("result")
        images = result.get("images") if isinstance(result, dict) else None
        entries = images if isinstance(images, list) else []
        urls = [entry["url"] for entry in entries if isinstance(entry, dict) and text(entry.get("url"))]
        if not urls:  # the whole body, uncut: a URL cut short would be lost
            raise ProtocolError(
                f"the job succeeded without result.images[].url: {data!r}", provider=FACTS.name, task_id=task_id
            )
        # An entry without a URL is skipped with a note: the others were made and billed.
        skipped = len(entries) - len(urls)
        notes = (
            (f"skipped {skipped} result entr{'y' if skipped == 1 else 'ies'} without an image URL",) if skipped else ()
        )
        return ProviderOutput(tuple(OutputImage(url) for url in urls), notes=notes)

    def _job_error(self, data: JSONObject, task_id: str) -> ProviderError:
        # The failure payload is undocumented [?]: the text is read from error / message / info if present.
        return _shortapi_errors.to_error(None, data, {}, provider=FACTS.name, task_id=task_id)


def _args(wire: WireRequest) -> JSONObject:
    """`args` as both llms.txt schemas list them: no seed, no watermark."""
    request = wire.request
    args: JSONObject = {"prompt": request.prompt, "num_images": request.n, "prompt_extend": request.prompt_extend}
    if request.negative_prompt:
        args["negative_prompt"] = request.negative_prompt
    args |= _size_args(request.size)
    if request.mode is Mode.EDIT:
        args["image_urls"] = _image_urls(wire)
    return args


def _size_args(size: SizeSpec) -> JSONObject:
    # Edit always has a size here (LIMITS default_size); text-to-image may leave it to ShortAPI.
    if size is None:
        return {}
    if not isinstance(size, Size):
        raise ConfigError(f"ShortAPI takes width × height, not the {size} tier")
    return {"width": size.width, "height": size.height}


def _image_urls(wire: WireRequest) -> list[str]:
    # Public URLs only: base64 input is undocumented (llms.txt); images.py refuses local files first.
    for number, image in enumerate(wire.images, start=1):
        if not image.wire.startswith(("http://", "https://")):
            raise InvalidRequest([Violation(f"image {number}", "ShortAPI takes image URLs only")])
    return [image.wire for image in wire.images]


def _amount(value: object) -> float | None:
    """The charge in USD; None when missing or unreadable (never fail a job that is already billed)."""
    try:
        return float(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else None
    except ValueError:
        return None
