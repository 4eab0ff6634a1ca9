"""Wan 2.7's colour palette: 3 to 10 colours, each with its share of the image, the shares summing to
100 %. Ten rows are built and the unused hidden (Gradio cannot add components to a page once it is
built); what is sent is one text, "#RRGGBB:PCT, …", which the API takes as it is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import gradio as gr

from wan26.types import Mode
from wan26.ui.controls import PRIVATE, FollowsVendor
from wan26.ui.i18n import I18N, Lang, lang_of, t
from wan26.ui.models import Chosen
from wan26.ui.texts import offered

MOST, FEWEST = 10, 3  # the vendors' bounds (wan26/providers/_wan27.py); rows beyond the fewest start hidden
# A calm starting palette whose shares already make 100 %: a visitor changes it rather than builds it.
FIRST = (("#C2D1E6", 50.0), ("#3B5B8C", 30.0), ("#F2C14E", 20.0))
SPARE = ("#FFFFFF", 0.0)
_RGB = re.compile(r"^rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)")
# Each swatch outlined, so that a white or pale colour (a new row starts white) still shows on the page.
CSS = """
[id*="-colour-"] .dialog-button {border: 1px solid var(--neutral-400); box-sizing: border-box}
"""


@dataclass
class PaletteControls:
    """One tab's palette: whether to send it, its rows, and the text sent (`text`, hidden)."""

    use: gr.Checkbox
    rows: list[gr.Row]
    colours: list[gr.ColorPicker]
    shares: list[gr.Number]
    add: gr.Button
    remove: gr.Button
    total: gr.Markdown
    shown: gr.State  # how many rows are shown
    text: gr.Textbox


def palette_controls(mode: Mode, follows: FollowsVendor, first: Chosen) -> PaletteControls:
    """The accordion, closed; shown only where the vendor and model take a palette (switched off elsewhere)."""
    with gr.Accordion(I18N("palette"), open=False, visible=_takes(first, mode), elem_id=f"{mode}-palette") as box:
        use = gr.Checkbox(
            False, label=I18N("palette_use"), info=I18N("palette_use_info"), elem_id=f"{mode}-palette-use"
        )
        rows, colours, shares = _rows(mode)
        with gr.Row():
            add = gr.Button(I18N("palette_add"), size="sm", elem_id=f"{mode}-palette-add")
            remove = gr.Button(I18N("palette_remove"), size="sm", elem_id=f"{mode}-palette-remove")
        total = gr.Markdown(elem_classes="count", elem_id=f"{mode}-palette-total")
        shown = gr.State(FEWEST)  # inside the tab: a State outside any tab is laid out in the tab bar
    text = gr.Textbox("", visible=False)
    controls = PaletteControls(use, rows, colours, shares, add, remove, total, shown, text)
    follows(box, lambda choice: gr.update(visible=_takes(choice, mode)))
    follows(use, lambda choice: gr.update() if _takes(choice, mode) else gr.update(value=False))
    _wire(controls)
    return controls


def refilled(c: PaletteControls, entries: list[tuple[str, float]]) -> dict[Any, Any]:
    """The rows set to a past run's colours and shares, switched on; none: switched off ("Reuse
    settings"). The text sent follows from their change events, as when a visitor sets them."""
    if not entries:
        return {c.use: False}
    shown, *rows = _resized(len(entries))
    values: dict[Any, Any] = {c.use: True, c.shown: shown, **dict(zip(c.rows, rows, strict=True))}
    values |= {picker: colour for picker, (colour, _) in zip(c.colours, entries[:MOST], strict=False)}
    return values | {box: share for box, (_, share) in zip(c.shares, entries[:MOST], strict=False)}


def refilled_outputs(c: PaletteControls) -> list[Any]:
    """What `refilled` may set, for an event's outputs."""
    return [c.use, c.shown, *c.rows, *c.colours, *c.shares]


def _takes(choice: Chosen, mode: Mode) -> bool:
    return mode in choice.limits and offered(choice, mode).palette is not None


def _rows(mode: Mode) -> tuple[list[gr.Row], list[gr.ColorPicker], list[gr.Number]]:
    rows, colours, shares = [], [], []
    for number in range(1, MOST + 1):
        colour, share = FIRST[number - 1] if number <= len(FIRST) else SPARE
        with gr.Row(visible=number <= FEWEST, equal_height=True) as row:
            picker = gr.ColorPicker(colour, label=str(number), scale=1, min_width=80, elem_id=f"{mode}-colour-{number}")
            # No minimum or maximum: Gradio would refuse a share beyond them before our handler saw it,
            # and the total would keep showing (and the run send) the share before.
            percent = gr.Number(share, label="%", scale=2, min_width=80, elem_id=f"{mode}-share-{number}")
        rows.append(row)
        colours.append(picker)
        shares.append(percent)
    return rows, colours, shares


def _wire(c: PaletteControls) -> None:
    resized = [c.shown, *c.rows]
    c.add.click(lambda shown: _added(c, shown), c.shown, [*resized, *c.colours, *c.shares], **PRIVATE)
    c.remove.click(lambda shown: _resized(shown - 1), c.shown, resized, **PRIVATE)
    triggers = [c.use.change, c.shown.change, *(picker.change for picker in c.colours), *(n.change for n in c.shares)]
    inputs = [c.use, c.shown, *c.colours, *c.shares]
    gr.on(triggers, palette_text, inputs, [c.text, c.total], **PRIVATE)


def _added(c: PaletteControls, shown: int) -> dict[Any, Any]:
    """One row more, starting as a spare: a hidden row keeps what it last held (a colour removed, or
    one of a longer palette that "Reuse settings" filled in), which "Add a colour" must not bring back."""
    count, *rows = _resized(shown + 1)
    spare = {c.colours[shown]: SPARE[0], c.shares[shown]: SPARE[1]} if count > shown else {}  # none past MOST
    return {c.shown: count, **dict(zip(c.rows, rows, strict=True)), **spare}


def _resized(wanted: int) -> list[Any]:
    shown = min(max(wanted, FEWEST), MOST)
    return [shown, *(gr.update(visible=number <= shown) for number in range(1, MOST + 1))]


def palette_text(request: gr.Request, use: bool, shown: int, *values: Any) -> tuple[str, str]:
    """The text sent ("" when the palette is off) and the total beside the rows, in the visitor's
    language. (Gradio hands the request first: its annotation says so.)"""
    lang = lang_of(request)
    if not use:
        return "", t("palette_off", lang)
    colours, shares = values[:MOST][:shown], [_share(share) for share in values[MOST:][:shown]]
    # Sent as typed: a share out of 0–100 is refused by the validator, never replaced.
    entries = [f"{hex_of(colour)}:{share:.2f}" for colour, share in zip(colours, shares, strict=True)]
    return ", ".join(entries), _verdict(shares, lang)


def _verdict(shares: list[float], lang: Lang) -> str:
    """The line beside the rows: the first share out of 0–100, else the total."""
    for number, share in enumerate(shares, start=1):
        if not 0 <= share <= 100:
            return t("palette_share_out", lang, number=number, share=f"{share:g}")
    return total_line(sum(round(share * 100) for share in shares), lang)


def total_line(hundredths: int, lang: Lang = Lang.EN) -> str:
    total = f"{hundredths / 100:g}"
    return t("palette_total_ok" if hundredths == 10_000 else "palette_total_off", lang, total=total)


def hex_of(value: Any) -> str:
    """#RRGGBB from the picker's value: a hex code, or rgb()/rgba() as some browsers report it."""
    text = str(value or "").strip()
    found = _RGB.match(text)
    if found:
        return "#" + "".join(f"{min(int(part), 255):02X}" for part in found.groups())
    return text.upper()


def _share(value: Any) -> float:
    """A share as typed; an emptied box counts as 0 (its row is then refused for it)."""
    try:
        return float(value or 0)
    except (TypeError, ValueError, OverflowError):
        return 0.0
