"""The interface package: built from the environment it is given, and never loaded by `import wan26`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from wan26.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
GUARD = Path(__file__).resolve().parent / "subprocess_guard"


def test_importing_the_package_and_its_command_line_never_loads_gradio():
    probe = "import sys, wan26, wan26.cli, wan26.providers; print('gradio' in sys.modules)"
    environment = {**os.environ, "PYTHONPATH": f"{GUARD}{os.pathsep}{REPO}"}
    done = subprocess.run([sys.executable, "-c", probe], env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_the_app_follows_the_environment_it_is_built_with_not_the_process(monkeypatch, tmp_path):
    from wan26.ui import build_app

    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-process")  # what the process has must not matter
    studio = build_app({"VTRIX_API_KEY": "vt-given", "WAN26_OUTPUT_DIR": str(tmp_path / "out")})
    try:
        assert studio.settings.vendors.server_keyed() == ["vtrix"]
        assert studio.settings.vendors.configured_default() == "vtrix"
        assert studio.settings.output_dir == (tmp_path / "out").resolve()
    finally:
        studio.blocks.close()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WAN26_CONCURRENCY", "many"),
        ("WAN26_QUEUE_SIZE", "0"),
        ("WAN26_SERVER_KEY_DAILY_USD", "lots"),
        ("WAN26_MCP", "maybe"),
        ("WAN26_HISTORY", "mine"),
    ],
)
def test_a_wrong_setting_stops_the_build_naming_the_variable(variable, value, tmp_path):
    from wan26.ui import build_app

    with pytest.raises(ConfigError, match=variable):
        build_app({variable: value, "WAN26_OUTPUT_DIR": str(tmp_path)})


def test_python_app_py_with_a_wrong_setting_exits_with_one_line_naming_it(tmp_path):
    environment = {**os.environ, "PYTHONPATH": f"{GUARD}{os.pathsep}{REPO}", "WAN26_CONCURRENCY": "many"}
    environment["WAN26_OUTPUT_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, str(REPO / "app.py")],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "app.py: WAN26_CONCURRENCY must be a whole number" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_key_given_without_a_vendor_is_kept_and_the_vendor_asked_for(tmp_path):
    """The browser always sends a vendor; a crafted event may not, and once crashed the handler."""
    from wan26.ui.keys import KeyActions
    from wan26.ui.settings import Settings

    actions = KeyActions(Settings.from_env({"WAN26_OUTPUT_DIR": str(tmp_path)}))
    keys, box, status, *_ = actions.use_key(None, "sk-visitor", {}, None)
    assert keys == {}
    assert "Choose the vendor this key is for" in status
    assert "sk-visitor" not in status
