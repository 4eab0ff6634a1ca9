"""The size a vendor takes that is nearest to the one asked for, worked out from its limits data."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

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
    for candidate in (scaled(asked, limits), *by_shape(asked, recommended)):
        if takes(candidate):
            return candidate
    return None


def scaled(size: Size, limits: ModeLimits) -> Size:
    """`size`'s shape brought within the vendor's total pixels and sides, on its side multiple."""
    target = min(max(size.pixels, limits.pixels.low), limits.pixels.high)
    scale = math.sqrt(target / size.pixels)
    if limits.side is not None:
        scale = min(scale, limits.side.high / max(size.width, size.height))
        scale = max(scale, limits.side.low / min(size.width, size.height))
    # Rounded away from the limit crossed: up when growing to a minimum, down when shrinking to a maximum.
    step = math.ceil if scale > 1 else math.floor
    multiple = limits.side_multiple
    return Size(_on_multiple(size.width * scale, multiple, step), _on_multiple(size.height * scale, multiple, step))


def by_shape(size: Size, recommended: Iterable[Size]) -> list[Size]:
    """The recommended sizes, closest in aspect ratio first."""
    ratio = math.log(size.width / size.height)
    return sorted(recommended, key=lambda other: abs(math.log(other.width / other.height) - ratio))


def _positive(size: SizeSpec) -> bool:
    return not isinstance(size, Size) or min(size.width, size.height) > 0


def _on_multiple(side: float, multiple: int, step: Callable[[float], int]) -> int:
    return max(multiple, step(side / multiple) * multiple)
