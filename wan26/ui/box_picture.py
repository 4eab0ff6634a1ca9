"""A reference as Edit's box drawing shows it: upright (EXIF), at most PREVIEW_SIDE px, the boxes the
field puts on it outlined and numbered, and a first corner marked. Work is capped, as any visitor may
ask for it: the size is read from the header and anything over MAX_PREVIEW_PIXELS is refused before
a byte of pixels (or a PNG's EXIF, which may follow them) is read; a JPEG is decoded at 1/2 to 1/8
scale; at most DECODES pictures are made at once (more: `Busy`); each file's picture, upright size
or failure is made once and kept. Files that are not images are refused (`Unpreviewable`). No Gradio here."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

from wan26.types import Box
from wan26.ui.box_marks import Point, Size, preview_size, to_shown

MAX_PREVIEW_PIXELS = 50_000_000  # as stored (header): a 50 MP RGBA PNG decodes to 200 MB
FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF")  # what people upload as references (an MPO opens as JPEG)
DECODES = 2  # pictures made at once, for every visitor together
COLOURS = ("#FF2D55", "#FFD60A", "#30D158", "#0A84FF")  # box 1, 2, …: edged in black, clear on photos
CORNER = "#FF9F0A"
_UNREADABLE = (OSError, ValueError, EOFError, SyntaxError)
_QUARTER_TURNS = range(5, 9)  # EXIF orientations 5 to 8 swap width and height
_RESIZED_AS_THEY_ARE = frozenset({"RGB", "RGBA", "L", "LA"})  # others are made RGB first
_DECODING = threading.BoundedSemaphore(DECODES)


class Unpreviewable(Exception):
    """The file cannot be shown: not an image of FORMATS, or too many pixels to decode for a preview."""


class Busy(Exception):
    """DECODES pictures are being made already: the visitor asks again in a moment (nothing waits)."""


def upright_size(path: str) -> Size:
    """The image's width and height as it looks upright (EXIF), kept with its picture."""
    return _made(path)[1]


def preview(path: str, boxes: list[Box], corner: Point | None) -> Image.Image:
    """The picture to click on: `boxes` (in upright pixels) outlined, `corner` (upright) marked."""
    base, upright = _made(path)
    picture = base.copy()
    draw, thick = ImageDraw.Draw(picture), max(2, round(max(picture.size) / 200))  # ~2 px as the page shows it
    for number, box in enumerate(boxes, start=1):
        _outline(draw, _rect(box, upright, picture.size), number, thick)
    if corner is not None:
        _mark(draw, to_shown(corner, upright, picture.size), thick)
    return picture


def _made(path: str) -> tuple[Image.Image, Size]:
    try:
        stat = os.stat(path)
    except OSError as error:  # gone since it was listed (Gradio's cache is pruned)
        raise Unpreviewable("the file is gone") from error
    made = _base(path, stat.st_mtime_ns, stat.st_size)
    if isinstance(made, str):
        raise Unpreviewable(made)
    return made


@lru_cache(maxsize=16)  # keyed by path, time and size: each click redraws a kept picture (~3 MB each)
def _base(path: str, _mtime_ns: int, _size: int) -> tuple[Image.Image, Size] | str:
    """The picture upright at its preview size and the upright size; or why not (kept too: a refused
    file costs one header read). Busy is not kept."""
    try:
        with _opened(path) as image, _decoding():
            return _upright_picture(image)
    except Unpreviewable as error:
        return str(error)


def _upright_picture(image: Image.Image) -> tuple[Image.Image, Size]:
    """Decoded small, then turned upright: the preview's scale depends on the longest side only, so
    the orientation (for a PNG, perhaps read only with its pixels) is not needed before."""
    stored, shown = image.size, preview_size(image.size)
    image.draft("RGB", shown)  # a JPEG decodes at the smallest scale still above `shown`
    kept = image if image.mode in _RESIZED_AS_THEY_ARE else image.convert("RGB")
    small = kept.resize(shown, Image.Resampling.LANCZOS, reducing_gap=3.0).convert("RGB")  # keeps info (EXIF)
    turned = small.getexif().get(0x0112) in _QUARTER_TURNS  # 0x0112: Orientation, as exif_transpose reads it
    return ImageOps.exif_transpose(small), (stored[1], stored[0]) if turned else stored


@contextmanager
def _opened(path: str) -> Iterator[Image.Image]:
    """The image, its header read; Unpreviewable for what is not one, or has too many pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # capped here instead
            with Image.open(path, formats=FORMATS) as image:
                if image.width * image.height > MAX_PREVIEW_PIXELS:
                    raise Unpreviewable(f"{image.width}×{image.height} px is too large to preview")
                yield image
    except Image.DecompressionBombError as error:  # over twice Pillow's own cap: refused as it opened
        raise Unpreviewable("too large to preview") from error
    except _UNREADABLE as error:
        raise Unpreviewable(f"not an image this page can show ({type(error).__name__})") from error


@contextmanager
def _decoding() -> Iterator[None]:
    """One of DECODES places to make a picture in, or Busy: a burst of clicks never queues work."""
    if not _DECODING.acquire(blocking=False):
        raise Busy
    try:
        yield
    finally:
        _DECODING.release()


def _rect(box: Box, upright: Size, shown: Size) -> list[int]:
    """A box on the picture, corners in order, at least 2 px across (a typed one may be any way round)."""
    (x1, y1), (x2, y2) = to_shown((box.x1, box.y1), upright, shown), to_shown((box.x2, box.y2), upright, shown)
    left, top = min(x1, x2), min(y1, y2)
    return [left, top, max(x1, x2, left + 2), max(y1, y2, top + 2)]


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
