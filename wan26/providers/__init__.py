"""The provider registry: one adapter per vendor, looked up by name."""

from __future__ import annotations

from enum import StrEnum

from wan26.errors import ConfigError
from wan26.providers._base import Adapter
from wan26.providers.dashscope import DashScope


class ProviderName(StrEnum):
    DASHSCOPE = "dashscope"


PROVIDERS: dict[ProviderName, Adapter] = {
    ProviderName.DASHSCOPE: DashScope(),
}

DEFAULT_PROVIDER = ProviderName.DASHSCOPE


def get_adapter(name: str) -> Adapter:
    """The adapter called `name`, or a `ConfigError` listing the ones that exist."""
    try:
        return PROVIDERS[ProviderName(name.strip().lower())]
    except ValueError as exc:
        known = ", ".join(PROVIDERS)
        raise ConfigError(f"unknown provider {name!r}; choose one of: {known}") from exc
