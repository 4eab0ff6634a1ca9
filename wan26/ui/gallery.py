"""A run's saved images as a gallery's items: the file Gradio may show, and a caption."""

from __future__ import annotations

from wan26.types import GenerationResult
from wan26.ui.shown import shown
from wan26.ui.texts import caption


def gallery_items(result: GenerationResult) -> list[tuple[str, str]]:
    return [(shown(image.path), caption(result, image)) for image in result.images]
