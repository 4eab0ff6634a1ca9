"""What the page shows of a running batch: its progress, the rows that did not end well, and a
gallery that grows as rows finish. Built from the batch's events, one page update at a time; or, for
a batch that ended before this process started, from what its folder's journal says."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol

from wan26.batch import BatchEnded, BatchEvent, RowChanged, RowRecord, SlowedDown, Tally, left_by_cap
from wan26.errors import Wan26Error
from wan26.ui.batch_live import Ended
from wan26.ui.batch_text import ended_text, hide_folder, progress_text, row_notes, vendor_title
from wan26.ui.i18n import Lang, batch_message, t
from wan26.ui.shown import thumbnail

GALLERY_MOST = 200  # the newest images shown; the zip and the contact sheet have them all
Item = tuple[str, str]  # a gallery item: the file Gradio shows, and its caption


class Shown(Protocol):
    """A batch as the view reads it: a LiveBatch, or a PastBatch read back from its folder."""

    @property
    def folder(self) -> Path: ...
    @property
    def cap_usd(self) -> float | None: ...
    @property
    def stopping(self) -> bool: ...
    @property
    def records(self) -> list[RowRecord]: ...
    def tally(self) -> Tally: ...


class BatchView:
    """Takes a batch's events in (`add`), and says what the page shows now (`status`, `gallery`).
    `head`: a line above it all (a page that brought the batch back after a reload says so)."""

    def __init__(self, live: Shown, lang: Lang, head: str = "") -> None:
        self.live, self.lang, self.head = live, lang, head
        self.tally: Tally | None = None
        self.records: dict[int, RowRecord] = {record.number: record for record in live.records}
        self.items: list[tuple[int, int, Item]] = []  # (row, image, item), in the order rows ended
        self.slowed: str = ""
        self._changed = True
        self._stopping_shown = False
        self._waiting: list[RowRecord] = []  # rows ended whose images are not in the gallery yet

    def add(self, event: BatchEvent) -> None:
        self.tally, self._changed = event.tally, True
        if isinstance(event, RowChanged):
            self.records[event.record.number] = event.record
            if event.record.status.is_final and event.record.files:  # a failed row's saved images too
                self._waiting.append(event.record)
        elif isinstance(event, SlowedDown):
            self.slowed = t(
                "batch_slowed", self.lang, vendor=vendor_title(event.provider), pause=f"{event.pause_s:.0f}"
            )

    def add_saved(self) -> None:
        """Every row's saved images into the gallery at once (a batch read back from its folder)."""
        self._waiting += [record for record in self.records.values() if record.status.is_final and record.files]
        self._changed = True

    @property
    def changed(self) -> bool:
        """Something to show since the last `status()`: an event, or Stop pressed."""
        return self._changed or self.live.stopping != self._stopping_shown

    async def gallery(self) -> list[Item]:
        """The images saved by the rows ended (the newest GALLERY_MOST), in the rows' order; small
        copies, made off the event loop."""
        waiting, self._waiting = self._waiting, []
        self.items += await asyncio.to_thread(self._shown, waiting)
        return [item for _, _, item in sorted(self.items[-GALLERY_MOST:])]

    def _shown(self, records: list[RowRecord]) -> list[tuple[int, int, Item]]:
        return [
            (record.number, index, (thumbnail(self.live.folder / name), self._caption(record, index)))
            for record in records
            for index, name in enumerate(record.files, start=1)
        ]

    def _caption(self, record: RowRecord, index: int) -> str:
        if len(record.files) == 1:
            return t("batch_caption", self.lang, row=record.number)
        return t("batch_caption_n", self.lang, row=record.number, index=index)

    def status(self) -> str:
        """The progress line, a note while it stops or is slowed down, and the rows that did not end well."""
        self._changed, self._stopping_shown = False, self.live.stopping
        head = progress_text(self.tally, self.lang) if self.tally else t("batch_starting", self.lang)
        lines = [self.head, head] if self.head else [head]
        if self.live.stopping:
            lines.append(t("batch_stopping", self.lang))
        elif self.slowed:
            lines.append(self.slowed)
        return "\n\n".join([*lines, self._notes()])

    def final(self, ended: Ended) -> str:
        """How the batch ended, and each row that did not end done, with why."""
        lines = [self.head, self._ending(ended), self._capped(), self._notes(ended=True)]
        if ended.archive is None:
            lines.append(t("batch_no_zip", self.lang))
        return "\n\n".join(line for line in lines if line)

    def _capped(self) -> str:
        """How many rows the visitor's cap left not started, as the command line says at its end."""
        count = sum(left_by_cap(record) for record in self.records.values())
        if not count or self.live.cap_usd is None:
            return ""
        return t("batch_capped", self.lang, count=count, cap=f"{self.live.cap_usd:.2f}")

    def _notes(self, ended: bool = False) -> str:
        return "\n".join(row_notes(self.records.values(), self.lang, self.live.folder.parent, ended))

    def _ending(self, ended: Ended) -> str:
        failure = ended.failure
        if isinstance(failure, Wan26Error):  # the core's own words name the field or the limit
            said = hide_folder(" ".join(str(failure).split()), self.live.folder.parent)
            return t("batch_failed_to_start", self.lang, error=batch_message(said, self.lang))
        if failure is not None:  # a fault of ours: its kind only (the log has the traceback)
            return t(
                "batch_failed_to_start", self.lang, error=t("batch_unexpected", self.lang, kind=type(failure).__name__)
            )
        return ended_text(ended.ended or BatchEnded(self.live.tally(), self.live.stopping), self.lang)
