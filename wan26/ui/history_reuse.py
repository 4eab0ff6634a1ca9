"""A past run's settings as values for its tab's form ("Reuse settings"), fitted to the vendor the
form now shows: a control that vendor lacks is left alone, and what cannot be refilled is said, in
the visitor's language."""

from __future__ import annotations

import math
from typing import Any

from wan26.history import PastRun
from wan26.limits import ModeLimits
from wan26.types import Mode, PaletteColor, Size, SizeTier, parse_size
from wan26.ui.actions import fixed_seed, random_seed
from wan26.ui.controls import FOLLOW_INPUT
from wan26.ui.i18n import Lang, t
from wan26.ui.models import Chosen
from wan26.ui.palette import FEWEST, MOST
from wan26.ui.ratios import ratio_choices, size_for_ratio
from wan26.ui.texts import offered

# The form's fields, named alike in every tab (interleave has no prompt rewriting).
FIELDS = ("prompt", "negative", "shape", "width", "height", "count", "random", "seed", "used", "extend", "mark")


def form_values(run: PastRun, choice: Chosen, lang: Lang = Lang.EN) -> tuple[dict[str, Any], list[str]]:
    """{field: value} for the fields to set, and what the visitor should be told (in `lang`)."""
    limits, notes = offered(choice, run.mode), []
    values: dict[str, Any] = {"negative": run.negative_prompt or ""}
    if run.prompt is not None:
        values["prompt"] = run.prompt
    else:
        notes.append(t("reuse_prompt_unknown", lang))
    values |= _size_values(run, limits, notes, lang) | _seed_values(run, limits) | _switches(run, limits)
    count = run.parameters.get("max_images" if run.mode is Mode.INTERLEAVE else "n")
    if isinstance(count, int) and not isinstance(count, bool):
        values["count"] = count
    if run.thinking is not None and limits.thinking:
        values["thinking"] = run.thinking
    palette = _palette(run)
    if limits.palette is not None:  # no palette, or one the form cannot show: switched off, not left as it was
        values["palette"] = palette or []
    refilled = bool(palette) and limits.palette is not None
    notes += _not_refilled(run, lang) + ([] if refilled else _palette_not_refilled(run, lang))
    return values, notes


def _size_values(run: PastRun, limits: ModeLimits, notes: list[str], lang: Lang) -> dict[str, Any]:
    """The shape that makes the run's size here, else its exact size (under Advanced)."""
    try:
        size = parse_size(str(run.parameters.get("size") or ""))
    except ValueError:  # no size asked for: interleave followed its input image; else not recorded
        return {"shape": FOLLOW_INPUT} if run.mode is Mode.INTERLEAVE else {}
    if isinstance(size, SizeTier):
        return {"shape": size.value} if size in limits.size_tiers else _tier_lacking(size, notes, lang)
    ratios = [ratio for _, ratio in ratio_choices(limits, run.mode)]
    match = next((ratio for ratio in ratios if size_for_ratio(ratio, limits, run.mode) == size), None)
    exact = {"width": size.width, "height": size.height}
    if match is not None:
        return exact | {"shape": match}
    notes.append(t("reuse_size_no_shape", lang, size=f"{size.width}×{size.height}"))
    # 2.6's text to image sends its width and height whatever the shape; where the mode has tiers
    # (2.7), a tier shape would win over them, so the nearest ratio is picked as in edit.
    if (run.mode is Mode.TEXT_TO_IMAGE and not limits.size_tiers) or not ratios:
        return exact
    return exact | {"shape": _nearest(size, ratios)}  # edit and interleave send W×H only with a shape


def _tier_lacking(tier: SizeTier, notes: list[str], lang: Lang) -> dict[str, Any]:
    notes.append(t("reuse_tier_lacking", lang, tier=tier.value))
    return {}


def _nearest(size: Size, ratios: list[str]) -> str:
    def distance(ratio: str) -> float:
        across, down = (int(part) for part in ratio.split(":"))
        return abs(math.log(size.width / size.height) - math.log(across / down))

    return min(ratios, key=distance)


def _seed_values(run: PastRun, limits: ModeLimits) -> dict[str, Any]:
    """A fixed seed unticks Random; `used` is what unticking starts from, so it must agree. The seed
    box is set whole, locked or not: setting the checkbox does not (see `randomize_clicked`)."""
    if limits.seed is None:  # this vendor takes none: its seed controls stay hidden, at random
        return {}
    if run.seed is None:
        return {"random": True, "seed": random_seed()}
    return {"random": False, "seed": fixed_seed(run.seed), "used": run.seed}


def _switches(run: PastRun, limits: ModeLimits) -> dict[str, Any]:
    values = {}
    extend, mark = run.parameters.get("prompt_extend"), run.parameters.get("watermark")
    if isinstance(extend, bool) and limits.prompt_extend and run.mode is not Mode.INTERLEAVE:
        values["extend"] = extend
    if isinstance(mark, bool) and limits.watermark:
        values["mark"] = mark
    return values


def _palette(run: PastRun) -> list[tuple[str, float]] | None:
    """The run's palette as (#RRGGBB, percent) rows; None when it had none or its record's is not
    one the form can show (it is then named in a note instead)."""
    rows = []
    for entry in run.palette:
        hex_code, share = entry.get("hex"), entry.get("percent")
        if not isinstance(hex_code, str) or not PaletteColor(hex_code.strip(), 0).is_valid_hex:
            return None
        if not isinstance(share, int | float) or isinstance(share, bool) or not 0 < share <= 100:
            return None  # (the comparison also refuses NaN, and an integer too big for a float)
        rows.append((hex_code.strip().upper(), float(share)))
    return rows if FEWEST <= len(rows) <= MOST else None


def _palette_not_refilled(run: PastRun, lang: Lang) -> list[str]:
    """Its colours are named, for the visitor to set again under Colour palette."""
    colours = [f"{entry.get('hex')} {entry.get('percent')} %" for entry in run.palette]
    return [t("reuse_palette", lang, colours=", ".join(colours))] if colours else []


def _not_refilled(run: PastRun, lang: Lang) -> list[str]:
    """Uploads are not kept with a run: only their description is."""
    count = len(run.reference_images)
    if not count or run.mode is Mode.TEXT_TO_IMAGE:
        return []
    if run.mode in (Mode.EDIT, Mode.IMAGE_SET):
        return [t("reuse_references", lang, count=count)]
    return [t("reuse_input", lang)]
