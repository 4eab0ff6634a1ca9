"""Every error `wan26` raises, split by cause so callers catch what they can act on.

    Wan26Error
    ├── ConfigError            setup is wrong (no key, unknown region): nothing was sent
    ├── InvalidRequest         input breaks a limit or an image is unusable: nothing was sent
    └── ProviderError          the provider, or the way to it, failed
        ├── BadRequest             the provider refused the request as invalid
        ├── AuthenticationError    the key is missing, wrong, or from another region
        ├── PermissionDenied       no access to the model, or a billing problem
        ├── ContentModerated       the prompt, an image or the output was flagged
        ├── RateLimited            throttled; safe to try again later
        ├── ProviderFailure        the provider failed, or the task failed / was canceled
        ├── ProviderTimeout        a call or a wait passed its deadline
        ├── NetworkError           the connection broke; the request may have been received
        │   └── ConnectionFailed       could not connect at all: nothing was sent
        ├── ProtocolError          the answer was not in the documented shape
        └── DownloadError          a generated image could not be fetched or saved (its URL is kept)

Every ProviderError carries the provider, HTTP status, provider code, message, request id and a
plain-language hint. `str(error)` is the full message a user should see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from wan26.types import GenerationResult


class Wan26Error(Exception):
    """Root of every error raised by `wan26`."""


class ConfigError(Wan26Error):
    """Configuration is missing or wrong (API key, region, base URL); nothing was sent."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: the field it concerns and what the limit is."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidRequest(Wan26Error):
    """The request breaks one or more limits; every violation is listed, nothing was sent."""

    def __init__(self, violations: list[Violation] | tuple[Violation, ...]) -> None:
        self.violations = tuple(violations)
        lines = "\n".join(f"  - {violation}" for violation in self.violations)
        super().__init__(f"Invalid request ({len(self.violations)} problem(s)):\n{lines}")


class ProviderError(Wan26Error):
    """The provider (or the network to it) failed; carries everything needed to report it."""

    title: ClassVar[str] = "Provider error"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        task_id: str | None = None,
        hint: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.task_id = task_id
        self.hint = hint
        self.retry_after = retry_after
        # Set when the run had already produced something before failing (saved, not lost).
        self.partial_result: GenerationResult | None = None
        # Images the provider made that could not be saved: their URLs work for about 24 hours.
        self.urls: tuple[str, ...] = ()
        super().__init__(message)

    def __str__(self) -> str:
        return self._render()

    def _render(self) -> str:
        head = f"{self.title} ({self.provider})"
        if self.code:
            head += f" [{self.code}]"
        if self.status_code:
            head += f" (HTTP {self.status_code})"
        parts = [f"{head}: {self.message}"]
        if self.hint:
            parts.append(f"Hint: {self.hint}")
        if self.request_id:
            parts.append(f"Request id: {self.request_id}")
        if self.task_id:
            parts.append(f"Task id: {self.task_id}")
        if self.urls:
            listed = "\n".join(f"  {url}" for url in self.urls)
            parts.append(f"Not saved; fetch them yourself before they expire (24 h):\n{listed}")
        return "\n".join(parts)


class BadRequest(ProviderError):
    title = "Request rejected"


class AuthenticationError(ProviderError):
    title = "Authentication failed"


class PermissionDenied(ProviderError):
    title = "Permission or billing problem"


class ContentModerated(ProviderError):
    title = "Blocked by content moderation"


class RateLimited(ProviderError):
    title = "Rate limited"
    retryable = True


class ProviderFailure(ProviderError):
    title = "Generation failed"


class TaskNotFound(ProviderFailure):
    """The vendor no longer knows a task (ids expire after about 24 hours, and are visible only to
    the key that made it): whether it ran, and was billed, can no longer be told."""

    title = "Task not found"


class ProviderTimeout(ProviderError):
    title = "Timed out"


class NetworkError(ProviderError):
    title = "Network error"


class ConnectionFailed(NetworkError):
    title = "Could not connect"


class ProtocolError(ProviderError):
    title = "Unexpected response"


class DownloadError(ProviderError):
    """Some generated images could not be downloaded or written to disk; `urls` still work for about 24 hours."""

    title = "Images not saved"

    def __init__(self, message: str, *, urls: tuple[str, ...], **facts: object) -> None:
        super().__init__(message, **facts)  # type: ignore[arg-type]
        self.urls = urls


def error_class_for_status(status_code: int) -> type[ProviderError]:
    """The fallback cause when a provider's error code is not one we know."""
    if status_code == 401:
        return AuthenticationError
    if status_code in (402, 403):
        return PermissionDenied
    if status_code == 429:
        return RateLimited
    if status_code in (408, 504):
        return ProviderTimeout
    if status_code >= 500:
        return ProviderFailure
    return BadRequest
