"""Edit's "Draw a box" section (models whose edit takes boxes: Wan 2.7): a reference picked by its
number, shown upright and small with the boxes of the typed field on it; two clicks on it add a box
to that field, which stays the one thing sent. (Clicks, not gr.ImageEditor: after a stroke Gradio
6.31's page uploaded the editor's layers again and again.)

Only files of the references gallery, as Gradio handed them over (uploaded by this visitor, in its
upload folder), are ever opened; no path is read from text. Its events are private and queued in
their own small lane, so the pictures they decode cannot crowd out the runs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import gradio as gr
from gradio import utils as gr_utils
from PIL import Image

from wan26.types import Mode
from wan26.ui.box_marks import Point, box_between, boxes_on, to_upright, with_box, without_image
from wan26.ui.box_picture import Unpreviewable, preview, upright_size
from wan26.ui.controls import PRIVATE, Choice, FollowsVendor, Form
from wan26.ui.i18n import I18N, Lang, lang_of, t
from wan26.ui.inputs import paths
from wan26.ui.models import Chosen
from wan26.ui.shown import inside
from wan26.ui.texts import offered

DRAWING: dict[str, Any] = {
    "api_visibility": "private",
    "show_progress": "hidden",
    "concurrency_limit": 4,  # for every visitor together: decoding a picture is the costly part
    "concurrency_id": "box-drawing",
}
REDRAWN: dict[str, Any] = {**DRAWING, "trigger_mode": "always_last"}  # the last change is the one to show
Corner = tuple[str, Point] | None  # the first corner clicked: on which file, in its upright pixels
Drawn = tuple[Image.Image | None, str]  # the picture (None: nothing to show) and the status line


class BoxDrawing:
    """The section's controls, built under the typed field, wired to the references and that field."""

    def __init__(self, form: Form, follows: FollowsVendor) -> None:
        self.form, self.follows = form, follows

    def build(self) -> None:
        with gr.Accordion(I18N("draw_box"), open=False, visible=False, elem_id="edit-draw") as self.section:
            self.pick = gr.Radio([], label=I18N("draw_box_on"), elem_id="edit-draw-image")
            self.preview = gr.Image(
                label=I18N("draw_box_preview"),
                show_label=False,  # over the picture, it would hide a corner to click; the status line says what to do
                interactive=False,
                height=320,
                buttons=[],
                elem_id="edit-draw-preview",
            )
            self.status = gr.Markdown(I18N("draw_box_none"), elem_id="edit-draw-status")
            self.clear = gr.Button(I18N("draw_box_clear"), size="sm", elem_id="edit-draw-clear")
        self.corner = gr.State(None)
        self.follows(self.section, lambda choice: gr.update(visible=drawn_on(choice)))

    def wire(self, refs: gr.Gallery, boxes: gr.Textbox, choice: gr.State) -> None:
        """References changed (added, removed, moved) or another picked, or another model: drawn afresh,
        any first corner dropped. The field edited: redrawn. A click: a corner, or a box added."""
        drawn = [self.preview, self.corner, self.status]
        fresh: list[Any] = [refs, self.pick, boxes, choice]
        refs.change(self.numbers, [refs, self.pick], self.pick, **PRIVATE).then(self.fresh, fresh, drawn, **REDRAWN)
        gr.on([self.pick.input, choice.change], self.fresh, fresh, drawn, **REDRAWN)
        boxes.change(self.redrawn, [refs, self.pick, boxes, self.corner, choice], self.preview, **REDRAWN)
        clicked: list[Any] = [refs, self.pick, boxes, self.corner, choice]
        self.preview.select(self.clicked, clicked, [boxes, *drawn], **DRAWING)
        self.clear.click(self.cleared, [boxes, self.pick], [boxes, self.corner, self.status], **PRIVATE)

    def numbers(self, refs: list[Any] | None, number: int | None, request: gr.Request) -> Any:
        """The choice of image follows the references: one per reference, the one picked kept if it still is."""
        count, lang = len(paths(refs)), lang_of(request)
        choices = [(t("reference_n", lang, index=index), index) for index in range(1, count + 1)]
        return gr.update(choices=choices, value=kept_number(number, count))

    def fresh(self, refs: Any, number: int | None, text: str | None, choice: Choice, request: gr.Request) -> Any:
        """The picture of the image picked, its boxes on it, no corner yet; nothing where boxes are not taken."""
        if not self._most(choice):
            return None, None, ""  # hidden: nothing kept to show when it comes back
        picture, status = self._drawn(refs, kept_number(number, len(paths(refs))), text, None, lang_of(request))
        return picture, None, status

    def redrawn(
        self, refs: Any, number: int | None, text: str | None, corner: Corner, choice: Choice, request: gr.Request
    ) -> Any:
        """The field changed (typed, a box added, cleared): the picture again, the first corner kept."""
        if not self._most(choice):
            return None  # the field emptied as the section hides
        return self._drawn(refs, number, text, corner, lang_of(request))[0]

    def cleared(self, text: str | None, number: int | None, request: gr.Request) -> tuple[str, None, str]:
        if number is None:
            return str(text or ""), None, t("draw_box_none", lang_of(request))
        return without_image(text, number), None, t("draw_box_start", lang_of(request), image=number)

    def clicked(
        self,
        refs: Any,
        number: int | None,
        text: str | None,
        corner: Corner,
        choice: Choice,
        evt: gr.SelectData,
        request: gr.Request,
    ) -> tuple[Any, Any, Corner, str]:
        """First click: the corner marked. Second: the box added to the field (which redraws), or why not."""
        lang, most, path, point = lang_of(request), self._most(choice), reference(refs, number), _point(evt.index)
        if number is None or path is None or point is None or not most:
            return gr.skip(), gr.skip(), None, t("draw_box_none", lang)
        try:
            at = to_upright(point, upright_size(path))
        except Unpreviewable:
            return gr.skip(), None, None, t("draw_box_unreadable", lang, image=number)
        if len(boxes_on(text, number)) >= most:  # the picture redrawn without a corner
            return gr.skip(), self._drawn(refs, number, text, None, lang)[0], None, self._full(number, most, lang)
        if corner is None or corner[0] != path:
            picture = self._drawn(refs, number, text, (path, at), lang)[0]
            return gr.skip(), picture, (path, at), t("draw_box_opposite", lang)
        return self._second(number, text, corner, at, lang)

    def _second(
        self, number: int, text: str | None, corner: tuple[str, Point], at: Point, lang: Lang
    ) -> tuple[Any, Any, Corner, str]:
        box = box_between(number, corner[1], at)
        if box is None:
            return gr.skip(), gr.skip(), corner, t("draw_box_flat", lang)
        return with_box(text, box), gr.skip(), None, t("draw_box_added", lang, box=str(box))

    def _drawn(self, refs: Any, number: int | None, text: str | None, corner: Corner, lang: Lang) -> Drawn:
        path = reference(refs, number)
        if number is None or path is None:
            return None, t("draw_box_none", lang)
        mark = corner[1] if corner is not None and corner[0] == path else None
        try:
            return preview(path, boxes_on(text, number), mark), t("draw_box_start", lang, image=number)
        except Unpreviewable:
            return None, t("draw_box_unreadable", lang, image=number)

    def _most(self, choice: Choice) -> int:
        return offered(self.form.chosen(choice), Mode.EDIT).boxes_per_image

    def _full(self, number: int, most: int, lang: Lang) -> str:
        return t("draw_box_full", lang, image=number, most=most)


def drawn_on(choice: Chosen) -> bool:
    """Shown where the model's edit takes boxes and the vendor takes uploads (a link is never fetched to be shown)."""
    return offered(choice, Mode.EDIT).boxes_per_image > 0 and choice.image_rules.accepts_local


def kept_number(number: int | None, count: int) -> int | None:
    """The image to show among `count`: the one picked while there is one, else the last (none: None)."""
    if count == 0:
        return None
    return min(number, count) if isinstance(number, int) and number >= 1 else 1


def reference(refs: Any, number: int | None) -> str | None:
    """The file of reference `number` (1 for the first), taken only from the gallery's own value and
    only inside Gradio's upload folder; None for anything else."""
    files = paths(refs)
    if not isinstance(number, int) or not 1 <= number <= len(files) or not isinstance(files[number - 1], str):
        return None
    path = Path(files[number - 1]).resolve()
    return str(path) if inside(path, Path(gr_utils.get_upload_folder()).resolve()) and path.is_file() else None


def _point(index: Any) -> Point | None:
    """Gradio's click on an image: [x, y], the pixel of the picture shown; anything else is no click."""
    if not isinstance(index, list | tuple) or len(index) != 2:
        return None
    if not all(isinstance(value, int | float) and math.isfinite(value) for value in index):
        return None
    return round(index[0]), round(index[1])
