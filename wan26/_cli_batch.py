"""`python -m wan26 batch JOBS`, once the arguments are parsed (see `wan26.cli` and `wan26.batch`).

Exit codes, as for the other commands: 0 every row done; 1 some row failed, has an unknown
outcome, is still running at its vendor, or was not started (the cost cap); 2 the jobs file or the
setup is invalid (nothing was sent); 130 interrupted. The contact sheet's path goes to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TextIO

from dotenv import find_dotenv, load_dotenv

from wan26._cli_run import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, EXIT_PROVIDER
from wan26.batch import (
    BatchBusy,
    BatchChanged,
    BatchEnded,
    BatchRun,
    Defaults,
    JobsFileError,
    Journal,
    JournalError,
    Plan,
    PlannedRow,
    RowChanged,
    RowRecord,
    RowStatus,
    RunOptions,
    SlowedDown,
    default_clients,
    make_plan,
    read_jobs,
    read_records,
    write_report,
)
from wan26.batch.journal import with_cut_off_as_unknown
from wan26.batch.progress import ProgressLine
from wan26.errors import ConfigError
from wan26.providers import chosen_adapter
from wan26.storage import default_output_dir
from wan26.types import Mode, Model, ProviderName

_LISTED = 20  # rows named per group at the end; index.csv has them all
_RETRY_FLAG = {RowStatus.UNKNOWN: "--retry-unknown", RowStatus.FAILED: "--retry-failed"}


def run_batch(args: argparse.Namespace, err: TextIO | None = None, out: TextIO | None = None) -> int:
    err, out = err or sys.stderr, out or sys.stdout  # the streams of now, not of import time
    load_dotenv(find_dotenv(usecwd=True))  # the .env of the folder the user runs from
    try:
        plan = _checked_plan(args, err)
        if plan is None:
            return EXIT_INVALID
        folder = Path(args.out) if args.out else _default_folder(plan)
    except (JobsFileError, ConfigError) as error:
        print(f"wan26: error: {error}", file=err)
        return EXIT_INVALID
    if args.dry_run:
        _print_plan(plan, folder, out)
        return EXIT_OK
    return _run(plan, folder, _options(args), err, out)


def _default_folder(plan: Plan) -> Path:
    return default_output_dir(os.environ) / f"batch-{plan.jobs_path.stem}"


def _checked_plan(args: argparse.Namespace, err: TextIO) -> Plan | None:
    """The plan, or None after printing every problem of the jobs file (and of --max-cost)."""
    jobs = read_jobs(args.jobs, _defaults(args))
    problems = [str(problem) for problem in jobs.problems]
    plan = make_plan(jobs)
    if args.max_cost is not None and plan.unpriced:
        problems += [
            f"line {row.job.line} (row {row.number}): provider: {row.provider} publishes no price, so "
            "--max-cost cannot bound this row; leave out --max-cost or choose another vendor"
            for row in plan.unpriced
        ]
    if problems:
        print(f"wan26: {jobs.path}: {len(problems)} problem(s); nothing was sent:", file=err)
        print("\n".join(f"  {problem}" for problem in problems), file=err)
        return None
    return plan


def _defaults(args: argparse.Namespace) -> Defaults:
    return Defaults(
        provider=ProviderName(chosen_adapter(args.provider, os.environ).facts.name),  # ConfigError for a bad name
        mode=Mode(args.mode),
        size=args.size,
        n=args.n,
        seed=args.seed,
        negative_prompt=args.negative,
        max_images=args.max_images,
        prompt_extend=args.prompt_extend,
        watermark=args.watermark,
        model=Model(args.model),
    )


def _options(args: argparse.Namespace) -> RunOptions:
    return RunOptions(args.max_cost, args.concurrency, args.retry_unknown, args.retry_failed, args.rate)


def _run(plan: Plan, folder: Path, options: RunOptions, err: TextIO, out: TextIO) -> int:
    try:
        journal = Journal.open(folder)
    except (BatchBusy, JournalError, OSError) as error:
        print(f"wan26: error: {folder}: {error}", file=err)
        return EXIT_INVALID
    try:
        run = BatchRun(plan, journal, default_clients(folder, os.environ), options, folder=folder)
        return _ran(run, plan, folder, err, out)
    except (BatchChanged, ConfigError) as error:
        print(f"wan26: error: {error}", file=err)
        return EXIT_INVALID
    except JournalError as error:  # the batch stopped: what it cannot record, it must not go on sending
        print("\n".join([f"wan26: error: {error}; the batch stopped", *getattr(error, "__notes__", ())]), file=err)
        return EXIT_PROVIDER
    finally:
        journal.close()


def _ran(run: BatchRun, plan: Plan, folder: Path, err: TextIO, out: TextIO) -> int:
    """Run the batch to its end (or Ctrl-C); however it ends, write the index and say what is left."""
    progress = ProgressLine(err)
    interrupted = False
    try:
        asyncio.run(_follow(run, progress))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()
        sheet = _report(folder, plan, run.records, progress)
    if interrupted:
        progress.say("interrupted; run the same command again to go on (no row is sent twice)")
    _summarize(run.records, progress)
    if sheet is not None:
        print(sheet, file=out)
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if all(record.status is RowStatus.DONE for record in run.records) else EXIT_PROVIDER


def _report(folder: Path, plan: Plan, records: list[RowRecord], progress: ProgressLine) -> Path | None:
    """The index and contact sheet; a full disk is said, not raised (the journal still has every row)."""
    try:
        return write_report(folder, plan, records)
    except OSError as error:
        progress.say(f"the index could not be written in {folder} ({error.strerror or error}); the journal keeps it")
        return None


async def _follow(run: BatchRun, progress: ProgressLine) -> None:
    async for event in run.events():
        if isinstance(event, RowChanged) and event.record.status in (RowStatus.FAILED, RowStatus.UNKNOWN):
            progress.say(f"{_row_name(event.record)} {event.record.status.value}: {event.record.error}")
        elif isinstance(event, SlowedDown):
            progress.say(
                f"{event.provider} is rate limiting: waiting {event.pause_s:.0f} s, "
                f"then at most {event.at_once} row(s) at once"
            )
        progress.show(event.tally, force=isinstance(event, BatchEnded))


def _summarize(records: list[RowRecord], progress: ProgressLine) -> None:
    """What is left to do, grouped, with the flag that does it."""
    for status, heading in (
        (RowStatus.UNKNOWN, "outcome unknown, not sent again (may have been billed)"),
        (RowStatus.FAILED, "failed (not billed)"),
        (RowStatus.ACCEPTED, "still running at the vendor; the next run fetches them"),
        (RowStatus.NOT_STARTED, "not started"),
    ):
        rows = [record for record in records if record.status is status]
        if rows:
            flag = f"; {_RETRY_FLAG[status]} sends them again" if status in _RETRY_FLAG else ""
            progress.say(f"{len(rows)} row(s) {heading}{flag}:")
            for record in rows[:_LISTED]:
                progress.say(f"  {_row_name(record)}: {_why(record)}")
            if len(rows) > _LISTED:
                progress.say(f"  and {len(rows) - _LISTED} more (index.csv lists every row)")


def _why(record: RowRecord) -> str:
    if record.error:
        return record.error
    return f"task {record.task_id}" if record.task_id else "not sent yet"


def _row_name(record: RowRecord) -> str:
    return f"row {record.number} (line {record.line}, {record.provider})"


def _print_plan(plan: Plan, folder: Path, out: TextIO) -> None:
    """Every row, its vendor, mode, images and estimate, its state if the batch ran before; the totals."""
    stored = read_records(folder)
    hashes = {row.number: row.row_hash for row in plan.rows}
    same = [r for r in with_cut_off_as_unknown(stored or []) if hashes.get(r.number) == r.row_hash]
    states = {record.number: record.status for record in same}
    header = f"{'row':>4} {'line':>5}  {'vendor':<10} {'mode':<14} {'images':>6} {'estimate':>9}  {'state':<12} prompt"
    print(header, file=out)
    for row in plan.rows:
        print(_plan_line(row, states.get(row.number, RowStatus.NOT_STARTED)), file=out)
    print(_totals(plan, states), file=out)
    if stored is not None and (len(same) != len(stored) or len(stored) != len(plan.rows)):
        print(f"note: {folder} holds a batch started from other rows; running would refuse to mix them", file=out)


def _plan_line(row: PlannedRow, state: RowStatus) -> str:
    usd = "no price" if row.estimate.usd is None else f"${row.estimate.usd:.3f}"
    prompt = " ".join(row.job.request.prompt.split())  # one line, whatever the prompt holds
    prompt = prompt if len(prompt) <= 60 else prompt[:59] + "…"
    return (
        f"{row.number:>4} {row.job.line:>5}  {row.provider:<10} {row.job.request.mode.value:<14} "
        f"{row.estimate.images:>6} {usd:>9}  {state.value:<12} {prompt}"
    )


def _totals(plan: Plan, states: dict[int, RowStatus]) -> str:
    unpriced = plan.unpriced
    line = f"{len(plan.rows)} rows, {plan.images} images; estimated total ${plan.total_usd:.3f}"
    if unpriced:
        vendors = ", ".join(sorted({row.provider for row in unpriced}))
        line += f" (not counted: {len(unpriced)} row(s) at {vendors}, which publish no price)"
    to_send = [row for row in plan.rows if states.get(row.number, RowStatus.NOT_STARTED) is RowStatus.NOT_STARTED]
    if len(to_send) != len(plan.rows):
        line += f"; to send now: {len(to_send)} row(s), ${sum(row.estimate.usd or 0.0 for row in to_send):.3f}"
    return line
