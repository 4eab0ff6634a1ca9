"""The commands of `python -m wan26`, run once the arguments are parsed (see `wan26.cli`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from dotenv import find_dotenv, load_dotenv

from wan26._http import Timeouts
from wan26._poll import PollPolicy
from wan26.client import AsyncClient, fetch_command
from wan26.errors import ConfigError, InvalidRequest, ProviderError
from wan26.limits import describe
from wan26.pricing import estimate
from wan26.providers import PROVIDERS, flows_of
from wan26.providers._base import ModelOffer
from wan26.types import (
    Event,
    Finished,
    Flow,
    GenerationResult,
    ImageOffered,
    ImageRequest,
    ImageSaved,
    Mode,
    Model,
    Phase,
    Progress,
    TextDelta,
)

EXIT_OK, EXIT_PROVIDER, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130


def run_command(args: argparse.Namespace) -> int:
    load_dotenv(find_dotenv(usecwd=True))  # the .env of the folder the user runs from
    if args.command == "providers":
        return _list_providers()
    if args.command == "compare":
        from wan26._cli_compare import compare_command  # it builds on this module

        return compare_command(args)
    printer = _Printer(args.json, streams_text=args.command == Mode.INTERLEAVE.value)
    try:
        return asyncio.run(_run(args, printer))
    except KeyboardInterrupt:
        return printer.ended_early("interrupted", EXIT_INTERRUPTED, "Interrupted")


async def _run(args: argparse.Namespace, printer: _Printer) -> int:
    try:
        async with asyncio.timeout(args.timeout), _client(args) as client:
            printer.mode, printer.provider = (
                Mode(args.mode if args.command == "fetch" else args.command),
                client.adapter.facts.name,
            )
            printer.model = _model(args)
            printer.run_dir = lambda: client.run_dir
            if args.command == "fetch":
                result = await client.fetch(args.task_id, Mode(args.mode), printer.model, on_event=printer.show)
            else:
                flow = Flow.TASK if args.use_task else None
                request = request_from(args, Mode(args.command))
                facts = client.adapter.facts
                printer.estimate(facts.title, str(estimate(facts.price_of(request.model), request)))
                result = await client.generate(request, flow=flow, on_event=printer.show)
    except (ConfigError, InvalidRequest) as error:
        return printer.failed(error, EXIT_INVALID)
    except ProviderError as error:
        return printer.failed(error, EXIT_PROVIDER)
    except TimeoutError:
        return printer.ended_early(f"gave up after {args.timeout:g} s (--timeout)", EXIT_PROVIDER, "TimedOut")
    except Exception as error:  # noqa: BLE001 (a user sees one line, never a traceback)
        return printer.ended_early(f"unexpected {type(error).__name__}: {error}", EXIT_PROVIDER, "InternalError")
    printer.finished(result)
    return EXIT_OK


def _model(args: argparse.Namespace) -> Model:
    """--model; for `fetch` without it, the model its mode implies (only 2.7 makes image sets)."""
    if args.model is None:
        return Model.WAN27 if args.command == "fetch" and args.mode == Mode.IMAGE_SET else Model.WAN26
    return Model(args.model)


def _client(args: argparse.Namespace) -> AsyncClient:
    """A client whose own deadlines fall within --timeout (which `_run` enforces on the whole run)."""
    if args.timeout is None:
        return AsyncClient(args.provider, output_dir=args.out)
    timeouts = Timeouts(total=min(Timeouts().total, args.timeout))
    return AsyncClient(args.provider, output_dir=args.out, timeouts=timeouts, poll=PollPolicy(deadline=args.timeout))


def _list_providers() -> int:
    """Every vendor, whether its key is set, and for each model it serves what each mode accepts: all
    read from the adapters."""
    for adapter in PROVIDERS.values():
        facts = adapter.facts
        key = "set" if os.environ.get(facts.key_env) else "not set"
        flows = ", ".join(sorted(flows_of(adapter))) + f" (default {facts.default_flow})"
        print(f"{facts.name}: {facts.title}; {facts.key_env} {key}; flows {flows}")
        for model, offer in facts.offers.items():
            _list_offer(model, offer)
        if unserved := [model.label for model in Model if model not in facts.offers]:
            print(f"  not served: {', '.join(unserved)}")
    return EXIT_OK


def _list_offer(model: Model, offer: ModelOffer) -> None:
    price = offer.price.per_image_usd
    shown_price = f"${price:.3f}/image" if price else "no published price"
    images = "" if offer.image_rules.accepts_local else "; reference images as http(s) URLs only"
    print(f"  {model.label} (--model {model.value}): {shown_price}{images}")
    for mode, limits in offer.limits.items():
        print(f"    {mode} ({offer.ids[mode]}): {describe(limits)}")
    if missing := [mode.value for mode in Mode if mode not in offer.limits]:
        print(f"    not offered: {', '.join(missing)}")


def request_from(args: argparse.Namespace, mode: Mode) -> ImageRequest:
    """The request a generation command's arguments describe (compare's too: its parser sets the rest)."""
    images = tuple(args.image or ())
    return ImageRequest(
        mode,
        args.prompt,
        negative_prompt=args.negative,
        images=images,
        size=args.size,
        n=args.n,
        max_images=args.max_images,
        seed=args.seed,
        prompt_extend=args.prompt_extend,
        watermark=args.watermark,
        model=Model(getattr(args, "model", Model.WAN26.value)),
        thinking=getattr(args, "thinking", None),
        palette=tuple(getattr(args, "palette", None) or ()),
        boxes=tuple(getattr(args, "box", None) or ()),
    )


class _Printer:
    """Shows a run as it goes: progress on stderr; images (and interleaved text) on stdout."""

    def __init__(self, as_json: bool, streams_text: bool, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.as_json, self.streams_text = as_json, streams_text
        self.out, self.err = out or sys.stdout, err or sys.stderr  # the streams of now, not of import time
        self.pending_estimate = ""
        self.mode: Mode | None = None
        self.model = Model.WAN26
        self.provider = ""
        self.task_id: str | None = None
        self.unsaved: dict[int, str] = {}  # offered by the provider, not yet saved: index -> URL
        # Interleaved text and image places, in order: text after an image waits here until it is saved.
        self.held: list[str | int] = []
        self.saved: dict[int, Path] = {}  # shown as saved
        self.line_open = False  # interleaved text written without its line ended
        self.run_dir: Callable[[], Path | None] = lambda: None  # the folder of the run under way

    def show(self, event: Event) -> None:
        if isinstance(event, Progress) and event.phase is Phase.SUBMITTING and self.pending_estimate:
            print(f"wan26: {self.pending_estimate}", file=self.err, flush=True)
        if isinstance(event, Progress):
            self.task_id = event.task_id or self.task_id
            status = f" [{event.task_status}]" if event.task_status else ""
            print(f"wan26: {event.message}{status}", file=self.err, flush=True)
        elif isinstance(event, ImageOffered):
            self.unsaved[event.index] = event.url
            self._hold(event.index)
        elif isinstance(event, TextDelta):
            self._hold(event.text)
        elif isinstance(event, ImageSaved):
            self._show_image(event)
        elif isinstance(event, Finished) and self.streams_text and not self.as_json:
            self._release(final=True)
            self.out.write("\n")

    def _hold(self, part: str | int) -> None:
        if self.streams_text and not self.as_json:
            self.held.append(part)
            self._release()

    def _release(self, final: bool = False) -> None:
        """Write what is held, in order, up to the first image not saved yet (`final`: all of it)."""
        while self.held and (isinstance(self.held[0], str) or self.held[0] in self.saved or final):
            part = self.held.pop(0)
            if isinstance(part, str):
                self.out.write(part)
                self.line_open = not part.endswith("\n") if part else self.line_open
            else:
                self.out.write(f"\n[image {part}: {self.saved.get(part, 'not saved')}]\n")
                self.line_open = False
        self.out.flush()

    def _show_image(self, event: ImageSaved) -> None:
        image = event.image
        self.unsaved.pop(image.index, None)
        if self.as_json:
            return
        self.saved[image.index] = image.path
        if self.streams_text:
            self._release()
        else:
            print(image.path, file=self.out, flush=True)

    def estimate(self, vendor: str, estimate: str) -> None:
        """Shown once the request has passed its checks, just before it is sent."""
        self.pending_estimate = f"estimated cost with {vendor}: {estimate}"

    def finished(self, result: GenerationResult) -> None:
        facts = [_seeds(result)]
        if result.cost_usd is not None:
            facts.append(f"cost ${result.cost_usd:.4f} as reported by {result.provider}")
        named = {"request id": result.request_id, "task id": result.task_id}
        facts += [f"{label} {value}" for label, value in named.items() if value]
        facts += [f"record {result.sidecar}"] if result.sidecar else []
        print("wan26: " + "; ".join(facts), file=self.err)
        for note in result.notes:
            print(f"wan26: note: {note}", file=self.err)
        if self.as_json:
            print(json.dumps(_result_json(result), ensure_ascii=False), file=self.out)

    def failed(self, error: Exception, code: int) -> int:
        self._release(final=True)
        print(f"wan26: error: {error}", file=self.err)
        partial = getattr(error, "partial_result", None)
        if partial is not None and partial.images:
            print(f"wan26: what arrived before the error is saved in {partial.run_dir}", file=self.err)
        if self.as_json:
            body = {"error": _error_json(error), **(_result_json(partial) if partial else {})}
            print(json.dumps(body, ensure_ascii=False), file=self.out)
        return code

    def ended_early(self, why: str, code: int, kind: str) -> int:
        """Ctrl-C, --timeout or a fault of ours: say what may still be billed and where it is."""
        self._settle_from_record()
        self._release(final=True)
        if self.line_open:  # the text's line ended before what is said below
            self.out.write("\n")
            self.out.flush()
        lines = [f"wan26: {why}; a request already sent may still finish and be billed."]
        if self.saved:
            lines.append(f"wan26: what was saved is in {self.run_dir()}")
        if self.task_id and self.mode is not None:
            lines.append(f"wan26: task id {self.task_id}; save it within 24 h with: {self._fetch()}")
        if self.unsaved:
            lines.append("wan26: not saved; fetch these yourself before they expire (24 h):")
            lines += [f"  {url}" for _, url in sorted(self.unsaved.items())]
        print("\n".join(lines), file=self.err, flush=True)
        if self.as_json:
            facts = {"type": kind, "message": why, "task_id": self.task_id, "urls": self._urls()}
            facts["fetch"] = self._fetch() if self.task_id else None
            saved = {"images": [str(path) for _, path in sorted(self.saved.items())], "run_dir": str(self.run_dir())}
            print(json.dumps({"error": facts} | (saved if self.saved else {})), file=self.out)
        return code

    def _settle_from_record(self) -> None:
        """Images saved but not shown yet (held behind an earlier one, or landing as the run was
        stopped), read from the run's folder as it stops: shown as saved, not as lost."""
        from wan26.history import load_run  # only when a run ends early: a run's start does not pay for it

        folder = self.run_dir()
        run = load_run(folder.parent, folder.name) if folder is not None else None
        for image in run.images if run is not None else ():
            if image.index in self.saved:
                continue
            self.unsaved.pop(image.index, None)
            self.saved[image.index] = image.path
            if not self.streams_text and not self.as_json:
                print(image.path, file=self.out, flush=True)

    def _fetch(self) -> str:
        return fetch_command(self.task_id or "", self.mode or Mode.TEXT_TO_IMAGE, self.provider, self.model)

    def _urls(self) -> list[str]:
        return [url for _, url in sorted(self.unsaved.items())]


def _seeds(result: GenerationResult) -> str:
    """The seed sent, or those the vendor reports per image (Runware draws one when none is sent)."""
    seeds = sorted({image.seed for image in result.images if image.seed is not None})
    if len(seeds) > 1:
        return "seeds " + ", ".join(map(str, seeds)) + " (one per image)"
    if result.seed is not None or seeds:
        return f"seed {result.seed if result.seed is not None else seeds[0]}"
    return "no seed reported"


def _result_json(result: GenerationResult) -> dict[str, Any]:
    return {
        "images": [str(image.path) for image in result.images],
        "text": result.text,
        "seed": result.seed,
        "seeds": [image.seed for image in result.images],
        "cost_usd": result.cost_usd,
        "request_id": result.request_id,
        "task_id": result.task_id,
        "provider": result.provider,
        "model": result.model,
        "size": result.size,
        "run_dir": str(result.run_dir),
        "sidecar": None if result.sidecar is None else str(result.sidecar),
        "notes": list(result.notes),
    }


def _error_json(error: Exception) -> dict[str, Any]:
    facts: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, ProviderError):
        facts |= {"code": error.code, "request_id": error.request_id, "task_id": error.task_id, "hint": error.hint}
        facts["urls"] = list(error.urls)  # images not saved: their URLs work for about 24 hours
    if isinstance(error, InvalidRequest):
        facts["violations"] = [{"field": v.field, "message": v.message} for v in error.violations]
    return facts
