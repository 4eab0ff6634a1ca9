"""`python -m wan26 compare`: one request to several vendors at once. Progress goes to stderr, a
table to stdout; every vendor's run folder is saved inside one folder for the comparison, beside
its compare.json.

Exit codes: 0 every vendor succeeded; 1 a vendor failed, or was left out because the request could
not be adapted for it; 2 invalid input or configuration (nothing was sent); 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from wan26._cli_run import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, request_from
from wan26._cli_run import EXIT_PROVIDER as EXIT_FAILED
from wan26._run.checks import check_output_folder
from wan26.client import AsyncClient
from wan26.compare import (
    CompareEvent,
    ComparePlan,
    Comparison,
    Status,
    VendorEnded,
    VendorEvent,
    VendorOutcome,
    comparison_json,
    plan_compare,
    run_compare,
    write_record,
)
from wan26.compare.record import error_json
from wan26.errors import ConfigError, InvalidRequest, ProviderError
from wan26.pricing import estimate
from wan26.providers import PROVIDERS, get_adapter
from wan26.storage import RunFolder, default_output_dir
from wan26.types import ImageSaved, Mode, Progress

if TYPE_CHECKING:
    from wan26.compare.left import VendorLeft

_HEADINGS = ("vendor", "status", "time", "seed", "cost", "files or error")


def compare_command(args: argparse.Namespace) -> int:
    err = sys.stderr
    try:
        plan = plan_compare(request_from(args, Mode.TEXT_TO_IMAGE), args.providers or _keyed(os.environ))
        output_dir = Path(args.out) if args.out else default_output_dir(os.environ)
        folder = RunFolder(output_dir, "compare")
        check_output_folder(folder, output_dir)
    except (ConfigError, InvalidRequest) as error:
        return _refused(error, args.json)
    try:
        return asyncio.run(_compare(plan, folder.path, args.json))
    except KeyboardInterrupt:
        print("wan26: interrupted; a request already sent may still finish and be billed.", file=err)
        _interrupted(folder.path, args.json)
        return EXIT_INTERRUPTED


def _interrupted(folder: Path, as_json: bool) -> None:
    """Each vendor's images saved, task still running (with the command that saves it later) and
    image addresses not saved, read from the records its run wrote as it stopped."""
    from wan26.compare.left import left_in  # only when interrupted: a comparison's start does not pay for it

    left = left_in(folder)
    lines = [line for vendor in left for line in _told(vendor)]
    if any(vendor.images for vendor in left):
        lines.append(f"wan26: what was saved is in {folder}")
    if lines:
        print("\n".join(lines), file=sys.stderr, flush=True)
    if as_json:
        error = {"type": "Interrupted", "message": "interrupted"}
        print(json.dumps({"error": error, "run_dir": str(folder), "vendors": [vendor.json() for vendor in left]}))


def _told(vendor: VendorLeft) -> list[str]:
    said = f"wan26: [{vendor.provider}]"
    lines = [f"{said} {len(vendor.images)} image(s) saved in {vendor.run_dir}"] if vendor.images else []
    if vendor.task_id:  # not ended when stopped: it may still finish, and be billed
        how = f"save it within 24 h with: {vendor.fetch}" if vendor.fetch else "fetch it within 24 h"
        lines.append(f"{said} task id {vendor.task_id}; {how}")
    if vendor.urls:
        lines.append(f"{said} not saved; fetch these yourself before they expire (24 h):")
        lines += [f"  {url}" for url in vendor.urls]
    return lines


def _keyed(env: Mapping[str, str]) -> list[str]:
    """Every vendor whose key is set; none is a setup problem worth its own message."""
    keyed = [name.value for name, adapter in PROVIDERS.items() if (env.get(adapter.facts.key_env) or "").strip()]
    if not keyed:
        variables = ", ".join(adapter.facts.key_env for adapter in PROVIDERS.values())
        raise ConfigError(
            f"No vendor key is set: set one or more of {variables} (or a .env file), or name --providers."
        )
    return keyed


async def _compare(plan: ComparePlan, folder: Path, as_json: bool) -> int:
    """Every client is made before anything is sent: a vendor without a key refuses the whole comparison."""
    async with AsyncExitStack() as stack:
        try:
            clients = {
                vendor.provider: await stack.enter_async_context(
                    AsyncClient(vendor.provider, output_dir=folder / vendor.provider)
                )
                for vendor in plan.ready
            }
        except ConfigError as error:
            return _refused(error, as_json)
        _announce(plan)
        comparison = await run_compare(plan, lambda name, request: clients[name].events(request), _progress)
    record = write_record(folder, comparison)
    _report(comparison, record, as_json)
    return EXIT_OK if comparison.all_succeeded else EXIT_FAILED


def _refused(error: Exception, as_json: bool) -> int:
    print(f"wan26: error: {error}", file=sys.stderr)
    if as_json:
        print(json.dumps({"error": error_json(error)}, ensure_ascii=False))
    return EXIT_INVALID


def _announce(plan: ComparePlan, err: TextIO = sys.stderr) -> None:
    for vendor in plan.vendors:
        if vendor.ready:
            expected = estimate(get_adapter(vendor.provider).facts.price_of(vendor.request.model), vendor.request)
            print(f"wan26: [{vendor.provider}] estimated cost: {expected}", file=err)
        for adjustment in vendor.adjustments:
            print(f"wan26: [{vendor.provider}] {adjustment}", file=err)
    print(f"wan26: sending to {', '.join(v.provider for v in plan.ready)} at once", file=err, flush=True)


def _progress(item: CompareEvent, err: TextIO = sys.stderr) -> None:
    if isinstance(item, VendorEvent) and isinstance(item.event, Progress):
        print(f"wan26: [{item.provider}] {item.event.message}", file=err, flush=True)
    elif isinstance(item, VendorEvent) and isinstance(item.event, ImageSaved):
        print(f"wan26: [{item.provider}] saved {item.event.image.path}", file=err, flush=True)
    elif isinstance(item, VendorEnded):
        outcome = item.outcome
        print(f"wan26: [{outcome.provider}] {outcome.status} after {outcome.elapsed_s:.1f} s", file=err, flush=True)


def _report(comparison: Comparison, record: Path, as_json: bool) -> None:
    if as_json:
        print(json.dumps(comparison_json(comparison, record.parent) | {"record": str(record)}, ensure_ascii=False))
        return
    print(table([_row(outcome) for outcome in comparison.outcomes]))
    for outcome in comparison.outcomes:
        for line in _details(outcome):
            print(line)
    print(f"\nSaved in {record.parent} (each vendor's run folder, and {record.name})")


def table(rows: Sequence[Sequence[str]]) -> str:
    """Rows under `_HEADINGS`, each column as wide as its widest cell (the last one left free)."""
    lines = [_HEADINGS, *rows]
    widths = [max(len(line[column]) for line in lines) for column in range(len(_HEADINGS) - 1)]
    return "\n".join("  ".join([*map(str.ljust, line[:-1], widths), line[-1]]) for line in lines)


def _row(outcome: VendorOutcome) -> tuple[str, ...]:
    ran = outcome.status is not Status.SKIPPED
    seeds = ", ".join(map(str, outcome.seeds)) or ("none" if outcome.result else "-")
    elapsed = f"{outcome.elapsed_s:.1f} s" if ran else "-"
    cost = str(outcome.cost) if outcome.cost.usd is not None else "-"
    return (outcome.provider, outcome.status.value, elapsed, seeds, cost, _files_or_error(outcome))


def _files_or_error(outcome: VendorOutcome) -> str:
    if outcome.result is not None:  # one folder: its path once, then the other files' names
        paths = [image.path for image in outcome.result.images]
        return ", ".join([str(paths[0]), *(path.name for path in paths[1:])]) if paths else "no images"
    error = outcome.error
    if isinstance(error, ProviderError):
        code = f" [{error.code}]" if error.code else ""
        status = f" (HTTP {error.status_code})" if error.status_code else ""
        request_id = f"; request id {error.request_id}" if error.request_id else ""
        return f"error: {error.title}{code}{status}{request_id}"
    if isinstance(error, InvalidRequest):
        return "left out: " + "; ".join(str(violation) for violation in error.violations)
    return f"error: {error}"


def _details(outcome: VendorOutcome) -> list[str]:
    """What the table has no room for: each adjustment, and a failure's whole message (its hint)."""
    lines = [f"  adapted: {adjustment}" for adjustment in outcome.plan.adjustments]
    if outcome.status is Status.FAILED:
        lines += [f"  {line}" for line in str(outcome.error).splitlines()]
    return [f"\n{outcome.provider}:", *lines] if lines else []
