"""A raw HTTP/1.1 server on 127.0.0.1 that misbehaves on purpose, for the fault suite.

Starlette cannot send a wrong Content-Length or hang up mid-body, so this speaks bytes on an
asyncio socket server in a background thread (like ``fakes.server`` serves the vendor fakes).
Every behaviour is bounded in time, and every handler is cancelled when the server stops.

Behaviours (``FaultyServer.behaviour``, settable at any time):

- ``"close"``: read the whole request, then hang up without answering.
- ``"trickle"``: 200 image/png without Content-Length, the PNG signature, then one byte every
  ``interval`` seconds, for at most ``limit_s``.
- ``"truncated"``: 200 image/png, no Content-Length, ``Connection: close``, half a real PNG, close.
- ``"short"``: 200 image/png with the whole PNG's Content-Length but half its bytes, then close.
- ``"comments"``: 200 text/event-stream sending ``: keep-alive`` every ``interval`` seconds (at
  most ``limit_s``) and never an event.
- ``"slow-json"``: 200 application/json without Content-Length: ``{`` then one space every
  ``interval`` seconds (at most ``limit_s``), so the JSON never completes.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from .pngs import png_bytes

BEHAVIOURS = ("close", "trickle", "truncated", "short", "comments", "slow-json")
READ_REQUEST_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
PNG = png_bytes(64, 64, 3)
PNG_SIGNATURE = PNG[:8]


@dataclass(frozen=True)
class SeenRequest:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]  # lowercased names
    body: bytes


class FaultyServer:
    """Serve with ``serve_faulty(behaviour)``; ``url`` is ``http://127.0.0.1:PORT``."""

    def __init__(self, behaviour: str = "close", *, interval: float = 0.1, limit_s: float = 30.0) -> None:
        self.behaviour = behaviour
        self.interval = interval
        self.limit_s = limit_s
        self.url = ""
        self._requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._handlers: set[asyncio.Task] = set()

    @property
    def requests(self) -> list[SeenRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._requests)

    def image_url(self, name: str = "result") -> str:
        """A URL shaped like a pre-signed result URL, served by this server."""
        return f"{self.url}/results/{name}.png?Expires=1767225600&Signature=faulty"

    # ---- serving -------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._handlers.add(task)
        try:
            request = await asyncio.wait_for(_read_request(reader), READ_REQUEST_TIMEOUT_S)
            with self._lock:
                self._requests.append(request)
            gone = asyncio.ensure_future(reader.read())  # completes when the client hangs up
            try:
                await self._answer(writer, gone)
            finally:
                gone.cancel()
        except (TimeoutError, ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)

    async def _answer(self, writer: asyncio.StreamWriter, gone: asyncio.Future) -> None:
        behaviour = self.behaviour
        if behaviour == "close":
            return
        if behaviour == "truncated":
            writer.write(_head("image/png", "Connection: close") + PNG[: len(PNG) // 2])
        elif behaviour == "short":
            writer.write(_head("image/png", f"Content-Length: {len(PNG)}") + PNG[: len(PNG) // 2])
        elif behaviour == "trickle":
            writer.write(_head("image/png", "Connection: close") + PNG_SIGNATURE)
            await self._drip(writer, gone, (bytes([byte]) for byte in PNG[8:]))
        elif behaviour == "slow-json":
            writer.write(_head("application/json", "Connection: close") + b"{")
            await self._drip(writer, gone, iter(lambda: b" ", None))
        elif behaviour == "comments":
            writer.write(_head("text/event-stream;charset=UTF-8", "Connection: close", "Cache-Control: no-cache"))
            await self._drip(writer, gone, iter(lambda: b": keep-alive\n\n", None))
        else:
            raise ValueError(f"unknown behaviour {behaviour!r}; expected one of {BEHAVIOURS}")
        await writer.drain()

    async def _drip(self, writer: asyncio.StreamWriter, gone: asyncio.Future, pieces: Iterator[bytes]) -> None:
        """One piece every `interval` s until the client leaves, the pieces run out, or `limit_s`."""
        await writer.drain()
        for _ in range(max(1, int(self.limit_s / self.interval))):
            await asyncio.wait({gone}, timeout=self.interval)
            piece = next(pieces, None)
            if gone.done() or piece is None or writer.is_closing():
                return
            writer.write(piece)
            await writer.drain()

    async def _stop_handlers(self) -> None:
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)


async def _read_request(reader: asyncio.StreamReader) -> SeenRequest:
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = {}
    for line in filter(None, header_lines):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return SeenRequest(method, target, headers, body)


def _head(content_type: str, *extra: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", f"Content-Type: {content_type}", *extra, "", ""]
    return "\r\n".join(lines).encode("latin-1")


@contextlib.contextmanager
def serve_faulty(behaviour: str = "close", **options: float) -> Iterator[FaultyServer]:
    """Run a `FaultyServer` on an ephemeral loopback port for the duration of the block."""
    if behaviour not in BEHAVIOURS:
        raise ValueError(f"unknown behaviour {behaviour!r}; expected one of {BEHAVIOURS}")
    server = FaultyServer(behaviour, **options)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    loop = asyncio.new_event_loop()
    listening = loop.run_until_complete(asyncio.start_server(server._handle, sock=sock))
    thread = threading.Thread(target=loop.run_forever, name="faulty-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:

        async def shutdown() -> None:
            listening.close()
            await server._stop_handlers()
            await asyncio.wait_for(listening.wait_closed(), 1)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(STOP_TIMEOUT_S)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STOP_TIMEOUT_S)
        if not thread.is_alive():
            loop.close()
        sock.close()
