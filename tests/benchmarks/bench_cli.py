"""Start-up time of the command line: `python -m wan26 --help` against `python -c "import httpx"`.

Each is a fresh subprocess (the same interpreter, run from the repository root); runs are
interleaved (baseline, ours, bare interpreter, then rotated) and the medians of their wall times are
compared: ratio ours / baseline, goal ≤ 1.5×. A bare `python -c pass` is timed alongside to show
what the interpreter itself costs. Also printed: whether `import wan26` imports gradio (a child
process looks in `sys.modules`), and the slowest imports of `--help` (`-X importtime`). Run:

    python tests/benchmarks/bench_cli.py [--rounds 20]
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere: wan26 from the checkout

from tests.benchmarks.common import (  # noqa: E402
    REPO_ROOT,
    bench_arguments,
    child_env,
    interleaved,
    machine,
    median,
    python,
    ratio_line,
    run_main,
)

DEFAULT_ROUNDS = 20
GOAL = 1.5
COMMANDS = {
    "baseline": ["-c", "import httpx"],
    "ours": ["-m", "wan26", "--help"],
    "interpreter": ["-c", "pass"],
}
HEAVY_MODULES = ("gradio", "PIL", "httpx", "dotenv")


def run_seconds(arguments: list[str]) -> float:
    """Wall seconds of one `python <arguments>` from the repository root; it must succeed."""
    started = time.perf_counter()
    subprocess.run([python(), *arguments], cwd=REPO_ROOT, env=child_env(), check=True, capture_output=True)
    return time.perf_counter() - started


def imported_by_wan26() -> dict[str, bool]:
    """Which of HEAVY_MODULES a bare `import wan26` loads, seen from a child's sys.modules."""
    probe = f"import sys, wan26; print(','.join(str(m in sys.modules) for m in {HEAVY_MODULES!r}))"
    output = subprocess.run(
        [python(), "-c", probe], cwd=REPO_ROOT, env=child_env(), check=True, capture_output=True, text=True
    ).stdout
    return dict(zip(HEAVY_MODULES, (flag == "True" for flag in output.strip().split(",")), strict=True))


def largest_imports(count: int = 4) -> list[tuple[str, float]]:
    """The `count` slowest imports directly under the top-level ones in `python -X importtime -m wan26 --help`
    (cumulative ms, one run): where the start-up time goes."""
    stderr = subprocess.run(
        [python(), "-X", "importtime", *COMMANDS["ours"]],
        cwd=REPO_ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
    ).stderr
    found = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            _, cumulative, name = line.split("|")
            if cumulative.strip().isdigit() and len(name) - len(name.lstrip()) == 3:  # one level deep
                found.append((name.strip(), int(cumulative) / 1000))
    return sorted(found, key=lambda pair: -pair[1])[:count]


def main() -> None:
    arguments = bench_arguments(__doc__, DEFAULT_ROUNDS, "runs of each command")
    print(f"bench_cli: `python -m wan26 --help` vs `python -c 'import httpx'` ({arguments.rounds} rounds)")
    print(machine())
    sides = {name: (lambda args=args: run_seconds(args)) for name, args in COMMANDS.items()}
    interleaved(1, sides)  # warm the file cache and .pyc files
    times = {name: median(samples) * 1000 for name, samples in interleaved(arguments.rounds, sides).items()}
    print(ratio_line("median start-up wall", times["ours"], times["baseline"], "ms", GOAL))
    print(f"  context: a bare `python -c pass` takes {times['interpreter']:.1f} ms (median)")
    slowest = ", ".join(f"{name} {ms:.0f} ms" for name, ms in largest_imports())
    print(f"  context: slowest imports under `-m wan26 --help` (cumulative, one run): {slowest}")
    loaded = imported_by_wan26()
    print(
        f"  `import wan26` imports gradio: {'yes' if loaded['gradio'] else 'no'}; "
        f"also loaded: {', '.join(name for name, seen in loaded.items() if seen and name != 'gradio') or 'none'}"
    )


if __name__ == "__main__":
    run_main(main)
