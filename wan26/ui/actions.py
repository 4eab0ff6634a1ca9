"""Small private handlers: references in order, results sent to Edit, seeds reused, presets applied."""

from __future__ import annotations

from typing import Any

import gradio as gr

from wan26.types import Size, parse_size
from wan26.ui.i18n import Lang, lang_of, t
from wan26.ui.inputs import RANDOM_SEED, paths


def label_references(gallery: list[Any] | None, request: gr.Request | None = None) -> list[tuple[str, str]]:
    return labelled(paths(gallery), lang_of(request))


def labelled(files: list[str], lang: Lang, most: int | None = None) -> list[tuple[str, str]]:
    """The references captioned with the number the prompt calls them by ("Image 1", "图1"); the first
    `most` of them (the vendor and model's limit; None: all)."""
    if most is not None and len(files) > most:
        gr.Warning(t("too_many_references_kept", lang, count=len(files), most=most))
        files = files[:most]
    return [(path, t("reference_n", lang, index=index)) for index, path in enumerate(files, start=1)]


def move_earlier(gallery: list[Any] | None, selected: int | None, request: gr.Request) -> tuple[Any, Any]:
    return move_reference(gallery, selected, -1, lang_of(request))


def move_later(gallery: list[Any] | None, selected: int | None, request: gr.Request) -> tuple[Any, Any]:
    return move_reference(gallery, selected, +1, lang_of(request))


def move_reference(gallery: list[Any] | None, selected: int | None, step: int, lang: Lang = Lang.EN) -> tuple[Any, Any]:
    files = paths(gallery)
    if selected is None or not 0 <= selected < len(files) or not 0 <= selected + step < len(files):
        return gr.skip(), gr.skip()
    files[selected], files[selected + step] = files[selected + step], files[selected]
    moved = selected + step  # keep the moved image selected, so repeated clicks keep moving it
    return gr.Gallery(value=labelled(files, lang), selected_index=moved), moved


def use_as_reference(
    results: list[Any] | None, selected: int | None, references: list[Any] | None, most: int, lang: Lang = Lang.EN
) -> tuple[Any, Any]:
    chosen = paths(results)
    if not chosen:
        raise gr.Error(t("nothing_to_send", lang), title=t("title_nothing_to_send", lang))
    pick = chosen[selected if selected is not None and selected < len(chosen) else 0]
    current = paths(references)
    if len(current) >= most:
        raise gr.Error(t("too_many_references", lang, most=most), title=t("title_too_many_references", lang))
    gr.Info(t("sent_to_edit", lang, index=len(current) + 1))
    return labelled([*current, pick], lang), gr.Tabs(selected="edit")


def reuse_seed(used: float | None, request: gr.Request | None = None) -> tuple[Any, Any]:
    """`used`: the seed of this tab's last finished run (None until one has finished)."""
    if used is None:
        lang = lang_of(request)
        raise gr.Error(t("no_seed_yet", lang), title=t("title_no_seed_yet", lang))
    return fixed_seed(used), False


def fixed_seed(seed: float) -> Any:
    """The seed box holding `seed`, open to typing. Whatever unticks Random sets this too: the
    checkbox's own handler answers the visitor's clicks only (see `randomize_clicked`)."""
    return gr.update(value=int(seed), interactive=True)


def random_seed() -> Any:
    return gr.update(value=RANDOM_SEED, interactive=False)


def randomize_clicked(randomize: bool, current: float | None, used: float | None) -> Any:
    """Wired to the checkbox's `input`, never `change`: Gradio fires `change` on a box not yet drawn
    (under a closed Advanced) as soon as a handler's output sets it, with its inputs read before the
    rest of that output lands, so a seed set in the same output (Reuse) was read as -1, replaced by 0."""
    if randomize:
        return random_seed()
    return fixed_seed(used if used is not None else (current if current not in (None, RANDOM_SEED) else 0))


def selected_index(evt: gr.SelectData) -> Any:
    return evt.index


def apply_preset(choice: str | None) -> tuple[Any, Any]:
    if not choice:
        return gr.skip(), gr.skip()
    size = parse_size(choice)
    if not isinstance(size, Size):  # presets are always W*H
        return gr.skip(), gr.skip()
    return size.width, size.height
