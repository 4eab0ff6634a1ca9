"""The words History shows for a past run: its card's caption and its details, in the visitor's
language. Pure: no gradio.

A prompt is the visitor's own text, shown as text: Markdown's marks in it are escaped."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wan26.history import PastRun
from wan26.providers import PROVIDERS
from wan26.types import ImageSegment, Mode, Model
from wan26.ui.i18n import FLOWS, RUN_STATUSES, STATUS_MARKS, Lang, provider_message, t, translate, worded
from wan26.ui.texts import size_words

TAB_KEYS = {
    Mode.TEXT_TO_IMAGE: "tab_t2i",
    Mode.EDIT: "tab_edit",
    Mode.INTERLEAVE: "tab_interleave",
    Mode.IMAGE_SET: "tab_image_set",
}
ENDED = frozenset({"succeeded", "failed", "stopped"})  # statuses a run writes once it has ended
# A run without such a status may still be writing: a task is polled for 15 minutes at most and an
# image downloaded in 3, so after 20 minutes nothing is writing to its folder any more.
BUSY_FOR = timedelta(minutes=20)
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")
CAPTION_PROMPT = 48  # characters of the prompt on a card
# Models a card names: not 2.6, which every record before 2.7 is; nor a value that is no model of ours.
NAMED_MODELS = {model.value: model.label for model in Model if model is not Model.WAN26}


def tab_name(mode: Mode, lang: Lang = Lang.EN) -> str:
    """The mode as its tab is named."""
    return t(TAB_KEYS[mode], lang)


def zone(name: str | None) -> tzinfo | None:
    """The visitor's time zone as their browser names it; None (the server's) if unknown."""
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: not a zone key at all ("../x")
        return None


def when(run: PastRun, where: tzinfo | None, seconds: bool = False) -> str:
    return run.started_at.astimezone(where).strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))


def vendor_title(name: str | None, lang: Lang = Lang.EN) -> str:
    adapter = next((adapter for key, adapter in PROVIDERS.items() if key == name), None)
    return adapter.facts.title if adapter is not None else (name or t("history_unknown_vendor", lang))


def size_text(size: str | None) -> str:
    return size_words(size) or "?"


def cost_text(cost: float | None, lang: Lang = Lang.EN) -> str:
    return t("history_no_cost", lang) if cost is None else f"${cost:.4f}"


def short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def caption(run: PastRun, where: tzinfo | None, lang: Lang = Lang.EN) -> str:
    """The prompt on its own line, then vendor · model (unless Wan 2.6, which every record before
    2.7 is) · mode · seed · size · cost · time, and how the run ended unless it succeeded."""
    prompt = short(run.prompt, CAPTION_PROMPT) if run.prompt else t("history_prompt_unknown", lang)
    seed = t("history_seed", lang, seed=run.seed) if run.seed is not None else t("history_no_seed", lang)
    cost = t("history_cost_na", lang) if run.cost_usd is None else cost_text(run.cost_usd)
    vendor = vendor_title(run.provider, lang).removeprefix("Alibaba Cloud ")
    model = [NAMED_MODELS[run.wan_model]] if run.wan_model in NAMED_MODELS else []
    facts = [vendor, *model, tab_name(run.mode, lang), seed, size_text(run.size), cost, when(run, where)]
    mark = worded(STATUS_MARKS, run.status, lang)
    return "\n".join([prompt, " · ".join(facts + ([mark] if mark else []))])


def details(run: PastRun, where: tzinfo | None, lang: Lang = Lang.EN) -> str:
    """Everything the record says that a person reads: what was asked, how, and what came back."""
    lines = [f"### {tab_name(run.mode, lang)} · {when(run, where, seconds=True)}"]
    lines.append(t("history_prompt", lang, prompt=_prompt(run, lang)))
    if run.negative_prompt:
        lines.append(t("history_negative", lang, prompt=plain(run.negative_prompt)))
    seed = str(run.seed) if run.seed is not None else t("history_seed_none", lang)
    vendor, size = vendor_title(run.provider, lang), size_text(run.size)
    lines.append(t("history_vendor", lang, vendor=vendor, model=_model(run, lang), seed=seed, size=size))
    cost, status = cost_text(run.cost_usd, lang), _status(run, lang)
    lines.append(t("history_cost", lang, cost=cost, count=len(run.images), status=status))
    lines += _extras(run, lang)
    return "  \n".join(lines)


def _model(run: PastRun, lang: Lang) -> str:
    """The model, and the flow that reached it, after the vendor's name."""
    if not run.model:
        return ""
    if not run.flow:
        return t("history_model", lang, model=run.model)
    return t("history_model_flow", lang, model=run.model, flow=worded(FLOWS, run.flow, lang) or run.flow)


def _prompt(run: PastRun, lang: Lang) -> str:
    if run.prompt is None:
        return t("history_task_fetched", lang)
    return plain(run.prompt) or t("history_empty_prompt", lang)


def _status(run: PastRun, lang: Lang) -> str:
    status = worded(RUN_STATUSES, run.status, lang) or run.status.replace("_", " ")
    if not run.error:
        return status
    return t("history_status_error", lang, status=status, error=plain(provider_message(run.error, lang)))


def _extras(run: PastRun, lang: Lang) -> list[str]:
    lines = [f"ℹ️ {plain(translate(note, lang))}" for note in run.notes]
    if run.reference_images:
        lines.append(t("history_references", lang, count=len(run.reference_images)))
    if run.task_id:
        lines.append(t("history_task_id", lang, id=run.task_id))
    lines.append(t("history_folder", lang, folder=run.run_id))
    if run.mode is Mode.INTERLEAVE and (run.text or run.segments):
        lines.append("\n---\n" + interleaved(run, lang))
    return lines


def interleaved(run: PastRun, lang: Lang = Lang.EN) -> str:
    """The answer's text with each image's place marked, as the run wrote it."""
    if not run.segments:
        return run.text
    marked = [
        f"\n\n{t('history_image_mark', lang, index=s.image_index)}\n\n" if isinstance(s, ImageSegment) else s.text
        for s in run.segments
    ]
    return "".join(marked)


def plain(text: str) -> str:
    """`text` shown as typed, not read as Markdown or HTML."""
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))


def deletable(run: PastRun, now: datetime) -> bool:
    """A run that has ended, or is too old to be still writing its folder."""
    return run.status in ENDED or now - run.started_at > BUSY_FOR


def image_caption(run: PastRun, index: int, lang: Lang = Lang.EN) -> str:
    image = run.images[index]
    seed = t("history_image_seed", lang, seed=image.seed) if image.seed is not None else ""
    return t("history_image", lang, index=image.index, seed=seed, size=f"{image.width}×{image.height}")


def page_line(page: int, pages: int, total: int, own: bool, lang: Lang = Lang.EN) -> str:
    if not total:
        return t("history_empty_own" if own else "history_empty_all", lang)
    runs = t("history_runs" if total != 1 else "history_run", lang, total=total)
    return t("history_page", lang, page=page, pages=pages, runs=runs)
