"""AI/ML API (aimlapi.com): `POST /v1/images/generations`, model `alibaba/wan-2-6-image`, synchronous.

Wire reference: ../shared/reference/providers.md §1; seed 000; the vendor's page at
https://docs.aimlapi.com/api-references/image-models/alibaba-cloud/wan-2-6-image
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from wan26._sse import SSEEvent
from wan26.errors import ConfigError, ProtocolError, ProviderError
from wan26.images import DASHSCOPE_IMAGE_RULES
from wan26.limits import ModeLimits, Range
from wan26.pricing import Price
from wan26.providers import _aimlapi_errors
from wan26.providers._base import Credentials, HttpCall, JSONObject, OutputImage, ProviderOutput, TaskState, WireRequest
from wan26.providers._wire import bearer
from wan26.types import Flow, Mode, Size

_PATH = "/v1/images/generations"  # the spec also lists it without /v1 (providers.md §1)
MODEL = "alibaba/wan-2-6-image"  # one model for both modes; no separate t2i id exists (providers.md §1)

_TEXT_TO_IMAGE = ModeLimits(
    prompt_max=2000,
    negative_max=500,
    side=Range(512, 1440),  # image_size.width/height: 512–1440, multiples of 32 (seed 000 schema)
    pixels=Range(512 * 512, 1440 * 1440),
    side_multiple=32,
    n=Range(1, 4),
    one_image_per_call=True,  # the schema has no n: one image per call (providers.md §1)
    images=Range(0, 0),
)
LIMITS = {
    Mode.TEXT_TO_IMAGE: _TEXT_TO_IMAGE,
    Mode.EDIT: replace(_TEXT_TO_IMAGE, images=Range(1, 3)),  # image_urls: 1–3 items
}
_SIZES = (Size(1280, 1280), Size(1024, 768), Size(768, 1024), Size(1152, 768), Size(768, 1152), Size(1344, 768))
RECOMMENDED_SIZES = {Mode.TEXT_TO_IMAGE: _SIZES, Mode.EDIT: _SIZES}


class AIMLAPI:
    name = "aimlapi"
    title = "AI/ML API"
    key_env = "AIMLAPI_API_KEY"
    base_url_env = "AIMLAPI_BASE_URL"
    key_help = "Create a key at https://aimlapi.com/app/keys"
    flows = frozenset({Flow.DIRECT})  # no polling endpoint for images (providers.md §1)
    default_flow = Flow.DIRECT
    # Annotated as the protocol's read-only Mapping: a plain dict attribute does not match Adapter.
    limits: Mapping[Mode, ModeLimits] = LIMITS
    recommended_sizes: Mapping[Mode, tuple[Size, ...]] = RECOMMENDED_SIZES
    image_rules = DASHSCOPE_IMAGE_RULES  # forwarded to DashScope, whose input rules apply
    price = Price(0.039, "AI/ML API's example charge per image")
    max_concurrent_per_key: int | None = None  # no figure documented

    def model_for(self, mode: Mode) -> str:
        return MODEL

    def base_url(self, env: Mapping[str, str]) -> str:
        return (env.get(self.base_url_env) or "https://api.aimlapi.com").rstrip("/")

    def build_direct(self, wire: WireRequest, creds: Credentials) -> HttpCall:
        headers = bearer(creds)
        return HttpCall("POST", creds.base_url + _PATH, headers, self._body(wire))

    def build_submit(self, wire: WireRequest, creds: Credentials) -> HttpCall:
        raise ConfigError(_NO_TASKS)

    def build_poll(self, task_id: str, creds: Credentials) -> HttpCall:
        raise ConfigError(_NO_TASKS)

    def parse_output(self, body: JSONObject, headers: Mapping[str, str]) -> ProviderOutput:
        request_id = headers.get("x-inference-id")  # the id the charge is recorded under (request tracing page)
        if not isinstance(body.get("data"), list) and "statusCode" in body:
            raise self.parse_error(_aimlapi_errors.status_of(body, 500), body, headers)  # [I] an envelope on 2xx
        usage = _usage(body)
        items = _images(body.get("data"), request_id)
        return ProviderOutput(items, request_id, usage, cost_usd=_cost_usd(usage, headers))

    def parse_stream_event(self, event: SSEEvent) -> ProviderOutput:
        raise ProtocolError("AI/ML API does not stream image generations", provider=self.name)

    def parse_submit(self, body: JSONObject, sent: HttpCall | None = None) -> TaskState:
        raise ProtocolError(_NO_TASKS, provider=self.name)

    def parse_task(self, body: JSONObject, task_id: str, expected_images: int | None = None) -> TaskState:
        raise ProtocolError(_NO_TASKS, provider=self.name, task_id=task_id)

    def parse_error(self, status: int, body: JSONObject | None, headers: Mapping[str, str]) -> ProviderError:
        return _aimlapi_errors.to_error(status, body or {}, headers, provider=self.name)

    def _body(self, wire: WireRequest) -> JSONObject:
        """One image per call: the schema has no `n`, the core fans n > 1 out (providers.md §1)."""
        request = wire.request
        body: JSONObject = {"model": MODEL, "prompt": request.prompt}
        if isinstance(request.size, Size):  # absent: the vendor's default, landscape_4_3
            body["image_size"] = {"width": request.size.width, "height": request.size.height}
        if request.mode is Mode.EDIT:
            # [?] "URLs or local Base64 encoded images": we send data URIs, not bare base64 (providers.md §1).
            body["image_urls"] = [image.wire for image in wire.images]
        if request.negative_prompt:
            body["negative_prompt"] = request.negative_prompt
        if wire.seed is not None:
            body["seed"] = wire.seed
        # enhance_prompt defaults to true and watermark to false upstream; both are always sent.
        return body | {"enhance_prompt": request.prompt_extend, "watermark": request.watermark}


_NO_TASKS = "AI/ML API answers image generations directly; it has no task flow to submit or poll"


def _images(data: object, request_id: str | None) -> tuple[OutputImage, ...]:
    if not isinstance(data, list) or not data:
        raise ProtocolError(f"no images in the answer (data={data!r:.200})", provider="aimlapi", request_id=request_id)
    return tuple(_image(item, request_id) for item in data)


def _image(item: object, request_id: str | None) -> OutputImage:
    url = item.get("url") if isinstance(item, dict) else None
    if isinstance(url, str) and url:
        return OutputImage(url)
    if isinstance(item, dict) and item.get("b64_json"):
        # The schema allows b64_json, but results are always saved from a URL (no response_format exists).
        raise ProtocolError(
            "the image came back inline as b64_json, not as a URL; wan26 can only save URL results",
            provider="aimlapi",
            request_id=request_id,
        )
    raise ProtocolError(f"an image item has no url: {item!r:.200}", provider="aimlapi", request_id=request_id)


def _usage(body: JSONObject) -> JSONObject:
    meta = body.get("meta")
    usage = meta.get("usage") if isinstance(meta, dict) else None
    return usage if isinstance(usage, dict) else {}


def _cost_usd(usage: JSONObject, headers: Mapping[str, str]) -> float | None:
    """`meta.usage.usd_spent`, else the `x-aimlapi-usd-spent` header (request tracing page)."""
    for value in (usage.get("usd_spent"), headers.get("x-aimlapi-usd-spent")):
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            try:
                return float(value)
            except ValueError:
                continue
    return None
