"""AI/ML API error envelopes -> causes and plain-language hints.

The envelope is `{message, path, requestId, statusCode, timestamp}` with no error code, so the
cause comes from the HTTP status and, where the status is shared, from the documented message:
https://docs.aimlapi.com/errors-and-messages/general-info,
https://docs.aimlapi.com/errors-and-messages/errors-with-status-code-4xx and its 5xx twin.
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
    error_class_for_status,
)
from wan26.providers._base import JSONObject
from wan26.providers._wire import mentions_billing, retry_after, text

KEYS_URL = "https://aimlapi.com/app/keys"
BILLING_URL = "https://aimlapi.com/app/billing/"

_KEY = f"Check AIMLAPI_API_KEY: the key is missing, expired or mistyped. Create one at {KEYS_URL}"
_CREDITS = f"Your AI/ML API balance is used up: top up or update the payment method at {BILLING_URL}"
_FREE_TIER = f"The free tier's hourly limit is reached: wait an hour, or subscribe at {BILLING_URL}"
_ACCESS = f"This key may not use this model: check your plan at {BILLING_URL}"
_THROTTLED = "Too many requests at once. Wait a little and try again, or make fewer images per run."
_MODERATION = "The prompt or a reference image was flagged as inappropriate. Rephrase the prompt or use other images."
_VALIDATION = "AI/ML API refused a field; the message names it (Expected … received …)."
_SERVER = "A problem at AI/ML API or at Alibaba behind it. Try again in a few minutes."
_MAINTENANCE = "The model is under maintenance at AI/ML API. Try again later, or contact help@aimlapi.com."
# 504 "Generation timeout": the generation may have finished upstream, and a POST is never resent.
_GENERATION_TIMEOUT = "The generation ran past AI/ML API's time limit. It may still be billed; try again later."

# [?] Moderation is undocumented: DashScope's code or message wrapped in a 400/500 message, we expect.
_MODERATION_MARKERS = {
    "DataInspectionFailed": "DataInspectionFailed",
    "data_inspection_failed": "DataInspectionFailed",
    "inappropriate content": "DataInspectionFailed",
    "IPInfringementSuspect": "IPInfringementSuspect",
}

_HINTS: dict[type[ProviderError], str] = {
    AuthenticationError: _KEY,
    PermissionDenied: _ACCESS,
    RateLimited: _THROTTLED,
    ProviderFailure: _SERVER,
    ProviderTimeout: _GENERATION_TIMEOUT,
    BadRequest: _VALIDATION,
}


def to_error(status: int, body: JSONObject, headers: Mapping[str, str], *, provider: str) -> ProviderError:
    """The error for a refused call: by documented message first, then by HTTP status."""
    code, said = _openai_error(body)
    message = text(body.get("message")) or said or f"HTTP {status} with no message"
    moderation_code = _moderation_code(message)
    cls, hint = _by_message(message) if moderation_code is None else (ContentModerated, _MODERATION)
    fallback = error_class_for_status(status)
    if cls is None and fallback is not AuthenticationError and mentions_billing(code, message, status=status):
        # OpenAI's `insufficient_quota` comes as HTTP 429 but is billing: never retried as a rate limit is.
        # https://platform.openai.com/docs/guides/error-codes (429 "You exceeded your current quota")
        cls, hint = PermissionDenied, _CREDITS
    cls = cls or fallback
    return cls(
        message,
        provider=provider,
        status_code=status,
        code=moderation_code or code,
        request_id=text(body.get("requestId")) or headers.get("x-inference-id"),
        hint=hint or _HINTS.get(cls),
        retry_after=retry_after(headers),
    )


def status_of(body: JSONObject, fallback: int) -> int:
    """The envelope's `statusCode`: [?] a number, or a string as in the example of the general-info page."""
    value = body.get("statusCode")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else fallback


def _by_message(message: str) -> tuple[type[ProviderError] | None, str | None]:
    """Causes that share a status with others, told apart by the documented messages."""
    lowered = message.lower()
    if "run out of credits" in lowered:
        return PermissionDenied, _CREDITS
    if lowered.startswith("free-tier limit"):  # [I] a 429 that waiting seconds will not fix (general-info.md)
        return PermissionDenied, _FREE_TIER
    if "under maintenance" in lowered:
        return ProviderFailure, _MAINTENANCE
    return None, None


def _openai_error(body: JSONObject) -> tuple[str | None, str | None]:
    """[I] `{"error": {"message", "type", "code"}}`: OpenAI's envelope, which upstreams behind AI/ML API
    pass through in place of the documented one (https://docs.aimlapi.com/errors-and-messages/general-info)."""
    error = body.get("error")
    if isinstance(error, str):
        return None, text(error)
    if not isinstance(error, dict):
        return text(body.get("code")), None
    return text(error.get("code")) or text(error.get("type")) or text(body.get("code")), text(error.get("message"))


def _moderation_code(message: str) -> str | None:
    return next((code for marker, code in _MODERATION_MARKERS.items() if marker.lower() in message.lower()), None)
