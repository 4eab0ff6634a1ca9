"""A reference as Edit's box drawing shows it: upright (EXIF), at most PREVIEW_SIDE px, the boxes the
field puts on it outlined and numbered, and a first corner marked. Work is capped: the size is read
from the header first, a JPEG is decoded at 1/2 to 1/8 scale, and images too big to decode cheaply
are refused (`Unpreviewable`), as are files that are not images. No Gradio here."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

from wan26.types import Box
from wan26.ui.box_marks import Point, Size, preview_size

MAX_STORED_PIXELS = 200_000_000  # as many as a reference may have (wan26.images)
MAX_DECODED_PIXELS = 50_000_000  # what is decoded once a JPEG's draft scale is applied
COLOURS = ("#FF2D55", "#FFD60A", "#30D158", "#0A84FF")  # box 1, 2, …: edged in black, clear on photos
CORNER = "#FF9F0A"
_UNREADABLE = (OSError, ValueError, EOFError, SyntaxError, Image.DecompressionBombError)
_QUARTER_TURNS = range(5, 9)  # EXIF orientations 5 to 8 swap width and height


class Unpreviewable(Exception):
    """The file cannot be shown: not an image Pillow reads, or too many pixels to decode for a preview."""


def upright_size(path: str) -> Size:
    """The image's width and height as it looks upright, from its header (nothing decoded)."""
    with _opened(path) as image:
        return _upright(image.size, image)


def preview(path: str, boxes: list[Box], corner: Point | None) -> Image.Image:
    """The picture to click on: `boxes` (in upright pixels) outlined, `corner` (upright) marked."""
    try:
        stat = os.stat(path)
    except OSError as error:  # gone since it was listed (Gradio's cache is pruned)
        raise Unpreviewable("the file is gone") from error
    base, upright = _base(path, stat.st_mtime_ns, stat.st_size)
    picture = base.copy()
    draw, thick = ImageDraw.Draw(picture), max(2, round(max(picture.size) / 200))  # ~2 px as the page shows it
    for number, box in enumerate(boxes, start=1):
        _outline(draw, _rect(box, upright, picture.size), number, thick)
    if corner is not None:
        _mark(draw, _shown(corner, upright, picture.size), thick)
    return picture


@lru_cache(maxsize=8)  # the clicks on one image redraw it: decode it once (keyed by its path, time and size)
def _base(path: str, _mtime_ns: int, _size: int) -> tuple[Image.Image, Size]:
    with _opened(path) as image:
        upright = _upright(image.size, image)
        shown = preview_size(upright)
        wanted = shown if upright == image.size else (shown[1], shown[0])
        image.draft("RGB", wanted)  # a JPEG decodes at the smallest scale still above `wanted`
        if image.width * image.height > MAX_DECODED_PIXELS:
            raise Unpreviewable(f"{image.width}×{image.height} px is too large to preview")
        turned = ImageOps.exif_transpose(image.convert("RGB") if image.mode != "RGB" else image)
        return turned.resize(shown, Image.Resampling.LANCZOS, reducing_gap=3.0), upright


@contextmanager
def _opened(path: str) -> Iterator[Image.Image]:
    """The image, its header read; Unpreviewable for what is not one, or has too many pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # capped here instead
            with Image.open(path) as image:
                if image.width * image.height > MAX_STORED_PIXELS:
                    raise Unpreviewable(f"{image.width}×{image.height} px is too large to preview")
                yield image
    except _UNREADABLE as error:
        raise Unpreviewable(f"not an image this page can show ({type(error).__name__})") from error


def _upright(size: Size, image: Image.Image) -> Size:
    turned = image.getexif().get(0x0112) in _QUARTER_TURNS  # 0x0112: Orientation
    return (size[1], size[0]) if turned else size


def _rect(box: Box, upright: Size, shown: Size) -> list[int]:
    """A box on the picture, corners in order, at least 2 px across (a typed one may be any way round)."""
    (x1, y1), (x2, y2) = _shown((box.x1, box.y1), upright, shown), _shown((box.x2, box.y2), upright, shown)
    left, top = min(x1, x2), min(y1, y2)
    return [left, top, max(x1, x2, left + 2), max(y1, y2, top + 2)]


def _shown(point: Point, upright: Size, shown: Size) -> Point:
    """A point of the upright image on the picture, kept on it (a typed box may reach far past it)."""
    x, y = (min(max(point[axis], 0), upright[axis]) * shown[axis] / upright[axis] for axis in (0, 1))
    return min(round(x), shown[0] - 1), min(round(y), shown[1] - 1)


def _outline(draw: ImageDraw.ImageDraw, rect: list[int], number: int, thick: int) -> None:
    """A box in its colour, edged in black so it shows on light and dark, its number in its corner."""
    colour = COLOURS[(number - 1) % len(COLOURS)]
    draw.rectangle(rect, outline="black", width=thick + 2)
    draw.rectangle([rect[0] + 1, rect[1] + 1, rect[2] - 1, rect[3] - 1], outline=colour, width=thick)
    font = _font(thick * 8)
    left, top, right, bottom = draw.textbbox((rect[0], rect[1]), str(number), font=font)
    pad = thick
    draw.rectangle([left, top, right + 2 * pad, bottom + 2 * pad], fill=colour, outline="black")
    draw.text((rect[0] + pad, rect[1] + pad), str(number), fill="black", font=font)


def _mark(draw: ImageDraw.ImageDraw, point: Point, thick: int) -> None:
    """The first corner: a ring and cross hairs."""
    x, y, reach = point[0], point[1], thick * 6
    for colour, width in (("black", thick + 2), (CORNER, thick)):
        draw.line([(x - reach, y), (x + reach, y)], fill=colour, width=width)
        draw.line([(x, y - reach), (x, y + reach)], fill=colour, width=width)
        draw.ellipse([x - reach // 2, y - reach // 2, x + reach // 2, y + reach // 2], outline=colour, width=width)


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)
