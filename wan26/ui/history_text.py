"""The words History shows for a past run: its card's caption and its details. Pure: no gradio.

A prompt is the visitor's own text, shown as text: Markdown's marks in it are escaped."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wan26.history import PastRun
from wan26.providers import PROVIDERS
from wan26.types import ImageSegment, Mode
from wan26.ui.texts import size_words

TAB_NAMES = {Mode.TEXT_TO_IMAGE: "Text to image", Mode.EDIT: "Edit", Mode.INTERLEAVE: "Interleaved"}
ENDED = frozenset({"succeeded", "failed", "stopped"})  # statuses a run writes once it has ended
# A run without such a status may still be writing: a task is polled for 15 minutes at most and an
# image downloaded in 3, so after 20 minutes nothing is writing to its folder any more.
BUSY_FOR = timedelta(minutes=20)
STATUS_MARKS = {"failed": "⚠️ failed", "stopped": "⏹ stopped", "still_running": "⏳ task unfinished"}
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")
CAPTION_PROMPT = 48  # characters of the prompt on a card


def zone(name: str | None) -> tzinfo | None:
    """The visitor's time zone as their browser names it; None (the server's) if unknown."""
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: not a zone key at all ("../x")
        return None


def when(run: PastRun, where: tzinfo | None, seconds: bool = False) -> str:
    return run.started_at.astimezone(where).strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))


def vendor_title(name: str | None) -> str:
    adapter = next((adapter for key, adapter in PROVIDERS.items() if key == name), None)
    return adapter.facts.title if adapter is not None else (name or "unknown vendor")


def size_text(size: str | None) -> str:
    return size_words(size) or "?"


def cost_text(cost: float | None) -> str:
    return "no cost reported" if cost is None else f"${cost:.4f}"


def short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def caption(run: PastRun, where: tzinfo | None) -> str:
    """The prompt on its own line, then vendor · mode · seed · size · cost · time, and how the run
    ended unless it succeeded."""
    prompt = short(run.prompt, CAPTION_PROMPT) if run.prompt else "(prompt not known)"
    seed = f"seed {run.seed}" if run.seed is not None else "no seed"
    cost = "cost n/a" if run.cost_usd is None else cost_text(run.cost_usd)
    facts = [vendor_title(run.provider).removeprefix("Alibaba Cloud "), TAB_NAMES[run.mode], seed, size_text(run.size)]
    facts.append(cost)
    mark = STATUS_MARKS.get(run.status)
    return "\n".join([prompt, " · ".join([*facts, when(run, where)] + ([mark] if mark else []))])


def details(run: PastRun, where: tzinfo | None) -> str:
    """Everything the record says that a person reads: what was asked, how, and what came back."""
    lines = [f"### {TAB_NAMES[run.mode]} · {when(run, where, seconds=True)}", f"**Prompt:** {_prompt(run)}"]
    if run.negative_prompt:
        lines.append(f"**Negative prompt:** {plain(run.negative_prompt)}")
    model = f" (`{run.model}`{', ' + run.flow if run.flow else ''})" if run.model else ""
    seed = str(run.seed) if run.seed is not None else "none sent"
    size = size_text(run.size)
    lines.append(f"**Vendor:** {vendor_title(run.provider)}{model} · **Seed:** {seed} · **Size:** {size}")
    lines.append(f"**Cost:** {cost_text(run.cost_usd)} · **Images:** {len(run.images)} · **Status:** {_status(run)}")
    lines += _extras(run)
    return "  \n".join(lines)


def _prompt(run: PastRun) -> str:
    if run.prompt is None:
        return "*not known: the run saved a task fetched by its id*"
    return plain(run.prompt) or "*empty*"


def _status(run: PastRun) -> str:
    status = run.status.replace("_", " ")
    return f"{status}: {plain(run.error)}" if run.error else status


def _extras(run: PastRun) -> list[str]:
    lines = [f"ℹ️ {plain(note)}" for note in run.notes]
    if run.reference_images:
        lines.append(f"**References:** {len(run.reference_images)} (not kept with the run)")
    if run.task_id:
        lines.append(f"**Task id:** `{run.task_id}`")
    lines.append(f"**Run folder:** `{run.run_id}`")
    if run.mode is Mode.INTERLEAVE and (run.text or run.segments):
        lines.append("\n---\n" + interleaved(run))
    return lines


def interleaved(run: PastRun) -> str:
    """The answer's text with each image's place marked, as the run wrote it."""
    if not run.segments:
        return run.text
    parts = [f"\n\n*[image {s.image_index}]*\n\n" if isinstance(s, ImageSegment) else s.text for s in run.segments]
    return "".join(parts)


def plain(text: str) -> str:
    """`text` shown as typed, not read as Markdown or HTML."""
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))


def deletable(run: PastRun, now: datetime) -> bool:
    """A run that has ended, or is too old to be still writing its folder."""
    return run.status in ENDED or now - run.started_at > BUSY_FOR


def image_caption(run: PastRun, index: int) -> str:
    image = run.images[index]
    seed = f"seed {image.seed} · " if image.seed is not None else ""
    return f"image {image.index} · {seed}{image.width}×{image.height}"


def page_line(page: int, pages: int, total: int, own: bool) -> str:
    if not total:
        where = "in this browser" if own else "in the output folder"
        return f"No saved runs {where} yet: what you generate appears here."
    runs = f"{total} run{'s' if total != 1 else ''}, newest first"
    return f"Page {page} of {pages} · {runs} · select one for its details and actions"
