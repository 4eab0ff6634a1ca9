"""ShortAPI refusals and failed jobs -> causes and plain-language hints.

ShortAPI publishes no error page [?]; its model pages only show the `code: 0` answers
(https://shortapi.ai/models/alibaba/wan-2.6/image-to-image/llms.txt). Third-party integrations
read `{"code": <non-zero>, "info": "<text>"}` (sometimes `message`) on both job/create and
job/query, so the cause is read from the HTTP status where it is decisive, then from the text,
then from the code.
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
    TaskNotFound,
    error_class_for_status,
)
from wan26.providers._base import JSONObject
from wan26.providers._wire import mentions_billing, retry_after, text

_KEY = "Check SHORTAPI_API_KEY: copy the key again from your ShortAPI dashboard (https://shortapi.ai)."
_BILLING = "Your ShortAPI balance is too low for this job: top up in your dashboard at https://shortapi.ai, then retry."
_ACCESS = "This key may not use this model: check the key's permissions in your ShortAPI dashboard."
_THROTTLED = "Too many requests to ShortAPI at once. Wait a little and try again."
_MODERATION = (
    "The prompt, a reference image or the result was flagged as inappropriate. Rephrase the prompt or use other images."
)
_REFUSED = "ShortAPI refused the request; the message says which parameter."
_UNKNOWN_JOB = "ShortAPI does not know this job id: check it, and that the job was made with this SHORTAPI_API_KEY."
_SERVER = "A problem on ShortAPI's side (or the upstream model). Try again in a moment."

# [?] Statuses that name their cause whatever the text says (undocumented; our reading).
_DECISIVE_STATUSES: dict[int, tuple[type[ProviderError], str]] = {
    401: (AuthenticationError, _KEY),
    402: (PermissionDenied, _BILLING),
    429: (RateLimited, _THROTTLED),
}

# [?] Phrases in `info`/`message` -> cause, most specific first. The moderation words are DashScope's
# (DataInspectionFailed, "inappropriate content"), which ShortAPI forwards from upstream:
# https://www.alibabacloud.com/help/en/model-studio/error-code
# Billing words (balance, credit, quota, recharge, …) are the shared upstream ones, asked first in _cause.
_MODERATION_WORDS = ("datainspectionfailed", "inappropriate", "sensitive", "moderation", "content policy")
_KEY_WORDS = ("api key", "apikey", "api-key", "unauthorized", "unauthenticated", "invalid token")
_THROTTLE_WORDS = ("rate limit", "too many requests", "throttl")
_PHRASES: tuple[tuple[tuple[str, ...], type[ProviderError], str], ...] = (
    (_MODERATION_WORDS, ContentModerated, _MODERATION),
    (_KEY_WORDS, AuthenticationError, _KEY),
    (_THROTTLE_WORDS, RateLimited, _THROTTLED),
)

_FALLBACK_HINTS: dict[type[ProviderError], str] = {
    AuthenticationError: _KEY,
    PermissionDenied: _ACCESS,
    RateLimited: _THROTTLED,
    ProviderFailure: _SERVER,
    ProviderTimeout: _SERVER,
    BadRequest: _REFUSED,
}


def to_error(
    status: int | None, body: JSONObject, headers: Mapping[str, str], *, provider: str, task_id: str | None = None
) -> ProviderError:
    """The error for a refused call (`status` is its HTTP status, 200 for a code in a 2xx body)
    or for a failed job (`status` None, `body` the query's `data`)."""
    message = _error_text(body)
    cls, hint = _cause(status, body.get("code"), message or "")
    return cls(
        message or (f"HTTP {status} with no message" if status else "the job failed without a message"),
        provider=provider,
        status_code=status if status != 200 else None,
        code=_code_text(body.get("code")),
        request_id=text(body.get("request_id")) or headers.get("x-request-id"),
        task_id=task_id,
        hint=hint,
        retry_after=retry_after(headers),
    )


def _error_text(body: JSONObject) -> str | None:
    """The vendor's words: `info` in third-party readings, else `message` or `error` [?]."""
    for name in ("info", "message", "msg", "error"):
        text = body.get(name)
        if isinstance(text, dict):  # some gateways nest {"error": {"message": ...}}
            text = text.get("message")
        if isinstance(text, str) and text.strip():
            return text.strip()
    return None


def _cause(status: int | None, body_code: object, message: str) -> tuple[type[ProviderError], str]:
    code = _code_number(body_code)
    # the body's code mirrors the HTTP status in the fake's reading [?]
    decisive = next((_DECISIVE_STATUSES[n] for n in (status, code) if n in _DECISIVE_STATUSES), None)
    if decisive is not None and decisive[0] is AuthenticationError:
        return decisive
    # Then money: a 429 (or code 429) whose words say balance, credit or quota is billing, which
    # waiting will not fix, so it must not become a RateLimited that is retried [?].
    if mentions_billing(_code_text(body_code), message, status=status):
        return PermissionDenied, _BILLING
    if decisive is not None:
        return decisive
    lowered = message.lower()
    for phrases, cls, hint in _PHRASES:
        if any(phrase in lowered for phrase in phrases):
            return cls, hint
    if "job" in lowered and ("not found" in lowered or "not exist" in lowered):
        return TaskNotFound, _UNKNOWN_JOB
    cls = _class_from_numbers(status, code)
    return cls, _FALLBACK_HINTS.get(cls, _REFUSED)


def _class_from_numbers(status: int | None, code: int | None) -> type[ProviderError]:
    """By HTTP status, else by a body code that looks like one [?]; a failed job is a provider failure."""
    if status is not None and status >= 400:
        return error_class_for_status(status)
    if code is not None and 400 <= code < 600:
        return error_class_for_status(code)
    return BadRequest if status is not None else ProviderFailure


def _code_number(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _code_text(value: object) -> str | None:
    if value in (None, 0, "0", "") or isinstance(value, bool):
        return None
    return str(value)
