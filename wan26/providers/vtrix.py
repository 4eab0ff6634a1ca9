"""Vtrix (vtrix.ai): DashScope's body wrapped in `input[0].params`, submitted as a task and polled.

The vendor's pages and official clients, cited below by name:
- model page (wan26_image): https://doc.vtrix.ai/domestic/api/qwen/wan26-image
- t2i page (wan26_t2i): https://doc.vtrix.ai/docs/api/qwen/wan26-t2i
- generation API: https://docs.vtrix.ai/api-reference/models/model_api_documentation_gitbook
- CLI task page: https://doc.vtrix.ai/public/cli/cmd-task/
- vtrix-cli: https://github.com/VtrixAI/vtrix-cli (internal/generation/client.go)
- SeaArt SDK (the same gateway): https://github.com/SeaArt-Infra/sea-sdk-python
- Wan 2.7 page: https://doc.vtrix.ai/domestic/api/qwen/wan27-image-intl, and vtrix-cli's skills
  skills/image/wan2.7-image{,-pro}/SKILL.md
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import quote

from wan26.errors import ProtocolError, ProviderError
from wan26.images import DASHSCOPE_IMAGE_RULES
from wan26.pricing import Price
from wan26.providers import _vtrix_errors, _wan27
from wan26.providers._base import (
    Credentials,
    HttpCall,
    JSONObject,
    ModelOffer,
    OutputImage,
    OutputItem,
    OutputText,
    ProviderFacts,
    ProviderOutput,
    TaskState,
    TaskStatus,
    WireRequest,
)
from wan26.providers._wire import bearer, read_items, text
from wan26.providers.dashscope import LIMITS as DASHSCOPE_LIMITS
from wan26.providers.dashscope import RECOMMENDED_SIZES as DASHSCOPE_SIZES
from wan26.providers.dashscope import dashscope_body
from wan26.types import Flow, Mode, Model

_SUBMIT_PATH = "/model/v1/generation"  # "use this endpoint for all Multimodal models" (generation API) [C]
_TASK_PATH = "/model/v1/generation/task/"  # vtrix-cli GetTask [C]
_MODELS = {Mode.TEXT_TO_IMAGE: "wan26_t2i", Mode.EDIT: "wan26_image", Mode.INTERLEAVE: "wan26_image"}

# Vtrix forwards DashScope's own body, so upstream's limits apply (the model page repeats them); the
# t2i page gives 1280²–1440² with no exceptions below it.
LIMITS = {
    **DASHSCOPE_LIMITS,
    Mode.TEXT_TO_IMAGE: replace(DASHSCOPE_LIMITS[Mode.TEXT_TO_IMAGE], also_allowed=frozenset()),
}
# in_progress | completed | failed [C] (vtrix-cli, SeaArt SDK); the CLI task page also lists pending and
# processing, so anything else is still running unless its word means an end: those are read (any case)
# so a dead task is not polled to the deadline.
_TASK_STATUSES = {
    "pending": TaskStatus.QUEUED,
    **dict.fromkeys(("completed", "succeeded", "success"), TaskStatus.SUCCEEDED),
    **dict.fromkeys(_vtrix_errors.CANCELED_STATUSES, TaskStatus.CANCELED),
    **dict.fromkeys(_vtrix_errors.FAILED_STATUSES, TaskStatus.FAILED),
}

RECOMMENDED_SIZES = {
    **DASHSCOPE_SIZES,
    Mode.TEXT_TO_IMAGE: tuple(s for s in DASHSCOPE_SIZES[Mode.TEXT_TO_IMAGE] if s.pixels >= 1280 * 1280),
}

# 2.7: the same body forwarded, so Alibaba's limits. The documented parameters are size, n, watermark,
# thinking_mode, seed and color_palette; whether bbox_list and enable_sequential pass through is [?],
# so no box edits and no image sets here. [?] The ids are the skills' (wan27_image, wan27_image_pro);
# the doc page also names wan27_image_intl.
_MODES_27 = (Mode.TEXT_TO_IMAGE, Mode.EDIT)
# Alibaba's 8:1 for references; [?] the gateway's own body limit is undocumented, so 2.6's 10 MB.
_IMAGE_RULES_27 = replace(DASHSCOPE_IMAGE_RULES, max_ratio=8)
LIMITS_27 = {mode: replace(_wan27.LIMITS[mode], boxes_per_image=0) for mode in _MODES_27}
LIMITS_27_PRO = {mode: replace(_wan27.PRO_LIMITS[mode], boxes_per_image=0) for mode in _MODES_27}


FACTS = ProviderFacts(
    name="vtrix",
    title="Vtrix",
    key_env="VTRIX_API_KEY",
    base_url_env="VTRIX_BASE_URL",
    default_base_url="https://cloud.vtrix.ai",
    key_help="Create a key on Vtrix's API key page: https://vtrix.ai",
    offers={
        Model.WAN26: ModelOffer(
            ids=_MODELS,
            limits=LIMITS,
            recommended_sizes=RECOMMENDED_SIZES,
            image_rules=DASHSCOPE_IMAGE_RULES,
            price=Price(None, "Vtrix publishes no price for wan26_image; the charge is shown after the run"),
        ),
        Model.WAN27: ModelOffer(
            ids=dict.fromkeys(_MODES_27, "wan27_image"),
            limits=LIMITS_27,
            recommended_sizes={mode: _wan27.RECOMMENDED_SIZES[mode] for mode in _MODES_27},
            image_rules=_IMAGE_RULES_27,
            price=Price(None, "Vtrix publishes no price for wan27_image; the charge is shown after the run"),
        ),
        Model.WAN27_PRO: ModelOffer(
            ids=dict.fromkeys(_MODES_27, "wan27_image_pro"),
            limits=LIMITS_27_PRO,
            recommended_sizes={mode: _wan27.PRO_RECOMMENDED_SIZES[mode] for mode in _MODES_27},
            image_rules=_IMAGE_RULES_27,
            price=Price(None, "Vtrix publishes no price for wan27_image_pro; the charge is shown after the run"),
        ),
    },
    # The only one: the sync route is documented for SeaArt only (SeaArt SDK) [?], so it is never guessed at.
    default_flow=Flow.TASK,
)


class Vtrix:
    """Tasks only: submit, then poll the task."""

    facts = FACTS

    def build_submit(self, wire: WireRequest, creds: Credentials) -> HttpCall:
        model = FACTS.model_id(wire.request.model, wire.request.mode)
        # Every official client wraps DashScope's native body in input[0].params; whether the flat
        # body is accepted too is [?], so we send the wrapped form (vtrix-cli Submit, SeaArt SDK, and
        # Vtrix's newer model pages). The model sits at the top only [?]; params holds input and parameters.
        params = {key: value for key, value in dashscope_body(wire, model).items() if key != "model"}
        body = {"model": model, "input": [{"params": params}]}
        headers = bearer(creds)
        return HttpCall("POST", creds.base_url + _SUBMIT_PATH, headers, body)

    def build_poll(self, task_id: str, creds: Credentials) -> HttpCall:
        url = creds.base_url + _TASK_PATH + quote(task_id, safe="")
        return HttpCall("GET", url, bearer(creds, json_body=False))

    def parse_submit(self, body: JSONObject, sent: HttpCall | None = None) -> TaskState:
        # The submission answers with the task itself: {id, created_at, status, model} (SeaArt SDK).
        return self.parse_task(body, task_id="")

    def parse_task(self, body: JSONObject, task_id: str, expected_images: int | None = None) -> TaskState:
        task_id = text(body.get("id")) or task_id
        # vtrix-cli's Submit also reads a bare `error` from an answer without id or status.
        raw = text(body.get("status")) or ("failed" if body.get("error") else None)
        if raw is None:
            raise ProtocolError(
                f"no task status in the answer: {body!r:.200}", provider=FACTS.name, task_id=task_id or None
            )
        status = _TASK_STATUSES.get(raw.lower(), TaskStatus.RUNNING)
        output = _output(body, task_id) if status is TaskStatus.SUCCEEDED else None
        ended = status in (TaskStatus.FAILED, TaskStatus.CANCELED)
        error = _vtrix_errors.ended_error(raw, body.get("error"), task_id) if ended else None
        request_id = text(body.get("request_id"))
        return TaskState(task_id, status, raw, request_id, output=output, error=error, progress=_progress(body))

    def parse_error(self, status: int, body: JSONObject | None, headers: Mapping[str, str]) -> ProviderError:
        return _vtrix_errors.http_error(status, body, headers)


def _output(body: JSONObject, task_id: str) -> ProviderOutput:
    """`output: [{content: [{type, url, jobId}]}]` in order; `usage.cost` is USD as a string or number
    (SeaArt SDK, vtrix-cli)."""
    groups = body.get("output")
    if not isinstance(groups, list):
        raise ProtocolError("a completed task without an output list", provider="vtrix", task_id=task_id)
    read = [_group_items(group) for group in groups]
    items = tuple(item for group_items, _ in read for item in group_items)
    notes = tuple(note for _, group_notes in read for note in group_notes)
    if not items:
        skipped = f" ({'; '.join(notes)})" if notes else ""
        raise ProtocolError(
            f"a completed task with nothing usable in its output{skipped}", provider="vtrix", task_id=task_id
        )
    usage = body["usage"] if isinstance(body.get("usage"), dict) else {}
    cost = _cost(usage.get("cost"))
    return ProviderOutput(items, text(body.get("request_id")), usage, cost_usd=cost, notes=notes)


def _group_items(group: object) -> tuple[list[OutputItem], list[str]]:
    """One output group's items, and a note for each entry skipped.

    Only image items are documented (model page), text ones are our reading: anything else is skipped
    with a note rather than discarding the images of a finished, billed task.
    """
    content = group.get("content") if isinstance(group, dict) else None
    if not isinstance(content, list):
        return [], [f"skipped an output group without content: {group!r:.80}"]
    return read_items(content, _item, {"image": "url", "text": "text"})


def _item(entry: object) -> OutputItem | None:
    if isinstance(entry, dict):
        if entry.get("type") == "image" and text(entry.get("url")):
            return OutputImage(entry["url"])
        # [?] Interleave text items are undocumented; we read {"type": "text", "text": …} in place.
        if entry.get("type") == "text" and isinstance(entry.get("text"), str):
            return OutputText(entry["text"])
    return None


def _cost(value: object) -> float | None:
    """USD; a cost we cannot read is left out rather than costing the user their images."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _progress(body: JSONObject) -> float | None:
    """0.0–1.0, only while in progress (vtrix-cli, SeaArt SDK) [C]."""
    value = body.get("progress")
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    return None
