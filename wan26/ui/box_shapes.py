"""Box edits' geometry, with Pillow only: the picture a visitor draws on, the boxes their painting
becomes, and a preview with the boxes drawn.

Two sizes matter. A reference's *upright* size is its pixel size once its EXIF rotation is applied:
what a person sees, and what `wan26.types.Box` corners are counted in. The *shown* size is that of
the smaller, upright copy the drawing surface holds (and so of the layer painted over it). Corners
are pixel edges: (x1, y1) is a region's top-left corner, (x2, y2) lies just past its last pixel.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

Rect = tuple[int, int, int, int]  # x1, y1, x2, y2
SizeWH = tuple[int, int]

SHOWN_MAX_SIDE = 1024  # the drawing surface's copy: a phone shows ~360 px of it, a laptop ~600
ALPHA_MIN = 32  # fainter pixels are a brush's soft rim, not paint
MIN_PIXELS = 12  # a region smaller than this is a speck (a stray tap), not an area
_PAINTED_RUN = re.compile(rb"\xff+")
_ORIENTATION = 0x0112
BOX_COLOURS = ((255, 64, 64), (255, 200, 0))  # first and second box of an image, as the preview draws them


def upright_size(image: Image.Image) -> SizeWH:
    """`image`'s size as it looks upright: EXIF orientations 5 to 8 are quarter turns."""
    width, height = image.size
    return (height, width) if image.getexif().get(_ORIENTATION) in range(5, 9) else (width, height)


def shown_copy(path: str | Path, max_side: int = SHOWN_MAX_SIDE) -> tuple[Image.Image, SizeWH]:
    """The reference upright and at most `max_side` a side, for the drawing surface; and its upright size.
    Raises OSError, ValueError or DecompressionBombError for a file Pillow will not read."""
    with Image.open(path) as image:
        upright = upright_size(image)
        image.draft("RGB", (max_side, max_side))  # a big JPEG decodes at 1/2–1/8 scale: faster, smaller
        turned = ImageOps.exif_transpose(image.convert("RGB") if image.mode not in ("RGB", "L") else image)
    turned.thumbnail((max_side, max_side))
    return turned.convert("RGB"), upright


def painted_regions(layer: Image.Image, min_pixels: int = MIN_PIXELS) -> list[Rect]:
    """The bounding rectangle of each separate painted region of `layer` (8-connected pixels of
    alpha ≥ ALPHA_MIN), specks under `min_pixels` left out; largest region first.

    Rows are read as runs of painted pixels, and runs that touch across rows are joined: linear in
    the runs, however a layer is painted (it comes from a visitor's browser)."""
    mask = layer.convert("RGBA").getchannel("A").point(lambda alpha: 255 if alpha >= ALPHA_MIN else 0)
    regions = _Regions()
    width, data = mask.width, mask.tobytes()
    above: list[int] = []
    for y in range(mask.height):
        row = [(run.start(), run.end()) for run in _PAINTED_RUN.finditer(data, y * width, (y + 1) * width)]
        here = [regions.add(start - y * width, end - y * width, y) for start, end in row]
        _join_touching(regions, above, here)
        above = here
    return [rect for pixels, rect in regions.found() if pixels >= min_pixels]


def _join_touching(regions: _Regions, above: list[int], here: list[int]) -> None:
    """Join each run of this row to the runs of the row above it touches (diagonals too); both
    lists are in left-to-right order, so one pass over each does."""
    i = j = 0
    while i < len(above) and j < len(here):
        a, b = regions.runs[above[i]], regions.runs[here[j]]
        if a[0] <= b[1] and b[0] <= a[1]:  # end is exclusive: a[1] == b[0] is a diagonal touch
            regions.join(above[i], here[j])
        if a[1] < b[1]:
            i += 1
        else:
            j += 1


class _Regions:
    """Runs of painted pixels (x start, x end, y), joined into regions by union-find."""

    def __init__(self) -> None:
        self.runs: list[tuple[int, int, int]] = []
        self._parent: list[int] = []

    def add(self, start: int, end: int, y: int) -> int:
        self.runs.append((start, end, y))
        self._parent.append(len(self._parent))
        return len(self._parent) - 1

    def root(self, run: int) -> int:
        while self._parent[run] != run:
            self._parent[run] = self._parent[self._parent[run]]  # halve the path as it is walked
            run = self._parent[run]
        return run

    def join(self, one: int, other: int) -> None:
        self._parent[self.root(one)] = self.root(other)

    def found(self) -> list[tuple[int, Rect]]:
        """(pixel count, bounding rectangle) of each region, largest first."""
        by_root: dict[int, list[int]] = {}
        for run, (start, end, y) in enumerate(self.runs):
            pixels, x1, y1, x2, y2 = by_root.setdefault(self.root(run), [0, start, y, end, y + 1])
            by_root[self.root(run)] = [pixels + end - start, min(x1, start), min(y1, y), max(x2, end), max(y2, y + 1)]
        regions = [(pixels, (x1, y1, x2, y2)) for pixels, x1, y1, x2, y2 in by_root.values()]
        return sorted(regions, key=lambda region: -region[0])


def to_upright(rect: Rect, shown: SizeWH, upright: SizeWH) -> Rect:
    """A rectangle on the shown copy, in upright pixels: outwards to whole pixels, never past the edge."""
    across, down = upright[0] / shown[0], upright[1] / shown[1]
    x1, y1, x2, y2 = rect
    return (
        math.floor(x1 * across),
        math.floor(y1 * down),
        min(upright[0], math.ceil(x2 * across)),
        min(upright[1], math.ceil(y2 * down)),
    )


def to_shown(box: Rect, upright: SizeWH, shown: SizeWH) -> Rect:
    """An upright box on the shown copy (the other way from `to_upright`)."""
    return to_upright(box, upright, shown)


def boxes_from_layer(
    layer: Image.Image, upright: SizeWH, at_most: int, earlier: Sequence[Rect] = ()
) -> tuple[list[Rect], int]:
    """The boxes a painted layer (over the shown copy) becomes, in upright pixels: the `at_most`
    largest regions, in reading order; and how many regions there were. A region that is exactly an
    `earlier` box drawn back (`layer_of`) keeps that box's corners, so showing boxes again never moves them."""
    regions = painted_regions(layer)
    drawn_back = {to_shown(box, upright, layer.size): box for box in earlier}
    kept = [drawn_back.get(rect) or to_upright(rect, layer.size, upright) for rect in regions[:at_most]]
    return sorted(kept, key=lambda box: (box[1], box[0])), len(regions)


def layer_of(boxes: Iterable[Rect], upright: SizeWH, shown: SizeWH) -> Image.Image:
    """A transparent layer the size of the shown copy with `boxes` painted in, to draw on further."""
    layer = Image.new("RGBA", shown, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for box in boxes:
        x1, y1, x2, y2 = to_shown(box, upright, shown)
        draw.rectangle((x1, y1, x2 - 1, y2 - 1), fill=(255, 64, 64, 160))
    return layer


def preview(shown_image: Image.Image, boxes: Sequence[Rect], upright: SizeWH) -> Image.Image:
    """The shown copy with each box outlined and numbered in the order it is sent."""
    drawn = shown_image.convert("RGB")
    draw = ImageDraw.Draw(drawn)
    line = max(3, round(max(drawn.size) / 120))  # ~2 px however small the preview is shown
    for number, box in enumerate(boxes, start=1):
        x1, y1, x2, y2 = to_shown(box, upright, drawn.size)
        colour = BOX_COLOURS[(number - 1) % len(BOX_COLOURS)]
        draw.rectangle((x1, y1, max(x1, x2 - 1), max(y1, y2 - 1)), outline=colour, width=line)
        draw.text((x1 + line + 2, y1 + line + 1), str(number), fill=colour, font_size=max(12, line * 8))
    return drawn
