"""Which runs a visitor owns, for History's `own` mode: the run folders their session made, and the
list of run ids their browser keeps (a gr.BrowserState, so it outlives reloads and restarts).

A run id carries 128 random bits, so knowing one is what owning it means: ids reach only the page of
the session that made them, and every History handler checks an id against the visitor's own list.
The list's secret only scrambles it in the browser's storage (Gradio puts the secret in the page
config); it is pinned so that a restart can still read the lists browsers hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tempfile
from collections import Counter, OrderedDict
from collections.abc import Mapping
from pathlib import Path

from wan26.errors import ConfigError
from wan26.history import run_id_is_valid

KEPT_IDS = 500  # the newest ids a browser keeps; older runs stay on disk, out of its History
MADE_SESSIONS = 1024  # sessions remembered (API callers never collect theirs); the oldest go first
MADE_PER_SESSION = 64
STOP_WAIT_S = 10.0  # how long "Stop" waits for the run it cancelled to write its record
SECRET_NAME = ".browser-state-secret"


def owned_ids(value: object) -> list[str]:
    """The run ids in a list sent by a browser, newest first, at most KEPT_IDS; anything else dropped.
    (Run ids start with their time, so sorting them sorts the runs.)"""
    if not isinstance(value, list):
        return []
    return sorted({item for item in value if run_id_is_valid(item)}, reverse=True)[:KEPT_IDS]


def owns(value: object, run_id: object) -> bool:
    return run_id_is_valid(run_id) and run_id in owned_ids(value)


class MadeRuns:
    """The run ids each session made, by Gradio's session hash, until its page puts them in its
    browser's list. They are kept, not handed over once: two runs ending together each send the
    list back, and the later answer must still hold both."""

    def __init__(self) -> None:
        self._by_session: OrderedDict[str, list[str]] = OrderedDict()
        self._running: Counter[str] = Counter()

    def start(self, session: str | None) -> MadeRun:
        if session:
            self._running[session] += 1
        return MadeRun(self, session)

    def record(self, session: str | None, folder: Path | None) -> None:
        """Keep `folder`'s name for `session` if the run saved anything there."""
        if not session or folder is None or not folder.is_dir() or not run_id_is_valid(folder.name):
            return
        made = self._by_session.setdefault(session, [])
        self._by_session.move_to_end(session)
        if folder.name not in made:
            made.append(folder.name)
        del made[:-MADE_PER_SESSION]
        while len(self._by_session) > MADE_SESSIONS:
            self._by_session.popitem(last=False)

    def forget(self, session: str | None, run_id: str) -> None:
        """A deleted run must not come back into the list with the next run's update."""
        with contextlib.suppress(ValueError):
            self._by_session.get(session or "", []).remove(run_id)

    def of(self, session: str | None) -> list[str]:
        return list(self._by_session.get(session or "", []))

    async def settled(self, session: str | None, wait_s: float = STOP_WAIT_S) -> None:
        """Return once no run of `session` is going on (or after `wait_s`): Stop's cancellation
        reaches the run at about the moment Stop's own handler starts."""
        deadline = asyncio.get_running_loop().time() + wait_s
        while session and self._running[session] > 0 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)

    def finish(self, session: str | None, folder: Path | None) -> None:
        """A run of `session` ended, having saved what it made in `folder` (if anything)."""
        self.record(session, folder)
        if session:
            self._running[session] -= 1
            if self._running[session] <= 0:
                del self._running[session]


class MadeRun:
    """One run of a session: `done(folder)` once it ends, however (later calls change nothing)."""

    def __init__(self, made: MadeRuns, session: str | None) -> None:
        self._made, self._session, self._open = made, session, True

    def done(self, folder: Path | None) -> None:
        if self._open:
            self._open = False
            self._made.finish(self._session, folder)


def browser_secret(env: Mapping[str, str], output_dir: Path) -> str:
    """WAN26_BROWSER_SECRET, else one made once and kept in the output folder (0600), so that
    the lists browsers keep can still be read after a restart."""
    given = (env.get("WAN26_BROWSER_SECRET") or "").strip()
    if given:
        return given
    path = output_dir / SECRET_NAME
    try:
        return path.read_text().strip() or _replace_secret(path)
    except FileNotFoundError:
        return _new_secret(path)
    except OSError as error:
        raise _secret_error(path, error) from error


def _new_secret(path: Path) -> str:
    """Written whole under a temporary name, then linked into place: a process starting at the same
    moment either finds no file or the whole secret, and the first link wins."""
    secret = secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")  # mode 0600
        with os.fdopen(handle, "w") as file:
            file.write(secret)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return path.read_text().strip()
        finally:
            os.unlink(temporary)
    except OSError as error:
        raise _secret_error(path, error) from error
    return secret


def _replace_secret(path: Path) -> str:
    path.unlink(missing_ok=True)  # empty: written by hand, or cut short; no browser list can use it
    return _new_secret(path)


def _secret_error(path: Path, error: OSError) -> ConfigError:
    return ConfigError(
        f"History keeps each browser's run list with a secret stored in {path}, which could not be "
        f"written or read ({error.strerror or error}): make WAN26_OUTPUT_DIR writable, set "
        "WAN26_BROWSER_SECRET, or set WAN26_HISTORY=all or off."
    )
