"""A run's result, and its record beside its images (run.json): everything needed to understand or
repeat the run, never the key."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wan26.errors import ProviderError
from wan26.providers._base import WireRequest
from wan26.types import GenerationResult, ImageRequest, ImageSegment, Mode, Model, SavedImage, Segment, TextSegment

if TYPE_CHECKING:  # run imports this module
    from wan26._run.run import Run


def written_result(run: Run, error: ProviderError | None, status: str | None = None) -> GenerationResult:
    """Write run.json; if even that fails (disk full, folder gone), say so rather than raise: the
    caller still has the images' URLs to give the user."""
    result = result_of(run, run.folder.sidecar_path)  # built once: `replace` costs as much again
    record = sidecar(run, result, error)
    try:
        run.folder.write_sidecar(record if status is None else record | {"status": status})
    except OSError as exc:
        note = f"The run record could not be written in {run.folder.path} ({exc.strerror or exc})."
        return replace(result, sidecar=None, notes=(*result.notes, note))
    return result


def result_of(run: Run, sidecar: Path) -> GenerationResult:
    log, ctx = run.log, run.ctx
    return GenerationResult(
        mode=run.request.mode,
        provider=ctx.adapter.facts.name,
        model=ctx.adapter.facts.model_id(run.request.model, run.request.mode),
        images=tuple(sorted(run.downloads.images, key=lambda image: image.index)),
        seed=run.wire.seed if run.wire else None,
        run_dir=run.folder.path,
        sidecar=sidecar,
        text="".join(p for p in log.parts if isinstance(p, str)),
        segments=tuple(TextSegment(p) if isinstance(p, str) else ImageSegment(p) for p in log.parts),
        request_id=log.output.request_id,
        task_id=run.task.task_id,
        size=log.output.size,
        usage=dict(log.output.usage),
        elapsed_s=round(ctx.clock() - run.started, 3),
        cost_usd=None if log.cost_usd is None else round(log.cost_usd, 6),
        notes=tuple(log.notes),
        wan_model=run.request.model,
    )


def sidecar(run: Run, result: GenerationResult, error: ProviderError | None) -> dict[str, Any]:
    record = _sidecar(run, result, error)
    return record if run.earlier is None else with_what_was_asked(record, run.earlier)


def with_what_was_asked(record: dict[str, Any], earlier: dict[str, Any]) -> dict[str, Any]:
    """A fetched task's record, with what the run that sent it recorded of its request (its prompt,
    parameters, seed, references...): one run in History, not a stopped one and an unknown one."""
    asked = {key: earlier[key] for key in _ASKED if earlier.get(key) is not None}
    requested = earlier["size"].get("requested") if isinstance(earlier.get("size"), dict) else None
    request_ids = [*(earlier.get("request_ids") or []), *record["request_ids"]]
    return record | asked | {"size": record["size"] | {"requested": requested}, "request_ids": request_ids}


# What a run records of its request before anything is sent (see `_sidecar`).
_ASKED = (
    *("prompt", "negative_prompt", "parameters", "seed", "reference_images"),
    *("image_set", "thinking", "palette", "boxes", "boxes_sent"),
)


def _sidecar(run: Run, result: GenerationResult, error: ProviderError | None) -> dict[str, Any]:
    request, known = run.request, not run.fetched  # a fetched task's prompt and parameters were never seen here
    files = {image.index: image.path.name for image in result.images}
    return {
        "status": _status(run, error),
        "fetched_task": run.fetched,
        "mode": request.mode.value,
        "provider": result.provider,
        "model": result.model,
        "wan_model": result.wan_model.value,
        "flow": run.flow.value,
        "prompt": request.prompt if known else None,
        "negative_prompt": request.negative_prompt if known else None,
        "parameters": _parameters(request, result.seed) if known else None,
        **(_wan27_record(request, run.wire) if known and request.model is not Model.WAN26 else {}),
        "seed": result.seed,
        "size": {"requested": None if request.size is None else str(request.size), "actual": result.size},
        "request_id": result.request_id,
        "request_ids": run.log.request_ids,
        "task_id": result.task_id,
        "usage": result.usage,
        "cost_usd": result.cost_usd,
        "timings": _timings(run, result),
        "reference_images": [image.record() for image in (run.wire.images if run.wire else ())],
        "images": [_image_record(image) for image in result.images],
        "failed_downloads": sorted(run.downloads.failed, key=lambda entry: entry["index"]),
        "text": result.text,
        "segments": [_segment_record(segment, files, run.downloads.offered) for segment in result.segments],
        "notes": list(result.notes),
        "error": None if error is None else _error_record(error),
    }


def _status(run: Run, error: ProviderError | None) -> str:
    if error is None:
        return "succeeded"
    return "still_running" if run.task.unsettled else "failed"


def _timings(run: Run, result: GenerationResult) -> dict[str, Any]:
    return {
        "started_at": run.started_at.isoformat(timespec="milliseconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "elapsed_s": result.elapsed_s,
        "provider_s": round(run.provider_s, 3),
    }


def _parameters(request: ImageRequest, seed: int | None) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        "size": None if request.size is None else str(request.size),
        "seed": seed,
        "watermark": request.watermark,
    }
    if request.mode is Mode.INTERLEAVE:
        return parameters | {"max_images": request.max_images}
    if request.model is not Model.WAN26:  # 2.7 has no prompt rewriting
        return parameters | {"n": request.n}
    return parameters | {"n": request.n, "prompt_extend": request.prompt_extend}


def _wan27_record(request: ImageRequest, wire: WireRequest | None) -> dict[str, Any]:
    """What a 2.7 run asked for beyond 2.6's parameters: the set flag, the palette, and the boxes as
    the user drew them (on the upright references) and as sent (in the pixels of each image sent)."""
    return {
        "image_set": request.mode is Mode.IMAGE_SET,
        "thinking": request.thinking,
        "palette": [{"hex": color.hex, "percent": color.hundredths / 100} for color in request.palette],
        "boxes": [{"image": box.image, "box": list(box.corners)} for box in request.boxes],
        "boxes_sent": wire.boxes_per_image() if wire is not None and request.boxes else None,
    }


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
