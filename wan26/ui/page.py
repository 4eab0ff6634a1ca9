"""The page: header, vendor picker and keys, the three tabs, and how their events are wired."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from gradio import utils as gr_utils
from gradio.helpers import Examples

from wan26.errors import ConfigError
from wan26.providers import PROVIDERS, get_adapter
from wan26.storage import remove_stale_partials
from wan26.types import ImageRequest, Mode, Model
from wan26.ui.actions import (
    label_references,
    labelled,
    move_earlier,
    move_later,
    randomize_clicked,
    reuse_seed,
    selected_index,
    use_as_reference,
)
from wan26.ui.batch_tab import CSS as BATCH_CSS
from wan26.ui.batch_tab import BatchTab
from wan26.ui.before_after import before_after, before_after_selected, before_after_slider, hide_before_after
from wan26.ui.box_drawing import BoxDrawing
from wan26.ui.compare_tab import CSS as COMPARE_CSS
from wan26.ui.compare_tab import CompareTab
from wan26.ui.controls import (
    FOLLOW_INPUT,
    PRIVATE,
    PRIVATE_NOTIFYING,
    RESULTS_HEIGHT,
    STOP_BELOW_CSS,
    FollowsVendor,
    Form,
    size_choices,
    stop_below,
)
from wan26.ui.form_examples import (
    edit_examples,
    headings,
    interleave_examples,
    shipped_images,
    text_to_image_examples,
)
from wan26.ui.history_tab import CSS as HISTORY_CSS
from wan26.ui.history_tab import HistoryTab
from wan26.ui.i18n import I18N, Lang, both, lang_of, t, toast_css, with_english_labels
from wan26.ui.image_set_tab import ImageSetTab
from wan26.ui.in_view import results_into_view
from wan26.ui.inputs import (
    edit_request,
    edit_size_value,
    image_set_request,
    interleave_request,
    interleave_size,
    paths,
    t2i_request,
    tier_value,
)
from wan26.ui.keys import KeyActions
from wan26.ui.models import DEFAULT_MODEL, Chosen, chosen, model_choices
from wan26.ui.palette import CSS as PALETTE_CSS
from wan26.ui.palette import palette_controls
from wan26.ui.rechecks import Recheck, combined
from wan26.ui.run_cost import monitoring_options, skip_matplotlib_search
from wan26.ui.runs import Runs
from wan26.ui.settings import HistoryMode, Settings
from wan26.ui.shown import inside
from wan26.ui.stop_note import stop_with_note
from wan26.ui.texts import no_key_help, offered, references_label
from wan26.ui.validation import EDIT_INPUTS, IMAGE_SET_INPUTS, INTERLEAVE_INPUTS, T2I_INPUTS, validator
from wan26.ui.visitor_cost import cache_signatures, lazy_session_configs

# Key events and the page-load event share one queue lane, one at a time: otherwise a load that
# started before "Use my key" could answer after it and undo it.
KEYS: dict[str, Any] = {
    "api_visibility": "private",
    "show_progress": "hidden",
    "concurrency_limit": 1,
    "concurrency_id": "keys",
}
CHOOSING: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden", "concurrency_limit": None}
CSS = """
#app-container {max-width: 1280px; margin: 0 auto}
.count {font-size: 0.85em; opacity: 0.8}
.meta {gap: 0.25rem 1rem}
#intro h2 {margin: 0.1em 0}
#intro p {margin: 0; font-size: 0.9em; opacity: 0.8}
@media (max-width: 640px) {#intro p {display: none}}
#pickers {gap: 0.5rem}
/* Gradio draws a validation message of a checkbox group (and other non-text fields) in the block's
   status layer, under the field's label: its first words were hidden there. Above it while shown. */
[data-testid="status-tracker"]:has(> .validation-error) {z-index: 41}
/* On a phone the pickers stand one above the other (see _header) and their labels are left to
   screen readers: the two names say what they are, and every tab's Generate stays in view. */
@media (max-width: 480px) {
  #pickers [data-testid="block-info"] {
    position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap
  }
}
"""


@dataclass
class StudioApp:
    """The built interface and what it was built with."""

    blocks: gr.Blocks
    settings: Settings
    runs: Runs

    def launch(self, **options: Any) -> Any:
        """Start the app; honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (default 127.0.0.1:7860).

        A visitor's browser gets only the images shown to that visitor (links under random names in
        Gradio's cache), never the output folder or a run.json; besides what the caller allows, the
        only files served by their own path are the Edit examples' four images (`with_example_images`).
        Files a crash left half-written in the output folder are removed here, once a day old."""
        check_output_dir(self.settings.output_dir)
        remove_stale_partials(self.settings.output_dir)
        # Who a visitor is, for the per-visitor limit, is read by wan26.guard.visitor_address
        # (WAN26_PROXY_HOPS); uvicorn must not first replace the client address with a header a visitor
        # can write (by default it does so for connections from 127.0.0.1).
        os.environ["FORWARDED_ALLOW_IPS"] = ""  # read by uvicorn when Gradio starts it
        options["allowed_paths"] = with_example_images(options.get("allowed_paths"), os.environ)
        options.setdefault("mcp_server", self.settings.mcp_server)  # the three runs as MCP tools (WAN26_MCP)
        with warnings.catch_warnings():
            # Gradio warns that an MCP tool's gr.State inputs keep their defaults. For ours that is the
            # point: no session key (an MCP caller sends theirs in a header) and the vendor's own flow.
            warnings.filterwarnings("ignore", message="This MCP server includes a tool that has a gr.State input")
            css = CSS + STOP_BELOW_CSS + PALETTE_CSS + HISTORY_CSS + COMPARE_CSS + BATCH_CSS + toast_css()
            options = monitoring_options(self.blocks, options)
            skip_matplotlib_search()
            return self.blocks.launch(theme=gr.themes.Soft(), css=css, max_file_size="50mb", i18n=I18N, **options)


def with_example_images(given: object, env: Mapping[str, str]) -> object:
    """Gradio's allowed_paths as Gradio reads them (the caller's list, else GRADIO_ALLOWED_PATHS),
    plus the Edit examples' own images. Gradio checks those again whenever an update rebuilds the
    examples' table, and refuses files outside the folder the app was started from and the temp
    folder: started elsewhere, that failed every vendor switch with it. Anything but a list is left
    for Gradio to refuse (a string taken apart would allow "/")."""
    if not given:
        listed = env.get("GRADIO_ALLOWED_PATHS", "")
        given = [item.strip() for item in listed.split(",")] if listed else []
    return [*given, *map(str, shipped_images())] if isinstance(given, list) else given


def check_output_dir(output_dir: Path) -> None:
    """Gradio's upload folder is where visitors' files are taken from (and served from): run folders
    there would be anyone's "uploads"."""
    uploads = Path(gr_utils.get_upload_folder()).resolve()
    if inside(output_dir, uploads):
        raise ConfigError(f"WAN26_OUTPUT_DIR ({output_dir}) must not be inside Gradio's upload folder ({uploads}).")


def build_app(env: Mapping[str, str]) -> StudioApp:
    """The whole interface, configured by `env` (ConfigError naming the variable when a value is wrong)."""
    settings = Settings.from_env(env)
    runs = Runs(settings)
    with StudioBlocks(title="Wan 2.6 Image Studio", delete_cache=(3600, 86400)) as blocks:
        _Page(settings, runs).build(blocks)
    blocks.queue(max_size=settings.queue_size, default_concurrency_limit=settings.concurrency)
    cache_signatures(blocks)
    lazy_session_configs()
    return StudioApp(blocks, settings, runs)


class StudioBlocks(gr.Blocks):
    """The page's Blocks; its API description keeps English labels, not the browser's translation keys."""

    def get_api_info(self, all_endpoints: bool = False, page: str | None = None) -> Any:
        return with_english_labels(dict(super().get_api_info(all_endpoints=all_endpoints, page=page)))

    def validate_inputs(self, block_fn: Any, inputs: list[Any]) -> None:
        """A raw HTTP caller (POST /gradio_api/call/text_to_image) that sends only an endpoint's Wan 2.6
        parameters gets the defaults of those added for 2.7 after them, as Gradio's own client and MCP
        fill them in; without this, Gradio would refuse the shorter list."""
        padded = with_defaults(list(block_fn.inputs), inputs)
        if padded is not None:
            inputs[:] = padded
        super().validate_inputs(block_fn, inputs)


def with_defaults(blocks: list[Any], given: list[Any]) -> list[Any] | None:
    """`given` (the API's values, states left out) completed with the later API inputs' own values and
    a None where each state goes; None when nothing is missing."""
    api = [block for block in blocks if not block.skip_api]
    if len(given) >= len(api) or len(given) >= len(blocks):
        return None
    values = iter([*given, *(block.value for block in api[len(given) :])])
    return [None if block.skip_api else next(values) for block in blocks]


class _Page:
    """Lays the page out, then wires its events; the components are kept as attributes between the two."""

    def __init__(self, settings: Settings, runs: Runs) -> None:
        self.settings, self.runs, self.vendors = settings, runs, settings.vendors
        self.keys = KeyActions(settings)
        self.follows = FollowsVendor(self.vendors)
        self.first = get_adapter(self.vendors.configured_default())  # each page load adapts the controls
        self.form = Form(self.vendors, self.follows, self.first)

    def build(self, blocks: gr.Blocks) -> None:
        self.session_keys = gr.State({})
        self.history = HistoryTab(self) if self.settings.history is not HistoryMode.OFF else None
        self.compare = CompareTab(self)
        self.batch = BatchTab(self)  # here: it keeps the browser's batch ids, as History keeps its runs
        self.sets = ImageSetTab(self)
        with gr.Column(elem_id="app-container"):
            self._header()
            with gr.Tabs() as self.tabs:
                self._t2i_tab()
                self._edit_tab()
                self.sets.build()
                self._interleave_tab()
                self.compare.build()
                if self.history:
                    self.history.build()
                self.batch.build()
        self._settings_panel(blocks)
        self._wire_vendor()
        self._wire_edit()
        self.drawing.wire(self.e_refs, self.e_boxes, self.choice)
        self.sets.wire()
        self._wire_endpoints()
        self._wire_results()
        self.compare.wire()  # before History, which follows every run event
        if self.history:
            self.history.wire(blocks)
        self.batch.wire(blocks)

    def _header(self) -> None:
        """The title, then the vendor and model pickers: side by side where both names fit whole, one
        above the other on a phone (the prompt and Generate stay on its first screen); keys live in
        the settings panel."""
        with gr.Row(equal_height=True, elem_id="header"):  # wraps on a phone: the pickers go under the title
            with gr.Column(scale=3, min_width=300):
                gr.Markdown(I18N("intro"), elem_id="intro")
            with gr.Column(scale=2, min_width=435):  # both pickers side by side (see their min_width)
                with gr.Row(elem_id="pickers"):
                    self.provider = gr.Dropdown(
                        [(adapter.facts.title, name) for name, adapter in PROVIDERS.items()],
                        value=self.first.facts.name,
                        label=I18N("vendor"),
                        elem_id="provider",
                        scale=3,  # "Alibaba Cloud DashScope" whole beside the arrow
                        # Where the two cannot both show their whole names (a phone: 326-366 px for
                        # both), the model goes under the vendor rather than the vendor's name being cut.
                        min_width=265,
                    )
                    self.model = self._model_picker()
                self.open_settings = gr.Button(I18N("open_settings"), size="sm", elem_id="open-settings")
        self.no_key = gr.Markdown(I18N("no_key_line"), visible=not self.vendors.server_keyed(), elem_id="no-key-line")

    def _model_picker(self) -> gr.Dropdown:
        """The Wan models the vendor serves (ShortAPI: 2.6 only); the page's choice state holds the
        pair, and every model-aware control follows it."""
        picker = gr.Dropdown(  # every model, as the API accepts them; each page load narrows them to its vendor's
            [(model.label, model.value) for model in Model],
            value=DEFAULT_MODEL.value,
            label=I18N("model"),
            elem_id="model",
            scale=2,
            min_width=160,  # "Wan 2.7 Pro" whole, beside the arrow
        )
        self.choice = gr.State((self.first.facts.name, DEFAULT_MODEL.value))
        return self.follows(picker, lambda c: gr.update(choices=model_choices(c.adapter), value=c.model.value))  # type: ignore[no-any-return]

    def _settings_panel(self, blocks: gr.Blocks) -> None:
        """Keys (the server's, or the visitor's own for this session) and runs stopped while their task ran."""
        opened = not self.vendors.server_keyed()
        with gr.Sidebar(label=I18N("settings"), open=opened, position="right", elem_id="settings") as sidebar:
            help_text = both(no_key_help)
            banner = gr.Markdown(help_text, visible=not self.vendors.server_keyed(), elem_id="no-key-help")
            gr.Markdown(I18N("your_api_key"))
            status = gr.Markdown(both(lambda lang: self.keys.status({}, lang)), elem_id="key-status")
            self.key_vendor = gr.Dropdown(
                [(adapter.facts.title, name) for name, adapter in PROVIDERS.items()],
                value=self.first.facts.name,
                label=I18N("key_vendor"),
                elem_id="own-key-vendor",
            )
            key_box = gr.Textbox(
                elem_id="own-key",
                type="password",
                value="",
                label=I18N("your_key"),
                max_lines=1,
                placeholder=I18N("your_key_placeholder"),
            )
            with gr.Row():
                use_key = gr.Button(I18N("use_key"), elem_id="use-key", size="sm")
                forget_key = gr.Button(I18N("forget_keys"), size="sm")
            self._stopped_runs()
        self.open_settings.click(lambda: gr.Sidebar(open=True), None, sidebar, **PRIVATE)
        outputs = [self.session_keys, key_box, status, banner, self.provider, self.no_key]
        for trigger in (key_box.submit, use_key.click):
            trigger(self.keys.use_key, [self.key_vendor, key_box, self.session_keys, self.provider], outputs, **KEYS)
        forget_key.click(self.keys.forget, self.provider, outputs, **KEYS)
        load_outputs = [status, banner, self.provider, self.no_key, sidebar]
        self.on_load = blocks.load(self.keys.page_loaded, [self.session_keys, self.provider], load_outputs, **KEYS)

    def _t2i_tab(self) -> None:
        form, mode = self.form, Mode.TEXT_TO_IMAGE
        with gr.Tab(I18N("tab_t2i"), id="t2i"), gr.Row():
            with gr.Column(scale=1, min_width=320):
                form.unavailable(mode)
                self.t_prompt = form.prompt(mode, I18N("placeholder_t2i"), self.provider)
                self.t_run, self.t_stop = form.run_row(mode)
                self.t_count, self.t_price = form.counts(mode, self.t_prompt, self.choice)
                self.t_shape = form.shape(mode)
                # What is sent as `tier` (Wan 2.7's 1K/2K/4K), else "" and the width and height are sent.
                self.t_tier = gr.Textbox(tier_value(str(self.t_shape.value)), visible=False)
                self.t_n = form.count_box(mode, I18N("images_per_run"))
                self.t_thinking = form.thinking(mode)
                self.t_palette = palette_controls(mode, self.follows, self.form.first)
                with gr.Accordion(I18N("advanced"), open=False, elem_id=f"{mode}-advanced"):
                    self.t_negative = form.negative(mode)
                    self.t_group, self.t_width, self.t_height, self.t_verdict = form.exact_size(mode, self.choice)
                    self.t_random, self.t_seed = form.seed_controls(mode)
                    self.t_extend, self.t_mark, self.t_task = form.switches(mode)
                form.notes(mode)
                examples = text_to_image_examples(self.t_prompt, self.t_shape, self.t_negative)
                self._adapted_examples(examples, mode)
            with gr.Column(scale=1, min_width=320):
                self.t_gallery, self.t_details, self.t_used, self.t_reuse, self.t_to_edit = form.results(mode)
                self.t_stop_below = stop_below(mode)
        form.shape_sets_size(mode, self.t_shape, self.choice, self.t_width, self.t_height)
        self.t_shape.change(tier_value, self.t_shape, self.t_tier, **PRIVATE)
        # A 1K/2K/4K shape is the size sent: the exact width and height go until a ratio is picked.
        self.t_shape.change(_exact_size_shown, self.t_shape, self.t_group, **PRIVATE)

    def _edit_tab(self) -> None:
        form, mode = self.form, Mode.EDIT
        with gr.Tab(I18N("tab_edit"), id="edit"), gr.Row():
            with gr.Column(scale=1, min_width=320):
                form.unavailable(mode)
                self._references()
                self.e_boxes = self._boxes_field()
                self.drawing = BoxDrawing(self.form, self.follows)
                self.drawing.build()
                self.e_prompt = form.prompt(mode, I18N("placeholder_edit"), self.provider)
                self.e_run, self.e_stop = form.run_row(mode)
                self.e_count, self.e_price = form.counts(mode, self.e_prompt, self.choice)
                self.e_shape = form.shape(mode)
                self.e_n = form.count_box(mode, I18N("images_per_run"))
                self.e_palette = palette_controls(mode, self.follows, self.form.first)
                with gr.Accordion(I18N("advanced"), open=False, elem_id=f"{mode}-advanced") as advanced:
                    self.e_urls = gr.Textbox(
                        "",
                        label=I18N("reference_urls"),
                        placeholder="https://example.com/cat.png",
                        lines=2,
                        max_lines=4,
                        elem_id="edit-urls",
                    )
                    self.e_negative = form.negative(mode)
                    tiered = bool(offered(self.form.first, mode).size_tiers)
                    exact = form.exact_size(mode, self.choice, visible=not tiered)
                    self.e_group, self.e_width, self.e_height, self.e_verdict = exact
                    self.e_random, self.e_seed = form.seed_controls(mode)
                    self.e_extend, self.e_mark, self.e_task = form.switches(mode)
                # A vendor taking links only: its Reference URLs box is where the uploads were wanted.
                self.follows(advanced, lambda c: gr.update() if c.image_rules.accepts_local else gr.update(open=True))
                # What is sent as `size`: a 1K/2K tier or W×H, from the shape and the exact size.
                first_shape = str(self.e_shape.value)
                self.e_size = gr.Textbox(edit_size_value(first_shape, 1280, 1280), visible=False)
                form.notes(mode)
                # Hidden references would be sent and refused, as with uploads (see _references).
                examples = edit_examples(self.e_refs, self.e_prompt, self.e_boxes)
                self._adapted_examples(examples, mode, lambda c: c.image_rules.accepts_local)
            with gr.Column(scale=1, min_width=320):
                results = form.results(mode, under_buttons=self._before_after_slider)
                self.e_gallery, self.e_details, self.e_used, self.e_reuse, self.e_to_edit = results
                self.e_stop_below = stop_below(mode)
        form.shape_sets_size(mode, self.e_shape, self.choice, self.e_width, self.e_height)

    def _before_after_slider(self) -> None:
        slider = self.e_before_after = before_after_slider()
        # A links-only vendor's references are never fetched to be compared.
        self.follows(slider, lambda c: gr.update() if c.image_rules.accepts_local else hide_before_after())

    def _references(self) -> None:
        with gr.Group() as uploads:
            self.e_refs = gr.Gallery(
                elem_id="edit-references",
                label=both(lambda lang: references_label(self.form.first, Mode.EDIT, lang)),
                type="filepath",
                interactive=True,
                sources=["upload", "clipboard"],
                file_types=["image"],
                columns=4,
                height=200,
                object_fit="contain",
                format="png",
            )
            with gr.Row():
                self.e_earlier = gr.Button(I18N("move_earlier"), size="sm")
                self.e_later = gr.Button(I18N("move_later"), size="sm")
        self.follows(uploads, lambda c: gr.update(visible=c.image_rules.accepts_local))
        # Hidden uploads would still be sent and refused: a URLs-only vendor starts with none. The
        # label says how many this model takes (2.6: 4, 2.7: 9).
        self.follows.worded(self.e_refs, lambda c, lang: _references_update(c, lang))

    def _boxes_field(self) -> gr.Textbox:
        """Wan 2.7's areas to edit, typed as IMAGE:x1,y1,x2,y2 a line, shown where the chosen model's
        edit takes boxes (hidden, it sends none); the drawing section under it (box_drawing) adds lines
        to it by clicks. (A drawing surface, gr.ImageEditor, was tried: after a stroke Gradio 6.31's
        page uploaded its layers again and again and froze.)"""
        boxes = gr.Textbox(
            "",
            label=I18N("boxes_field"),
            info=I18N("boxes_field_info"),
            placeholder="2:989,515,1138,681",
            lines=2,
            max_lines=4,
            visible=False,
            elem_id="edit-boxes",
        )
        self.follows(boxes, _boxes_update)
        return boxes

    def _interleave_tab(self) -> None:
        form, mode = self.form, Mode.INTERLEAVE
        with gr.Tab(I18N("tab_interleave"), id="interleave"), gr.Row():
            with gr.Column(scale=1, min_width=320):
                form.unavailable(mode)
                self.i_prompt = form.prompt(mode, I18N("placeholder_interleave"), self.provider)
                self.i_run, self.i_stop = form.run_row(mode)
                self.i_count, self.i_price = form.counts(mode, self.i_prompt, self.choice)
                self.i_image = gr.Image(
                    label=I18N("input_image"),
                    type="filepath",
                    sources=["upload", "clipboard"],
                    format="png",
                    height=180,
                    elem_id="interleave-image",
                )
                self.i_shape = form.shape(mode)
                self.i_max = form.count_box(mode, I18N("images_at_most"))
                with gr.Accordion(I18N("advanced"), open=False, elem_id=f"{mode}-advanced"):
                    self.i_negative = form.negative(mode)
                    exact = form.exact_size(mode, self.choice, visible=False)
                    self.i_group, self.i_slide_w, self.i_slide_h, self.i_verdict = exact
                    self.i_random, self.i_seed = form.seed_controls(mode)
                    _, self.i_mark, self.i_task = form.switches(mode)
                self.i_width = gr.Number(value=0, visible=False, precision=0)
                self.i_height = gr.Number(value=0, visible=False, precision=0)
                form.notes(mode)
                examples = interleave_examples(self.i_prompt, self.i_shape)
                self._adapted_examples(examples, mode)
            with gr.Column(scale=1, min_width=320):
                self.i_chat = gr.Chatbot(
                    elem_id="interleave-chat",
                    label=I18N("interleaved_output"),
                    height=RESULTS_HEIGHT + 50,  # its details come right under it, with no buttons between
                    buttons=["copy_all"],
                    allow_file_downloads=True,
                )
                self.i_used = gr.Number(label=I18N("seed_used"), precision=0, interactive=False, visible=False)
                self.i_details = gr.Markdown(label=I18N("run_details"), elem_id="interleave-details")
                self.i_stop_below = stop_below(mode)
        form.shape_sets_size(mode, self.i_shape, self.choice, self.i_slide_w, self.i_slide_h)

    def _adapted_examples(
        self, examples: Examples, mode: Mode, shown: Callable[[Chosen], bool] = lambda _: True
    ) -> None:
        """The examples' headings in the visitor's language (each page load sends them) and their shapes
        with the chosen vendor's and model's sizes, the examples shown only where the vendor can use
        them, and after a click the inputs they filled adapted again to the vendor and model. Gradio
        6.31's examples show and send each input's settings as built, for the first vendor with 2.6
        (2.6's sizes, the negative prompt shown, "up to 4" references), with the value:
        https://github.com/gradio-app/gradio/blob/gradio%406.31.0/gradio/helpers.py (load_example)."""

        dataset, inputs = examples.dataset, list(examples.inputs)
        shown_inputs = inputs[: len(dataset.component_props)]  # the columns shown are the first inputs

        def update(choice: Chosen, lang: Lang) -> Any:
            # A shape column names the size each example's shape sends with the chosen vendor and model.
            shapes = [
                {"choices": size_choices(choice, mode, lang)} if isinstance(c, gr.Radio) else {} for c in shown_inputs
            ]
            props = [built | shape for built, shape in zip(dataset.component_props, shapes, strict=True)]
            return gr.update(visible=shown(choice), headers=headings(mode, lang), component_props=props)

        self.follows.worded(dataset, update)
        again, kept, adapted = self.follows.again(inputs)
        examples.load_input_event.then(again, [self.choice, *kept], adapted, **PRIVATE)

    def _stopped_runs(self) -> None:
        with gr.Accordion(I18N("stopped_runs"), open=False, elem_id="stopped-runs"):
            gr.Markdown(I18N("stopped_runs_about"))
            check = gr.Button(I18N("check_stopped"), size="sm", elem_id="stopped-check")
            status = gr.Markdown(elem_id="stopped-status")
            gallery = gr.Gallery(label=I18N("stopped_images"), format="png", columns=2, height=240, interactive=False)
        check.click(self.runs.stopped.shown_to, None, [gallery, status], **PRIVATE)

    def _wire_vendor(self) -> None:
        """Changing vendor or model adapts every control at once, then re-checks what depends on the
        current values. The choice state changes once per new (vendor, model) pair, whoever set it."""
        follows, form, provider, choice = self.follows, self.form, self.provider, self.choice
        # Queued: Gradio sends a State's change event only after a queued event changed it.
        gr.on([provider.change, self.model.input], self._choose, [provider, self.model], choice, **CHOOSING)
        adapted = [  # also after each page load: the picker may keep its value, and then it does not "change"
            choice.change(follows.updates, choice, follows.components, **PRIVATE),
            self.on_load.then(
                follows.kept_updates, [provider, self.model, *follows.inputs], follows.components, **PRIVATE
            ),
        ]
        self.vendor_adapted = adapted[0]  # History's "Reuse settings" fills the form after it
        rechecks = self._rechecks()
        for mode, count, price in self._counts():
            rechecks.append(Recheck(form.price(mode), [choice, count], price))
            count.change(form.price(mode), [choice, count], price, **PRIVATE)
        rechecked, inputs, outputs = combined(rechecks)
        for vendor_changed in adapted:  # raw: a value beyond the new vendor's bounds gets our verdict
            vendor_changed.then(rechecked, inputs, outputs, preprocess=False, **PRIVATE)
        # The key's vendor follows the picker, but is never emptied when the picker has no vendor. In
        # the browser: an event the server answers costs the page more than this (wan26/ui/rechecks.py).
        follow = "(name, current) => name || current"
        provider.change(None, [provider, self.key_vendor], self.key_vendor, js=follow, api_visibility="private")

    def _rechecks(self) -> list[Recheck]:
        form, choice = self.form, self.choice
        return [
            Recheck(form.prompt_count(Mode.TEXT_TO_IMAGE), [self.t_prompt, choice], self.t_count),
            Recheck(form.prompt_count(Mode.EDIT), [self.e_prompt, choice], self.e_count),
            Recheck(form.prompt_count(Mode.IMAGE_SET), [self.sets.prompt, choice], self.sets.count),
            Recheck(form.prompt_count(Mode.INTERLEAVE), [self.i_prompt, choice], self.i_count),
            Recheck(form.size_verdict(Mode.TEXT_TO_IMAGE), [choice, self.t_width, self.t_height], self.t_verdict),
            Recheck(form.size_verdict(Mode.EDIT), [choice, self.e_width, self.e_height], self.e_verdict),
            Recheck(form.size_verdict(Mode.IMAGE_SET), [choice, self.sets.width, self.sets.height], self.sets.verdict),
            Recheck(form.size_verdict(Mode.INTERLEAVE), [choice, self.i_slide_w, self.i_slide_h], self.i_verdict),
            Recheck(self._runnable, [choice], [self.t_run, self.e_run, self.sets.run, self.i_run]),
        ]

    def _counts(self) -> list[tuple[Mode, gr.Number, gr.Markdown]]:
        return [
            (Mode.TEXT_TO_IMAGE, self.t_n, self.t_price),
            (Mode.EDIT, self.e_n, self.e_price),
            (Mode.IMAGE_SET, self.sets.n, self.sets.price),
            (Mode.INTERLEAVE, self.i_max, self.i_price),
        ]

    def _choose(self, provider: str | None, model: str | None) -> tuple[str, str]:
        """The pair the page now shows: a model this vendor does not serve falls back to Wan 2.6."""
        if not provider:
            return "", DEFAULT_MODEL.value
        return provider, chosen(self.form.adapter(provider), model).model.value

    def _runnable(self, choice: Any, _request: gr.Request | None = None) -> list[Any]:
        """Generate works only with a vendor this visitor has a key for, in a mode it offers with the model."""
        picked = self.form.chosen(choice) if choice and choice[0] else None
        modes = (Mode.TEXT_TO_IMAGE, Mode.EDIT, Mode.IMAGE_SET, Mode.INTERLEAVE)
        return [gr.update(interactive=picked is not None and mode in picked.limits) for mode in modes]

    def _wire_edit(self) -> None:
        """References keep their order labels; the size sent is always 1K, 2K or W×H."""
        refs, selected = self.e_refs, gr.State(None)
        refs.upload(self.kept_references(Mode.EDIT), [refs, self.choice], refs, **PRIVATE_NOTIFYING)
        refs.delete(label_references, refs, refs, **PRIVATE)
        refs.select(selected_index, None, selected, **PRIVATE)
        self.e_earlier.click(move_earlier, [refs, selected], [refs, selected], **PRIVATE)
        self.e_later.click(move_later, [refs, selected], [refs, selected], **PRIVATE)
        exact = gr.update(visible=True), gr.update(visible=False)
        self.e_shape.change(lambda shape: exact[":" not in str(shape)], self.e_shape, self.e_group, **PRIVATE)
        for control in (self.e_shape, self.e_width, self.e_height):
            control.change(edit_size_value, [self.e_shape, self.e_width, self.e_height], self.e_size, **PRIVATE)
        # Interleave: width/height 0 means "follow the input image".
        visible = gr.update(visible=False), gr.update(visible=True)
        self.i_shape.change(lambda shape: visible[shape != FOLLOW_INPUT], self.i_shape, self.i_group, **PRIVATE)
        chosen: list[Any] = [self.i_shape, self.i_slide_w, self.i_slide_h]
        for control in chosen:
            control.change(interleave_size, chosen, [self.i_width, self.i_height], **PRIVATE)

    def _wire_endpoints(self) -> None:
        """The three public endpoints, started by Generate or Enter, validated before they queue."""
        keys, provider, model = self.session_keys, self.provider, self.model
        t_inputs: list[Any] = [self.t_prompt, self.t_negative, self.t_width, self.t_height, self.t_n, self.t_seed]
        t_inputs += [self.t_extend, self.t_mark, provider, model, self.t_thinking, self.t_palette.text, self.t_tier]
        t_inputs += [keys, self.t_task]
        t_outputs = [self.t_gallery, self.t_details, self.t_used]
        # Its inputs are plain text, numbers and switches, which the function converts itself: without
        # Gradio's preprocessing a run (and its validator) skips a worker-thread hop per input.
        t_event = self.endpoint(
            self.t_run, self.t_prompt, self.runs.text_to_image, t_inputs, t_outputs, preprocess=False
        )
        e_inputs: list[Any] = [self.e_prompt, self.e_refs, self.e_negative, self.e_size, self.e_n, self.e_seed]
        e_inputs += [self.e_extend, self.e_mark, provider, self.e_urls, model, self.e_palette.text, self.e_boxes]
        e_inputs += [keys, self.e_task]
        e_event = self.endpoint(
            self.e_run, self.e_prompt, self.runs.edit, e_inputs, [self.e_gallery, self.e_details, self.e_used]
        )
        i_inputs: list[Any] = [self.i_prompt, self.i_image, self.i_negative, self.i_width, self.i_height, self.i_max]
        i_inputs += [self.i_seed, self.i_mark, provider, keys, self.i_task]
        i_event = self.endpoint(
            self.i_run, self.i_prompt, self.runs.interleave, i_inputs, [self.i_chat, self.i_details, self.i_used]
        )
        s_event = self.sets.endpoint()
        self.run_events = [t_event, e_event, s_event, i_event]  # History records each run's folder after them
        self.stop_events = [
            stop_with_note([stop.click, below.click], event, results, details)
            for stop, below, event, results, details in (
                (self.t_stop, self.t_stop_below, t_event, self.t_gallery, self.t_details),
                (self.e_stop, self.e_stop_below, e_event, self.e_gallery, self.e_details),
                (self.sets.stop, self.sets.stop_below, s_event, self.sets.gallery, self.sets.details),
                (self.i_stop, self.i_stop_below, i_event, self.i_chat, self.i_details),
            )
        ]
        self.last_seeds = [gr.State(None) for _ in range(2)]  # the seed of each tab's last finished run
        for event, used, last in (
            (t_event, self.t_used, self.last_seeds[0]),
            (e_event, self.e_used, self.last_seeds[1]),
        ):
            event.success(lambda seed: seed, used, last, **PRIVATE)
        self._wire_before_after(e_event)

    def _wire_before_after(self, edit_run: Any) -> None:
        """Private events, so the public edit endpoint keeps its three outputs: hidden while an edit
        runs, then the first reference against the result chosen in the gallery (the first at once)."""
        slider, compared = self.e_before_after, [self.e_refs, self.e_gallery]
        gr.on([self.e_run.click, self.e_prompt.submit], hide_before_after, None, slider, **PRIVATE)
        edit_run.success(before_after, compared, slider, **PRIVATE)
        self.e_gallery.select(before_after_selected, compared, slider, **PRIVATE)

    def endpoint(
        self,
        run: gr.Button,
        prompt: gr.Textbox,
        fn: Callable[..., Any],
        inputs: list[Any],
        outputs: list[Any],
        **options: Any,
    ) -> Any:
        """A public API endpoint named after `fn`, started by the button or Enter, validated first; its
        one progress indicator is on the results."""
        build, names = ENDPOINTS[fn.__name__]
        # Before the run's own event: it must see the details as they were when the run was started.
        results_into_view([run.click, prompt.submit], outputs[0], outputs[1])
        return gr.on(
            [run.click, prompt.submit],
            fn,
            inputs,
            outputs,
            api_name=fn.__name__,
            validator=validator(self.vendors, build, names),
            concurrency_limit=self.settings.concurrency,
            concurrency_id="generation",
            show_progress_on=outputs[0],
            **options,
        )

    def _wire_results(self) -> None:
        """Seeds reused, and results sent to Edit as references."""
        for randomize, seed, used in (
            (self.t_random, self.t_seed, self.t_used),
            (self.e_random, self.e_seed, self.e_used),
        ):
            randomize.input(randomize_clicked, [randomize, seed, used], seed, **PRIVATE)
        for (seed, randomize, reuse), last in zip(
            ((self.t_seed, self.t_random, self.t_reuse), (self.e_seed, self.e_random, self.e_reuse)),
            self.last_seeds,
            strict=True,
        ):
            reuse.click(reuse_seed, last, [seed, randomize], **PRIVATE_NOTIFYING)  # its refusal must show
        self.i_random.input(randomize_clicked, [self.i_random, self.i_seed, self.i_used], self.i_seed, **PRIVATE)
        for gallery, button in ((self.t_gallery, self.t_to_edit), (self.e_gallery, self.e_to_edit)):
            selected = gr.State(None)
            gallery.select(selected_index, None, selected, **PRIVATE)
            inputs = [gallery, selected, self.e_refs, self.choice]
            button.click(self._use_as_reference, inputs, [self.e_refs, self.tabs], **PRIVATE_NOTIFYING)

    def _use_as_reference(
        self,
        results: list[Any] | None,
        selected: int | None,
        references: list[Any] | None,
        choice: Any,
        request: gr.Request,
    ) -> tuple[Any, Any]:
        picked, lang = self.form.chosen(choice), lang_of(request)
        if not picked.image_rules.accepts_local:  # its upload box is hidden: the image would be refused
            title = t("title_links_only", lang)
            raise gr.Error(t("links_only", lang, vendor=picked.title), title=title)
        return use_as_reference(results, selected, references, offered(picked, Mode.EDIT).images.high, lang)

    def kept_references(self, mode: Mode) -> Callable[..., list[tuple[str, str]]]:
        """Uploads labelled in order, at most as many as the chosen vendor and model take in `mode`."""

        def kept(gallery: list[Any] | None, choice: Any, request: gr.Request) -> list[tuple[str, str]]:
            most = offered(self.form.chosen(choice), mode).images.high if choice and choice[0] else None
            return labelled(paths(gallery), lang_of(request), most)

        return kept


ENDPOINTS: dict[str, tuple[Callable[..., ImageRequest], list[str]]] = {
    "text_to_image": (t2i_request, T2I_INPUTS),
    "edit": (edit_request, EDIT_INPUTS),
    "image_set": (image_set_request, IMAGE_SET_INPUTS),
    "interleave": (interleave_request, INTERLEAVE_INPUTS),
}


def _references_update(choice: Chosen, lang: Lang) -> Any:
    """The label says how many references the model takes; a links-only vendor starts with no uploads
    (hidden, they would still be sent and refused)."""
    label = references_label(choice, Mode.EDIT, lang)
    return gr.update(label=label) if choice.image_rules.accepts_local else gr.update(label=label, value=[])


def _exact_size_shown(shape: str) -> Any:
    return gr.update(visible=not tier_value(shape))


def _boxes_update(choice: Chosen) -> Any:
    if offered(choice, Mode.EDIT).boxes_per_image > 0:
        return gr.update(visible=True)
    return gr.update(visible=False, value="")

