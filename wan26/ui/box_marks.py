"""Boxes drawn by two clicks, as lines of Edit's typed field (IMAGE:x1,y1,x2,y2 in the upright image's
own pixels): the preview's size, a click taken back to the image's pixels, and the field's lines for
one image. Plain arithmetic and text: no Gradio, no Pillow."""

from __future__ import annotations

from wan26.types import Box, parse_box

PREVIEW_SIDE = 1024  # px: the longest side of the picture clicked on
Size = tuple[int, int]
Point = tuple[int, int]


def preview_size(upright: Size, side: int = PREVIEW_SIDE) -> Size:
    """The picture shown for an image `upright` (width, height): at most `side` on its longest side,
    never enlarged, never below 1 px."""
    scale = min(1.0, side / max(upright))
    return max(1, round(upright[0] * scale)), max(1, round(upright[1] * scale))


def to_upright(point: Point, upright: Size) -> Point:
    """A pixel of the preview as a point of the upright image, kept inside it (0 to its width/height)."""
    shown = preview_size(upright)
    x, y = (round(min(max(point[axis], 0), shown[axis]) * upright[axis] / shown[axis]) for axis in (0, 1))
    return x, y


def box_between(image: int, first: Point, second: Point) -> Box | None:
    """The box with `first` and `second` (upright pixels) as opposite corners, top left first; None
    when they share a row or a column (it would have no area)."""
    (x1, x2), (y1, y2) = sorted((first[0], second[0])), sorted((first[1], second[1]))
    if x1 == x2 or y1 == y2:
        return None
    return Box(image, x1, y1, x2, y2)


def entries(text: str | None) -> list[str]:
    """The field's entries as the edit endpoint reads them: one a line, or separated by ";"."""
    return [entry.strip() for entry in str(text or "").replace(";", "\n").splitlines() if entry.strip()]


def boxes_on(text: str | None, image: int) -> list[Box]:
    """The boxes the field puts on `image`, in order; lines that are not boxes (yet) are passed over."""
    found = []
    for entry in entries(text):
        try:
            box = parse_box(entry)
        except ValueError:
            continue
        if box.image == image:
            found.append(box)
    return found


def with_box(text: str | None, box: Box) -> str:
    """The field with `box` as a new last line."""
    kept = str(text or "").rstrip()
    return f"{kept}\n{box}" if kept else str(box)


def without_image(text: str | None, image: int) -> str:
    """The field without `image`'s boxes; everything else kept (a line each)."""
    return "\n".join(entry for entry in entries(text) if not _on(entry, image))


def _on(entry: str, image: int) -> bool:
    try:
        return parse_box(entry).image == image
    except ValueError:
        return False
