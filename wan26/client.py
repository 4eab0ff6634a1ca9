"""The public entry point: `AsyncClient` (and the synchronous `generate`) for one provider."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from wan26._http import Http, RetryPolicy, Timeouts
from wan26._lanes import concurrency_limit
from wan26._poll import PollPolicy
from wan26._pool import new_http_client
from wan26._run import Run, RunContext, fetch_command
from wan26.errors import ConfigError, InvalidRequest, ProtocolError, Violation
from wan26.providers import chosen_adapter
from wan26.providers._base import Adapter, Credentials, ProviderFacts
from wan26.storage import RunFolder, default_output_dir
from wan26.types import Event, Finished, Flow, GenerationResult, ImageRequest, Mode, Model

__all__ = ["AsyncClient", "generate", "fetch_command"]

EventCallback = Callable[[Event], None]
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no whitespace


class AsyncClient:
    """Generate with one provider; `async with AsyncClient() as client: await client.generate(req)`.

    `provider` is one of `wan26.PROVIDERS` (default: `WAN26_PROVIDER`, else the first vendor whose
    key is set, else dashscope). Keys and base
    URLs come from the arguments, else the environment (the adapter's `facts.key_env` and `facts.base_url_env`,
    e.g. `DASHSCOPE_API_KEY`, `RUNWARE_BASE_URL`; `WAN26_OUTPUT_DIR`). `transport` is the test seam.
    `http_client` shares one pooled `httpx.AsyncClient` between clients (`wan26.shared_http_client`);
    it is left open by `aclose()`.

    Runs with one key beyond the vendor's documented cap on jobs at once (DashScope: 5) wait their
    turn in this process, with their place in line as `Progress(Phase.QUEUED)`;
    `WAN26_MAX_CONCURRENT_PER_KEY` overrides the cap (0: none).

    Every wait has a deadline, set by `timeouts` (`wan26.Timeouts`: per call, per stream, per
    download), `poll` (`wan26.PollPolicy`: the interval and the task deadline) and `retry`
    (`wan26.RetryPolicy`: which failures are tried again, how often).
    """

    def __init__(
        self,
        provider: str | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        output_dir: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeouts: Timeouts = Timeouts(),
        poll: PollPolicy = PollPolicy(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        env = os.environ if env is None else env
        self.adapter = chosen_adapter(provider, env)
        creds = _credentials(self.adapter, api_key, base_url, env)
        self._owns_http_client = http_client is None
        self._http_client = http_client or new_http_client(transport)
        http = Http(self._http_client, self.adapter, retry, timeouts, sleep)
        output = Path(output_dir) if output_dir is not None else default_output_dir(env)
        limit = concurrency_limit(self.adapter.facts.max_concurrent_per_key, env)
        self._ctx = RunContext(self.adapter, creds, http, output, poll, sleep, clock, limit)
        # The folder of the run last started here; known before its first event, so a run stopped
        # early can still be found (the folder is made on the run's first write: it may never exist).
        self.run_dir: Path | None = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http_client:  # a shared client outlives this one
            await self._http_client.aclose()

    def events(self, request: ImageRequest, *, flow: Flow | None = None) -> AsyncGenerator[Event, None]:
        """Run `request`, yielding progress, text deltas and saved images; the last event is `Finished`.

        `flow` None means the provider's `default_flow`; `run_dir` names the run's folder from now on."""
        run = Run(self._ctx, request, flow)
        self.run_dir = run.folder.path
        return run.events()

    async def generate(
        self, request: ImageRequest, *, flow: Flow | None = None, on_event: EventCallback | None = None
    ) -> GenerationResult:
        """Run `request` to the end and return what it saved; `on_event` sees every event on the way."""
        return await _finish(self.events(request, flow=flow), on_event)

    async def fetch(
        self,
        task_id: str,
        mode: Mode,
        model: Model = Model.WAN26,
        *,
        on_event: EventCallback | None = None,
        into: Path | None = None,
    ) -> GenerationResult:
        """Wait for an already submitted task (say, one that outlived a deadline) and save its result.

        `into`: the folder of the run that sent the task (stopped before it ended), where the result
        joins what that run recorded of its request; else a new folder."""
        self.adapter.facts.checked_limits(model, mode)  # a mode or model this vendor lacks made no task here
        if not (task_id := task_id.strip()):
            raise InvalidRequest([Violation("task_id", "is empty: give the task id printed when the task was sent")])
        folder = RunFolder.reopened(into) if into is not None and into.is_dir() else None
        run = Run(self._ctx, ImageRequest(mode, prompt="", model=model), Flow.TASK, folder)
        self.run_dir = run.folder.path
        return await _finish(run.fetch_events(task_id), on_event)


def generate(
    request: ImageRequest, *, flow: Flow | None = None, on_event: EventCallback | None = None, **client_options: object
) -> GenerationResult:
    """Synchronous convenience: `generate(ImageRequest(Mode.TEXT_TO_IMAGE, "a red fox"))`."""

    async def run() -> GenerationResult:
        async with AsyncClient(**client_options) as client:  # type: ignore[arg-type]
            return await client.generate(request, flow=flow, on_event=on_event)

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop running: the normal case for a script
        return asyncio.run(run())
    raise RuntimeError(
        "wan26.generate() cannot run inside a running event loop (Jupyter, async apps): "
        "use `async with AsyncClient() as client: await client.generate(request)` instead."
    )


async def _finish(events: AsyncIterator[Event], on_event: EventCallback | None) -> GenerationResult:
    """The run's result. `Finished` is its last event; reading on to the end lets the run's generators
    finish here, rather than each being closed later by a task of its own when collected."""
    result = None
    async for event in events:
        if on_event is not None:
            on_event(event)
        if isinstance(event, Finished):
            result = event.result
    if result is None:
        raise ProtocolError("the run ended without a result", provider="wan26")
    return result


def _credentials(adapter: Adapter, api_key: str | None, base_url: str | None, env: Mapping[str, str]) -> Credentials:
    facts = adapter.facts
    key = (api_key or env.get(facts.key_env) or "").strip()
    if key and not _HEADER_SAFE.fullmatch(key):
        # httpx would refuse it inside the request and quote the header, key included, in its error.
        given = f"The {facts.title} key given" if api_key else f"The {facts.key_env} value"
        raise ConfigError(
            f"{given} is not a valid key: it contains spaces, line breaks or "
            "non-ASCII characters. Copy the key again, on one line."
        )
    if not key:
        raise ConfigError(
            f"No API key for {facts.title}: set {facts.key_env} in the environment or in a .env "
            f"file (see .env.example). {facts.key_help}"
        )
    return Credentials(_checked_base_url(facts, base_url, env), key)


def _checked_base_url(facts: ProviderFacts, base_url: str | None, env: Mapping[str, str]) -> str:
    """The address requests go to, refused at once when it is no web address: httpx would only
    fail when sending, and that reads as the network being down."""
    written = (base_url or facts.base_url(env)).strip()
    if _is_web_address(written):
        return written.rstrip("/")
    # Not quoted back: a proxy's address can carry a token, and a Space's visitors see this message.
    given = "The base_url given" if base_url else facts.base_url_env
    raise ConfigError(
        f"{given} is not a web address: it must start with https:// and name a host (such as {facts.default_base_url})."
    )


def _is_web_address(address: str) -> bool:
    try:
        parts = urlsplit(address)
        parts.port  # noqa: B018 (read for its check: a port that is no number raises ValueError)
    except ValueError:  # "http://[::1" too
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
