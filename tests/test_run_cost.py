"""What Gradio spends on every run, cut (wan26/ui/run_cost.py), and what an owner keeps.

Over HTTP, a stranger finds monitoring off (tests/test_app_security.py); here: an owner who turns it
on gets Gradio's summary as before, and an installed matplotlib is left alone."""

import subprocess
import sys
import textwrap

import gradio as gr
import httpx

from wan26.ui.run_cost import monitoring_options


def _echo_app() -> gr.Blocks:
    with gr.Blocks() as blocks:
        text = gr.Textbox()
        gr.Button().click(lambda value: value, text, text, api_name="echo")
    return blocks.queue()


def _summary_after_one_call(blocks: gr.Blocks, options: dict) -> httpx.Response:
    _, url, _ = blocks.launch(prevent_thread_lock=True, quiet=True, **monitoring_options(blocks, options))
    try:
        from gradio_client import Client

        Client(url, verbose=False).predict("hi", api_name="/echo")
        return httpx.get(f"{url}monitoring/summary")
    finally:
        blocks.close()


def test_an_owner_who_turns_monitoring_on_gets_gradios_summary():
    answer = _summary_after_one_call(_echo_app(), {"enable_monitoring": True})
    assert answer.status_code == 200 and "echo" in answer.json()["functions"]


def test_monitoring_is_off_unless_asked_for():
    assert _summary_after_one_call(_echo_app(), {}).status_code == 403


def _python(code: str, tmp_path, *extra_path) -> str:
    env_path = ":".join(str(path) for path in extra_path)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


CHECK = """
    from wan26.ui.run_cost import skip_matplotlib_search
    skipped = skip_matplotlib_search()
    try:
        import matplotlib
        found = matplotlib.__name__
    except ImportError:
        found = "ImportError"
    print(skipped, found)
"""


def test_without_matplotlib_its_import_fails_at_once(tmp_path):
    assert _python(CHECK, tmp_path, *sys.path[1:]) == "True ImportError"


def test_an_installed_matplotlib_is_left_alone(tmp_path):
    package = tmp_path / "installed" / "matplotlib"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    assert _python(CHECK, tmp_path, tmp_path / "installed", *sys.path[1:]) == "False matplotlib"


def test_monitoring_asked_for_as_gradios_default_none_stays_on_and_current():
    answer = _summary_after_one_call(_echo_app(), {"enable_monitoring": None})
    assert answer.status_code == 200 and "echo" in answer.json()["functions"]
