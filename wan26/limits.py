"""Limits are data (one `ModeLimits` per provider and mode); `violations()` is a pure check.

Every broken rule is reported with its field and the limit, all at once, before any network call.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import NoReturn

from wan26.errors import InvalidRequest, Violation
from wan26.types import Box, ImageRequest, Mode, Model, PaletteColor, Size, SizeTier, percent_of

SEED_MAX = 2_147_483_647
# Line breaks and tabs are kept: people paste multi-line prompts. Every other control character
# (NUL, ESC, ...) is invisible in a text box, and NUL may cut the text short further down the line.
ALLOWED_CONTROLS = frozenset("\n\r\t")


@dataclass(frozen=True, slots=True)
class Range:
    """An inclusive integer range."""

    low: int
    high: int

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.low}–{self.high}"


@dataclass(frozen=True, slots=True)
class ModeLimits:
    """What one provider accepts in one mode."""

    prompt_max: int
    negative_max: int
    pixels: Range  # total output pixels for an explicit W×H
    images: Range  # how many reference images
    side: Range | None = None  # each of width and height, where the vendor bounds them
    n: Range = Range(1, 1)
    max_images: Range | None = None  # interleave's upper bound on images, where it exists
    ratio_max: Fraction = Fraction(4)  # longest side / shortest side
    side_multiple: int = 16
    size_tiers: frozenset[SizeTier] = frozenset()
    also_allowed: frozenset[Size] = frozenset()  # documented sizes outside `pixels`, accepted as they are
    default_size: Size | SizeTier | None = None  # sent when the request names none (required, or a disputed default)
    one_image_per_call: bool = False  # n > 1 becomes n calls, each with its own seed
    seed: Range | None = Range(0, SEED_MAX)  # None: the provider takes no seed
    negative_prompt: bool = True
    prompt_extend: bool = True
    watermark: bool = True
    thinking: bool = False  # Wan 2.7's thinking mode can be switched
    palette: Range | None = None  # how many colours a palette may have; None: no palette here
    boxes_per_image: int = 0  # edit regions per reference image; 0: no box edits here
    n_is_most: bool = False  # n is a maximum: the model decides how many images it makes (image sets)
    direct_only: bool = False  # the vendor's task flow cannot tell when this mode's output is complete


def violations(request: ImageRequest, limits: ModeLimits) -> list[Violation]:
    """Every way `request` breaks `limits`; empty when it is fine."""
    if wrong_types := type_violations(request):  # a script's slip: its values cannot be measured
        return wrong_types
    return [
        *_prompt_violations(request, limits),
        *_size_violations(request.size, limits),
        *_count_violations(request, limits),
        *_option_violations(request, limits),
        *palette_violations(request.palette, limits),
        *box_violations(request.boxes, len(request.images), limits),
    ]


# The Python API takes what a script passes; its types are checked before any value is.
_TYPES: tuple[tuple[str, tuple[type, ...], str], ...] = (
    ("prompt", (str,), "text"),
    ("negative_prompt", (str,), "text"),
    ("n", (int,), "a whole number"),
    ("max_images", (int,), "a whole number"),
    ("seed", (int, type(None)), "a whole number or None"),
    ("size", (Size, SizeTier, type(None)), "a Size, a SizeTier or None (parse_size reads '1280x1280')"),
    ("prompt_extend", (bool,), "True or False"),
    ("watermark", (bool,), "True or False"),
)


_SIDES = ("width", "height")


def type_violations(request: ImageRequest) -> list[Violation]:
    """One violation per field holding a value of the wrong type (True is no number here), a
    Size's sides included."""
    fields = [(field, getattr(request, field), types, wanted) for field, types, wanted in _TYPES]
    if isinstance(request.size, Size):
        fields += [(f"size.{side}", getattr(request.size, side), (int,), "a whole number") for side in _SIDES]
    return [
        Violation(field, f"must be {wanted}, not {type(value).__name__} {value!r}")
        for field, value, types, wanted in fields
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
    ]


def check(request: ImageRequest, limits: ModeLimits) -> None:
    """Raise `InvalidRequest` listing every violation, or return when the request is fine."""
    found = violations(request, limits)
    if found:
        raise InvalidRequest(found)


def _prompt_violations(request: ImageRequest, limits: ModeLimits) -> list[Violation]:
    found = []
    if not request.prompt.strip():
        found.append(Violation("prompt", "is required"))
    # The API silently truncates over-long text; refusing is kinder. DashScope's API reference:
    # https://www.alibabacloud.com/help/en/model-studio/wan-image-generation-api-reference
    if len(request.prompt) > limits.prompt_max:
        found.append(Violation("prompt", _too_long(request.prompt, limits.prompt_max)))
    # Where there is no negative prompt at all (Wan 2.7), `_option_violations` says so: a length is no news.
    if limits.negative_prompt and len(request.negative_prompt) > limits.negative_max:
        found.append(Violation("negative_prompt", _too_long(request.negative_prompt, limits.negative_max)))
    for field, text in (("prompt", request.prompt), ("negative_prompt", request.negative_prompt)):
        found.extend(_control_violations(field, text))
    return found


def _control_violations(field: str, text: str) -> list[Violation]:
    """One violation per field, naming the first control character and how many there are."""
    found = [(at, char) for at, char in enumerate(text, start=1) if _is_refused_control(char)]
    if not found:
        return []
    at, char = found[0]  # positions count from 1, as a person counts characters
    code = f"U+{ord(char):04X}"
    if len(found) == 1:
        return [Violation(field, f"contains a control character ({code}) at position {at}; remove it")]
    message = f"contains {len(found)} control characters, the first ({code}) at position {at}; remove them"
    return [Violation(field, message)]


def _is_refused_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" and char not in ALLOWED_CONTROLS


def _too_long(text: str, limit: int) -> str:
    return f"is {len(text)} characters; the limit is {limit}"


def _size_violations(size: Size | SizeTier | None, limits: ModeLimits) -> list[Violation]:
    if size is None:
        return []  # the provider's default, or `limits.default_size`
    if isinstance(size, SizeTier):
        if size in limits.size_tiers:
            return []
        allowed = ", ".join(sorted(limits.size_tiers)) or "none in this mode"
        if size is SizeTier.K4 and limits.size_tiers:  # where tiers are taken, say where 4K is
            allowed += "; 4K is for Wan 2.7 Pro text to image only"
        return [Violation("size", f"{size} is not available here (tiers: {allowed}); give W×H")]
    return _explicit_size_violations(size, limits)


def _explicit_size_violations(size: Size, limits: ModeLimits) -> list[Violation]:
    found = []
    step = limits.side_multiple
    for name, side in (("width", size.width), ("height", size.height)):
        if side <= 0 or side % step:
            found.append(Violation(f"size.{name}", f"{side} must be a positive multiple of {step}"))
        elif limits.side is not None and side not in limits.side:
            found.append(Violation(f"size.{name}", f"{side} is outside {limits.side} px"))
    if min(size.width, size.height) <= 0:  # no picture at all: its pixels and shape say nothing more
        return found
    if size.pixels not in limits.pixels and size not in limits.also_allowed:
        found.append(Violation("size", f"{size} is {size.pixels:,} pixels; allowed {_pixel_range(limits)}"))
    if _ratio(size) > limits.ratio_max:
        found.append(Violation("size", f"{size} has aspect ratio beyond 1:{limits.ratio_max} / {limits.ratio_max}:1"))
    return found


def _ratio(size: Size) -> Fraction:
    return Fraction(max(size.width, size.height), min(size.width, size.height))


def _pixel_range(limits: ModeLimits) -> str:
    return f"{limits.pixels.low:,}–{limits.pixels.high:,} pixels in total"


def _count_violations(request: ImageRequest, limits: ModeLimits) -> list[Violation]:
    found = []
    if len(request.images) not in limits.images:
        found.append(Violation("images", f"{len(request.images)} given; this mode takes {limits.images}"))
    if request.n not in limits.n:
        each = "images at most" if limits.n_is_most else "images per run"  # a set's n is its most
        found.append(Violation("n", f"{request.n} {each}; allowed {limits.n}"))
    if limits.max_images is not None and request.max_images not in limits.max_images:
        found.append(Violation("max_images", f"{request.max_images}; allowed {limits.max_images}"))
    return found


def _option_violations(request: ImageRequest, limits: ModeLimits) -> list[Violation]:
    found = []
    if request.seed is not None:
        if limits.seed is None:
            found.append(Violation("seed", "this provider takes no seed; leave it empty"))
        elif request.seed not in limits.seed:
            found.append(Violation("seed", f"{request.seed} is outside {limits.seed}"))
    if request.negative_prompt and not limits.negative_prompt:
        found.append(Violation("negative_prompt", "is not supported here"))
    if request.watermark and not limits.watermark:
        found.append(Violation("watermark", "is not supported here"))
    if request.thinking is not None and not limits.thinking:
        found.append(Violation("thinking", "is not available here (Wan 2.7 text to image only); leave it unset"))
    return found


def palette_violations(palette: tuple[PaletteColor, ...], limits: ModeLimits) -> list[Violation]:
    """A palette's colours are #RRGGBB, each share above 0, the shares summing to exactly 100.00 %
    (https://help.aliyun.com/zh/model-studio/wan-image-generation-and-editing-api-reference)."""
    if not palette:
        return []
    if limits.palette is None:
        return [Violation("palette", "is not available here (Wan 2.7, not in image sets)")]
    found = []
    if len(palette) not in limits.palette:
        found.append(Violation("palette", f"{len(palette)} colours; allowed {limits.palette}"))
    for number, color in enumerate(palette, start=1):
        if not color.is_valid_hex:
            found.append(Violation(f"palette.{number}", f"{color.hex!r} is not a colour like #C2D1E6"))
        if color.hundredths <= 0:
            found.append(
                Violation(f"palette.{number}", f"{color.hex} has a share of {color.percent}; give more than 0")
            )
        elif color.hundredths > 10_000:
            found.append(Violation(f"palette.{number}", f"{color.hex} has a share of {color.percent}; at most 100%"))
    total = sum(color.hundredths for color in palette)
    if total != 10_000:
        found.append(Violation("palette", f"the shares add up to {percent_of(total)}; they must make 100%"))
    return found


def box_violations(boxes: tuple[Box, ...], image_count: int, limits: ModeLimits) -> list[Violation]:
    """Each box on an existing reference, corners in order, at most `boxes_per_image` per image. (That
    a box lies inside its image is checked against their sizes: `boxes_outside`.)"""
    if not boxes:
        return []
    if not limits.boxes_per_image:
        return [Violation("boxes", "box edits are not available here (Wan 2.7 edit only)")]
    found = []
    for box in boxes:
        if not 1 <= box.image <= image_count:
            found.append(Violation("boxes", f"box {box} is on image {box.image}; there are {image_count} image(s)"))
        if not (0 <= box.x1 < box.x2 and 0 <= box.y1 < box.y2):
            found.append(Violation("boxes", f"box {box} needs x1 < x2 and y1 < y2, none below 0"))
    for image in sorted({box.image for box in boxes}):
        count = sum(box.image == image for box in boxes)
        if count > limits.boxes_per_image:
            found.append(Violation("boxes", f"{count} boxes on image {image}; at most {limits.boxes_per_image}"))
    return found


def boxes_outside(boxes: tuple[Box, ...], sizes: Sequence[tuple[int, int] | None], max_side: int) -> list[Violation]:
    """Boxes reaching past their image, in its upright pixels (`sizes`, one per reference, None where
    it is not known: a URL is not fetched, so its boxes are only kept within the longest side a
    reference may have)."""
    found = []
    for box in boxes:
        size = sizes[box.image - 1] if 1 <= box.image <= len(sizes) else None
        if size is not None and (box.x2 > size[0] or box.y2 > size[1]):
            width, height = size
            found.append(Violation("boxes", f"box {box} reaches past image {box.image}, which is {width}×{height}"))
        elif size is None and max(box.corners) > max_side:  # a known image is shrunk to fit, its boxes with it
            found.append(Violation("boxes", f"box {box} reaches past {max_side} px, the longest side of a reference"))
    return found


def side_range(limits: ModeLimits) -> Range:
    """The widths (or heights) some valid W×H can have: what a size slider should offer."""
    step = limits.side_multiple
    shortest = math.sqrt(limits.pixels.low / limits.ratio_max)  # the other side at the widest ratio
    longest = math.sqrt(limits.pixels.high * limits.ratio_max)
    if limits.side is not None:
        shortest, longest = max(shortest, limits.side.low), min(longest, limits.side.high)
    return Range(math.ceil(shortest / step) * step, math.floor(longest / step) * step)


def with_default_size(request: ImageRequest, limits: ModeLimits) -> ImageRequest:
    """`request` with the mode's default size filled in where it names none and one is needed."""
    if request.size is None and limits.default_size is not None:
        return replace(request, size=limits.default_size)
    return request


def mode_limits_for(
    limits: Mapping[Mode, ModeLimits] | None, mode: Mode, provider: str, model: Model = Model.WAN26
) -> ModeLimits:
    """The limits for `mode` of `model` (None: the vendor does not serve the model), or `InvalidRequest`
    when the vendor does not offer that mode of that model."""
    if limits is None:
        return _refused("model", f"{provider} does not serve {model.label}")
    if mode not in limits:
        offered = ", ".join(limits) or "none"
        return _refused("mode", f"{provider} does not offer {mode} with {model.label} (it offers: {offered})")
    return limits[mode]


def _refused(field: str, message: str) -> NoReturn:
    raise InvalidRequest([Violation(field, message)])


def describe(limits: ModeLimits) -> str:
    """One line a person can read: what this mode accepts with this provider."""
    sides = side_range(limits)
    parts = [
        f"prompt ≤{limits.prompt_max:,}",
        f"reference images {limits.images}" if limits.images.high else "no reference images",
        f"W×H {_pixel_range(limits)}, sides {sides} step {limits.side_multiple}, ratio ≤{limits.ratio_max}:1",
    ]
    if limits.size_tiers:
        parts.append("or " + "/".join(sorted(limits.size_tiers)))
    parts.append(f"max_images {limits.max_images}" if limits.max_images else f"n {limits.n}")
    if limits.one_image_per_call and limits.n.high > 1:
        parts[-1] += " (one call per image)"
    if limits.n_is_most:
        parts[-1] += " (at most; the model decides how many)"
    options = {
        "seed": limits.seed is not None,
        "negative prompt": limits.negative_prompt,
        "prompt rewriting": limits.prompt_extend,
        "thinking": limits.thinking,
        f"palette of {limits.palette} colours": limits.palette is not None,
        f"≤{limits.boxes_per_image} boxes per image": limits.boxes_per_image > 0,
        "watermark": limits.watermark,
    }
    parts.append("options: " + (", ".join(name for name, offered in options.items() if offered) or "none"))
    return "; ".join(parts)
