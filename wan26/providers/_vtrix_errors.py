"""Vtrix errors -> causes and plain-language hints.

A refused call is HTTP 401 (key), 403 (balance or permission), 429 (rate) or 500, with
`{"error": {"code", "message" | "error_message"}}` or a top-level `message`/`error`; a failed task
carries `error` as a string or as that object. Upstream DashScope codes may pass through [I].
Sources: https://doc.vtrix.ai/domestic/api/qwen/wan26-image ("Error Codes"); vtrix-cli's `TaskError`,
https://github.com/VtrixAI/vtrix-cli; the SeaArt SDK's `APIError`, https://github.com/SeaArt-Infra/sea-sdk-python
"""

from __future__ import annotations

from collections.abc import Mapping

from wan26.errors import (
    AuthenticationError,
    BadRequest,
    ContentModerated,
    PermissionDenied,
    ProviderError,
    ProviderFailure,
    ProviderTimeout,
    RateLimited,
)
from wan26.providers import _dashscope_errors
from wan26.providers._base import JSONObject
from wan26.providers._wire import mentions_billing, retry_after, text

PROVIDER = "vtrix"

_TOP_UP = "Your Vtrix balance is too low: top up at https://vtrix.ai, then try again."
_HINTS: dict[type[ProviderError], str] = {
    AuthenticationError: "Check VTRIX_API_KEY: the key is missing, mistyped or revoked (keys: https://vtrix.ai).",
    PermissionDenied: "Either your Vtrix balance is too low (top up at https://vtrix.ai) or this key may not use "
    "this model.",
    RateLimited: "Too many requests to Vtrix at once. Wait a little and try again.",
    ContentModerated: "The prompt, a reference image or the result was flagged as inappropriate. "
    "Rephrase the prompt or use other images.",
    BadRequest: "Vtrix refused the request; the message says which parameter.",
    ProviderFailure: "A problem at Vtrix or upstream at Alibaba. Try again in a moment.",
    ProviderTimeout: "Vtrix or Alibaba did not finish in time. Try again later.",
}
# A 404: on the task route the id is wrong, another key's, or past its 24 h (upstream's task lifetime);
# else a wrong base URL.
_UNKNOWN_TASK = (
    "Vtrix found nothing there: check the task id and the key (task ids expire after 24 hours), "
    "or VTRIX_BASE_URL if you set one."
)
# Statuses that end a task without images in other words than `failed` (read in lower case): the
# documented set is in_progress | completed | failed, but the CLI page lists more than the API page, so
# a task that says it is over is taken at its word. https://doc.vtrix.ai/public/cli/cmd-task/
CANCELED_STATUSES = ("canceled", "cancelled", "aborted")
_EXPIRED_STATUSES = ("expired",)
_TIMED_OUT_STATUSES = ("timeout", "timed_out", "timedout")
FAILED_STATUSES = ("failed", "failure", "error", "errored", "rejected", *_EXPIRED_STATUSES, *_TIMED_OUT_STATUSES)
_EXPIRED = "Vtrix task ids expire after 24 hours, and an expired task cannot be fetched: submit it again."
_CANCELED = "Submit it again if you still want it."
# [I] No documented moderation code: DashScope's passes through in the task error, maybe only as text.
_MODERATION_CODES = ("DataInspectionFailed", "data_inspection_failed", "IPInfringementSuspect")
_MODERATION_TEXT = "inappropriate content"


def http_error(status: int, body: JSONObject | None, headers: Mapping[str, str]) -> ProviderError:
    """The error for a refused call, from its status and whichever body shape Vtrix used."""
    body = body or {}
    code, message = _code_and_message(body.get("error"))
    code = code or _code(body.get("code"))
    message = message or text(body.get("message")) or f"HTTP {status} with no message"
    request_id = text(body.get("request_id")) or headers.get("x-request-id")  # [?] header name
    return _error(status, code, message, request_id=request_id, retry_after=retry_after(headers))


def task_error(error: object, task_id: str, default: str = "the task failed without a message") -> ProviderError:
    """Why a task failed: `error` is a plain string or `{code, message | error_message}` (vtrix-cli)."""
    code, message = _code_and_message(error)
    failure = _error(None, code, message or default)
    failure.task_id = task_id or None
    return failure


def ended_error(raw: str, error: object, task_id: str) -> ProviderError:
    """Why a task ended without images, by what its status word means (see CANCELED_STATUSES)."""
    status = raw.lower()
    if status in CANCELED_STATUSES:
        return _ended("The task was canceled before it finished", error, task_id, _CANCELED)
    if status in _EXPIRED_STATUSES:
        return _ended("The task expired at Vtrix before it finished", error, task_id, _EXPIRED)
    if status in _TIMED_OUT_STATUSES:
        return _ended("The task ran out of time at Vtrix", error, task_id, _HINTS[ProviderTimeout])
    # failed, error, rejected, …: the vendor's own words decide the cause (moderation, balance, …).
    return task_error(error, task_id, default=f"the task ended as {raw!r} without a message")


def _ended(what: str, error: object, task_id: str, hint: str) -> ProviderError:
    code, said = _code_and_message(error)
    message = f"{what}: {said}" if said else f"{what}."
    return ProviderFailure(message, provider=PROVIDER, code=code, task_id=task_id or None, hint=hint)


def _code_and_message(error: object) -> tuple[str | None, str | None]:
    if isinstance(error, str):
        return None, error or None
    if isinstance(error, dict):
        return _code(error.get("code")), text(error.get("message")) or text(error.get("error_message"))
    return None, None


def _error(
    status: int | None,
    code: str | None,
    message: str,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> ProviderError:
    code = code or next((known for known in _MODERATION_CODES if known in message), None)
    cls = _cause(status, code, message)
    hint = _UNKNOWN_TASK if status == 404 else _hint(cls, code, message)
    return cls(
        message,
        provider=PROVIDER,
        status_code=status,
        code=code,
        request_id=request_id,
        hint=hint,
        retry_after=retry_after,
    )


def _cause(status: int | None, code: str | None, message: str) -> type[ProviderError]:
    """By a passed-through DashScope code (its table), else by HTTP status; a failed task is a failure.

    DashScope's reader also makes a balance, credit or quota code or message billing even on a 429
    (the model page lists "Insufficient balance" under 403), so it is never retried as a rate limit would be.
    """
    if code in _MODERATION_CODES or _MODERATION_TEXT in message.lower():
        return ContentModerated
    # DashScope's table decides the cause; its hints name DashScope's settings, so ours replace them.
    return type(_dashscope_errors.to_error(status, {"code": code, "message": message}, {}, provider=PROVIDER))


def _hint(cls: type[ProviderError], code: str | None, message: str) -> str | None:
    if cls is PermissionDenied and mentions_billing(code, message):
        return _TOP_UP
    return _HINTS.get(cls)


def _code(value: object) -> str | None:
    """Codes come as strings ("002014001") or integers (2014001) (vtrix-cli `TaskError`)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return text(value)
