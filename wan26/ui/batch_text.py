"""The Batch tab's words: the table of a jobs file's rows, the verdict above it, the progress of a
running batch and how it ended. Pure functions of the batch's data, in the visitor's language."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from wan26.batch import BatchEnded, Jobs, Plan, PlannedRow, Problem, RowRecord, RowStatus, Tally, left_by_cap
from wan26.batch.progress import duration
from wan26.providers import get_adapter
from wan26.ui.batch_keys import Lack, Payers
from wan26.ui.i18n import Lang, batch_message, field_label, listed, t
from wan26.ui.texts import MODE_KEYS

COLUMNS = ("row", "line", "vendor", "mode", "prompt", "images", "estimate", "check")
LISTED = 12  # problems, or rows that did not finish, named above the table; the rest are in it (or in index.csv)
PROMPT_CHARS = 80
BAR = 16  # the progress bar's cells
NOTED = (RowStatus.FAILED, RowStatus.UNKNOWN, RowStatus.ACCEPTED, RowStatus.NOT_STARTED)


def vendor_title(name: str) -> str:
    return get_adapter(name).facts.title


def usd(value: float) -> str:
    return f"{value:.3f}"


# ---- before running: the table and its verdict -----------------------------------------------------


def plan_table(jobs: Jobs, plan: Plan, lang: Lang) -> dict[str, Any]:
    """One line per row of the file, in order: a planned row's vendor, mode, prompt, images and
    estimate; a refused row's problems, each with its field."""
    lines = {row.number: _planned(row, lang) for row in plan.rows}
    for problem in jobs.problems:
        if problem.row is not None:
            line = lines.setdefault(problem.row, [str(problem.row), str(problem.line), *[""] * 5, ""])
            line[-1] = "; ".join(part for part in (line[-1], "⛔ " + _problem_text(problem, lang)) if part)
    headers = [t(f"batch_col_{column}", lang) for column in COLUMNS]
    return {"headers": headers, "data": [lines[number] for number in sorted(lines)]}


def _planned(row: PlannedRow, lang: Lang) -> list[str]:
    request, expected = row.job.request, row.estimate
    prompt = " ".join(request.prompt.split())
    prompt = prompt if len(prompt) <= PROMPT_CHARS else prompt[: PROMPT_CHARS - 1] + "…"
    if expected.usd is None:
        cost = t("batch_no_price", lang)
    else:
        cost = t("batch_up_to" if expected.at_most else "batch_usd", lang, usd=usd(expected.usd))
    mode = t(MODE_KEYS[request.mode], lang)
    return [
        str(row.number),
        str(row.job.line),
        vendor_title(row.provider),
        mode,
        prompt,
        str(expected.images),
        cost,
        "✅",
    ]


def _problem_text(problem: Problem, lang: Lang) -> str:
    return t(
        "field_message", lang, field=field_label(problem.field, lang), message=batch_message(problem.message, lang)
    )


def problem_line(problem: Problem, lang: Lang) -> str:
    """ "line 4 (row 3) · image 2: …", for the list above the table."""
    row = t("batch_problem_row", lang, row=problem.row) if problem.row is not None else ""
    return t("batch_problem", lang, line=problem.line, row=row, text=_problem_text(problem, lang))


def problems_text(problems: Sequence[Problem], refusals: Sequence[str], lang: Lang) -> str:
    """The verdict on a file that cannot run: every refusal of the whole batch, then its problems."""
    count = len(problems) + len(refusals)
    head = t("batch_problems", lang, count=count) if problems else t("batch_not_ready", lang)  # the file is fine
    lines = [head, *(f"- {refusal}" for refusal in refusals)]
    lines += [f"- {problem_line(problem, lang)}" for problem in problems[:LISTED]]
    if len(problems) > LISTED:
        lines.append(t("batch_more_problems", lang, count=len(problems) - LISTED))
    return "\n".join(lines)


def ready_text(plan: Plan, paying: Payers, cap_usd: float | None, lang: Lang, most_usd: float | None = None) -> str:
    """The verdict on a file that can run: its size, its estimate, the visitor's cap (`most_usd`)
    and whose keys pay."""
    unpriced = plan.unpriced
    note = ""
    if unpriced:
        vendors = listed(sorted({vendor_title(row.provider) for row in unpriced}), lang)
        note = t("batch_unpriced", lang, count=len(unpriced), vendors=vendors)
    head = t("batch_ready", lang, rows=len(plan.rows), images=plan.images, usd=usd(plan.total_usd), unpriced=note)
    own = [t("batch_own_key", lang, vendor=vendor_title(vendor)) for vendor in paying.own]
    cap = t("batch_server_cap", lang, cap=f"{cap_usd:.2f}") if cap_usd is not None else ""
    server = [t("batch_server_key", lang, vendor=vendor_title(vendor)) + cap for vendor in paying.server]
    payers = t("batch_paid_by", lang, payers=listed([*own, *server], lang))
    most = [t("batch_most", lang, cap=f"{most_usd:.2f}")] if most_usd is not None else []
    return "  \n".join([head, *most, payers, t("batch_press_run", lang)])


def key_refusals(plan: Plan, paying: Payers, lang: Lang) -> list[str]:
    """A line per vendor whose rows have no key to run with, naming the rows and the way on."""
    refusals = []
    for vendor, lack in paying.missing.items():
        rows = listed([str(row.number) for row in plan.rows if row.provider == vendor][:LISTED], lang)
        key = "batch_space_key" if lack is Lack.SPACE else "batch_no_key"
        refusals.append(t(key, lang, vendor=vendor_title(vendor), rows=rows))
    return refusals


def unbounded_refusals(plan: Plan, lang: Lang) -> list[str]:
    """A line per vendor with no published price: a cap on spending cannot bound its rows."""
    refusals = []
    for vendor in sorted({row.provider for row in plan.unpriced}):
        rows = listed([str(row.number) for row in plan.unpriced if row.provider == vendor][:LISTED], lang)
        refusals.append(t("batch_cap_unpriced", lang, vendor=vendor_title(vendor), rows=rows))
    return refusals


def cap_refusal(server_usd: float, cap_usd: float, lang: Lang) -> str:
    return t("batch_over_cap", lang, usd=usd(server_usd), cap=f"{cap_usd:.2f}")


# ---- while running, and after ---------------------------------------------------------------------


def progress_text(tally: Tally, lang: Lang) -> str:
    """ "**7 / 12 rows** ▰▰▰▱▱ 6 done (1 failed, 2 running) · 9 image(s) · $0.210 spent · about 1m40s left"."""
    ended = tally.done + tally.failed + tally.unknown
    filled = round(BAR * ended / tally.total) if tally.total else BAR
    counts = (("batch_failed_n", tally.failed), ("batch_unknown_n", tally.unknown), ("batch_running_n", tally.running))
    parts = [t(key, lang, count=count) for key, count in counts if count]
    others = t("batch_others", lang, parts=listed(parts, lang)) if parts else ""
    waiting = tally.committed_usd - tally.spent_usd
    under_way = t("batch_under_way", lang, usd=usd(waiting)) if waiting > 1e-9 else ""
    eta = t("batch_eta", lang, time=duration(tally.eta_s)) if tally.eta_s else ""
    return t(
        "batch_progress",
        lang,
        ended=ended,
        total=tally.total,
        bar="▰" * filled + "▱" * (BAR - filled),
        done=tally.done,
        others=others,
        images=tally.images,
        spent=usd(tally.spent_usd),
        under_way=under_way,
        eta=eta,
    )


def row_notes(records: Iterable[RowRecord], lang: Lang, hidden: Path, ended: bool = False) -> list[str]:
    """A line for each row that went wrong, with why: its error names the vendor's code, hint,
    request id and any image link not saved. Once the batch has `ended`, also each task still
    running at its vendor, by its id. The server's folder `hidden` is not named."""
    noted = [record for record in records if _noted(record, ended)]
    lines = [f"- {_note(record, lang, hidden)}" for record in noted[:LISTED]]
    if len(noted) > LISTED:
        lines.append(t("batch_more_notes", lang, count=len(noted) - LISTED))
    return lines


def _noted(record: RowRecord, ended: bool) -> bool:
    if record.status is RowStatus.ACCEPTED:
        return ended  # while the batch runs, a task accepted is on its way
    return record.status in NOTED and bool(record.error)


def _note(record: RowRecord, lang: Lang, hidden: Path) -> str:
    row = t("batch_row", lang, row=record.number, line=record.line, vendor=vendor_title(record.provider))
    if left_by_cap(record):  # the flag means nothing on the page
        return t("batch_note_capped", lang, row=row)
    error = batch_message(hide_folder(record.error or "", hidden), lang)
    if record.status is RowStatus.ACCEPTED:
        return t("batch_note_accepted", lang, row=row, task=record.task_id or "")
    return t(f"batch_note_{record.status.value}", lang, row=row, error=error)


def hide_folder(text: str, folder: Path) -> str:
    """`text` without the server's folder in it (a hint may name where files were saved)."""
    return text.replace(str(folder), t("server_output_folder", Lang.EN))  # translated with the rest


def ended_text(ended: BatchEnded, lang: Lang) -> str:
    tally = ended.tally
    values = {"rows": tally.total, "done": tally.done, "images": tally.images, "spent": usd(tally.spent_usd)}
    if ended.stopped:
        return t("batch_stopped", lang, not_started=tally.not_started, **values)
    return t("batch_done" if tally.done == tally.total else "batch_ended", lang, **values)
