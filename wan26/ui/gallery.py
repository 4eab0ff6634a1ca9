"""A run's saved images as a gallery's items: the file Gradio may show, and a caption."""

from __future__ import annotations

from wan26.types import GenerationResult, Mode, SavedImage
from wan26.ui.i18n import Lang
from wan26.ui.shown import download_name, shown
from wan26.ui.texts import caption


def gallery_items(result: GenerationResult, prompt: str, lang: Lang = Lang.EN) -> list[tuple[str, str]]:
    return [(named(image, result.mode, prompt), caption(result, image, lang)) for image in result.images]


def named(image: SavedImage, mode: Mode, prompt: str) -> str:
    """The image as Gradio shows it, under a name that says what it is (its download's name)."""
    return shown(image.path, download_name(mode.value, prompt, image.seed, image.index, image.path.suffix))
