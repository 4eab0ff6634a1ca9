"""Runware error codes -> causes and plain-language hints.

Runware's catalogue is large and unstable, so codes are bucketed by name the way the official SDK
does (runware-sdk `runware/errors.py`, `derive_code`); the HTTP status decides only when no bucket
matches. Sources: https://runware.ai/docs/platform/errors and the SDK, https://pypi.org/project/runware-sdk/
(its per-item error in https://github.com/Runware/runware-python, tests/test_rest_polling.py).
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

PROVIDER = "runware"

_KEY = "Check RUNWARE_API_KEY: copy the key again from https://my.runware.ai (or create one at /signup)."
_CREDITS = "Your Runware balance is used up: top up at https://my.runware.ai, then try again."
_THROTTLED = "Runware is throttling requests. Wait a little and try again."
_MODERATION = (
    "The prompt, a reference image or the result was flagged by content moderation. "
    "Rephrase the prompt or use other images."
)
_INVALID = "Runware refused a parameter; the message says which and why."
_TIMEOUT = "The model provider behind Runware did not answer in time. Try again in a moment."
_NOT_FOUND = "Runware does not know this task: task ids expire, and are visible only to the key that made them."
_FAILED_OR_NOT_FOUND = (
    "Runware says this task failed or is not known: task ids expire, and are visible only to the key that made them."
)
_SERVER = "A problem on Runware's side. Try again in a moment."

# runware-sdk errors.py: the safety, auth and server code sets, verbatim.
_SAFETY_CODES = frozenset(
    {
        "contentPolicyViolation",
        "providerContentPolicyViolation",
        "sensitiveContentDetected",
        "unsafeContentDetected",
        "nsfwContentDetected",
        "promptBlocked",
        "imageBlocked",
        "moderationFailed",
    }
)
_AUTH_CODES = frozenset(
    {
        "unauthorized",
        "forbidden",
        "authenticationFailed",
        "invalidAuthentication",
        "invalidCredentials",
        "missingAuthentication",
        "tokenExpired",
        "tokenInvalid",
        "tokenMissing",
        "tokenRevoked",
    }
)
_VALIDATION_PREFIXES = ("invalid", "missing", "unsupported", "max", "conflict", "duplicate", "value", "array")
_VALIDATION_CODES = frozenset({"unknownParameter", "incompatibleParameters", "validationFailed"})

_FALLBACK_HINTS: dict[type[ProviderError], str] = {
    AuthenticationError: _KEY,
    PermissionDenied: _CREDITS,
    RateLimited: _THROTTLED,
    ProviderFailure: _SERVER,
    ProviderTimeout: _TIMEOUT,
    BadRequest: _INVALID,
}


def cause_of(code: str) -> tuple[type[ProviderError], str] | None:
    """The error class and hint for a Runware code, in the SDK's order (quota before auth, …)."""
    # The SDK matches "Credits", "Balance", "Quota" by case; any case and any money word is billing here, so
    # `insufficient_quota` or `creditsExhausted` is never retried as a rate limit is.
    # https://runware.ai/docs/platform/errors
    if mentions_billing(code) or code in ("paymentRequired", "quotaExceeded"):
        return PermissionDenied, _CREDITS
    if "RateLimit" in code or code == "rateLimitExceeded":
        return RateLimited, _THROTTLED
    if code in _SAFETY_CODES:
        return ContentModerated, _MODERATION
    if code in _AUTH_CODES or "ApiKey" in code:
        return AuthenticationError, _KEY
    if "timeout" in code.lower():  # timeoutProvider [C]; the SDK only matches "Timeout" / "timeout"
        return ProviderTimeout, _TIMEOUT
    return _other_cause(code)


def _other_cause(code: str) -> tuple[type[ProviderError], str] | None:
    # Answered to a status query: the task failed, is over or was never this key's; polling again
    # cannot help, and whether it ran (and was billed) cannot be told, so it is not called failed.
    if code == "taskFailedOrNotFound":
        return TaskNotFound, _FAILED_OR_NOT_FOUND
    if code.startswith("task") and code.endswith(("NotFound", "Expired")):
        return TaskNotFound, _NOT_FOUND
    if code == "taskCancelled" or code.endswith(("NotFound", "Expired")):  # e.g. a model id it does not know
        return ProviderFailure, _NOT_FOUND
    if code.startswith("provider"):  # the upstream (Alibaba) failed, not the request
        return ProviderFailure, _SERVER
    if code.startswith(_VALIDATION_PREFIXES) or code in _VALIDATION_CODES:
        return BadRequest, _INVALID
    return None


def to_error(status: int | None, entry: JSONObject, headers: Mapping[str, str] | None = None) -> ProviderError:
    """The error for one entry of `errors` (a refused call), or an item's `error` (status None)."""
    code = text(entry.get("code"))
    cls, hint = (cause_of(code) if code else None) or (None, None)
    if cls is None and mentions_billing(text(entry.get("message")), status=status):
        cls, hint = PermissionDenied, _CREDITS  # a 429 that says "insufficient credits" is billing, not a wait
    if cls is None:
        cls = error_class_for_status(status) if status and status >= 400 else ProviderFailure
        hint = _FALLBACK_HINTS.get(cls)
    docs = text(entry.get("documentation"))
    return cls(
        _message(entry, status),
        provider=PROVIDER,
        status_code=status,
        code=code,
        request_id=text(entry.get("taskUUID")),  # Runware has no request id: the task's UUID names the call
        hint=f"{hint} Docs: {docs}" if docs else hint,
        retry_after=retry_after(headers or {}),
    )


def item_error(item: JSONObject, task_id: str | None) -> ProviderError:
    """Why one image of a task failed, from the item's `error` object (the SDK's poll tests)."""
    reported = item.get("error")
    entry: JSONObject = reported if isinstance(reported, dict) else {"message": text(reported)}
    error = to_error(None, {"taskUUID": task_id, **entry})
    if isinstance(error, ProviderTimeout):  # the task has ended: its timeout is a failure, nothing to fetch later
        error = ProviderFailure(error.message, provider=PROVIDER, code=error.code, request_id=task_id, hint=error.hint)
    error.task_id = task_id
    return error


def first_error(body: JSONObject) -> JSONObject | None:
    """The first entry of a body's `errors` list, if it has one."""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return errors[0]
    return None


def _message(entry: JSONObject, status: int | None) -> str:
    message = text(entry.get("message")) or (f"HTTP {status} with no message" if status else "it failed")
    parameter = entry.get("parameter")  # a string or a list of strings [C] (CLI `APIError.Parameter`)
    names = ", ".join(map(str, parameter)) if isinstance(parameter, list) else text(parameter)
    return f"{message} (parameter: {names})" if names else message
