"""A comparison as plain JSON: the record beside its vendors' run folders (compare.json), and what
`python -m wan26 compare --json` prints. Never a key: only what the runs and errors report."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from wan26.compare.run import Comparison, VendorOutcome
from wan26.errors import InvalidRequest, ProviderError
from wan26.storage import readable_json, write_atomically
from wan26.types import ImageRequest

RECORD_NAME = "compare.json"


def write_record(folder: Path, comparison: Comparison) -> Path:
    path = folder / RECORD_NAME
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(path, readable_json(comparison_json(comparison, folder)).encode(), durable=False)
    return path


def comparison_json(comparison: Comparison, folder: Path | None = None) -> dict[str, Any]:
    return {
        "folder": None if folder is None else str(folder),
        "request": request_json(comparison.plan.request),
        "all_succeeded": comparison.all_succeeded,
        "vendors": [outcome_json(outcome) for outcome in comparison.outcomes],
    }


def request_json(request: ImageRequest) -> dict[str, Any]:
    return request.settings() | {"references": len(request.images)}  # how many, never their data


def outcome_json(outcome: VendorOutcome) -> dict[str, Any]:
    result, cost = outcome.result, outcome.cost
    return {
        "provider": outcome.provider,
        "status": outcome.status.value,
        "elapsed_s": round(outcome.elapsed_s, 3),
        "seeds": list(outcome.seeds),
        "cost_usd": cost.usd,
        "cost_estimated": cost.estimated,
        "sent": request_json(outcome.plan.request),
        "not_sent_as_asked": [asdict(adjustment) for adjustment in outcome.plan.adjustments],
        "images": [str(image.path) for image in result.images] if result else [],
        "run_dir": str(result.run_dir) if result else None,
        "request_id": result.request_id if result else None,
        "task_id": result.task_id if result else None,
        "error": None if outcome.error is None else error_json(outcome.error),
    }


def error_json(error: Exception) -> dict[str, Any]:
    facts: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, ProviderError):
        facts |= {"code": error.code, "hint": error.hint, "request_id": error.request_id, "task_id": error.task_id}
        facts["urls"] = list(error.urls)  # images made but not saved: their links work for about 24 hours
    if isinstance(error, InvalidRequest):
        facts["violations"] = [{"field": v.field, "message": v.message} for v in error.violations]
    return facts
