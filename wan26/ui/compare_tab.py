"""The Compare tab: a prompt and Compare on the first screen, the vendors to compare, the shared
options, and one column per vendor (laid out once for every vendor; the chosen ones are shown)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from wan26.providers import get_adapter
from wan26.types import Model
from wan26.ui.compare_runs import DEFAULT_SIZE, CompareRuns
from wan26.ui.compare_view import SLOTS
from wan26.ui.controls import PRIVATE, stop_below
from wan26.ui.i18n import I18N, Lang, both, lang_of, t
from wan26.ui.in_view import results_into_view
from wan26.ui.inputs import RANDOM_SEED
from wan26.ui.models import DEFAULT_MODEL
from wan26.ui.stop_note import stop_with_note
from wan26.ui.vendors import SessionKeys

# Shapes every text-to-image vendor has a size near: (label, the W×H sent).
SIZES = [
    ("1:1 · 1280×1280", DEFAULT_SIZE),
    ("3:4 · 1104×1472", "1104x1472"),
    ("4:3 · 1472×1104", "1472x1104"),
    ("9:16 · 960×1696", "960x1696"),
    ("16:9 · 1696×960", "1696x960"),
]
# The columns as a grid: all five in one row at 1280 px, and a column that wraps keeps the others'
# width (in a wrapping flex row it stretched across the page alone).
CSS = """
.compare-column {border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg); padding: 8px}
#compare-summary {min-height: 1.5em}
#compare-columns {display: grid; grid-template-columns: repeat(auto-fit, minmax(min(220px, 100%), 1fr))}
"""


class CompareTab:
    """Built inside the page's tabs; `page` is the page being built (its settings, keys and load event)."""

    def __init__(self, page: Any) -> None:
        self.page, self.vendors = page, page.settings.vendors
        self.runs = CompareRuns(page.settings, page.runs.made, page.runs.stopped)
        self.columns: list[gr.Column] = []
        self.shown: list[Any] = []  # each slot's card and gallery, in SLOTS order

    def build(self) -> None:
        with gr.Tab(I18N("tab_compare"), id="compare"):
            self._form()
            self._options()
            self.summary = gr.Markdown(I18N("compare_about"), elem_id="compare-summary")
            self.stop_below = stop_below("compare")  # on a phone, where the summary is scrolled to
            with gr.Row(elem_id="compare-columns"):
                for name in SLOTS:
                    self._column(name)

    def _form(self) -> None:
        """The prompt beside the vendors and Compare: all of it on the first screen, a phone's too."""
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                self.prompt = gr.Textbox(
                    label=I18N("prompt"),
                    placeholder=I18N("compare_placeholder"),
                    lines=1,  # Enter compares, Shift+Enter adds a line (Gradio's rule for one line)
                    max_lines=8,
                    elem_id="compare-prompt",
                )
            with gr.Column(scale=2, min_width=260):
                keyed = self.vendors.available(None)
                self.providers = gr.CheckboxGroup(
                    self._choices(None, Lang.EN),
                    value=keyed,
                    label=I18N("compare_vendors"),
                    info=I18N("compare_vendors_info"),
                    elem_id="compare-vendors",
                )
                self.model = gr.Radio(
                    [(model.label, model.value) for model in Model],
                    value=DEFAULT_MODEL.value,
                    label=I18N("model"),
                    elem_id="compare-model",
                )
                with gr.Row(equal_height=True):
                    self.run = gr.Button(I18N("compare_run"), variant="primary", scale=3, elem_id="compare-run")
                    self.stop = gr.Button(I18N("stop"), variant="stop", scale=1, min_width=80, elem_id="compare-stop")

    def _options(self) -> None:
        with gr.Accordion(I18N("compare_options"), open=False, elem_id="compare-options"):
            with gr.Row():
                self.size = gr.Dropdown(
                    SIZES,
                    value=DEFAULT_SIZE,
                    allow_custom_value=True,
                    label=I18N("compare_size"),
                    elem_id="compare-size",
                )
                # A box, not a slider: a slider's page puts its bound in place of a count typed beyond it
                # and sends that without a word; the validator refuses the count as typed instead.
                self.n = gr.Number(1, precision=0, label=I18N("compare_n"), elem_id="compare-n")
                self.seed = gr.Number(RANDOM_SEED, precision=0, label=I18N("compare_seed"), elem_id="compare-seed")
            with gr.Row():
                self.negative = gr.Textbox(
                    "",
                    label=I18N("compare_negative"),
                    placeholder=I18N("negative_placeholder"),
                    max_lines=4,
                    elem_id="compare-negative",
                )
                self.extend = gr.Checkbox(value=True, label=I18N("prompt_extend"), elem_id="compare-prompt-extend")
                self.mark = gr.Checkbox(value=False, label=I18N("watermark"), elem_id="compare-watermark")

    def _column(self, name: str) -> None:
        title = get_adapter(name).facts.title
        ready = both(lambda lang: t("compare_head", lang, vendor=title) + "  \n" + t("compare_ready", lang))
        chosen = name in self.vendors.available(None)
        with gr.Column(
            min_width=220, visible=chosen, elem_id=f"compare-{name}", elem_classes="compare-column"
        ) as column:
            card = gr.Markdown(ready, elem_id=f"compare-{name}-card")
            gallery = gr.Gallery(
                visible=False,
                show_label=False,
                format="png",
                type="filepath",
                columns=2,
                height="auto",
                object_fit="contain",
                buttons=["download", "fullscreen"],
                interactive=False,
                elem_id=f"compare-{name}-images",
            )
        self.columns.append(column)
        self.shown += [card, gallery]

    def wire(self) -> None:
        """The endpoint (started by Compare or Enter, validated before it queues), Stop, and the
        vendor boxes following the keys this visitor can use."""
        page = self.page
        inputs: list[Any] = [self.prompt, self.providers, self.negative, self.size, self.n, self.seed]
        inputs += [self.extend, self.mark, self.model, page.session_keys]  # the validator finds the keys after the rest
        # On a phone the summary and the columns are below the form and its options: brought into view.
        results_into_view([self.run.click, self.prompt.submit], self.summary, self.summary)
        event = gr.on(
            [self.run.click, self.prompt.submit],
            self.runs.compare,
            inputs,
            [*self.shown, self.summary],
            api_name="compare",
            api_visibility="undocumented",  # callable (and guarded) like the others, but no MCP tool
            validator=self.runs.validator(),
            concurrency_limit=page.settings.concurrency,
            concurrency_id="generation",
            show_progress_on=self.summary,
            # Raw values: the vendor boxes' choices differ per visitor (their keys), and an API caller
            # names vendors itself; the endpoint and its validator check every value.
            preprocess=False,
        )
        page.run_events.append(event)  # its runs join this visitor's History, as every run's do
        stops = [self.stop.click, self.stop_below.click]
        page.stop_events.append(stop_with_note(stops, event, self.summary, self.summary))
        self.providers.change(self._shown_columns, self.providers, self.columns, **PRIVATE)
        self.model.change(_options_of, self.model, [self.negative, self.extend], **PRIVATE)
        page.on_load.then(self._keyed, [page.session_keys], self.providers, **PRIVATE)
        page.session_keys.change(self._keyed, [page.session_keys], self.providers, **PRIVATE)

    def _keyed(self, keys: SessionKeys | None, request: gr.Request) -> Any:
        """Every vendor this visitor has a key for, all ticked: what a first comparison should cover."""
        return gr.update(choices=self._choices(keys, lang_of(request)), value=self.vendors.available(keys))

    def _choices(self, keys: SessionKeys | None, lang: Lang) -> list[tuple[str, str]]:
        mark = t("key_mark", lang)
        return [
            (get_adapter(n).facts.title + (mark if n in (keys or {}) else ""), n) for n in self.vendors.available(keys)
        ]

    def _shown_columns(self, chosen: list[str] | None) -> list[Any]:
        return [gr.Column(visible=name in (chosen or [])) for name in SLOTS]


def _options_of(model: str) -> tuple[Any, Any]:
    """Wan 2.7 has no negative prompt and no prompt rewriting at any vendor: both go (emptied, so
    that a hidden value is not reported as not sent), and come back with 2.6."""
    offered = model == Model.WAN26.value
    negative = gr.update(visible=True) if offered else gr.update(visible=False, value="")
    return negative, gr.update(visible=offered)
