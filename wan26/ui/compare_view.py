"""The Compare tab's columns as words and pictures: one per vendor (its status, images, time, seed,
cost, what it was not sent, its error) and a line over them all. Pure functions of the comparison."""

from __future__ import annotations

from typing import Any

import gradio as gr

from wan26.compare import (
    Adjustment,
    Change,
    ComparePlan,
    Cost,
    Status,
    VendorEnded,
    VendorOutcome,
    VendorPlan,
)
from wan26.compare.run import CompareEvent
from wan26.errors import InvalidRequest, Violation, Wan26Error
from wan26.pricing import estimate
from wan26.providers import PROVIDERS, get_adapter
from wan26.types import ImageSaved, Progress, SavedImage
from wan26.ui.errors import error_text, error_title
from wan26.ui.gallery import named
from wan26.ui.i18n import Lang, field_label, listed, t, translate
from wan26.ui.runs import progress_text, worth_showing
from wan26.ui.texts import caption, estimate_text, size_words

SLOTS = tuple(PROVIDERS)  # one column per vendor, laid out once; a comparison fills the chosen ones


class Column:
    """One vendor's column while its run goes on, then as it ended."""

    def __init__(self, plan: VendorPlan, prompt: str, lang: Lang) -> None:
        self.plan, self.prompt, self.lang = plan, prompt, lang
        self.step: Progress | None = None
        self.saved: dict[int, SavedImage] = {}
        self.outcome: VendorOutcome | None = None
        self.unseen = False  # a new step, not yet on the page
        self._shown: dict[int, str] = {}  # image index -> the path Gradio shows

    def take(self, event: object) -> bool:
        """True when the page should show `event` at once (an image saved); a step waits for a quiet moment."""
        if isinstance(event, ImageSaved):
            self.saved[event.image.index] = event.image
            return True
        if isinstance(event, Progress) and worth_showing(event, self.plan.request) and event != self.step:
            self.step, self.unseen = event, True
        return False

    def card(self) -> str:
        lines = [t("compare_head", self.lang, vendor=self.plan.title), *self._status()]
        lines += [adjustment_text(adjustment, self.lang) for adjustment in self.plan.adjustments]
        return "  \n".join(lines)

    def outputs(self) -> list[Any]:
        """Its card, and its gallery shown only once it holds an image (a failure's card stands alone)."""
        self.unseen = False
        items = self.gallery()
        return [self.card(), gr.update(value=items, visible=bool(items))]

    def gallery(self) -> list[tuple[str, str]]:
        images = self.outcome.result.images if self.outcome and self.outcome.result else tuple(self.saved.values())
        return [self._item(image) for image in sorted(images, key=lambda image: image.index)]

    def _item(self, image: SavedImage) -> tuple[str, str]:
        # Linked for Gradio once per image: every update of the page would otherwise add a link.
        if image.index not in self._shown:
            self._shown[image.index] = named(image, self.plan.request.mode, self.prompt)
        result = self.outcome.result if self.outcome is not None else None
        words = caption(result, image, self.lang) if result else t("image_n", self.lang, index=image.index)
        return self._shown[image.index], words

    def _status(self) -> list[str]:
        if self.outcome is None:
            expected = estimate_text(
                estimate(get_adapter(self.plan.provider).facts.price_of(self.plan.request.model), self.plan.request),
                self.lang,
            )
            step = progress_text(self.step, self.lang) if self.step else None
            waiting = t("compare_step", self.lang, step=step) if step else t("compare_waiting", self.lang)
            return [waiting, t("compare_expected", self.lang, estimate=expected)]
        return outcome_lines(self.outcome, self.lang)


def outcome_lines(outcome: VendorOutcome, lang: Lang) -> list[str]:
    """How a vendor's run ended: its error first, where the eye lands."""
    if outcome.status is Status.SKIPPED:
        problems = outcome.error.violations if isinstance(outcome.error, InvalidRequest) else ()
        return [t("compare_skipped", lang, vendor=outcome.plan.title), *(problem_text(p, lang) for p in problems)]
    elapsed = f"{outcome.elapsed_s:.1f}"
    if outcome.status is Status.FAILED:
        title, text = failure_words(outcome.error, lang)
        return [t("compare_failed", lang, title=title, elapsed=elapsed), *(f"> {line}" for line in text.splitlines())]
    result = outcome.result
    count = len(result.images) if result else 0
    seeds = seed_text(outcome.seeds, lang)
    done = t("compare_done", lang, count=count, elapsed=elapsed, seed=seeds, cost=cost_text(outcome.cost, lang))
    request_id = [t("compare_request_id", lang, id=result.request_id)] if result and result.request_id else []
    return [done, *request_id]


def failure_words(error: Exception | None, lang: Lang) -> tuple[str, str]:
    """The title and text a visitor reads: the provider's code, hint and request id; never a traceback."""
    if isinstance(error, Wan26Error):
        return error_title(error, lang), error_text(error, lang)
    return t("title_unexpected", lang), t("unexpected", lang, kind=type(error).__name__)


def problem_text(problem: Violation, lang: Lang) -> str:
    return "- " + t(
        "field_message", lang, field=field_label(problem.field, lang), message=translate(problem.message, lang)
    )


def adjustment_text(adjustment: Adjustment, lang: Lang) -> str:
    sized = adjustment.field == "size"  # only a size is rewritten as 1280×1280: other values as typed
    field, asked = field_label(adjustment.field, lang), size_words(adjustment.asked) if sized else adjustment.asked
    reason = translate(adjustment.reason, lang)
    if adjustment.change is Change.NOT_SENT:
        return t("compare_not_sent", lang, field=field, asked=asked)
    if adjustment.sent is None:
        return t("compare_left_to_vendor", lang, field=field, asked=asked, reason=reason)
    sent = size_words(adjustment.sent) if sized else adjustment.sent
    return t("compare_sent_as", lang, field=field, asked=asked, sent=sent, reason=reason)


def seed_text(seeds: tuple[int, ...], lang: Lang) -> str:
    if not seeds:
        return t("compare_no_seed", lang)
    if len(seeds) == 1:
        return t("compare_seed_one", lang, seed=seeds[0])
    return t("compare_seeds", lang, seeds=", ".join(map(str, seeds)))


def cost_text(cost: Cost, lang: Lang) -> str:
    if cost.usd is None:
        return t("compare_cost_unknown", lang)
    if cost.estimated:
        return t("compare_cost_estimate", lang, usd=f"{cost.usd:.3f}")
    return t("compare_cost_reported", lang, usd=f"{cost.usd:.4f}")


class Board:
    """Every column of one comparison, and the line over them; `outputs()` is what the page shows now."""

    def __init__(self, plan: ComparePlan, lang: Lang) -> None:
        self.plan, self.lang = plan, lang
        self.columns = {vendor.provider: Column(vendor, plan.request.prompt, lang) for vendor in plan.vendors}

    @property
    def unseen(self) -> bool:
        """A step changed since the page was last updated: worth showing on a quiet moment."""
        return any(column.unseen for column in self.columns.values())

    def take(self, item: CompareEvent) -> bool:
        """True when the page should be updated at once: a vendor ended, or an image was saved."""
        if isinstance(item, VendorEnded):
            self.columns[item.outcome.provider].outcome = item.outcome
            return True
        return self.columns[item.provider].take(item.event)

    def outputs(self) -> list[Any]:
        """Each slot's card and gallery (empty and hidden for a vendor not compared), then the summary."""
        shown: list[Any] = []
        for name in SLOTS:
            column = self.columns.get(name)
            shown += column.outputs() if column else ["", gr.update(value=[], visible=False)]
        return [*shown, self.summary()]

    def summary(self) -> str:
        outcomes = [column.outcome for column in self.columns.values() if column.outcome is not None]
        if len(outcomes) < len(self.columns):
            return t("compare_running", self.lang, count=len(self.columns))
        return summary_text(self.plan, outcomes, self.lang)


def summary_text(plan: ComparePlan, outcomes: list[VendorOutcome], lang: Lang) -> str:
    done = [outcome for outcome in outcomes if outcome.status is Status.SUCCEEDED]
    costs = [outcome.cost for outcome in outcomes if outcome.cost.usd is not None]
    total = sum(cost.usd or 0.0 for cost in costs)
    key = "compare_total_estimate" if any(cost.estimated for cost in costs) else "compare_total"
    lines = [t("compare_summary", lang, done=len(done), count=len(outcomes), cost=t(key, lang, usd=f"{total:.3f}"))]
    failed = [outcome.plan.title for outcome in outcomes if outcome.status is not Status.SUCCEEDED]
    if failed:
        lines.append(t("compare_summary_failed", lang, vendors=listed(failed, lang)))
    if plan.request.seed is not None and any(outcome.plan.request.seed is not None for outcome in outcomes):
        lines.append(t("compare_shared_seed", lang, seed=plan.request.seed))
    return "  \n".join(lines)
