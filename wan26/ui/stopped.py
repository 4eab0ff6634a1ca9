"""Runs stopped while their task went on at the vendor: it may still finish and be billed, so the
app follows it to its end in the background and keeps what it made for that visitor's session."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from wan26 import AsyncClient, Wan26Error
from wan26.providers import Adapter
from wan26.types import Mode, Model
from wan26.ui.errors import error_text
from wan26.ui.gallery import gallery_items
from wan26.ui.i18n import Lang, lang_of, t
from wan26.ui.owned import MadeRuns
from wan26.ui.spending import Spend, spent

STOPPED_SESSIONS = 256  # sessions remembered; the oldest is forgotten first (its files stay saved)
STOPPED_PER_SESSION = 8


@dataclass
class Stopped:
    """A task left running by Stop, followed to its end; `status(lang)` and `images` are what the visitor sees."""

    adapter: Adapter
    own_key: str | None
    client: Callable[[str, str | None], AsyncClient]  # Settings.client: the app's environment, not the process's
    task_id: str
    mode: Mode
    spend: Spend
    prompt: str = ""  # for the names of its images' downloads
    lang: Lang = Lang.EN  # of the visitor who stopped it: its images' captions are written once
    model: Model = Model.WAN26  # the task's: its price, and the record of what made it
    images: list[tuple[str, str]] = field(default_factory=list)
    failure: Wan26Error | None = None
    finished: bool = False
    run_dir: Path | None = None  # where the task's result was saved
    sent_in: Path | None = None  # the stopped run's folder: the result is saved there, beside its record

    def status(self, lang: Lang) -> str:
        if self.failure is not None:
            return t("stopped_failed", lang, error=error_text(self.failure, lang).splitlines()[0])
        if self.finished:
            return t("stopped_finished", lang, count=len(self.images))
        return t("stopped_running", lang)

    async def follow(self) -> None:
        try:
            name = self.adapter.facts.name
            async with self.client(name, self.own_key) as client:
                result = await client.fetch(self.task_id, self.mode, self.model, into=self.sent_in)
        except Wan26Error as error:
            self.failure = error
            partial = getattr(error, "partial_result", None)  # what it saved before failing, if anything
            self.run_dir = partial.run_dir if partial is not None else None
            self.spend.settle(None)  # it may have been billed: keep the estimate
            return
        self.run_dir = result.run_dir
        self.images = gallery_items(result, self.prompt, self.lang)
        self.finished = True
        self.spend.settle(spent(self.adapter, result))


class StoppedRuns:
    """Each session's stopped tasks, the newest sessions kept."""

    def __init__(self, made: MadeRuns | None = None) -> None:
        self.made = made or MadeRuns()  # a followed task's result joins its session's History
        self._by_session: OrderedDict[str, list[Stopped]] = OrderedDict()
        self._following: set[asyncio.Task[None]] = set()  # strong references, so followers are not collected

    def follow(self, stopped: Stopped, session: str) -> None:
        tasks = self._by_session.setdefault(session, [])
        self._by_session.move_to_end(session)
        tasks.append(stopped)
        del tasks[:-STOPPED_PER_SESSION]
        while len(self._by_session) > STOPPED_SESSIONS:
            self._by_session.popitem(last=False)
        follower = asyncio.get_running_loop().create_task(self._follow(stopped, session))
        self._following.add(follower)
        follower.add_done_callback(self._following.discard)

    async def _follow(self, stopped: Stopped, session: str) -> None:
        await stopped.follow()
        self.made.record(session, stopped.run_dir)

    def shown_to(self, http: gr.Request) -> tuple[Any, str]:
        """This session's stopped tasks: their status, and the images they made since."""
        tasks, lang = self._by_session.get(http.session_hash or "", []), lang_of(http)
        if not tasks:
            return [], t("stopped_none", lang)
        lines = [
            t("stopped_line", lang, task=task.task_id, vendor=task.adapter.facts.title, status=task.status(lang))
            for task in tasks
        ]
        return [image for task in tasks for image in task.images], "  \n".join(lines)
