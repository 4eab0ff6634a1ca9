"""What every vendor fake offers, so one contract suite can drive them all the same way.

Each fake (dashscope, aimlapi, runware, shortapi, vtrix) is a Starlette app served on 127.0.0.1
that validates requests as strictly as its vendor's docs, answers with the vendor's own bodies,
and serves real PNGs at the URLs it returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Protocol

from starlette.requests import Request

from wan26.errors import (
    AuthenticationError,
    ContentModerated,
    PermissionDenied,
    ProviderError,
    ProviderFailure,
    RateLimited,
)
from wan26.providers import PROVIDERS


class FailureKind(StrEnum):
    """The failures every vendor can produce; each fake answers them in its own wire format."""

    AUTH = "auth"  # bad or missing key
    CREDITS = "credits"  # out of credit / overdue account
    RATE_LIMIT = "rate_limit"  # throttled (HTTP 429)
    MODERATION = "moderation"  # the prompt or an image was refused by content inspection
    SERVER = "server"  # the vendor failed (5xx or a failed task)


EXPECTED_ERROR: dict[FailureKind, type[ProviderError]] = {
    FailureKind.AUTH: AuthenticationError,
    FailureKind.CREDITS: PermissionDenied,
    FailureKind.RATE_LIMIT: RateLimited,
    FailureKind.MODERATION: ContentModerated,
    FailureKind.SERVER: ProviderFailure,
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request a fake received, as tests inspect it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lowercased names
    json: object | None  # parsed body, or None when empty or not JSON
    body: bytes = b""


async def recorded(request: Request) -> RecordedRequest:
    """The request as a record (Starlette caches the body, so handlers can still read it)."""
    body = await request.body()
    try:
        parsed = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        parsed = None
    headers = {name.lower(): value for name, value in request.headers.items()}
    return RecordedRequest(request.method, request.url.path, dict(request.query_params), headers, parsed, body)


class ServedFake:
    """What every fake shares once served: its base URL, and the settings that point wan26 at it."""

    name: ClassVar[str]  # the wan26 provider name
    base_path: ClassVar[str] = ""  # what the vendor's base URL adds to the server's root
    api_key: str
    server_url: str | None = None

    @property
    def base_url(self) -> str:
        """The value for the vendor's <VENDOR>_BASE_URL."""
        if self.server_url is None:
            raise RuntimeError(f"{type(self).__name__} is not being served: set fake.server_url first")
        return self.server_url + self.base_path

    def env(self) -> dict[str, str]:
        """The adapter's own variables (`key_env`, `base_url_env`), pointing at this fake."""
        adapter = PROVIDERS[self.name]
        return {adapter.facts.key_env: self.api_key, adapter.facts.base_url_env: self.base_url}


class VendorFake(Protocol):
    name: str  # the wan26 provider name
    api_key: str  # the only key it accepts
    server_url: str | None  # set once served: "http://127.0.0.1:PORT"
    requests: list  # every request received since reset(), oldest first

    @property
    def base_url(self) -> str: ...  # the value for the vendor's <VENDOR>_BASE_URL

    def env(self) -> dict[str, str]: ...  # {key_env: api_key, base_url_env: base_url}
    def reset(self) -> None: ...
    def generation_requests(self) -> list: ...  # the billable submissions only
    def downloads(self) -> list: ...  # GETs of result images
    def fail_with(self, kind: FailureKind, times: int = 1) -> None: ...  # the next `times` submissions
