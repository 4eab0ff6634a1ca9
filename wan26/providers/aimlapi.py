"""AI/ML API (aimlapi.com): `POST /v1/images/generations`, model `alibaba/wan-2-6-image`, synchronous.

The vendor's pages, cited below by name:
- model page (with its OpenAPI schema): https://docs.aimlapi.com/api-references/image-models/alibaba-cloud/wan-2-6-image
- request tracing page: https://docs.aimlapi.com/capabilities/request-tracing-and-cost
- errors: https://docs.aimlapi.com/errors-and-messages/general-info
- Wan 2.7 model pages (schemas identical to 2.6's but for the model name):
  https://docs.aimlapi.com/api-references/image-models/alibaba-cloud/wan2.7-image,
  https://docs.aimlapi.com/api-references/image-models/alibaba-cloud/wan2.7-image-pro
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from wan26.errors import ProtocolError, ProviderError
from wan26.images import DASHSCOPE_IMAGE_RULES
from wan26.limits import ModeLimits, Range
from wan26.pricing import Price
from wan26.providers import _aimlapi_errors
from wan26.providers._base import (
    Credentials,
    HttpCall,
    JSONObject,
    ModelOffer,
    OutputImage,
    ProviderFacts,
    ProviderOutput,
    WireRequest,
)
from wan26.providers._wire import bearer
from wan26.types import Flow, Mode, Model, Size

_PATH = "/v1/images/generations"  # the schema also lists it without /v1 (model page)
# One model for both modes: the docs have no separate t2i id (https://github.com/aimlapi/api-docs).
MODEL = "alibaba/wan-2-6-image"

_TEXT_TO_IMAGE = ModeLimits(
    prompt_max=2000,
    negative_max=500,
    side=Range(512, 1440),  # image_size.width/height: 512–1440, multiples of 32 (model page schema)
    pixels=Range(512 * 512, 1440 * 1440),
    side_multiple=32,
    n=Range(1, 4),
    one_image_per_call=True,  # the schema has no n: one image per call (model page)
    images=Range(0, 0),
)
LIMITS = {
    Mode.TEXT_TO_IMAGE: _TEXT_TO_IMAGE,
    Mode.EDIT: replace(_TEXT_TO_IMAGE, images=Range(1, 3)),  # image_urls: 1–3 items
}
_SIZES = (Size(1280, 1280), Size(1024, 768), Size(768, 1024), Size(1152, 768), Size(768, 1152), Size(1344, 768))
RECOMMENDED_SIZES = {Mode.TEXT_TO_IMAGE: _SIZES, Mode.EDIT: _SIZES}
# [D] The 2.7 pages' enum spells the ids with dashes, their code samples with "wan2.7": the enum is the schema.
MODEL_27, MODEL_27_PRO = "alibaba/wan-2-7-image", "alibaba/wan-2-7-image-pro"
# [?] The 2.7 schemas are 2.6's with the name changed: their limits are taken as they are, less what
# 2.7 itself lacks or refuses: a negative prompt, prompt rewriting (neither is sent), and fewer than
# 768² pixels (https://help.aliyun.com/zh/model-studio/wan-image-generation-and-editing-api-reference).
LIMITS_27 = {
    mode: replace(
        limits, prompt_extend=False, negative_prompt=False, negative_max=0, pixels=Range(768 * 768, 1440 * 1440)
    )
    for mode, limits in LIMITS.items()
}
RECOMMENDED_SIZES_27 = {
    mode: tuple(s for s in sizes if s.pixels >= 768 * 768) for mode, sizes in RECOMMENDED_SIZES.items()
}
# Alibaba's 8:1 for references; the schema, a 2.6 copy, keeps 2.6's 10 MB.
_IMAGE_RULES_27 = replace(DASHSCOPE_IMAGE_RULES, max_ratio=8)


FACTS = ProviderFacts(
    name="aimlapi",
    title="AI/ML API",
    key_env="AIMLAPI_API_KEY",
    base_url_env="AIMLAPI_BASE_URL",
    default_base_url="https://api.aimlapi.com",
    key_help="Create a key at https://aimlapi.com/app/keys",
    offers={
        Model.WAN26: ModelOffer(
            ids=dict.fromkeys(LIMITS, MODEL),
            limits=LIMITS,
            recommended_sizes=RECOMMENDED_SIZES,
            image_rules=DASHSCOPE_IMAGE_RULES,  # forwarded to DashScope, whose input rules apply
            price=Price(0.039, "AI/ML API's example charge per image"),
        ),
        Model.WAN27: ModelOffer(
            ids=dict.fromkeys(LIMITS_27, MODEL_27),
            limits=LIMITS_27,
            recommended_sizes=RECOMMENDED_SIZES_27,
            image_rules=_IMAGE_RULES_27,
            price=Price(0.039, "AI/ML API's example charge per image"),
        ),
        Model.WAN27_PRO: ModelOffer(
            ids=dict.fromkeys(LIMITS_27, MODEL_27_PRO),
            limits=LIMITS_27,
            recommended_sizes=RECOMMENDED_SIZES_27,
            image_rules=_IMAGE_RULES_27,
            price=Price(0.0975, "AI/ML API's example charge per image"),
        ),
    },
    default_flow=Flow.DIRECT,  # the only one: the answer holds the images, no polling endpoint (model page)
)


class AIMLAPI:
    """Direct calls only: one image per call, answered in the response."""

    facts = FACTS

    def build_direct(self, wire: WireRequest, creds: Credentials) -> HttpCall:
        headers = bearer(creds)
        return HttpCall("POST", creds.base_url + _PATH, headers, self._body(wire))

    def parse_output(self, body: JSONObject, headers: Mapping[str, str]) -> ProviderOutput:
        request_id = headers.get("x-inference-id")  # the id the charge is recorded under (request tracing page)
        if not isinstance(body.get("data"), list) and "statusCode" in body:
            raise self.parse_error(_aimlapi_errors.status_of(body, 500), body, headers)  # [I] an envelope on 2xx
        usage = _usage(body)
        items = _images(body.get("data"), request_id)
        return ProviderOutput(items, request_id, usage, cost_usd=_cost_usd(usage, headers))

    def parse_error(self, status: int, body: JSONObject | None, headers: Mapping[str, str]) -> ProviderError:
        return _aimlapi_errors.to_error(status, body or {}, headers, provider=FACTS.name)

    def _body(self, wire: WireRequest) -> JSONObject:
        """One image per call: the schema has no `n`, the core fans n > 1 out (model page)."""
        request = wire.request
        body: JSONObject = {"model": FACTS.model_id(request.model, request.mode), "prompt": request.prompt}
        if isinstance(request.size, Size):  # absent: the vendor's default, landscape_4_3
            body["image_size"] = {"width": request.size.width, "height": request.size.height}
        if request.mode is Mode.EDIT:
            # [?] "URLs or local Base64 encoded images" (model page): we send data URIs, not bare base64.
            body["image_urls"] = [image.wire for image in wire.images]
        if request.negative_prompt:
            body["negative_prompt"] = request.negative_prompt
        if wire.seed is not None:
            body["seed"] = wire.seed
        body["watermark"] = request.watermark  # false upstream by default; always sent
        # enhance_prompt defaults to true upstream: always sent for 2.6, never for 2.7, which has no such option.
        return body | ({"enhance_prompt": request.prompt_extend} if request.model is Model.WAN26 else {})


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
