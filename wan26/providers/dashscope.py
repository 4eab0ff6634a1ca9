"""Alibaba Cloud DashScope (Model Studio), the model's own API.

The vendor's pages, cited below by name:
- API reference (wan2.6-image; hosts, sync, streaming, tasks, limits):
  https://www.alibabacloud.com/help/en/model-studio/wan-image-generation-api-reference
  newer, in Chinese: https://help.aliyun.com/zh/model-studio/wan-image-generation-api-reference
- text-to-image reference (wan2.6-t2i):
  https://platform.qianwenai.com/docs/api-reference/image-generation/wan-text-to-image-v2/synchronous
- task query page (statuses, lifetimes):
  https://platform.qianwenai.com/docs/api-reference/image-generation/wan26-image-gen-edit/query-result
- error codes: https://www.alibabacloud.com/help/en/model-studio/error-code
- pricing: https://help.aliyun.com/zh/model-studio/model-pricing
- rate limits: https://help.aliyun.com/zh/model-studio/rate-limit
  (international: https://www.alibabacloud.com/help/en/model-studio/rate-limit)
- official SDK: https://pypi.org/project/dashscope/ (2.0.2)
- Wan 2.7 (wan2.7-image, wan2.7-image-pro): see wan26/providers/_wan27.py
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import quote

from wan26._sse import SSEEvent
from wan26.errors import ProtocolError, ProviderError
from wan26.images import DASHSCOPE_IMAGE_RULES, WAN27_IMAGE_RULES
from wan26.limits import ModeLimits, Range
from wan26.pricing import Price
from wan26.providers import _dashscope_errors, _wan27
from wan26.providers._base import (
    Credentials,
    HttpCall,
    JSONObject,
    ModelOffer,
    OutputImage,
    OutputItem,
    OutputText,
    ProviderFacts,
    ProviderOutput,
    Regions,
    TaskState,
    TaskStatus,
    WireRequest,
)
from wan26.providers._wire import bearer, read_items
from wan26.types import Flow, Mode, Model, Size, SizeTier

REGION_BASE_URLS = {
    "intl": "https://dashscope-intl.aliyuncs.com/api/v1",  # Singapore
    "cn": "https://dashscope.aliyuncs.com/api/v1",  # Beijing
    "us": "https://dashscope-us.aliyuncs.com/api/v1",  # Virginia
}
_DIRECT_PATH = "/services/aigc/multimodal-generation/generation"
_SUBMIT_PATH = "/services/aigc/image-generation/generation"
_MODELS = {Mode.TEXT_TO_IMAGE: "wan2.6-t2i", Mode.EDIT: "wan2.6-image", Mode.INTERLEAVE: "wan2.6-image"}
# 2.7 is served in Singapore and Beijing only: the 2.7 API reference lists those hosts, and the pricing
# page's Virginia table has no 2.7 (https://help.aliyun.com/zh/model-studio/model-pricing).
_WAN27_REGIONS = frozenset({"intl", "cn"})
# One model per tier does every 2.7 mode (2.7 API reference, see _wan27).
_MODELS_27, _MODELS_27_PRO = (
    dict.fromkeys(_wan27.LIMITS, "wan2.7-image"),
    dict.fromkeys(_wan27.LIMITS, "wan2.7-image-pro"),
)

# [D] The text-to-image reference gives [1280*1280, 1440*1440] total pixels yet recommends four sizes
# just below 1280*1280; we accept exactly those as well.
_T2I_BELOW_MINIMUM = frozenset({Size(1104, 1472), Size(1472, 1104), Size(960, 1696), Size(1696, 960)})

LIMITS = {  # the API and text-to-image references (the newer docs where versions disagree)
    Mode.TEXT_TO_IMAGE: ModeLimits(
        prompt_max=2100,
        negative_max=500,
        pixels=Range(1280 * 1280, 1440 * 1440),
        also_allowed=_T2I_BELOW_MINIMUM,
        images=Range(0, 0),
        n=Range(1, 4),
    ),
    Mode.EDIT: ModeLimits(
        prompt_max=2000,
        negative_max=500,
        pixels=Range(768 * 768, 2048 * 2048),
        images=Range(1, 4),
        n=Range(1, 4),
        size_tiers=frozenset({SizeTier.K1, SizeTier.K2}),
    ),
    Mode.INTERLEAVE: ModeLimits(
        prompt_max=2000,
        negative_max=500,
        pixels=Range(768 * 768, 1280 * 1280),
        images=Range(0, 1),
        max_images=Range(1, 5),
        prompt_extend=False,
    ),
}

RECOMMENDED_SIZES = {  # the recommended resolutions of the API and text-to-image references
    Mode.TEXT_TO_IMAGE: (Size(1280, 1280), Size(1104, 1472), Size(1472, 1104), Size(960, 1696), Size(1696, 960)),
    Mode.EDIT: (
        Size(1280, 1280),
        Size(800, 1200),
        Size(1200, 800),
        Size(960, 1280),
        Size(1280, 960),
        Size(720, 1280),
        Size(1280, 720),
        Size(1344, 576),
    ),
}
RECOMMENDED_SIZES[Mode.INTERLEAVE] = RECOMMENDED_SIZES[Mode.EDIT]

_TASK_STATUSES = {  # the task query page; CANCELLED is a spelling the t2i reference uses once
    "PENDING": TaskStatus.QUEUED,
    "RUNNING": TaskStatus.RUNNING,
    "SUCCEEDED": TaskStatus.SUCCEEDED,
    "FAILED": TaskStatus.FAILED,
    "CANCELED": TaskStatus.CANCELED,
    "CANCELLED": TaskStatus.CANCELED,
    "UNKNOWN": TaskStatus.UNKNOWN,
    # The official SDK has a SUSPENDED constant the docs never show: it ends the wait,
    # with its own explanation (_dashscope_errors.task_error), rather than polling to the deadline.
    "SUSPENDED": TaskStatus.FAILED,
}


FACTS = ProviderFacts(
    name="dashscope",
    title="Alibaba Cloud DashScope",
    key_env="DASHSCOPE_API_KEY",
    base_url_env="DASHSCOPE_BASE_URL",
    default_base_url=REGION_BASE_URLS["intl"],
    key_help=(
        "Create a key in Alibaba Cloud Model Studio: https://www.alibabacloud.com/help/en/model-studio/get-api-key"
    ),
    offers={
        Model.WAN26: ModelOffer(
            ids=_MODELS,
            limits=LIMITS,
            recommended_sizes=RECOMMENDED_SIZES,
            image_rules=DASHSCOPE_IMAGE_RULES,
            # Pricing page: Singapore 0.220177 CNY ≈ US$0.03; Beijing and Virginia 0.20 CNY.
            price=Price(0.03, "Singapore list price; 0.20 CNY in Beijing and Virginia"),
        ),
        # [U] In US$ at the rate 2.6's prices imply (0.220177 CNY ≈ US$0.03); Beijing and Singapore
        # only: the pricing page's Virginia table has no 2.7.
        Model.WAN27: ModelOffer(
            ids=_MODELS_27,
            limits=_wan27.LIMITS,
            recommended_sizes=_wan27.RECOMMENDED_SIZES,
            image_rules=WAN27_IMAGE_RULES,
            price=Price(0.03, "Singapore list price 0.220177 CNY; 0.20 CNY in Beijing"),
            regions=_WAN27_REGIONS,
        ),
        Model.WAN27_PRO: ModelOffer(
            ids=_MODELS_27_PRO,
            limits=_wan27.PRO_LIMITS,
            recommended_sizes=_wan27.PRO_RECOMMENDED_SIZES,
            image_rules=WAN27_IMAGE_RULES,
            price=Price(0.075, "Singapore list price 0.562065 CNY; 0.50 CNY in Beijing"),
            regions=_WAN27_REGIONS,
        ),
    },
    # Direct: it answers as soon as the images exist and streams interleave (README, "Flows").
    default_flow=Flow.DIRECT,
    # 5 tasks at once per Alibaba Cloud account (all its keys together), for wan2.6-image and wan2.6-t2i:
    # https://help.aliyun.com/zh/model-studio/rate-limit, https://www.alibabacloud.com/help/en/model-studio/rate-limit
    max_concurrent_per_key=5,
    # and 5 task submissions per second (the same pages; the Beijing wan2.6-t2i row reads 1, which we
    # take for a typo: every other region and model says 5).
    submissions_per_second=5.0,
    regions=Regions("DASHSCOPE_REGION", REGION_BASE_URLS),
)


class DashScope:
    """Every flow: a direct call, a stream for interleave, and tasks."""

    facts = FACTS

    def build_direct(self, wire: WireRequest, creds: Credentials) -> HttpCall:
        if wire.request.mode is Mode.INTERLEAVE:  # the direct endpoint answers interleave only as a stream
            return self.build_stream(wire, creds)
        return HttpCall("POST", creds.base_url + _DIRECT_PATH, bearer(creds), self._body(wire))

    def build_stream(self, wire: WireRequest, creds: Credentials) -> HttpCall:
        # Interleaved output is streaming-only on the direct endpoint (API reference).
        body = self._body(wire)
        body["parameters"]["stream"] = True
        headers = {**bearer(creds), "X-DashScope-Sse": "enable", "Accept": "text/event-stream"}
        return HttpCall("POST", creds.base_url + _DIRECT_PATH, headers, body, stream=True)

    def build_submit(self, wire: WireRequest, creds: Credentials) -> HttpCall:
        headers = {**bearer(creds), "X-DashScope-Async": "enable"}  # required (API reference)
        return HttpCall("POST", creds.base_url + _SUBMIT_PATH, headers, self._body(wire))

    def build_poll(self, task_id: str, creds: Credentials) -> HttpCall:
        url = f"{creds.base_url}/tasks/{quote(task_id, safe='')}"  # an id typed by a user stays one path segment
        return HttpCall("GET", url, bearer(creds, json_body=False))

    def parse_output(self, body: JSONObject, headers: Mapping[str, str]) -> ProviderOutput:
        self._raise_if_error(body, headers)
        return _output(body.get("output"), body, headers, whole=True)

    def parse_stream_event(self, event: SSEEvent) -> ProviderOutput:
        body = _json_object(event.data)
        if event.event == "error":
            raise self.parse_error(_status_from_comments(event.comments), body, {})
        self._raise_if_error(body, {})
        # One event is one item (API reference): a skipped one leaves an empty chunk, not an error.
        return _output(body.get("output"), body, {}, whole=False)

    def parse_submit(self, body: JSONObject, sent: HttpCall | None = None) -> TaskState:
        return self.parse_task(body, task_id="", expected_images=None)

    def parse_task(self, body: JSONObject, task_id: str, expected_images: int | None = None) -> TaskState:
        output = body.get("output")
        if not isinstance(output, dict):
            # One documented FAILED shape has only top-level code/message (the API reference's "Task error").
            error = _dashscope_errors.to_error(None, body, {}, provider=FACTS.name)
            error.task_id = task_id
            return TaskState(task_id, TaskStatus.FAILED, "FAILED", body.get("request_id"), error=error)
        return self._task_state(body, output, task_id)

    def parse_error(self, status: int, body: JSONObject | None, headers: Mapping[str, str]) -> ProviderError:
        return _dashscope_errors.to_error(status, body or {}, headers, provider=FACTS.name)

    def _task_state(self, body: JSONObject, output: JSONObject, task_id: str) -> TaskState:
        raw = str(output.get("task_status", ""))
        status = _TASK_STATUSES.get(raw)
        task_id = str(output.get("task_id") or task_id)
        request_id = body.get("request_id")
        if status is None:
            raise ProtocolError(
                f"unknown task status {raw!r}", provider=FACTS.name, request_id=request_id, task_id=task_id
            )
        result = _output(output, body, {}, whole=True) if status is TaskStatus.SUCCEEDED else None
        error = _dashscope_errors.task_error(status, raw, body, output, provider=FACTS.name, task_id=task_id)
        return TaskState(task_id, status, raw, request_id, output=result, error=error)

    def _raise_if_error(self, body: JSONObject, headers: Mapping[str, str]) -> None:
        # The gateway may answer HTTP 200 with a business error in the body (official SDK, dashscope/v2/errors.py).
        if body.get("code"):
            raise self.parse_error(200, body, headers)

    def _body(self, wire: WireRequest) -> JSONObject:
        return dashscope_body(wire, FACTS.model_id(wire.request.model, wire.request.mode))


def dashscope_body(wire: WireRequest, model: str) -> JSONObject:
    """DashScope's request body; resellers that forward it as is (Vtrix) build theirs with this. 2.6
    and 2.7 share the envelope and differ in `parameters`."""
    content = [{"text": wire.request.prompt}, *({"image": image.wire} for image in wire.images)]
    parameters = _parameters(wire) if wire.request.model is Model.WAN26 else _wan27_parameters(wire)
    return {"model": model, "input": {"messages": [{"role": "user", "content": content}]}, "parameters": parameters}


def _wan27_parameters(wire: WireRequest) -> JSONObject:
    # The checks fill in the mode's default size (2K); a WireRequest built by hand may lack it.
    return _wan27.parameters(wire, _wire_size(wire.request.size or SizeTier.K2))


def _parameters(wire: WireRequest) -> JSONObject:
    """`parameters` for the request; negative_prompt and seed live here, not in input (API reference)."""
    request = wire.request
    parameters: JSONObject = {"watermark": request.watermark}
    if request.negative_prompt:
        parameters["negative_prompt"] = request.negative_prompt
    if wire.seed is not None:
        parameters["seed"] = wire.seed
    if request.size is not None:
        parameters["size"] = _wire_size(request.size)
    if request.mode is Mode.INTERLEAVE:
        return parameters | {"enable_interleave": True, "max_images": request.max_images}
    # n is always sent: the API's default is 4 images, each billed (API reference).
    parameters |= {"n": request.n, "prompt_extend": request.prompt_extend}
    return parameters | ({"enable_interleave": False} if request.mode is Mode.EDIT else {})


def _wire_size(size: Size | SizeTier) -> str:
    return size.value if isinstance(size, SizeTier) else f"{size.width}*{size.height}"  # '*', not 'x'


def _output(output: object, body: JSONObject, headers: Mapping[str, str], *, whole: bool) -> ProviderOutput:
    """The items in order; `whole` is a complete answer (not one stream event), which must hold something."""
    choices = output.get("choices") if isinstance(output, dict) else None
    request_id = body.get("request_id") or headers.get("x-request-id")
    if not isinstance(choices, list):
        raise ProtocolError("no output.choices in the answer", provider="dashscope", request_id=request_id)
    read = [_choice_items(choice) for choice in choices]
    items = tuple(item for choice_items, _ in read for item in choice_items)
    notes = tuple(note for _, choice_notes in read for note in choice_notes)
    if whole and notes and not items:
        raise ProtocolError(
            f"nothing usable in the answer ({'; '.join(notes)})", provider="dashscope", request_id=request_id
        )
    finished = any(isinstance(c, dict) and c.get("finish_reason") == "stop" for c in choices)
    reported = body.get("usage")
    usage: JSONObject = reported if isinstance(reported, dict) else {}
    return ProviderOutput(items, request_id, usage, usage.get("size"), finished, notes=notes)


def _choice_items(choice: object) -> tuple[list[OutputItem], list[str]]:
    """The choice's items, and a note for each entry skipped.

    The API reference shows only image and text items; anything else is skipped with a note rather
    than discarding the images of a finished, billed run.
    """
    message = choice.get("message") if isinstance(choice, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return [], [f"skipped an output choice without message.content: {choice!r:.80}"]
    return read_items(content, _item, {"image": "'image' field", "text": "'text' field"})


def _item(entry: object) -> OutputItem | None:
    # Response items carry "type"; an image is always one complete URL (API reference). A type we do
    # not know is skipped even if it has a text field: its text is not the answer's.
    kind = entry.get("type", "") if isinstance(entry, dict) else None
    if not isinstance(entry, dict) or kind not in ("", "image", "text"):
        return None
    if kind != "text" and isinstance(entry.get("image"), str) and entry["image"]:
        return OutputImage(entry["image"])
    if kind != "image" and isinstance(entry.get("text"), str):
        return OutputText(entry["text"])
    return None


def _json_object(data: str) -> JSONObject:
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise ProtocolError(f"stream event is not JSON: {data[:200]!r}", provider="dashscope") from exc
    if not isinstance(value, dict):
        raise ProtocolError(f"stream event is not a JSON object: {data[:200]!r}", provider="dashscope")
    return value


def _status_from_comments(comments: tuple[str, ...]) -> int:
    """`:HTTP_STATUS/400` comment lines carry the status of an in-stream error: [U] DashScope's usual stream
    framing, which the API reference does not show for this model."""
    for comment in comments:
        if comment.startswith("HTTP_STATUS/") and comment[12:].isdigit():
            return int(comment[12:])
    return 400  # the official SDK's default for event:error
