"""The History tab: past runs as a gallery, newest first, a page at a time; the run selected shown
whole, with its actions: reuse its settings, send an image to Edit, download its originals, delete it.

It lists what WAN26_HISTORY says: every run in the output folder (`all`), or the runs this browser
made (`own`), whose ids its gr.BrowserState keeps. A run id reaches a handler only from server-side
state that a listing filled, and every handler checks it again against the visitor's own list (in
`own` mode the list the browser sent, with the runs this session made since), so no visitor can
load, download or delete a run that is not theirs.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import gradio as gr

from wan26.history import PastRun, delete_run, list_runs, load_run, originals_zip, run_id_is_valid
from wan26.types import Mode
from wan26.ui.actions import selected_index
from wan26.ui.controls import PRIVATE, PRIVATE_NOTIFYING, Choice
from wan26.ui.history_reuse import FIELDS, form_values
from wan26.ui.history_text import caption, deletable, details, image_caption, page_line, tab_name, vendor_title, zone
from wan26.ui.i18n import I18N, Lang, both, lang_of, sentences, t
from wan26.ui.models import chosen, model_label
from wan26.ui.owned import browser_secret, owned_ids
from wan26.ui.palette import PaletteControls, refilled, refilled_outputs
from wan26.ui.settings import HistoryMode
from wan26.ui.shown import handed, no_image, shown, thumbnail

if TYPE_CHECKING:  # the page builds this tab
    from wan26.ui.page import _Page

PER_PAGE = 12
STORAGE_KEY = "wan26-history"  # the browser's localStorage entry: one per origin (host and port)
TAB_IDS = {Mode.TEXT_TO_IMAGE: "t2i", Mode.EDIT: "edit", Mode.INTERLEAVE: "interleave", Mode.IMAGE_SET: "image_set"}
SHOW_SELECTED_JS = "() => document.querySelector('#history-selected')?.scrollIntoView({behavior: 'smooth'})"
ZONE_JS = "() => Intl.DateTimeFormat().resolvedOptions().timeZone"  # times are shown in the visitor's zone
# The cards: as tall as they need (Gradio's gallery scrolls inside 55% of the screen), two a row on
# a phone; a caption whole (Gradio cuts it to one line), its lines kept, at most three on a phone.
# On a phone the four tabs' names fit on one line only set closer: otherwise Gradio hides the last
# ones under a "More tabs" button (its own hidden copy of the bar, which it measures, is styled too).
CSS = """
#history-runs .grid-wrap {min-height: 0; max-height: none}
#history-runs .caption-label {white-space: pre-line; max-width: none; left: var(--block-label-margin);
  font-size: 0.75rem; line-height: 1.35}
@media (max-width: 640px) {
  #app-container .tab-container button {padding: 0 7px; font-size: 13px}
  #history-runs .grid-container {grid-template-columns: repeat(2, minmax(0, 1fr))}
  #history-runs .caption-label {display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical}
}
#history-where p {margin: 0}
"""


class HistoryTab:
    """Made at the page's top level, where it keeps the browser's list: a gr.BrowserState inside a
    tab is read and written only once that tab has been opened. Then `build()` inside the page's
    tabs, and `wire(blocks)` once the page's own events exist."""

    def __init__(self, page: _Page) -> None:
        self.page, self.made = page, page.runs.made
        self.root = page.settings.output_dir
        self.own = page.settings.history is HistoryMode.OWN
        self._states()

    # ---- layout -------------------------------------------------------------------------------

    def build(self) -> None:
        with gr.Tab(I18N("tab_history"), id="history") as self.tab:
            self._pager()
            self.cards = gr.Gallery(
                label=I18N("history_past_runs"),
                visible=False,  # until the first listing: empty, it would be a bare frame
                show_label=False,  # the line above says what they are; a label would cover the first cards
                elem_id="history-runs",
                columns=4,
                fit_columns=False,  # four across even with fewer runs: a card keeps its size
                height="auto",
                object_fit="cover",
                allow_preview=False,
                interactive=False,
                buttons=[],  # no "download all": a card is a thumbnail; the run's own files are below
            )
            self._selected()

    def _states(self) -> None:
        """The browser's list (own mode); then, server-side per session and never taken from the
        browser: the page shown, its run ids, the run selected, its delete confirmed, its image picked."""
        if self.own:  # a random secret per process would lose every list at the next start
            secret = browser_secret(self.page.settings.env, self.root)
            self.owned: Any = gr.BrowserState([], storage_key=STORAGE_KEY, secret=secret)
        else:
            self.owned = gr.State([])  # unused: everything is listed
        self.page_no, self.listed = gr.State(1), gr.State([])
        self.chosen, self.armed, self.picked = gr.State(None), gr.State(None), gr.State(None)
        self.pending = gr.State(None)  # a run to refill the form with once its vendor is picked
        self.zone = gr.Textbox(visible=False)

    def _pager(self) -> None:
        with gr.Row(elem_id="history-pager"):
            self.prev = gr.Button("◀", size="sm", scale=0, min_width=48, interactive=False, elem_id="history-prev")
            self.next = gr.Button("▶", size="sm", scale=0, min_width=48, interactive=False, elem_id="history-next")
            with gr.Column(scale=1, min_width=160):
                first_line = both(lambda lang: page_line(1, 1, 0, self.own, lang))
                self.where = gr.Markdown(first_line, elem_id="history-where")
            refresh = I18N("history_refresh")
            self.refresh = gr.Button(refresh, size="sm", scale=0, min_width=110, elem_id="history-refresh")

    def _selected(self) -> None:
        with gr.Row(visible=False, elem_id="history-selected") as self.selected:
            with gr.Column(scale=1, min_width=300) as self.images_column:
                self.images = gr.Gallery(
                    label=I18N("history_images"),
                    elem_id="history-images",
                    columns=2,
                    height=380,
                    object_fit="contain",
                    buttons=["download", "fullscreen"],
                    interactive=False,
                    preview=False,
                )
            with gr.Column(scale=1, min_width=300):
                with gr.Row():
                    self.reuse = gr.Button(I18N("history_reuse"), size="sm", elem_id="history-reuse")
                    self.to_edit = gr.Button(I18N("to_edit"), size="sm", elem_id="history-to-edit")
                with gr.Row():
                    download: Any = I18N("history_download")  # typed str, yet translated like any label
                    self.download = gr.DownloadButton(download, size="sm", elem_id="history-download")
                    delete = I18N("history_delete")
                    self.delete = gr.Button(delete, size="sm", variant="stop", elem_id="history-delete")
                self.details = gr.Markdown(elem_id="history-details")

    # ---- wiring -------------------------------------------------------------------------------

    def wire(self, blocks: gr.Blocks) -> None:
        blocks.load(None, None, self.zone, js=ZONE_JS)  # in the browser only: no trip to the server
        inputs = [self.owned, self.page_no, self.zone]
        self.tab.select(self.show, inputs, self.listing, **PRIVATE_NOTIFYING)
        self.refresh.click(self.show, inputs, self.listing, **PRIVATE_NOTIFYING)
        self.prev.click(self.earlier, inputs, self.listing, **PRIVATE_NOTIFYING)
        self.next.click(self.later, inputs, self.listing, **PRIVATE_NOTIFYING)
        chosen = [self.chosen, self.armed, self.picked, self.selected, self.images_column, self.images, self.details]
        chosen += [self.download, self.to_edit, self.delete]
        picked = self.cards.select(self.choose, [self.listed, self.owned, self.zone], chosen, **PRIVATE_NOTIFYING)
        picked.success(None, js=SHOW_SELECTED_JS)  # below the cards, often below the fold
        self.images.select(selected_index, None, self.picked, **PRIVATE)
        self._wire_actions()
        if self.own:
            self._wire_recording()

    @property
    def listing(self) -> list[Any]:
        """What a listing updates: the browser's list, the cards, the pager and the ids shown."""
        return [self.owned, self.cards, self.where, self.prev, self.next, self.listed, self.page_no]

    def _wire_actions(self) -> None:
        page = self.page
        reusing = [self.chosen, self.owned, page.session_keys, page.choice]
        filled = [page.provider, page.model, page.choice, self.pending, *self._form_outputs()]
        self.reuse.click(self.reuse_settings, reusing, filled, **PRIVATE_NOTIFYING)
        # A new vendor or model first adapts the form (its shapes, bounds, seed), which resets the
        # shape: the run's values are filled in only after that, chained to it.
        pending = [self.pending, self.owned, page.choice]
        page.vendor_adapted.then(self.refill_pending, pending, filled[3:], **PRIVATE_NOTIFYING)
        references = [self.chosen, self.owned, self.picked, page.e_refs, page.choice]
        self.to_edit.click(self.send_to_edit, references, [page.e_refs, page.tabs], **PRIVATE_NOTIFYING)
        deleting = [self.chosen, self.armed, self.owned, self.page_no, self.zone]
        outputs = [*self.listing, self.armed, self.delete, self.chosen, self.selected]
        self.delete.click(self.remove, deleting, outputs, **PRIVATE_NOTIFYING)

    def _wire_recording(self) -> None:
        """After each run, its folder joins this browser's list (own mode); after Stop, once the
        cancelled run has written its record."""
        inputs = [self.owned, self.page_no, self.zone]
        for event in self.page.run_events:
            event.then(self.show, inputs, self.listing, **PRIVATE)
        for stop in self.page.stop_events:
            stop.then(self.show_after_stop, inputs, self.listing, **PRIVATE_NOTIFYING)

    # ---- the listing --------------------------------------------------------------------------

    def show(self, owned: Any, page_no: Any, zone_name: str | None, request: gr.Request) -> list[Any]:
        return self._listing(owned, _page(page_no), zone_name, request)

    def earlier(self, owned: Any, page_no: Any, zone_name: str | None, request: gr.Request) -> list[Any]:
        return self._listing(owned, _page(page_no) - 1, zone_name, request)

    def later(self, owned: Any, page_no: Any, zone_name: str | None, request: gr.Request) -> list[Any]:
        return self._listing(owned, _page(page_no) + 1, zone_name, request)

    async def show_after_stop(self, owned: Any, page_no: Any, zone_name: str | None, request: gr.Request) -> list[Any]:
        await self.made.settled(request.session_hash)
        return self._listing(owned, _page(page_no), zone_name, request)

    def _listing(self, owned: Any, page_no: int, zone_name: str | None, request: gr.Request) -> list[Any]:
        mine, lang = self._mine(owned, request), lang_of(request)
        found = list_runs(self.root, mine if self.own else None, page=page_no, per_page=PER_PAGE)
        where = zone(zone_name)
        cards = [(_cover(run), caption(run, where, lang)) for run in found.runs]
        kept = mine if self.own and mine != owned else gr.skip()  # the browser's list, with this session's runs
        return [
            kept,
            gr.update(value=cards, visible=bool(cards)),  # no empty frame: the line above says why
            page_line(found.page, found.pages, found.total, self.own, lang),
            gr.update(interactive=found.page > 1),
            gr.update(interactive=found.page < found.pages),
            [run.run_id for run in found.runs],
            found.page,
        ]

    def _mine(self, owned: Any, request: gr.Request) -> list[str]:
        """The visitor's run ids: those their browser keeps, and those their session made since."""
        return owned_ids([*(owned if isinstance(owned, list) else []), *self.made.of(request.session_hash)])

    # ---- one run --------------------------------------------------------------------------------

    def _run(self, run_id: Any, owned: Any, request: gr.Request) -> PastRun:
        """The run `run_id` if this visitor may see it; a message otherwise (the same whether it
        exists or not, so that guessing tells nothing)."""
        allowed = run_id_is_valid(run_id) and (not self.own or run_id in self._mine(owned, request))
        run = load_run(self.root, run_id) if allowed else None
        if run is None:
            lang = lang_of(request)
            raise gr.Error(t("history_not_yours", lang), title=t("title_history_not_yours", lang))
        return run

    def choose(
        self, evt: gr.SelectData, listed: list[str] | None, owned: Any, zone_name: str | None, request: gr.Request
    ) -> list[Any]:
        index, lang = evt.index if isinstance(evt.index, int) else -1, lang_of(request)
        run = self._run((listed or [])[index] if 0 <= index < len(listed or []) else None, owned, request)
        archive = originals_zip(self.root, run.run_id)
        download = handed(f"{run.run_id}.zip", archive) if archive is not None else None
        images = [(shown(image.path), image_caption(run, i, lang)) for i, image in enumerate(run.images)]
        can_delete = deletable(run, datetime.now().astimezone())
        return [
            run.run_id,
            None,
            None,
            gr.update(visible=True),
            gr.update(visible=bool(images)),  # a run stopped or failed early may have none
            images,
            details(run, zone(zone_name), lang),
            gr.update(value=download, interactive=download is not None),
            gr.update(interactive=bool(images)),
            gr.update(value=t("history_delete" if can_delete else "history_delete_busy", lang), interactive=can_delete),
        ]

    def reuse_settings(
        self, run_id: Any, owned: Any, keys: dict[str, str] | None, current: Choice, request: gr.Request
    ) -> dict[Any, Any]:
        """The run's settings in its tab; with its vendor and model first if this visitor can use them
        and the pickers show others (then their own event fills the form: `refill_pending`)."""
        run, lang = self._run(run_id, owned, request), lang_of(request)
        provider = (current or ("", ""))[0]
        if run.provider and run.provider != provider and run.provider in self.page.vendors.available(keys):
            provider = run.provider
        elif run.provider and run.provider != provider:
            gr.Warning(t("history_vendor_kept", lang, vendor=vendor_title(run.provider, lang)))
        wanted = (provider, chosen(self.page.form.adapter(provider), run.wan_model).model.value)
        if run.wan_model and wanted[1] != run.wan_model:
            gr.Warning(t("history_model_kept", lang, model=model_label(run.wan_model)))
        if current is None or tuple(current) != wanted:
            page = self.page
            return {page.provider: wanted[0], page.model: wanted[1], page.choice: wanted, self.pending: run.run_id}
        return self._refilled(run, current, lang) | {self.pending: None}

    def refill_pending(self, pending: Any, owned: Any, choice: Choice, request: gr.Request) -> dict[Any, Any]:
        """After a vendor or model change: the run whose settings wait for it, if any (any other change: nothing)."""
        if pending is None:
            return {self.pending: None}  # (Gradio reads an empty dict as one value, not as no updates)
        run = self._run(pending, owned, request)
        return self._refilled(run, choice, lang_of(request)) | {self.pending: None}

    def _refilled(self, run: PastRun, choice: Choice, lang: Lang) -> dict[Any, Any]:
        values, notes = form_values(run, self.page.form.chosen(choice), lang)
        form, palette = self._form(run.mode), self._palettes().get(run.mode)
        gr.Info(sentences([t("history_filled", lang, tab=tab_name(run.mode, lang)), *notes], lang))
        colours = refilled(palette, values.pop("palette")) if palette is not None and "palette" in values else {}
        return {form[name]: value for name, value in values.items() if name in form} | colours | {
            self.page.tabs: gr.Tabs(selected=TAB_IDS[run.mode])
        }

    def send_to_edit(
        self,
        run_id: Any,
        owned: Any,
        picked: int | None,
        references: list[Any] | None,
        choice: Any,
        request: gr.Request,
    ) -> tuple[Any, Any]:
        run = self._run(run_id, owned, request)
        if not run.images:
            lang = lang_of(request)
            raise gr.Error(t("history_saved_nothing", lang), title=t("title_nothing_to_send", lang))
        images = [shown(image.path) for image in run.images]
        return self.page._use_as_reference(images, picked, references, choice, request)

    def remove(
        self, run_id: Any, armed: Any, owned: Any, page_no: Any, zone_name: str | None, request: gr.Request
    ) -> list[Any]:
        """Asks first: the button turns into a confirmation for this run, and a second click deletes."""
        run, lang = self._run(run_id, owned, request), lang_of(request)
        if not deletable(run, datetime.now().astimezone()):
            raise gr.Error(t("history_busy", lang), title=t("title_history_busy", lang))
        if armed != run.run_id:
            confirm = gr.update(value=t("history_confirm", lang))
            return [gr.skip()] * len(self.listing) + [run.run_id, confirm, gr.skip(), gr.skip()]
        delete_run(self.root, run.run_id)
        self.made.forget(request.session_hash, run.run_id)
        left = [run_id for run_id in self._mine(owned, request) if run_id != run.run_id]
        gr.Info(t("history_deleted", lang))
        listing = self._listing(left, _page(page_no), zone_name, request)
        button = gr.update(value=t("history_delete", lang))
        hidden = [None, button, None, gr.update(visible=False)]  # armed, button, chosen, details
        return [left if self.own else gr.skip(), *listing[1:], *hidden]

    # ---- the form a run refills -----------------------------------------------------------------

    def _form(self, mode: Mode) -> dict[str, Any]:
        p = self.page
        if mode is Mode.TEXT_TO_IMAGE:
            parts = [p.t_prompt, p.t_negative, p.t_shape, p.t_width, p.t_height, p.t_n, p.t_random, p.t_seed]
            return dict(zip(FIELDS, [*parts, p.t_used, p.t_extend, p.t_mark], strict=True)) | {"thinking": p.t_thinking}
        if mode is Mode.EDIT:
            parts = [p.e_prompt, p.e_negative, p.e_shape, p.e_width, p.e_height, p.e_n, p.e_random, p.e_seed]
            return dict(zip(FIELDS, [*parts, p.e_used, p.e_extend, p.e_mark], strict=True))
        if mode is Mode.IMAGE_SET:
            s = p.sets  # a set has no negative prompt and no prompt rewriting
            kept: list[Any] = [s.prompt, None, s.shape, s.width, s.height, s.n, s.random, s.seed, s.used, None, s.mark]
            return {name: component for name, component in zip(FIELDS, kept, strict=True) if component is not None}
        parts = [p.i_prompt, p.i_negative, p.i_shape, p.i_slide_w, p.i_slide_h, p.i_max, p.i_random, p.i_seed]
        named = dict(zip(FIELDS, [*parts, p.i_used, None, p.i_mark], strict=True))
        return {name: component for name, component in named.items() if component is not None}

    def _palettes(self) -> dict[Mode, PaletteControls]:
        """The tabs with a colour palette (an image set takes none)."""
        return {Mode.TEXT_TO_IMAGE: self.page.t_palette, Mode.EDIT: self.page.e_palette}

    def _form_outputs(self) -> list[Any]:
        palettes = [part for palette in self._palettes().values() for part in refilled_outputs(palette)]
        return [component for mode in Mode for component in self._form(mode).values()] + palettes + [self.page.tabs]


def _cover(run: PastRun) -> str:
    return thumbnail(run.images[0].path) if run.images else no_image()


def _page(value: Any) -> int:
    """The page number kept in session state (1 if it is not one)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 1
