"""One generation from start to finish: check, prepare, call, poll or stream, save, record."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wan26._http import Http
from wan26._poll import PollPolicy, poll_states
from wan26._redact import redact, redact_error
from wan26.errors import (
    ConfigError,
    DownloadError,
    InvalidRequest,
    ProtocolError,
    ProviderError,
    Violation,
)
from wan26.images import PreparedImage, prepare_images
from wan26.limits import SEED_MAX, ModeLimits, mode_limits_for, violations, with_default_size
from wan26.providers._base import (
    Adapter,
    Credentials,
    OutputImage,
    OutputItem,
    OutputText,
    ProviderOutput,
    TaskState,
    WireRequest,
    direct_calls,
    flows_of,
    streamed_calls,
    task_calls,
)
from wan26.storage import NotAnImage, RunFolder, truncation
from wan26.types import (
    Event,
    Finished,
    Flow,
    GenerationResult,
    ImageOffered,
    ImageRequest,
    ImageSaved,
    ImageSegment,
    Mode,
    Phase,
    Progress,
    SavedImage,
    Segment,
    TextDelta,
    TextSegment,
)


@dataclass(frozen=True, slots=True)
class RunContext:
    """What a run needs from the client that started it."""

    adapter: Adapter
    creds: Credentials
    http: Http
    output_dir: Path
    poll: PollPolicy
    sleep: Callable[[float], Awaitable[None]]
    clock: Callable[[], float]


class Run:
    """The state of one generation; `events()` drives it and yields progress as it goes."""

    def __init__(self, ctx: RunContext, request: ImageRequest, flow: Flow | None = None) -> None:
        self.ctx, self.request, self.flow = ctx, request, flow or ctx.adapter.facts.default_flow
        self.folder = RunFolder(ctx.output_dir, request.mode.value)
        self.wire: WireRequest | None = None
        self.images: list[SavedImage] = []
        self.failed: list[dict[str, Any]] = []
        self.parts: list[str | int] = []  # text runs and image indexes, in the order they came
        self.output = ProviderOutput(())
        self.task_id: str | None = None
        self.cost_usd: float | None = None
        self.seeds: dict[str, int | None] = {}  # image URL -> the seed of the call that made it
        self.started_at = datetime.now(UTC)
        self.started = ctx.clock()
        self.provider_s = 0.0
        self.fetched = False  # following a task submitted earlier: its request is unknown
        self.task_unsettled = False  # a task was accepted, and we stopped following it before it ended
        self.request_ids: list[str] = []  # every call's, when one run makes several (one image per call)
        self.offered: dict[int, str] = {}  # every image the provider made, by index: its URL
        self.notes: list[str] = []  # what the user should know that is not an error
        self._next_index = 1

    async def events(self) -> AsyncIterator[Event]:
        limits = self._mode_limits()
        self.request = with_default_size(self.request, limits)
        yield Progress(Phase.PREPARING, "Preparing reference images" if self.request.images else "Checking the request")
        images = await self._prepared_images(limits)
        self._check_output_folder()
        self.wire = WireRequest(self.request, images, _seed(self.request, limits))
        async for event in self._saving(self._generate(self.wire)):
            yield event

    async def fetch_events(self, task_id: str) -> AsyncIterator[Event]:
        """Follow a task submitted earlier (its request is unknown here) and save what it made."""
        self.fetched = True
        self._check_output_folder()
        async for event in self._saving(self.follow_task(task_id)):
            yield event

    async def _prepared_images(self, limits: ModeLimits) -> tuple[PreparedImage, ...]:
        """The images ready to send, or one InvalidRequest with every limit and image problem."""
        found = violations(self.request, limits)
        try:
            images = await asyncio.to_thread(prepare_images, self.request.images, self.ctx.adapter.facts.image_rules)
        except InvalidRequest as bad_images:
            found, images = [*found, *bad_images.violations], ()
        if found:
            raise InvalidRequest(found)
        return images

    def _check_output_folder(self) -> None:
        """Fail before anything is billed if results could not be saved."""
        try:
            self.folder.check_writable()
        except OSError as exc:
            raise ConfigError(
                f"Cannot save results in {self.ctx.output_dir} ({exc.strerror or exc}): "
                "set WAN26_OUTPUT_DIR or --out to a folder you can write to."
            ) from exc

    async def _saving(self, source: AsyncIterator[Event]) -> AsyncIterator[Event]:
        """Pass `source` on; whatever happens, what it produced is recorded beside its images, and
        every image not saved keeps its URL in the record and in the error."""
        try:
            async for event in source:
                yield self._redacted(event)
            self._raise_for_failed_downloads()
        except ProviderError as error:
            redact_error(error, self.ctx.creds.api_key)
            error.urls = error.urls or self._unsaved_urls()
            keep = self._produced_anything() or self.task_unsettled  # a running task may yet be billed
            error.partial_result = self._record(error) if keep else None
            if error.partial_result is not None and error.partial_result.notes:
                error.hint = " ".join(filter(None, (error.hint, *error.partial_result.notes)))
            raise
        except (asyncio.CancelledError, GeneratorExit):  # stopped: a task already accepted is written down
            self._stopped()
            raise
        yield Progress(Phase.DONE, f"Saved {len(self.images)} image(s) in {self.folder.path}")
        yield Finished(self._record(None))

    def _redacted(self, event: Event) -> Event:
        """Progress carries the vendor's own status words: mask the key there too."""
        if not isinstance(event, Progress):
            return event
        key = self.ctx.creds.api_key
        status = None if event.task_status is None else redact(event.task_status, key)
        return replace(event, message=redact(event.message, key), task_status=status)

    def _stopped(self) -> None:
        """Stop or Ctrl-C: images made but not yet saved keep their URLs in the record."""
        saved = {image.index for image in self.images} | {entry["index"] for entry in self.failed}
        for index, url in self.offered.items():
            if index not in saved:
                self.failed.append({"index": index, "source_url": url, "error": "stopped before it was saved"})
        if self.task_unsettled or self._produced_anything():
            self._record(None, status="stopped")

    def _unsaved_urls(self) -> tuple[str, ...]:
        return tuple(entry["source_url"] for entry in sorted(self.failed, key=lambda e: e["index"]))

    def _mode_limits(self) -> ModeLimits:
        adapter = self.ctx.adapter
        limits = mode_limits_for(dict(adapter.facts.limits), self.request.mode, adapter.facts.name)
        if self.flow not in flows_of(adapter):
            raise InvalidRequest([Violation("flow", f"{adapter.facts.name} does not offer the {self.flow} flow")])
        return limits

    async def _generate(self, wire: WireRequest) -> AsyncIterator[Event]:
        adapter, creds = self.ctx.adapter, self.ctx.creds
        yield Progress(Phase.SUBMITTING, f"Sending the request to {adapter.facts.title}")
        if self.flow is Flow.TASK:
            source = self._task_items(task_calls(adapter).build_submit(wire, creds))
        elif self.request.n > 1 and adapter.facts.limits[self.request.mode].one_image_per_call:
            source = self._fanned_out_items(wire)
        elif self.request.mode is Mode.INTERLEAVE:
            source = self._streamed_items(streamed_calls(adapter).build_stream(wire, creds))
        else:
            source = self._direct_items(direct_calls(adapter).build_direct(wire, creds))
        async for event in source:
            yield event

    async def _direct_items(self, call: Any) -> AsyncIterator[Event]:
        yield Progress(Phase.WAITING, "Generating (this usually takes 1–2 minutes)")
        body, headers = await self.ctx.http.json(call)  # within Timeouts.total
        output = direct_calls(self.ctx.adapter).parse_output(body, headers)
        self._took_output(output)
        async for event in self._consume(output.items):
            yield event
        if output.error is not None:  # part of the run failed; what it made is saved first
            raise output.error

    async def _fanned_out_items(self, wire: WireRequest) -> AsyncIterator[Event]:
        """n single-image calls at once, each with its own seed; each result saved as it lands."""
        wires = _single_image_wires(wire)
        seeds = ", ".join(str(one.seed) for one in wires)
        yield Progress(
            Phase.WAITING,
            f"{self.ctx.adapter.facts.title} makes one image per call: {len(wires)} calls at once (seeds {seeds})",
        )
        first, self._next_index = self._next_index, self._next_index + len(wires)
        # Files are numbered in seed order, whichever call answers first: 01 has seed s, 02 has s+1…
        calls = [asyncio.create_task(self._one_call(one, first + i)) for i, one in enumerate(wires)]
        failures: list[ProviderError] = []
        try:
            for finished in asyncio.as_completed(calls):
                try:
                    output, index = await finished
                except ProviderError as error:
                    failures.append(error)
                    continue
                async for event in self._consume(output.items, first_index=index):
                    yield event
                if output.error is not None:
                    failures.append(output.error)
        finally:
            for call in calls:
                call.cancel()
        if failures:
            raise _first_of(failures, len(wires))

    async def _one_call(self, wire: WireRequest, index: int) -> tuple[ProviderOutput, int]:
        call = direct_calls(self.ctx.adapter).build_direct(wire, self.ctx.creds)
        body, headers = await self.ctx.http.json(call)  # within Timeouts.total
        output = direct_calls(self.ctx.adapter).parse_output(body, headers)
        items = tuple(replace(item, seed=wire.seed) if isinstance(item, OutputImage) else item for item in output.items)
        self._took_output(replace(output, items=items), streamed=True)
        return replace(output, items=items), index

    async def _streamed_items(self, call: Any) -> AsyncIterator[Event]:
        yield Progress(Phase.WAITING, "Generating; text and images stream in as they are made")
        async for sse in self.ctx.http.stream(call):  # within Timeouts.total, comments or not
            chunk = streamed_calls(self.ctx.adapter).parse_stream_event(sse)
            self._took_output(chunk, streamed=True)
            async for event in self._consume(chunk.items):
                yield event
            if chunk.finished:
                return
        raise ProtocolError(
            "the stream ended before the last event",
            provider=self.ctx.adapter.facts.name,
            request_id=self.output.request_id,
            hint="What arrived before the cut has been saved.",
        )

    async def _task_items(self, call: Any) -> AsyncIterator[Event]:
        body, _ = await self.ctx.http.json(call)
        submitted = task_calls(self.ctx.adapter).parse_submit(body, call)
        if submitted.error is not None:
            raise submitted.error
        self.cost_usd = submitted.cost_usd
        if not submitted.task_id:
            raise ProtocolError(
                "the task was accepted without a task id",
                provider=self.ctx.adapter.facts.name,
                request_id=submitted.request_id,
            )
        self.task_id = submitted.task_id
        self.output = ProviderOutput((), submitted.request_id)
        yield Progress(Phase.WAITING, f"Task {submitted.raw_status.lower()}", self.task_id, submitted.raw_status)
        async for event in self.follow_task(self.task_id):
            yield event

    async def follow_task(self, task_id: str) -> AsyncIterator[Event]:
        """Poll `task_id` to its end, then save what it made (also used to fetch an old task)."""
        self.task_id = task_id
        poll_call = task_calls(self.ctx.adapter).build_poll(task_id, self.ctx.creds)
        expected = None if self.fetched or self.request.mode is Mode.INTERLEAVE else self.request.n

        async def fetch() -> Any:
            timeouts = self.ctx.http.timeouts
            body, _ = await self.ctx.http.json(poll_call, timeouts.poll, timeouts.poll_total)
            return task_calls(self.ctx.adapter).parse_task(body, task_id, expected)

        states = poll_states(
            fetch,
            task_id=task_id,
            provider=self.ctx.adapter.facts.name,
            policy=self.ctx.poll,
            sleep=self.ctx.sleep,
            clock=self.ctx.clock,
        )
        self.task_unsettled = True
        try:
            async for event in self._task_events(states, task_id):
                yield event
        except ProviderError as error:
            if self.task_unsettled:  # a poll failed or the deadline passed: the task itself may go on
                error.task_id = error.task_id or task_id
                error.hint = f"{self._fetch_advice(task_id)} {error.hint or ''}".strip()
            raise

    def _fetch_advice(self, task_id: str) -> str:
        command = fetch_command(task_id, self.request.mode, self.ctx.adapter.facts.name)
        return f"The task may still finish and be billed. Save it within 24 h with: {command}."

    async def _task_events(self, states: AsyncIterator[TaskState], task_id: str) -> AsyncIterator[Event]:
        async for state in states:
            if state.output is None and state.error is None:
                yield Progress(Phase.WAITING, _task_message(state), task_id, state.raw_status)
                continue
            self.task_unsettled = False  # it ended: what it made is saved, its failure reported
            if state.output is not None:
                self._took_output(state.output)
                async for event in self._consume(state.output.items):
                    yield event
            if state.error is not None:
                raise state.error
            return

    def _took_output(self, output: ProviderOutput, streamed: bool = False) -> None:
        self.provider_s = self.ctx.clock() - self.started
        self.notes += [redact(note, self.ctx.creds.api_key) for note in output.notes]
        if output.request_id and output.request_id not in self.request_ids:
            self.request_ids.append(output.request_id)
        items = self.output.items + output.items if streamed else output.items
        self.output = ProviderOutput(
            items,
            output.request_id or self.output.request_id,
            output.usage or self.output.usage,
            output.size or self.output.size,
        )
        if output.cost_usd is not None:  # fanned-out calls each report their own share
            self.cost_usd = (self.cost_usd or 0.0) + output.cost_usd if streamed else output.cost_usd
        for item in output.items:
            if isinstance(item, OutputImage):
                self.seeds[item.url] = item.seed

    async def _consume(self, items: Sequence[OutputItem], first_index: int | None = None) -> AsyncIterator[Event]:
        """Pass text on and save images, in order; every image in `items` downloads at once."""
        indexes = itertools.count(first_index) if first_index is not None else None
        downloads = [
            self._start_download(item.url, next(indexes) if indexes else None)
            if isinstance(item, OutputImage)
            else None
            for item in items
        ]
        if any(downloads):
            yield Progress(Phase.DOWNLOADING, f"Downloading {sum(map(bool, downloads))} image(s)")
        for started in filter(None, downloads):
            yield ImageOffered(started[0], self.offered[started[0]])
        try:
            for item, download in zip(items, downloads, strict=True):
                if isinstance(item, OutputText):
                    text = redact(item.text, self.ctx.creds.api_key)
                    self._add_text(text)
                    yield TextDelta(text)
                    continue
                assert download is not None  # every image item started a download above
                index, task = download
                self.parts.append(index)
                if (image := await task) is not None:
                    yield ImageSaved(image)
        finally:
            for pending in (download[1] for download in downloads if download):
                pending.cancel()  # only unfinished ones, when the run was stopped

    def _start_download(self, url: str, index: int | None = None) -> tuple[int, asyncio.Task[SavedImage | None]]:
        if index is None:
            index, self._next_index = self._next_index, self._next_index + 1
        self.offered[index] = url
        return index, asyncio.create_task(self._save_image(index, url))

    def _add_text(self, text: str) -> None:
        if self.parts and isinstance(self.parts[-1], str):
            self.parts[-1] += text
        else:
            self.parts.append(text)

    async def _save_image(self, index: int, url: str) -> SavedImage | None:
        try:
            data = await self.ctx.http.download(url, truncation)
            path, width, height = await asyncio.to_thread(self.folder.save_image, index, data)
        except (ProviderError, NotAnImage, OSError) as exc:  # the URL is kept: the user can still fetch it
            reason = redact(str(exc).splitlines()[0], self.ctx.creds.api_key)
            self.failed.append({"index": index, "source_url": url, "error": reason})
            return None
        seed = self.seeds.get(url)
        image = SavedImage(index, path, url, width, height, seed if seed is not None else self._sent_seed())
        self.images.append(image)
        return image

    def _sent_seed(self) -> int | None:
        return self.wire.seed if self.wire else None

    def _raise_for_failed_downloads(self) -> None:
        if not self.failed:
            return
        first = min(self.failed, key=lambda entry: entry["index"])
        saved = f"{len(self.images)} other image(s) are saved in {self.folder.path}." if self.images else ""
        raise DownloadError(
            f"{len(self.failed)} of {len(self.offered)} image(s) could not be saved "
            f"(image {first['index']}: {first['error']})",
            urls=self._unsaved_urls(),
            provider=self.ctx.adapter.facts.name,
            request_id=self.output.request_id,
            task_id=self.task_id,
            hint=saved or None,
        )

    def _produced_anything(self) -> bool:
        return bool(self.parts or self.failed)

    def _record(self, error: ProviderError | None, status: str | None = None) -> GenerationResult:
        """Write run.json; if even that fails (disk full, folder gone), say so rather than raise:
        the caller still has the images' URLs to give the user."""
        result = self._result()
        record = _sidecar(self, result, error)
        try:
            sidecar = self.folder.write_sidecar(record if status is None else record | {"status": status})
        except OSError as exc:
            note = f"The run record could not be written in {self.folder.path} ({exc.strerror or exc})."
            return replace(result, sidecar=None, notes=(*result.notes, note))
        return replace(result, sidecar=sidecar)

    def _result(self) -> GenerationResult:
        return GenerationResult(
            mode=self.request.mode,
            provider=self.ctx.adapter.facts.name,
            model=self.ctx.adapter.facts.model_for(self.request.mode),
            images=tuple(sorted(self.images, key=lambda image: image.index)),
            seed=self.wire.seed if self.wire else None,
            run_dir=self.folder.path,
            sidecar=None,
            text="".join(p for p in self.parts if isinstance(p, str)),
            segments=tuple(_segments(self.parts)),
            request_id=self.output.request_id,
            task_id=self.task_id,
            size=self.output.size,
            usage=dict(self.output.usage),
            elapsed_s=round(self.ctx.clock() - self.started, 3),
            cost_usd=None if self.cost_usd is None else round(self.cost_usd, 6),
            notes=tuple(self.notes),
        )


def fetch_command(task_id: str, mode: Mode, provider: str) -> str:
    """The exact command that saves a task's result later (task ids live 24 h)."""
    return f"python -m wan26 fetch {task_id} --mode {mode.value} --provider {provider}"


def _seed(request: ImageRequest, limits: ModeLimits) -> int | None:
    """The seed to send: the user's, or a random one we draw so the run can be reproduced."""
    if limits.seed is None:
        return None
    return request.seed if request.seed is not None else random.randint(limits.seed.low, limits.seed.high)


def _single_image_wires(wire: WireRequest) -> list[WireRequest]:
    """One request per image, with consecutive seeds so every image differs and can be redone."""
    one = replace(wire.request, n=1)
    first = wire.seed
    if first is None:
        return [replace(wire, request=one) for _ in range(wire.request.n)]
    return [replace(wire, request=one, seed=(first + i) % (SEED_MAX + 1)) for i in range(wire.request.n)]


def _first_of(failures: list[ProviderError], calls: int) -> ProviderError:
    error = failures[0]
    if len(failures) < calls:
        error.hint = f"{calls - len(failures)} of {calls} calls succeeded. {error.hint or ''}".strip()
    return error


def _task_message(state: TaskState) -> str:
    message = f"Task {state.raw_status.lower()}"
    return message if state.progress is None else f"{message} ({state.progress:.0%})"


def _segments(parts: list[str | int]) -> list[Segment]:
    return [TextSegment(part) if isinstance(part, str) else ImageSegment(part) for part in parts]


def _sidecar(run: Run, result: GenerationResult, error: ProviderError | None) -> dict[str, Any]:
    """The run's record beside its images: everything needed to understand or repeat it, no key."""
    request = run.request
    files = {image.index: image.path.name for image in result.images}
    known = not run.fetched  # a fetched task's prompt and parameters were never seen here
    return {
        "status": _status(run, error),
        "fetched_task": run.fetched,
        "mode": request.mode.value,
        "provider": result.provider,
        "model": result.model,
        "flow": run.flow.value,
        "prompt": request.prompt if known else None,
        "negative_prompt": request.negative_prompt if known else None,
        "parameters": _parameters(request, result.seed) if known else None,
        "seed": result.seed,
        "size": {"requested": None if request.size is None else str(request.size), "actual": result.size},
        "request_id": result.request_id,
        "request_ids": run.request_ids,
        "task_id": result.task_id,
        "usage": result.usage,
        "cost_usd": result.cost_usd,
        "timings": {
            "started_at": run.started_at.isoformat(timespec="milliseconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "elapsed_s": result.elapsed_s,
            "provider_s": round(run.provider_s, 3),
        },
        "reference_images": [image.record() for image in (run.wire.images if run.wire else ())],
        "images": [_image_record(image) for image in result.images],
        "failed_downloads": sorted(run.failed, key=lambda entry: entry["index"]),
        "text": result.text,
        "segments": [_segment_record(segment, files, run.offered) for segment in result.segments],
        "notes": list(result.notes),
        "error": None if error is None else _error_record(error),
    }


def _status(run: Run, error: ProviderError | None) -> str:
    if error is None:
        return "succeeded"
    return "still_running" if run.task_unsettled else "failed"


def _parameters(request: ImageRequest, seed: int | None) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        "size": None if request.size is None else str(request.size),
        "seed": seed,
        "watermark": request.watermark,
    }
    if request.mode is Mode.INTERLEAVE:
        return parameters | {"max_images": request.max_images}
    return parameters | {"n": request.n, "prompt_extend": request.prompt_extend}


def _image_record(image: SavedImage) -> dict[str, Any]:
    return {
        "index": image.index,
        "seed": image.seed,
        "file": image.path.name,
        "width": image.width,
        "height": image.height,
        "source_url": image.source_url,
    }


def _segment_record(segment: Segment, files: dict[int, str], urls: dict[int, str]) -> dict[str, Any]:
    if isinstance(segment, TextSegment):
        return {"type": "text", "text": segment.text}
    index = segment.image_index
    return {"type": "image", "index": index, "file": files.get(index), "source_url": urls.get(index)}


def _error_record(error: ProviderError) -> dict[str, Any]:
    return {
        "type": type(error).__name__,
        "code": error.code,
        "message": error.message,
        "status_code": error.status_code,
        "request_id": error.request_id,
        "task_id": error.task_id,
        "hint": error.hint,
    }
