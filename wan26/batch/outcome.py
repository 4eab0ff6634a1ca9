"""What a row's error means for the row: sent again later, failed, fetched later, or unknown.

The rule is money: a row goes back to "not started" only when the vendor provably did not take
the request (refused it unprocessed), or when the app's limits on its owner's key held it back; it
is FAILED when the vendor refused it or its task ended without images (nothing billed); it stays
ACCEPTED when its task may still be running (the next run fetches it); every other error after
sending leaves it UNKNOWN, since the request may have been billed, and it is never sent again
without `--retry-unknown`.
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
)
from wan26.guard import LimitReached

# Refusals of the request itself: it was not processed, so not billed.
_REFUSED = (BadRequest, AuthenticationError, PermissionDenied, ContentModerated)
# How adapters report a task that ended without images (failed, canceled, moderated, unknown to the vendor).
_TASK_ENDED = (ProviderFailure, ContentModerated)


def status_after(error: BaseException, accepted: bool) -> RowStatus:
    """The row's status after `error`; `accepted`: the vendor had given the row a task id."""
    if accepted:
        return RowStatus.FAILED if isinstance(error, _TASK_ENDED) else RowStatus.ACCEPTED
    if isinstance(error, InvalidRequest | ConfigError):
        return RowStatus.FAILED  # found before anything was sent
    if isinstance(error, RateLimited | ConnectionFailed | LimitReached):
        return RowStatus.NOT_STARTED  # refused unprocessed, never reached the vendor, or held back here
    if isinstance(error, _REFUSED):
        return RowStatus.FAILED
    return RowStatus.UNKNOWN


def error_text(error: BaseException) -> str:
    """The error on one line, as the journal and the index keep it (the client masks keys in it)."""
    if not isinstance(error, ProviderError | InvalidRequest | ConfigError | LimitReached):
        return f"unexpected {type(error).__name__}: {error}"
    return "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
