"""Reading a jobs file (CSV or JSON Lines) into rows, and checking each row against its vendor's
limits before anything is sent. Every problem is reported with its line, all at once.

A row is one `ImageRequest` for one vendor. Cells left empty take the command line's defaults
(`Defaults`), so a file can hold prompts alone.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar, cast

from wan26.batch import fields
from wan26.errors import InvalidRequest, Violation
from wan26.images import ImageRules, header_upright_sizes, is_web_url, size_problems
from wan26.limits import boxes_outside, violations, with_default_size
from wan26.providers import PROVIDERS
from wan26.types import ImageRequest, Mode, Model, ProviderName, Size, SizeTier

_T = TypeVar("_T")
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}

Locate = Callable[[str], str]
"""Where one reference, as the file gives it, is read from: a URL as it is, else a file's path;
ValueError refuses it. The command line reads paths from the jobs file's folder; the app reads no
path at all (only URLs and the images uploaded with the file)."""


class JobsFileError(Exception):
    """The file cannot be read as a jobs file at all (missing, not CSV or JSONL, no rows)."""


@dataclass(frozen=True, slots=True)
class Defaults:
    """What a row gets for a cell it leaves empty: the command line's options."""

    provider: ProviderName = ProviderName.DASHSCOPE
    mode: Mode = Mode.TEXT_TO_IMAGE
    size: Size | SizeTier | None = None
    n: int = 1
    seed: int | None = None
    negative_prompt: str = ""
    max_images: int = 5
    prompt_extend: bool = True
    watermark: bool = False
    model: Model = Model.WAN26


@dataclass(frozen=True, slots=True)
class JobRow:
    number: int  # 1-based among the rows
    line: int  # the line of the file the row starts on
    provider: ProviderName
    request: ImageRequest  # its local references found from the jobs file's folder
    references: tuple[str, ...] = ()  # as the file gives them: what the row's hash covers


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the file, where it is: its line, its row (None: the header) and field."""

    line: int
    field: str
    message: str
    row: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" + ("" if self.row is None else f" (row {self.row})")
        return f"{where}: {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class Jobs:
    path: Path
    rows: tuple[JobRow, ...]
    problems: tuple[Problem, ...] = ()


@dataclass(slots=True)
class _Record:
    """One row's cells as read, before conversion."""

    number: int
    line: int
    cells: dict[str, object] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    readable: bool = True  # False: not even its cells could be read (a line that is not JSON)


def read_jobs(path: str | Path, defaults: Defaults = Defaults(), locate: Locate | None = None) -> Jobs:
    """Every row of `path` with every problem found in it; a row with problems is left out of `rows`.
    `locate` places each reference (default: a relative path is read from the jobs file's folder)."""
    path = Path(path)
    records, problems = _read(path)
    rows = []
    for record in records:
        row, found = _row(record, defaults, locate or _from_folder(path.parent))
        problems += found
        if row is not None and not found:
            rows.append(row)
    return Jobs(path, tuple(rows), tuple(problems))


def _read(path: Path) -> tuple[list[_Record], list[Problem]]:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise JobsFileError(f"{path.name}: a jobs file must end in .csv or .jsonl")
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: a spreadsheet's byte-order mark is not a column name
    except (OSError, UnicodeDecodeError) as exc:
        raise JobsFileError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    records, problems = _csv_records(text) if kind == "csv" else _jsonl_records(text)
    if not records and not problems:
        raise JobsFileError(f"{path.name} has no rows")
    return records, problems


def _csv_records(text: str) -> tuple[list[_Record], list[Problem]]:
    reader = csv.reader(io.StringIO(text, newline=""))  # newline="": line breaks inside quoted cells stay
    header = [fields.column_name(name) for name in next(reader, [])]
    problems = [_unknown(name, 1) for name in header if name not in fields.FIELDS]
    records: list[_Record] = []
    line = reader.line_num + 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            records.append(_csv_record(len(records) + 1, line, header, cells))
        line = reader.line_num + 1  # a quoted cell may span lines: the next row starts after them
    return records, problems


def _csv_record(number: int, line: int, header: list[str], cells: list[str]) -> _Record:
    record = _Record(number, line, {name: cell for name, cell in zip(header, cells, strict=False) if name})
    if len(cells) > len(header):
        message = f"has {len(cells)} cells; the header names {len(header)} columns"
        record.problems.append(Problem(line, "columns", message, number))
    return record


def _jsonl_records(text: str) -> tuple[list[_Record], list[Problem]]:
    records: list[_Record] = []
    # split("\n"), not splitlines(): JSON text may hold U+2028 and other breaks splitlines() would cut at.
    for line, raw in enumerate(text.split("\n"), start=1):
        if raw.strip():
            records.append(_jsonl_record(len(records) + 1, line, raw))
    return records, []


def _jsonl_record(number: int, line: int, raw: str) -> _Record:
    record = _Record(number, line)
    try:
        value = json.loads(raw)
    except ValueError as exc:
        record.problems.append(Problem(line, "json", f"not valid JSON ({exc})", number))
        record.readable = False
        return record
    if not isinstance(value, dict):
        record.problems.append(Problem(line, "json", "each line must be one JSON object", number))
        record.readable = False
        return record
    for key, cell in value.items():
        name = fields.column_name(str(key))
        if name in fields.FIELDS:
            record.cells[name] = cell
        else:
            record.problems.append(_unknown(str(key), line, number))
    return record


def _unknown(name: str, line: int, row: int | None = None) -> Problem:
    return Problem(line, name or "(empty)", f"unknown column; the columns are: {', '.join(fields.FIELDS)}", row)


def _from_folder(base: Path) -> Locate:
    return lambda reference: fields.located((reference,), base)[0]


def _row(record: _Record, defaults: Defaults, locate: Locate) -> tuple[JobRow | None, list[Problem]]:
    """The row (None when it has problems), and its problems: its columns', its cells', its
    references', and (once every cell reads) its vendor's limits."""
    values, found = _values(record)
    if found or not record.readable:
        return None, [*record.problems, *found]
    references: tuple[str, ...] = _given(values, "images", ())
    images, refused = _located(record, references, locate)
    if refused:  # the limits would look at the images left, and miscount them
        return None, [*record.problems, *refused]
    provider = _given(values, "provider", defaults.provider)
    request = replace(_request(values, defaults), images=images)
    row = JobRow(record.number, record.line, provider, request, references)
    found = [Problem(record.line, v.field, v.message, record.number) for v in check_row(row)]
    return (None if record.problems else row), [*record.problems, *found]


def _located(record: _Record, references: tuple[str, ...], locate: Locate) -> tuple[tuple[str, ...], list[Problem]]:
    """Each reference where it is read from, and a problem (field `image N`) for each refused."""
    images, refused = [], []
    for number, reference in enumerate(references, start=1):
        try:
            images.append(locate(reference))
        except ValueError as exc:
            refused.append(Problem(record.line, f"image {number}", str(exc), record.number))
    return tuple(images), refused


def _values(record: _Record) -> tuple[dict[str, object], list[Problem]]:
    values: dict[str, object] = {}
    found = []
    for name, cell in record.cells.items():
        if fields.is_empty(cell):
            continue
        try:
            values[name] = fields.CONVERTERS[name](cell)
        except ValueError as exc:
            found.append(Problem(record.line, name, str(exc), record.number))
    return values, found


def _request(values: dict[str, object], defaults: Defaults) -> ImageRequest:
    """The row's request: its own values where it gives them (each already converted), else the defaults."""
    return ImageRequest(
        _given(values, "mode", defaults.mode),
        _given(values, "prompt", ""),
        negative_prompt=_given(values, "negative_prompt", defaults.negative_prompt),
        images=_given(values, "images", ()),
        size=_given(values, "size", defaults.size),
        n=_given(values, "n", defaults.n),
        max_images=_given(values, "max_images", defaults.max_images),
        seed=_given(values, "seed", defaults.seed),
        prompt_extend=_given(values, "prompt_extend", defaults.prompt_extend),
        watermark=_given(values, "watermark", defaults.watermark),
        model=_given(values, "model", defaults.model),
        thinking=_given(values, "thinking", None),
        palette=_given(values, "palette", ()),
        boxes=_given(values, "boxes", ()),
    )


def _given(values: dict[str, object], name: str, default: _T) -> _T:
    # `fields.CONVERTERS[name]` made the value, and it returns the type of the default.
    return cast(_T, values.get(name, default))


def check_row(row: JobRow) -> list[Violation]:
    """Everything the vendor would refuse, found before sending: limits, and each reference image's
    form and file (read from its header only; the run prepares it fully)."""
    facts, model = PROVIDERS[row.provider].facts, row.request.model
    try:
        limits = facts.checked_limits(model, row.request.mode)
    except InvalidRequest as refused:
        return list(refused.violations)
    request, rules = with_default_size(row.request, limits), facts.image_rules_of(model)
    sizes = header_upright_sizes(request.images) if request.boxes else []  # opened again only for boxes
    outside = boxes_outside(request.boxes, sizes, rules.max_side)
    return [*violations(request, limits), *_reference_problems(request.images, rules), *outside]


def _reference_problems(images: tuple[object, ...], rules: ImageRules) -> Iterator[Violation]:
    for number, image in enumerate(images, start=1):
        name = f"image {number}"
        reference = str(image)
        if "://" in reference:
            if not is_web_url(reference):
                yield Violation(name, f"{reference!r} is not a complete http(s) URL")
        elif not rules.accepts_local:
            yield Violation(name, "this vendor takes image URLs only; put the image online and give its https:// URL")
        elif Path(reference).is_dir():
            yield Violation(name, f"is a folder, not an image file: {reference}")  # as images.py says it
        elif not Path(reference).is_file():
            yield Violation(name, f"file not found: {reference}")
        else:
            yield from (Violation(name, v.message) for v in size_problems([reference], rules))
