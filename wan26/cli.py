"""`python -m wan26`: the package from a shell. Progress goes to stderr, results to stdout.

Exit codes: 0 success; 1 the provider or the network failed, or --timeout passed; 2 invalid input
or configuration (nothing was sent); 130 interrupted (`compare`: 1 when any vendor failed or was left
out). However a run ends, every image the provider
made is either saved or its URL is printed, and a task still running is named with its fetch command.
`batch` (`wan26._cli_batch`) keeps to the same codes: 1 when some row failed, has an unknown outcome
or was not started (the cost cap), and 0 only when every row is done.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO, TypeVar, cast

from wan26.types import (
    Box,
    Mode,
    Model,
    PaletteColor,
    ProviderName,
    Size,
    SizeTier,
    parse_box,
    parse_palette_color,
    parse_size,
)

_N = TypeVar("_N", int, float)
_T = TypeVar("_T")
_MODELS = [model.value for model in Model]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stdout, sys.stdout = sys.stdout, cast(TextIO, _QuietWhenClosed(sys.stdout))
    try:
        # Loaded only now: `--help` and a mistyped option answer without paying for httpx and Pillow.
        if args.command == "batch":
            from wan26._cli_batch import run_batch

            return run_batch(args)
        from wan26._cli_run import run_command

        return run_command(args)
    finally:
        sys.stdout = stdout


class _QuietWhenClosed:
    """Standard output that goes quiet once its reader has gone (`... | head -1`) rather than end
    the run: what is paid for is still saved, and stderr still says where. Python ignores SIGPIPE, so
    such a write fails with BrokenPipeError (https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream, self._reader_gone = stream, False

    def write(self, text: str) -> int:
        if not self._reader_gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self) -> None:
        if not self._reader_gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone()

    def _gone(self) -> None:
        self._reader_gone = True
        # What is still buffered would fail again when Python flushes stdout at exit: it goes nowhere.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _count(text: str) -> int:
    """A whole number of images, 1 or more; the vendor's own upper limit is checked with the request."""
    value = _number(text, int, "a whole number")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    return _positive(text, "seconds")


def _per_second(text: str) -> float:
    return _positive(text, "per second")


def _positive(text: str, unit: str) -> float:
    value = _number(text, float, f"a number ({unit})")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0 {unit}, not {text}")
    return value


def _number(text: str, convert: Callable[[str], _N], what: str) -> _N:
    try:
        return convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}") from None


def _usd(text: str) -> float:
    value = _number(text, float, "an amount in US dollars")
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more dollars, not {text}")
    return value


def _size(text: str) -> Size | SizeTier:
    return _parsed(parse_size, text)


def _color(text: str) -> PaletteColor:
    return _parsed(parse_palette_color, text)


def _box(text: str) -> Box:
    return _parsed(parse_box, text)


def _parsed(parse: Callable[[str], _T], text: str) -> _T:
    try:
        return parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m wan26", description="Generate images with Wan 2.6 and 2.7 Image.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    text_to_image = _add_generation(
        commands, Mode.TEXT_TO_IMAGE, "text to image", "W×H, e.g. 1280x1280; 2.7: 1K/2K, 4K on Pro"
    )
    _add_thinking(text_to_image)
    _add_palette(text_to_image)
    edit = _add_generation(commands, Mode.EDIT, "edit with reference images", "W×H, or 1K/2K where offered")
    _add_references(edit, required=True)
    _add_palette(edit)
    edit.add_argument(
        "--box",
        type=_box,
        action="append",
        metavar="IMAGE:X1,Y1,X2,Y2",
        help="Wan 2.7: edit only inside this box of reference IMAGE (1 for the first), in its own pixels as it "
        "looks upright; repeat for more (at most 2 per image)",
    )
    interleave = _add_generation(
        commands, Mode.INTERLEAVE, "text and images together, streamed", "W×H; default: follow the input image"
    )
    interleave.add_argument("--image", action="append", metavar="PATH_OR_URL", help="optional input image")
    interleave.add_argument("--max-images", type=_count, default=5, help="at most this many images, 1–5 (default 5)")
    image_set = _add_generation(
        commands, Mode.IMAGE_SET, "a set of images that belong together (Wan 2.7)", "1K/2K or W×H (default 2K)"
    )
    _add_references(image_set, required=False)
    _add_fetch(commands)
    _add_batch(commands)
    _add_compare(commands)
    commands.add_parser("providers", help="list the vendors, whether their key is set, and their limits")
    return parser


def _add_generation(commands: Any, mode: Mode, summary: str, size_help: str) -> argparse.ArgumentParser:
    command = commands.add_parser(mode.value, help=summary, description=f"Wan: {summary}.")
    command.add_argument("prompt", help="what to make; say 'image 1', 'image 2' to refer to reference images")
    command.add_argument("--size", type=_size, help=size_help)
    _add_model(command, Model.WAN27 if mode is Mode.IMAGE_SET else Model.WAN26)
    if mode is Mode.IMAGE_SET:
        command.add_argument(
            "-n",
            type=_count,
            default=4,  # the vendor's default is 12, each one made billed: a smaller set unless asked
            help="at most this many images, 1–12; the model decides (default 4; each made is billed)",
        )
    elif mode is not Mode.INTERLEAVE:
        command.add_argument("-n", type=_count, default=1, help="images per run (default 1; each is billed)")
        command.add_argument(
            "--no-prompt-extend",
            dest="prompt_extend",
            action="store_false",
            help="send the prompt as written, without the provider's rewriting",
        )
    # What a mode has no option for, as request_from reads it (a default set here would override the option's).
    command.set_defaults(prompt_extend=True, max_images=5, image=None, thinking=None, palette=None, box=None)
    if mode is Mode.INTERLEAVE:
        command.set_defaults(n=1)
    command.add_argument("--seed", type=int, help="0–2147483647 where the vendor takes one; default: random")
    command.add_argument("--negative", default="", metavar="TEXT", help="what to avoid (≤500 characters; not in 2.7)")
    command.add_argument("--watermark", action="store_true", help="add the provider's 'AI generated' mark")
    command.add_argument(
        "--async",
        dest="use_task",
        action="store_true",
        help="submit a task and poll it, instead of one long direct call (task-only vendors always do)",
    )
    _add_common(command)
    return command  # type: ignore[no-any-return]  # argparse's add_parser is typed as returning Any here


def _add_model(command: argparse.ArgumentParser, default: Model) -> None:
    command.add_argument(
        "--model",
        choices=_MODELS,
        default=default.value,
        help=f"the Wan model (default {default.value}); `providers` lists which vendor serves which",
    )


def _add_references(command: argparse.ArgumentParser, required: bool) -> None:
    command.add_argument(
        "--image",
        action="append",
        required=required,
        metavar="PATH_OR_URL",
        help="reference image; repeat for more, in order (image 1, image 2, …; 2.6: 1–4, 2.7: up to 9); "
        "some vendors take URLs only",
    )


def _add_thinking(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--thinking",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Wan 2.7: think longer for a better image, or not (default: the vendor's, on)",
    )


def _add_palette(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--palette",
        type=_color,
        nargs="+",
        metavar="#RRGGBB:PCT",
        help="Wan 2.7: 3–10 colours for the image to follow, each with its share; the shares make 100, "
        "e.g. --palette '#C2D1E6:60' '#636574:25' '#CBD4E4:15'",
    )


def _add_fetch(commands: Any) -> None:
    fetch = commands.add_parser("fetch", help="save the result of a task submitted earlier (ids last 24 h)")
    fetch.add_argument("task_id")
    fetch.add_argument(
        "--mode",
        choices=[mode.value for mode in Mode],
        required=True,
        help="the mode the task was submitted in (the timeout message names it)",
    )
    fetch.add_argument(
        "--model", choices=_MODELS, help="the model the task was made with (default wan2.6; wan2.7 for image_set)"
    )
    _add_common(fetch)


def _add_batch(commands: Any) -> None:
    batch = commands.add_parser(
        "batch",
        help="one request per row of a CSV or JSONL file; run again to resume (no row is paid twice)",
        description="Wan 2.6: every row of a jobs file, checked first, resumable. Options give the rows' defaults.",
    )
    batch.add_argument("jobs", metavar="JOBS", help="a .csv or .jsonl file (see README: Batch)")
    batch.add_argument(
        "--mode", choices=[mode.value for mode in Mode], default=Mode.TEXT_TO_IMAGE.value, help="default text_to_image"
    )
    batch.add_argument("--size", type=_size, help="W×H, or 1K/2K in edit")
    batch.add_argument("-n", type=_count, default=1, help="images per row (default 1; each is billed)")
    batch.add_argument("--seed", type=int, help="default: a random seed per row, recorded")
    batch.add_argument("--negative", default="", metavar="TEXT", help="what to avoid")
    batch.add_argument("--max-images", type=_count, default=5, help="interleave rows: at most this many images")
    batch.add_argument("--no-prompt-extend", dest="prompt_extend", action="store_false", help="send prompts as written")
    batch.add_argument("--watermark", action="store_true", help="add the provider's 'AI generated' mark")
    batch.add_argument("--provider", choices=[name.value for name in ProviderName], help="for rows that name no vendor")
    _add_model(batch, Model.WAN26)
    batch.add_argument("--out", metavar="DIR", help="the batch folder (default: <output dir>/batch-<JOBS name>)")
    batch.add_argument("--max-cost", type=_usd, metavar="USD", help="start no row that would take the batch past this")
    batch.add_argument("--concurrency", type=_count, metavar="N", help="rows at once per vendor (default: its cap)")
    batch.add_argument(
        "--rate", type=_per_second, metavar="N", help="rows started per second per vendor (default: its documented)"
    )
    batch.add_argument("--dry-run", action="store_true", help="print the plan and its estimated cost; send nothing")
    batch.add_argument(
        "--retry-unknown", action="store_true", help="send again rows whose outcome is unknown (they may be billed)"
    )
    batch.add_argument("--retry-failed", action="store_true", help="send again rows that failed (not billed)")


def _providers(text: str) -> list[str]:
    """`a,b,c`: vendor names, each known, in the order given."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in ProviderName.__members__.values()]
    known = ", ".join(name.value for name in ProviderName)
    if not names:
        raise argparse.ArgumentTypeError(f"names no vendor; give one or more of: {known}, with commas between")
    if unknown:
        raise argparse.ArgumentTypeError(f"{', '.join(unknown)} is not one of: {known}")
    return names


def _add_compare(commands: Any) -> None:
    summary = "one text-to-image request sent to several vendors at once, side by side"
    compare = commands.add_parser("compare", help=summary, description=f"Wan 2.6: {summary}.")
    compare.add_argument("prompt", help="what to make")
    compare.add_argument(
        "--providers",
        type=_providers,
        metavar="A,B,C",
        help="the vendors, comma-separated (default: every vendor whose key is set)",
    )
    # One explicit size every vendor takes: a vendor's own default would differ from the others'.
    compare.add_argument("--size", type=_size, default=Size(1280, 1280), help="W×H (default 1280x1280)")
    compare.add_argument("-n", type=_count, default=1, help="images per vendor (default 1; each is billed)")
    compare.add_argument("--seed", type=int, help="0–2147483647; default: one random seed shared by every vendor")
    compare.add_argument("--negative", default="", metavar="TEXT", help="what to avoid (≤500 characters)")
    compare.add_argument("--watermark", action="store_true", help="add the vendor's 'AI generated' mark")
    compare.add_argument("--no-prompt-extend", dest="prompt_extend", action="store_false", help="no prompt rewriting")
    compare.add_argument(
        "--out", metavar="DIR", help="where the compare folder goes (default: $WAN26_OUTPUT_DIR or outputs/)"
    )
    compare.add_argument("--json", action="store_true", help="print one JSON object on stdout at the end")
    _add_model(compare, Model.WAN26)
    compare.set_defaults(image=None, max_images=5)  # what a text-to-image request has but compare does not ask


def _add_common(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--provider",
        choices=[name.value for name in ProviderName],
        default=None,
        help="the API vendor (default: $WAN26_PROVIDER, else the first with a key); `providers` lists their limits",
    )
    command.add_argument("--out", metavar="DIR", help="where runs are saved (default: $WAN26_OUTPUT_DIR or outputs/)")
    command.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="give up on the whole run after this long (a task still running is named with its fetch command)",
    )
    command.add_argument("--json", action="store_true", help="print one JSON object on stdout at the end")
