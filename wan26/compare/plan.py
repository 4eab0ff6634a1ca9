"""One request adapted to each vendor of a comparison, from the vendors' limits data alone.

What a vendor cannot take is adapted for it rather than refused: an option it lacks is not sent, a
count over its limit is capped, a size it does not offer becomes the nearest one it does. What no
adaptation can mend (an empty or over-long prompt, a mode it lacks) leaves that vendor out; a
request that no chosen vendor can take is refused before anything is sent.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from wan26.compare.fit import nearest_size
from wan26.errors import ConfigError, InvalidRequest, Violation
from wan26.limits import ModeLimits, violations
from wan26.providers import PROVIDERS, ProviderFacts, get_adapter
from wan26.types import ImageRequest, Model, Size, SizeSpec

NOT_OFFERED = "this vendor takes no such option"


class Change(StrEnum):
    """How a vendor's request differs from the one asked for."""

    NOT_SENT = "not_sent"  # the vendor takes no such option
    CAPPED = "capped"  # a count over the vendor's limit: its highest is sent
    RESIZED = "resized"  # a size the vendor does not offer: the nearest it does (None: its own default)


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One field sent otherwise than asked, and why: `reason` is the limit it broke, in the core's words."""

    field: str
    change: Change
    asked: str
    sent: str | None  # None: nothing sent for it
    reason: str

    def __str__(self) -> str:
        if self.sent is None:
            return f"{self.field} {self.asked}: not sent ({self.reason})"
        return f"{self.field} {self.asked}: sent as {self.sent} ({self.reason})"


@dataclass(frozen=True, slots=True)
class VendorPlan:
    """What one vendor is sent; `problems` non-empty means it is left out (nothing sent to it)."""

    provider: str
    request: ImageRequest
    adjustments: tuple[Adjustment, ...] = ()
    problems: tuple[Violation, ...] = ()

    @property
    def title(self) -> str:
        return get_adapter(self.provider).facts.title

    @property
    def ready(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class ComparePlan:
    """The request as asked (with the seed every vendor that takes one is sent) and each vendor's share."""

    request: ImageRequest
    vendors: tuple[VendorPlan, ...]

    @property
    def ready(self) -> tuple[VendorPlan, ...]:
        return tuple(vendor for vendor in self.vendors if vendor.ready)


class NoVendorCanTake(InvalidRequest):
    """No chosen vendor can take the request, even adapted; `plans` say why for each. Nothing was sent."""

    def __init__(self, plans: Sequence[VendorPlan]) -> None:
        self.plans = tuple(plans)
        super().__init__(merged_problems(self.plans))


def plan_compare(request: ImageRequest, providers: Sequence[str]) -> ComparePlan:
    """Each vendor's request, or `NoVendorCanTake` (ConfigError for an unknown vendor or none at all)."""
    names = list(dict.fromkeys(get_adapter(name).facts.name for name in providers))  # in order, once each
    if not names:
        raise ConfigError(f"choose at least one vendor to compare: {', '.join(PROVIDERS)}")
    shared = with_shared_seed(request, names)
    plans = tuple(vendor_plan(request, shared, name) for name in names)
    if not any(plan.ready for plan in plans):
        raise NoVendorCanTake(plans)
    return ComparePlan(shared, plans)


def with_shared_seed(request: ImageRequest, providers: Sequence[str]) -> ImageRequest:
    """The request with one seed for every vendor that takes one: the same seed on the same model
    leaves the vendor as the only difference. A seed asked for is kept."""
    ranges = [limits.seed for limits in _limits_of(request, providers) if limits.seed is not None]
    if request.seed is not None or not ranges:
        return request
    low, high = max(r.low for r in ranges), min(r.high for r in ranges)
    return replace(request, seed=random.randint(low, high)) if low <= high else request


def vendor_plan(asked: ImageRequest, shared: ImageRequest, provider: str) -> VendorPlan:
    """`shared` adapted to `provider`; adjustments are reported against `asked` (a seed drawn for
    the comparison was never asked for, so not sending it is no news)."""
    facts = get_adapter(provider).facts
    limits, offer = facts.mode_limits(asked), facts.offer(asked.model)
    if limits is None or offer is None:
        return VendorPlan(facts.name, shared, problems=(_not_offered(facts, asked),))
    request, adjustments = shared, []
    for adapt in (_options, _counts, _size):
        request, made = adapt(asked, request, limits, offer.recommended_sizes.get(asked.mode, ()))
        adjustments += made
    problems = tuple(violations(request, limits))
    return VendorPlan(facts.name, request, tuple(adjustments), problems)


Adapted = tuple[ImageRequest, list[Adjustment]]


@dataclass(frozen=True, slots=True)
class _Option:
    """An option some vendors lack: whether a vendor offers it, whether it was asked for, and the
    request without it."""

    field: str
    offered: Callable[[ModeLimits], bool]
    asked: Callable[[ImageRequest], object]  # falsy: not asked for
    without: Callable[[ImageRequest], ImageRequest]


_OPTIONS = (
    _Option("seed", lambda lim: lim.seed is not None, lambda r: r.seed is not None, lambda r: replace(r, seed=None)),
    _Option(
        "negative_prompt",
        lambda lim: lim.negative_prompt,
        lambda r: r.negative_prompt,
        lambda r: replace(r, negative_prompt=""),
    ),
    # Only 2.6 has prompt rewriting: a 2.7 request's default True asks for nothing.
    _Option(
        "prompt_extend",
        lambda lim: lim.prompt_extend,
        lambda r: r.prompt_extend and r.model is Model.WAN26,
        lambda r: r,
    ),
    _Option("watermark", lambda lim: lim.watermark, lambda r: r.watermark, lambda r: replace(r, watermark=False)),
)


def _options(asked: ImageRequest, request: ImageRequest, limits: ModeLimits, _: object) -> Adapted:
    made = []
    for option in _OPTIONS:
        if option.offered(limits):
            continue
        request = option.without(request)
        if option.asked(asked):
            value = _shown(getattr(asked, option.field))
            made.append(Adjustment(option.field, Change.NOT_SENT, value, None, NOT_OFFERED))
    return request, made


def _counts(asked: ImageRequest, request: ImageRequest, limits: ModeLimits, _: object) -> Adapted:
    made = []
    if request.n > limits.n.high:
        made.append(_capped("n", request.n, limits.n.high, _reason(request, limits, "n")))
        request = replace(request, n=limits.n.high)
    if limits.max_images is not None and request.max_images > limits.max_images.high:
        made.append(
            _capped("max_images", request.max_images, limits.max_images.high, _reason(request, limits, "max_images"))
        )
        request = replace(request, max_images=limits.max_images.high)
    return request, made


def _capped(field: str, asked: int, sent: int, reason: str) -> Adjustment:
    return Adjustment(field, Change.CAPPED, str(asked), str(sent), reason)


def _reason(request: ImageRequest, limits: ModeLimits, field: str) -> str:
    """The limit `request` breaks in `field`, as the core words it."""
    return "; ".join(
        v.message for v in violations(request, limits) if v.field == field or v.field.startswith(field + ".")
    )


def _size(asked: ImageRequest, request: ImageRequest, limits: ModeLimits, recommended: tuple[Size, ...]) -> Adapted:
    def takes(size: SizeSpec) -> bool:
        return not _reason(replace(request, size=size), limits, "size")

    size = nearest_size(request.size, limits, recommended, takes)
    if size == request.size:
        return request, []
    sent = size or limits.default_size  # None: the vendor picks
    reason = _reason(request, limits, "size")
    adjusted = Adjustment("size", Change.RESIZED, str(request.size), None if sent is None else str(sent), reason)
    return replace(request, size=sent), [adjusted]


def merged_problems(plans: Sequence[VendorPlan]) -> list[Violation]:
    """Every vendor's problems once each; a problem not all of them share names the vendors it concerns."""
    return [
        Violation(problem.field, f"{problem.message} ({', '.join(titles)})") if titles else problem
        for problem, titles in grouped_problems(plans)
    ]


def grouped_problems(plans: Sequence[VendorPlan]) -> list[tuple[Violation, list[str]]]:
    """Each distinct problem with the titles of the vendors it concerns: none when it concerns them all."""
    by_problem: dict[Violation, list[str]] = {}
    for plan in plans:
        for problem in plan.problems:
            by_problem.setdefault(problem, []).append(plan.title)
    return [(problem, titles if len(titles) < len(plans) else []) for problem, titles in by_problem.items()]


def _not_offered(facts: ProviderFacts, asked: ImageRequest) -> Violation:
    if facts.offer(asked.model) is None:
        return Violation("model", f"{facts.name} does not serve {asked.model.label}")
    offered = ", ".join(facts.limits_of(asked.model)) or "none"
    return Violation(
        "mode", f"{facts.name} does not offer {asked.mode} with {asked.model.label} (it offers: {offered})"
    )


def _limits_of(request: ImageRequest, providers: Sequence[str]) -> list[ModeLimits]:
    found = (get_adapter(name).facts.mode_limits(request) for name in providers)
    return [limits for limits in found if limits is not None]


def _shown(value: object) -> str:
    return "on" if value is True else str(value)
