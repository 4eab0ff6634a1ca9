"""What Gradio spends on each new visitor, cut to what this page uses.

On a visitor's first request Gradio 6.31 builds a `SessionState`, whose `__init__` renders the config
of every block of the page (`BlocksConfig.config_for_block`), and each of those asks
`inspect.signature` for the component's `__init__` afresh:
https://github.com/gradio-app/gradio/blob/gradio%406.31.0/gradio/state_holder.py (SessionState)
https://github.com/gradio-app/gradio/blob/gradio%406.31.0/gradio/blocks.py (Block.get_config)
For this page's ~200 blocks that is 12 ms of CPU per visitor, against 0.2 ms for a three-block app:
32 visitors arriving together wait 0.4 s for it alone. Those eager configs serve only deep links
(`gr.DeepLinkButton`, the `/gradio_api/deep_link` route), which this page does not offer.

- `cache_signatures`: each component class's `__init__` carries its signature as `__signature__`,
  which `inspect.signature` returns as is (https://docs.python.org/3/library/inspect.html#inspect.signature).
  What Gradio computes is unchanged; it is only computed once.
- `lazy_session_configs`: a session renders block configs only when something asks for them all
  (`SessionState.components`, which only the deep-link route reads). Until then the values a
  visitor's runs give their blocks (`SessionState._update_value_in_config`, on every input and
  output of every run: 18 blocks for a text-to-image run) are kept aside and written into the
  configs when they are rendered. Rendering them on a visitor's first run was 6 % of the app's CPU
  when 32 visitors arrived together (py-spy), for configs nothing read. This replaces
  Gradio's own methods, so it applies only to the Gradio version they were read from, and leaves
  any other version alone.
"""

from __future__ import annotations

import copy
import inspect
import os
from collections.abc import Iterator
from typing import Any

import gradio as gr
from gradio import state_holder

READ_FROM_GRADIO = "6.31.0"
# Gradio's own methods, as imported (before `lazy_session_configs` replaces them).
GRADIO_OWN: dict[str, Any] = {
    name: vars(state_holder.SessionState)[name]
    for name in ("__init__", "components", "_update_value_in_config", "__setitem__")
}


def cache_signatures(blocks: gr.Blocks) -> None:
    """Give the `__init__` of every component class on the page its signature, computed once."""
    classes = {ancestor for block in blocks.blocks.values() for ancestor in type(block).__mro__}
    for klass in classes:
        init = vars(klass).get("__init__")
        if inspect.isfunction(init) and "__signature__" not in vars(init):
            init.__signature__ = inspect.signature(init)  # type: ignore[attr-defined]


def lazy_session_configs() -> bool:
    """New sessions render block configs on demand; False, and nothing changed, on another Gradio."""
    session_class: Any = state_holder.SessionState
    if gr.__version__ != READ_FROM_GRADIO:
        return False
    session_class.__init__ = _session_init
    session_class.components = property(_all_components)
    session_class._update_value_in_config = _keep_value
    session_class.__setitem__ = _set_block
    return True


def _session_init(self: Any, blocks: gr.Blocks) -> None:
    """Gradio 6.31's `SessionState.__init__`, less the eager `config_values` (see `_all_components`)."""
    self.blocks_config = copy.copy(blocks.default_config)
    self.config_values = {}
    self.pending_values = {}  # block id -> the value a run gave it, for a config not rendered yet
    self.initial_block_ids = [key for key in self.blocks_config.blocks if key in blocks.blocks]
    self.state_data = {}
    self._state_ttl = {}
    self.is_closed = False
    self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600


def _keep_value(self: Any, key: int, value: Any) -> None:
    """Gradio's `_update_value_in_config`, for a config already rendered; otherwise the value waits
    for the config (`_all_components`)."""
    config = self.config_values.get(key)
    if config is None:
        self.pending_values[key] = value
    elif "props" in config:
        config["props"]["value"] = value


def _set_block(self: Any, key: int, value: Any) -> None:
    """Gradio's `__setitem__`, which renders the block's config afresh: a value waiting for the old
    config is dropped, as Gradio's fresh render would have dropped it."""
    self.pending_values.pop(key, None)
    GRADIO_OWN["__setitem__"](self, key, value)


def _all_components(self: Any) -> Iterator[dict[str, Any]]:
    """Every block's config in page order, as Gradio's eager `__init__` would have had it: the ones
    not needed yet rendered now, the ones used with their updated values. Each waiting value is taken
    right after its config is rendered: one a run writes meanwhile (from another thread: the deep-link
    route runs in one) is written into the rendered config and is not overwritten by an older one."""
    initial = set(self.initial_block_ids)
    for key in [*self.initial_block_ids, *(key for key in list(self.pending_values) if key not in initial)]:
        if key not in self.config_values and key in self.blocks_config.blocks:
            block = self.blocks_config.blocks[key]
            self.config_values[key] = self.blocks_config.config_for_block(key, [], block)
        value = self.pending_values.pop(key, _NONE)
        if value is not _NONE and key in self.config_values:  # a block gone since (re-rendered away) keeps nothing
            _keep_value(self, key, value)
    ordered = [*self.initial_block_ids, *(key for key in self.config_values if key not in initial)]
    yield from (config for key in ordered if (config := self.config_values.get(key)))


_NONE = object()  # no value waiting (None is a value)
