"""The Edit tab's "Mark areas to edit" section (Wan 2.7 box edits): the visitor picks a reference,
paints over each area on a drawing surface (a gr.ImageEditor holding an upright copy of it), and
sees the boxes that become, drawn on the reference and written out. The boxes reach the edit
endpoint as its `boxes` input (IMAGE:x1,y1,x2,y2 lines), which API callers can also send.

Where the picture comes from: only the references gallery, as Gradio hands it to a handler (it takes
files from its own upload folder only, which is checked again here). The drawing surface's own
background, which a browser sends back with each stroke, is never opened as a file by this code;
only the painted layer is read, and only for the pixel sizes the server itself showed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradio as gr
from gradio import utils as gr_utils
from PIL import Image

from wan26.errors import ConfigError
from wan26.limits import ModeLimits
from wan26.providers import get_adapter
from wan26.types import Mode, Model
from wan26.ui.box_marks import Marks, Showing
from wan26.ui.box_shapes import Rect, boxes_from_layer, layer_of, preview, shown_copy
from wan26.ui.controls import PRIVATE_NOTIFYING
from wan26.ui.i18n import I18N, Lang, lang_of, listed, t
from wan26.ui.inputs import paths
from wan26.ui.shown import inside

BRUSH_RADIUS = 8  # px of the shown copy: thin enough to outline an area, a few strokes to fill one
PAINT = "#ff3b3b"
# Queued, so that a visitor's events are taken in order and a warning can reach the page.
QUEUED: dict[str, Any] = {**PRIVATE_NOTIFYING, "concurrency_id": "boxes"}
# Strokes come quickly; only the last one's drawing matters, so earlier ones still queued are skipped.
DRAWN: dict[str, Any] = {**QUEUED, "trigger_mode": "always_last"}


def edit_limits(provider: str | None, model: str | None = None) -> ModeLimits | None:
    """What an edit with this vendor and model accepts (None: not offered, or no such vendor/model)."""
    try:
        return get_adapter(str(provider or "")).facts.limits_of(Model(model or Model.WAN26)).get(Mode.EDIT)
    except (ConfigError, ValueError):
        return None


class BoxEditor:
    """Built inside the Edit tab's form (`build`), wired to its references (`wire`), and shown only
    where the chosen model's edit takes boxes (`follow`). `value` is the edit endpoint's `boxes` input."""

    def build(self) -> None:
        with gr.Accordion(I18N("boxes_title"), open=False, visible=False, elem_id="edit-boxes") as self.section:
            gr.Markdown(I18N("boxes_help"), elem_classes=["count"])
            self.pick = gr.Radio([], label=I18N("boxes_image"), elem_id="edit-boxes-image")
            self.surface = gr.ImageEditor(
                label=I18N("boxes_surface"),
                type="pil",
                image_mode="RGBA",
                sources=(),  # its picture is always a reference the server put there
                transforms=(),
                layers=False,
                brush=gr.Brush(default_size=BRUSH_RADIUS, colors=[PAINT], color_mode="fixed"),
                eraser=gr.Eraser(default_size=BRUSH_RADIUS * 2),
                format="png",  # lossless, so a layer drawn back from boxes reads back as the same boxes
                height=360,
                buttons=[],
                elem_id="edit-boxes-surface",
            )
            self.summary = gr.Markdown(elem_id="edit-boxes-summary")
            self.preview = gr.Image(
                label=I18N("boxes_preview"),
                interactive=False,
                format="jpeg",
                height=200,
                buttons=[],
                elem_id="edit-boxes-preview",
            )
            self.clear = gr.Button(I18N("boxes_clear"), size="sm", elem_id="edit-boxes-clear")
        self.value = gr.Textbox("", visible=False, elem_id="edit-boxes-value")
        self.marks = gr.State(Marks())

    def wire(self, references: gr.Gallery) -> None:
        shown = [self.marks, self.surface, self.preview, self.summary, self.value]
        references.change(references_changed, [references, self.marks], [self.pick, *shown], **QUEUED)
        self.pick.input(pick_changed, [self.pick, references, self.marks], shown, **QUEUED)
        drawn = [self.marks, self.preview, self.summary, self.value]
        self.surface.change(painted, [self.surface, self.marks], drawn, **DRAWN)
        self.surface.clear(cleared_one, [references, self.marks], shown, **QUEUED)
        self.clear.click(cleared_all, [references, self.marks], shown, **QUEUED)

    def follow(self, inputs: Sequence[Any], limits_of: Callable[..., ModeLimits | None], after: Any = None) -> None:
        """Shown where `limits_of(*inputs)` (the vendor and model chosen) takes boxes, re-read whenever
        an input changes (and after `after`, the page load); hidden, it sends no boxes."""

        def adapt(*values: Any) -> tuple[Any, Marks, str]:
            *chosen, marks = values
            limits = limits_of(*chosen)
            per_image = limits.boxes_per_image if limits is not None else 0
            marks = replace(marks, per_image=per_image or marks.per_image, active=per_image > 0)
            return gr.update(visible=per_image > 0), marks, marks.as_text()

        outputs = [self.section, self.marks, self.value]
        for component in inputs:
            component.change(adapt, [*inputs, self.marks], outputs, **QUEUED)
        if after is not None:
            after.then(adapt, [*inputs, self.marks], outputs, **QUEUED)


def references_changed(references: list[Any] | None, marks: Marks, request: gr.Request) -> tuple[Any, ...]:
    """Boxes whose reference moved or went are dropped, and the visitor is told; the picker lists the
    references as they are now."""
    lang, files = lang_of(request), paths(references)
    kept, dropped = marks.after_references(files)
    note = t("boxes_dropped", lang, images=listed((t("image_n", lang, index=i) for i in dropped), lang))
    if dropped:
        gr.Warning(note)
    choices = [(t("reference_n", lang, index=index), index) for index in range(1, len(files) + 1)]
    picked = kept.showing.image if kept.showing else None
    same_picture = kept.showing == marks.showing
    # Unchanged, the summary is left as it is: a second change event (Gradio sends one for the gallery's
    # own relabelling) must not wipe the word about dropped boxes before it is read.
    said = summary(kept, lang, note) if dropped else (gr.skip() if kept == marks else summary(kept, lang))
    return (
        gr.update(choices=choices, value=picked),
        kept,
        gr.skip() if same_picture else None,
        gr.skip() if same_picture else None,
        said,
        kept.as_text(),
    )


def pick_changed(image: int | None, references: list[Any] | None, marks: Marks, request: gr.Request) -> tuple[Any, ...]:
    return _show(image, references, marks, lang_of(request))


def cleared_one(references: list[Any] | None, marks: Marks, request: gr.Request) -> tuple[Any, ...]:
    """The surface's own bin empties it, picture and all: the picture comes back, without boxes."""
    showing = marks.showing
    if showing is None:
        return marks, None, None, summary(marks, lang_of(request)), marks.as_text()
    emptied = marks.with_boxes(showing.image, showing.path, showing.upright, ())
    return _show(showing.image, references, emptied, lang_of(request))


def cleared_all(references: list[Any] | None, marks: Marks, request: gr.Request) -> tuple[Any, ...]:
    emptied = marks.cleared()
    if emptied.showing is None:
        return emptied, gr.skip(), None, summary(emptied, lang_of(request)), ""
    return _show(emptied.showing.image, references, emptied, lang_of(request))


def _show(image: int | None, references: list[Any] | None, marks: Marks, lang: Lang) -> tuple[Any, ...]:
    """Reference `image` on the surface, with its boxes painted in to draw on further; and its preview."""
    files = paths(references)
    if image is None or not 1 <= int(image) <= len(files):
        unpicked = replace(marks, showing=None)
        return unpicked, None, None, summary(unpicked, lang, t("boxes_pick", lang)), unpicked.as_text()
    number, path = int(image), files[int(image) - 1]
    picture = _picture(path)
    if picture is None:
        unpicked = replace(marks, showing=None)
        note = t("boxes_unreadable", lang, image=number)
        return unpicked, None, None, summary(unpicked, lang, note), unpicked.as_text()
    shown_image, upright = picture
    marked = marks.by_image.get(number)
    boxes = marked.boxes if marked is not None and marked.path == path else ()
    showing = Showing(number, path, upright, shown_image.size)
    marks = replace(marks.with_boxes(number, path, upright, boxes), showing=showing)
    layers = [layer_of(boxes, upright, shown_image.size)] if boxes else []
    surface = {"background": shown_image, "layers": layers, "composite": None}
    return marks, surface, preview(shown_image, boxes, upright), summary(marks, lang), marks.as_text()


def _picture(path: str) -> tuple[Image.Image, tuple[int, int]] | None:
    """The upright copy of an uploaded reference, or None for anything else (or a file Pillow will not read)."""
    uploads = Path(gr_utils.get_upload_folder()).resolve()
    if not inside(Path(path).resolve(), uploads):  # Gradio checked it already: a second lock on the door
        return None
    try:
        return shown_copy(path)
    except (OSError, ValueError, Image.DecompressionBombError):  # UnidentifiedImageError is an OSError
        return None


def painted(value: dict[str, Any] | None, marks: Marks, request: gr.Request) -> tuple[Any, ...]:
    """The boxes the showing reference's painting becomes, at most `per_image`, with a word when
    more areas were painted than that."""
    lang, showing = lang_of(request), marks.showing
    if showing is None or value is None:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    layer = _one_layer(value.get("layers") or [], showing.shown)
    if layer is None:
        return marks, gr.skip(), summary(marks, lang, t("boxes_mismatch", lang, image=showing.image)), marks.as_text()
    earlier = marks.on(showing.image)
    boxes, found = boxes_from_layer(layer, showing.upright, marks.per_image, earlier)
    marks = marks.with_boxes(showing.image, showing.path, showing.upright, boxes)
    too_many = found > len(boxes)
    note = t("boxes_too_many", lang, image=showing.image, found=found, limit=marks.per_image) if too_many else ""
    background = value.get("background")
    drawn = preview(background, boxes, showing.upright) if isinstance(background, Image.Image) else gr.skip()
    return marks, drawn, summary(marks, lang, note), marks.as_text()


def _one_layer(layers: list[Any], size: tuple[int, int]) -> Image.Image | None:
    """The surface's layers as one, if they are the size of the copy shown (else None: not our drawing)."""
    pictures = [layer for layer in layers if isinstance(layer, Image.Image)]
    if any(layer.size != size for layer in pictures):
        return None
    merged = Image.new("RGBA", size, (0, 0, 0, 0))
    for layer in pictures:
        merged.alpha_composite(layer.convert("RGBA"))
    return merged


def summary(marks: Marks, lang: Lang, note: str = "") -> str:
    """One line per image with boxes ("image 2: 2 boxes — (989, 515)–(1138, 681), …"), after `note`."""
    lines = [_line(image, marked.boxes, lang) for image, marked in sorted(marks.by_image.items())]
    return "  \n".join([note] * bool(note) + (lines or [t("boxes_none", lang)]))


def _line(image: int, boxes: Sequence[Rect], lang: Lang) -> str:
    corners = listed((f"({x1}, {y1})–({x2}, {y2})" for x1, y1, x2, y2 in boxes), lang)
    key = "boxes_line_one" if len(boxes) == 1 else "boxes_line_many"
    return t(key, lang, image=image, count=len(boxes), corners=corners)
