"""What a run's details say once Stop is pressed: the note in place of the step the run was at, and
nothing changed when no run was going on."""

from __future__ import annotations

import re

import gradio as gr

from wan26.ui.i18n import Lang, lang_of, t

RUNNING_MARK = "⏳"  # how the details of a run still going on begin (`PendingRun.markdown`, Compare's summary)


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
