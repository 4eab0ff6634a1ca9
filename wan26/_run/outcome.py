"""What is kept when a run ends: on success the record; on an error the URLs of every image not
saved, and a record where anything was made or a task may still be billed; on Stop the same."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import replace
from typing import TYPE_CHECKING

from wan26._redact import redact, redact_error
from wan26._run.record import written_result
from wan26.errors import ProviderError
from wan26.types import Event, Finished, Phase, Progress

if TYPE_CHECKING:  # run imports this module
    from wan26._run.run import Run


async def kept(run: Run, source: AsyncGenerator[Event, None]) -> AsyncGenerator[Event, None]:
    """Pass `source` on (key masked); whatever happens, what it produced is recorded beside its
    images, and every image not saved keeps its URL in the record and in the error."""
    try:
        async for event in source:
            yield _redacted(event, run.ctx.creds.api_key)
        run.downloads.raise_for_failures(run.ctx.adapter.facts.name, run.log.output.request_id, run.task.task_id)
    except ProviderError as error:
        _explain(run, error)
        raise
    except (asyncio.CancelledError, GeneratorExit):  # stopped: a task already accepted is written down
        await source.aclose()  # first, so that what it had read but not passed on is in the record
        run.downloads.note_stopped()
        if run.task.unsettled or _produced_anything(run):
            written_result(run, None, status="stopped")
        raise
    yield Progress(Phase.DONE, f"Saved {len(run.downloads.images)} image(s) in {run.folder.path}")
    yield Finished(written_result(run, None))


def _explain(run: Run, error: ProviderError) -> None:
    """Fill in what the user needs from a failed run: its unsaved URLs, and its partial result."""
    redact_error(error, run.ctx.creds.api_key)
    error.urls = error.urls or run.downloads.unsaved_urls()
    keep = _produced_anything(run) or run.task.unsettled  # a running task may yet be billed
    error.partial_result = written_result(run, error) if keep else None
    if error.partial_result is not None and error.partial_result.notes:
        error.hint = " ".join(filter(None, (error.hint, *error.partial_result.notes)))


def _produced_anything(run: Run) -> bool:
    return bool(run.log.parts or run.downloads.failed)


def _redacted(event: Event, key: str) -> Event:
    """Progress carries the vendor's own status words: mask the key there too."""
    if not isinstance(event, Progress) or key not in f"{event.message}{event.task_status}":
        return event
    status = None if event.task_status is None else redact(event.task_status, key)
    return replace(event, message=redact(event.message, key), task_status=status)
