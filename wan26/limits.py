"""Limits are data (one `ModeLimits` per provider and mode); `violations()` is a pure check.

Every broken rule is reported with its field and the limit, all at once, before any network call.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, replace
from fractions import Fraction

from wan26.errors import InvalidRequest, Violation
from wan26.types import ImageRequest, Mode, Size, SizeTier

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
    default_size: Size | None = None  # sent when the request names no size (the vendor requires one)
    one_image_per_call: bool = False  # n > 1 becomes n calls, each with its own seed
    seed: Range | None = Range(0, SEED_MAX)  # None: the provider takes no seed
    negative_prompt: bool = True
    prompt_extend: bool = True
    watermark: bool = True


def violations(request: ImageRequest, limits: ModeLimits) -> list[Violation]:
    """Every way `request` breaks `limits`; empty when it is fine."""
    return [
        *_prompt_violations(request, limits),
        *_size_violations(request.size, limits),
        *_count_violations(request, limits),
        *_option_violations(request, limits),
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
    if len(request.negative_prompt) > limits.negative_max:
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
    if size.pixels not in limits.pixels and size not in limits.also_allowed:
        found.append(Violation("size", f"{size} is {size.pixels:,} pixels; allowed {_pixel_range(limits)}"))
    if min(size.width, size.height) > 0 and _ratio(size) > limits.ratio_max:
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
        found.append(Violation("n", f"{request.n} images per run; allowed {limits.n}"))
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


def mode_limits_for(limits: dict[Mode, ModeLimits], mode: Mode, provider: str) -> ModeLimits:
    """The limits for `mode`, or `InvalidRequest` when the provider does not offer that mode."""
    if mode not in limits:
        offered = ", ".join(limits) or "none"
        raise InvalidRequest([Violation("mode", f"{provider} does not offer {mode} (it offers: {offered})")])
    return limits[mode]


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
    options = {
        "seed": limits.seed is not None,
        "negative prompt": limits.negative_prompt,
        "prompt rewriting": limits.prompt_extend,
        "watermark": limits.watermark,
    }
    parts.append("options: " + (", ".join(name for name, offered in options.items() if offered) or "none"))
    return "; ".join(parts)
