"""The contract every provider adapter meets, and the values it trades with the core.

An adapter only translates: canonical request in, `HttpCall` out; wire JSON in, canonical
`ProviderOutput` / `TaskState` / `ProviderError` out. All I/O lives in `wan26._http`.

Every adapter has `facts` (a frozen `ProviderFacts`) and `parse_error`; beyond that it implements
only the call capabilities its vendor has (`DirectCalls`, `StreamedCalls`, `TaskCalls`). The flows
it offers follow from those (`flows_of`), and the core reaches each capability through an accessor
(`direct_calls`, `streamed_calls`, `task_calls`) that says plainly when the vendor lacks it.
See wan26/providers/README.md.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol, cast, runtime_checkable

from wan26._sse import SSEEvent
from wan26.errors import ConfigError, ProviderError
from wan26.images import ImageRules, PreparedImage
from wan26.limits import ModeLimits, mode_limits_for
from wan26.pricing import Price
from wan26.types import Box, Flow, ImageRequest, Mode, Model, Size

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

    def boxes_per_image(self) -> list[list[list[int]]]:
        """The request's boxes as both vendors that take them want them: one list per reference, in
        order, each box [x1, y1, x2, y2] in the pixels of the image as sent (`bbox_list`, `editRegions`:
        https://help.aliyun.com/zh/model-studio/wan-image-generation-and-editing-api-reference)."""
        return [
            [list(image.scale_box(box.corners)) for box in self._boxes_on(number)] for number, image in self._numbered()
        ]

    def _numbered(self) -> list[tuple[int, PreparedImage]]:
        return list(enumerate(self.images, start=1))

    def _boxes_on(self, number: int) -> list[Box]:
        return [box for box in self.request.boxes if box.image == number]


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


@dataclass(frozen=True, slots=True)
class Regions:
    """One host per region, picked by an environment variable: a key works in its own region only."""

    env: str  # the environment variable naming the region
    base_urls: Mapping[str, str]  # region name -> base URL

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_urls", MappingProxyType(dict(self.base_urls)))  # read-only, as the facts

    def base_url(self, region: str) -> str:
        if region not in self.base_urls:
            raise ConfigError(f"{self.env} must be one of {', '.join(self.base_urls)}, not {region!r}")
        return self.base_urls[region]


@dataclass(frozen=True, slots=True)
class ModelOffer:
    """One model as one vendor serves it: the id sent for each mode, what each mode accepts, the
    sizes it recommends, what it takes as a reference image, and its list price."""

    ids: Mapping[Mode, str]  # the model id sent for each mode
    limits: Mapping[Mode, ModeLimits]  # the modes offered, and what each accepts
    recommended_sizes: Mapping[Mode, tuple[Size, ...]]
    image_rules: ImageRules
    price: Price
    regions: frozenset[str] | None = None  # of the vendor's `Regions`, those that serve this model; None: all

    def __post_init__(self) -> None:
        # Read-only all the way down: one caller cannot change a vendor's limits for every other caller.
        for name in ("ids", "limits", "recommended_sizes"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))


@dataclass(frozen=True, slots=True)
class ProviderFacts:
    """What one vendor offers and where to reach it: plain data the core, the CLI and the app read."""

    name: str  # the registry name, as users type it
    title: str  # the vendor's name, as users read it
    key_env: str  # the environment variable holding the key
    base_url_env: str  # the environment variable that overrides the base URL
    default_base_url: str
    key_help: str  # where to get a key
    offers: Mapping[Model, ModelOffer]  # the models it serves
    default_flow: Flow  # the one runs use unless told otherwise; one of `flows_of(adapter)`
    # The vendor's documented limit on jobs running at once for one account; None where none is documented.
    max_concurrent_per_key: int | None = None
    # The vendor's documented limit on new jobs per second for one account; None where none is documented.
    submissions_per_second: float | None = None
    regions: Regions | None = None  # for a vendor with one host per region

    def __post_init__(self) -> None:
        object.__setattr__(self, "offers", MappingProxyType(dict(self.offers)))

    def offer(self, model: Model = Model.WAN26) -> ModelOffer | None:
        """How this vendor serves `model`; None when it does not."""
        return self.offers.get(model)

    def limits_of(self, model: Model = Model.WAN26) -> Mapping[Mode, ModeLimits]:
        """The modes `model` is offered in here, and what each accepts (empty when it is not served)."""
        offer = self.offers.get(model)
        return offer.limits if offer is not None else MappingProxyType({})

    def mode_limits(self, request: ImageRequest) -> ModeLimits | None:
        """What `request`'s model and mode accept here; None when this vendor does not offer them."""
        return self.limits_of(request.model).get(request.mode)

    def checked_limits(self, model: Model, mode: Mode) -> ModeLimits:
        """What `mode` of `model` accepts here, or `InvalidRequest` naming the model or mode it lacks."""
        offer = self.offers.get(model)
        return mode_limits_for(offer.limits if offer else None, mode, self.name, model)

    def price_of(self, model: Model = Model.WAN26) -> Price:
        offer = self.offers.get(model)
        return offer.price if offer is not None else Price(None, f"{self.title} does not serve {model.label}")

    def image_rules_of(self, model: Model = Model.WAN26) -> ImageRules:
        """What `model` takes as a reference here (2.6's where the vendor does not serve it: nothing is sent then)."""
        offer = self.offers.get(model) or self.offers[Model.WAN26]
        return offer.image_rules

    def unserved_region(self, model: Model, base_url: str) -> str | None:
        """The region `base_url` is the host of, when it does not serve `model` (None: it does, or the
        URL is not one of the vendor's region hosts, such as a workspace host or a proxy)."""
        offer = self.offers.get(model)
        if self.regions is None or offer is None or offer.regions is None:
            return None
        here = next((name for name, url in self.regions.base_urls.items() if url == base_url.rstrip("/")), None)
        return here if here is not None and here not in offer.regions else None

    def model_id(self, model: Model, mode: Mode) -> str:
        """The id sent for `model` in `mode` (the vendor serves them: the request was checked)."""
        return self.offers[model].ids[mode]

    def base_url(self, env: Mapping[str, str]) -> str:
        """`base_url_env` when set, else the region's host where the vendor has regions, else the default."""
        if env.get(self.base_url_env):
            return env[self.base_url_env].rstrip("/")
        if self.regions is not None and env.get(self.regions.env):
            return self.regions.base_url(env[self.regions.env])
        return self.default_base_url


class Adapter(Protocol):
    """One vendor: its facts, how it reads its errors, and whichever call capabilities below it has."""

    @property
    def facts(self) -> ProviderFacts: ...

    def parse_error(self, status: int, body: JSONObject | None, headers: Mapping[str, str]) -> ProviderError: ...


@runtime_checkable
class DirectCalls(Protocol):
    """One call that answers with the result: the direct flow."""

    def build_direct(self, wire: WireRequest, creds: Credentials) -> HttpCall: ...
    def parse_output(self, body: JSONObject, headers: Mapping[str, str]) -> ProviderOutput: ...


@runtime_checkable
class StreamedCalls(Protocol):
    """One call whose answer arrives as Server-Sent Events: the direct flow for interleave."""

    def build_stream(self, wire: WireRequest, creds: Credentials) -> HttpCall: ...
    def parse_stream_event(self, event: SSEEvent) -> ProviderOutput: ...


@runtime_checkable
class TaskCalls(Protocol):
    """Submit a task, then poll it until it ends: the task flow."""

    def build_submit(self, wire: WireRequest, creds: Credentials) -> HttpCall: ...
    def parse_submit(self, body: JSONObject, sent: HttpCall | None = None) -> TaskState: ...  # sent: the submit
    def build_poll(self, task_id: str, creds: Credentials) -> HttpCall: ...
    def parse_task(self, body: JSONObject, task_id: str, expected_images: int | None = None) -> TaskState: ...


def flows_of(adapter: Adapter) -> frozenset[Flow]:
    """The flows an adapter can run, read from the capabilities it implements."""
    return _flows_of_class(type(adapter))


@functools.cache
def _flows_of_class(kind: type) -> frozenset[Flow]:
    offered = {Flow.DIRECT: _has(kind, DirectCalls) or _has(kind, StreamedCalls), Flow.TASK: _has(kind, TaskCalls)}
    return frozenset(flow for flow, has_it in offered.items() if has_it)


@functools.cache
def _has(kind: type, capability: type) -> bool:
    """An adapter's capabilities are its class's methods: checked once per class, because a
    runtime protocol check walks every member each time and runs on every call."""
    return issubclass(kind, capability)


def direct_calls(adapter: Adapter) -> DirectCalls:
    if _has(type(adapter), DirectCalls):
        return cast(DirectCalls, adapter)
    raise _lacking(adapter, "direct call")


def streamed_calls(adapter: Adapter) -> StreamedCalls:
    if _has(type(adapter), StreamedCalls):
        return cast(StreamedCalls, adapter)
    raise _lacking(adapter, "streamed call")


def task_calls(adapter: Adapter) -> TaskCalls:
    if _has(type(adapter), TaskCalls):
        return cast(TaskCalls, adapter)
    raise _lacking(adapter, "task flow (submit, then poll)")


def _lacking(adapter: Adapter, capability: str) -> ConfigError:
    offered = " and ".join(sorted(flows_of(adapter))) or "none"
    return ConfigError(f"{adapter.facts.title} has no {capability}; the flows it offers: {offered}")
