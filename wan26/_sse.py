"""A sans-I/O Server-Sent Events decoder: feed it bytes as they arrive, get whole events back.

Network reads split events anywhere, even inside a UTF-8 character, so lines are cut on bytes
and only complete lines are decoded. Framing follows the WHATWG SSE spec
(https://html.spec.whatwg.org/multipage/server-sent-events.html), which DashScope's
`id:` / `event:` / `:HTTP_STATUS/200` / `data:` blocks fit: the framing its official SDK parses
(https://pypi.org/project/dashscope/, dashscope/common/utils.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_LINE_END = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class SSEEvent:
    event: str = "message"
    data: str = ""
    id: str | None = None
    comments: tuple[str, ...] = ()


@dataclass(slots=True)
class _Pending:
    event: str | None = None
    data: list[str] = field(default_factory=list)
    id: str | None = None
    comments: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return self.event is None and not self.data

    def to_event(self) -> SSEEvent:
        return SSEEvent(self.event or "message", "\n".join(self.data), self.id, tuple(self.comments))


class SSEDecoder:
    """Incremental decoder: `feed()` each chunk, `close()` at end of stream."""

    def __init__(self) -> None:
        self._buffer = b""
        self._skip_lf = False
        self._pending = _Pending()

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        self._buffer += chunk
        events = []
        for line in self._take_complete_lines():
            event = self._process_line(line)
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[SSEEvent]:
        """Flush what is left; a last event without its blank line still counts if complete."""
        tail, self._buffer = self._buffer, b""
        events = self.feed(tail + b"\n") if tail else []
        if not self._pending.is_empty():
            events.append(self._pending.to_event())
            self._pending = _Pending()
        return events

    def _take_complete_lines(self) -> list[str]:
        data = self._buffer
        if self._skip_lf and data:
            # The previous chunk ended in \r; a \n opening this one belongs to that line end.
            data = data.removeprefix(b"\n")
            self._skip_lf = False
        parts = _LINE_END.split(data)
        self._buffer = parts.pop()
        self._skip_lf = self._skip_lf or (bool(parts) and data.endswith(b"\r"))
        return [part.decode("utf-8", errors="replace") for part in parts]

    def _process_line(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            self._pending.comments.append(line[1:])
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._pending.data.append(value)
        elif name == "event":
            self._pending.event = value
        elif name == "id":
            self._pending.id = value
        return None

    def _dispatch(self) -> SSEEvent | None:
        pending, self._pending = self._pending, _Pending()
        return None if pending.is_empty() else pending.to_event()
