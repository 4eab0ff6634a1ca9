"""What the environment configures for the app, read once when it is built (a bad value stops the start)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from wan26 import AsyncClient, shared_http_client
from wan26.errors import ConfigError
from wan26.guard import KeyGuard, proxy_hops
from wan26.storage import default_output_dir
from wan26.ui.vendors import Vendors

# Runs only wait on HTTP, so users must not queue behind each other (Gradio's default is 1 at a
# time per event). A vendor's own cap on one key's jobs at once is kept per key by wan26 itself
# (WAN26_MAX_CONCURRENT_PER_KEY), so that runs with other keys are not held up behind it.
DEFAULT_CONCURRENCY = 64
DEFAULT_QUEUE_SIZE = 64
LEDGER_NAME = ".server-key-spend.json"
_SWITCH = {"on": True, "off": False, "true": True, "false": False, "1": True, "0": False}


class HistoryMode(StrEnum):
    """WAN26_HISTORY: what the History tab lists."""

    ALL = "all"  # every run in the output folder (the command line's too): one person's own machine
    OWN = "own"  # only the runs this browser made, by the ids it keeps: a public Space
    OFF = "off"  # no History tab


@dataclass
class Settings:
    """The app's configuration; `guard` is the owner's limits on server-key runs, `mcp_server` whether
    the three runs are also MCP tools, `history` what the History tab lists."""

    env: Mapping[str, str]
    vendors: Vendors
    output_dir: Path
    concurrency: int
    queue_size: int
    guard: KeyGuard
    mcp_server: bool
    history: HistoryMode

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Raise ConfigError naming the variable when a value is wrong."""
        output_dir = default_output_dir(env).resolve()
        proxy_hops(env)  # read again for each run; a wrong value stops the start, not a run
        return cls(
            env=env,
            vendors=Vendors(env),
            output_dir=output_dir,
            concurrency=_whole(env, "WAN26_CONCURRENCY", DEFAULT_CONCURRENCY),
            queue_size=_whole(env, "WAN26_QUEUE_SIZE", DEFAULT_QUEUE_SIZE),
            guard=KeyGuard.from_env(env, output_dir / LEDGER_NAME),
            mcp_server=_switch(env, "WAN26_MCP", default=True),
            history=_history(env),
        )

    @property
    def proxy_hops(self) -> int:
        return proxy_hops(self.env)

    def client(self, provider: str, api_key: str | None) -> AsyncClient:
        """A client for one run, configured by this app's environment rather than the process's, on
        the vendor's pooled HTTP client; `api_key` None: the server's key from that environment."""
        http_client = shared_http_client(provider)
        return AsyncClient(provider, api_key=api_key, env=self.env, output_dir=self.output_dir, http_client=http_client)


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    """on/off (also true/false, 1/0); empty: `default`."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in _SWITCH:
        raise ConfigError(f"{name} must be on or off, not {raw!r}")
    return _SWITCH[raw]


def _history(env: Mapping[str, str]) -> HistoryMode:
    """Unset: `own` on a Hugging Face Space (it sets SPACE_ID), where strangers share the app; else `all`."""
    raw = (env.get("WAN26_HISTORY") or "").strip().lower()
    if not raw:
        return HistoryMode.OWN if (env.get("SPACE_ID") or "").strip() else HistoryMode.ALL
    if raw not in HistoryMode.__members__.values():
        raise ConfigError(f"WAN26_HISTORY must be all, own or off, not {raw!r}")
    return HistoryMode(raw)
