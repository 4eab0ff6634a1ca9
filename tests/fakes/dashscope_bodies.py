"""How the DashScope fake answers: JSON bodies, SSE framing and task bodies.

Shapes are copied from DashScope's API reference (https://www.alibabacloud.com/help/en/model-studio/wan-image-generation-api-reference),
its task query page (https://platform.qianwenai.com/docs/api-reference/image-generation/wan26-image-gen-edit/query-result)
and its error codes page (https://www.alibabacloud.com/help/en/model-studio/error-code).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal

STREAM_NOT_FINISHED = "null"  # the STRING "null", not JSON null, until the last event
TEXT_DELTA_CHARS = 4  # text arrives as deltas of "a token or a few characters"
INTERLEAVE_INPUT_TOKENS = 28  # informational only in interleave mode
SERVER_TZ = timezone(timedelta(hours=8))  # task times are UTC+8 (task query page)
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"})
TASK_STATUSES = frozenset({"PENDING", "RUNNING"}) | TERMINAL_STATUSES

Size = tuple[int, int]


@dataclass(frozen=True)
class Segment:
    """One piece of interleaved output: a whole text paragraph or one image URL."""

    kind: Literal["text", "image"]
    value: str


def size_text(size: Size | None) -> str:
    return f"{size[0]}*{size[1]}" if size else "0*0"  # "0*0" before the first image


def server_time(moment: datetime) -> str:
    """``YYYY-MM-DD HH:mm:ss.SSS`` in UTC+8 (task query page)."""
    local = moment.astimezone(SERVER_TZ)
    return local.strftime("%Y-%m-%d %H:%M:%S.") + f"{local.microsecond // 1000:03d}"


def error_body(request_id: str, code: str, message: str) -> dict:
    return {"request_id": request_id, "code": code, "message": message}  # error codes page


def image_item(url: str) -> dict:
    return {"image": url, "type": "image"}


def text_item(text: str) -> dict:
    return {"text": text, "type": "text"}


def choice(content: list[dict], finish_reason: str = "stop") -> dict:
    return {"finish_reason": finish_reason, "message": {"role": "assistant", "content": content}}


def usage(image_count: int, size: Size | None, input_tokens: int = 0, output_tokens: int = 0) -> dict:
    return {
        "image_count": image_count,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "size": size_text(size),
        "total_tokens": input_tokens + output_tokens,
    }


# ---- sync, non-stream (API reference, t2i reference) -----------------------------------


def images_output(urls: list[str]) -> list[dict]:
    """One choice per image, each with a single image item (API reference, task query page)."""
    return [choice([image_item(url)]) for url in urls]


def grouped_output(urls: list[str]) -> list[dict]:
    """wan2.7: ONE choice whose content holds every image (image sets, ZH-REF's SDK examples:
    https://help.aliyun.com/zh/model-studio/wan-image-generation-and-editing-api-reference)."""
    return [choice([image_item(url) for url in urls])]


def sync_images_body(
    request_id: str, urls: list[str], size: Size, *, grouped: bool = False, tokens: tuple[int, int] = (0, 0)
) -> dict:
    """``grouped`` and non-zero ``tokens`` are wan2.7's (ZH-REF); wan2.6 edit/t2i report 0 tokens."""
    return {
        "output": {"choices": grouped_output(urls) if grouped else images_output(urls), "finished": True},
        "usage": usage(len(urls), size, *tokens),
        "request_id": request_id,
    }


# ---- interleaved output ----------------------------------------------------------------


def interleave_segments(urls: list[str]) -> list[Segment]:
    """A paragraph (with non-ASCII text) before each image, then a closing paragraph."""
    segments: list[Segment] = []
    for step, url in enumerate(urls, start=1):
        segments.append(Segment("text", f"Step {step} — 准备食材: café ✓ slice, stir, taste. "))
        segments.append(Segment("image", url))
    segments.append(Segment("text", "Done — 完成! Enjoy the dish ✓"))
    return segments


def interleave_output_tokens(segments: list[Segment]) -> int:
    return sum(len(_deltas(s.value)) for s in segments if s.kind == "text")


def interleave_choice(segments: list[Segment]) -> dict:
    """Async interleave result: ONE choice, whole-paragraph text items alternating with images (API reference)."""
    return choice([text_item(s.value) if s.kind == "text" else image_item(s.value) for s in segments])


def _deltas(text: str) -> list[str]:
    return [text[i : i + TEXT_DELTA_CHARS] for i in range(0, len(text), TEXT_DELTA_CHARS)]


def _stream_items(segments: list[Segment]) -> list[dict]:
    items: list[dict] = []
    for segment in segments:
        if segment.kind == "image":
            items.append(image_item(segment.value))  # one event with a complete URL
        else:
            items.extend(text_item(delta) for delta in _deltas(segment.value))
    return items


def stream_payloads(request_id: str, segments: list[Segment], size: Size) -> list[dict]:
    """One payload per content item, with cumulative usage and the end marked only on the last."""
    items = _stream_items(segments)
    payloads, images, text_deltas = [], 0, 0
    for index, item in enumerate(items):
        images += item["type"] == "image"
        text_deltas += item["type"] == "text"
        last = index == len(items) - 1
        payloads.append(
            {
                "output": {
                    "choices": [choice([item], "stop" if last else STREAM_NOT_FINISHED)],
                    "finished": last,  # [D] false until the last event (the SDK examples)
                },
                "usage": usage(images, size if images else None, INTERLEAVE_INPUT_TOKENS, text_deltas),
                "request_id": request_id,
            }
        )
    return payloads


def _json(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def sse_event(event_id: int, payload: dict) -> bytes:
    """DashScope's SSE framing: no space after colons, a blank line after each event, no [DONE]."""
    return f"id:{event_id}\nevent:result\n:HTTP_STATUS/200\ndata:{_json(payload)}\n\n".encode()


def sse_error_event(event_id: int, request_id: str, code: str, message: str) -> bytes:
    body = {"code": code, "message": message, "request_id": request_id}
    return f"id:{event_id}\nevent:error\n:HTTP_STATUS/400\ndata:{_json(body)}\n\n".encode()


def chunked(data: bytes, chunk_size: int | None) -> list[bytes]:
    if not chunk_size:
        return [data]
    return [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]


# ---- async tasks (API reference, task query page) --------------------------------------


@dataclass
class Task:
    """One submitted async task. Script and failure settings are captured at submit time."""

    task_id: str
    mode: str
    size: Size
    urls: list[str]
    segments: list[Segment]
    script: list[str]
    failure: tuple[str, str]
    failure_shape: str
    grouped: bool = False  # wan2.7: one choice holding every image
    tokens: tuple[int, int] = (0, 0)  # wan2.7: non-zero (input, output) tokens
    status: str = "PENDING"
    step: int = -1
    submit_time: datetime = field(default_factory=lambda: datetime.now(SERVER_TZ))
    scheduled_time: datetime | None = None
    end_time: datetime | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def advance(self) -> None:
        """One poll = one step through the script; the last state repeats; terminal is final."""
        if self.terminal:
            return
        self.step = min(self.step + 1, len(self.script) - 1)
        self.move_to(self.script[self.step])

    def move_to(self, status: str) -> None:
        now = datetime.now(SERVER_TZ)
        self.status = status
        if status != "PENDING" and self.scheduled_time is None:
            self.scheduled_time = now
        if self.terminal:
            self.end_time = now


def submit_body(request_id: str, task: Task) -> dict:
    return {"output": {"task_status": task.status, "task_id": task.task_id}, "request_id": request_id}


def unknown_task_body(request_id: str, task_id: str) -> dict:
    return {"request_id": request_id, "output": {"task_id": task_id, "task_status": "UNKNOWN"}}  # [U] the exact body


def task_body(request_id: str, task: Task) -> dict:
    if task.status == "UNKNOWN":
        return unknown_task_body(request_id, task.task_id)
    output = {"task_id": task.task_id, "task_status": task.status}
    if not task.terminal:
        return {"request_id": request_id, "output": output}  # RUNNING (task query page)
    output.update(_times(task), finished=True)
    body = {"request_id": request_id, "output": output}
    if task.status == "SUCCEEDED":
        output["choices"] = _task_choices(task)
        body["usage"] = _task_usage(task)
    elif task.status == "FAILED":
        _add_failure(body, task)
    return body


def _times(task: Task) -> dict:
    times = {"submit_time": task.submit_time, "scheduled_time": task.scheduled_time, "end_time": task.end_time}
    return {name: server_time(moment) for name, moment in times.items() if moment is not None}


def _task_choices(task: Task) -> list[dict]:
    if task.mode == "interleave":
        return [interleave_choice(task.segments)]
    return grouped_output(task.urls) if task.grouped else images_output(task.urls)


def _task_usage(task: Task) -> dict:
    if task.mode != "interleave":
        return usage(len(task.urls), task.size, *task.tokens)
    image_size = task.size if task.urls else None
    return usage(len(task.urls), image_size, INTERLEAVE_INPUT_TOKENS, interleave_output_tokens(task.segments))


def _add_failure(body: dict, task: Task) -> None:
    """[D] The FAQ's shape nests code/message in output (default); the task query page's puts them top level."""
    code, message = task.failure
    target = body if task.failure_shape == "top" else body["output"]
    target.update(code=code, message=message)
