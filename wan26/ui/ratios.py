"""Aspect ratios people choose by, each turned into a size the vendor allows (its limits are the
sizes behind the choice). Pure: no gradio."""

from __future__ import annotations

import math

from wan26.limits import ModeLimits, violations
from wan26.types import ImageRequest, Mode, Size

RATIOS = ("1:1", "4:3", "3:4", "3:2", "2:3", "16:9", "9:16", "21:9", "9:21")
TARGET_PIXELS = 1280 * 1280  # every vendor's default size; clamped into the vendor's own range


def size_for_ratio(ratio: str, limits: ModeLimits, mode: Mode) -> Size | None:
    """The allowed size closest to `ratio` at about the target pixel count, or None if none fits."""
    across, down = (int(part) for part in ratio.split(":"))
    pixels = min(max(TARGET_PIXELS, limits.pixels.low), limits.pixels.high)
    width, height = _within_sides(math.sqrt(pixels * across / down), math.sqrt(pixels * down / across), limits)
    step = limits.side_multiple
    candidates = [Size(w, h) for w in _multiples_near(width, step) for h in _multiples_near(height, step)]
    allowed = [size for size in candidates if _allowed(size, limits, mode)]

    def closeness(size: Size) -> tuple[float, int]:  # the ratio first, then the pixel count aimed at
        return abs(size.width / size.height - across / down), abs(size.pixels - pixels)

    return min(allowed, key=closeness, default=None)


def ratio_choices(limits: ModeLimits, mode: Mode) -> list[tuple[str, str]]:
    """(label, ratio) for each ratio this vendor can make, e.g. ("16:9 · 1696×960", "16:9")."""
    sizes = {ratio: size_for_ratio(ratio, limits, mode) for ratio in RATIOS}
    return [(f"{ratio} · {size.width}×{size.height}", ratio) for ratio, size in sizes.items() if size is not None]


def _within_sides(width: float, height: float, limits: ModeLimits) -> tuple[float, float]:
    """Scaled (keeping the ratio) so that neither side leaves the vendor's side range, if it has one."""
    if limits.side is None:
        return width, height
    scale = min(1.0, limits.side.high / max(width, height))
    scale = max(scale, limits.side.low / min(width, height))
    return width * scale, height * scale


def _multiples_near(value: float, step: int) -> list[int]:
    below = max(step, math.floor(value / step) * step)
    return [below - step, below, below + step] if below > step else [below, below + step]


def _allowed(size: Size, limits: ModeLimits, mode: Mode) -> bool:
    request = ImageRequest(mode, "x", size=size)
    return not [found for found in violations(request, limits) if found.field.startswith("size")]
