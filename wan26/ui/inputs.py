"""Requests built from what the endpoints receive: raw API values or the form's, checked by field."""

from __future__ import annotations

from typing import Any

import gradio as gr

from wan26.errors import InvalidRequest, Violation
from wan26.images import is_web_url
from wan26.types import Box, ImageRequest, Mode, Size, SizeTier, parse_box, parse_size
from wan26.ui.errors import CHECK_INPUTS

RANDOM_SEED = -1


def t2i_request(
    prompt: Any,
    negative_prompt: Any,
    width: Any,
    height: Any,
    n: Any,
    seed: Any,
    prompt_extend: Any,
    watermark: Any,
) -> ImageRequest:
    """From raw inputs (the endpoint skips Gradio's preprocessing): numbers are checked here."""
    seed = RANDOM_SEED if seed is None else seed  # an emptied seed box: a random seed, as in the other tabs
    numbers = whole_numbers({"size.width": width, "size.height": height, "n": n, "seed": seed})
    return ImageRequest(
        Mode.TEXT_TO_IMAGE,
        str(prompt or ""),
        str(negative_prompt or ""),
        size=Size(numbers["size.width"], numbers["size.height"]),
        n=numbers["n"],
        seed=to_seed(numbers["seed"]),
        prompt_extend=bool(prompt_extend),
        watermark=bool(watermark),
    )


def edit_request(
    prompt: str | None,
    images: list[Any] | None,
    negative_prompt: str | None,
    size: str | None,
    n: float,
    seed: float | None,
    prompt_extend: bool,
    watermark: bool,
    image_urls: str | None = "",
    boxes: str | None = "",
) -> ImageRequest:
    return ImageRequest(
        Mode.EDIT,
        prompt or "",
        negative_prompt or "",
        images=(*paths(images), *web_urls(image_urls)),  # uploads first, then URLs: image 1, image 2, …
        size=parsed_size(size),
        n=int(n),
        seed=to_seed(seed),
        prompt_extend=bool(prompt_extend),
        watermark=bool(watermark),
        boxes=box_list(boxes),
    )


def interleave_request(
    prompt: str | None,
    image: str | None,
    negative_prompt: str | None,
    width: float | None,
    height: float | None,
    max_images: float,
    seed: float | None,
    watermark: bool,
) -> ImageRequest:
    size = Size(int(width), int(height)) if width and height else None  # 0 = follow the input image
    return ImageRequest(
        Mode.INTERLEAVE,
        prompt or "",
        negative_prompt or "",
        images=(image,) if image else (),
        size=size,
        max_images=int(max_images),
        seed=to_seed(seed),
        watermark=bool(watermark),
    )


def whole_numbers(values: dict[str, Any]) -> dict[str, int]:
    """Each value as a whole number (rounded, as a Number box does), or one InvalidRequest naming
    every field that is not one."""
    numbers: dict[str, int] = {}
    bad = []
    for field_name, value in values.items():
        try:
            numbers[field_name] = round(float(value))
        except (TypeError, ValueError, OverflowError):
            bad.append(Violation(field_name, f"{str(value)[:40]!r} is not a number"))
    if bad:
        raise InvalidRequest(bad)
    return numbers


def to_seed(seed: float | None) -> int | None:
    return None if seed is None or int(seed) == RANDOM_SEED else int(seed)


def paths(gallery: list[Any] | None) -> list[str]:
    """Gallery values are (path, caption) pairs; the app's own handlers also pass bare paths."""
    return [item[0] if isinstance(item, tuple | list) else item for item in (gallery or [])]


def web_urls(text: str | None) -> list[str]:
    """Pasted references: http(s) links only. Anything else is refused before it is looked at, with
    one message whatever it is, so a visitor can neither make the server read a file nor learn
    whether a path exists."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    bad = [str(number) for number, line in enumerate(lines, start=1) if not is_web_url(line)]
    if bad:
        which = (
            f"line {bad[0]} is not an http(s) link"
            if len(bad) == 1
            else f"lines {', '.join(bad)} are not http(s) links"
        )
        message = f"{which}; paste links that start with https://, or upload the image"
        raise InvalidRequest([Violation("image_urls", message)])
    return lines


MAX_BOX_LINES = 64  # far past any model's limit: enough to name them all, not to make work of it


def box_list(text: str | None) -> tuple[Box, ...]:
    """Boxes as the edit endpoint takes them: IMAGE:x1,y1,x2,y2, one a line (or separated by ";")."""
    lines = [line.strip() for line in str(text or "").replace(";", "\n").splitlines() if line.strip()]
    if len(lines) > MAX_BOX_LINES:
        raise InvalidRequest([Violation("boxes", f"{len(lines)} boxes; at most {MAX_BOX_LINES} are read")])
    found, bad = [], []
    for number, line in enumerate(lines, start=1):
        try:
            found.append(parse_box(line))
        except ValueError:
            bad.append(str(number))
    if bad:
        which = f"line {bad[0]} is not" if len(bad) == 1 else f"lines {', '.join(bad)} are not"
        message = f"{which} IMAGE:x1,y1,x2,y2 (such as 2:989,515,1138,681)"
        raise InvalidRequest([Violation("boxes", message)])
    return tuple(found)


def parsed_size(size: str | None) -> Size | SizeTier | None:
    if not size or not str(size).strip():
        return None
    try:
        return parse_size(str(size))
    except ValueError as exc:
        raise gr.Error(str(exc), title=CHECK_INPUTS) from exc


def edit_size_value(shape: str, width: float, height: float) -> str:
    """The `size` the edit endpoint takes: a 1K/2K tier, else the exact W×H (set by the shape chosen)."""
    return shape if shape in (SizeTier.K1, SizeTier.K2) else f"{int(width)}x{int(height)}"


def interleave_size(shape: str, width: float, height: float) -> tuple[int, int]:
    """Interleave's width and height: 0 × 0 follows the input image."""
    return (0, 0) if shape == "follow" else (int(width), int(height))
