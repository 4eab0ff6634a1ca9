"""The batch's journal: one SQLite file in the batch folder, saying where every row stands.

Each change is committed the moment it is known (the row about to be sent, its task id, its
result), with `synchronous=FULL`, so a crash, a SIGKILL or a power cut loses nothing already
written. WAL mode lets a reader (a dry run, a test, another window) look while a batch runs. One
process at a time may run a batch: a second is refused rather than sending rows twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Iterable
from dataclasses import astuple, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wan26.batch.plan import Plan
from wan26.batch.state import RowRecord, RowStatus

JOURNAL_NAME = "journal.sqlite"
LOCK_NAME = ".journal.lock"
_COLUMNS = tuple(column.name for column in fields(RowRecord))
_SCHEMA = """
CREATE TABLE IF NOT EXISTS batch (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    number INTEGER PRIMARY KEY, line INTEGER NOT NULL, row_hash TEXT NOT NULL,
    provider TEXT NOT NULL, mode TEXT NOT NULL, status TEXT NOT NULL,
    task_id TEXT, request_id TEXT, cost_usd REAL, estimate_usd REAL, earlier_usd REAL NOT NULL,
    run_dir TEXT, files TEXT NOT NULL, seed INTEGER, error TEXT, attempts INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
"""
CUT_OFF = (
    "the batch stopped while this row's request was out, before an answer or task id was recorded: "
    "it may have been billed, so it is not sent again unless you ask (--retry-unknown)"
)


class BatchChanged(Exception):
    """The folder holds a batch started from other rows: continuing would mix two batches."""


class BatchBusy(Exception):
    """Another process is running this batch now."""


class JournalError(Exception):
    """The journal could not be read or written (a full disk, a damaged file): the batch must stop,
    since a row it cannot record could later be sent twice."""

    def __init__(self, folder: Path, cause: BaseException) -> None:
        super().__init__(f"the batch journal in {folder} could not be read or written ({cause})")


class Journal:
    """The rows of one batch folder; `save` writes a row's new state durably before returning."""

    def __init__(self, connection: sqlite3.Connection, lock: int | None, folder: Path) -> None:
        self._db, self._lock, self._folder = connection, lock, folder

    @classmethod
    def open(cls, folder: Path) -> Journal:
        """The folder's journal, made if new; `BatchBusy` when another process holds it,
        `JournalError` when it cannot be opened (the lock is let go again)."""
        folder.mkdir(parents=True, exist_ok=True)
        lock = _locked(folder / LOCK_NAME)
        try:
            return cls(_connected(folder / JOURNAL_NAME), lock, folder)
        except (sqlite3.Error, OSError) as error:
            if lock is not None:
                os.close(lock)
            raise JournalError(folder, error) from error

    def bind(self, plan: Plan) -> list[RowRecord]:
        """The records of `plan`'s rows: written on the first run; later checked against the plan
        (`BatchChanged` if the rows differ). A row found SENDING was cut off mid-request: UNKNOWN."""
        try:
            return self._bind(plan)
        except (sqlite3.Error, OSError) as error:
            raise JournalError(self._folder, error) from error

    def _bind(self, plan: Plan) -> list[RowRecord]:
        if self._value("batch_hash") is None:
            self._start(plan)
        elif self._value("batch_hash") != plan.batch_hash:
            raise BatchChanged(_changes(plan, self.records()))
        self._db.execute(
            "UPDATE rows SET status = ?, error = ?, updated_at = ? WHERE status = ?",
            (RowStatus.UNKNOWN.value, CUT_OFF, _now(), RowStatus.SENDING.value),
        )
        return self.records()

    def records(self) -> list[RowRecord]:
        return [_record(row) for row in self._db.execute("SELECT * FROM rows ORDER BY number")]

    def save(self, record: RowRecord) -> RowRecord:
        """Write `record` durably, or raise `JournalError`."""
        names = ", ".join((*_COLUMNS, "updated_at"))
        marks = ", ".join("?" * (len(_COLUMNS) + 1))
        try:
            self._db.execute(f"INSERT OR REPLACE INTO rows ({names}) VALUES ({marks})", (*_values(record), _now()))
        except (sqlite3.Error, OSError) as error:
            raise JournalError(self._folder, error) from error
        return record

    def close(self) -> None:
        self._db.close()
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor releases the lock

    def _start(self, plan: Plan) -> None:
        self._db.execute("BEGIN IMMEDIATE")  # all rows or none: a half-written start is not a batch
        try:
            self._put("batch_hash", plan.batch_hash)
            self._put("jobs_file", plan.jobs_path.name)
            self._put("started_at", _now())
            for row in plan.rows:
                self.save(
                    RowRecord(
                        row.number,
                        row.job.line,
                        row.row_hash,
                        row.provider,
                        row.job.request.mode.value,
                        estimate_usd=row.estimate.usd,
                    )
                )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _value(self, key: str) -> str | None:
        found = self._db.execute("SELECT value FROM batch WHERE key = ?", (key,)).fetchone()
        return None if found is None else str(found["value"])

    def _put(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO batch (key, value) VALUES (?, ?)", (key, value))


def read_records(folder: Path) -> list[RowRecord] | None:
    """The journal's rows, read only (no lock, nothing changed); None when the folder has none."""
    path = folder / JOURNAL_NAME
    if not path.is_file():
        return None
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    try:
        return [_record(row) for row in connection.execute("SELECT * FROM rows ORDER BY number")]
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # made a moment ago, its tables not yet: no rows yet
            return None
        raise
    finally:
        connection.close()


def with_cut_off_as_unknown(records: Iterable[RowRecord]) -> list[RowRecord]:
    """How `bind` will see these rows: one caught mid-request is UNKNOWN (for a dry run's view)."""
    return [replace(r, status=RowStatus.UNKNOWN) if r.status is RowStatus.SENDING else r for r in records]


def _changes(plan: Plan, records: list[RowRecord]) -> str:
    stored = {record.number: record for record in records}
    lines = [
        f"row {row.number} (line {row.job.line})"
        for row in plan.rows
        if row.number not in stored or stored[row.number].row_hash != row.row_hash
    ]
    gone = len(stored) - len(plan.rows)
    listed = ", ".join(lines[:10]) + (f" and {len(lines) - 10} more" if len(lines) > 10 else "")
    what = f"rows differ: {listed}" if lines else f"{gone} row(s) were removed from the end"
    return (
        f"this folder holds a batch started from other rows ({what}; the options count too). "
        "Restore the jobs file and options it was started with, or give another folder with --out."
    )


def _record(row: sqlite3.Row) -> RowRecord:
    values: dict[str, Any] = {name: row[name] for name in _COLUMNS}
    values["status"] = RowStatus(values["status"])
    values["files"] = tuple(json.loads(values["files"]))
    return RowRecord(**values)


def _values(record: RowRecord) -> tuple[object, ...]:
    values = dict(zip(_COLUMNS, astuple(record), strict=True))
    values["status"] = record.status.value
    values["files"] = json.dumps(list(record.files))
    return tuple(values.values())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _connected(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)  # every statement commits
    try:
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")  # each commit on disk before the request it announces
        connection.executescript(_SCHEMA)
    except BaseException:
        connection.close()
        raise
    return connection


def _locked(path: Path) -> int | None:
    """An exclusive lock on `path`, held until closed and released by the system if the process dies."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    if sys.platform == "win32":  # no flock there; one process per batch is then the user's to keep
        return descriptor
    import fcntl

    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise BatchBusy("another `python -m wan26 batch` is running this batch now; wait for it, or stop it") from None
    return descriptor
