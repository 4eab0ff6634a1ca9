"""Vtrix errors -> causes and plain-language hints (providers.md §4).

A refused call is HTTP 401 (key), 403 (balance or permission), 429 (rate) or 500, with
`{"error": {"code", "message" | "error_message"}}` or a top-level `message`/`error`; a failed task
carries `error` as a string or as that object. Upstream DashScope codes may pass through [I].
Source: https://doc.vtrix.ai/domestic/api/qwen/wan26-image ("Error Codes"), vtrix-cli `TaskError`.
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
from wan26.providers._wire import retry_after, text

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
# A 404: on the task route the id is wrong, another key's, or past its 24 h (§0, §4); else a wrong base URL.
_UNKNOWN_TASK = (
    "Vtrix found nothing there: check the task id and the key (task ids expire after 24 hours), "
    "or VTRIX_BASE_URL if you set one."
)
_BALANCE_WORDS = ("balance", "credit", "insufficient", "top up", "余额")
# [I] No documented moderation code: DashScope's passes through in the task error, maybe only as text (§4).
_MODERATION_CODES = ("DataInspectionFailed", "data_inspection_failed", "IPInfringementSuspect")
_MODERATION_TEXT = "inappropriate content"


def http_error(status: int, body: JSONObject | None, headers: Mapping[str, str]) -> ProviderError:
    """The error for a refused call, from its status and whichever body shape Vtrix used."""
    body = body or {}
    code, message = _code_and_message(body.get("error"))
    code = code or _code(body.get("code"))
    message = message or text(body.get("message")) or f"HTTP {status} with no message"
    request_id = text(body.get("request_id")) or headers.get("x-request-id")  # [?] header name (§4)
    return _error(status, code, message, request_id=request_id, retry_after=retry_after(headers))


def task_error(error: object, task_id: str) -> ProviderError:
    """Why a task failed: `error` is a plain string or `{code, message | error_message}` (§4)."""
    code, message = _code_and_message(error)
    failure = _error(None, code, message or "the task failed without a message")
    failure.task_id = task_id or None
    return failure


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
    hint = _UNKNOWN_TASK if status == 404 else _hint(cls, message)
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
    """By a passed-through DashScope code (its table), else by HTTP status; a failed task is a failure."""
    if code in _MODERATION_CODES or _MODERATION_TEXT in message.lower():
        return ContentModerated
    # DashScope's table decides the cause; its hints name DashScope's settings, so ours replace them.
    return type(_dashscope_errors.to_error(status, {"code": code}, {}, provider=PROVIDER))


def _hint(cls: type[ProviderError], message: str) -> str | None:
    if cls is PermissionDenied and any(word in message.lower() for word in _BALANCE_WORDS):
        return _TOP_UP
    return _HINTS.get(cls)


def _code(value: object) -> str | None:
    """Codes come as strings ("002014001") or integers (2014001) (vtrix-cli `TaskError`)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return text(value)
