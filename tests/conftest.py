"""Shared fixtures: a network guard for the whole session and the loopback DashScope fake.

tests/ has no __init__.py, so pytest puts tests/ on sys.path: import ``fakes`` and ``netguard``.
"""

from __future__ import annotations

import os
import tempfile

import pytest

# Gradio reads these when first imported: no call home, and its file cache kept out of /tmp/gradio.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GRADIO_TEMP_DIR", tempfile.mkdtemp(prefix="wan26-tests-gradio-"))

import netguard
from fakes.dashscope import FakeDashScope
from fakes.server import serve_in_thread


@pytest.fixture(scope="session", autouse=True)
def _network_guard():
    """Any non-loopback connect or DNS lookup raises netguard.NetworkBlocked."""
    netguard.install()
    yield
    netguard.uninstall()


@pytest.fixture(scope="session")
def _dashscope_server(_network_guard):
    fake = FakeDashScope()
    with serve_in_thread(fake.app) as server_url:
        fake.server_url = server_url
        yield fake


@pytest.fixture
def dashscope_fake(_dashscope_server) -> FakeDashScope:
    """The session's FakeDashScope, reset to defaults; ``.base_url`` ends in /api/v1."""
    _dashscope_server.reset()
    return _dashscope_server


@pytest.fixture
def dashscope_env(dashscope_fake, monkeypatch, tmp_path) -> FakeDashScope:
    """Point the wan26 env vars at the fake; outputs go under tmp_path."""
    monkeypatch.setenv("DASHSCOPE_API_KEY", dashscope_fake.api_key)
    monkeypatch.setenv("DASHSCOPE_BASE_URL", dashscope_fake.base_url)
    monkeypatch.setenv("WAN26_OUTPUT_DIR", str(tmp_path / "outputs"))
    monkeypatch.delenv("DASHSCOPE_REGION", raising=False)
    return dashscope_fake


@pytest.fixture(scope="session")
def served(_dashscope_server, tmp_path_factory):
    """The app on a free port with the server's key pointing at the fake; returns its URL."""
    fake = _dashscope_server
    settings = {
        "DASHSCOPE_API_KEY": fake.api_key,
        "DASHSCOPE_BASE_URL": fake.base_url,
        "WAN26_OUTPUT_DIR": str(tmp_path_factory.mktemp("outputs")),
    }
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    import app  # here, so only the tests that need the app pay for importing Gradio

    _, url, _ = app.launch(prevent_thread_lock=True, quiet=True)
    yield url
    app.demo.close()
    for name, value in saved.items():
        os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
