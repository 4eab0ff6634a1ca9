"""What a run's details say once Stop is pressed: the note in place of the step the run was at, and
nothing changed when no run was going on."""

from __future__ import annotations

import json
import re
from typing import Any

import gradio as gr

from wan26.ui.controls import PRIVATE
from wan26.ui.i18n import Lang, lang_of, t
from wan26.ui.in_view import SHOWN_INDICATOR

RUNNING_MARK = "⏳"  # how the details of a run still going on begin (`PendingRun.markdown`, Compare's summary)


def stop_with_note(triggers: list[Any], run: Any, results: gr.components.Component, details: gr.Markdown) -> Any:
    """Stop (any of `triggers`) cancels the event `run`, then says so in `details`; the event that says it.

    A run waiting in line, or not yet at its first update, has not changed its details: they still
    show the run before it (or nothing), and a Stop there would change nothing the visitor can see.
    Gradio's indicator on `results` shows that a run is under way, so the click marks such details
    as running (in the browser, before the cancellation hides the indicator), and the note follows."""
    if results.elem_id is None:
        raise ValueError("the results need an elem_id to be found in the page")
    marked = _marked_js(results.elem_id)
    mark = gr.on(triggers, None, details, details, cancels=[run], js=marked, api_visibility="private")
    # The note after the cancellation, so that the run's last update cannot land on top of it.
    return mark.then(stopped_note, details, details, **PRIVATE)


def _marked_js(results_id: str) -> str:
    return f"""(details) => {{
  const results = document.getElementById({json.dumps(results_id)});
  const shown = results && results.querySelector({json.dumps(SHOWN_INDICATOR)});
  const underWay = shown && !shown.querySelector('.error');  // waiting in line or running, not failed
  return underWay && !(details || '').startsWith({json.dumps(RUNNING_MARK)}) ? {json.dumps(RUNNING_MARK)} : details;
}}"""


def stopped_note(details: str | None, request: gr.Request | None = None) -> str:
    """Said where the run's details are, keeping the links and task id the run had listed. Details
    that show no run going on (a finished or failed run's, or none yet) are left as they are: Stop
    pressed then stopped nothing."""
    if not (details or "").startswith(RUNNING_MARK):
        return details or ""
    lang = lang_of(request)
    kept = [stopped_line(line.strip(), lang) for line in (details or "").split("\n")[1:] if line.strip()]
    return "  \n".join([t("stopped_note", lang), *kept])


def stopped_line(line: str, lang: Lang) -> str:
    """A line of the stopped run's details: its task id without the advice on stopping, which the
    note now gives."""
    task = _PENDING_TASK[lang].fullmatch(line)
    return t("stopped_task", lang, task=task["task"]) if task else line


def _pattern(lang: Lang) -> re.Pattern[str]:
    return re.compile(re.escape(t("pending_task", lang, task="TASK0ID")).replace("TASK0ID", "(?P<task>[^`]+)"))


_PENDING_TASK = {lang: _pattern(lang) for lang in Lang}
