"""The Batch tab: upload a jobs file (and the images it names), see its rows and estimated cost
before anything runs, run it with progress and a growing gallery, stop it politely, download the
batch folder as a zip.

Its events are private (no API endpoint, no MCP tool). A batch's folder name (128 random bits) is
its id, and reaches one page only: the one that started it, which keeps it in its browser (a
gr.BrowserState, made at the page's top level) so that after a reload the page finds its batch
again: followed while it runs (and stopped, by that id), or how it ended, its images and its zip.
Every id a browser sends is checked for its exact shape before anything is looked up; one that
names no batch of the output folder shows nothing. Checking a file is a preview; Run checks it all
again, from the same uploads, before anything is copied or sent.
"""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from wan26.batch import BatchEnded, BatchRun, Defaults, Jobs, JobsFileError, Journal, Plan, RunOptions, make_plan
from wan26.errors import ConfigError
from wan26.providers import PROVIDERS, get_adapter
from wan26.types import ProviderName
from wan26.ui.batch_folder import jobs_name, kept_ids, new_folder, stage
from wan26.ui.batch_keys import BatchRules, OwnerLimits, Payers, batch_clients, payers, reserved_usd
from wan26.ui.batch_live import BusyError, Ended, LiveBatch, LiveBatches
from wan26.ui.batch_past import Archives, PastBatch, read_past
from wan26.ui.batch_text import (
    cap_refusal,
    key_refusals,
    plan_table,
    problems_text,
    ready_text,
    unbounded_refusals,
)
from wan26.ui.batch_upload import UploadError, Uploads, read_batch, referenced, uploads
from wan26.ui.batch_view import BatchView
from wan26.ui.controls import PRIVATE_NOTIFYING
from wan26.ui.errors import unexpected_error
from wan26.ui.i18n import I18N, Lang, batch_message, lang_of, t
from wan26.ui.models import kept_model
from wan26.ui.owned import browser_secret
from wan26.ui.quiet import Quiet, with_quiet
from wan26.ui.vendors import SessionKeys

if TYPE_CHECKING:  # the page builds this tab
    from wan26.ui.page import _Page

JOBS_TYPES = [".csv", ".jsonl", ".ndjson"]
STORAGE_KEY = "wan26-batches"  # the browser's localStorage entry: this browser's batch ids, newest first
UPDATE_EVERY_S = 1.0  # at most one page update a second while events pour in; at once after a quiet moment
# On a phone: the two uploads side by side show a file's name, not its size and download link
# (Gradio keeps 8rem for those); three thumbnails a row; the tab's intro in smaller type. The
# gallery is as tall as its images, up to two thirds of the screen (then it scrolls).
CSS = """
#batch-status {min-height: 2.5em}
#batch-status p {margin: 0.2em 0}
#batch-gallery .grid-wrap {min-height: 0; max-height: 65vh; overflow-y: auto}
@media (max-width: 640px) {
  #batch-jobs .download, #batch-images .download {display: none}
  #batch-gallery .grid-container {grid-template-columns: repeat(3, minmax(0, 1fr))}
  #batch-intro p {font-size: 0.85em}
}
"""
Update = tuple[Any, Any, Any, Any, Any, Any]  # status, rows, gallery, download, Run, Stop
log = logging.getLogger(__name__)


@dataclass
class Checked:
    """A jobs file as Run would take it: its verdict, its table, and what a run needs (if it can run)."""

    text: str
    table: Any = None  # the Dataframe's value; None: nothing to show
    given: Uploads | None = None
    defaults: Defaults = field(default_factory=Defaults)
    jobs: Jobs | None = None
    paying: Payers = field(default_factory=Payers)
    ready: bool = False
    cap_usd: float | None = None  # the visitor's most to spend; None: no cap of theirs


class BatchTab:
    """Made at the page's top level, where it keeps the browser's batch ids (a gr.BrowserState
    inside a tab is read and written only once that tab has been opened); then `build()` inside the
    page's tabs, and `wire(blocks)` once the page's own controls exist."""

    def __init__(self, page: _Page) -> None:
        self.page, self.settings = page, page.settings
        self.rules = BatchRules.from_env(self.settings.env)  # a wrong value stops the start
        self.live, self.archives = LiveBatches(), Archives()
        self.held: Any = gr.BrowserState([], storage_key=STORAGE_KEY, secret=self._secret())

    def _secret(self) -> str | None:
        """History's pinned secret, so the ids outlive a restart; where it cannot be kept (an output
        folder not writable: History in `own` mode stops the start then), one for this process only."""
        try:
            return browser_secret(self.settings.env, self.settings.output_dir)
        except ConfigError as error:
            log.warning("batch ids in browsers will not outlive a restart: %s", error)
            return None

    # ---- layout -------------------------------------------------------------------------------

    def build(self) -> None:
        """Uploads, then Run and Stop with the verdict or progress just under them (on a phone too,
        all on the first screen), then the rows (folded away while a batch runs) and the results."""
        with gr.Tab(I18N("tab_batch"), id="batch"):
            gr.Markdown(I18N("batch_intro"), elem_id="batch-intro")
            self._uploads()
            with gr.Row(elem_id="batch-buttons"):
                self.run = gr.Button(
                    I18N("batch_run"), variant="primary", interactive=False, scale=2, min_width=120, elem_id="batch-run"
                )
                self.stop = gr.Button(I18N("batch_stop"), interactive=False, min_width=90, elem_id="batch-stop")
                # Text, not gr.Number: a Number field shows (and sends) 0 when empty, and a cap of $0 would
                # start no row. The verdict line says what is wrong with a value, next to Run.
                self.max_cost = gr.Textbox(
                    label=I18N("batch_max_cost"),
                    placeholder=I18N("batch_no_cap"),
                    min_width=120,
                    elem_id="batch-max-cost",
                )
                label: Any = I18N("batch_download")  # typed str, yet translated like any label
                self.download = gr.DownloadButton(label, visible=False, min_width=120, elem_id="batch-download")
            self.status = gr.Markdown(I18N("batch_waiting"), elem_id="batch-status")
            self._rows_and_results()
            with gr.Accordion(I18N("batch_format"), open=False, elem_id="batch-format"):
                gr.Markdown(I18N("batch_format_help"))

    def _uploads(self) -> None:
        with gr.Row(equal_height=True):  # side by side, a phone's width too: Run stays on its first screen
            self.jobs = gr.File(
                label=I18N("batch_jobs"), file_types=JOBS_TYPES, height=110, min_width=150, elem_id="batch-jobs"
            )
            self.images = gr.File(
                label=I18N("batch_images"),
                file_count="multiple",
                file_types=["image"],
                height=110,
                min_width=150,
                elem_id="batch-images",
            )

    def _rows_and_results(self) -> None:
        with gr.Accordion(I18N("batch_rows"), open=True, visible=False, elem_id="batch-rows") as self.rows:
            self.table = gr.Dataframe(
                show_label=False, interactive=False, wrap=True, max_height=360, elem_id="batch-plan"
            )
        self.gallery = gr.Gallery(
            label=I18N("batch_results"),
            visible=False,  # until a batch runs: empty, it would be a bare frame
            columns=6,
            fit_columns=False,  # six across even with fewer images: a thumbnail keeps its size
            height="auto",  # as tall as its images, up to the CSS's bound
            object_fit="cover",
            interactive=False,
            buttons=["fullscreen"],  # small copies: the originals are in the zip
            elem_id="batch-gallery",
        )

    def wire(self, blocks: gr.Blocks) -> None:
        page = self.page
        inputs = [self.jobs, self.images, page.choice, page.session_keys, self.max_cost, self.held]
        checked = [self.status, self.rows, self.table, self.run]
        changes = (self.jobs.change, self.images.change, page.choice.change, page.session_keys.change)
        for changed in (*changes, self.max_cost.change):
            changed(self.check, inputs, checked, **PRIVATE_NOTIFYING)
        outputs = [self.status, self.rows, self.gallery, self.download, self.run, self.stop]
        self.run.click(
            self.start,
            inputs,
            [*outputs, self.held],
            api_visibility="private",
            show_progress="hidden",  # the status line says how far it is
            concurrency_limit=self.live.most,
            concurrency_id="batch",
        )
        self.stop.click(self.halt, self.held, self.stop, **PRIVATE_NOTIFYING)
        # Each page load finds the browser's batch again. A follower mostly waits: no limit of its own
        # (the default lane's few places would be held for a batch's length).
        blocks.load(self.reattach, self.held, outputs, concurrency_limit=None, **PRIVATE_NOTIFYING)

    # ---- checking -----------------------------------------------------------------------------

    def check(
        self,
        jobs: str | None,
        images: list[str] | None,
        choice: Any,
        keys: SessionKeys | None,
        max_cost: object,
        held: object,
        request: gr.Request,
    ) -> tuple[Any, Any, Any, Any]:
        """The file's rows and verdict; Run is offered only for a file that can run as it is."""
        try:
            checked = self._checked(jobs, images, choice, keys, max_cost, request)
        except Exception as error:  # noqa: BLE001 (one sentence for the visitor; the log keeps the traceback)
            raise unexpected_error(error, lang_of(request)) from error
        table = checked.table if checked.table is not None else gr.skip()
        if self._on_show(held, request.session_hash):  # its own batch's progress is on show: left alone
            return gr.skip(), gr.skip(), table, gr.skip()
        rows = gr.Accordion(visible=checked.table is not None, open=True)
        return checked.text, rows, table, gr.update(interactive=checked.ready)

    def _checked(
        self,
        jobs: str | None,
        images: list[str] | None,
        choice: Any,
        keys: SessionKeys | None,
        max_cost: object,
        http: gr.Request,
    ) -> Checked:
        lang = lang_of(http)
        try:
            cap = parsed_cap(max_cost)
        except ValueError:  # said before the file: nothing runs with it
            return Checked("⛔ " + t("batch_bad_cap", lang))
        if not jobs:
            return Checked(t("batch_waiting", lang))
        defaults = self._defaults(choice)
        try:
            given = uploads(jobs, images)
            found = read_batch(given, defaults, self.rules.max_rows)
        except (UploadError, JobsFileError) as error:
            return Checked("⛔ " + batch_message(str(error), lang))
        return self._verdict(given, defaults, found, keys, cap, http)

    def _defaults(self, choice: Any) -> Defaults:
        """The vendor and model for rows that name none: the ones picked at the top of the page."""
        provider, model = choice if isinstance(choice, tuple | list) and len(choice) == 2 else (None, None)
        name = provider if provider in PROVIDERS else self.settings.vendors.configured_default()
        return Defaults(provider=ProviderName(name), model=kept_model(get_adapter(name), model))

    def _verdict(
        self,
        given: Uploads,
        defaults: Defaults,
        found: Jobs,
        keys: SessionKeys | None,
        cap_usd: float | None,
        http: gr.Request,
    ) -> Checked:
        lang, plan = lang_of(http), make_plan(found)
        paying = payers(
            (row.provider for row in plan.rows), keys, http, self.rules, self.settings.vendors.server_keyed()
        )
        refusals = key_refusals(plan, paying, lang) + self._over_cap(plan, paying, lang)
        if cap_usd is not None:  # as the command line's --max-cost: a row with no price cannot be bounded
            refusals += unbounded_refusals(plan, lang)
        table = plan_table(found, plan, lang)
        if found.problems or refusals:
            return Checked(problems_text(found.problems, refusals, lang), table)
        text = ready_text(plan, paying, self.rules.server_key_usd, lang, cap_usd)
        return Checked(text, table, given, defaults, found, paying, ready=True, cap_usd=cap_usd)

    def _over_cap(self, plan: Plan, paying: Payers, lang: Lang) -> list[str]:
        """A refusal when the rows on the server's key are estimated past what a batch may spend on it."""
        cap = self.rules.server_key_usd
        on_server = [row for row in plan.rows if row.provider in paying.server]
        usd = sum(reserved_usd(get_adapter(row.provider), row.job.request) for row in on_server)
        return [cap_refusal(usd, cap, lang)] if cap is not None and usd > cap + 1e-9 else []

    # ---- running ------------------------------------------------------------------------------

    async def start(
        self,
        jobs: str | None,
        images: list[str] | None,
        choice: Any,
        keys: SessionKeys | None,
        max_cost: object,
        held: object,
        request: gr.Request,
    ) -> AsyncIterator[tuple[Any, ...]]:
        """Check the uploads again, copy them into a new batch folder, run it, and follow it; its id
        goes first in the browser's list."""
        lang, session = lang_of(request), request.session_hash or ""
        try:
            self.live.claim(session)  # before the first wait: a second click cannot start a second batch
        except BusyError as busy:
            raise gr.Error(t(f"batch_busy_{busy}", lang, most=self.live.most), title=t("title_batch", lang)) from busy
        try:
            checked = await asyncio.to_thread(self._checked, jobs, images, choice, keys, max_cost, request)
            live = await self._launched(checked, request) if checked.ready else None
        except Exception as error:  # noqa: BLE001 (as in check)
            raise unexpected_error(error, lang) from error
        finally:
            self.live.release(session)  # a claim no batch took up
        if live is None:  # what stops it is said where Run is
            yield checked.text, gr.skip(), gr.skip(), gr.skip(), gr.update(interactive=False), gr.skip(), gr.skip()
            return
        ids: Any = kept_ids(held, live.id)
        async for update in self._followed(live, BatchView(live, lang)):
            yield (*update, ids)
            ids = gr.skip()  # said once

    async def _launched(self, checked: Checked, http: gr.Request) -> LiveBatch | None:
        """The batch started from copies of its uploads, in a folder of its own; None if the copies
        do not read as the uploads did (then nothing was sent)."""
        assert checked.given is not None and checked.jobs is not None  # a ready check has them
        folder = new_folder(self.settings.output_dir)
        images = referenced(checked.jobs, checked.given)
        staged = await asyncio.to_thread(stage, checked.given, images, folder)
        found = await asyncio.to_thread(read_batch, staged, checked.defaults, self.rules.max_rows)
        if found.problems or len(found.rows) != len(checked.jobs.rows):
            await asyncio.to_thread(shutil.rmtree, folder, True)
            return None
        plan, journal = make_plan(found), Journal.open(folder)
        limits = OwnerLimits(self.settings.guard, self.rules.server_key_usd, http, self.settings.proxy_hops)
        clients = batch_clients(self.settings, folder, checked.paying, limits)
        run = BatchRun(plan, journal, clients, RunOptions(max_cost_usd=checked.cap_usd), folder=folder)
        live = LiveBatch(folder, plan, run, journal, checked.cap_usd)
        self.live.start(http.session_hash or "", live)
        return live

    async def _followed(self, live: LiveBatch, view: BatchView) -> AsyncIterator[Update]:
        """The page's updates: the batch as far as it has come (or how it ended), then, while it runs,
        at most one a second, the last when it ends. Leaving (a closed page) stops following it, not the batch."""
        seen, later = live.follow()
        for event in seen:
            if isinstance(event, Ended):  # over before this page came: Run stays as the page has it
                yield await self._end(view, live.folder, event, gr.skip())
                return
            view.add(event)
        shown_at = time.monotonic()
        yield _running(view.status(), await view.gallery())
        async for item in with_quiet(later):
            if isinstance(item, Ended):
                yield await self._end(view, live.folder, item, gr.update(interactive=True))
                return
            if not isinstance(item, Quiet):
                view.add(item)
            if view.changed and (isinstance(item, Quiet) or time.monotonic() - shown_at >= UPDATE_EVERY_S):
                shown_at = time.monotonic()
                yield view.status(), gr.skip(), await view.gallery(), gr.skip(), gr.skip(), gr.skip()

    async def _end(self, view: BatchView, folder: Path, ended: Ended, run: Any) -> Update:
        """How it ended, its images and its zip (made again if the shown copy was pruned)."""
        ended = replace(ended, archive=await asyncio.to_thread(self.archives.of, folder, ended.archive))
        return _ended(view.final(ended), await view.gallery(), ended, run)

    async def halt(self, held: object, request: gr.Request) -> Any:
        """Stop: no row starts any more; the rows under way finish, and their images are saved. The
        batch stopped is the one this page shows: its session's, or the newest its browser holds."""
        live = self._on_show(held, request.session_hash)
        if live is not None:
            live.stop()
        return gr.update(interactive=False)

    def _on_show(self, held: object, session: str | None) -> LiveBatch | None:
        """The running batch this page shows: the one its session started, else the newest whose id
        its browser holds (an id is checked for its shape before it is looked up)."""
        ids = kept_ids(held)
        return self.live.of(session) or (self.live.running(ids[0]) if ids else None)

    # ---- after a reload -------------------------------------------------------------------------

    async def reattach(self, held: object, request: gr.Request) -> AsyncIterator[Update]:
        """After a page load, the newest batch this browser holds: followed while it runs, else how
        it ended, with its images and zip. Nothing for no id, or one that names no batch (no message:
        a stranger's guess learns nothing); a fault is logged, never shown."""
        lang, shown = lang_of(request), False
        try:
            async for update in self._reattached(held, lang):
                shown = True
                yield update
        except Exception:  # noqa: BLE001 (the page keeps its waiting state; the log keeps the traceback)
            log.exception("batch: a page could not be shown its batch again")
        if not shown:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()

    async def _reattached(self, held: object, lang: Lang) -> AsyncIterator[Update]:
        ids = kept_ids(held)
        if not ids:
            return
        found: LiveBatch | PastBatch | None = self.live.find(ids[0])
        found = found or await asyncio.to_thread(read_past, self.settings.output_dir, ids[0])
        if found is None:
            return
        name = (await asyncio.to_thread(jobs_name, found.folder)).replace("`", "'") or "…"
        view = BatchView(found, lang, t("batch_reattached", lang, jobs=name))
        if isinstance(found, LiveBatch):
            async for update in self._followed(found, view):
                yield update
        else:
            yield await self._past(found, view)

    async def _past(self, past: PastBatch, view: BatchView) -> Update:
        """A batch read back from its folder: how its rows ended (whether it was stopped is not kept)."""
        view.add_saved()
        return await self._end(view, past.folder, Ended(None, BatchEnded(past.tally(), False), None), gr.skip())


def parsed_cap(given: object) -> float | None:
    """The visitor's most to spend: None when empty (no cap), else a finite amount of US$ 0 or
    more; ValueError for anything else (a word, a negative amount; an API caller may send anything)."""
    if given is None or (isinstance(given, str) and not given.strip()):
        return None
    if isinstance(given, bool) or not isinstance(given, str | int | float):
        raise ValueError(f"not an amount: {given!r}")
    value = float(given.strip().removeprefix("$")) if isinstance(given, str) else float(given)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"not an amount of US$ 0 or more: {given!r}")
    return value


def _running(status: str, images: list[Any]) -> Update:
    """A batch running: the rows folded away (the results come up under the progress), Stop on."""
    folded = gr.Accordion(open=False)
    gallery = gr.Gallery(value=images, visible=True)
    return status, folded, gallery, gr.update(visible=False), gr.update(interactive=False), gr.update(interactive=True)


def _ended(status: str, images: list[Any], ended: Ended, run: Any) -> Update:
    """A batch over: its images and its zip to download, Stop off; Run as `run` says."""
    download = gr.update(value=str(ended.archive), visible=True) if ended.archive else gr.update(visible=False)
    gallery = gr.Gallery(value=images, visible=True)
    return status, gr.skip(), gallery, download, run, gr.update(interactive=False)
