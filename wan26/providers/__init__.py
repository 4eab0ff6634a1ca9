"""The provider registry: one adapter per vendor, looked up by name. Add a vendor here (and its
name to `wan26.types.ProviderName`)."""

from __future__ import annotations

from collections.abc import Mapping

from wan26.errors import ConfigError
from wan26.providers._base import Adapter, ProviderFacts, flows_of
from wan26.providers.aimlapi import AIMLAPI
from wan26.providers.dashscope import DashScope
from wan26.providers.runware import Runware
from wan26.providers.shortapi import ShortAPI
from wan26.providers.vtrix import Vtrix
from wan26.types import ProviderName

__all__ = [
    "PROVIDERS",
    "DEFAULT_PROVIDER",
    "ProviderName",
    "Adapter",
    "ProviderFacts",
    "flows_of",
    "chosen_adapter",
    "default_provider",
    "get_adapter",
]


PROVIDERS: dict[ProviderName, Adapter] = {
    ProviderName.DASHSCOPE: DashScope(),
    ProviderName.AIMLAPI: AIMLAPI(),
    ProviderName.RUNWARE: Runware(),
    ProviderName.SHORTAPI: ShortAPI(),
    ProviderName.VTRIX: Vtrix(),
}

DEFAULT_PROVIDER = ProviderName.DASHSCOPE


def default_provider(env: Mapping[str, str]) -> str:
    """WAN26_PROVIDER when set; else the first vendor whose key is set (so one key is enough); else DashScope."""
    chosen = (env.get("WAN26_PROVIDER") or "").strip()
    keyed = (name for name, adapter in PROVIDERS.items() if (env.get(adapter.facts.key_env) or "").strip())
    return chosen or next(keyed, DEFAULT_PROVIDER.value)


def chosen_adapter(provider: str | None, env: Mapping[str, str]) -> Adapter:
    """The adapter `provider` names, else the environment's (see `default_provider`); a bad name
    in the environment is reported with the variable it came from, as the user must fix it there."""
    if provider:
        return get_adapter(provider)
    try:
        return get_adapter(default_provider(env))
    except ConfigError as exc:
        raise ConfigError(f"WAN26_PROVIDER: {exc}") from None


def get_adapter(name: str) -> Adapter:
    """The adapter called `name`, or a `ConfigError` listing the ones that exist."""
    try:
        return PROVIDERS[ProviderName(name.strip().lower())]
    except ValueError as exc:
        known = ", ".join(PROVIDERS)
        raise ConfigError(f"unknown provider {name!r}; choose one of: {known}") from exc
