"""Serve every vendor's fake on loopback, to try the CLI and the app without any key.

    python tests/fake_servers.py > fakes.env &     # DashScope on 8123, then 8124, 8125, ...
    set -a; . ./fakes.env; set +a                  # every vendor's key and base URL
    python -m wan26 text_to_image "a fox" --provider runware

`--only NAME` serves (and prints the settings of) one vendor.
"""

import argparse
import sys
import threading
from pathlib import Path

import uvicorn

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # the fakes, and wan26 (they share its error names)

from fakes.aimlapi import FakeAIMLAPI  # noqa: E402
from fakes.dashscope import FakeDashScope  # noqa: E402
from fakes.runware import FakeRunware  # noqa: E402
from fakes.shortapi import FakeShortAPI  # noqa: E402
from fakes.vtrix import FakeVtrix  # noqa: E402

FAKES = (FakeDashScope, FakeAIMLAPI, FakeRunware, FakeShortAPI, FakeVtrix)


def serve(fake, port: int) -> threading.Thread:
    server = uvicorn.Server(uvicorn.Config(fake.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8123, help="the first port; each vendor takes the next one")
    parser.add_argument("--only", choices=[fake.name for fake in FAKES], help="serve this vendor only")
    args = parser.parse_args()
    threads = []
    for offset, fake_class in enumerate(f for f in FAKES if args.only in (None, f.name)):
        fake = fake_class()
        fake.server_url = f"http://127.0.0.1:{args.port + offset}"
        threads.append(serve(fake, args.port + offset))
        print(f"# {fake.name}: {fake.server_url}")
        for variable, value in fake.env().items():
            print(f"{variable}={value}", flush=True)
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
