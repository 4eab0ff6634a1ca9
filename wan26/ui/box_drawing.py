"""Edit's "Draw a box" section (models whose edit takes boxes: Wan 2.7): a reference picked by its
number, shown upright and small with the boxes of the typed field on it; two clicks on it add a box
to that field, which stays the one thing sent. (Clicks, not gr.ImageEditor: after a stroke Gradio
6.31's page uploaded the editor's layers again and again.) The field's boxes follow their images
when references are moved or removed.

Only files of the references gallery, as Gradio handed them over (uploaded by this visitor, in its
upload folder), are ever opened; no path is read from text. Its events are private and never queued:
each is cheap (a kept picture redrawn, at most the model's boxes from the field's first lines) or
refused at once (box_picture: too large, or Busy), so a burst of them cannot fill the queue the runs
share, and nothing is drawn while the section is closed or hidden."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import gradio as gr
from gradio import utils as gr_utils
from PIL import Image

from wan26.types import Mode
from wan26.ui.box_marks import (
    MAX_FIELD_CHARS,
    Point,
    Size,
    box_between,
    boxes_on,
    preview_size,
    renumbered,
    to_upright,
    with_box,
    without_image,
)
from wan26.ui.box_picture import Busy, Unpreviewable, preview, upright_size
from wan26.ui.controls import PRIVATE, Choice, FollowsVendor, Form
from wan26.ui.i18n import I18N, Lang, lang_of, t
from wan26.ui.inputs import paths
from wan26.ui.models import Chosen
from wan26.ui.shown import inside
from wan26.ui.texts import offered

# The last change (or click) is the one to handle: one made while another is handled runs after it,
# with the field and corner it left (not dropped, as with Gradio's default "once").
DRAWING: dict[str, Any] = {**PRIVATE, "trigger_mode": "always_last"}
Corner = tuple[str, Point] | None  # the first corner clicked: on which file, in its upright pixels
Drawn = tuple[Image.Image | None, str, str]  # the picture (None: nothing to show), its token, the status line
Clicked = tuple[Any, Any, Any, Corner, str]  # the field, the picture, its token, the corner, the status line


class BoxDrawing:
    """The section's controls, built under the typed field, wired to the references and that field."""

    def __init__(self, form: Form, follows: FollowsVendor) -> None:
        self.form, self.follows = form, follows

    def build(self) -> None:
        with gr.Accordion(I18N("draw_box"), open=False, visible=False, elem_id="edit-draw") as self.section:
            self.pick = gr.Radio([], label=I18N("draw_box_on"), elem_id="edit-draw-image")
            self.preview = _picture()
            # Which file, at which size, the picture shown is of: sent with each click, from the page,
            # so a click on a picture about to be replaced is not read at the new one's scale.
            self.token = gr.Textbox("", visible=False)
            self.status = gr.Markdown(I18N("draw_box_none"), elem_id="edit-draw-status")
            self.clear = gr.Button(I18N("draw_box_clear"), size="sm", elem_id="edit-draw-clear")
        self.corner, self.opened, self.before = gr.State(None), gr.State(False), gr.State([])
        self.follows(self.section, lambda choice: gr.update(visible=drawn_on(choice)))

    def wire(self, refs: gr.Gallery, boxes: gr.Textbox, choice: gr.State) -> None:
        """References changed (added, removed, moved) or another picked, or another model, or the section
        opened: drawn afresh, any first corner dropped. The field edited: redrawn. A click: a corner, or
        a box added. References moved or removed: the field's boxes follow their images."""
        drawn = [self.preview, self.token, self.corner, self.status]
        fresh: list[Any] = [refs, self.pick, boxes, self.opened, choice]
        refs.change(self.numbers, [refs, self.pick], self.pick, **PRIVATE).then(self.fresh, fresh, drawn, **DRAWING)
        refs.change(follow_references, [refs, self.before, boxes], [boxes, self.before], **PRIVATE)
        self.section.expand(lambda: True, None, self.opened, **PRIVATE).then(self.fresh, fresh, drawn, **DRAWING)
        self.section.collapse(lambda: False, None, self.opened, **PRIVATE)
        gr.on([self.pick.input, choice.change], self.fresh, fresh, drawn, **DRAWING)
        shown: list[Any] = [refs, self.pick, boxes, self.corner, self.opened, choice]
        boxes.change(self.redrawn, shown, [self.preview, self.token], **DRAWING)
        self.preview.select(self.clicked, [*shown, self.token], [boxes, *drawn[:3], self.status], **DRAWING)
        self.clear.click(self.cleared, [boxes, self.pick], [boxes, self.corner, self.status], **PRIVATE)

    def numbers(self, refs: list[Any] | None, number: int | None, request: gr.Request) -> Any:
        """The choice of image follows the references: one per reference, the one picked kept if it still is."""
        count, lang = len(paths(refs)), lang_of(request)
        choices = [(t("reference_n", lang, index=index), index) for index in range(1, count + 1)]
        return gr.update(choices=choices, value=kept_number(number, count))

    def fresh(
        self, refs: Any, number: int | None, text: str | None, opened: bool, choice: Choice, request: gr.Request
    ) -> Any:
        """The picture of the image picked, its boxes on it, no corner yet; nothing while the section is
        closed, or where boxes are not taken (hidden: nothing kept to show when it comes back)."""
        most = self._most(choice)
        if not most or not opened:
            return None, "", None, ""
        number = kept_number(number, len(paths(refs)))
        picture, token, status = self._drawn(refs, number, text, None, most, lang_of(request))
        return picture, token, None, status

    def redrawn(
        self,
        refs: Any,
        number: int | None,
        text: str | None,
        corner: Corner,
        opened: bool,
        choice: Choice,
        request: gr.Request,
    ) -> Any:
        """The field changed (typed, a box added, cleared): the picture again, the first corner kept."""
        most = self._most(choice)
        if not most or not opened:
            return None, ""  # the field emptied as the section hides
        return self._drawn(refs, number, text, corner, most, lang_of(request))[:2]

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
        opened: bool,
        choice: Choice,
        token: str | None,
        evt: gr.SelectData,
        request: gr.Request,
    ) -> Clicked:
        """First click: the corner marked. Second: the box added to the field (which redraws), or why not."""
        lang, most, path, point = lang_of(request), self._most(choice), reference(refs, number), _point(evt.index)
        if number is None or path is None or point is None or not most or not opened:
            return gr.skip(), gr.skip(), gr.skip(), None, t("draw_box_none", lang)
        upright = self._upright(path, number, lang)
        if isinstance(upright, str):  # why not: the picture and any corner dropped, or left (busy)
            return gr.skip(), gr.skip(), gr.skip(), corner, upright
        if token != picture_token(path, preview_size(upright)):  # clicked as the picture was being replaced
            return gr.skip(), gr.skip(), gr.skip(), corner, t("draw_box_changed", lang)
        at = to_upright(point, upright)
        if len(boxes_on(text, number, most)) >= most:  # the picture redrawn without a corner
            picture, token, _ = self._drawn(refs, number, text, None, most, lang)
            return gr.skip(), picture, token, None, self._full(number, most, lang)
        if corner is None or corner[0] != path:
            return self._first(refs, number, text, (path, at), most, lang)
        return self._second(number, text, corner, at, lang)

    def _upright(self, path: str, number: int, lang: Lang) -> Size | str:
        """The image's upright size, or what the status line says instead."""
        try:
            return upright_size(path)
        except Unpreviewable:
            return t("draw_box_unreadable", lang, image=number)
        except Busy:
            return t("draw_box_busy", lang)

    def _first(
        self, refs: Any, number: int, text: str | None, corner: tuple[str, Point], most: int, lang: Lang
    ) -> Clicked:
        picture, token, status = self._drawn(refs, number, text, corner, most, lang)
        if picture is None:  # the picture could not be made after all: say why, keep no corner
            return gr.skip(), gr.skip(), gr.skip(), None, status
        return gr.skip(), picture, token, corner, t("draw_box_opposite", lang)

    def _second(self, number: int, text: str | None, corner: tuple[str, Point], at: Point, lang: Lang) -> Clicked:
        box = box_between(number, corner[1], at)
        if box is None:
            return gr.skip(), gr.skip(), gr.skip(), corner, t("draw_box_flat", lang)
        return with_box(text, box), gr.skip(), gr.skip(), None, t("draw_box_added", lang, box=str(box))

    def _drawn(self, refs: Any, number: int | None, text: str | None, corner: Corner, most: int, lang: Lang) -> Drawn:
        path = reference(refs, number)
        if number is None or path is None:
            return None, "", t("draw_box_none", lang)
        mark = corner[1] if corner is not None and corner[0] == path else None
        try:
            picture = preview(path, boxes_on(text, number, most), mark)
        except Unpreviewable:
            return None, "", t("draw_box_unreadable", lang, image=number)
        except Busy:
            return None, "", t("draw_box_busy", lang)
        return picture, picture_token(path, picture.size), t("draw_box_start", lang, image=number)

    def _most(self, choice: Choice) -> int:
        return offered(self.form.chosen(choice), Mode.EDIT).boxes_per_image

    def _full(self, number: int, most: int, lang: Lang) -> str:
        return t("draw_box_full", lang, image=number, most=most)


def follow_references(refs: Any, before: list[str] | None, text: str | None) -> tuple[Any, list[str]]:
    """The references changed: the field's boxes renumbered from the files they had to the files now
    (a field past MAX_FIELD_CHARS is left as it is: the run refuses it anyway)."""
    after = [str(path) for path in paths(refs)]
    if not before or before == after or len(str(text or "")) > MAX_FIELD_CHARS:
        return gr.skip(), after
    new = renumbered(text, before, after)
    return (gr.skip() if new == str(text or "") else new), after


def picture_token(path: str, shown: Size) -> str:
    """Names the picture of `path` at `shown` px (the file's name is not shown to the page)."""
    return f"{hashlib.sha256(path.encode()).hexdigest()[:16]}:{shown[0]}x{shown[1]}"


def _picture() -> gr.Image:
    return gr.Image(
        label=I18N("draw_box_preview"),
        show_label=False,  # over the picture, it would hide a corner to click; the status line says what to do
        interactive=False,
        height=320,
        buttons=[],
        # Each picture lands in Gradio's cache for a day (a new one for each corner clicked): lossy
        # WebP, Gradio's own default, is smaller than a JPEG at quality 85 for these (measured).
        format="webp",
        elem_id="edit-draw-preview",
    )


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
