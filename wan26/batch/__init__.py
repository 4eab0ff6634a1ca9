"""Batch: one request per row of a CSV or JSONL file, resumable, each row paid for at most once.

One module per job:

- `fields`    a jobs file's columns, and how each cell becomes a value
- `jobs`      reading the file into rows, and checking each against its vendor's limits (with lines)
- `plan`      each row's flow and estimated cost; the hashes tying a batch folder to its rows
- `state`     a row's statuses (closed set), its journal record, and the batch's tally
- `journal`   the SQLite journal in the batch folder: every row's state, written the moment it is known
- `outcome`   what an error means for a row: sent again later, failed, fetched later, or unknown
- `throttle`  one vendor's pace: rows at once, slowed by rate-limit answers
- `runner`    `BatchRun`: the rows to their vendors, within the cost cap, as a stream of events
- `report`    index.csv, index.jsonl and the contact sheet index.html
- `progress`  the progress line on stderr

From Python (the command line, `python -m wan26 batch`, is `wan26._cli_batch`):

    jobs = read_jobs("jobs.csv", Defaults(provider=ProviderName.RUNWARE))  # jobs.problems: what to fix
    plan = make_plan(jobs)                                                 # plan.total_usd: the estimate
    journal = Journal.open(folder)
    run = BatchRun(plan, journal, default_clients(folder, os.environ), RunOptions(max_cost_usd=5), folder=folder)
    async for event in run.events():  # RowChanged, SlowedDown, then BatchEnded; each has a .tally
        ...
    write_report(folder, plan, run.records)
"""

from wan26.batch.jobs import Defaults, JobRow, Jobs, JobsFileError, Problem, check_row, read_jobs
from wan26.batch.journal import BatchBusy, BatchChanged, Journal, JournalError, read_records
from wan26.batch.plan import Plan, PlannedRow, make_plan, preferred_flow
from wan26.batch.report import write_report
from wan26.batch.runner import (
    BatchEnded,
    BatchEvent,
    BatchRun,
    ClientFactory,
    RowChanged,
    RunOptions,
    SlowedDown,
    default_clients,
    left_by_cap,
)
from wan26.batch.state import RowRecord, RowStatus, Tally

__all__ = [
    "Defaults",
    "JobRow",
    "Jobs",
    "JobsFileError",
    "Problem",
    "check_row",
    "read_jobs",
    "Plan",
    "PlannedRow",
    "make_plan",
    "preferred_flow",
    "Journal",
    "JournalError",
    "BatchBusy",
    "BatchChanged",
    "read_records",
    "BatchRun",
    "RunOptions",
    "ClientFactory",
    "default_clients",
    "left_by_cap",
    "BatchEvent",
    "RowChanged",
    "SlowedDown",
    "BatchEnded",
    "RowRecord",
    "RowStatus",
    "Tally",
    "write_report",
]
