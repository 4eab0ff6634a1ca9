"""Shared fixtures: a network guard for the whole session and a loopback fake of every vendor.

tests/ has no __init__.py, so pytest puts tests/ on sys.path: import ``fakes`` and ``netguard``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

import pytest

# Gradio reads these when first imported: no call home, and its file cache kept out of /tmp/gradio.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GRADIO_TEMP_DIR", tempfile.mkdtemp(prefix="wan26-tests-gradio-"))

import netguard
from fakes.aimlapi import FakeAIMLAPI
from fakes.dashscope import FakeDashScope
from fakes.runware import FakeRunware
from fakes.server import serve_in_thread
from fakes.shortapi import FakeShortAPI
from fakes.vtrix import FakeVtrix
from wan26.providers import PROVIDERS

OTHER_FAKES = (FakeAIMLAPI, FakeRunware, FakeShortAPI, FakeVtrix)
VENDOR_ENV = tuple(
    name for adapter in PROVIDERS.values() for name in (adapter.facts.key_env, adapter.facts.base_url_env)
)


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


@pytest.fixture(scope="session")
def _vendor_servers(_dashscope_server):
    """Every vendor's fake, served for the whole session: {provider name: fake}."""
    fakes = {"dashscope": _dashscope_server}
    with contextlib.ExitStack() as stack:
        for fake_class in OTHER_FAKES:
            fake = fake_class()
            fake.server_url = stack.enter_context(serve_in_thread(fake.app))
            fakes[fake.name] = fake
        yield fakes


@pytest.fixture
def vendor_fakes(_vendor_servers) -> dict:
    """Every vendor's fake, reset to defaults."""
    for fake in _vendor_servers.values():
        fake.reset()
    return _vendor_servers


@pytest.fixture
def only_vendor(vendor_fakes, monkeypatch, tmp_path):
    """only_vendor(name): that vendor's key and base URL in the environment, and no other vendor's."""

    def select(name: str):
        for variable in (*VENDOR_ENV, "WAN26_PROVIDER", "DASHSCOPE_REGION"):
            monkeypatch.delenv(variable, raising=False)
        for variable, value in vendor_fakes[name].env().items():
            monkeypatch.setenv(variable, value)
        monkeypatch.setenv("WAN26_OUTPUT_DIR", str(tmp_path / "outputs"))
        return vendor_fakes[name]

    return select


@pytest.fixture
def dashscope_env(dashscope_fake, monkeypatch, tmp_path) -> FakeDashScope:
    """Point the wan26 env vars at the fake; outputs go under tmp_path."""
    monkeypatch.setenv("DASHSCOPE_API_KEY", dashscope_fake.api_key)
    monkeypatch.setenv("DASHSCOPE_BASE_URL", dashscope_fake.base_url)
    monkeypatch.setenv("WAN26_OUTPUT_DIR", str(tmp_path / "outputs"))
    monkeypatch.delenv("DASHSCOPE_REGION", raising=False)
    return dashscope_fake


@pytest.fixture(scope="session")
def served(_vendor_servers, tmp_path_factory):
    """The app on a free port: every vendor's base URL points at its fake, and only DashScope has a
    server key (tests add others with monkeypatch); returns its URL."""
    settings = {variable: "" for variable in VENDOR_ENV} | {"WAN26_PROVIDER": ""}
    for fake in _vendor_servers.values():
        settings |= {variable: value for variable, value in fake.env().items() if variable.endswith("_BASE_URL")}
    settings |= _vendor_servers["dashscope"].env() | {"WAN26_OUTPUT_DIR": str(tmp_path_factory.mktemp("outputs"))}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    import app  # here, so only the tests that need the app pay for importing Gradio

    _, url, _ = app.launch(prevent_thread_lock=True, quiet=True)
    yield url
    app.demo.close()
    for name, value in saved.items():
        os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
