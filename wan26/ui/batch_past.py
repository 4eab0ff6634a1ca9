"""A batch this process no longer holds (it ended before a restart, or long enough ago to be
forgotten), read back from its folder's journal: enough for the page that started it to show how
it ended, its images and its zip after a reload. Pure: no gradio.

Only a folder named by a well-formed batch id directly under the output folder is read
(`held_folder`), read only; a journal that cannot be read is no batch to show.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from wan26.batch import RowRecord, RowStatus, Tally, read_records
from wan26.batch.state import Totals
from wan26.ui.batch_folder import held_folder, zip_folder

log = logging.getLogger(__name__)


@dataclass
class PastBatch:
    """What BatchView reads of a batch, from its journal; nothing runs or stops any more."""

    folder: Path
    records: list[RowRecord] = field(default_factory=list)
    cap_usd: float | None = None  # not kept on disk: its rows left by the cap still say why
    stopping: bool = False

    def tally(self) -> Tally:
        totals = Totals.of(self.records)
        counts = totals.counts
        return Tally(
            total=len(self.records),
            done=counts[RowStatus.DONE],
            failed=counts[RowStatus.FAILED],
            unknown=counts[RowStatus.UNKNOWN],
            accepted=counts[RowStatus.ACCEPTED],
            not_started=counts[RowStatus.NOT_STARTED],
            running=0,
            images=totals.images,
            spent_usd=round(totals.spent_usd, 6),
            committed_usd=round(totals.committed_usd, 6),
            rows_per_min=None,
            eta_s=None,
        )


def read_past(output_dir: Path, batch_id: object) -> PastBatch | None:
    """The batch `batch_id` as its folder's journal has it; None for a malformed id, no such folder,
    or a journal with no rows (or one that cannot be read)."""
    folder = held_folder(output_dir, batch_id)
    if folder is None:
        return None
    try:
        records = read_records(folder)
    except (OSError, sqlite3.Error):
        log.warning("batch %s: its journal could not be read", folder.name, exc_info=True)
        return None
    return PastBatch(folder, records) if records else None


def archive_of(folder: Path, known: Path | None = None) -> Path | None:
    """The batch's zip: `known` if it is still there (the shown files are pruned), else made again;
    None if it cannot be written."""
    if known is not None and known.is_file():
        return known
    try:
        return zip_folder(folder)
    except OSError:
        log.exception("batch %s: its zip could not be written", folder.name)
        return None


class Archives:
    """The zips made again for batches shown after a reload, by id: a page reloaded ten times does
    not zip its folder ten times. (Called from worker threads: each call's dict steps are atomic.)"""

    def __init__(self, most: int = 64) -> None:
        self.most = most
        self._by_id: OrderedDict[str, Path] = OrderedDict()

    def of(self, folder: Path, known: Path | None = None) -> Path | None:
        if known is not None and known.is_file():  # the zip written when the batch ended
            return known
        archive = archive_of(folder, self._by_id.get(folder.name))
        if archive is not None:
            self._by_id[folder.name] = archive
            self._by_id.move_to_end(folder.name)
            while len(self._by_id) > self.most:
                self._by_id.popitem(last=False)
        return archive
