"""The Edit tab's before/after view: the first reference against a result, side by side under one
slider. Its events are private: the public `edit` endpoint keeps its three outputs (API and MCP)."""

from __future__ import annotations

from typing import Any

import gradio as gr
from PIL import Image, ImageOps

from wan26.images import is_web_url
from wan26.ui.i18n import I18N
from wan26.ui.inputs import paths

SAME_SHAPE = 0.01  # width/height ratios closer than this line up to the pixel at the slider's size
MAX_SIDE = 1280  # the padded reference is only looked at, at the slider's size or full screen


def before_after_slider() -> gr.ImageSlider:
    """Hidden until an edit with an uploaded reference has a result."""
    label: Any = I18N("before_after")  # typed str, yet translated like any label
    return gr.ImageSlider(
        label=label,
        type="filepath",
        format="png",
        interactive=False,
        buttons=["fullscreen"],
        slider_position=50,
        max_height=460,
        visible=False,
        elem_id="edit-before-after",
    )


def before_after(references: list[Any] | None, results: list[Any] | None, selected: int | None = None) -> Any:
    """(first reference, chosen result), or hidden when either is missing. A reference given only as
    a link is never fetched by the server, so it gets no view."""
    before = [path for path in paths(references) if not is_web_url(path)]
    after = paths(results)
    if not before or not after:
        return gr.update(visible=False)
    chosen = after[selected if selected is not None and 0 <= selected < len(after) else 0]
    try:
        return gr.update(visible=True, value=(shaped_like(before[0], chosen), chosen))
    except OSError:  # a file gone or unreadable: no view rather than an error over the results
        return gr.update(visible=False)


def shaped_like(before: str, after: str) -> str | Image.Image:
    """The reference as is when it has the result's shape, else padded (transparent) to that shape:
    the slider lays one image over the other, and different shapes would not line up."""
    with Image.open(after) as result:  # reads the header only
        target = result.size
    with Image.open(before) as reference:
        if abs(reference.width / reference.height - target[0] / target[1]) < SAME_SHAPE:
            return before
        return ImageOps.pad(reference.convert("RGBA"), padded_size(reference.size, target), color=(0, 0, 0, 0))


def padded_size(reference: tuple[int, int], target: tuple[int, int]) -> tuple[int, int]:
    """The target's shape, just big enough to hold the reference unscaled, at most MAX_SIDE a side."""
    scale = min(max(reference[0] / target[0], reference[1] / target[1]), MAX_SIDE / max(target))
    return max(1, round(target[0] * scale)), max(1, round(target[1] * scale))


def before_after_selected(references: list[Any] | None, results: list[Any] | None, evt: gr.SelectData) -> Any:
    """The result picked in the gallery, against the first reference."""
    return before_after(references, results, evt.index if isinstance(evt.index, int) else None)


def hide_before_after() -> Any:
    """While a new edit runs, the last run's pair would be compared with images no longer shown."""
    return gr.update(visible=False)
