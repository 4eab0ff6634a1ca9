"""All network I/O: timeouts, the retry rules, error translation, SSE streams and downloads.

Retry rules (never resubmit a generation that may already be running and billed):
- a POST is retried only when it was refused unprocessed: throttled (429), or the connection
  could not be made at all;
- an idempotent call (a GET: task polls, image downloads; or a POST the adapter marks as a
  status query) is also retried on 5xx, timeouts and broken connections.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TypeVar

import httpx

from wan26._sse import SSEDecoder, SSEEvent
from wan26.errors import (
    ConnectionFailed,
    NetworkError,
    ProtocolError,
    ProviderError,
    ProviderFailure,
    ProviderTimeout,
    RateLimited,
    TaskNotFound,
)
from wan26.providers._base import Adapter, HttpCall, JSONObject

Sleep = Callable[[float], Awaitable[None]]
_Result = TypeVar("_Result")


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Per-call limits. A direct generation answers only when its images are done: typically in
    1–2 minutes, and DashScope's official SDK (https://pypi.org/project/dashscope/) waits 300 s. See
    https://platform.qianwenai.com/docs/api-reference/image-generation/wan26-image-gen-edit/query-result
    A stream waits at most `generate.read` between two events, and `total` in all, even when only
    keep-alive comments come."""

    generate: httpx.Timeout = field(default_factory=lambda: httpx.Timeout(10.0, read=300.0, write=60.0))
    poll: httpx.Timeout = field(default_factory=lambda: httpx.Timeout(10.0, read=30.0))
    download: httpx.Timeout = field(default_factory=lambda: httpx.Timeout(10.0, read=60.0))
    total: float = 900.0  # a whole direct call, task submission or stream, however slowly it trickles
    poll_total: float = 60.0  # one task status query, retries included
    download_total: float = 180.0  # one result file, retries included: a trickle must not hold a run for ever
    download_max_bytes: int = 64 * 1024 * 1024  # a result is a few MB; a bigger body is not an image of ours


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0  # a longer Retry-After is reported to the user, not waited out


def should_retry(error: ProviderError, *, idempotent: bool, attempt: int, policy: RetryPolicy) -> bool:
    """Whether a failed call may be repeated safely (see the module docstring)."""
    if attempt >= policy.max_retries:
        return False
    if isinstance(error, RateLimited):
        return error.retry_after is None or error.retry_after <= policy.max_retry_after
    if isinstance(error, ConnectionFailed):
        return True
    if isinstance(error, TaskNotFound):  # an answer about the task, not a passing failure
        return False
    return idempotent and isinstance(error, ProviderFailure | ProviderTimeout | NetworkError)


def retry_delay(attempt: int, retry_after: float | None, policy: RetryPolicy) -> float:
    """Seconds to wait before retry number `attempt + 1`: the server's word first, else backoff."""
    if retry_after is not None and retry_after >= 0:
        return retry_after
    backoff = min(policy.base_delay * 2.0**attempt, policy.max_delay)
    return backoff * (1 - 0.25 * random.random())  # jitter spreads out clients retrying together


class Http:
    """Sends an adapter's `HttpCall`s and turns every failure into a `ProviderError`."""

    def __init__(
        self, client: httpx.AsyncClient, adapter: Adapter, policy: RetryPolicy, timeouts: Timeouts, sleep: Sleep
    ) -> None:
        self._client = client
        self._adapter = adapter
        self._policy = policy
        self.timeouts = timeouts
        self._sleep = sleep

    async def json(
        self, call: HttpCall, timeout: httpx.Timeout | None = None, total: float | None = None
    ) -> tuple[JSONObject, Mapping[str, str]]:
        """Send `call` (with retries where safe) and wait at most `total` seconds in all (default
        `timeouts.total`); the JSON body and headers of a 2xx answer."""
        per_read, total = timeout or self.timeouts.generate, total or self.timeouts.total
        what = "the status query" if call.is_idempotent else "the call"
        async with self._deadline(total, what, billed=not call.is_idempotent):
            response = await self._with_retries(call.is_idempotent, lambda: self._send_once(call, per_read))
        return self._json_body(response), response.headers

    async def stream(self, call: HttpCall) -> AsyncIterator[SSEEvent]:
        """Open an SSE call and yield its events; only the opening is ever retried. The whole stream
        ends within `timeouts.total`: keep-alive comments reset the read timeout, not this one."""
        deadline = asyncio.get_running_loop().time() + self.timeouts.total
        overdue = f"the stream took longer than {self.timeouts.total:g} s"
        timeout = self.timeouts.generate
        async with self._deadline_at(deadline, overdue, billed=True):
            response = await self._with_retries(call.is_idempotent, lambda: self._open_stream(call, timeout))
        if not _is_event_stream(response):
            # A plain JSON answer carries the same envelope as one event: use it, never drop it.
            yield SSEEvent("result", response.text)
            return
        try:
            decoder = SSEDecoder()
            chunks = _translated(response.aiter_bytes(), self._adapter.facts.name, call.url).__aiter__()
            while True:
                async with self._deadline_at(deadline, overdue, billed=True):  # the read only, never a yield
                    chunk = await anext(chunks, None)
                if chunk is None:
                    break
                for event in decoder.feed(chunk):
                    yield event
            for event in decoder.close():
                yield event
        finally:
            await response.aclose()

    async def download(self, url: str, problem: Callable[[bytes], str | None] = lambda _: None) -> bytes:
        """GET a result file (no credentials: result URLs are pre-signed), within `download_total`.

        A body shorter than its Content-Length, or one `problem` finds cut off, is fetched again like
        a broken connection, then reported; one over `download_max_bytes` is refused unread."""
        async with self._deadline(self.timeouts.download_total, "downloading a result image"):
            return await self._with_retries(True, lambda: self._get_file(url, self.timeouts.download, problem))

    def _deadline(self, seconds: float, what: str, billed: bool = False) -> _Deadline:
        return self._deadline_at(
            asyncio.get_running_loop().time() + seconds, f"{what} took longer than {seconds:g} s", billed
        )

    def _deadline_at(self, when: float, message: str, billed: bool) -> _Deadline:
        return _Deadline(when, message, self._adapter.facts.name, billed)

    async def _with_retries(self, idempotent: bool, attempt_once: Callable[[], Awaitable[_Result]]) -> _Result:
        attempt = 0
        while True:
            try:
                return await attempt_once()
            except ProviderError as error:
                if not should_retry(error, idempotent=idempotent, attempt=attempt, policy=self._policy):
                    raise
                await self._sleep(retry_delay(attempt, error.retry_after, self._policy))
                attempt += 1

    async def _send_once(self, call: HttpCall, timeout: httpx.Timeout) -> httpx.Response:
        request = self._client.build_request(
            call.method, _parsed_url(call.url), headers=dict(call.headers), json=call.json, timeout=timeout
        )
        response = await _translated_call(self._client.send(request), self._adapter.facts.name, call.url)
        if response.is_success:
            return response
        raise self._adapter.parse_error(response.status_code, _maybe_json(response), response.headers)

    async def _open_stream(self, call: HttpCall, timeout: httpx.Timeout) -> httpx.Response:
        request = self._client.build_request(
            call.method, _parsed_url(call.url), headers=dict(call.headers), json=call.json, timeout=timeout
        )
        response = await _translated_call(self._client.send(request, stream=True), self._adapter.facts.name, call.url)
        if response.is_success and _is_event_stream(response):
            return response
        await _translated_call(response.aread(), self._adapter.facts.name, call.url)
        await response.aclose()
        # [U] The answer may be plain JSON rather than a stream: DashScope's docs leave open whether
        # validation errors come before the stream or inside it (https://www.alibabacloud.com/help/en/model-studio/wan-image-generation-api-reference).
        if response.is_success:
            self._json_body(response)  # a ProtocolError unless it is JSON
            return response
        # An SSE error body carries its JSON in the first data: line, as DashScope's official SDK reads it
        # (https://pypi.org/project/dashscope/, dashscope/common/utils.py).
        body = _first_sse_json(response.content) if _is_event_stream(response) else _maybe_json(response)
        raise self._adapter.parse_error(response.status_code, body, response.headers)

    async def _get_file(self, url: str, timeout: httpx.Timeout, problem: Callable[[bytes], str | None]) -> bytes:
        try:
            async with self._client.stream("GET", url, timeout=timeout) as response:
                if not response.is_success:
                    raise self._download_refused(response.status_code)
                data = await self._capped_body(response)
        except httpx.HTTPError as exc:
            raise _transport_error(exc, self._adapter.facts.name, url) from exc
        if (cut := _short_body(response, data) or problem(data)) is not None:
            raise NetworkError(f"{cut} from {httpx.URL(url).host}", provider=self._adapter.facts.name)
        return data

    async def _capped_body(self, response: httpx.Response) -> bytes:
        limit, chunks, size = self.timeouts.download_max_bytes, [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise ProtocolError(
                    f"the result file is over {limit / 2**20:g} MB, far more than an image of this model",
                    provider=self._adapter.facts.name,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _download_refused(self, status: int) -> ProviderError:
        error_cls = ProviderFailure if status >= 500 else ProtocolError
        return error_cls(
            f"downloading a result image gave HTTP {status}", provider=self._adapter.facts.name, status_code=status
        )

    def _json_body(self, response: httpx.Response) -> JSONObject:
        body = _maybe_json(response)
        if body is None:
            raise ProtocolError(
                f"expected JSON, got {response.headers.get('content-type')!r}: {response.text[:200]!r}",
                provider=self._adapter.facts.name,
                status_code=response.status_code,
                request_id=response.headers.get("x-request-id"),
            )
        return body


class _Deadline:
    """Everything inside ends by `when` (the loop's clock), or a ProviderTimeout; never around a
    `yield` of a generator. A class: `contextlib.asynccontextmanager` cost as much again as the
    timeout it wraps (a direct run enters two, a task run one more per status query)."""

    __slots__ = ("_timeout", "_message", "_provider", "_billed")

    def __init__(self, when: float, message: str, provider: str, billed: bool) -> None:
        self._timeout, self._message, self._provider, self._billed = asyncio.timeout_at(when), message, provider, billed

    async def __aenter__(self) -> None:
        await self._timeout.__aenter__()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            await self._timeout.__aexit__(kind, error, trace)  # raises TimeoutError once `when` has passed
        except TimeoutError:
            raise self._overdue() from None
        if kind is not None and issubclass(kind, TimeoutError):
            raise self._overdue() from None

    def _overdue(self) -> ProviderTimeout:
        hint = "It may still be billed; it was not sent again." if self._billed else "The provider is very slow."
        return ProviderTimeout(self._message, provider=self._provider, hint=hint)


def _short_body(response: httpx.Response, data: bytes) -> str | None:
    """A body shorter than its announced Content-Length. (httpx itself refuses most such bodies as a
    broken connection; this also covers a transport that does not. A compressed body's length is
    not comparable, and the image's own end marker covers it.)"""
    announced = str(response.headers.get("content-length", ""))
    got = len(data)
    if announced.isdigit() and "content-encoding" not in response.headers and got < int(announced):
        return f"the image ended early ({got:,} of {int(announced):,} bytes)"
    return None


def _is_event_stream(response: httpx.Response) -> bool:
    return str(response.headers.get("content-type", "")).startswith("text/event-stream")


def _first_sse_json(content: bytes) -> JSONObject | None:
    decoder = SSEDecoder()
    for event in [*decoder.feed(content), *decoder.close()]:
        try:
            body = json.loads(event.data)
        except ValueError:
            continue
        if isinstance(body, dict):
            return body
    return None


def _maybe_json(response: httpx.Response) -> JSONObject | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def _translated_call(pending: Awaitable[_Result], provider: str, url: str) -> _Result:
    """Await an httpx call, turning its exceptions into our tree (chained, never flattened)."""
    try:
        return await pending
    except httpx.HTTPError as exc:
        raise _transport_error(exc, provider, url) from exc


async def _translated(chunks: AsyncIterator[bytes], provider: str, url: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield chunk
    except httpx.HTTPError as exc:
        raise _transport_error(exc, provider, url) from exc


def _transport_error(exc: httpx.HTTPError, provider: str, url: str) -> ProviderError:
    where = httpx.URL(url).copy_with(query=None)  # result URLs carry signatures: keep them out of messages
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return ConnectionFailed(
            f"could not connect to {where.host} ({exc.__class__.__name__})",
            provider=provider,
            hint="Check your internet connection, or the base URL if you set one.",
        )
    if isinstance(exc, httpx.TimeoutException):
        return ProviderTimeout(
            f"no answer from {where} in time ({exc.__class__.__name__})",
            provider=provider,
            hint="The provider is slow or overloaded. The request may still have been received.",
        )
    return NetworkError(
        # Only the class name: some httpx messages quote request headers, which hold the key.
        f"the connection to {where.host} broke ({exc.__class__.__name__})",
        provider=provider,
        hint="The request may still have been received; it was not sent again.",
    )


@functools.lru_cache(maxsize=64)
def _parsed_url(url: str) -> httpx.URL:
    """A vendor's endpoint, parsed once: httpx parses a URL given as text on every request (a tenth
    of our own time per call). Calls' URLs only (a task's status URL is one per task, and the cache
    is bounded); result downloads, each a new URL, are not kept here."""
    return httpx.URL(url)
