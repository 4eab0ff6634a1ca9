"""Wan 2.7 Image as Alibaba documents it: what each mode accepts, the sizes it recommends, and the
`parameters` of its body. DashScope sends these; Vtrix forwards the same body, so it reads them too.

The vendor's pages, cited below by name:
- API reference (2.7, in Chinese; the English twin shows only its first screen):
  https://help.aliyun.com/zh/model-studio/wan-image-generation-and-editing-api-reference
  https://www.alibabacloud.com/help/en/model-studio/wan-image-generation-and-editing-api-reference
- OpenAPI schema: https://platform.qianwenai.com/docs/api-reference/image-generation/wan27-image-gen-edit/create-task
- text-to-image guide (sizes, what 2.7 lacks):
  https://platform.qianwenai.com/docs/developer-guides/image-generation/text-to-image
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from wan26.limits import ModeLimits, Range
from wan26.providers._base import JSONObject, WireRequest
from wan26.types import Mode, PaletteColor, Size, SizeTier

# Every 2.7 mode: prompts up to 5000 characters; no negative prompt and no prompt rewriting (the
# guide: "wan2.7-image-pro 和 wan2.7-image 不支持 negative_prompt"); W×H within 768²–2048² pixels at
# 1:8–8:1; tiers 1K and 2K. [D] `size` defaults to 2K and `n` to 1 or 4 depending on the page, so
# both are always sent. [U] No page bounds a side or asks for a multiple; sides step by 16 here, a
# safe subset that the sizes the pages recommend all meet.
_COMMON = ModeLimits(
    prompt_max=5000,
    negative_max=0,
    negative_prompt=False,
    prompt_extend=False,
    pixels=Range(768 * 768, 2048 * 2048),
    ratio_max=Fraction(8),
    size_tiers=frozenset({SizeTier.K1, SizeTier.K2}),
    default_size=SizeTier.K2,
    images=Range(0, 0),
    n=Range(1, 4),
    palette=Range(3, 10),  # 3–10 colours, not in image sets (API reference)
)
LIMITS = {
    # Thinking mode works only with no reference and not in a set (API reference).
    Mode.TEXT_TO_IMAGE: replace(_COMMON, thinking=True),
    # 1–9 references; at most 2 boxes on each (bbox_list, API reference).
    Mode.EDIT: replace(_COMMON, images=Range(1, 9), boxes_per_image=2),
    # n is the most the model may make (1–12); no palette, no thinking in a set (API reference). [U]
    # Boxes with a set: one skill's note says not to; no official page says either way, so none here.
    Mode.IMAGE_SET: replace(_COMMON, images=Range(0, 9), n=Range(1, 12), n_is_most=True, palette=None),
}
# Pro: 4K, and W×H up to 4096², for text to image only; its sets and edits stay within 2K (API reference).
PRO_LIMITS = {
    **LIMITS,
    Mode.TEXT_TO_IMAGE: replace(
        LIMITS[Mode.TEXT_TO_IMAGE], pixels=Range(768 * 768, 4096 * 4096), size_tiers=frozenset(SizeTier)
    ),
}

_SIZES_2K = (Size(2048, 2048), Size(2688, 1536), Size(1536, 2688), Size(2368, 1728), Size(1728, 2368))
_SIZES_1K = (Size(1280, 1280), Size(1696, 960), Size(960, 1696), Size(1472, 1104), Size(1104, 1472))
_SIZES_4K = (Size(4096, 4096), Size(4096, 2304), Size(2304, 4096), Size(4096, 3072), Size(3072, 4096))
RECOMMENDED_SIZES = dict.fromkeys(LIMITS, _SIZES_2K + _SIZES_1K)  # the text-to-image guide's table
PRO_RECOMMENDED_SIZES = {**RECOMMENDED_SIZES, Mode.TEXT_TO_IMAGE: _SIZES_4K + _SIZES_2K + _SIZES_1K}


@dataclass(frozen=True, slots=True)
class OptionNames:
    """What a vendor calls 2.7's own options on the wire."""

    thinking: str
    sequential: str
    palette: str
    boxes: str


DASHSCOPE_NAMES = OptionNames("thinking_mode", "enable_sequential", "color_palette", "bbox_list")


def options(wire: WireRequest, names: OptionNames) -> JSONObject:
    """The 2.7 options the request uses, under the vendor's `names`; those it does not use are left out."""
    request, found = wire.request, JSONObject()
    if request.thinking is not None:
        found[names.thinking] = request.thinking
    if request.mode is Mode.IMAGE_SET:
        found[names.sequential] = True
    if request.palette:
        found[names.palette] = palette(request.palette)
    if request.boxes:
        found[names.boxes] = wire.boxes_per_image()
    return found


def parameters(wire: WireRequest, size: str) -> JSONObject:
    """`parameters` of a 2.7 body: size and n always; each other option only where the request uses it."""
    request = wire.request
    found: JSONObject = {"size": size, "n": request.n, "watermark": request.watermark}
    if wire.seed is not None:
        found["seed"] = wire.seed
    return found | options(wire, DASHSCOPE_NAMES)


def palette(colors: tuple[PaletteColor, ...]) -> list[JSONObject]:
    """Colours as both vendors that take them want them: a ratio is a string with two decimals, "25.00%"
    (API reference; Runware's colorPalette has the same fields: https://runware.ai/docs/models/alibaba-wan2-7-image)."""
    return [{"hex": color.hex.upper(), "ratio": color.percent} for color in colors]
