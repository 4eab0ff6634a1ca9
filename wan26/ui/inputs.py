"""Requests built from what the endpoints receive: raw API values or the form's, checked by field."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gradio as gr

from wan26.errors import InvalidRequest, Violation
from wan26.images import is_web_url
from wan26.limits import ModeLimits
from wan26.types import (
    MAX_BOX_LINES,
    Box,
    ImageRequest,
    Mode,
    Model,
    PaletteColor,
    Size,
    SizeTier,
    box_entries,
    parse_box,
    parse_palette_color,
    parse_size,
)
from wan26.ui.errors import CHECK_INPUTS
from wan26.ui.models import model_named

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
    model: Any = "",
    thinking: Any = True,
    palette: Any = "",
    tier: Any = "",
) -> ImageRequest:
    """From raw inputs (the endpoint skips Gradio's preprocessing): numbers are checked here. A tier
    (Wan 2.7: 1K, 2K, Pro's 4K) stands in for width and height."""
    seed = RANDOM_SEED if seed is None else seed  # an emptied seed box: a random seed, as in the other tabs
    numbers = whole_numbers({"size.width": width, "size.height": height, "n": n, "seed": seed})
    wan = model_named(model)
    return ImageRequest(
        Mode.TEXT_TO_IMAGE,
        str(prompt or ""),
        str(negative_prompt or ""),
        size=tier_named(tier) or Size(numbers["size.width"], numbers["size.height"]),
        n=numbers["n"],
        seed=to_seed(numbers["seed"]),
        prompt_extend=bool(prompt_extend),
        watermark=bool(watermark),
        model=wan,
        # Only 2.7 thinks; a 2.6 caller (or the page's hidden switch) sends nothing.
        thinking=None if wan is Model.WAN26 else bool(thinking),
        palette=palette_of(palette),
    )


def thinking_where_offered(request: ImageRequest, limits: ModeLimits | None) -> ImageRequest:
    """The page's Thinking switch has a value even where it is hidden (a vendor or mode without a
    thinking mode, such as AI/ML API's 2.7): there it asks for nothing, rather than being refused."""
    if request.thinking is not None and (limits is None or not limits.thinking):
        return replace(request, thinking=None)
    return request


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
    model: str | None = "",
    palette: str | None = "",
    boxes: str | None = "",
) -> ImageRequest:
    return ImageRequest(
        Mode.EDIT,
        prompt or "",
        negative_prompt or "",
        images=(*paths(images), *web_urls(image_urls)),  # uploads first, then URLs: image 1, image 2, …
        size=parsed_size(size),
        n=whole_numbers({"n": n})["n"],
        seed=to_seed(seed),
        prompt_extend=bool(prompt_extend),
        watermark=bool(watermark),
        **wan27_options(model, palette),
        boxes=box_list(boxes),
    )


def wan27_options(model: Any, palette: Any) -> dict[str, Any]:
    """The request's model and the palette, which only 2.7 takes."""
    return {"model": model_named(model), "palette": palette_of(palette)}


def image_set_request(
    prompt: str | None,
    images: list[Any] | None,
    size: str | None,
    n: float,
    seed: float | None,
    watermark: bool,
    image_urls: str | None = "",
    model: str | None = Model.WAN27.value,
) -> ImageRequest:
    """A set of up to `n` images that belong together (Wan 2.7), from text or 0–9 references."""
    return ImageRequest(
        Mode.IMAGE_SET,
        prompt or "",
        images=(*paths(images), *web_urls(image_urls)),
        size=parsed_size(size),
        n=whole_numbers({"n": n})["n"],
        seed=to_seed(seed),
        watermark=bool(watermark),
        model=model_named(model, Model.WAN27),
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
    numbers = whole_numbers({"size.width": width, "size.height": height, "max_images": max_images})
    width, height = numbers["size.width"], numbers["size.height"]
    return ImageRequest(
        Mode.INTERLEAVE,
        prompt or "",
        negative_prompt or "",
        images=(image,) if image else (),
        size=Size(width, height) if width and height else None,  # 0 × 0 = follow the input image
        max_images=numbers["max_images"],
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
            typed = "''" if value is None else repr(str(value)[:40])  # an emptied box sends None
            bad.append(Violation(field_name, f"{typed} is not a number"))
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


def tier_named(tier: Any) -> SizeTier | None:
    """Text to image's tier (empty: none, the width and height are sent), or InvalidRequest."""
    text = str(tier or "").strip().upper()
    if not text:
        return None
    if text not in {member.value for member in SizeTier}:
        tiers = "/".join(member.value for member in SizeTier)
        raise InvalidRequest(
            [Violation("size", f"{str(tier)[:40]!r} is not a size tier; use {tiers}, or leave it empty")]
        )
    return SizeTier(text)


MAX_PALETTE_ENTRIES = 20  # twice any model's most colours: enough to say what is wrong, not to make work of it


def palette_of(text: Any) -> tuple[PaletteColor, ...]:
    """A palette as the endpoints take it: "#C2D1E6:60, #3B5B8C:40" (each share in percent, two
    decimals at most), or nothing. Every entry that is not one is named at once."""
    entries = [entry.strip() for entry in str(text or "").split(",", MAX_PALETTE_ENTRIES) if entry.strip()]
    if len(entries) > MAX_PALETTE_ENTRIES:  # the last holds the rest, unsplit
        message = f"more than {MAX_PALETTE_ENTRIES} colours; at most {MAX_PALETTE_ENTRIES} are read"
        raise InvalidRequest([Violation("palette", message)])
    colours, bad = [], []
    for number, entry in enumerate(entries, start=1):
        try:
            colours.append(parse_palette_color(entry))
        except ValueError:
            bad.append(Violation(f"palette.{number}", f"{entry[:40]!r} is not a colour and share like #C2D1E6:25"))
    if bad:
        raise InvalidRequest(bad)
    return tuple(colours)


def box_list(text: str | None) -> tuple[Box, ...]:
    """Boxes as the edit endpoint takes them: IMAGE:x1,y1,x2,y2, one a line (or separated by ";")."""
    lines = box_entries(text)
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


def edit_size_value(shape: str, width: float | None, height: float | None) -> str:
    """The `size` the edit and image-set endpoints take: a tier, else the exact W×H (set by the shape
    chosen). A box left empty gives a size the validator refuses ("?x1280"), never the last one."""
    return shape if shape in set(SizeTier) else f"{_side(width)}x{_side(height)}"


def _side(value: float | None) -> str:
    try:
        return str(int(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return "?"


def tier_value(shape: str) -> str:
    """Text to image's `tier`: the shape when it is one (Wan 2.7), else "" (width and height are sent)."""
    return shape if shape in set(SizeTier) else ""


def interleave_size(shape: str, width: float | None, height: float | None) -> tuple[float | None, float | None]:
    """Interleave's width and height: 0 × 0 follows the input image; otherwise as typed (a box left
    empty is named by the request's check, never taken as "follow")."""
    return (0, 0) if shape == "follow" else (width, height)
