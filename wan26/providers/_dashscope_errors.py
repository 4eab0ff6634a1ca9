"""DashScope error codes -> causes and plain-language hints.

Sources: the error codes, https://www.alibabacloud.com/help/en/model-studio/error-code (Chinese:
https://help.aliyun.com/zh/model-studio/error-code); failed tasks, in the API reference
https://www.alibabacloud.com/help/en/model-studio/wan-image-generation-api-reference and the task query page
https://platform.qianwenai.com/docs/api-reference/image-generation/wan26-image-gen-edit/query-result
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
from wan26.providers._base import JSONObject, TaskStatus
from wan26.providers._wire import mentions_billing, retry_after, text

_KEY = (
    "Check DASHSCOPE_API_KEY, and that the key's region matches DASHSCOPE_REGION (intl, cn or us): "
    "each region has its own keys."
)
_MODERATION = (
    "The prompt, a reference image or the result was flagged as inappropriate. Rephrase the prompt or use other images."
)
_IP = (
    "Suspected intellectual-property infringement. Prompt rewriting can cause this: "
    "try again with prompt rewriting off (--no-prompt-extend)."
)
_BILLING = "Your Alibaba Cloud account is in arrears: settle the bill or top up in the console, then try again."
_ACCESS = (
    "This key may not use this model or call it this way: check the model is activated for your account and region."
)
_THROTTLED = (
    "Too many requests at once (about 5 per second and 5 running tasks per account). Wait a little and try again."
)
_QUOTA = "The allocated quota is used up. Wait, or raise the quota in the Model Studio console."
_FREE_QUOTA = "The free quota is used up. Enable paid usage in the Model Studio console to continue."
_NO_MODEL = "The model is not available here: check DASHSCOPE_REGION."
_SUSPENDED = (
    "This is often an account problem, such as arrears (an unpaid bill): check your account in the Model Studio "
    "console. The task id stays valid for 24 hours, so once that is sorted out `python -m wan26 fetch TASK_ID "
    "--mode MODE` may still get its result."
)
_SERVER = "A problem on Alibaba's side. Try again in a moment."
_UNAVAILABLE = "The model is temporarily unavailable. Try again later."

_CODES: dict[str, tuple[type[ProviderError], str]] = {
    "InvalidApiKey": (AuthenticationError, _KEY),
    "invalid_api_key": (AuthenticationError, _KEY),
    "InvalidParameter": (BadRequest, "The provider refused a parameter; the message says which."),
    "BadRequest.InputDownloadFailed": (
        BadRequest,
        "The provider could not download a reference image URL: make it public, or pass a local file.",
    ),
    "DataInspectionFailed": (ContentModerated, _MODERATION),
    "data_inspection_failed": (ContentModerated, _MODERATION),
    "IPInfringementSuspect": (ContentModerated, _IP),
    "Arrearage": (PermissionDenied, _BILLING),
    "AccessDenied": (PermissionDenied, _ACCESS),
    "AccessDenied.Unpurchased": (
        PermissionDenied,
        "The model is not activated for this account: activate it in the console.",
    ),
    "Model.AccessDenied": (PermissionDenied, _ACCESS),
    "Workspace.AccessDenied": (PermissionDenied, "The key's workspace has no access to this model."),
    "AllocationQuota.FreeTierOnly": (
        PermissionDenied,
        "The free quota is used up and the account is set to free tier only: turn that off to pay per image.",
    ),
    "ModelNotFound": (BadRequest, _NO_MODEL),
    "model_not_found": (BadRequest, _NO_MODEL),
    "Model.NotExist": (BadRequest, _NO_MODEL),
    "Throttling": (RateLimited, _THROTTLED),
    "Throttling.RateQuota": (RateLimited, _THROTTLED),
    "Throttling.BurstRate": (RateLimited, "Requests rose too quickly. Slow down and try again."),
    "Throttling.AllocationQuota": (RateLimited, _QUOTA),
    "InternalError": (ProviderFailure, _SERVER),
    "InternalError.Algo": (ProviderFailure, _SERVER),
    "SystemError": (ProviderFailure, _SERVER),
    "ModelServiceFailed": (ProviderFailure, _SERVER),
    "ModelServingError": (ProviderFailure, _UNAVAILABLE),
    "ModelUnavailable": (ProviderFailure, _UNAVAILABLE),
    "ServiceUnavailable": (ProviderFailure, _UNAVAILABLE),
    "RequestTimeOut": (ProviderTimeout, _SERVER),
    "GatewayTimeout": (ProviderTimeout, _SERVER),
    "InternalError.Timeout": (ProviderTimeout, "The task ran past the provider's 3-hour limit and was dropped."),
}

_FALLBACK_HINTS: dict[type[ProviderError], str] = {
    AuthenticationError: _KEY,
    PermissionDenied: _ACCESS,
    RateLimited: _THROTTLED,
    ProviderFailure: _SERVER,
    ProviderTimeout: _SERVER,
    BadRequest: "The provider refused the request; the message says why.",
}


def message_of(body: JSONObject) -> str | None:
    """`message` (the documented field, error codes page), else `msg`, which some answers carry instead [U].

    https://www.alibabacloud.com/help/en/model-studio/error-code; `message` wins when both are there.
    """
    return text(body.get("message")) or text(body.get("msg"))


def to_error(
    status: int | None, body: JSONObject, headers: Mapping[str, str], *, provider: str, request_id: str | None = None
) -> ProviderError:
    """The error for a refused call (by code first, then HTTP status), or a failed task (status None)."""
    code, message = text(body.get("code")), message_of(body)
    cls, hint = _cause(status, code, message)
    return cls(
        message or (f"HTTP {status} with no message" if status else "it failed without a message"),
        provider=provider,
        status_code=status,
        code=code,
        request_id=text(body.get("request_id")) or headers.get("x-request-id") or request_id,
        hint=hint or _FALLBACK_HINTS.get(cls),
        retry_after=retry_after(headers),
    )


def _cause(status: int | None, code: str | None, message: str | None) -> tuple[type[ProviderError], str | None]:
    """The documented code decides; an unknown one about money is billing, not a rate limit (error codes page)."""
    cls, hint = _CODES.get(code or "", (None, None))
    if code == "Throttling.AllocationQuota" and "Free allocated quota" in (message or ""):
        return PermissionDenied, _FREE_QUOTA  # used up, not busy: waiting will not help (error codes page)
    if cls is not None:
        return cls, hint
    fallback = error_class_for_status(status) if status else ProviderFailure
    if fallback is not AuthenticationError and mentions_billing(code, message, status=status):
        return PermissionDenied, _BILLING  # a key error stays one, even if its text names the billing page
    return fallback, None


def task_error(
    status: TaskStatus, raw: str, body: JSONObject, output: JSONObject, *, provider: str, task_id: str
) -> ProviderError | None:
    """Why a task ended without images, or None if it did not fail."""
    request_id = text(body.get("request_id"))
    # [D] code/message sit in `output` in most documented shapes, at top level in others (API reference,
    # task query page).
    failure = output if any(output.get(name) for name in ("code", "message", "msg")) else body
    if raw == "SUSPENDED":
        return _suspended(failure, provider=provider, request_id=request_id, task_id=task_id)
    if status is TaskStatus.FAILED:
        error = to_error(None, failure, {}, provider=provider, request_id=request_id)
        error.task_id = task_id
        return error
    if status is TaskStatus.CANCELED:
        return ProviderFailure(
            "The task was canceled before it finished.",
            provider=provider,
            request_id=request_id,
            task_id=task_id,
            hint="Submit it again if you still want it.",
        )
    if status is TaskStatus.UNKNOWN:
        return TaskNotFound(
            "The provider does not know this task.",
            provider=provider,
            request_id=request_id,
            task_id=task_id,
            hint="Task ids expire after 24 hours and are only visible to the key and region that created them.",
        )
    return None


def _suspended(failure: JSONObject, *, provider: str, request_id: str | None, task_id: str) -> ProviderError:
    """SUSPENDED is a constant of the official SDK (https://pypi.org/project/dashscope/) the docs never explain."""
    said = message_of(failure)
    return ProviderFailure(
        "The provider suspended the task" + (f": {said}" if said else "."),
        provider=provider,
        code=text(failure.get("code")),
        request_id=request_id,
        task_id=task_id,
        hint=_SUSPENDED,
    )
