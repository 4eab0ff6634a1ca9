"""The Batch tab over HTTP only, as a browser (or a stranger) drives it: files uploaded to Gradio's
upload route, the tab's private events joined on the queue, their messages read from the session's
event stream. Nothing in-process: whatever these calls can do, any visitor can.

    with Visitor(url) as visitor:
        jobs = visitor.upload(path)                       # a FileData, as the page sends it
        verdict = visitor.call("batch-jobs", "change", visitor.inputs(jobs))
        run = visitor.join("batch-run", "click", visitor.inputs(jobs))
        visitor.join("batch-stop", "click", [])           # same session: stops its own batch
        final = visitor.result(run)
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from pathlib import Path

import httpx

WAIT_S = 90  # a generous bound; reaching it fails the test


class Visitor:
    """One session of the app (a page load), from address `source`, sending `headers` with each call."""

    def __init__(self, url: str, headers: dict | None = None, source: str = "127.0.0.1") -> None:
        transport = httpx.HTTPTransport(local_address=source)
        self.http = httpx.Client(base_url=url, headers=headers or {}, transport=transport, timeout=WAIT_S)
        self.session = uuid.uuid4().hex
        self.config = self.http.get("config").json()
        self.messages: dict[str, list[dict]] = {}  # by event id, in order
        self._done: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None

    def __enter__(self) -> Visitor:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    # ---- files --------------------------------------------------------------------------------

    def upload(self, *paths: Path) -> list[dict]:
        """Each file through Gradio's upload route, as the page's upload box sends it: FileData dicts."""
        files = [("files", (path.name, path.read_bytes())) for path in paths]
        answer = self.http.post("gradio_api/upload", files=files)
        answer.raise_for_status()
        return [file_data(server_path, path.name) for server_path, path in zip(answer.json(), paths, strict=True)]

    # ---- events -------------------------------------------------------------------------------

    def dependency(self, elem_id: str, event: str) -> dict:
        """The event `event` of the component `elem_id`, as the page's config describes it."""
        [component] = [c["id"] for c in self.config["components"] if c.get("props", {}).get("elem_id") == elem_id]
        [found] = [d for d in self.config["dependencies"] if [component, event] in d["targets"]]
        return found | {"trigger": component}

    def loaded(self, storage_key: str) -> dict:
        """The page-load event that reads the browser's storage entry `storage_key` (a gr.BrowserState)."""
        [store] = [c["id"] for c in self.config["components"] if c.get("props", {}).get("storage_key") == storage_key]
        [found] = [
            d
            for d in self.config["dependencies"]
            if any(event == "load" for _, event in d["targets"]) and d["inputs"] == [store]
        ]
        return found | {"trigger": None}

    def join(
        self, elem_id: str, event: str, data: list, dependency: dict | None = None, event_data: dict | None = None
    ) -> str:
        """Put the event in the queue for this session; its id (its messages come on the session's stream).
        `event_data`: what the page sends with a select (a click's {"index": [x, y], "value": None})."""
        dependency = dependency or self.dependency(elem_id, event)
        body = {"data": data, "fn_index": dependency["id"], "session_hash": self.session, "event_data": event_data}
        answer = self.http.post("gradio_api/queue/join", json=body | {"trigger_id": dependency["trigger"]})
        answer.raise_for_status()
        event_id = answer.json()["event_id"]
        with self._lock:
            self.messages.setdefault(event_id, [])
            self._done.setdefault(event_id, threading.Event())
            if self._reader is None or not self._reader.is_alive():
                self._reader = threading.Thread(target=self._read, daemon=True)
                self._reader.start()
        return event_id

    def result(self, event_id: str, timeout: float = WAIT_S) -> dict:
        """The event's last message (`process_completed`: its `success` and `output`)."""
        if not self._done[event_id].wait(timeout):
            raise AssertionError(f"event {event_id} did not complete in {timeout} s: {self.messages[event_id]}")
        return self.messages[event_id][-1]

    def call(self, elem_id: str, event: str, data: list) -> dict:
        return self.result(self.join(elem_id, event, data))

    def updates(self, event_id: str) -> list[list]:
        """Each state of the outputs the event showed (a generator's yields, then its result). Gradio
        streams a generator's later yields as diffs against the one before: they are applied here."""
        shown: list[list] = []
        for message in copy.deepcopy(list(self.messages.get(event_id, []))):  # patched in place: read again later
            data = (message.get("output") or {}).get("data")
            if message.get("msg") == "process_completed" and data is not None:
                shown.append(data)
            elif message.get("msg") == "process_generating" and data is not None:
                shown.append(
                    data if not shown else [patched(old, new) for old, new in zip(shown[-1], data, strict=True)]
                )
        return shown

    def text(self) -> str:
        """Every message this session received, for checks that nothing leaked."""
        return json.dumps(self.messages)

    def _read(self) -> None:
        """Read the session's stream until every event joined so far has completed (then the server closes it)."""
        while True:
            with httpx.stream(
                "GET",
                f"{self.http.base_url}gradio_api/queue/data",
                params={"session_hash": self.session},
                timeout=WAIT_S,
                headers=self.http.headers,
            ) as stream:
                for line in stream.iter_lines():
                    if line.startswith("data:"):
                        self._take(json.loads(line[5:]))
            with self._lock:
                if all(done.is_set() for done in self._done.values()):
                    self._reader = None
                    return

    def _take(self, message: dict) -> None:
        event_id = message.get("event_id")
        if event_id is None:
            return
        with self._lock:
            self.messages.setdefault(event_id, []).append(message)
            if message.get("msg") == "process_completed":
                self._done.setdefault(event_id, threading.Event()).set()

    # ---- the tab's inputs ---------------------------------------------------------------------

    @staticmethod
    def inputs(
        jobs: dict | None,
        images: list[dict] | None = None,
        provider: str = "dashscope",
        max_cost: str = "",
        held: object = None,
    ) -> list:
        """The tab's inputs in order: jobs file, images, the vendor picker, the session's keys
        (server-side state: whatever a visitor sends there is not used), the most to spend, and the
        batch ids the browser keeps (a gr.BrowserState: the browser sends whatever it holds)."""
        keys = {"dashscope": "sent-by-the-visitor-as-state"}
        return [jobs, images or None, provider, keys, max_cost, [] if held is None else held]


def patched(value, diff):
    """`value` after Gradio's diff `diff` (a list of [op, path, value]); a plain value replaces it."""
    if not (isinstance(diff, list) and all(isinstance(op, list) and op and op[0] in OPS for op in diff)):
        return diff
    for op, path, new in diff:
        if not path:
            value = value + new if op == "append" else new
            continue
        *where, last = path
        target = value
        for key in where:
            target = target[key]
        if op == "append":
            target[last] = target[last] + new
        elif op == "delete":
            del target[last]
        elif op == "add" and isinstance(target, list):
            target.insert(last, new)
        else:
            target[last] = new
    return value


OPS = ("replace", "append", "add", "delete")


def file_data(server_path: str, name: str) -> dict:
    return {"path": server_path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def output(message: dict) -> list:
    return (message.get("output") or {}).get("data") or []
