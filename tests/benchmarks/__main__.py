"""Run every benchmark, one after another, each in a fresh process; from the repository root:

    python -m tests.benchmarks                 # all of them, default rounds (a few minutes)
    python -m tests.benchmarks call app        # only bench_call.py and bench_app.py

Each script prints its own figures (ratios against a baseline measured in the same run) and the
machine; a script that fails is reported and the others still run; the exit status is 1 if any failed.
A script that is not there (bench_references.py, say) is skipped with a note.
"""

from __future__ import annotations

import argparse
import io
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere: the checkout first

from tests.benchmarks.common import BENCH_DIR, REPO_ROOT, machine, python, run_main  # noqa: E402

SCRIPTS = ("polling", "references", "call", "cli", "interleave", "app", "history")


def run_one(name: str) -> bool:
    """Run bench_<name>.py to its end, its output going straight to ours; True if it succeeded."""
    script = BENCH_DIR / f"bench_{name}.py"
    print(f"\n=== {script.relative_to(REPO_ROOT)} ===", flush=True)
    if not script.is_file():
        print("  (not present: skipped)")
        return True
    started = time.perf_counter()
    process = subprocess.Popen([python(), str(script)], cwd=REPO_ROOT)
    try:
        returncode = process.wait()
    finally:  # Ctrl-C reaches the script too (same process group); SIGTERM is passed on here
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait()
    outcome = "ok" if returncode == 0 else f"FAILED (exit {returncode})"
    print(f"--- {name}: {outcome}, {time.perf_counter() - started:.1f} s", flush=True)
    return returncode == 0


def main() -> None:
    """Run the scripts named on the command line (default: all), then say which failed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(SCRIPTS)} (default: all)")
    names = parser.parse_args().names or list(SCRIPTS)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # our lines before the scripts' own
    if unknown := sorted(set(names) - set(SCRIPTS)):
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(SCRIPTS)}")
    print(f"wan26 benchmarks: {', '.join(names)}")
    print(machine())
    failed = [name for name in names if not run_one(name)]
    summary = f"; failed: {', '.join(failed)}" if failed else ""
    print(f"\n{len(names) - len(failed)} of {len(names)} benchmarks succeeded{summary}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    run_main(main)
