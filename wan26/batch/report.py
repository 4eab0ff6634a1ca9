"""The batch's index, rewritten at the end of every run: `index.csv` and `index.jsonl` (one entry
per row: status, files, seed, cost, ids, error) and `index.html`, a contact sheet of thumbnails
with their prompts. Files are named relative to the batch folder, so the folder can be moved,
zipped or served as it is. The journal stays the record of truth; these are views of it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from urllib.parse import quote

from wan26.batch.plan import Plan
from wan26.batch.state import RowRecord, RowStatus
from wan26.storage import write_atomically

INDEX_CSV, INDEX_JSONL, CONTACT_SHEET = "index.csv", "index.jsonl", "index.html"
COLUMNS = (
    "row",
    "line",
    "status",
    "provider",
    "mode",
    "prompt",
    "files",
    "seed",
    "cost_usd",
    "estimate_usd",
    "request_id",
    "task_id",
    "run_dir",
    "error",
)
_FILE_SEPARATOR = " | "  # between files in one CSV cell, as in a jobs file's `images`


def index_entries(plan: Plan, records: Sequence[RowRecord]) -> list[dict[str, object]]:
    """One entry per row, in order; the prompt comes from the jobs file (the journal keeps no prompts)."""
    prompts = {row.number: row.job.request.prompt for row in plan.rows}
    return [_entry(record, prompts.get(record.number, "")) for record in records]


def _entry(record: RowRecord, prompt: str) -> dict[str, object]:
    return {
        "row": record.number,
        "line": record.line,
        "status": record.status.value,
        "provider": record.provider,
        "mode": record.mode,
        "prompt": prompt,
        "files": list(record.files),
        "seed": record.seed,
        "cost_usd": record.cost_usd,
        "estimate_usd": record.estimate_usd,
        "request_id": record.request_id,
        "task_id": record.task_id,
        "run_dir": record.run_dir,
        "error": record.error,
    }


def write_report(folder: Path, plan: Plan, records: Sequence[RowRecord]) -> Path:
    """Write the three views into `folder`; the contact sheet's path."""
    entries = index_entries(plan, records)
    write_atomically(folder / INDEX_CSV, index_csv(entries).encode(), durable=False)
    write_atomically(folder / INDEX_JSONL, index_jsonl(entries).encode(), durable=False)
    sheet = folder / CONTACT_SHEET
    spent = sum(record.spent_usd for record in records)
    write_atomically(sheet, contact_sheet(plan.jobs_path.name, entries, spent).encode(), durable=False)
    return sheet


def index_csv(entries: Sequence[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        writer.writerow([_cell(name, entry[name]) for name in COLUMNS])
    return out.getvalue()


def _cell(name: str, value: object) -> object:
    if name == "files" and isinstance(value, list):
        return _FILE_SEPARATOR.join(str(part) for part in value)
    return "" if value is None else value


def index_jsonl(entries: Sequence[dict[str, object]]) -> str:
    return "".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in entries)


# ---- the contact sheet ----------------------------------------------------------------------------

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;background:#fafafa;color:#222}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:1rem}
.card{background:#fff;border:1px solid #ddd;border-left:6px solid #999;border-radius:6px;padding:.7rem}
.card.done{border-left-color:#2a9d4b}.card.failed{border-left-color:#c0392b}
.card.unknown{border-left-color:#e67e22}.card.accepted{border-left-color:#2c7be5}
.thumbs{display:flex;flex-wrap:wrap;gap:4px}.thumbs img{width:120px;height:120px;object-fit:cover;border-radius:3px}
.prompt{white-space:pre-wrap}.facts{color:#666;font-size:12px}.error{color:#a33;font-size:12px}
"""


def contact_sheet(title: str, entries: Sequence[dict[str, object]], spent_usd: float) -> str:
    """A static page: one card per row. Every text is escaped; every link is relative."""
    cards = "\n".join(_card(entry) for entry in entries)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Batch {escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f'<h1>Batch {escape(title)}</h1>\n<p class="summary">{escape(_summary(entries, spent_usd))}</p>\n'
        f'<main class="grid">\n{cards}\n</main>\n</body>\n</html>\n'
    )


def _summary(entries: Sequence[dict[str, object]], spent_usd: float) -> str:
    counts = {status: sum(entry["status"] == status.value for entry in entries) for status in RowStatus}
    parts = ", ".join(f"{count} {status.value.replace('_', ' ')}" for status, count in counts.items() if count)
    images = sum(len(entry["files"]) for entry in entries if isinstance(entry["files"], list))
    return f"{len(entries)} rows: {parts}; {images} images; ${spent_usd:.3f} spent (reported, else estimated)"


def _card(entry: dict[str, object]) -> str:
    row, status = entry["row"], str(entry["status"])
    files = entry["files"] if isinstance(entry["files"], list) else []
    thumbs = "".join(_thumb(str(path), f"row {row}, image {n}") for n, path in enumerate(files, start=1))
    error = entry["error"]
    return (
        f'<article class="card {escape(status)}" id="row-{row}">\n'
        f'<header><strong>Row {row}</strong> · <span class="status">{escape(status.replace("_", " "))}</span>'
        f"</header>\n"
        f'<div class="thumbs">{thumbs}</div>\n'
        f'<p class="prompt">{escape(str(entry["prompt"]))}</p>\n'
        f'<p class="facts">{escape(_facts(entry))}</p>\n'
        + (f'<p class="error">{escape(str(error))}</p>\n' if error else "")
        + "</article>"
    )


def _thumb(path: str, label: str) -> str:
    href = escape(_link(path), quote=True)
    return f'<a href="{href}"><img src="{href}" alt="{escape(label, quote=True)}" loading="lazy"></a>'


def _link(path: str) -> str:
    """A relative URL for a file named from the batch folder (an absolute path becomes a file: URL)."""
    as_path = Path(path)
    return as_path.as_uri() if as_path.is_absolute() else quote(as_path.as_posix())


def _facts(entry: dict[str, object]) -> str:
    parts = [str(entry["provider"]), str(entry["mode"]).replace("_", " ")]
    if entry["cost_usd"] is not None:
        parts.append(f"${entry['cost_usd']:.4f} reported")
    elif entry["estimate_usd"] is not None:
        parts.append(f"≈ ${entry['estimate_usd']:.3f} estimated")
    if entry["seed"] is not None:
        parts.append(f"seed {entry['seed']}")
    parts.append(f"line {entry['line']}")
    return " · ".join(parts)
