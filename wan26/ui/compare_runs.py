"""The Compare endpoint: one request to the vendors a visitor chose, each run with the visitor's own
key where they gave one, else with the server's, admitted by the owner's spending guard first (as
every run of wan26/ui/runs.py is). A visitor sees only their own comparison: it lives in their
event's answers, and its runs join their own History."""

# No `from __future__ import annotations` here: Gradio reads the endpoint's signature for gr.Request.

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import gradio as gr

from wan26 import Finished, ImageRequest, Mode, Phase, Progress, Wan26Error
from wan26.compare import ComparePlan, NoVendorCanTake, VendorPlan, compare_events, plan_compare
from wan26.compare.plan import grouped_problems
from wan26.errors import ConfigError, InvalidRequest, Violation
from wan26.guard import LimitReached
from wan26.providers import Adapter, get_adapter
from wan26.types import Event, Size, parse_size
from wan26.ui.compare_view import Board
from wan26.ui.errors import ui_error
from wan26.ui.i18n import Lang, lang_of, listed, t, translate
from wan26.ui.inputs import RANDOM_SEED, to_seed, whole_numbers
from wan26.ui.keys import own_key
from wan26.ui.models import DEFAULT_MODEL, model_named
from wan26.ui.owned import MadeRuns
from wan26.ui.quiet import Quiet, with_quiet
from wan26.ui.runs import for_visitor
from wan26.ui.settings import Settings
from wan26.ui.spending import Spend, spent, spent_before
from wan26.ui.stopped import Stopped, StoppedRuns
from wan26.ui.texts import union_limits
from wan26.ui.validation import validation_for
from wan26.ui.vendors import SessionKeys

INPUTS = ["prompt", "providers", "negative_prompt", "size", "n", "seed", "prompt_extend", "watermark", "model"]
DEFAULT_SIZE = "1280x1280"  # one size every vendor takes: each vendor's own default would differ


def compare_request(
    prompt: Any, negative_prompt: Any, size: Any, n: Any, seed: Any, prompt_extend: Any, watermark: Any, model: Any
) -> ImageRequest:
    """From raw inputs; InvalidRequest names a value that is no number, no size or no model of ours."""
    numbers = whole_numbers({"n": n, "seed": RANDOM_SEED if seed is None else seed})
    most = union_limits(Mode.TEXT_TO_IMAGE).n  # what some vendor takes: each is then capped to its own
    if numbers["n"] not in most:
        raise InvalidRequest([Violation("n", f"{numbers['n']} images per run; allowed {most}")])
    return ImageRequest(
        Mode.TEXT_TO_IMAGE,
        str(prompt or ""),
        str(negative_prompt or ""),
        size=_size(size),
        n=numbers["n"],
        seed=to_seed(numbers["seed"]),
        prompt_extend=bool(prompt_extend),
        watermark=bool(watermark),
        model=model_named(model),
    )


def _size(value: Any) -> Size | None:
    try:
        size = parse_size(str(value or DEFAULT_SIZE))
    except ValueError as error:
        raise InvalidRequest([Violation("size", str(error))]) from error
    return size if isinstance(size, Size) else None  # a 1K/2K tier: no text-to-image vendor has one


class CompareRuns:
    """The `compare` endpoint and its validator, with the app's settings."""

    def __init__(self, settings: Settings, made: MadeRuns, stopped: StoppedRuns) -> None:
        self.settings, self.made, self.stopped = settings, made, stopped

    async def compare(
        self,
        prompt: str,
        providers: list[str] | None = None,
        negative_prompt: str = "",
        size: str = DEFAULT_SIZE,
        n: float = 1,
        seed: float = RANDOM_SEED,
        prompt_extend: bool = True,
        watermark: bool = False,
        model: str = DEFAULT_MODEL.value,
        session_keys: SessionKeys | None = None,
        http: gr.Request | None = None,
    ) -> AsyncIterator[list[Any]]:
        """Send one text-to-image request to several vendors at once; each vendor's column as it ends.

        Args:
            prompt: What to draw.
            providers: The vendors to compare (dashscope, aimlapi, runware, shortapi, vtrix), each with a key.
            negative_prompt: What to avoid, up to 500 characters.
            size: Width x height, such as 1280x1280; a vendor that lacks it gets the nearest size it offers.
            n: Images per vendor, 1 to 4 (each is billed).
            seed: 0 to 2147483647, or -1 for one random seed shared by every vendor that takes one.
            prompt_extend: Let the vendors rewrite the prompt for detail.
            watermark: Add the vendor's "AI generated" mark where it offers one.
            model: wan2.6 (default), wan2.7 or wan2.7-pro; a vendor that lacks it says so in its column.
        """
        lang = lang_of(http)
        values = (prompt, providers, negative_prompt, size, n, seed, prompt_extend, watermark, model)
        try:
            plan = self.plan(values, session_keys, http, lang)
        except InvalidRequest as refused:
            raise ui_error(refused, lang) from refused
        board = Board(plan, lang)
        yield board.outputs()
        vendors = VisitorVendors(self, session_keys, http, lang)
        vendors.admit(plan)
        async for item in with_quiet(compare_events(plan, vendors.run)):
            if isinstance(item, Quiet):
                if board.unseen:
                    yield board.outputs()
            elif board.take(item):
                yield board.outputs()

    def plan(
        self, values: tuple[Any, ...], keys: SessionKeys | None, http: gr.Request | None, lang: Lang
    ) -> ComparePlan:
        """Each chosen vendor's request, or one InvalidRequest naming every problem, in the visitor's words."""
        prompt, providers, negative, size, n, seed, extend, mark, model = values
        request = compare_request(prompt, negative, size, n, seed, extend, mark, model)
        chosen = _names(providers)
        missing = [name for name in chosen if not self._keyed(name, keys, http)]
        if not chosen or missing:
            raise _unkeyed(missing, lang)
        try:
            return plan_compare(request, chosen)
        except NoVendorCanTake as refused:
            raise InvalidRequest(refusal(refused.plans, lang)) from refused

    def validator(self) -> Any:
        """Checks the comparison before it is queued: each problem under the input it concerns.
        Async although it never waits: Gradio runs a plain function in a worker thread."""

        async def check(request: gr.Request, *values: Any) -> list[dict[str, Any]]:
            lang, keys = lang_of(request), values[len(INPUTS)] if len(values) > len(INPUTS) else None
            others = [gr.validate(True, "")] * (len(values) - len(INPUTS))
            try:
                self.plan(tuple(values[: len(INPUTS)]), keys, request, lang)
            except InvalidRequest as refused:
                return validation_for(INPUTS, list(refused.violations), lang) + others
            return validation_for(INPUTS, [], lang) + others

        return check

    def _keyed(self, name: str, keys: SessionKeys | None, http: gr.Request | None) -> bool:
        try:
            name = get_adapter(name).facts.name
        except ConfigError:
            return False
        return bool(own_key(name, keys, http)) or name in self.settings.vendors.server_keyed()


def _names(providers: Any) -> list[str]:
    """The vendors chosen: the boxes' list, or an API caller's "a,b,c"; anything else is no choice."""
    if isinstance(providers, str):
        providers = providers.split(",")
    if not isinstance(providers, list | tuple):
        return []
    return [name for name in (str(item).strip() for item in providers) if name]


def _unkeyed(missing: list[str], lang: Lang) -> InvalidRequest:
    """No vendor chosen, or some without a key this visitor can use."""
    if not missing:
        return InvalidRequest([Violation("providers", t("compare_choose", lang))])
    names = listed((_title(name) for name in missing), lang)
    return InvalidRequest([Violation("providers", t("compare_no_key", lang, vendors=names))])


def _title(name: str) -> str:
    try:
        return get_adapter(name).facts.title
    except ConfigError:
        return name[:40]  # a name an API caller made up: quoted back, but short


def refusal(plans: tuple[VendorPlan, ...], lang: Lang) -> list[Violation]:
    """Every vendor's problems once each, in `lang`; one not all of them share names its vendors."""
    found = []
    for problem, titles in grouped_problems(plans):
        message = translate(problem.message, lang)
        if titles:
            message = t("compare_problem_for", lang, message=message, vendors=listed(titles, lang))
        found.append(Violation(problem.field, message))
    return found


class _Watch:
    """What one vendor's run has reached: whether it may have been billed, its task, whether it ended."""

    def __init__(self, adapter: Adapter, spend: Spend) -> None:
        self.adapter, self.spend = adapter, spend
        self.task_id: str | None = None
        self.ended = False

    def see(self, event: Event) -> None:
        if isinstance(event, Progress):
            self.spend.sent |= event.phase not in (Phase.PREPARING, Phase.QUEUED)
            self.task_id = event.task_id or self.task_id
        elif isinstance(event, Finished):
            self.ended = True
            self.spend.settle(spent(self.adapter, event.result))


class VisitorVendors:
    """Each vendor's run for one visitor: their own key where they gave one, else the server's, whose
    runs are admitted by the owner's guard before anything is sent and settled with what they cost."""

    def __init__(self, runs: CompareRuns, keys: SessionKeys | None, http: gr.Request | None, lang: Lang) -> None:
        self.runs, self.settings, self.keys, self.http, self.lang = runs, runs.settings, keys, http, lang
        self.session = http.session_hash if http is not None else None
        self.spends: dict[str, Spend] = {}
        self.refused: dict[str, LimitReached] = {}

    def admit(self, plan: ComparePlan) -> None:
        """Every server-key vendor counted against the owner's limits at once, in the order chosen: one
        the limits refuse is not sent, and its column says why."""
        for vendor in plan.ready:
            if own_key(vendor.provider, self.keys, self.http):
                continue
            spend = self.spends[vendor.provider] = Spend(self.settings.guard)
            try:
                spend.admit(get_adapter(vendor.provider), vendor.request, self.http, self.settings.proxy_hops)
            except LimitReached as refused:
                self.refused[vendor.provider] = refused

    def run(self, provider: str, request: ImageRequest) -> AsyncIterator[Event]:
        if provider in self.refused:
            return _raising(self.refused[provider])
        return self._events(provider, request)

    async def _events(self, provider: str, request: ImageRequest) -> AsyncIterator[Event]:
        adapter, key = get_adapter(provider), own_key(provider, self.keys, self.http)
        watch = _Watch(adapter, self.spends.get(provider) or Spend(self.settings.guard))  # own key: not reserved
        made, client = self.runs.made.start(self.session), None
        try:
            async with self.settings.client(provider, key) as client:
                async for event in client.events(request):
                    watch.see(event)
                    yield event
        except Wan26Error as error:
            watch.ended = True
            watch.spend.settle(spent_before(adapter, request, error))
            shown = for_visitor(error, adapter, bool(key), self.settings.output_dir, self.lang)
            if shown is error:
                raise
            raise shown from error
        finally:
            run_dir = client.run_dir if client is not None else None
            made.done(run_dir)  # into this visitor's History
            self._stopped(watch, key, request, run_dir)

    def _stopped(self, watch: _Watch, key: str | None, request: ImageRequest, sent_in: Path | None) -> None:
        """A run ended by Stop: a task still going at the vendor is followed to its end, as in the other
        tabs (⚙️ → Stopped runs); anything else settles at nothing if nothing was sent."""
        if watch.ended or not (watch.task_id and self.session):
            watch.spend.settle(None if watch.spend.sent else 0.0)
            return
        client_for, prompt = self.settings.client, request.prompt
        asked = (request.mode, watch.spend, prompt, self.lang, request.model)
        stopped = Stopped(watch.adapter, key, client_for, watch.task_id, *asked, sent_in=sent_in)
        self.runs.stopped.follow(stopped, self.session)


async def _raising(error: Exception) -> AsyncIterator[Event]:
    raise error
    yield  # an async generator, so the error is raised where its events are read
