"""Gradio's cost per new visitor (wan26/ui/visitor_cost.py): computed once or on demand, never different.

What these guard: a visitor's page and runs come out of these configs, so a cached signature or a
config rendered later must give Gradio exactly what it computed itself."""

import inspect

import gradio as gr
import pytest
from gradio import state_holder

from wan26.ui import build_app
from wan26.ui.visitor_cost import READ_FROM_GRADIO, cache_signatures, lazy_session_configs


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


def test_a_new_session_renders_no_config_until_one_is_needed(studio):
    session = state_holder.SessionState(studio.blocks)
    assert session.config_values == {}
    prompt = _first_textbox(studio.blocks)
    session._update_value_in_config(prompt, "a red fox")  # what Gradio does with a run's input
    assert list(session.config_values) == [prompt]
    assert session.config_values[prompt]["props"]["value"] == "a red fox"


def test_all_configs_of_a_session_are_gradios_own_with_the_values_it_was_given(studio):
    blocks = studio.blocks
    eager = [config for config in _every_config(blocks).values() if config]
    session = state_holder.SessionState(blocks)
    prompt = _first_textbox(blocks)
    session._update_value_in_config(prompt, "a red fox")
    lazily = list(session.components)
    assert [config["id"] for config in lazily] == [config["id"] for config in eager]
    changed = [(mine, theirs) for mine, theirs in zip(lazily, eager, strict=True) if mine != theirs]
    assert [mine["id"] for mine, _ in changed] == [prompt]
    assert changed[0][0]["props"]["value"] == "a red fox"
