"""Validators: run before a run is queued, so an out-of-limit request is never sent; each message
appears under the input it concerns."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import gradio as gr

from wan26.errors import ConfigError, InvalidRequest, Violation, Wan26Error
from wan26.images import header_upright_sizes, size_problems
from wan26.limits import boxes_outside, violations
from wan26.providers import Adapter
from wan26.types import ImageRequest, Mode
from wan26.ui.i18n import Lang, field_label, lang_of, t, translate
from wan26.ui.inputs import thinking_where_offered
from wan26.ui.models import Chosen, modelled_elsewhere
from wan26.ui.texts import unavailable_reason
from wan26.ui.vendors import Vendors

# Each endpoint's public inputs in order; those after `provider` are Wan 2.7's, with defaults that
# leave a 2.6 caller's request as it was.
T2I_INPUTS = [
    *["prompt", "negative_prompt", "width", "height", "n", "seed", "prompt_extend", "watermark", "provider"],
    *["model", "thinking", "palette", "tier"],
]
EDIT_INPUTS = [
    *["prompt", "images", "negative_prompt", "size", "n", "seed", "prompt_extend", "watermark", "provider"],
    *["image_urls", "model", "palette", "boxes"],
]
INTERLEAVE_INPUTS = [
    *["prompt", "image", "negative_prompt", "width", "height", "max_images", "seed", "watermark", "provider"],
]
IMAGE_SET_INPUTS = ["prompt", "images", "size", "n", "seed", "watermark", "provider", "image_urls", "model"]

Validator = Callable[..., Coroutine[Any, Any, list[dict[str, Any]]]]


def validator(vendors: Vendors, build: Callable[..., ImageRequest], names: list[str]) -> Validator:
    """Checks the request against the chosen vendor's limits; `provider` follows the request's inputs.
    Async although it never waits: Gradio runs a plain function in a worker thread, a hop per run.
    Gradio hands it the visitor's request first (its annotation says so), then the inputs."""

    async def check(request: gr.Request, *values: Any) -> list[dict[str, Any]]:
        lang = lang_of(request)
        values_by_name = dict(zip(names, values, strict=False))
        others = [gr.validate(True, "")] * (len(values) - len(names))
        try:
            wanted = build(**{name: value for name, value in values_by_name.items() if name != "provider"})
            adapter = vendors.adapter(values_by_name.get("provider"))
        except InvalidRequest as refused:  # a pasted reference that is not a link, a width that is not a number
            return validation_for(names, list(refused.violations), lang) + others
        except ConfigError as unknown:  # the vendor named by an API caller does not exist
            return validation_for(names, [Violation("provider", str(unknown))], lang) + others
        except (TypeError, ValueError, ArithmeticError, gr.Error, Wan26Error) as exc:
            return [gr.validate(False, translate(str(exc), lang))] + [gr.validate(True, "")] * (len(values) - 1)
        return validation_for(names, _found(adapter, wanted, lang), lang, LABELS.get(wanted.mode)) + others

    return check


def _found(adapter: Adapter, request: ImageRequest, lang: Lang) -> list[Violation]:
    limits = adapter.facts.mode_limits(request)
    request = thinking_where_offered(request, limits)
    if limits is None:  # the model picker's fault when another model of this vendor has the mode
        field = "model" if modelled_elsewhere(adapter, request.mode) else "provider"
        return [Violation(field, unavailable_reason(Chosen(adapter, request.model), request.mode, lang))]
    # Uploads' pixel sizes too, and boxes inside them: known now, from their headers, rather than after queueing.
    rules = adapter.facts.image_rules_of(request.model)
    sizes = header_upright_sizes(request.images) if request.boxes else []  # opened again only for boxes
    outside = boxes_outside(request.boxes, sizes, rules.max_side)
    return violations(request, limits) + size_problems(request.images, rules) + outside


def validation_for(
    names: list[str], found: list[Violation], lang: Lang = Lang.EN, labels: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """One gr.validate per input, carrying the violations that concern it; the prompt, just above
    Generate, also carries those of inputs that are folded away (FOLDED). `labels`: fields whose box
    the page labels as another field (an image set's n is "Images at most")."""
    return [
        gr.validate(
            not (msgs := [_for_input(v, name, lang, labels or {}) for v in found if _concerns(v.field, name)]),
            "; ".join(msgs),
        )
        for name in names
    ]


def _for_input(violation: Violation, name: str, lang: Lang, labels: Mapping[str, str]) -> str:
    """Gradio names the input already; repeat the field only when it says more (`image 2`, `Width`).
    The words are the page's (i18n.FIELDS), in the visitor's language."""
    message = translate(violation.message, lang)
    if violation.field == name:
        return message
    field = labels.get(violation.field, violation.field)
    return t("field_message", lang, field=field_label(field, lang), message=message)


# Inputs folded under Advanced or not on the page at all (edit's `size`): the prompt repeats their
# problems, so that they show just above Generate.
# The palette's rows are not endpoint inputs (its hidden text is): the prompt carries its problems
# too, and the line beside the rows says the total as it is typed.
FOLDED = frozenset(
    {"size", "size.width", "size.height", "seed", "negative_prompt", "image_urls", "images", "thinking", "tier"}
    | {"model", "boxes"}  # the picker is at the top of the page (and the Image set tab's own is hidden)
    # Number boxes show no message of their own (Gradio 6.31 marks them red only): the counts'
    # problems are said here, and in the price line, as they are typed.
    | {"n", "max_images"}
)
LABELS = {Mode.IMAGE_SET: {"n": "max_images"}}


def _concerns(field: str, name: str) -> bool:
    if name == "prompt" and (field in FOLDED or field.startswith(("image ", "palette"))):
        return True
    if name in ("width", "height"):
        # The verdict under the two sliders says it already, and a slider's own error box would
        # cover its label: the prompt carries size problems.
        return False
    if name in ("images", "image"):
        return field == "images" or field.startswith("image ")
    return field == name or field.startswith(name + ".")
