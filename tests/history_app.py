"""An app launched in-process with History in a given mode, on its own output folder and port.

History's mode is read when the app is built, so these tests cannot use the session's shared app."""

import socket
from contextlib import contextmanager

from wan26.providers import PROVIDERS

VENDOR_ENV = tuple(
    name for adapter in PROVIDERS.values() for name in (adapter.facts.key_env, adapter.facts.base_url_env)
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def history_env(vendor_fakes: dict, output_dir, mode: str = "own") -> dict:
    """Every vendor's base URL at its fake, DashScope's key only, and History's mode. The caller
    also sets it in the process: a run's client reads its key and base URL from there."""
    env = {variable: "" for variable in VENDOR_ENV} | {"WAN26_PROVIDER": ""}
    for fake in vendor_fakes.values():
        env |= {variable: value for variable, value in fake.env().items() if variable.endswith("_BASE_URL")}
    return env | vendor_fakes["dashscope"].env() | {"WAN26_OUTPUT_DIR": str(output_dir), "WAN26_HISTORY": mode}


@contextmanager
def launched(env: dict, port: int):
    """The app built from `env`, served at 127.0.0.1:`port` until the block ends; yields its URL."""
    from wan26.ui import build_app

    studio = build_app(env)
    studio.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", server_port=port)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        studio.blocks.close()
