"""The columns of a jobs file and how each cell becomes a value. Pure: no files, no vendors.

A cell left empty (or a key left out of a JSON line) takes the command line's default. Every
converter raises ValueError with a message a user can act on; `jobs` adds the line and field.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from wan26.types import (
    Box,
    Mode,
    Model,
    PaletteColor,
    ProviderName,
    Size,
    SizeTier,
    parse_box,
    parse_palette_color,
    parse_size,
)

IMAGE_SEPARATOR = "|"  # between references in one CSV cell: a character file names and URLs rarely hold

# A CSV's header (or a JSON line's keys) names these, in any case, with spaces or hyphens for "_".
FIELDS = (
    "mode",
    "prompt",
    "negative_prompt",
    "size",
    "n",
    "seed",
    "images",
    "provider",
    "max_images",
    "prompt_extend",
    "watermark",
    "model",
    "thinking",
    "palette",
    "boxes",
)
ALIASES = {"vendor": "provider", "negative": "negative_prompt", "references": "images", "image": "images"}
_TRUE, _FALSE = frozenset({"true", "yes", "y", "1", "on"}), frozenset({"false", "no", "n", "0", "off"})


def column_name(header: str) -> str:
    """The field a header names ("Negative prompt" -> negative_prompt), or the header unchanged."""
    name = header.strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(name, name)


def is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def to_text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be text, not {_shown(value)}")
    return value


def to_mode(value: object) -> Mode:
    try:
        return Mode(to_text(value).strip().lower())
    except ValueError:
        raise ValueError(f"{_shown(value)} is not a mode; use one of: {', '.join(Mode)}") from None


def to_provider(value: object) -> ProviderName:
    try:
        return ProviderName(to_text(value).strip().lower())
    except ValueError:
        raise ValueError(f"{_shown(value)} is not a vendor; use one of: {', '.join(ProviderName)}") from None


def to_model(value: object) -> Model:
    try:
        return Model.named(to_text(value))
    except ValueError:
        raise ValueError(f"{_shown(value)} is not a model; use one of: {', '.join(Model)}") from None


def to_palette(value: object) -> tuple[PaletteColor, ...]:
    """Colours as `#RRGGBB:PCT`: a JSON list, or one text with `|` between them."""
    return tuple(parse_palette_color(part) for part in _parts(value, "colours like #C2D1E6:25"))


def to_boxes(value: object) -> tuple[Box, ...]:
    """Boxes as `IMAGE:x1,y1,x2,y2`: a JSON list, or one text with `|` between them."""
    return tuple(parse_box(part) for part in _parts(value, "boxes like 2:989,515,1138,681"))


def _parts(value: object, what: str) -> list[str]:
    if isinstance(value, str):
        parts = value.split(IMAGE_SEPARATOR)
    elif isinstance(value, list) and all(isinstance(part, str) for part in value):
        parts = value
    else:
        raise ValueError(f"must be {what} (a list, or text with {IMAGE_SEPARATOR} between them)")
    return [part.strip() for part in parts if part.strip()]


def to_size(value: object) -> Size | SizeTier:
    return parse_size(to_text(value))


def to_int(value: object) -> int:
    """A whole number, as a JSON number or as text ("3"); never a bool or a fraction."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    raise ValueError(f"must be a whole number, not {_shown(value)}")


def to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ValueError(f"must be true or false, not {_shown(value)}")


def to_images(value: object) -> tuple[str, ...]:
    """References in order, as written: a JSON list, or one text with `|` between them."""
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(IMAGE_SEPARATOR)]
    elif isinstance(value, list) and all(isinstance(part, str) for part in value):
        parts = [part.strip() for part in value]
    else:
        raise ValueError(f"must be paths or URLs (a list, or text with {IMAGE_SEPARATOR} between them)")
    return tuple(part for part in parts if part)


def located(references: tuple[str, ...], base: Path) -> tuple[str, ...]:
    """Each relative path read from `base` (the jobs file's folder), so a jobs file and its images
    can move together; URLs as they are (the limits check their form)."""
    return tuple(_located(reference, base) for reference in references)


def _located(reference: str, base: Path) -> str:
    if "://" in reference:
        return reference
    path = Path(reference).expanduser()
    return str(path if path.is_absolute() else base / path)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


CONVERTERS: dict[str, Callable[[Any], object]] = {
    "mode": to_mode,
    "prompt": to_text,
    "negative_prompt": to_text,
    "size": to_size,
    "n": to_int,
    "seed": to_int,
    "images": to_images,
    "provider": to_provider,
    "max_images": to_int,
    "prompt_extend": to_bool,
    "watermark": to_bool,
    "model": to_model,
    "thinking": to_bool,
    "palette": to_palette,
    "boxes": to_boxes,
}
