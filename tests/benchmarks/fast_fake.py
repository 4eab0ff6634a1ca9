"""A minimal DashScope stand-in built for speed: the benchmarks' vendor, never their bottleneck.

It answers the direct multimodal-generation POST the way DashScope does (the shapes are copied from
tests/fakes/dashscope_bodies.py) and validates nothing, unlike the strict fakes in tests/fakes/.
A plain ASGI app served by uvicorn, run in its own process so its CPU is not counted as the client's:

- POST /api/v1/services/aigc/multimodal-generation/generation: after `latency_s` (asyncio.sleep),
  `output.choices[i].message.content[0].image` = one URL per image asked for (`parameters.n`);
  with `X-DashScope-Sse: enable`, Server-Sent Events played from `script` instead (interleave).
- GET /results/<anything>.png: a real ~24 KB PNG, after `file_delay_s`.
- POST /_fake/config {"latency_s", "file_delay_s", "script"}: change the knobs; `script` is a list of
  {"text": "..."}, {"image": true} and {"sleep": seconds} steps.
- GET /_fake/stats: requests answered, the fake's own CPU seconds, and its handling time
  (wall time inside handlers, the knobs' sleeps left out), to show it is not what is measured.

Run it alone (it prints its root URL, then serves until stopped):

    python tests/benchmarks/fast_fake.py [--latency 0] [--file-delay 0]

Benchmarks start it with `running_fake()`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import itertools
import json
import random
import socket
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere: tests.benchmarks from the checkout

from tests.benchmarks.common import REPO_ROOT, child_env, child_process, python, wait_until_up  # noqa: E402

GENERATION_PATH = "/api/v1/services/aigc/multimodal-generation/generation"
RESULTS_PREFIX = "/results/"
PNG_SIDE = 90  # 90×90 RGB noise: a PNG of about 24 KB that does not compress
DEFAULT_SCRIPT = ({"text": "Step 1. "}, {"image": True}, {"sleep": 0.1}, {"text": "Step 2."})

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Knobs:
    latency_s: float = 0.0
    file_delay_s: float = 0.0
    script: list[dict[str, Any]] = field(default_factory=lambda: [dict(step) for step in DEFAULT_SCRIPT])


@dataclass
class Stats:
    requests: int = 0
    handling_s: float = 0.0  # wall time in handlers, minus the knobs' sleeps
    png_bytes: int = 0

    def report(self) -> dict[str, Any]:
        return asdict(self) | {"cpu_s": time.process_time()}


def noise_png(side: int = PNG_SIDE) -> bytes:
    """A real RGB PNG of `side`×`side` random pixels (the same every time)."""
    from PIL import Image  # only the server process needs Pillow

    pixels = random.Random(26).randbytes(side * side * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(buffer, "PNG")
    return buffer.getvalue()


# ---- DashScope's shapes (tests/fakes/dashscope_bodies.py) ----------------------------------


def _choice(item: dict[str, str], finish_reason: str = "stop") -> dict[str, Any]:
    return {"finish_reason": finish_reason, "message": {"role": "assistant", "content": [item]}}


def _usage(images: int, output_tokens: int = 0) -> dict[str, Any]:
    size = "1280*1280" if images else "0*0"
    return {
        "image_count": images,
        "input_tokens": 0,
        "output_tokens": output_tokens,
        "size": size,
        "total_tokens": output_tokens,
    }


def images_body(urls: list[str]) -> dict[str, Any]:
    choices = [_choice({"image": url, "type": "image"}) for url in urls]
    return {"output": {"choices": choices, "finished": True}, "usage": _usage(len(urls)), "request_id": _new_id()}


def sse_event(event_id: int, item: dict[str, str], images: int, texts: int, last: bool, request_id: str) -> bytes:
    """One interleave event: one content item, cumulative usage, the end marked only on the last."""
    payload = {
        "output": {"choices": [_choice(item, "stop" if last else "null")], "finished": last},
        "usage": _usage(images, texts),
        "request_id": request_id,
    }
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"id:{event_id}\nevent:result\n:HTTP_STATUS/200\ndata:{data}\n\n".encode()


def _new_id() -> str:
    return str(uuid.uuid4())


# ---- the ASGI app --------------------------------------------------------------------------


class FastFake:
    """The app: `await fake(scope, receive, send)`; `root` is its own URL, used in image URLs."""

    def __init__(self, root: str) -> None:
        self.root, self.knobs, self.stats, self.png = root, Knobs(), Stats(), noise_png()
        self.stats.png_bytes = len(self.png)
        self._names = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        started, slept = time.perf_counter(), await self._route(scope, receive, send)
        self.stats.requests += 1
        self.stats.handling_s += time.perf_counter() - started - slept

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> float:
        """Answer one request; return the seconds spent in the knobs' sleeps."""
        method, path = scope["method"], scope["path"]
        body = await _read_body(receive)
        if method == "POST" and path == GENERATION_PATH:
            return await self._generation(scope, body, send)
        if method == "GET" and path.startswith(RESULTS_PREFIX):
            await asyncio.sleep(self.knobs.file_delay_s)
            await _respond(send, 200, "image/png", self.png)
            return self.knobs.file_delay_s
        if method == "POST" and path == "/_fake/config":
            self.knobs = Knobs(**(asdict(self.knobs) | json.loads(body)))
            await _respond(send, 200, "application/json", json.dumps(asdict(self.knobs)).encode())
        elif method == "GET" and path == "/_fake/stats":
            await _respond(send, 200, "application/json", json.dumps(self.stats.report()).encode())
        else:
            await _respond(send, 404, "text/plain", b"Not Found")
        return 0.0

    async def _generation(self, scope: Scope, body: bytes, send: Send) -> float:
        sse = any(k == b"x-dashscope-sse" and v.strip().lower() == b"enable" for k, v in scope["headers"])
        if sse:
            return await self._stream(send)
        await asyncio.sleep(self.knobs.latency_s)
        count = int(json.loads(body).get("parameters", {}).get("n", 1))
        answer = json.dumps(images_body([self._image_url() for _ in range(count)])).encode()
        await _respond(send, 200, "application/json", answer)
        return self.knobs.latency_s

    async def _stream(self, send: Send) -> float:
        """Play `script` as SSE: each text and image step is one event, sent the moment it is due."""
        script, request_id = self.knobs.script, _new_id()
        await asyncio.sleep(self.knobs.latency_s)
        slept, images, texts = self.knobs.latency_s, 0, 0
        last = max(i for i, step in enumerate(script) if "sleep" not in step)
        await send({"type": "http.response.start", "status": 200, "headers": _headers("text/event-stream")})
        for index, step in enumerate(script):
            if "sleep" in step:
                await asyncio.sleep(step["sleep"])
                slept += step["sleep"]
                continue
            item = {"text": step["text"], "type": "text"} if "text" in step else self._image_item()
            images, texts = images + (item["type"] == "image"), texts + (item["type"] == "text")
            event = sse_event(images + texts, item, images, texts, index == last, request_id)
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return slept

    def _image_item(self) -> dict[str, str]:
        return {"image": self._image_url(), "type": "image"}

    def _image_url(self) -> str:
        return f"{self.root}{RESULTS_PREFIX}{next(self._names)}.png?Expires=1767225600&Signature=fake"


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _headers(content_type: str, length: int | None = None) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", content_type.encode()), (b"x-request-id", _new_id().encode())]
    return headers + ([(b"content-length", str(length).encode())] if length is not None else [])


async def _respond(send: Send, status: int, content_type: str, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": _headers(content_type, len(body))})
    await send({"type": "http.response.body", "body": body})


# ---- serving it, and driving it from a benchmark -------------------------------------------


def serve(latency_s: float, file_delay_s: float) -> None:
    """Serve on a free loopback port; print the root URL first (the parent reads it)."""
    import uvicorn

    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only then (see tests/fakes/server.py).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    root = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = FastFake(root)
    app.knobs = Knobs(latency_s=latency_s, file_delay_s=file_delay_s)
    print(root, flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1)
    uvicorn.Server(config).run(sockets=[sock])


class FakeControl:
    """The parent's handle on a running fake: its URLs, its knobs and its stats."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.base_url = f"{root}/api/v1"  # what DASHSCOPE_BASE_URL / base_url= take
        self.generation_url = f"{root}{GENERATION_PATH}"

    def configure(self, **knobs: Any) -> None:
        httpx.post(f"{self.root}/_fake/config", json=knobs, timeout=5.0).raise_for_status()

    def stats(self) -> dict[str, Any]:
        response = httpx.get(f"{self.root}/_fake/stats", timeout=5.0)
        response.raise_for_status()
        return response.json()


@contextlib.contextmanager
def running_fake(latency_s: float = 0.0, file_delay_s: float = 0.0) -> Iterator[FakeControl]:
    """The fake in its own process, stopped on the way out whatever happens."""
    args = [python(), str(Path(__file__).resolve()), "--latency", str(latency_s), "--file-delay", str(file_delay_s)]
    with child_process(args, child_env(), REPO_ROOT, "fast-fake") as process:
        root = _first_line(process)
        wait_until_up(f"{root}/_fake/stats", process, timeout_s=30.0)
        yield FakeControl(root)


def _first_line(process: Any, timeout_s: float = 30.0) -> str:
    """The URL the fake prints first (its output goes to a log file the parent can read)."""
    deadline, path = time.monotonic() + timeout_s, Path(process.log_path)
    while time.monotonic() < deadline:
        text = path.read_text()
        if text.startswith("http://") and "\n" in text:
            return text.splitlines()[0].strip()
        if process.poll() is not None:
            raise RuntimeError(f"the fake exited with {process.returncode}: {text[-2000:]}")
        time.sleep(0.02)
    raise RuntimeError(f"the fake printed no URL within {timeout_s:g} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each generation answers")
    parser.add_argument("--file-delay", type=float, default=0.0, help="seconds before each image file is served")
    arguments = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        serve(arguments.latency, arguments.file_delay)


if __name__ == "__main__":
    main()
