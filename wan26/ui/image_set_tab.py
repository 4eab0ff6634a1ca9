"""The Image set tab: Wan 2.7 makes up to 12 images that belong together (a story, a product from
every side), from text or 0–9 references. The count is a maximum: the model decides how many, and
the results are shown in its order, numbered, with how many it made of how many were asked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr

from wan26.types import Mode, Model
from wan26.ui.actions import label_references, randomize_clicked, reuse_seed, selected_index
from wan26.ui.controls import PRIVATE, PRIVATE_NOTIFYING, stop_below
from wan26.ui.i18n import I18N, Lang, both
from wan26.ui.inputs import edit_size_value
from wan26.ui.models import Chosen
from wan26.ui.texts import references_label

if TYPE_CHECKING:  # the page builds this tab
    from wan26.ui.page import _Page

MODE = Mode.IMAGE_SET
FIRST_COUNT = 4  # a set's usual size; the model may make fewer


class ImageSetTab:
    """Made before the page's tabs; `build()` inside them, `wire()` and `endpoint()` once the page's
    controls exist."""

    def __init__(self, page: _Page) -> None:
        self.page, self.form = page, page.form

    def build(self) -> None:
        form, page = self.form, self.page
        with gr.Tab(I18N("tab_image_set"), id="image_set"), gr.Row():
            with gr.Column(scale=1, min_width=320):
                form.unavailable(MODE)  # with Wan 2.6: sets need Wan 2.7
                self.prompt = form.prompt(MODE, I18N("placeholder_image_set"), page.provider)
                self.run, self.stop = form.run_row(MODE)
                self.count, self.price = form.counts(MODE, self.prompt, page.choice, first_count=FIRST_COUNT)
                self._references()
                self.shape = form.shape(MODE)
                self.n = form.count_box(MODE, I18N("images_at_most"), value=FIRST_COUNT)
                self._advanced()
                # What is sent as `size`: a 1K/2K tier or W×H, from the shape and the exact size.
                self.size = gr.Textbox(edit_size_value(str(self.shape.value), 1280, 1280), visible=False)
                # The model sent: the picker's, once the page has loaded; Wan 2.7 for an API caller
                # that names none (the API's defaults are the components' values).
                self.model = gr.Textbox(Model.WAN27.value, visible=False)
                form.follows(self.model, lambda choice: choice.model.value)
                form.notes(MODE)
            with gr.Column(scale=1, min_width=320):
                self.gallery, self.details, self.used, self.reuse, self.to_edit = form.results(MODE)
                self.stop_below = stop_below(MODE)
        form.shape_sets_size(MODE, self.shape, page.choice, self.width, self.height)

    def _references(self) -> None:
        self.refs = gr.Gallery(
            elem_id="image_set-references",
            label=both(lambda lang: references_label(self.form.first, MODE, lang)),
            type="filepath",
            interactive=True,
            sources=["upload", "clipboard"],
            file_types=["image"],
            columns=5,
            height=140,
            object_fit="contain",
            format="png",
        )
        self.form.follows.worded(self.refs, _references_update)

    def _advanced(self) -> None:
        form = self.form
        with gr.Accordion(I18N("advanced"), open=False, elem_id=f"{MODE}-advanced"):
            self.urls = gr.Textbox(
                "",
                label=I18N("reference_urls"),
                placeholder="https://example.com/cat.png",
                lines=2,
                max_lines=4,
                elem_id="image_set-urls",
            )
            exact = form.exact_size(MODE, self.page.choice, visible=False)  # the first shapes are tiers
            self.group, self.width, self.height, self.verdict = exact
            self.random, self.seed = form.seed_controls(MODE)
            _, self.mark, self.task = form.switches(MODE)

    def wire(self) -> None:
        """References keep their order labels; the size sent is a tier or W×H; seeds and results as in Edit."""
        self.refs.upload(self.page.kept_references(MODE), [self.refs, self.page.choice], self.refs, **PRIVATE_NOTIFYING)
        self.refs.delete(label_references, self.refs, self.refs, **PRIVATE)
        exact = gr.update(visible=True), gr.update(visible=False)
        self.shape.change(lambda shape: exact[":" not in str(shape)], self.shape, self.group, **PRIVATE)
        for control in (self.shape, self.width, self.height):
            control.change(edit_size_value, [self.shape, self.width, self.height], self.size, **PRIVATE)
        self.random.input(randomize_clicked, [self.random, self.seed, self.used], self.seed, **PRIVATE)
        selected, page = gr.State(None), self.page
        self.gallery.select(selected_index, None, selected, **PRIVATE)
        inputs = [self.gallery, selected, page.e_refs, page.choice]
        self.to_edit.click(page._use_as_reference, inputs, [page.e_refs, page.tabs], **PRIVATE_NOTIFYING)

    def endpoint(self) -> Any:
        """The public `image_set` endpoint, started by Generate or Enter; its last seed feeds Reuse."""
        page = self.page
        inputs: list[Any] = [self.prompt, self.refs, self.size, self.n, self.seed, self.mark, page.provider]
        inputs += [self.urls, self.model, page.session_keys, self.task]
        outputs = [self.gallery, self.details, self.used]
        event = page.endpoint(self.run, self.prompt, page.runs.image_set, inputs, outputs)
        last = gr.State(None)  # the seed of the tab's last finished run
        event.success(lambda seed: seed, self.used, last, **PRIVATE)
        self.reuse.click(reuse_seed, last, [self.seed, self.random], **PRIVATE_NOTIFYING)
        return event


def _references_update(choice: Chosen, lang: Lang) -> Any:
    """How many references the model takes; a links-only vendor gets no uploads (hidden, they would
    still be sent and refused)."""
    label = references_label(choice, MODE, lang)
    if choice.image_rules.accepts_local:
        return gr.update(label=label, visible=True)
    return gr.update(label=label, visible=False, value=[])
