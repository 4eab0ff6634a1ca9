"""Gradio's cost per new visitor (wan26/ui/visitor_cost.py): computed once or on demand, never different.

What these guard: a visitor's page and runs come out of these configs, so a cached signature or a
config rendered later must give Gradio exactly what it computed itself."""

import inspect

import gradio as gr
import pytest
from gradio import state_holder

from wan26.ui import build_app
from wan26.ui.visitor_cost import GRADIO_OWN, READ_FROM_GRADIO, cache_signatures, lazy_session_configs


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    built = build_app({"DASHSCOPE_API_KEY": "sk-test", "WAN26_OUTPUT_DIR": str(tmp_path_factory.mktemp("out"))})
    yield built
    built.blocks.close()


def _every_config(blocks):
    config = blocks.default_config
    return {key: config.config_for_block(key, [], block) for key, block in config.blocks.items()}


def _first_textbox(blocks):
    """The first prompt of the page, by its place (its label is a translation key)."""
    return next(key for key, block in blocks.blocks.items() if isinstance(block, gr.Textbox))


def _init_functions(blocks):
    classes = {ancestor for block in blocks.blocks.values() for ancestor in type(block).__mro__}
    return [init for klass in classes if inspect.isfunction(init := vars(klass).get("__init__"))]


def test_cached_signatures_give_every_block_of_the_page_the_config_gradio_computes(studio):
    inits = _init_functions(studio.blocks)
    assert inits and all("__signature__" in vars(init) for init in inits)  # the build cached them
    cached = _every_config(studio.blocks)
    for init in inits:
        del init.__signature__
    try:
        assert _every_config(studio.blocks) == cached
    finally:
        cache_signatures(studio.blocks)
    assert len(cached) > 150  # the whole page, tabs, History and settings included


def test_the_pinned_gradio_gets_lazy_sessions_and_another_version_is_left_alone(studio, monkeypatch):
    # A failure here after a Gradio upgrade means: re-read SessionState.__init__ for that version.
    assert gr.__version__ == READ_FROM_GRADIO
    assert state_holder.SessionState.__init__.__module__ == "wan26.ui.visitor_cost"
    monkeypatch.setattr(gr, "__version__", "6.99.0")
    assert lazy_session_configs() is False


def test_a_session_renders_no_config_until_all_are_asked_for(studio):
    session = state_holder.SessionState(studio.blocks)
    assert session.config_values == {}
    prompt = _first_textbox(studio.blocks)
    session._update_value_in_config(prompt, "a red fox")  # what Gradio does with a run's input
    session._update_value_in_config(prompt, "a blue fox")  # and with the next run's
    assert session.config_values == {}
    shown = {config["id"]: config for config in session.components}
    assert shown[prompt]["props"]["value"] == "a blue fox"
    session._update_value_in_config(prompt, "a green fox")  # rendered by now: written in at once
    assert session.config_values[prompt]["props"]["value"] == "a green fox"


def test_values_kept_aside_give_the_configs_gradio_would_have_given(studio):
    """The same runs on a lazy session and on one made and updated by Gradio's own methods."""
    lazy = state_holder.SessionState(studio.blocks)
    gradios = object.__new__(state_holder.SessionState)
    GRADIO_OWN["__init__"](gradios, studio.blocks)
    prompt = _first_textbox(studio.blocks)
    others = [key for key, block in studio.blocks.blocks.items() if isinstance(block, gr.Textbox)][1:3]
    for session, update, set_block in (
        (lazy, type(lazy)._update_value_in_config, type(lazy).__setitem__),
        (gradios, GRADIO_OWN["_update_value_in_config"], GRADIO_OWN["__setitem__"]),
    ):
        update(session, prompt, "a red fox")
        set_block(session, prompt, gr.Textbox(label="set anew"))  # Gradio renders the config afresh: no fox
        for key in others:
            update(session, key, f"value of {key}")
            update(session, key, f"newer value of {key}")
    assert list(lazy.config_values) == [prompt]  # set anew: rendered by Gradio; the others wait
    assert list(lazy.components) == list(GRADIO_OWN["components"].fget(gradios))
    lazy._update_value_in_config(others[0], "after all were rendered")
    assert {c["id"]: c for c in lazy.components}[others[0]]["props"]["value"] == "after all were rendered"


def test_a_value_waiting_for_a_block_gone_since_is_dropped(studio):
    """A block re-rendered away (`gr.render`) between a run and the deep-link route's read."""
    session = state_holder.SessionState(studio.blocks)
    session._update_value_in_config(10**9, "a block no longer on the page")
    assert 10**9 not in {config["id"] for config in session.components}
