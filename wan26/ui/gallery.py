"""A run's saved images as a gallery's items: the file Gradio may show, and a caption."""

from __future__ import annotations

from wan26.types import GenerationResult, Mode, SavedImage
from wan26.ui.i18n import Lang
from wan26.ui.shown import download_name, shown
from wan26.ui.texts import caption


def gallery_items(result: GenerationResult, prompt: str, lang: Lang = Lang.EN) -> list[tuple[str, str]]:
    """In the order made; a set's images numbered 01, 02, … as they belong together in that order."""
    images = sorted(result.images, key=lambda image: image.index)
    numbered = result.mode is Mode.IMAGE_SET
    return [
        (
            named(image, result.mode, prompt),
            (f"{image.index:02d} · " if numbered else "") + caption(result, image, lang),
        )
        for image in images
    ]


def named(image: SavedImage, mode: Mode, prompt: str) -> str:
    """The image as Gradio shows it, under a name that says what it is (its download's name)."""
    return shown(image.path, download_name(mode.value, prompt, image.seed, image.index, image.path.suffix))
