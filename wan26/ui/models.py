"""The model picked beside the vendor: which Wan models a vendor serves, and the (vendor, model) pair
every model-aware control reads its limits, price and reference rules from."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

from wan26.errors import InvalidRequest, Violation
from wan26.images import ImageRules
from wan26.limits import ModeLimits
from wan26.pricing import Price
from wan26.providers import Adapter
from wan26.types import Mode, Model

DEFAULT_MODEL = Model.WAN26  # the page opens on 2.6, which behaves exactly as before 2.7 existed


@dataclass(frozen=True, slots=True)
class Chosen:
    """A vendor and one of the models it serves. It has no `facts`: reading the vendor's data through
    it always names the model, so nothing falls back to 2.6 unseen."""

    adapter: Adapter
    model: Model = DEFAULT_MODEL

    @property
    def title(self) -> str:
        return self.adapter.facts.title

    @property
    def limits(self) -> Mapping[Mode, ModeLimits]:
        return self.adapter.facts.limits_of(self.model)

    @property
    def price(self) -> Price:
        return self.adapter.facts.price_of(self.model)

    @property
    def image_rules(self) -> ImageRules:
        return self.adapter.facts.image_rules_of(self.model)


def served(adapter: Adapter) -> list[Model]:
    """The models this vendor serves, in the picker's order."""
    return [model for model in Model if model in adapter.facts.offers]


def model_choices(adapter: Adapter) -> list[tuple[str, str]]:
    return [(model.label, model.value) for model in served(adapter)]


def kept_model(adapter: Adapter, value: object) -> Model:
    """The model picked if this vendor serves it, else 2.6 (every vendor serves 2.6)."""
    found = next((model for model in Model if model.value == value), None)
    return found if found is not None and found in served(adapter) else DEFAULT_MODEL


def chosen(adapter: Adapter, value: object) -> Chosen:
    return Chosen(adapter, kept_model(adapter, value))


def model_label(value: str) -> str:
    """ "Wan 2.7 Pro" for "wan2.7-pro"; a value that names no model of ours, as it is."""
    return next((model.label for model in Model if model.value == value), value)


def model_named(value: object, default: Model = DEFAULT_MODEL) -> Model:
    """The model an API caller named ("wan2.7-pro"; empty: `default`), or InvalidRequest listing ours."""
    if value is None or not str(value).strip():
        return default
    with contextlib.suppress(ValueError):
        return Model.named(str(value))
    names = ", ".join(model.value for model in Model)
    raise InvalidRequest([Violation("model", f"{str(value)[:40]!r} is not a model; use one of {names}")])


def modelled_elsewhere(adapter: Adapter, mode: Mode) -> list[Model]:
    """The models with which this vendor offers `mode` (interleave: 2.6; image sets: 2.7)."""
    return [model for model in served(adapter) if mode in adapter.facts.limits_of(model)]
