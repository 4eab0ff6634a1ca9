"""What a run needs from the client that started it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from wan26._http import Http
from wan26._poll import PollPolicy
from wan26.providers._base import Adapter, Credentials


@dataclass(frozen=True, slots=True)
class RunContext:
    adapter: Adapter
    creds: Credentials
    http: Http
    output_dir: Path
    poll: PollPolicy
    sleep: Callable[[float], Awaitable[None]]
    clock: Callable[[], float]
    max_concurrent: int | None = None  # runs with this key at once; the rest wait in line (`wan26._lanes`)
