"""Small private handlers: references in order, results sent to Edit, seeds reused, presets applied."""

from __future__ import annotations

from typing import Any

import gradio as gr

from wan26.types import Size, parse_size
from wan26.ui.inputs import RANDOM_SEED, paths

MAX_REFERENCES = 4


def label_references(gallery: list[Any] | None) -> list[tuple[str, str]]:
    files = paths(gallery)
    if len(files) > MAX_REFERENCES:
        gr.Warning(f"Edit takes at most 4 reference images; kept the first 4 of {len(files)}.")
    return [(path, f"Image {index}") for index, path in enumerate(files[:MAX_REFERENCES], start=1)]


def move_reference(gallery: list[Any] | None, selected: int | None, step: int) -> tuple[Any, Any]:
    files = paths(gallery)
    if selected is None or not 0 <= selected < len(files) or not 0 <= selected + step < len(files):
        return gr.skip(), gr.skip()
    files[selected], files[selected + step] = files[selected + step], files[selected]
    moved = selected + step  # keep the moved image selected, so repeated clicks keep moving it
    return gr.Gallery(value=label_references(files), selected_index=moved), moved


def use_as_reference(results: list[Any] | None, selected: int | None, references: list[Any] | None) -> tuple[Any, Any]:
    chosen = paths(results)
    if not chosen:
        raise gr.Error("Generate an image first.", title="Nothing to send")
    pick = chosen[selected if selected is not None and selected < len(chosen) else 0]
    current = paths(references)
    if len(current) >= MAX_REFERENCES:
        raise gr.Error("Edit already has 4 reference images; remove one first.", title="Too many references")
    gr.Info(f"Sent to Edit as image {len(current) + 1}.")
    return label_references([*current, pick]), gr.Tabs(selected="edit")


def reuse_seed(used: float | None) -> tuple[Any, Any]:
    """`used`: the seed of this tab's last finished run (None until one has finished)."""
    if used is None:
        raise gr.Error("Run once first: the seed used is shown after a run.", title="No seed yet")
    return int(used), False


def randomize_changed(randomize: bool, current: float | None, used: float | None) -> Any:
    if randomize:
        return gr.update(value=RANDOM_SEED, interactive=False)
    start = used if used is not None else (current if current not in (None, RANDOM_SEED) else 0)
    return gr.update(value=int(start), interactive=True)


def selected_index(evt: gr.SelectData) -> Any:
    return evt.index


def apply_preset(choice: str | None) -> tuple[Any, Any]:
    if not choice:
        return gr.skip(), gr.skip()
    size = parse_size(choice)
    if not isinstance(size, Size):  # presets are always W*H
        return gr.skip(), gr.skip()
    return size.width, size.height
