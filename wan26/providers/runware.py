"""Runware (runware.ai): `POST /v1` with a JSON array of tasks, models `alibaba:wan@2.6-image`,
`alibaba:wan@2.7-image` and `alibaba:wan@2.7-image-pro`.

The vendor's pages, cited below by name:
- model page (schema and worked examples): https://runware.ai/docs/models/alibaba-wan2-6-image
- 2.7 model pages, with their JSON schemas: https://runware.ai/docs/models/alibaba-wan2-7-image,
  https://runware.ai/docs/models/alibaba-wan2-7-image-pro (…/schema.json)
- task polling page: https://runware.ai/docs/platform/task-polling
- errors page: https://runware.ai/docs/platform/errors
- Alibaba provider settings: https://runware.ai/docs/providers/alibaba
- official SDK: https://pypi.org/project/runware-sdk/ (source and tests: https://github.com/Runware/runware-python)
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace

from wan26.errors import ConfigError, ProtocolError, ProviderError
from wan26.images import DASHSCOPE_IMAGE_RULES
from wan26.limits import ModeLimits, Range
from wan26.pricing import Price
from wan26.providers import _wan27
from wan26.providers._base import (
    Credentials,
    HttpCall,
    JSONObject,
    ModelOffer,
    OutputImage,
    ProviderFacts,
    ProviderOutput,
    TaskState,
    TaskStatus,
    WireRequest,
)
from wan26.providers._runware_errors import PROVIDER, first_error, item_error, to_error
from wan26.providers._wire import bearer
from wan26.types import Flow, ImageRequest, Mode, Model, Size

MODEL = "alibaba:wan@2.6-image"
MODEL_27, MODEL_27_PRO = "alibaba:wan@2.7-image", "alibaba:wan@2.7-image-pro"

# [?] The model page's per-side 576–1440 box contradicts its own 2700×768 examples; we read upstream's
# limits per mode instead (t2i 1280²–1440², edit 768²–1280², ratio ≤ 4:1), as if Runware sent text-only
# requests to wan2.6-t2i. numberResults: the schema allows up to 20, upstream n is 1–4 [?]; we keep 1–4.
# No seed in the schema. Sides: no multiple is documented and the examples use 2700, so any multiple of 4 [?].
LIMITS = {
    Mode.TEXT_TO_IMAGE: ModeLimits(
        prompt_max=2100,
        negative_max=500,
        pixels=Range(1280 * 1280, 1440 * 1440),
        images=Range(0, 0),
        n=Range(1, 4),
        default_size=Size(1280, 1280),  # width and height are required
        side_multiple=4,
        seed=None,
        watermark=False,
    ),
    Mode.EDIT: ModeLimits(
        prompt_max=2000,
        negative_max=500,
        pixels=Range(768 * 768, 1280 * 1280),
        images=Range(1, 4),
        n=Range(1, 4),
        default_size=Size(1280, 1280),
        side_multiple=4,
        seed=None,
        watermark=False,
    ),
}
RECOMMENDED_SIZES = {
    Mode.TEXT_TO_IMAGE: (Size(1280, 1280), Size(1440, 1440), Size(2700, 768), Size(768, 2700)),
    Mode.EDIT: (Size(1280, 1280), Size(1024, 768), Size(768, 1024), Size(1536, 1024), Size(1024, 1536)),
}


# 2.7 (schemas): Alibaba's modes and options (_wan27), under Runware's own bounds: positivePrompt ≤
# 3000; width and height required, each 768–2048 in steps of 16 (pro text to image 768–4096; pro with
# references 2048 at most), so no tiers; a seed; settings.thinking, .sequential, .colorPalette (not
# with sequential), .editRegions (≤ 2 per image). No negativePrompt and no promptExtend. [?] The
# schema's numberResults allows 20 and does not say how it maps to a set's size; we send n there.
def _runware_27(limits: ModeLimits, longest_side: int = 2048) -> ModeLimits:
    return replace(
        limits,
        prompt_max=3000,
        side=Range(768, longest_side),  # bounds the ratio harder than Alibaba's 8:1 (2048:768)
        size_tiers=frozenset(),
        default_size=Size(2048, 2048),
        watermark=False,  # Runware has its own watermark feature, not Alibaba's flag
    )


LIMITS_27 = {mode: _runware_27(limits) for mode, limits in _wan27.LIMITS.items()}
_NAMES_27 = _wan27.OptionNames("thinking", "sequential", "colorPalette", "editRegions")
# [?] An async set's images arrive one by one, and nothing says how many a set will have: polling
# could stop before the last is made (and billed). Sets go as one sync call, which answers with all.
LIMITS_27[Mode.IMAGE_SET] = replace(LIMITS_27[Mode.IMAGE_SET], direct_only=True)
LIMITS_27_PRO = {**LIMITS_27, Mode.TEXT_TO_IMAGE: _runware_27(_wan27.PRO_LIMITS[Mode.TEXT_TO_IMAGE], 4096)}
# Alibaba's 8:1 for references; [?] no byte limit is documented, so 2.6's 10 MB rather than 2.7's 20.
_IMAGE_RULES_27 = replace(DASHSCOPE_IMAGE_RULES, max_ratio=8)
_SIZES_27 = (Size(2048, 2048), Size(2048, 1152), Size(1152, 2048), Size(2048, 1536), Size(1536, 2048))
RECOMMENDED_SIZES_27 = dict.fromkeys(LIMITS_27, _SIZES_27)
RECOMMENDED_SIZES_27_PRO = {**RECOMMENDED_SIZES_27, Mode.TEXT_TO_IMAGE: (Size(4096, 4096), *_SIZES_27)}


FACTS = ProviderFacts(
    name="runware",
    title="Runware",
    key_env="RUNWARE_API_KEY",
    base_url_env="RUNWARE_BASE_URL",
    default_base_url="https://api.runware.ai/v1",
    key_help="Create a key at https://my.runware.ai/signup",
    offers={
        # One id for every mode: a task fetched later under any mode is still recorded with the right model.
        Model.WAN26: ModelOffer(
            ids=dict.fromkeys(Mode, MODEL),
            limits=LIMITS,
            recommended_sizes=RECOMMENDED_SIZES,
            image_rules=DASHSCOPE_IMAGE_RULES,  # URL, data URI or base64 (model page)
            price=Price(0.03, "the cost in Runware's examples"),
        ),
        Model.WAN27: ModelOffer(
            ids=dict.fromkeys(Mode, MODEL_27),
            limits=LIMITS_27,
            recommended_sizes=RECOMMENDED_SIZES_27,
            image_rules=_IMAGE_RULES_27,
            price=Price(0.03, "Runware's price for every 2.7 task type"),
        ),
        Model.WAN27_PRO: ModelOffer(
            ids=dict.fromkeys(Mode, MODEL_27_PRO),
            limits=LIMITS_27_PRO,
            recommended_sizes=RECOMMENDED_SIZES_27_PRO,
            image_rules=_IMAGE_RULES_27,
            price=Price(0.075, "Runware's price for every 2.7 Pro task type"),
        ),
    },
    default_flow=Flow.DIRECT,  # deliveryMethod sync (the default) answers with the images
)


class Runware:
    """Direct calls (deliveryMethod sync) and tasks (deliveryMethod async, then getResponse)."""

    facts = FACTS

    def build_direct(self, wire: WireRequest, creds: Credentials) -> HttpCall:
        return _call(creds, [_inference_task(wire, "sync")])

    def build_submit(self, wire: WireRequest, creds: Credentials) -> HttpCall:
        return _call(creds, [_inference_task(wire, "async")])

    def build_poll(self, task_id: str, creds: Credentials) -> HttpCall:
        # getResponse on the same URL; a status query, so safe to repeat (task polling page).
        return _call(creds, [{"taskType": "getResponse", "taskUUID": task_id}], idempotent=True)

    def parse_output(self, body: JSONObject, headers: Mapping[str, str]) -> ProviderOutput:
        _raise_for_errors(body, headers)
        items = _latest_items(_data(body))
        task_id = _task_uuid(items)
        done, failed = _with_status(items, "success"), _with_status(items, "error")
        if failed and not done:
            raise item_error(failed[0], task_id)
        if not done:
            raise ProtocolError("the answer holds no finished image", provider=PROVIDER, request_id=task_id)
        # Errors apply per image (errors page): keep what was made, report the failure after it.
        return replace(_output(done, task_id), error=item_error(failed[0], task_id) if failed else None)

    def parse_submit(self, body: JSONObject, sent: HttpCall | None = None) -> TaskState:
        if (entry := first_error(body)) is not None:
            return TaskState("", TaskStatus.FAILED, "error", error=to_error(200, entry))
        # [I] the SDK's test mocks ack with {"data":[]}: then the id is the taskUUID we sent.
        task_id = _task_uuid(_data(body)) or _sent_task_uuid(sent)
        if task_id is None:
            raise ProtocolError(
                "Runware acknowledged the task without naming it, so it cannot be followed",
                provider=PROVIDER,
                hint="The task may still run and be billed; it was not sent again. Try the direct flow.",
            )
        return TaskState(task_id, TaskStatus.QUEUED, "queued", request_id=task_id)

    def parse_task(self, body: JSONObject, task_id: str, expected_images: int | None = None) -> TaskState:
        if (entry := first_error(body)) is not None:
            return _failed(task_id, to_error(None, {"taskUUID": task_id, **entry}))
        items = _latest_items(_data(body))
        done = _with_status(items, "success")
        if failed := _with_status(items, "error"):  # the images made before it are still saved
            return _failed(task_id, item_error(failed[0], task_id), _output(done, task_id) if done else None)
        if _is_complete(len(done), bool(_with_status(items, "processing")), expected_images):
            return TaskState(task_id, TaskStatus.SUCCEEDED, "success", task_id, output=_output(done, task_id))
        status, raw = (TaskStatus.RUNNING, "processing") if items else (TaskStatus.QUEUED, "queued")
        return TaskState(task_id, status, raw, task_id, progress=_progress(items, expected_images))

    def parse_error(self, status: int, body: JSONObject | None, headers: Mapping[str, str]) -> ProviderError:
        body = body or {}
        # `{"errors":[…]}` [C]; the SDK also parses `{"error":{…},"taskUUID":…}` from pre-stream errors [I].
        entry = first_error(body) or (body["error"] if isinstance(body.get("error"), dict) else {})
        return to_error(status, entry, headers)


def _call(creds: Credentials, tasks: list[JSONObject], idempotent: bool = False) -> HttpCall:
    """One POST to the single endpoint; the body is always a JSON array of tasks (model page)."""
    headers = bearer(creds)
    return HttpCall("POST", creds.base_url, headers, tasks, idempotent=idempotent)


def _inference_task(wire: WireRequest, delivery: str) -> JSONObject:
    request = wire.request
    task = {
        "taskType": "imageInference",
        "taskUUID": str(uuid.uuid4()),  # required UUID v4, unique per task (model page)
        "model": FACTS.model_id(request.model, request.mode),
        "positivePrompt": request.prompt,
        **_size_fields(request),
        **_output_fields(request, delivery),
    }
    if wire.images:  # URL, data URI or base64 (model page)
        task["inputs"] = {"referenceImages": [image.wire for image in wire.images]}
    return task | (_wan26_fields(request) if request.model is Model.WAN26 else _wan27_fields(wire))


def _wan26_fields(request: ImageRequest) -> JSONObject:
    """No seed field exists for 2.6; a negative prompt has minLength 1, so an empty one is left out (model page)."""
    fields: JSONObject = {"providerSettings": {"alibaba": {"promptExtend": request.prompt_extend}}}
    return fields | ({"negativePrompt": request.negative_prompt} if request.negative_prompt else {})


def _wan27_fields(wire: WireRequest) -> JSONObject:
    """The seed, and Alibaba's 2.7 options under Runware's own names in `settings` (2.7 schemas)."""
    settings = _wan27.options(wire, _NAMES_27)
    fields: JSONObject = {"seed": wire.seed} if wire.seed is not None else {}
    return fields | ({"settings": settings} if settings else {})


def _size_fields(request: ImageRequest) -> JSONObject:
    limits = FACTS.mode_limits(request)
    if limits is None:
        raise ConfigError(f"Runware does not offer {request.mode} with {request.model.label}")
    size = request.size if request.size is not None else limits.default_size
    if not isinstance(size, Size):  # width and height are required integers (model page)
        raise ConfigError(f"Runware needs an explicit width×height, not {size}")
    return {"width": size.width, "height": size.height}


def _output_fields(request: ImageRequest, delivery: str) -> JSONObject:
    return {
        "numberResults": request.n,
        "outputType": "URL",
        "outputFormat": "PNG",  # the default is JPG; we save the provider's bytes as they are
        "includeCost": True,  # adds `cost` (USD) to every result item (model page)
        "deliveryMethod": delivery,  # sync answers with the images; async acks, then getResponse
    }


def _raise_for_errors(body: JSONObject, headers: Mapping[str, str]) -> None:
    # Errors are per task and may come beside `data` in a 2xx answer (errors page).
    if (entry := first_error(body)) is not None:
        raise to_error(200, entry, headers)


def _data(body: JSONObject) -> list[JSONObject]:
    data = body.get("data")
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ProtocolError(f"expected a `data` list of items, got {body!r:.200}", provider=PROVIDER)
    return data


def _status_of(item: JSONObject) -> str:
    status = item.get("status")
    if status is None:  # sync answers carry no status; a result URL means done (SDK terminal check) [I]
        return "success" if "imageURL" in item else "processing"
    if status not in ("processing", "success", "error"):  # the three documented values [C]
        raise ProtocolError(f"unknown item status {status!r}", provider=PROVIDER, request_id=_text(item, "taskUUID"))
    return str(status)


def _latest_items(items: list[JSONObject]) -> list[JSONObject]:
    """One item per image: polls are cumulative and may repeat an image; an ended state wins (SDK tests)."""
    by_image: dict[str, JSONObject] = {}
    for position, item in enumerate(items):
        key = _text(item, "imageUUID") or _text(item, "imageURL") or f"#{position}"
        if key not in by_image or _status_of(by_image[key]) == "processing":
            by_image[key] = item
    return list(by_image.values())


def _with_status(items: list[JSONObject], status: str) -> list[JSONObject]:
    return [item for item in items if _status_of(item) == status]


def _is_complete(succeeded: int, processing: bool, expected: int | None) -> bool:
    # Images of one task arrive one by one: wait for all that were asked for (SDK `expected_count`).
    if expected is not None:
        return succeeded >= expected
    return succeeded > 0 and not processing


def _progress(items: list[JSONObject], expected: int | None) -> float | None:
    """Mean `progress` (0–100) over the images asked for, finished ones counting as done."""
    reported = [item.get("progress") for item in _with_status(items, "processing")]
    percents = [value for value in reported if isinstance(value, int | float)]
    if not percents:
        return None
    done = len(_with_status(items, "success"))
    return min(1.0, (done + sum(percents) / 100) / max(expected or 0, len(items)))


def _output(items: list[JSONObject], task_id: str | None) -> ProviderOutput:
    costs = [item["cost"] for item in items if isinstance(item.get("cost"), int | float)]
    cost = round(sum(costs), 6) if costs else None  # with includeCost, each item states its own
    images = tuple(image for item in items if (image := _image(item)) is not None)
    if not images:
        raise ProtocolError(f"no finished item has an imageURL: {items!r}", provider=PROVIDER, request_id=task_id)
    # A finished item without a URL is skipped with a note: the others were made and billed.
    skipped = len(items) - len(images)
    notes = (f"skipped {skipped} finished item(s) without an imageURL",) if skipped else ()
    return ProviderOutput(images, task_id, cost_usd=cost, notes=notes)


def _image(item: JSONObject) -> OutputImage | None:
    url = _text(item, "imageURL")
    if url is None:
        return None
    seed = item.get("seed")  # not sent (2.6 has no seed) but reported per image [C]
    return OutputImage(url, seed if isinstance(seed, int) and not isinstance(seed, bool) else None)


def _task_uuid(items: list[JSONObject]) -> str | None:
    return next((found for item in items if (found := _text(item, "taskUUID"))), None)


def _failed(task_id: str, error: ProviderError, made: ProviderOutput | None = None) -> TaskState:
    error.task_id = task_id
    return TaskState(task_id, TaskStatus.FAILED, "error", task_id, output=made, error=error)


def _text(item: JSONObject, key: str) -> str | None:
    value = item.get(key)
    return value if isinstance(value, str) and value else None


def _sent_task_uuid(sent: HttpCall | None) -> str | None:
    tasks = sent.json if sent is not None else None
    if isinstance(tasks, list) and tasks and isinstance(tasks[0], dict):
        return tasks[0].get("taskUUID")
    return None
