"""What a row's error means for the row: sent again later, failed, fetched later, or unknown.

The rule is money: a row goes back to "not started" only when the vendor provably did not take
the request (refused it unprocessed), or when the app's limits on its owner's key held it back; it
is FAILED when the vendor refused it or its task ended without images (nothing billed); it stays
ACCEPTED when its task may still be running (the next run fetches it); every other error after
sending leaves it UNKNOWN, since the request may have been billed, and it is never sent again
without `--retry-unknown`. So does an error that comes with something already made
(`partial_result`: one of several calls got through, or a task made some of its images), and a
task the vendor no longer knows (expired: it may well have run, and been billed).
"""

from __future__ import annotations

from wan26.batch.state import RowStatus
from wan26.errors import (
    AuthenticationError,
    BadRequest,
    ConfigError,
    ConnectionFailed,
    ContentModerated,
    InvalidRequest,
    PermissionDenied,
    ProviderError,
    ProviderFailure,
    RateLimited,
    TaskNotFound,
)
from wan26.guard import LimitReached

# Refusals of the request itself: it was not processed, so not billed.
_REFUSED = (BadRequest, AuthenticationError, PermissionDenied, ContentModerated)
# How adapters report a task that ended without images (failed, canceled, moderated, unknown to the vendor).
_TASK_ENDED = (ProviderFailure, ContentModerated)


def status_after(error: BaseException, accepted: bool) -> RowStatus:
    """The row's status after `error`; `accepted`: the vendor had given the row a task id."""
    made = _made_something(error)
    if isinstance(error, TaskNotFound):
        return RowStatus.UNKNOWN
    if accepted:  # fetching the task again costs nothing: what it made is downloaded again
        if isinstance(error, _TASK_ENDED):
            return RowStatus.UNKNOWN if made else RowStatus.FAILED
        return RowStatus.ACCEPTED
    if made:
        return RowStatus.UNKNOWN
    if isinstance(error, InvalidRequest | ConfigError):
        return RowStatus.FAILED  # found before anything was sent
    if isinstance(error, RateLimited | ConnectionFailed | LimitReached):
        return RowStatus.NOT_STARTED  # refused unprocessed, never reached the vendor, or held back here
    if isinstance(error, _REFUSED):
        return RowStatus.FAILED
    return RowStatus.UNKNOWN


def _made_something(error: BaseException) -> bool:
    """Some of the request was done, so billed: an image saved, or one made and not saved (its URL)."""
    if not isinstance(error, ProviderError):
        return False
    return bool(error.urls or (error.partial_result is not None and error.partial_result.images))


def error_text(error: BaseException) -> str:
    """The error on one line, as the journal and the index keep it (the client masks keys in it)."""
    if not isinstance(error, ProviderError | InvalidRequest | ConfigError | LimitReached):
        return f"unexpected {type(error).__name__}: {error}"
    return "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
