"""Serve the DashScope fake on loopback so you can try the CLI (and the app) without a key.

    python tests/fake_dashscope_server.py --port 8123
    DASHSCOPE_API_KEY=sk-fake-test-key-0123456789abcdef \
    DASHSCOPE_BASE_URL=http://127.0.0.1:8123/api/v1 python -m wan26 text_to_image "a fox"
"""

import argparse
import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakes.dashscope import FakeDashScope  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8123)
    port = parser.parse_args().port
    fake = FakeDashScope()
    fake.server_url = f"http://127.0.0.1:{port}"
    print(f"Fake DashScope at {fake.base_url}")
    print(f"  DASHSCOPE_BASE_URL={fake.base_url}\n  DASHSCOPE_API_KEY={fake.api_key}")
    uvicorn.run(fake.app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
