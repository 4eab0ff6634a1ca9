"""Saving the images a run made, each as it comes, and knowing which were saved and which were not."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

from wan26._http import Http
from wan26._redact import redact
from wan26.errors import DownloadError
from wan26.storage import RunFolder, truncation
from wan26.types import SavedImage


class Downloads:
    """Every image offered by the vendor, by file number: saved (`images`) or not (`failed`, with
    its URL, which works for about 24 h). `seed_of(url)` is the seed that image was made with;
    `on_done()` is called whenever a download ends."""

    def __init__(
        self,
        http: Http,
        folder: RunFolder,
        api_key: str,
        seed_of: Callable[[str], int | None],
        on_done: Callable[[], None] = lambda: None,
    ) -> None:
        self._http, self._folder, self._api_key = http, folder, api_key
        self._seed_of, self.on_done = seed_of, on_done
        self.offered: dict[int, str] = {}
        self.images: list[SavedImage] = []
        self.failed: list[dict[str, Any]] = []
        self._next_index = 1
        self._pending: deque[asyncio.Task[SavedImage | None]] = deque()  # in the order offered

    def start(self, url: str, index: int | None = None) -> int:
        """Begin saving `url` as image `index` (default: the next number); its file number."""
        index = self.offer(url, index)
        self._pending.append(asyncio.create_task(self._save(index, url)))
        return index

    def offer(self, url: str, index: int | None = None) -> int:
        """Number image `url` without saving it (yet); its file number."""
        if index is None:
            index = self._next_index
        self._next_index = max(self._next_index, index + 1)
        self.offered[index] = url
        return index

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def finished_in_order(self) -> list[SavedImage | None]:
        """The downloads ended since the last call, in the order they were offered: one still running
        holds back those after it, so images are announced in the order the vendor gave them."""
        ready: list[SavedImage | None] = []
        while self._pending and self._pending[0].done():
            ready.append(self._pending.popleft().result())
        return ready

    def cancel(self) -> None:
        """Stopped: ask the downloads still running to end; `note_stopped` keeps their URLs. (A file
        being written in a worker thread may still land; its URL is kept either way.)"""
        for task in self._pending:
            task.cancel()

    def note_stopped(self) -> None:
        saved = {image.index for image in self.images} | {entry["index"] for entry in self.failed}
        for index, url in self.offered.items():
            if index not in saved:
                self.failed.append({"index": index, "source_url": url, "error": "stopped before it was saved"})

    def unsaved_urls(self) -> tuple[str, ...]:
        return tuple(entry["source_url"] for entry in sorted(self.failed, key=lambda e: e["index"]))

    def raise_for_failures(self, provider: str, request_id: str | None, task_id: str | None) -> None:
        if not self.failed:
            return
        first = min(self.failed, key=lambda entry: entry["index"])
        saved = f"{len(self.images)} other image(s) are saved in {self._folder.path}." if self.images else ""
        raise DownloadError(
            f"{len(self.failed)} of {len(self.offered)} image(s) could not be saved "
            f"(image {first['index']}: {first['error']})",
            urls=self.unsaved_urls(),
            provider=provider,
            request_id=request_id,
            task_id=task_id,
            hint=saved or None,
        )

    async def _save(self, index: int, url: str) -> SavedImage | None:
        try:
            return await self._saved(index, url)
        finally:
            # Called from inside rather than as a done callback, which would cost one more turn of
            # the event loop per image; the task is done before whoever this wakes gets to run.
            self.on_done()

    async def _saved(self, index: int, url: str) -> SavedImage | None:
        try:
            data = await self._http.download(url, truncation)
            path, width, height = await asyncio.to_thread(self._folder.save_image, index, data)
        except Exception as exc:  # noqa: BLE001 (whatever went wrong, the URL is kept: the user can still fetch it)
            reason = redact((str(exc) or type(exc).__name__).splitlines()[0], self._api_key)
            self.failed.append({"index": index, "source_url": url, "error": reason})
            return None
        image = SavedImage(index, path, url, width, height, self._seed_of(url))
        self.images.append(image)
        return image
