"""Clickable examples under each tab's form. A click fills the form and nothing more: no run starts
and nothing is cached at start-up, since every run is billed by the vendor. The Edit examples'
references are small images the project draws itself (tests/make_example_images.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
from gradio.helpers import Examples

from wan26.types import Mode
from wan26.ui.actions import label_references
from wan26.ui.controls import PRIVATE
from wan26.ui.i18n import I18N, Lang, t

IMAGES = Path(__file__).resolve().parent / "examples"
# The shown columns' headings, as keys of the interface's words. A Dataset shows its headers as given,
# untranslated: the page load sends them in the visitor's language (`headings`). The prompts
# themselves are examples, kept as written.
HEADINGS = {
    Mode.TEXT_TO_IMAGE: ("prompt", "shape"),
    Mode.EDIT: ("examples_references", "prompt"),
    Mode.INTERLEAVE: ("prompt", "shape"),
}

# (prompt, shape, negative prompt). Every shape here is offered by every vendor in its mode.
TEXT_TO_IMAGE: list[list[str]] = [
    [
        "Night market street food stall in Chengdu, steam rising from a wok, neon signs reflected on the wet "
        "pavement, 35 mm photo, shallow depth of field",
        "3:2",
        "blurry, oversaturated",
    ],
    [
        "A fox reading a book under a giant mushroom in a mossy forest, children's book illustration, "
        "soft watercolour, warm evening light",
        "4:3",
        "",
    ],
    [
        "一张中秋节海报，顶部大字标题“月满中秋”，下方一行英文小字“Mid-Autumn Festival”，圆月、玉兔和桂花，"
        "红色与金色，居中排版",
        "3:4",
        "misspelled text, extra letters",
    ],
    [
        'Minimalist travel poster for Lisbon, the title "LISBOA" in large bold letters at the top, a yellow '
        "tram climbing a hill of terracotta rooftops, flat vector style",
        "2:3",
        "",
    ],
    [
        "Product shot of a matte white ceramic coffee mug on a light oak table, soft morning window light, "
        "clean pale background, crisp detail",
        "1:1",
        "text, logo, watermark",
    ],
    [
        "Aerial view of terraced rice fields at sunrise, mist in the valleys, cinematic wide shot",
        "16:9",
        "",
    ],
]

# (references, prompt): the references in order, labelled as the prompt calls them.
EDIT: list[list[Any]] = [
    [
        ["cat-at-sunset.png", "blue-hat.png"],
        "Put the blue top hat from image 2 on the head of the cat in image 1; keep the sunset and the cat's pose",
    ],
    [
        ["house-by-day.png"],
        "Image 1 on a winter night: snow on the roof and the hill, warm light in the windows, stars in the sky",
    ],
    [
        ["red-cube.png"],
        "Turn the red cube in image 1 into a glossy gift box with a gold ribbon, photorealistic, same table and light",
    ],
]

# (prompt, shape)
INTERLEAVE: list[list[str]] = [
    ["用三个步骤介绍番茄炒蛋的做法，每一步配一张图", "1:1"],
    ["A short illustrated story for children in four scenes: a paper boat sails from a rainy street to the sea", "4:3"],
    ["A one-day travel guide to Kyoto: morning, afternoon and evening, each with a photo and two tips", "3:2"],
]


def text_to_image_examples(prompt: gr.Textbox, shape: gr.Radio, negative: gr.Textbox) -> Examples:
    # The negative prompt is filled in but not shown: a third column is too narrow to read on a phone.
    return form_examples(TEXT_TO_IMAGE, [prompt, shape, negative], Mode.TEXT_TO_IMAGE)


def edit_examples(references: gr.Gallery, prompt: gr.Textbox, boxes: gr.Textbox) -> Examples:
    samples = [[labelled(names), prompt_text] for names, prompt_text in EDIT]
    examples = form_examples(samples, [references, prompt], Mode.EDIT)
    # The references come captioned "Image n" as built; then relabelled in the visitor's language ("图n").
    examples.load_input_event.then(label_references, references, references, **PRIVATE)
    # Boxes drawn or typed were for the references the example replaced: none is left to send.
    examples.load_input_event.then(lambda: "", None, boxes, **PRIVATE)
    return examples


def interleave_examples(prompt: gr.Textbox, shape: gr.Radio) -> Examples:
    return form_examples(INTERLEAVE, [prompt, shape], Mode.INTERLEAVE)


def shipped_images() -> list[Path]:
    """The Edit examples' image files. Gradio checks them again whenever an update rebuilds the
    examples' table (each page load and vendor switch), as if a handler had returned them."""
    return sorted({IMAGES / name for names, _prompt in EDIT for name in names})


def labelled(names: list[str]) -> list[tuple[str, str]]:
    """The shipped images as the references gallery holds them: path and "Image n" caption."""
    return [(str(IMAGES / name), f"Image {index}") for index, name in enumerate(names, start=1)]


def headings(mode: Mode, lang: Lang) -> list[str]:
    """The headings of the columns shown, in `lang`."""
    return [t(key, lang) for key in HEADINGS[mode]]


def form_examples(samples: list[list[Any]], inputs: list[Any], mode: Mode) -> Examples:
    """Never cached (cache_examples=None could cache on a Space, running the paid API at start-up),
    never run on click, and not an API endpoint or MCP tool. Only the first columns are shown, one
    per heading: the references' own label is long."""
    headers = headings(mode, Lang.EN)
    examples: Examples = gr.Examples(  # gr.Examples is an untyped function returning an Examples
        samples,
        inputs,
        fn=None,
        outputs=None,
        cache_examples=False,
        run_on_click=False,
        api_visibility="private",
        label=I18N("examples"),
        elem_id=f"{mode}-examples",
        examples_per_page=len(samples),
        visible_columns=list(range(len(headers))),
    )
    examples.dataset.headers = headers  # gr.Examples takes no headers; its Dataset shows these (then `headings`)
    return examples
