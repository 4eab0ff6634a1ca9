"""The form's building blocks. Each control that depends on the vendor and model is registered with
the update their data calls for, so changing either (or loading the page) adapts them all at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from wan26.providers import Adapter, flows_of
from wan26.types import Mode, SizeTier
from wan26.ui.errors import adapter_named
from wan26.ui.i18n import I18N, Lang, both, both_choices, lang_of, t
from wan26.ui.in_view import STACKED_MAX_PX
from wan26.ui.inputs import RANDOM_SEED
from wan26.ui.models import Chosen, chosen
from wan26.ui.ratios import ratio_choices, size_for_ratio
from wan26.ui.texts import (
    char_count,
    mode_unavailable,
    offered,
    price_note,
    size_check,
    union_limits,
    vendor_notes,
)
from wan26.ui.vendors import Vendors

# The results' height leaves the first line of the run's details (its step in words, below them and
# their buttons) on the first screen of a 1280×720 window, where the results begin 216 px down.
RESULTS_HEIGHT = 410
# Where a tab's two columns stack, a run's results are scrolled into view once it has begun and the
# Stop under Generate is a screen or more above (in_view.py): a second Stop under the run's details
# is shown there only.
STOP_BELOW_CSS = f"""
@media (min-width: {STACKED_MAX_PX + 1}px) {{.stop-below {{display: none !important}}}}
"""
PRIVATE: dict[str, Any] = {"api_visibility": "private", "queue": False, "show_progress": "hidden"}
# gr.Info and gr.Warning reach the page only from queued events.
PRIVATE_NOTIFYING: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
# Checks of values as typed, without Gradio's preprocessing (a prompt's count, a size's verdict).
RAW_CHECK: dict[str, Any] = {**PRIVATE, "preprocess": False, "trigger_mode": "always_last"}
VendorUpdate = Callable[[Chosen], Any]
WordedUpdate = Callable[[Chosen, Lang], Any]  # an update that writes words, in the visitor's language
KeepingUpdate = Callable[[Chosen, Lang, Any], Any]  # one that also gets the control's value as it is
Choice = tuple[str, str] | list[str] | None  # (vendor, model) as the page's choice state holds them
FOLLOW_INPUT = "follow"  # interleave's size choice: the input image's shape
# Edit's tiers follow the last reference; without references (text to image, a set from text) they are square.
LIKE_REFERENCE = {SizeTier.K1: "like_reference_1K", SizeTier.K2: "like_reference_2K", SizeTier.K4: "tier_4K"}
SQUARE_TIER = {SizeTier.K1: "tier_1K", SizeTier.K2: "tier_2K", SizeTier.K4: "tier_4K"}
SET_TIER = {SizeTier.K1: "set_tier_1K", SizeTier.K2: "set_tier_2K", SizeTier.K4: "tier_4K"}
TIER_WORDS = {Mode.TEXT_TO_IMAGE: SQUARE_TIER, Mode.IMAGE_SET: SET_TIER}


class FollowsVendor:
    """Controls that follow the chosen vendor and model, each paired with the update their data calls for."""

    def __init__(self, vendors: Vendors) -> None:
        self.vendors = vendors
        self.pairs: list[tuple[Any, KeepingUpdate]] = []
        self.inputs: list[Any] = []  # what `kept_updates` reads after the vendor: the `keeping` controls

    def __call__(self, component: Any, update: VendorUpdate) -> Any:
        self.pairs.append((component, lambda adapter, _lang, _value: update(adapter)))
        return component

    def worded(self, component: Any, update: WordedUpdate) -> Any:
        """Like calling it, for an update that writes words: it gets the visitor's language too."""
        self.pairs.append((component, lambda adapter, lang, _value: update(adapter, lang)))
        return component

    def keeping(self, component: Any, update: KeepingUpdate) -> Any:
        """Like `worded`, for an update that can keep what the visitor chose: after a page load it gets
        the control's value as the event read it (`kept_updates`), after a vendor switch None."""
        self.inputs.append(component)
        self.pairs.append((component, update))
        return component

    @property
    def components(self) -> list[Any]:
        return [component for component, _ in self.pairs]

    def updates(self, choice: Choice, request: gr.Request) -> list[Any]:
        """A vendor or model chosen: every control as they have it (a shape back to its first)."""
        provider, model = choice or ("", "")
        return self._updates(self.pairs, provider, model, {}, request)

    def kept_updates(self, request: gr.Request, provider: str | None, model: str | None, *kept: Any) -> list[Any]:
        """After a page load: the same, but a choice made while the page loaded stays where the vendor
        offers it. (Gradio hands the request first: its annotation says so.)"""
        return self._updates(self.pairs, provider, model, dict(zip(map(id, self.inputs), kept, strict=True)), request)

    def again(self, components: list[Any]) -> tuple[Callable[..., Any], list[Any], list[Any]]:
        """A handler giving `components` their updates again for the page's choice state, its inputs
        (the choice, then those of `components` whose value an update keeps where offered) and its
        outputs. Gradio's examples send every input's settings as built, for the first vendor with
        2.6, with the value: this adapts them to the chosen vendor and model again."""
        pairs = [(component, update) for component, update in self.pairs if any(component is c for c in components)]
        keeping = [component for component, _ in pairs if any(component is kept for kept in self.inputs)]

        def updates(request: gr.Request, choice: Choice, *values: Any) -> Any:
            provider, model = choice or ("", "")
            found = self._updates(pairs, provider, model, dict(zip(map(id, keeping), values, strict=True)), request)
            return found[0] if len(found) == 1 else found  # Gradio takes one output's update bare

        return updates, keeping, [component for component, _ in pairs]

    def _updates(
        self,
        pairs: list[tuple[Any, KeepingUpdate]],
        provider: str | None,
        model: str | None,
        kept: dict[int, Any],
        request: gr.Request,
    ) -> list[Any]:
        picked, lang = chosen(adapter_named(self.vendors, provider), model), lang_of(request)
        return [update(picked, lang, kept.get(id(component))) for component, update in pairs]


def size_choices(choice: Chosen, mode: Mode, lang: Lang = Lang.EN) -> list[tuple[str, str]]:
    """The shapes this vendor and model can make in `mode`: its tiers (edit, and 2.7 everywhere), the
    input's shape (interleave), then aspect ratios with the size each one sends."""
    limits = offered(choice, mode)
    words = TIER_WORDS.get(mode, LIKE_REFERENCE)
    tiers = [(t(words[tier], lang), tier.value) for tier in sorted(limits.size_tiers)]
    follow = [(t("like_input", lang), FOLLOW_INPUT)] if mode is Mode.INTERLEAVE else []
    return [*tiers, *follow, *ratio_choices(limits, mode)]


def stop_below(tab: str) -> gr.Button:
    """A second Stop for `tab` (its element ids' prefix), under the run's details, shown on narrow
    screens only (see STOP_BELOW_CSS)."""
    return gr.Button(I18N("stop"), variant="stop", elem_id=f"{tab}-stop-below", elem_classes="stop-below")


class Form:
    """Builds one tab's controls; `first` is the vendor they show before the page load adapts them."""

    def __init__(self, vendors: Vendors, follows: FollowsVendor, first: Adapter) -> None:
        self.vendors, self.follows = vendors, follows
        self.first = Chosen(first)  # what the page shows before its load adapts it: the vendor with 2.6
        self._last_shape: dict[Mode, gr.State] = {}

    def adapter(self, provider: str | None) -> Adapter:
        return adapter_named(self.vendors, provider)

    def chosen(self, choice: Choice) -> Chosen:
        """The (vendor, model) the page's choice state holds; a model the vendor lacks reads as 2.6."""
        provider, model = choice or ("", "")
        return chosen(self.adapter(provider), model)

    # Handlers, not lambdas: Gradio hands the visitor's request only to a parameter annotated gr.Request.
    # Each reads the page's choice state: the vendor and model together.
    def prompt_count(self, mode: Mode) -> Callable[..., str]:
        def count(text: str, choice: Choice, request: gr.Request) -> str:
            return char_count(text, offered(self.chosen(choice), mode).prompt_max, lang_of(request))

        return count

    def size_verdict(self, mode: Mode) -> Callable[..., str]:
        def verdict(choice: Choice, width: float, height: float, request: gr.Request) -> str:
            return size_check(self.chosen(choice), mode, width, height, lang_of(request))

        return verdict

    def price(self, mode: Mode) -> Callable[..., str]:
        def price(choice: Choice, count: float, request: gr.Request) -> str:
            return price_note(self.chosen(choice), mode, count, lang_of(request)) if choice and choice[0] else ""

        return price

    def prompt(self, mode: Mode, placeholder: Any, provider: gr.Dropdown) -> gr.Textbox:
        """`placeholder`: an example prompt with the Enter hint (a translated label)."""
        # One line to start with: Enter runs and Shift+Enter adds a line (Gradio's rule for lines=1);
        # the box grows with the text.
        return gr.Textbox(
            label=I18N("prompt"),
            placeholder=placeholder,
            lines=1,
            max_lines=12,
            elem_id=f"{mode}-prompt",
        )

    def run_row(self, mode: Mode) -> tuple[gr.Button, gr.Button]:
        with gr.Row(equal_height=True):
            offered_here = mode in self.first.limits
            run = gr.Button(
                I18N("generate"), variant="primary", scale=3, elem_id=f"{mode}-run", interactive=offered_here
            )
            stop = gr.Button(I18N("stop"), variant="stop", scale=1, min_width=80, elem_id=f"{mode}-stop")
        return run, stop

    def counts(
        self, mode: Mode, box: gr.Textbox, choice: gr.State, first_count: int | None = None
    ) -> tuple[gr.Markdown, gr.Markdown]:
        """The prompt's character count and the price estimate, on one small line under Generate;
        `first_count`: the count slider's first value (interleave's is 3, the others' 1)."""
        with gr.Row(elem_classes="meta"):
            limit = offered(self.first, mode).prompt_max
            words = both(lambda lang: char_count("", limit, lang))
            count = gr.Markdown(words, elem_classes="count", elem_id=f"{mode}-count")
            count_value = first_count or (3 if mode is Mode.INTERLEAVE else 1)
            price = both(lambda lang: price_note(self.first, mode, count_value, lang))
            estimate = gr.Markdown(price, elem_classes="count", elem_id=f"{mode}-price")
        box.change(self.prompt_count(mode), [box, choice], count, **RAW_CHECK)  # typed, pasted or filled in
        return count, estimate

    def shape(self, mode: Mode) -> gr.Radio:
        choices = both_choices(lambda lang: size_choices(self.first, mode, lang))
        radio = gr.Radio(choices, value=choices[0][1], label=I18N("shape"), elem_id=f"{mode}-shape")
        # The shape last applied to the size; made here, inside the tab (a State outside any tab
        # would be laid out in the tab bar).
        self._last_shape[mode] = gr.State(choices[0][1])
        return self.follows.keeping(radio, lambda choice, lang, kept: _shape_update(choice, mode, lang, kept))  # type: ignore[no-any-return]

    def negative(self, mode: Mode) -> gr.Textbox:
        def update(choice: Chosen, lang: Lang) -> Any:
            limits = offered(choice, mode)
            label = t("negative_label", lang, limit=limits.negative_max)
            # Emptied where the model has none (Wan 2.7): a hidden text would be sent and refused.
            return (
                gr.update(label=label, visible=True) if limits.negative_prompt else gr.update(visible=False, value="")
            )

        limit = offered(self.first, mode).negative_max
        label = both(lambda lang: t("negative_label", lang, limit=limit))
        box = gr.Textbox(
            "", label=label, placeholder=I18N("negative_placeholder"), max_lines=4, elem_id=f"{mode}-negative"
        )
        return self.follows.worded(box, update)  # type: ignore[no-any-return]

    def exact_size(
        self, mode: Mode, choice: gr.State, visible: bool = True
    ) -> tuple[gr.Group, gr.Number, gr.Number, gr.Markdown]:
        """Width and height as exact numbers (under Advanced), with a verdict on the pair."""
        step = offered(self.first, mode).side_multiple
        with gr.Group(visible=visible) as group:
            with gr.Row():
                w = _bare_number(1280, I18N("width"), f"{mode}-width", step=step)
                h = _bare_number(1280, I18N("height"), f"{mode}-height", step=step)
            verdict = gr.Markdown(
                both(lambda lang: size_check(self.first, mode, 1280, 1280, lang)),
                elem_classes="count",
                elem_id=f"{mode}-size-check",
            )
        for control in (w, h):  # the arrows step by the vendor's multiple; the verdict names its range
            self.follows(control, lambda picked: gr.update(step=offered(picked, mode).side_multiple))
            control.change(self.size_verdict(mode), [choice, w, h], verdict, **RAW_CHECK)
        return group, w, h, verdict

    def shape_sets_size(self, mode: Mode, shape: gr.Radio, choice: gr.State, w: gr.Number, h: gr.Number) -> None:
        """Choosing a shape sets the exact size; a shape that did not really change (a page load or a
        relabelling re-sends the same one) leaves a size the visitor typed alone."""
        last = self._last_shape[mode]

        def sized(shape_value: str, picked: Choice, before: str | None) -> tuple[Any, Any, Any]:
            limits = self.chosen(picked).limits.get(mode)
            size = size_for_ratio(shape_value, limits, mode) if limits and ":" in str(shape_value) else None
            if size is None or shape_value == before:
                return gr.skip(), gr.skip(), shape_value
            return size.width, size.height, shape_value

        shape.change(sized, [shape, choice, last], [w, h, last], **PRIVATE)

    def count_box(self, mode: Mode, label: Any, value: int | None = None) -> gr.Number:
        """How many images; the price line under Generate names the vendor's range when it is broken.
        (Its id still says slider: History and the tests find it by it.)"""
        value = value or (3 if union_limits(mode).max_images else 1)
        return _bare_number(value, label, f"{mode}-count-slider")

    def seed_controls(self, mode: Mode) -> tuple[gr.Checkbox, gr.Number]:
        with gr.Row():
            randomize = gr.Checkbox(value=True, label=I18N("random_seed"), scale=1, elem_id=f"{mode}-random-seed")
            seed = _bare_number(RANDOM_SEED, I18N("seed_box"), f"{mode}-seed", interactive=False, scale=2)
        # A vendor without seeds gets -1 ("random"): nothing pretends a seed is sent. The box's handler
        # answers clicks only, so the seed box is locked here too, as a click on Random would.
        self.follows(randomize, lambda a: _shown_if(_has_seed(a, mode), hidden_value=True))
        self.follows(seed, lambda a: _shown_if(_has_seed(a, mode), hidden_value=RANDOM_SEED, interactive=False))
        return randomize, seed

    def thinking(self, mode: Mode) -> gr.Checkbox:
        """Wan 2.7's thinking mode, on by default; shown only where the model can switch it (the
        request builder sends it only for 2.7, so its hidden value never reaches a 2.6 request)."""
        box = gr.Checkbox(
            value=True,
            label=I18N("thinking"),
            info=I18N("thinking_info"),
            visible=_thinks(self.first, mode),
            elem_id=f"{mode}-thinking",
        )
        return self.follows(box, lambda picked: gr.update(visible=_thinks(picked, mode)))  # type: ignore[no-any-return]

    def switches(self, mode: Mode) -> tuple[gr.Checkbox, gr.Checkbox, gr.State]:
        """Prompt rewriting, the watermark, and running as a task, each where the vendor has it."""
        extend = gr.Checkbox(
            value=True,
            label=I18N("prompt_extend"),
            info=I18N("prompt_extend_info"),
            elem_id=f"{mode}-prompt-extend",
        )
        self.follows(extend, lambda picked: gr.update(visible=offered(picked, mode).prompt_extend))
        watermark = gr.Checkbox(
            value=False, label=I18N("watermark"), info=I18N("watermark_info"), elem_id=f"{mode}-watermark"
        )
        self.follows(watermark, lambda a: _shown_if(offered(a, mode).watermark, hidden_value=False))
        use_task = gr.Checkbox(
            value=False,
            label=I18N("use_task"),
            info=I18N("use_task_info"),
            elem_id=f"{mode}-use-task",
        )
        # Offered only where the vendor has both flows for this mode (Runware's sets go as one direct
        # call); elsewhere its own flow is used.
        self.follows(use_task, lambda a: gr.update(visible=_both_flows(a, mode), value=False))
        task_state = gr.State(False)
        use_task.change(lambda value: value, use_task, task_state, **PRIVATE)
        return extend, watermark, task_state

    def results(
        self, mode: Mode, under_buttons: Callable[[], object] | None = None
    ) -> tuple[gr.Gallery, gr.Markdown, gr.Number, gr.Button, gr.Button]:
        """The results gallery, its buttons and the run's details; `under_buttons` builds what goes
        between the buttons and the details."""
        gallery = gr.Gallery(
            label=I18N("results"),
            elem_id=f"{mode}-results",
            format="png",
            type="filepath",
            columns=2,
            height=RESULTS_HEIGHT,
            object_fit="contain",
            buttons=["download", "download_all", "fullscreen"],
            interactive=False,
            preview=False,
        )
        # The seed used is the API's third output; on the page it is in the details and each caption.
        used_seed = gr.Number(label=I18N("seed_used"), precision=0, interactive=False, visible=False)
        with gr.Row(equal_height=True):
            reuse = gr.Button(I18N("reuse_seed"), size="sm", elem_id=f"{mode}-reuse-seed")
            to_edit = gr.Button(I18N("to_edit"), size="sm", elem_id=f"{mode}-to-edit")
        if under_buttons:
            under_buttons()
        details = gr.Markdown(label=I18N("run_details"), elem_id=f"{mode}-details")
        self.follows(reuse, lambda picked: gr.update(visible=_has_seed(picked, mode)))
        return gallery, details, used_seed, reuse, to_edit

    def unavailable(self, mode: Mode) -> gr.Markdown:
        """The tab's notice when the vendor lacks the mode."""
        notice = gr.Markdown(
            both(lambda lang: mode_unavailable(self.first, mode, lang)),
            visible=mode not in self.first.limits,
            elem_id=f"{mode}-unavailable",
        )
        return self.follows.worded(  # type: ignore[no-any-return]
            notice,
            lambda a, lang: gr.update(value=mode_unavailable(a, mode, lang), visible=mode not in a.limits),
        )

    def notes(self, mode: Mode) -> gr.Markdown:
        """What is different about this vendor in this mode."""
        first_notes = both(lambda lang: vendor_notes(self.first, mode, lang))
        notes = gr.Markdown(first_notes, elem_classes="count", elem_id=f"{mode}-notes")
        return self.follows.worded(notes, lambda picked, lang: vendor_notes(picked, mode, lang))  # type: ignore[no-any-return]


def _shape_update(choice: Chosen, mode: Mode, lang: Lang, kept: Any) -> Any:
    """The vendor's shapes. A shape it offers too is left as the visitor has it, without a value sent:
    one clicked while the page loads (or since this event read it) is not replaced by the first."""
    choices = size_choices(choice, mode, lang)
    if kept in {value for _, value in choices}:
        return gr.update(choices=choices)
    return gr.update(choices=choices, value=choices[0][1] if choices else None)


def _both_flows(chosen: Chosen, mode: Mode) -> bool:
    return len(flows_of(chosen.adapter)) > 1 and not offered(chosen, mode).direct_only


def _bare_number(value: int, label: Any, elem_id: str, **options: Any) -> gr.Number:
    """A whole number with no minimum or maximum of Gradio's: beyond them its page would put the
    nearest bound in the box and send that without a word (a slider does so on blur), and its server
    would refuse the event before our checks ran. Our validator refuses it, naming the field and limit."""
    return gr.Number(value, label=label, precision=0, elem_id=elem_id, **options)


def _thinks(choice: Chosen, mode: Mode) -> bool:
    return mode in choice.limits and offered(choice, mode).thinking


def _has_seed(choice: Chosen, mode: Mode) -> bool:
    return offered(choice, mode).seed is not None


def _shown_if(shown: bool, hidden_value: Any, **hidden: Any) -> Any:
    """Visible, or hidden with the value that sends nothing misleading (and `hidden`'s settings)."""
    return gr.update(visible=True) if shown else gr.update(visible=False, value=hidden_value, **hidden)
