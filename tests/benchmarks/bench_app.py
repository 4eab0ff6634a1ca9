"""The Gradio app (`app.py`) against a minimal Gradio + httpx app doing the same run (minimal_app.py).

Four processes, all on 127.0.0.1: tests/benchmarks/fast_fake.py (the vendor), `python app.py`,
`python tests/benchmarks/minimal_app.py`, and this script, the driver, which calls each app's
public `text_to_image` endpoint over raw HTTP (`POST /gradio_api/call/text_to_image`, then its
event stream) with httpx, so neither server's CPU accounting includes the driver's.

- Figure A, server CPU per run: vendor latency 0; blocks of RUNS_PER_BLOCK sequential runs by one
  visitor (one Gradio session, as a browser tab or gradio_client keeps), the two apps alternating
  block by block; each block reads the server's utime + stime from /proc/<pid>/stat before and
  after (10 ms ticks: steps of 1/6 ms a run). Median CPU seconds per run, ratio app / minimal
  (goal ≤ 1.3×). For context, the same with each run from a new visitor: Gradio then builds a
  session state for every component of the page, so that cost grows with the size of the interface.
- Figure B, 32 users at once: vendor latency 1 s; per round and app, one user alone, then USERS
  requests sent together; wall time until all have finished, median over rounds, ratio app /
  minimal (goal ≤ 1.15×), and each user's time as a multiple of one user's time alone.

`--app-env NAME=VALUE` adds settings for app.py only (e.g. WAN26_CONCURRENCY=64). Run:

    python tests/benchmarks/bench_app.py [--rounds 5] [--app-env NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere: wan26 from the checkout

from tests.benchmarks.common import (  # noqa: E402
    BENCH_DIR,
    BENCH_KEY,
    REPO_ROOT,
    child_env,
    child_process,
    cpu_seconds,
    free_port,
    machine,
    median,
    order_for,
    python,
    ratio_line,
    run_main,
    wait_until_up,
)
from tests.benchmarks.fast_fake import FakeControl, running_fake  # noqa: E402
from wan26.providers import PROVIDERS  # noqa: E402

DEFAULT_ROUNDS = 5
RUNS_PER_BLOCK = 60  # the CPU clock counts in 10 ms ticks: a run's share in steps of 1/6 ms
USERS = 32
BURST_LATENCY_S = 1.0
GOAL_CPU, GOAL_BURST = 1.3, 1.15
RUN_TIMEOUT_S = 120.0
STARTUP_TIMEOUT_S = 180.0
APPS = ("minimal", "app")  # the baseline first
# The app's public endpoint takes prompt, negative_prompt, width, height, n, seed, prompt_extend, watermark, provider.
INPUTS = {"app": ["a fox", "", 1280, 1280, 1, -1, True, False, "dashscope"], "minimal": ["a fox"]}


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    pid: int


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="rounds of each figure (default 5)")
    parser.add_argument("--app-env", action="append", default=[], metavar="NAME=VALUE", help="a setting for app.py")
    parsed = parser.parse_args()
    if parsed.rounds < 1 or any("=" not in setting for setting in parsed.app_env):
        parser.error("--rounds must be at least 1 and --app-env must look like NAME=VALUE")
    return parsed


def server_env(name: str, fake: FakeControl, folder: Path, extra: dict[str, str]) -> dict[str, str]:
    """Everything on loopback, DashScope pointed at the fake, no other vendor key, no telemetry."""
    facts = [adapter.facts for adapter in PROVIDERS.values()]
    vendors = {variable: "" for vendor in facts for variable in (vendor.key_env, vendor.base_url_env)}
    settings = vendors | {
        "DASHSCOPE_API_KEY": BENCH_KEY,
        "DASHSCOPE_BASE_URL": fake.base_url,
        "DASHSCOPE_REGION": "",
        "WAN26_PROVIDER": "dashscope",
        "WAN26_OUTPUT_DIR": str(folder / f"{name}-outputs"),
        "WAN26_MAX_CONCURRENT_PER_KEY": "64",
        "WAN26_SERVER_KEY_DAILY_USD": "",
        "WAN26_SERVER_KEY_RUNS_PER_HOUR": "",
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(free_port()),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(folder / f"{name}-gradio"),
        "HF_HUB_OFFLINE": "1",
    }
    return child_env(**settings, **extra)


@contextlib.contextmanager
def running_apps(fake: FakeControl, folder: Path, app_env: dict[str, str]) -> Iterator[dict[str, Server]]:
    """Both apps started at once (each from a folder of its own, so no stray .env is read), then stopped."""
    scripts = {"app": REPO_ROOT / "app.py", "minimal": BENCH_DIR / "minimal_app.py"}
    with contextlib.ExitStack() as stack:
        started = {}
        for name in APPS:
            env = server_env(name, fake, folder, app_env if name == "app" else {})
            (cwd := folder / f"{name}-cwd").mkdir()
            process = stack.enter_context(child_process([python(), str(scripts[name])], env, cwd, name))
            started[name] = (process, f"http://127.0.0.1:{env['GRADIO_SERVER_PORT']}")
        for process, url in started.values():
            wait_until_up(f"{url}/gradio_api/info", process, STARTUP_TIMEOUT_S)
        yield {name: Server(name, url, process.pid) for name, (process, url) in started.items()}


# ---- the driver ----------------------------------------------------------------------------


async def one_run(client: httpx.AsyncClient, server: Server, session: str | None = None) -> float:
    """One `text_to_image` call through Gradio's queue, to its `complete` event; its wall seconds.

    `session`: the caller's Gradio session, as a browser tab or a gradio_client has one for all its
    runs; None makes a new one for this run alone (Gradio then builds a session state for every
    component of the app, a cost per visitor rather than per run)."""
    started = time.perf_counter()
    endpoint = f"{server.url}/gradio_api/call/text_to_image"
    joined = await client.post(endpoint, json={"data": INPUTS[server.name], "session_hash": session})
    joined.raise_for_status()
    async with client.stream("GET", f"{endpoint}/{joined.json()['event_id']}") as stream:
        event = ""
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                _check_output(server, event, line.partition(":")[2])
                return time.perf_counter() - started
    raise RuntimeError(f"{server.name}: the event stream ended without a result")


def _check_output(server: Server, event: str, data: str) -> None:
    """A run counts only if it returned an image file."""
    if event != "complete" or ".png" not in data:
        raise RuntimeError(f"{server.name}: the run gave {event}: {data[:500]}")


async def cpu_per_run(client: httpx.AsyncClient, server: Server, session: str | None) -> tuple[float, float]:
    """(server CPU seconds per run, median run seconds) over RUNS_PER_BLOCK sequential runs, all in
    `session` (None: each run in a session of its own)."""
    before = cpu_seconds(server.pid)
    walls = [await one_run(client, server, session) for _ in range(RUNS_PER_BLOCK)]
    await asyncio.sleep(0.05)  # let work after the answer (cleanup, logging) land in this block
    return (cpu_seconds(server.pid) - before) / RUNS_PER_BLOCK, median(walls)


async def burst(client: httpx.AsyncClient, server: Server) -> tuple[float, list[float]]:
    """USERS runs sent at once: (wall seconds until the last finished, each one's seconds)."""
    started = time.perf_counter()
    each = await asyncio.gather(*(one_run(client, server, None) for _ in range(USERS)))  # each a new visitor
    return time.perf_counter() - started, list(each)


def driver() -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=4 * USERS, max_keepalive_connections=4 * USERS)
    return httpx.AsyncClient(timeout=httpx.Timeout(RUN_TIMEOUT_S), limits=limits)


# ---- the figures ---------------------------------------------------------------------------


@dataclass
class CpuFigures:
    cpu_s: dict[str, list[float]]  # per app, each block's server CPU seconds per run
    wall_s: dict[str, list[float]]  # per app, each block's median run seconds
    new_session_cpu_s: dict[str, list[float]]  # per app, the same with every run in a new session
    fake_ms: float = 0.0  # the fake's CPU per request
    driver_ms: float = 0.0  # this process's CPU per run


async def measure_cpu(servers: dict[str, Server], fake: FakeControl, rounds: int) -> CpuFigures:
    """Figure A's blocks, the apps alternating; also the fake's and the driver's CPU, for context."""
    figures = CpuFigures({name: [] for name in APPS}, {name: [] for name in APPS}, {name: [] for name in APPS})
    sessions = {name: uuid.uuid4().hex for name in APPS}  # one visitor per app, making run after run
    async with driver() as client:
        for name in APPS:  # warm-up: first-call imports and caches are not what is measured
            await cpu_per_run(client, servers[name], sessions[name])
        fake_before, driver_before = await asyncio.to_thread(fake.stats), time.process_time()
        for round_index in range(rounds):
            for name in order_for(round_index, APPS):
                per_run, wall = await cpu_per_run(client, servers[name], sessions[name])
                figures.cpu_s[name].append(per_run)
                figures.wall_s[name].append(wall)
                figures.new_session_cpu_s[name].append((await cpu_per_run(client, servers[name], None))[0])
        figures.driver_ms = (time.process_time() - driver_before) / (4 * rounds * RUNS_PER_BLOCK) * 1000
        fake_after = await asyncio.to_thread(fake.stats)
    requests = fake_after["requests"] - fake_before["requests"]
    figures.fake_ms = (fake_after["cpu_s"] - fake_before["cpu_s"]) / requests * 1000
    return figures


async def figure_a(servers: dict[str, Server], fake: FakeControl, rounds: int) -> None:
    await asyncio.to_thread(fake.configure, latency_s=0.0, file_delay_s=0.0)
    figures = await measure_cpu(servers, fake, rounds)
    cpu = {name: median(figures.cpu_s[name]) * 1000 for name in APPS}
    wall = {name: median(figures.wall_s[name]) * 1000 for name in APPS}
    print(f"Figure A: server CPU per run, vendor latency 0 ({rounds} rounds of {RUNS_PER_BLOCK} runs per app)")
    print(ratio_line("server CPU per run", cpu["app"], cpu["minimal"], "ms", GOAL_CPU))
    print(ratio_line("wall per run (median)", wall["app"], wall["minimal"], "ms"))
    fresh = {name: median(figures.new_session_cpu_s[name]) * 1000 for name in APPS}
    print(ratio_line("CPU, each run a new visitor", fresh["app"], fresh["minimal"], "ms"))
    print(
        f"  context: the fake takes {figures.fake_ms:.3f} ms CPU per request (2 per run), "
        f"the driver {figures.driver_ms:.3f} ms CPU per run"
    )


async def figure_b(servers: dict[str, Server], fake: FakeControl, rounds: int) -> None:
    """Per round and app (alternating): one user alone, then USERS at once; the ratios and multiples."""
    await asyncio.to_thread(fake.configure, latency_s=BURST_LATENCY_S, file_delay_s=0.0)
    alone: dict[str, list[float]] = {name: [] for name in APPS}
    bursts: dict[str, list[tuple[float, list[float]]]] = {name: [] for name in APPS}
    async with driver() as client:
        for round_index in range(rounds):
            for name in order_for(round_index, APPS):
                alone[name].append(await one_run(client, servers[name]))
                bursts[name].append(await burst(client, servers[name]))
    print(f"Figure B: {USERS} users at once, vendor latency {BURST_LATENCY_S:g} s ({rounds} rounds)")
    wall = {name: median([total for total, _ in bursts[name]]) for name in APPS}
    print(ratio_line(f"wall until all {USERS} done", wall["app"], wall["minimal"], "s", GOAL_BURST))
    print(ratio_line("one user alone", median(alone["app"]), median(alone["minimal"]), "s"))
    for name in APPS:
        _, each = sorted(bursts[name])[len(bursts[name]) // 2]  # the round with the median wall time
        multiples = sorted(seconds / median(alone[name]) for seconds in each)
        print(f"  {name:8} each user's time / one user's alone (median round, sorted):")
        for start in range(0, len(multiples), 16):
            print("    " + " ".join(f"{m:4.2f}" for m in multiples[start : start + 16]))


async def measure(servers: dict[str, Server], fake: FakeControl, rounds: int) -> None:
    await figure_a(servers, fake, rounds)
    await figure_b(servers, fake, rounds)


def main() -> None:
    """Start the fake and both apps, print both figures, stop everything."""
    parsed = arguments()
    app_env = dict(setting.split("=", 1) for setting in parsed.app_env)
    print(f"bench_app: app.py vs a minimal Gradio + httpx app ({parsed.rounds} rounds)")
    print(machine())
    if app_env:
        print(f"  app.py settings: {json.dumps(app_env)}")
    with (
        tempfile.TemporaryDirectory(prefix="wan26-bench-app-") as temporary,
        running_fake() as fake,
        running_apps(fake, Path(temporary), app_env) as servers,
    ):
        asyncio.run(measure(servers, fake, parsed.rounds))


if __name__ == "__main__":
    run_main(main)
