"""The contract every provider adapter meets, and the values it trades with the core.

An adapter only translates: canonical request in, `HttpCall` out; wire JSON in, canonical
`ProviderOutput` / `TaskState` / `ProviderError` out. All I/O lives in `wan26._http`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from wan26._sse import SSEEvent
from wan26.errors import ProviderError
from wan26.images import ImageRules, PreparedImage
from wan26.limits import ModeLimits
from wan26.pricing import Price
from wan26.types import Flow, ImageRequest, Mode, Size

JSONObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Credentials:
    base_url: str
    api_key: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class WireRequest:
    """A checked request with its images prepared and its seed fixed: ready to translate."""

    request: ImageRequest
    images: tuple[PreparedImage, ...]
    seed: int | None


@dataclass(frozen=True, slots=True)
class HttpCall:
    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)  # holds the key
    json: JSONObject | list[JSONObject] | None = None  # Runware's body is always an array of tasks
    stream: bool = False  # the answer is Server-Sent Events
    idempotent: bool = False  # safe to repeat (a status query); every GET is

    @property
    def is_idempotent(self) -> bool:
        return self.idempotent or self.method == "GET"


@dataclass(frozen=True, slots=True)
class OutputText:
    text: str


@dataclass(frozen=True, slots=True)
class OutputImage:
    url: str
    seed: int | None = None  # the seed the provider reports for this image, where it does


OutputItem = OutputText | OutputImage


@dataclass(frozen=True, slots=True)
class ProviderOutput:
    """Generated content in order, plus the facts the provider reported about it."""

    items: tuple[OutputItem, ...]
    request_id: str | None = None
    usage: JSONObject = field(default_factory=dict)
    size: str | None = None
    finished: bool = True
    cost_usd: float | None = None  # what the provider says this cost, where it says
    error: ProviderError | None = None  # part of the run failed: `items` are what was made before it
    notes: tuple[str, ...] = ()  # what a tolerant reader skipped (an unknown item), said to the user and recorded


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        return self not in (TaskStatus.QUEUED, TaskStatus.RUNNING)


@dataclass(frozen=True, slots=True)
class TaskState:
    task_id: str
    status: TaskStatus
    raw_status: str
    request_id: str | None = None
    output: ProviderOutput | None = None  # set when SUCCEEDED
    error: ProviderError | None = None  # set when FAILED, CANCELED or UNKNOWN
    cost_usd: float | None = None  # some providers state the charge on submit
    progress: float | None = None  # 0–1, where the provider reports it


class Adapter(Protocol):
    """One provider: what it offers, and how to speak its wire format."""

    name: str
    title: str
    key_env: str  # the environment variable holding the key
    base_url_env: str  # the environment variable that overrides the base URL
    key_help: str  # where to get a key
    flows: frozenset[Flow]
    default_flow: Flow  # the one runs use unless told otherwise
    limits: Mapping[Mode, ModeLimits]  # the modes offered, and what each accepts
    recommended_sizes: Mapping[Mode, tuple[Size, ...]]
    image_rules: ImageRules
    price: Price
    max_concurrent_per_key: int | None  # the vendor's documented cap on one account's running jobs

    def model_for(self, mode: Mode) -> str: ...
    def base_url(self, env: Mapping[str, str]) -> str: ...
    def build_direct(self, wire: WireRequest, creds: Credentials) -> HttpCall: ...
    def build_submit(self, wire: WireRequest, creds: Credentials) -> HttpCall: ...
    def build_poll(self, task_id: str, creds: Credentials) -> HttpCall: ...
    def parse_output(self, body: JSONObject, headers: Mapping[str, str]) -> ProviderOutput: ...
    def parse_stream_event(self, event: SSEEvent) -> ProviderOutput: ...
    def parse_submit(self, body: JSONObject, sent: HttpCall | None = None) -> TaskState: ...  # sent: the submit
    def parse_task(self, body: JSONObject, task_id: str, expected_images: int | None = None) -> TaskState: ...
    def parse_error(self, status: int, body: JSONObject | None, headers: Mapping[str, str]) -> ProviderError: ...
