"""The size a vendor takes that is nearest to the one asked for, worked out from its limits data."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from itertools import product

from wan26.limits import ModeLimits
from wan26.types import Size, SizeSpec, SizeTier

Takes = Callable[[SizeSpec], bool]


def nearest_size(asked: SizeSpec, limits: ModeLimits, recommended: Iterable[Size], takes: Takes) -> SizeSpec:
    """`asked` if the vendor takes it; else the same shape scaled into its limits; else its recommended
    size closest in shape; else None (nothing sent: the vendor's own default)."""
    if asked is None or takes(asked) or not _positive(asked):
        return asked  # a side of 0 or less is no size at all: refused, not adapted
    if isinstance(asked, SizeTier):  # a tier has no shape to keep
        return None
    for candidate in (*scaled(asked, limits), *by_shape(asked, recommended)):
        if takes(candidate):
            return candidate
    return None


def scaled(size: Size, limits: ModeLimits) -> list[Size]:
    """`size`'s shape brought within the vendor's total pixels, then each side within its bounds (a
    shape beyond them gets the nearest it allows), on its side multiple: each way of rounding the
    two sides, the likeliest to fit first."""
    scale = math.sqrt(min(max(size.pixels, limits.pixels.low), limits.pixels.high) / size.pixels)
    if limits.side is not None:
        scale = min(scale, limits.side.high / max(size.width, size.height))
    width, height = size.width * scale, size.height * scale
    if limits.side is not None:
        width, height = (min(max(side, limits.side.low), limits.side.high) for side in (width, height))
    # Away from the limit crossed first: up when growing to a minimum, down when shrinking to a maximum;
    # then the other ways, which may keep the ratio within bounds that the first breaks.
    steps = (_up, _nearest, _down) if scale > 1 else (_down, _nearest, _up)
    multiple = limits.side_multiple
    return [Size(_on_multiple(width, multiple, w), _on_multiple(height, multiple, h)) for w, h in product(steps, steps)]


def by_shape(size: Size, recommended: Iterable[Size]) -> list[Size]:
    """The recommended sizes, closest in aspect ratio first."""
    ratio = math.log(size.width / size.height)
    return sorted(recommended, key=lambda other: abs(math.log(other.width / other.height) - ratio))


def _positive(size: SizeSpec) -> bool:
    return not isinstance(size, Size) or min(size.width, size.height) > 0


def _on_multiple(side: float, multiple: int, step: Callable[[float], int]) -> int:
    # Rounded first, so that a side computed as 1439.9999… is 1440, not one multiple less.
    return max(multiple, step(round(side / multiple, 6)) * multiple)


def _up(value: float) -> int:
    return math.ceil(value)


def _down(value: float) -> int:
    return math.floor(value)


def _nearest(value: float) -> int:
    return round(value)
