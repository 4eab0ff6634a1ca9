"""Put on PYTHONPATH of subprocesses the tests start, so they too can reach only loopback."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import netguard  # noqa: E402

netguard.install()
