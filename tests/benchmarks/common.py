"""Helpers the benchmark scripts share: the machine line, interleaved rounds, medians, ratios, and
child processes that are always stopped (on success, on an exception, on Ctrl-C or SIGTERM).

Not a benchmark itself; the scripts import it as `tests.benchmarks.common`.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TypeVar

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent
STOP_GRACE_S = 5.0
PR_SET_PDEATHSIG = 1  # prctl(2), Linux
Sample = TypeVar("Sample")
# A key shaped like a real one: a one-letter key would be found (and masked) inside every message
# the run yields ("ta[key hidden]es"), work a real key never causes.
BENCH_KEY = "sk-" + "5f0c9e2b7a6d4e1f" * 2
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# ---- what is printed -----------------------------------------------------------------------


def machine() -> str:
    """One line naming the machine: CPU count, Python version, OS."""
    return (
        f"machine: {os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ratio_line(label: str, ours: float, baseline: float, unit: str, goal: float | None = None) -> str:
    """`label  ours X  baseline Y  ratio R (goal ≤ G)`, the figures in `unit` (ms, s, …)."""
    goal_text = f"  (goal ≤ {goal:g}×)" if goal is not None else ""
    figures = f"ours {ours:9.3f} {unit}   baseline {baseline:9.3f} {unit}   ratio {ours / baseline:5.2f}×"
    return f"  {label:24} {figures}{goal_text}"


def bench_arguments(description: str | None, default_rounds: int, rounds_help: str) -> argparse.Namespace:
    """Parse `--rounds` (how many baseline/ours pairs are measured) for a script whose docstring is `description`."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=default_rounds, help=f"{rounds_help} (default {default_rounds})")
    arguments = parser.parse_args()
    if arguments.rounds < 1:
        parser.error("--rounds must be at least 1")
    return arguments


# ---- interleaved rounds --------------------------------------------------------------------


def order_for(round_index: int, names: Sequence[str]) -> list[str]:
    """The order in which round `round_index` runs `names`: rotated each round, so neither side is always first."""
    shift = round_index % len(names)
    return [*names[shift:], *names[:shift]]


def interleaved(rounds: int, sides: Mapping[str, Callable[[], Sample]]) -> dict[str, list[Sample]]:
    """Call each side once per round (rotating who goes first); each call returns one measurement."""
    results: dict[str, list[Sample]] = {name: [] for name in sides}
    for round_index in range(rounds):
        for name in order_for(round_index, list(sides)):
            results[name].append(sides[name]())
    return results


async def interleaved_async(
    rounds: int, sides: Mapping[str, Callable[[], Awaitable[Sample]]]
) -> dict[str, list[Sample]]:
    """`interleaved` for coroutines, on the running event loop."""
    results: dict[str, list[Sample]] = {name: [] for name in sides}
    for round_index in range(rounds):
        for name in order_for(round_index, list(sides)):
            results[name].append(await sides[name]())
    return results


# ---- processes -----------------------------------------------------------------------------


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def stop_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl-C, so `finally` blocks stop this script's children either way."""
    signal.signal(signal.SIGTERM, _raise_interrupt)


def run_main(main: Callable[[], None]) -> None:
    """Call `main`; on Ctrl-C or SIGTERM (its children already stopped by then) exit 130 without a traceback."""
    stop_on_sigterm()
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted: every process this benchmark started has been stopped", file=sys.stderr)
        sys.exit(130)


def free_port() -> int:
    """A loopback port free right now (for servers that must be told their port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(**settings: str) -> dict[str, str]:
    """This process's environment plus `settings`, with no proxy (everything is on 127.0.0.1)."""
    env = {name: value for name, value in os.environ.items() if not name.lower().endswith("_proxy")}
    return env | {"NO_PROXY": "127.0.0.1,localhost", "PYTHONUNBUFFERED": "1"} | settings


@contextlib.contextmanager
def child_process(args: Sequence[str], env: Mapping[str, str], cwd: Path, log_name: str) -> Iterator[subprocess.Popen]:
    """Start `args` in its own process group, output to a log file; always stop it (and its group) after."""
    log = tempfile.NamedTemporaryFile(prefix=f"wan26-bench-{log_name}-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        list(args),
        env=dict(env),
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    process.log_path = log.name  # type: ignore[attr-defined]
    try:
        yield process
    finally:
        stop_process(process)
        log.close()
        Path(log.name).unlink(missing_ok=True)


def _die_with_parent() -> None:
    """In the child, before exec: be sent SIGTERM if this script dies without cleaning up (even SIGKILL)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM the process group this script started, then SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_GRACE_S)


def log_tail(process: subprocess.Popen, lines: int = 30) -> str:
    path = Path(getattr(process, "log_path", ""))
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until_up(url: str, process: subprocess.Popen, timeout_s: float = 120.0) -> None:
    """Poll `url` until it answers below 500; fail early (with the log's end) if `process` exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}:\n{log_tail(process)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url}: no answer within {timeout_s:g} s:\n{log_tail(process)}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far, all its threads (Linux /proc; 10 ms ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5), counted from after "comm"
    return (utime + stime) / CLOCK_TICKS


def python() -> str:
    return sys.executable
