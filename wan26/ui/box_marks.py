"""Boxes drawn by two clicks, as lines of Edit's typed field (IMAGE:x1,y1,x2,y2 in the upright image's
own pixels): the preview's size, a click taken back to the image's pixels, and the field's lines for
one image. Plain arithmetic and text: no Gradio, no Pillow."""

from __future__ import annotations

from wan26.types import MAX_BOX_LINES, Box, box_entries, parse_box

# px: the longest side of the picture clicked on. Shown at most 320 px high (twice that on a sharp
# screen); each one clicked is kept in Gradio's cache for a day: 1024 px took 1.8 times the bytes.
PREVIEW_SIDE = 768
# The most of the field a redraw reads: 64 lines of boxes and then some (a crafted call may send megabytes).
MAX_FIELD_CHARS = 64 * MAX_BOX_LINES
Size = tuple[int, int]
Point = tuple[int, int]


def preview_size(upright: Size, side: int = PREVIEW_SIDE) -> Size:
    """The picture shown for an image `upright` (width, height): at most `side` on its longest side,
    never enlarged, never below 1 px."""
    scale = min(1.0, side / max(upright))
    return max(1, round(upright[0] * scale)), max(1, round(upright[1] * scale))


def to_upright(point: Point, upright: Size) -> Point:
    """A pixel of the preview as a point of the upright image, kept inside it: its first pixel is 0, its
    last the image's width/height (a click reports a pixel below the picture's width, never the width)."""
    shown = preview_size(upright)
    x, y = (round(min(max(point[axis], 0), shown[axis] - 1) * _step(upright, shown, axis)) for axis in (0, 1))
    return x, y


def to_shown(point: Point, upright: Size, shown: Size) -> Point:
    """A point of the upright image on its picture (the reverse of `to_upright`), kept on it."""
    x, y = (min(max(point[axis], 0), upright[axis]) / _step(upright, shown, axis) for axis in (0, 1))
    return min(round(x), shown[0] - 1), min(round(y), shown[1] - 1)


def _step(upright: Size, shown: Size, axis: int) -> float:
    """Upright pixels per picture pixel, the picture's last pixel standing for the far edge."""
    return upright[axis] / max(1, shown[axis] - 1)


def box_between(image: int, first: Point, second: Point) -> Box | None:
    """The box with `first` and `second` (upright pixels) as opposite corners, top left first; None
    when they share a row or a column (it would have no area)."""
    (x1, x2), (y1, y2) = sorted((first[0], second[0])), sorted((first[1], second[1]))
    if x1 == x2 or y1 == y2:
        return None
    return Box(image, x1, y1, x2, y2)


def boxes_on(text: str | None, image: int, most: int = MAX_BOX_LINES) -> list[Box]:
    """The first `most` boxes the field puts on `image`, in order, read as the run reads the field (its
    first MAX_BOX_LINES entries; the run refuses more) and only its first MAX_FIELD_CHARS characters;
    lines that are not boxes (yet) are passed over."""
    found: list[Box] = []
    for entry in box_entries(str(text or "")[:MAX_FIELD_CHARS])[:MAX_BOX_LINES]:
        try:
            box = parse_box(entry)
        except ValueError:
            continue
        if box.image == image and len(found) < most:
            found.append(box)
    return found


def with_box(text: str | None, box: Box) -> str:
    """The field with `box` as a new last line."""
    kept = str(text or "").rstrip()
    return f"{kept}\n{box}" if kept else str(box)


def without_image(text: str | None, image: int) -> str:
    """The field without `image`'s boxes; everything else kept (a line each)."""
    return "\n".join(entry for entry in box_entries(text) if not _on(entry, image))


def _on(entry: str, image: int) -> bool:
    try:
        return parse_box(entry).image == image
    except ValueError:
        return False


def renumbered(text: str | None, before: list[str], after: list[str]) -> str:
    """The field once the references went from `before` to `after` (their files, in order): each box
    follows its image to its new number, the boxes of an image no longer there go; lines that name no
    image of `before`, or are not boxes, stay as typed. Nothing kept (new references, as an example
    loads): empty."""
    moved = _new_numbers(before, after)
    if before and not moved:
        return ""
    if len(moved) == len(before) and all(old == new for old, new in moved.items()):
        return str(text or "")  # added to, or unchanged: the field as typed
    lines = (_moved(entry, moved, len(before)) for entry in box_entries(text))
    return "\n".join(line for line in lines if line is not None)


def _new_numbers(before: list[str], after: list[str]) -> dict[int, int]:
    """Old number to new, matching files in order (the same file twice: first with first)."""
    places: dict[str, list[int]] = {}
    for new, path in reversed(list(enumerate(after, start=1))):
        places.setdefault(path, []).append(new)  # each file's numbers, last first: pop() takes the first
    return {old: places[path].pop() for old, path in enumerate(before, start=1) if places.get(path)}


def _moved(entry: str, numbers: dict[int, int], count: int) -> str | None:
    try:
        box = parse_box(entry)
    except ValueError:
        return entry
    if not 1 <= box.image <= count:
        return entry
    new = numbers.get(box.image)
    return None if new is None else str(Box(new, box.x1, box.y1, box.x2, box.y2))
