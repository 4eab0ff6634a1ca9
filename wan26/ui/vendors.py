"""Which vendors a visitor can use: those with a server key, and those they gave their own key for."""

from __future__ import annotations

from collections.abc import Mapping

from wan26.providers import DEFAULT_PROVIDER, PROVIDERS, Adapter, default_provider, get_adapter

SessionKeys = dict[str, str]  # provider name -> a visitor's own key, held in server-side session state


class Vendors:
    """Read from the environment at each call, so a page load follows the server's keys as they are now."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def configured_default(self) -> str:
        """WAN26_PROVIDER when it names a vendor, else the first vendor with a server key, else DashScope."""
        name = default_provider(self._env).lower()
        return name if name in PROVIDERS else DEFAULT_PROVIDER.value

    def server_keyed(self) -> list[str]:
        return [name for name, adapter in PROVIDERS.items() if self._env.get(adapter.facts.key_env, "").strip()]

    def available(self, keys: SessionKeys | None) -> list[str]:
        """The vendors this visitor can use: a server key or their own, in the registry's order."""
        ready = set(self.server_keyed()) | set(keys or {})
        return [name for name in PROVIDERS if name in ready]

    def preferred(self, keys: SessionKeys | None, current: str | None = None) -> str:
        """The vendor to show: the current one if usable, else the configured default, else any usable."""
        ready = self.available(keys)
        for name in (current, self.configured_default()):
            if name in ready:
                return name
        return ready[0] if ready else self.configured_default()

    def adapter(self, name: object) -> Adapter:
        """The adapter named `name` (empty: the configured default), or a ConfigError listing ours."""
        return get_adapter(str(name or self.configured_default()))
