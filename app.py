"""Wan 2.6 Image Studio: text to image, editing with 1–4 references, and interleaved text + images.

Run `python app.py` and open http://127.0.0.1:7860. All generation goes through the `wan26`
package; this file is only the interface. Keys: the server's come from the environment / `.env`
and never reach the browser; a visitor's own key lives in server-side session state only.
"""

import asyncio
import contextlib
import os
import secrets
import shutil
import tempfile
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field, replace
from math import gcd
from pathlib import Path
from typing import Any

import gradio as gr
from dotenv import find_dotenv, load_dotenv
from gradio import utils as gr_utils

load_dotenv(find_dotenv(usecwd=True))  # before anything reads the environment

from wan26 import (  # noqa: E402
    AsyncClient,
    AuthenticationError,
    BadRequest,
    ConfigError,
    ConnectionFailed,
    Finished,
    Flow,
    GenerationResult,
    ImageOffered,
    ImageRequest,
    ImageSaved,
    InvalidRequest,
    Mode,
    PermissionDenied,
    Phase,
    Progress,
    ProviderError,
    RateLimited,
    Size,
    SizeTier,
    TextDelta,
    Wan26Error,
    parse_size,
    shared_http_client,
)
from wan26.errors import Violation  # noqa: E402
from wan26.guard import KeyGuard, LimitReached, Reservation, proxy_hops, visitor_address  # noqa: E402
from wan26.images import is_web_url  # noqa: E402
from wan26.limits import SEED_MAX, ModeLimits, Range, side_range, violations  # noqa: E402
from wan26.pricing import estimate  # noqa: E402
from wan26.providers import DEFAULT_PROVIDER, PROVIDERS, Adapter, default_provider, flows_of, get_adapter  # noqa: E402
from wan26.storage import default_output_dir  # noqa: E402

RANDOM_SEED = -1
# Runs only wait on HTTP, so users must not queue behind each other (Gradio's default is 1 at a
# time per event). A vendor's own cap on one key's jobs at once is kept per key by wan26 itself
# (WAN26_MAX_CONCURRENT_PER_KEY), so that runs with other keys are not held up behind it.
CONCURRENCY = int(os.environ.get("WAN26_CONCURRENCY", "64"))
QUEUE_SIZE = int(os.environ.get("WAN26_QUEUE_SIZE", "64"))
_PHASE_PROGRESS = {
    Phase.PREPARING: 0.05,
    Phase.QUEUED: 0.07,
    Phase.SUBMITTING: 0.1,
    Phase.WAITING: 0.3,
    Phase.DOWNLOADING: 0.9,
    Phase.DONE: 1.0,
}
SessionKeys = dict[str, str]  # provider name -> a visitor's own key, held in server-side session state
OUTPUT_DIR = default_output_dir(os.environ).resolve()


def _key_guard() -> KeyGuard:
    """The owner's limits on server-key runs (WAN26_SERVER_KEY_DAILY_USD, _RUNS_PER_HOUR, WAN26_PROXY_HOPS)."""
    try:
        proxy_hops(os.environ)  # read again for each run; a wrong value stops the start, not a run
        return KeyGuard.from_env(os.environ, OUTPUT_DIR / ".server-key-spend.json")
    except ConfigError as error:
        raise SystemExit(f"app.py: {error}") from None


GUARD = _key_guard()

# ---------------------------------------------------------------------------------------------
# Vendors: which ones can run, and what each one's limits mean for the controls


def configured_default() -> str:
    """WAN26_PROVIDER when it names a vendor, else the first vendor with a server key, else DashScope."""
    name = default_provider(os.environ).lower()
    return name if name in PROVIDERS else DEFAULT_PROVIDER.value


def server_keyed() -> list[str]:
    return [name for name, adapter in PROVIDERS.items() if os.environ.get(adapter.facts.key_env, "").strip()]


def available(keys: SessionKeys | None) -> list[str]:
    """The vendors this visitor can use: a server key or their own, in the registry's order."""
    ready = set(server_keyed()) | set(keys or {})
    return [name for name in PROVIDERS if name in ready]


def preferred(keys: SessionKeys | None, current: str | None = None) -> str:
    """The vendor to show: the current one if usable, else the configured default, else any usable."""
    ready = available(keys)
    for name in (current, configured_default()):
        if name in ready:
            return name
    return ready[0] if ready else configured_default()


def adapter_named(name: str | None) -> Adapter:
    try:
        return get_adapter(str(name or configured_default()))
    except Wan26Error as error:
        raise gr.Error(str(error), title="Please check the inputs") from error


def picker_update(keys: SessionKeys | None, current: str | None = None, switch: bool = True) -> Any:
    """The picker's vendors; `switch=False` leaves a usable choice alone (the visitor may have changed
    it since `current` was read)."""
    mark = {name: " · your key" for name in keys or {}}
    choices = [(PROVIDERS[name].facts.title + mark.get(name, ""), name) for name in available(keys)]
    if not switch and current in available(keys):
        return gr.update(choices=choices)
    return gr.update(choices=choices, value=preferred(keys, current) if choices else None)


def key_status(keys: SessionKeys | None) -> str:
    lines = [
        f"🔑 Using **your own {PROVIDERS[name].facts.title} key** for this browser session." for name in keys or {}
    ]
    server = ", ".join(PROVIDERS[name].facts.title for name in server_keyed())
    lines.append(f"Server keys: {server}." if server else "⚠️ The server has no keys: paste yours below.")
    if server and GUARD.enabled:
        lines.append(f"{GUARD.status()}; your own key has no such limit.")
    return "  \n".join(lines) + "  \nOwn keys are kept on the server in memory only, never stored."


def no_key_help() -> str:
    facts = [adapter.facts for adapter in PROVIDERS.values()]
    vendors = "\n".join(f"- **{f.title}**: `{f.key_env}`. {f.key_help}." for f in facts)
    return (
        "### ⚠️ No API key configured\n"
        "To generate, add a key for any one vendor: put it in a `.env` file next to `app.py` (for example "
        "`DASHSCOPE_API_KEY=sk-...`) and restart; on a Hugging Face Space, add a **secret** with that name; "
        "or paste your own key in **Your API key** below (this session only).\n"
        f"{vendors}\nDashScope keys are regional: set `DASHSCOPE_REGION` (intl, cn, us) to match yours."
    )


def limits_for(provider: str | None, mode: Mode) -> ModeLimits | None:
    """The vendor's limits for `mode`, or None where it does not offer the mode."""
    return adapter_named(provider).facts.limits.get(mode)


def union_limits(mode: Mode) -> ModeLimits:
    """Bounds wide enough for every vendor: what the public API's components accept before our
    validator checks the chosen vendor's own limits (and names the field it breaks)."""
    offered = [adapter.facts.limits[mode] for adapter in PROVIDERS.values() if mode in adapter.facts.limits]
    sides = [side_range(limits) for limits in offered]
    widest = Range(min(s.low for s in sides), max(s.high for s in sides))
    pixels = Range(min(limits.pixels.low for limits in offered), max(limits.pixels.high for limits in offered))
    return replace(offered[0], side=widest, pixels=pixels, n=Range(1, max(limits.n.high for limits in offered)))


def unavailable_reason(adapter: Adapter, mode: Mode) -> str:
    elsewhere = ", ".join(other.facts.title for other in PROVIDERS.values() if mode in other.facts.limits)
    return f"{adapter.facts.title} does not offer {mode}; pick another vendor ({elsewhere})"


def mode_unavailable(provider: str | None, mode: Mode) -> str:
    adapter = adapter_named(provider)
    return "" if mode in adapter.facts.limits else f"ℹ️ **{unavailable_reason(adapter, mode)}.**"


def price_note(provider: str | None, mode: Mode, count: float | None) -> str:
    adapter = adapter_named(provider)
    if mode not in adapter.facts.limits:
        return ""
    request = ImageRequest(mode, "x", n=int(count or 1), max_images=int(count or 1))
    return f"💲 Estimated with {adapter.facts.title}: {estimate(adapter.facts.price, request)}"


def char_count(text: str | None, limit: int) -> str:
    length = len(text or "")
    if length > limit:
        return f"⛔ **{length:,} / {limit:,} characters**: {length - limit:,} too many; the run is blocked."
    return f"{length:,} / {limit:,} characters"


def size_check(provider: str | None, mode: Mode, width: float | None, height: float | None) -> str:
    """A one-line verdict on W×H for `mode` with this vendor, naming the broken limit if any."""
    limits = limits_for(provider, mode)
    if limits is None:
        return ""
    if not width or not height:
        return "↔️ Follows the input image (1280×1280 without one)"
    size = Size(int(width), int(height))
    problems = [v.message for v in violations(ImageRequest(mode, "x", size=size), limits) if "size" in v.field]
    if problems:
        return "⛔ " + "; ".join(problems)
    return f"✅ {size.width}×{size.height} · {size.pixels / 1e6:.2f} MP · allowed"


def preset_choices(adapter: Adapter, mode: Mode) -> list[tuple[str, str]]:
    return [
        (f"{_ratio_name(size)} · {size.width}×{size.height}", str(size))
        for size in adapter.facts.recommended_sizes.get(mode, ())
    ]


def _ratio_name(size: Size) -> str:
    divisor = gcd(size.width, size.height)
    return f"{size.width // divisor}:{size.height // divisor}"


def apply_preset(choice: str | None) -> tuple[Any, Any]:
    if not choice:
        return gr.skip(), gr.skip()
    size = parse_size(choice)
    return size.width, size.height  # type: ignore[union-attr]


def edit_size_value(tier: str, width: float, height: float) -> str:
    """The `size` the edit endpoint takes: 1K, 2K or W×H."""
    return tier if tier in (SizeTier.K1, SizeTier.K2) else f"{int(width)}x{int(height)}"


def _checked(build: Callable[..., ImageRequest], *values: Any) -> ImageRequest:
    """The request, or its refusal as the page shows one. (The validator has refused it already,
    except on Gradio's /run route, which skips validators.)"""
    try:
        return build(*values)
    except InvalidRequest as refused:
        raise ui_error(refused) from refused


def _whole_numbers(values: dict[str, Any]) -> dict[str, int]:
    """Each value as a whole number (rounded, as a Number box does), or one InvalidRequest naming
    every field that is not one."""
    numbers: dict[str, int] = {}
    bad = []
    for field_name, value in values.items():
        try:
            numbers[field_name] = round(float(value))
        except (TypeError, ValueError, OverflowError):
            bad.append(Violation(field_name, f"{str(value)[:40]!r} is not a number"))
    if bad:
        raise InvalidRequest(bad)
    return numbers


def to_seed(seed: float | None) -> int | None:
    return None if seed is None or int(seed) == RANDOM_SEED else int(seed)


# Gradio copies each image it shows into its cache under an unguessable name, and serves only the
# copy. It copies only from the working folder or the temp folder (allowed_paths would also serve
# every run.json), so a result saved elsewhere, such as a Space's persistent /data, is handed to it
# as a hard link (or copy) in a folder of ours under the temp folder, pruned after an hour.
SHOWN_DIR = Path(tempfile.gettempdir()) / "wan26-shown"
_COPIED_FROM = (Path.cwd().resolve(), Path(tempfile.gettempdir()).resolve())


def shown(path: Path) -> str:
    """The path of `path` that Gradio can show: itself, or a link to it under SHOWN_DIR."""
    if any(_inside(path.resolve(), home) for home in _COPIED_FROM):
        return str(path)
    _prune(SHOWN_DIR, max_age_s=3600)
    link = SHOWN_DIR / secrets.token_hex(16) / path.name
    link.parent.mkdir(parents=True)
    try:
        os.link(path, link)
    except OSError:  # another file system
        shutil.copyfile(path, link)
    return str(link)


_PRUNED_AT = [0.0]  # when SHOWN_DIR was last swept: every minute is enough, not every image


def _prune(folder: Path, max_age_s: float) -> None:
    now = time.time()
    if now - _PRUNED_AT[0] < 60:
        return
    _PRUNED_AT[0], cutoff = now, now - max_age_s
    for entry in folder.glob("*"):
        with contextlib.suppress(OSError):  # another run may prune the same entry
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def gallery_items(result: GenerationResult) -> list[tuple[str, str]]:
    return [(shown(image.path), _caption(result, image)) for image in result.images]


def _caption(result: GenerationResult, image: Any) -> str:
    size = f"{image.width}×{image.height}"
    if image.seed is None:
        return size
    # A vendor that takes no seed may still report the one it drew: say whose it was.
    return f"seed {image.seed} · {size}" if result.seed is not None else f"{size} · vendor's seed {image.seed}"


def run_details(result: GenerationResult, estimated: str = "") -> str:
    adapter = PROVIDERS[result.provider]
    named = {"request id": result.request_id, "task id": result.task_id}
    ids = " · ".join(f"{label} `{value}`" for label, value in named.items() if value) or "no request id given"
    seeds = sorted({image.seed for image in result.images if image.seed is not None})
    seed = f"seed **{result.seed}**" if result.seed is not None else "no seed sent (this vendor takes none)"
    if result.seed is not None and len(seeds) > 1:
        seed = "seeds **" + ", ".join(map(str, seeds)) + "** (one call per image)"
    if result.cost_usd is not None:
        cost = f"💲 Cost reported by {adapter.facts.title}: **${result.cost_usd:.4f}**"
    else:
        cost = f"💲 {adapter.facts.title} reports no cost" + (f"; estimate was {estimated}" if estimated else "")
    return (
        f"**{result.model}** via {adapter.facts.title} · {len(result.images)} image(s) · {seed} · "
        f"{_size_made(result)} · {result.elapsed_s:.1f} s  \n{cost}  \n{ids}  \nSaved as the provider's files "
        f"with their `run.json` in run folder `{result.run_dir.name}`" + "".join(f"  \nℹ️ {n}" for n in result.notes)
    )


def _size_made(result: GenerationResult) -> str:
    """The size the vendor reported, else the saved images' own (not every vendor reports one)."""
    sizes = sorted({f"{image.width}×{image.height}" for image in result.images})
    return result.size or ", ".join(sizes) or "?"


def ui_error(error: Wan26Error) -> gr.Error:
    """The error a person sees: a title, the provider's code, a hint, the request id and the URLs of
    images not saved (all in str)."""
    if isinstance(error, ProviderError):
        title = error.title
    elif isinstance(error, InvalidRequest):
        title = "Please check the inputs"
    elif isinstance(error, LimitReached):
        title = "The server's key has reached its limit"
    else:
        title = "Setup needed"
    return gr.Error(str(error), title=title, duration=None, print_exception=False)


def unexpected_error(error: Exception) -> gr.Error:
    """A fault of ours: one plain sentence, never a traceback (the server log has that)."""
    return gr.Error(
        f"Something went wrong on the server ({type(error).__name__}). A request already sent may still "
        "finish and be billed; run details above list any image not yet saved.",
        title="Unexpected error",
        duration=None,
        print_exception=True,
    )


def validation_for(names: list[str], found: list[Any]) -> list[dict[str, Any]]:
    """One gr.validate per input, carrying the violations that concern it."""
    return [
        gr.validate(not (msgs := [_for_input(v, name) for v in found if _concerns(v.field, name)]), "; ".join(msgs))
        for name in names
    ]


def _for_input(violation: Any, name: str) -> str:
    """Gradio names the input already; repeat the field only when it says more (`image 2`, `size.width`)."""
    return violation.message if violation.field == name else str(violation)


def _concerns(field: str, name: str) -> bool:
    if name in ("width", "height"):
        return field in ("size", f"size.{name}")
    if name in ("images", "image"):
        return field == "images" or field.startswith("image ")
    return field == name or field.startswith(name + ".")


# ---------------------------------------------------------------------------------------------
# Building requests from what the endpoints receive


def t2i_request(prompt, negative_prompt, width, height, n, seed, prompt_extend, watermark) -> ImageRequest:
    seed = RANDOM_SEED if seed is None else seed  # an emptied seed box: a random seed, as in the other tabs
    numbers = _whole_numbers({"size.width": width, "size.height": height, "n": n, "seed": seed})  # raw inputs
    return ImageRequest(
        Mode.TEXT_TO_IMAGE,
        str(prompt or ""),
        str(negative_prompt or ""),
        size=Size(numbers["size.width"], numbers["size.height"]),
        n=numbers["n"],
        seed=to_seed(numbers["seed"]),
        prompt_extend=bool(prompt_extend),
        watermark=bool(watermark),
    )


def edit_request(
    prompt, images, negative_prompt, size, n, seed, prompt_extend, watermark, image_urls=""
) -> ImageRequest:
    return ImageRequest(
        Mode.EDIT,
        prompt or "",
        negative_prompt or "",
        images=(*_paths(images), *_urls(image_urls)),  # uploads first, then URLs: image 1, image 2, …
        size=_parsed_size(size),
        n=int(n),
        seed=to_seed(seed),
        prompt_extend=bool(prompt_extend),
        watermark=bool(watermark),
    )


def interleave_request(prompt, image, negative_prompt, width, height, max_images, seed, watermark) -> ImageRequest:
    size = Size(int(width), int(height)) if width and height else None  # 0 = follow the input image
    return ImageRequest(
        Mode.INTERLEAVE,
        prompt or "",
        negative_prompt or "",
        images=(image,) if image else (),
        size=size,
        max_images=int(max_images),
        seed=to_seed(seed),
        watermark=bool(watermark),
    )


def _paths(gallery: list[Any] | None) -> list[str]:
    """Gallery values are (path, caption) pairs; the app's own handlers also pass bare paths."""
    return [item[0] if isinstance(item, tuple | list) else item for item in (gallery or [])]


def _urls(text: str | None) -> list[str]:
    """Pasted references: http(s) links only. Anything else is refused before it is looked at, with
    one message whatever it is, so a visitor can neither make the server read a file nor learn
    whether a path exists."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    bad = [str(number) for number, line in enumerate(lines, start=1) if not is_web_url(line)]
    if bad:
        which = (
            f"line {bad[0]} is not an http(s) link"
            if len(bad) == 1
            else f"lines {', '.join(bad)} are not http(s) links"
        )
        message = f"{which}; paste links that start with https://, or upload the image"
        raise InvalidRequest([Violation("image_urls", message)])
    return lines


def _parsed_size(size: str | None) -> Size | SizeTier | None:
    if not size or not str(size).strip():
        return None
    try:
        return parse_size(str(size))
    except ValueError as exc:
        raise gr.Error(str(exc), title="Please check the inputs") from exc


# ---------------------------------------------------------------------------------------------
# Running: events from wan26 become progress, streamed updates and a result


def key_header(provider: str) -> str:
    """The header an API caller sends their own key in: named after the vendor, so a key only ever
    reaches the vendor it belongs to."""
    return f"X-{provider.capitalize()}-Key"


def _own_key(provider: str, keys: SessionKeys | None, http: gr.Request | None) -> str | None:
    """The visitor's own key for `provider`: its header, else the session's; None means the server's."""
    header = http.headers.get(key_header(provider)) if http is not None else None
    return header or (keys or {}).get(provider) or None


async def _events(request, provider, keys, http, use_task, progress) -> AsyncIterator[Any]:
    flow = Flow.TASK if use_task else None  # None: the vendor's own default flow
    adapter = adapter_named(provider)
    own_key = _own_key(adapter.facts.name, keys, http)
    spend, task_id, ended = Spend(), None, False
    try:
        name = adapter.facts.name
        async with AsyncClient(name, api_key=own_key, http_client=shared_http_client(name)) as client:
            spend.reservation = None if own_key else _admit(adapter, request, http)  # only the owner's key
            async for event in client.events(request, flow=flow):
                if isinstance(event, Progress):
                    spend.sent |= event.phase not in (Phase.PREPARING, Phase.QUEUED)
                    task_id = event.task_id or task_id
                    if _worth_showing(event, request):
                        status = f" [{event.task_status}]" if event.task_status else ""
                        progress(_PHASE_PROGRESS[event.phase], desc=event.message + status)
                elif isinstance(event, Finished):
                    ended = True
                    spend.settle(_spent(adapter, event.result))
                yield event
    except Wan26Error as error:
        ended = True
        spend.settle(_spent_before(adapter, request, error))
        raise ui_error(error) from error
    except (gr.Error, GeneratorExit):
        raise
    except Exception as error:  # noqa: BLE001 (the visitor gets one sentence; the log keeps the traceback)
        ended = True
        raise unexpected_error(error) from error
    finally:
        if not ended and task_id and http is not None and http.session_hash:  # stopped while its task ran
            follow_stopped(Stopped(adapter, own_key, task_id, request.mode, spend), http.session_hash)
        else:  # any ending not settled above: nothing sent costs nothing
            spend.settle(None if spend.sent else 0.0)


def _worth_showing(event: Progress, request: ImageRequest) -> bool:
    """Progress that stays on screen long enough to be read. Each update costs the server a message:
    checking the request, sending it and "done" are each followed at once by the next step."""
    if event.phase is Phase.PREPARING:
        return bool(request.images)  # preparing references can take a moment
    return event.phase not in (Phase.SUBMITTING, Phase.DONE)


class Spend:
    """A server-key run's reservation, and whether its request may have reached the vendor."""

    def __init__(self) -> None:
        self.reservation: Reservation | None = None
        self.sent = False

    def settle(self, usd: float | None) -> None:
        """Settle at `usd` (None keeps the estimate); only the first call counts."""
        if self.reservation is not None:
            GUARD.settle(self.reservation, usd)


# ---------------------------------------------------------------------------------------------
# Runs stopped while their task went on at the vendor: it may still finish and be billed, so the
# app follows it to its end in the background and keeps what it made for that visitor's session.

STOPPED_SESSIONS = 256  # sessions remembered; the oldest is forgotten first (its files stay saved)
STOPPED_PER_SESSION = 8


@dataclass
class Stopped:
    """A task left running by Stop, followed to its end; `status` and `images` are what the visitor sees."""

    adapter: Adapter
    own_key: str | None
    task_id: str
    mode: Mode
    spend: Spend
    status: str = "still running at the vendor; followed here until it ends"
    images: list[tuple[str, str]] = field(default_factory=list)

    async def follow(self) -> None:
        try:
            name = self.adapter.facts.name
            async with AsyncClient(name, api_key=self.own_key, http_client=shared_http_client(name)) as client:
                result = await client.fetch(self.task_id, self.mode)
        except Wan26Error as error:
            self.status = f"ended without images: {error}".splitlines()[0]
            self.spend.settle(None)  # it may have been billed: keep the estimate
            return
        self.images = gallery_items(result)
        self.status = f"finished: {len(result.images)} image(s) saved"
        self.spend.settle(_spent(self.adapter, result))


STOPPED: OrderedDict[str, list[Stopped]] = OrderedDict()  # session hash -> its stopped tasks
_FOLLOWING: set[asyncio.Task[None]] = set()  # strong references, so followers are not collected


def follow_stopped(stopped: Stopped, session: str) -> None:
    tasks = STOPPED.setdefault(session, [])
    STOPPED.move_to_end(session)
    tasks.append(stopped)
    del tasks[:-STOPPED_PER_SESSION]
    while len(STOPPED) > STOPPED_SESSIONS:
        STOPPED.popitem(last=False)
    follower = asyncio.get_running_loop().create_task(stopped.follow())
    _FOLLOWING.add(follower)
    follower.add_done_callback(_FOLLOWING.discard)


def stopped_runs(http: gr.Request) -> tuple[Any, str]:
    """This session's stopped tasks: their status, and the images they made since."""
    tasks = STOPPED.get(http.session_hash or "", [])
    if not tasks:
        return [], "No stopped run of yours is still followed."
    lines = [f"Task `{task.task_id}` ({task.adapter.facts.title}): {task.status}" for task in tasks]
    return [image for task in tasks for image in task.images], "  \n".join(lines)


def _admit(adapter: Adapter, request: ImageRequest, http: gr.Request | None) -> Reservation | None:
    """Count a server-key run against the owner's limits, or raise LimitReached before anything is sent."""
    if not GUARD.enabled:
        return None
    client = http.client.host if http and http.client else None
    visitor = visitor_address(http.headers if http else {}, client, proxy_hops(os.environ))
    expected = estimate(adapter.facts.price, request)
    return GUARD.admit(visitor, expected.usd, expected.images)


def _spent(adapter: Adapter, result: GenerationResult, unsaved: int = 0) -> float | None:
    """What a run cost: the vendor's word, else its images at list price (None: keep the estimate)."""
    if result.cost_usd is not None:
        return result.cost_usd
    price = adapter.facts.price.per_image_usd
    return None if price is None else price * (len(result.images) + unsaved)


# The one call of a run was refused before any generation started: nothing was billed.
_REFUSED = (ConnectionFailed, AuthenticationError, PermissionDenied, BadRequest, RateLimited)


def _spent_before(adapter: Adapter, request: ImageRequest, error: Wan26Error) -> float | None:
    """What a failed run cost; None (keep the estimate) wherever a vendor may have billed unseen."""
    if not isinstance(error, ProviderError):
        return 0.0  # refused here (invalid input, setup, a limit): nothing was sent
    partial = error.partial_result
    if partial is not None and partial.cost_usd is not None:
        return partial.cost_usd  # the vendor's own word
    limits = adapter.facts.limits.get(request.mode)
    fanned_out = request.n > 1 and limits is not None and limits.one_image_per_call
    if fanned_out or error.task_id:
        return None  # another call, or an accepted task, may have been billed
    if partial is not None:
        return _spent(adapter, partial, unsaved=len(error.urls))
    return 0.0 if isinstance(error, _REFUSED) else None


class Pending:
    """What a run has made so far, shown while it goes: if it is stopped, the page still holds every
    image's link (the vendor keeps it about 24 hours) and the task id."""

    def __init__(self, expected: int | None = None) -> None:
        self.expected = expected  # the images asked for; None: not known (interleave)
        self.saved: dict[int, Path] = {}
        self.unsaved: dict[int, str] = {}
        self.task: str | None = None
        self._shown: dict[int, str] = {}

    def add(self, event: Any) -> bool:
        """Take `event` in; True when what the page shows has changed."""
        if isinstance(event, ImageOffered):
            self.unsaved[event.index] = event.url
        elif isinstance(event, ImageSaved):
            self.unsaved.pop(event.image.index, None)
            self.saved[event.image.index] = event.image.path
        elif isinstance(event, Progress) and event.task_id and event.task_id != self.task:
            self.task = event.task_id
        else:
            return False
        return True

    @property
    def finishing(self) -> bool:
        """Every image asked for is saved: the finished run's own update comes next, so an update
        now would only cost the server work."""
        return self.expected is not None and not self.unsaved and len(self.saved) >= self.expected

    def gallery(self) -> list[tuple[str, str]]:
        for index, path in self.saved.items():
            if index not in self._shown:
                self._shown[index] = shown(path)
        return [(self._shown[index], f"image {index}") for index in sorted(self.saved)]

    def markdown(self) -> str:
        # Written to stay true after Stop, when the page keeps this text and nothing updates it.
        lines = ["⏳ Running (after Stop, what is listed here is what the run made)"]
        if self.task:
            lines.append(f"Task id `{self.task}`: if you stop, the app follows it to its end (see *Stopped runs*)")
        lines += [
            f"Image {index}, not saved yet: [vendor's link]({url}) (it works for about 24 h)"
            for index, url in sorted(self.unsaved.items())
        ]
        return "  \n".join(lines)


async def _gallery_run(request: ImageRequest, provider, keys, http, use_task, progress) -> AsyncIterator[Any]:
    """Yield (gallery, details, seed) updates as images arrive, then the finished run's."""
    pending = Pending(request.n)
    async for event in _events(request, provider, keys, http, use_task, progress):
        if isinstance(event, Finished):
            yield _outputs(event.result, request, provider)
            return
        if pending.add(event) and not pending.finishing:
            # Plain values, never gr.skip(): Gradio answers a skip by rebuilding the component.
            yield pending.gallery(), pending.markdown(), None
    raise gr.Error("The run ended without a result.", title="Unexpected response")


def _outputs(result: GenerationResult, request: ImageRequest, provider: str) -> tuple[Any, str, Any]:
    estimated = str(estimate(adapter_named(provider).facts.price, request))
    return gallery_items(result), run_details(result, estimated), result.seed


async def text_to_image(
    prompt: str,
    negative_prompt: str = "",
    width: float = 1280,
    height: float = 1280,
    n: float = 1,
    seed: float = RANDOM_SEED,
    prompt_extend: bool = True,
    watermark: bool = False,
    provider: str = "",
    session_keys: SessionKeys | None = None,
    use_task: bool = False,
    http: gr.Request = None,
    progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's documented way to receive progress)
):
    """Generate images from a text prompt with Wan 2.6.

    Args:
        prompt: What to draw (up to 2000–2100 characters, depending on the vendor).
        negative_prompt: What to avoid, up to 500 characters.
        width: Output width in pixels; the vendor's limits apply (DashScope: total pixels 1280×1280 to
            1440×1440, ratio 1:4 to 4:1, multiples of 16; `python -m wan26 providers` lists them all).
        height: Output height in pixels.
        n: Images per run, 1 to 4 (each is billed).
        seed: 0 to 2147483647 for a repeatable result, or -1 for random (the seed used is returned);
            vendors without seeds (Runware, ShortAPI) need -1.
        prompt_extend: Let the provider rewrite the prompt for detail.
        watermark: Add the provider's "AI generated" mark (where the vendor offers it).
        provider: The vendor: dashscope, aimlapi, runware, shortapi or vtrix (default: the server's).

    Returns:
        The saved images (captioned with seed and size), a Markdown summary of the run with its cost, and the seed used.
    """
    request = _checked(t2i_request, prompt, negative_prompt, width, height, n, seed, prompt_extend, watermark)
    async for update in _gallery_run(request, provider, session_keys, http, use_task, progress):
        yield update


async def edit(
    prompt: str,
    images: list[Any],
    negative_prompt: str = "",
    size: str = "1K",
    n: float = 1,
    seed: float = RANDOM_SEED,
    prompt_extend: bool = True,
    watermark: bool = False,
    provider: str = "",
    image_urls: str = "",
    session_keys: SessionKeys | None = None,
    use_task: bool = False,
    http: gr.Request = None,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
):
    """Edit or combine reference images with Wan 2.6 (1 to 4; AI/ML API takes 1 to 3).

    Args:
        prompt: The edit, up to 2000 characters; refer to the references as "image 1", "image 2", … in order.
        images: Reference images, in order (JPEG, PNG, BMP or WEBP; at least 240 px a side).
        negative_prompt: What to avoid, up to 500 characters.
        size: "1K" or "2K" (DashScope and Vtrix; the shape follows the last reference), or "WxH" such as "1280x720".
        n: Images per run, 1 to 4 (each is billed).
        seed: 0 to 2147483647 for a repeatable result, or -1 for random (the seed used is returned).
        prompt_extend: Let the provider rewrite the prompt for detail.
        watermark: Add the provider's "AI generated" mark (where the vendor offers it).
        provider: The vendor: dashscope, aimlapi, runware, shortapi or vtrix (default: the server's).
        image_urls: More references as http(s) URLs, one per line, after `images` (ShortAPI takes URLs only).

    Returns:
        The saved images (captioned with seed and size), a Markdown summary of the run with its cost, and the seed used.
    """
    values = (prompt, images, negative_prompt, size, n, seed, prompt_extend, watermark, image_urls)
    request = _checked(edit_request, *values)
    async for update in _gallery_run(request, provider, session_keys, http, use_task, progress):
        yield update


async def interleave(
    prompt: str,
    image: str | None = None,
    negative_prompt: str = "",
    width: float = 0,
    height: float = 0,
    max_images: float = 3,
    seed: float = RANDOM_SEED,
    watermark: bool = False,
    provider: str = "",
    session_keys: SessionKeys | None = None,
    use_task: bool = False,
    http: gr.Request = None,
    progress: gr.Progress = gr.Progress(),  # noqa: B008
):
    """Write text with images in between (Wan 2.6 interleaved mode: DashScope and Vtrix), streamed as it is made.

    Args:
        prompt: What to write and illustrate, up to 2000 characters (e.g. "a 3-step recipe for …").
        image: An optional input image.
        negative_prompt: What to avoid, up to 500 characters.
        width: Output width, a multiple of 16 (total pixels 768×768 to 1280×1280), or 0 to follow the input image.
        height: Output height, a multiple of 16, or 0 to follow the input image.
        max_images: At most this many images, 1 to 5 (the model may make fewer; each is billed).
        seed: 0 to 2147483647 for a repeatable result, or -1 for a random seed (the seed used is returned).
        watermark: Add the provider's "AI generated" mark.
        provider: The vendor: dashscope or vtrix (default: the server's).

    Returns:
        The conversation (text and saved images in order, updated as they arrive), a Markdown summary, the seed.
    """
    request = _checked(interleave_request, prompt, image, negative_prompt, width, height, max_images, seed, watermark)
    story, pending = Story(prompt, image), Pending()
    yield story.messages(), "⏳ Generating…", None
    async for event in _events(request, provider, session_keys, http, use_task, progress):
        if isinstance(event, Finished):
            yield story.messages(), *_outputs(event.result, request, provider)[1:]
        elif pending.add(event) or isinstance(event, TextDelta):
            if isinstance(event, TextDelta | ImageOffered | ImageSaved):
                story.add(event)
            yield story.messages(), pending.markdown(), None


def _saving(index: int) -> str:
    # Written to stay true if the run stops here: the details below keep the image's vendor link.
    return f"⏳ *image {index} is being saved (its vendor link is in the run details below)*"


class Story:
    """The interleaved answer as a chat: the user's turn, then one growing assistant message."""

    def __init__(self, prompt: str, image: str | None) -> None:
        self.user: list[Any] = [prompt] + ([{"path": image}] if image else [])
        self.parts: list[Any] = []  # text, saved images, and the image numbers still being saved

    def add(self, event: TextDelta | ImageOffered | ImageSaved) -> None:
        """Images keep their place among the text: text after an image does not wait for its file."""
        if isinstance(event, ImageOffered):
            self.parts.append(event.index)
        elif isinstance(event, ImageSaved):
            saved = {"path": shown(event.image.path), "alt_text": f"image {event.image.index}"}
            self.parts = [saved if part == event.image.index else part for part in self.parts]
        elif self.parts and isinstance(self.parts[-1], str):
            self.parts[-1] += event.text
        else:
            self.parts.append(event.text)

    def messages(self) -> list[dict[str, Any]]:
        answer = [_saving(part) if isinstance(part, int) else part for part in self.parts]
        return [{"role": "user", "content": self.user}, {"role": "assistant", "content": answer or ["…"]}]


# ---------------------------------------------------------------------------------------------
# Validators: run before the queue; an out-of-limit request is never sent


def _validator(
    build: Callable[..., ImageRequest], names: list[str]
) -> Callable[..., Coroutine[Any, Any, list[dict[str, Any]]]]:
    """Checks the request against the chosen vendor's limits; `provider` follows the request's inputs.
    Async although it never waits: Gradio runs a plain function in a worker thread, a hop per run."""

    async def check(*values: Any) -> list[dict[str, Any]]:
        values_by_name = dict(zip(names, values, strict=False))
        others = [gr.validate(True, "")] * (len(values) - len(names))
        try:
            request = build(**{name: value for name, value in values_by_name.items() if name != "provider"})
            adapter = get_adapter(str(values_by_name.get("provider") or configured_default()))
        except InvalidRequest as refused:  # a pasted reference that is not a link, a width that is not a number
            return validation_for(names, list(refused.violations)) + others
        except ConfigError as unknown:  # the vendor named by an API caller does not exist
            return validation_for(names, [Violation("provider", str(unknown))]) + others
        except (TypeError, ValueError, ArithmeticError, gr.Error, Wan26Error) as exc:
            return [gr.validate(False, str(exc))] + [gr.validate(True, "")] * (len(values) - 1)
        limits = adapter.facts.limits.get(request.mode)
        if limits is None:
            found = [Violation("provider", unavailable_reason(adapter, request.mode))]
        else:
            found = violations(request, limits)
        return validation_for(names, found) + others

    return check


T2I_INPUTS = ["prompt", "negative_prompt", "width", "height", "n", "seed", "prompt_extend", "watermark", "provider"]
EDIT_INPUTS = [
    *["prompt", "images", "negative_prompt", "size", "n", "seed", "prompt_extend", "watermark", "provider"],
    "image_urls",
]
INTERLEAVE_INPUTS = [
    *["prompt", "image", "negative_prompt", "width", "height", "max_images", "seed", "watermark", "provider"],
]


# ---------------------------------------------------------------------------------------------
# Small UI actions (private: not API endpoints)


def set_session_key(vendor: str, text: str, keys: SessionKeys | None, current: str | None):
    """Keep a visitor's key for `vendor` in their session; the picker switches to that vendor."""
    key = (text or "").strip()
    keys = dict(keys or {})
    if key:
        keys[vendor] = key
        current = vendor
    return keys, "", key_status(keys), gr.update(visible=not available(keys)), picker_update(keys, current)


def forget_session_keys(current: str | None):
    return {}, "", key_status({}), gr.update(visible=not server_keyed()), picker_update({}, current)


def page_loaded(keys: SessionKeys | None, current: str | None):
    """Decided per page load, so the picker and banner follow the server's configuration as it is now."""
    return key_status(keys), gr.update(visible=not available(keys)), picker_update(keys, current, switch=False)


def label_references(gallery: list[Any] | None) -> list[tuple[str, str]]:
    paths = _paths(gallery)
    if len(paths) > 4:
        gr.Warning(f"Edit takes at most 4 reference images; kept the first 4 of {len(paths)}.")
    return [(path, f"Image {index}") for index, path in enumerate(paths[:4], start=1)]


def move_reference(gallery: list[Any] | None, selected: int | None, step: int) -> tuple[Any, Any]:
    paths = _paths(gallery)
    if selected is None or not 0 <= selected < len(paths) or not 0 <= selected + step < len(paths):
        return gr.skip(), gr.skip()
    paths[selected], paths[selected + step] = paths[selected + step], paths[selected]
    moved = selected + step  # keep the moved image selected, so repeated clicks keep moving it
    return gr.Gallery(value=label_references(paths), selected_index=moved), moved


def use_as_reference(results: list[Any] | None, selected: int | None, references: list[Any] | None):
    chosen = _paths(results)
    if not chosen:
        raise gr.Error("Generate an image first.", title="Nothing to send")
    pick = chosen[selected if selected is not None and selected < len(chosen) else 0]
    current = _paths(references)
    if len(current) >= 4:
        raise gr.Error("Edit already has 4 reference images; remove one first.", title="Too many references")
    gr.Info(f"Sent to Edit as image {len(current) + 1}.")
    return label_references([*current, pick]), gr.Tabs(selected="edit")


def reuse_seed(used: float | None) -> tuple[Any, Any]:
    if used is None:
        raise gr.Error("Run once first: the seed used is shown after a run.", title="No seed yet")
    return int(used), False


def randomize_changed(randomize: bool, current: float | None, used: float | None) -> Any:
    if randomize:
        return gr.update(value=RANDOM_SEED, interactive=False)
    start = used if used is not None else (current if current not in (None, RANDOM_SEED) else 0)
    return gr.update(value=int(start), interactive=True)


def selected_index(evt: gr.SelectData) -> int:
    return evt.index


# ---------------------------------------------------------------------------------------------
# Layout

PRIVATE = {"api_visibility": "private", "queue": False, "show_progress": "hidden"}
# Key events and the page-load event share one queue lane, one at a time: otherwise a load that
# started before "Use my key" could answer after it and undo it.
KEYS = {"api_visibility": "private", "show_progress": "hidden", "concurrency_limit": 1, "concurrency_id": "keys"}
RUN = {"concurrency_limit": CONCURRENCY, "concurrency_id": "generation"}
CSS = "#app-container {max-width: 1280px; margin: 0 auto} .count {font-size: 0.85em; opacity: 0.8}"
BUILD_VENDOR = get_adapter(configured_default())  # the controls' first state; each page load adapts them


class FollowsVendor:
    """Controls that follow the chosen vendor, each paired with the update that vendor's data calls for."""

    def __init__(self) -> None:
        self.pairs: list[tuple[Any, Callable[[Adapter], Any]]] = []

    def __call__(self, component: Any, update: Callable[[Adapter], Any]) -> Any:
        self.pairs.append((component, update))
        return component

    @property
    def components(self) -> list[Any]:
        return [component for component, _ in self.pairs]

    def updates(self, provider: str | None) -> list[Any]:
        adapter = adapter_named(provider)
        return [update(adapter) for _, update in self.pairs]


follows = FollowsVendor()


def _offered(adapter: Adapter, mode: Mode) -> ModeLimits:
    """The vendor's limits, or the widest bounds when it lacks the mode (its tab is disabled then)."""
    return adapter.facts.limits.get(mode) or union_limits(mode)


def vendor_notes(adapter: Adapter, mode: Mode) -> str:
    """What is different about this vendor in this mode, in plain words."""
    facts = adapter.facts
    limits = facts.limits.get(mode)
    if limits is None:
        return ""
    notes = []
    if limits.seed is None:
        notes.append(f"{facts.title} takes no seed: every run is random.")
    if limits.one_image_per_call and limits.n.high > 1:
        notes.append(f"{facts.title} makes one image per call: several images run as parallel calls.")
    if flows_of(adapter) == {Flow.TASK}:
        notes.append(f"{facts.title} always runs as a task (submit, then poll).")
    if mode is Mode.EDIT and not facts.image_rules.accepts_local:
        notes.append(f"{facts.title} takes reference images as http(s) URLs only: paste them below.")
    if mode is Mode.EDIT and limits.images.high < 4:
        notes.append(f"{facts.title} takes at most {limits.images.high} reference images.")
    return "  \n".join(f"ℹ️ {note}" for note in notes)


def _prompt(mode: Mode, placeholder: str, provider: gr.Dropdown) -> tuple[gr.Textbox, gr.Markdown]:
    box = gr.Textbox(label="Prompt", placeholder=placeholder, lines=3, max_lines=12, elem_id=f"{mode}-prompt")
    count = gr.Markdown(
        char_count("", _offered(BUILD_VENDOR, mode).prompt_max), elem_classes="count", elem_id=f"{mode}-count"
    )
    box.input(_prompt_count(mode), [box, provider], count, trigger_mode="always_last", **PRIVATE)
    return box, count


def _prompt_count(mode: Mode) -> Callable[[str, str], str]:
    return lambda text, provider: char_count(text, _offered(adapter_named(provider), mode).prompt_max)


def _negative(mode: Mode) -> gr.Textbox:
    def update(adapter: Adapter) -> Any:
        limits = _offered(adapter, mode)
        return gr.update(label=f"Negative prompt (≤{limits.negative_max} characters)", visible=limits.negative_prompt)

    limit = _offered(BUILD_VENDOR, mode).negative_max
    box = gr.Textbox("", label=f"Negative prompt (≤{limit} characters)", placeholder="what to avoid", max_lines=4)
    return follows(box, update)


def _size_controls(mode: Mode, width: int, height: int, provider: gr.Dropdown, visible: bool = True):
    wide = side_range(union_limits(mode))  # the API accepts every vendor's range; the validator narrows it

    def slider(adapter: Adapter) -> Any:
        sides = side_range(_offered(adapter, mode))
        return gr.update(minimum=sides.low, maximum=sides.high, step=_offered(adapter, mode).side_multiple)

    step = _offered(BUILD_VENDOR, mode).side_multiple
    with gr.Group(visible=visible) as group:
        preset = gr.Dropdown(
            preset_choices(BUILD_VENDOR, mode), value=None, label="Recommended sizes", allow_custom_value=False
        )
        follows(preset, lambda adapter: gr.update(choices=preset_choices(adapter, mode), value=None))
        with gr.Row():
            w = gr.Slider(wide.low, wide.high, value=width, step=step, label="Width", elem_id=f"{mode}-width")
            h = gr.Slider(wide.low, wide.high, value=height, step=step, label="Height", elem_id=f"{mode}-height")
        verdict = gr.Markdown(
            size_check(BUILD_VENDOR.facts.name, mode, width, height), elem_classes="count", elem_id=f"{mode}-size-check"
        )
    for control in (w, h):
        follows(control, slider)  # each page load narrows them to its vendor; the API keeps the wide bounds
    preset.change(apply_preset, preset, [w, h], **PRIVATE)
    for control in (w, h):
        control.change(
            lambda p, a, b: size_check(p, mode, a, b), [provider, w, h], verdict, trigger_mode="always_last", **PRIVATE
        )
    return group, w, h, verdict


def _count_slider(mode: Mode, label: str) -> gr.Slider:
    def update(adapter: Adapter) -> Any:
        limits = _offered(adapter, mode)
        high = limits.max_images.high if limits.max_images else limits.n.high
        return gr.update(maximum=high)

    limits = union_limits(mode)
    high = limits.max_images.high if limits.max_images else limits.n.high
    value = 3 if limits.max_images else 1
    slider = gr.Slider(1, high, value=value, step=1, label=label, elem_id=f"{mode}-count-slider")
    return follows(slider, update)


def _seed_controls(mode: Mode):
    def has_seed(adapter: Adapter) -> bool:
        return _offered(adapter, mode).seed is not None

    with gr.Row():
        randomize = gr.Checkbox(value=True, label="Random seed", scale=1, elem_id=f"{mode}-random-seed")
        seed = gr.Number(
            elem_id=f"{mode}-seed",
            value=RANDOM_SEED,
            label="Seed (-1 = random)",
            precision=0,
            minimum=RANDOM_SEED,
            maximum=SEED_MAX,
            interactive=False,
            scale=2,
        )
    # A vendor without seeds gets -1 ("random"): nothing pretends a seed is sent.
    follows(randomize, lambda a: gr.update(visible=True) if has_seed(a) else gr.update(visible=False, value=True))
    follows(seed, lambda a: gr.update(visible=True) if has_seed(a) else gr.update(visible=False, value=RANDOM_SEED))
    return randomize, seed


def _results(mode: Mode):
    gallery = gr.Gallery(
        label="Results",
        elem_id=f"{mode}-results",
        format="png",
        type="filepath",
        columns=2,
        height=520,
        object_fit="contain",
        buttons=["download", "download_all", "fullscreen"],
        interactive=False,
        preview=False,
    )
    details = gr.Markdown(label="Run details", elem_id=f"{mode}-details")
    with gr.Row():
        used_seed = gr.Number(
            label="Seed used",
            placeholder="shown after a run",
            precision=0,
            interactive=False,
            scale=2,
            elem_id=f"{mode}-seed-used",
        )
        reuse = gr.Button("♻️ Reuse this seed", size="sm", scale=1, elem_id=f"{mode}-reuse-seed")
        to_edit = gr.Button("↗️ Use as reference in Edit", size="sm", scale=1, elem_id=f"{mode}-to-edit")
    for control in (used_seed, reuse):
        follows(control, lambda adapter: gr.update(visible=_offered(adapter, mode).seed is not None))
    return gallery, details, used_seed, reuse, to_edit


def _advanced(mode: Mode):
    with gr.Accordion("Advanced", open=False):
        randomize, seed = _seed_controls(mode)
        extend = gr.Checkbox(
            value=True,
            label="Prompt rewriting (prompt_extend)",
            info="The provider rewrites your prompt for detail; turn off to send it as written.",
            elem_id=f"{mode}-prompt-extend",
        )
        follows(extend, lambda adapter: gr.update(visible=_offered(adapter, mode).prompt_extend))
        watermark = gr.Checkbox(
            value=False, label="Watermark", info="Adds an 'AI generated' mark.", elem_id=f"{mode}-watermark"
        )
        follows(
            watermark,
            lambda a: gr.update(visible=True) if _offered(a, mode).watermark else gr.update(visible=False, value=False),
        )
        use_task = gr.Checkbox(
            value=False,
            label="Run as a task (submit, then poll)",
            info="Shows the task status while waiting and survives a dropped connection.",
            elem_id=f"{mode}-use-task",
        )
        # Offered only where the vendor has both flows; elsewhere its own flow is used.
        follows(use_task, lambda a: gr.update(visible=len(flows_of(a)) > 1, value=False))
    task_state = gr.State(False)
    use_task.change(lambda value: value, use_task, task_state, **PRIVATE)
    return randomize, seed, extend, watermark, task_state


def _wire_seed(randomize, seed, used_seed, reuse) -> None:
    randomize.change(randomize_changed, [randomize, seed, used_seed], seed, **PRIVATE)
    reuse.click(reuse_seed, used_seed, [seed, randomize], **PRIVATE)


def _endpoint(run, prompt, fn, inputs, outputs, build, names, **options: Any):
    """A public API endpoint named after `fn`, started by the button or Enter, validated first."""
    return gr.on(
        [run.click, prompt.submit],
        fn,
        inputs,
        outputs,
        api_name=fn.__name__,
        validator=_validator(build, names),
        **RUN,
        **options,
    )


def _mode_header(mode: Mode):
    """The tab's notice when the vendor lacks the mode, its vendor notes, and its price estimate."""
    unavailable = gr.Markdown(
        mode_unavailable(BUILD_VENDOR.facts.name, mode),
        visible=mode not in BUILD_VENDOR.facts.limits,
        elem_id=f"{mode}-unavailable",
    )
    follows(
        unavailable, lambda a: gr.update(value=mode_unavailable(a.facts.name, mode), visible=mode not in a.facts.limits)
    )
    notes = gr.Markdown(vendor_notes(BUILD_VENDOR, mode), elem_id=f"{mode}-notes")
    follows(notes, lambda adapter: vendor_notes(adapter, mode))
    return unavailable


def _run_buttons(mode: Mode):
    with gr.Row():
        run = gr.Button(
            "Generate", variant="primary", scale=3, elem_id=f"{mode}-run", interactive=mode in BUILD_VENDOR.facts.limits
        )
        stop = gr.Button("Stop", variant="stop", scale=1, elem_id=f"{mode}-stop")
    follows(run, lambda adapter: gr.update(interactive=mode in adapter.facts.limits))
    count = 3 if mode is Mode.INTERLEAVE else 1  # the count sliders' first values
    price = gr.Markdown(price_note(BUILD_VENDOR.facts.name, mode, count), elem_classes="count", elem_id=f"{mode}-price")
    return run, stop, price


TIERS_INFO = "1K ≈ 1280×1280 and 2K ≈ 2048×2048, shaped like the last reference."


def _edit_tiers(adapter: Adapter) -> Any:
    tiers = sorted(_offered(adapter, Mode.EDIT).size_tiers)
    info = TIERS_INFO if tiers else f"{adapter.facts.title} takes width × height only (no 1K/2K tiers)."
    return gr.update(choices=[*tiers, "Custom"], value=tiers[0] if tiers else "Custom", info=info)


with gr.Blocks(title="Wan 2.6 Image Studio", delete_cache=(3600, 86400)) as demo:
    session_keys = gr.State({})
    with gr.Column(elem_id="app-container"):
        gr.Markdown(
            "# 🎨 Wan 2.6 Image Studio\nText to image, editing with up to four references, and interleaved "
            "text + images with Alibaba's Wan 2.6, through the API vendor you choose. Images are saved as the "
            "vendor's own files."
        )
        key_banner = gr.Markdown(no_key_help(), visible=not server_keyed(), elem_id="no-key-help")
        with gr.Row():
            provider = gr.Dropdown(
                [(adapter.facts.title, name) for name, adapter in PROVIDERS.items()],
                value=BUILD_VENDOR.facts.name,
                label="Vendor",
                info="The vendors with a key: the server's, or your own below.",
                elem_id="provider",
                scale=2,
            )
        with gr.Accordion("Your API key", open=not server_keyed()):
            key_state_text = gr.Markdown(key_status({}), elem_id="key-status")
            with gr.Row():
                key_vendor = gr.Dropdown(
                    [(adapter.facts.title, name) for name, adapter in PROVIDERS.items()],
                    value=BUILD_VENDOR.facts.name,
                    label="Vendor of your key",
                    elem_id="own-key-vendor",
                    scale=2,
                )
                key_box = gr.Textbox(
                    elem_id="own-key",
                    type="password",
                    value="",
                    label="Your key",
                    scale=4,
                    max_lines=1,
                    placeholder="used for this browser session only, never stored",
                )
                use_key = gr.Button("Use my key", scale=1, elem_id="use-key")
                forget_key = gr.Button("Forget my keys", scale=1)
        key_outputs = [session_keys, key_box, key_state_text, key_banner, provider]
        for trigger in (key_box.submit, use_key.click):
            trigger(set_session_key, [key_vendor, key_box, session_keys, provider], key_outputs, **KEYS)
        forget_key.click(forget_session_keys, provider, key_outputs, **KEYS)
        on_load = demo.load(page_loaded, [session_keys, provider], [key_state_text, key_banner, provider], **KEYS)

        with gr.Tabs() as tabs:
            with gr.Tab("Text to image", id="t2i"), gr.Row():
                with gr.Column(scale=1, min_width=320):
                    _mode_header(Mode.TEXT_TO_IMAGE)
                    t_prompt, t_count = _prompt(
                        Mode.TEXT_TO_IMAGE, "A lighthouse at dawn, watercolour, soft light", provider
                    )
                    t_negative = _negative(Mode.TEXT_TO_IMAGE)
                    _, t_width, t_height, t_verdict = _size_controls(Mode.TEXT_TO_IMAGE, 1280, 1280, provider)
                    t_n = _count_slider(Mode.TEXT_TO_IMAGE, "Images per run")
                    t_random, t_seed, t_extend, t_mark, t_task = _advanced(Mode.TEXT_TO_IMAGE)
                    t_run, t_stop, t_price = _run_buttons(Mode.TEXT_TO_IMAGE)
                with gr.Column(scale=1, min_width=320):
                    t_gallery, t_details, t_used, t_reuse, t_to_edit = _results(Mode.TEXT_TO_IMAGE)

            with gr.Tab("Edit", id="edit"), gr.Row():
                with gr.Column(scale=1, min_width=320):
                    _mode_header(Mode.EDIT)
                    gr.Markdown(
                        "**Reference images.** Their order matters: the prompt refers to them as "
                        "*image 1*, *image 2*, … e.g. “Put the hat from image 2 on the cat in image 1”. "
                        "Click an image, then move it earlier or later. Pasted URLs come after uploads."
                    )
                    with gr.Group() as e_uploads:
                        e_refs = gr.Gallery(
                            elem_id="edit-references",
                            label="References, in order: image 1, image 2, …",
                            type="filepath",
                            interactive=True,
                            sources=["upload", "clipboard"],
                            file_types=["image"],
                            columns=4,
                            height=240,
                            object_fit="contain",
                            format="png",
                        )
                        with gr.Row():
                            e_earlier = gr.Button("◀ Move earlier", size="sm")
                            e_later = gr.Button("Move later ▶", size="sm")
                    follows(e_uploads, lambda adapter: gr.update(visible=adapter.facts.image_rules.accepts_local))
                    # Hidden uploads would still be sent and refused: a URLs-only vendor starts with none.
                    follows(e_refs, lambda a: gr.update() if a.facts.image_rules.accepts_local else gr.update(value=[]))
                    e_urls = gr.Textbox(
                        "",
                        label="Reference image URLs (optional; one per line)",
                        placeholder="https://example.com/cat.png",
                        lines=2,
                        max_lines=4,
                        elem_id="edit-urls",
                    )
                    e_prompt, e_count = _prompt(Mode.EDIT, "Image 1 as a pencil sketch", provider)
                    e_negative = _negative(Mode.EDIT)
                    e_tier = gr.Radio(
                        [*sorted(_offered(BUILD_VENDOR, Mode.EDIT).size_tiers), "Custom"],
                        value="1K" if _offered(BUILD_VENDOR, Mode.EDIT).size_tiers else "Custom",
                        label="Size",
                        info=TIERS_INFO,
                        elem_id="edit-tier",
                    )
                    follows(e_tier, _edit_tiers)
                    e_group, e_width, e_height, e_verdict = _size_controls(
                        Mode.EDIT, 1280, 1280, provider, visible=not _offered(BUILD_VENDOR, Mode.EDIT).size_tiers
                    )
                    e_size = gr.Textbox(value="1K", label="Size sent", interactive=False, max_lines=1)
                    e_n = _count_slider(Mode.EDIT, "Images per run")
                    e_random, e_seed, e_extend, e_mark, e_task = _advanced(Mode.EDIT)
                    e_run, e_stop, e_price = _run_buttons(Mode.EDIT)
                with gr.Column(scale=1, min_width=320):
                    e_gallery, e_details, e_used, e_reuse, e_to_edit = _results(Mode.EDIT)

            with gr.Tab("Interleaved", id="interleave"), gr.Row():
                with gr.Column(scale=1, min_width=320):
                    _mode_header(Mode.INTERLEAVE)
                    i_prompt, i_count = _prompt(
                        Mode.INTERLEAVE, "A three-step tutorial for tomato and egg stir-fry", provider
                    )
                    i_image = gr.Image(
                        label="Input image (optional)", type="filepath", sources=["upload", "clipboard"], format="png"
                    )
                    i_negative = _negative(Mode.INTERLEAVE)
                    i_follow = gr.Checkbox(value=True, label="Size follows the input image")
                    i_group, i_slide_w, i_slide_h, i_verdict = _size_controls(
                        Mode.INTERLEAVE, 1280, 1280, provider, visible=False
                    )
                    i_width = gr.Number(value=0, visible=False, precision=0)
                    i_height = gr.Number(value=0, visible=False, precision=0)
                    i_max = _count_slider(Mode.INTERLEAVE, "At most this many images (the model may make fewer)")
                    i_random, i_seed, _, i_mark, i_task = _advanced(Mode.INTERLEAVE)
                    i_run, i_stop, i_price = _run_buttons(Mode.INTERLEAVE)
                with gr.Column(scale=1, min_width=320):
                    i_chat = gr.Chatbot(
                        elem_id="interleave-chat",
                        label="Interleaved output",
                        height=620,
                        buttons=["copy_all"],
                        allow_file_downloads=True,
                    )
                    i_details = gr.Markdown(label="Run details", elem_id="interleave-details")
                    i_used = gr.Number(
                        label="Seed used", placeholder="shown after a run", precision=0, interactive=False
                    )

        with gr.Accordion("Stopped runs", open=False, elem_id="stopped-runs"):
            gr.Markdown(
                "A run stopped while its task was running at the vendor may still finish and be billed. "
                "The app follows it to its end and keeps what it made for you here."
            )
            stopped_check = gr.Button("Check stopped runs", size="sm", elem_id="stopped-check")
            stopped_status = gr.Markdown(elem_id="stopped-status")
            stopped_gallery = gr.Gallery(
                label="Images from stopped runs", format="png", columns=4, height=240, interactive=False
            )
        stopped_check.click(stopped_runs, None, [stopped_gallery, stopped_status], **PRIVATE)

    # Changing vendor adapts every control at once, then re-checks what depends on the current values.
    adapted = [  # also after each page load: the picker may keep its value, and then it does not "change"
        provider.change(follows.updates, provider, follows.components, **PRIVATE),
        on_load.then(follows.updates, provider, follows.components, **PRIVATE),
    ]
    rechecks = [
        (_prompt_count(Mode.TEXT_TO_IMAGE), [t_prompt, provider], t_count),
        (_prompt_count(Mode.EDIT), [e_prompt, provider], e_count),
        (_prompt_count(Mode.INTERLEAVE), [i_prompt, provider], i_count),
        (lambda p, a, b: size_check(p, Mode.TEXT_TO_IMAGE, a, b), [provider, t_width, t_height], t_verdict),
        (lambda p, a, b: size_check(p, Mode.EDIT, a, b), [provider, e_width, e_height], e_verdict),
        (lambda p, a, b: size_check(p, Mode.INTERLEAVE, a, b), [provider, i_slide_w, i_slide_h], i_verdict),
    ]
    prices = [(Mode.TEXT_TO_IMAGE, t_n, t_price), (Mode.EDIT, e_n, e_price), (Mode.INTERLEAVE, i_max, i_price)]
    for mode, count, price in prices:
        rechecks.append((lambda p, c, mode=mode: price_note(p, mode, c), [provider, count], price))
        count.change(lambda p, c, mode=mode: price_note(p, mode, c), [provider, count], price, **PRIVATE)
    for fn, inputs, output in rechecks:
        for vendor_changed in adapted:
            vendor_changed.then(fn, inputs, output, **PRIVATE)
    provider.change(lambda name: name, provider, key_vendor, **PRIVATE)

    # Edit: references keep their order labels; the size sent is always 1K, 2K or W×H.
    e_selected = gr.State(None)
    e_refs.upload(label_references, e_refs, e_refs, **PRIVATE)
    e_refs.delete(label_references, e_refs, e_refs, **PRIVATE)
    e_refs.select(selected_index, None, e_selected, **PRIVATE)
    e_earlier.click(lambda g, s: move_reference(g, s, -1), [e_refs, e_selected], [e_refs, e_selected], **PRIVATE)
    e_later.click(lambda g, s: move_reference(g, s, +1), [e_refs, e_selected], [e_refs, e_selected], **PRIVATE)
    e_tier.change(lambda tier: gr.update(visible=tier == "Custom"), e_tier, e_group, **PRIVATE)
    for control in (e_tier, e_width, e_height):
        control.change(edit_size_value, [e_tier, e_width, e_height], e_size, **PRIVATE)

    # Interleave: width/height 0 means "follow the input image".
    def _interleave_size(follow: bool, width: float, height: float) -> tuple[int, int]:
        return (0, 0) if follow else (int(width), int(height))

    i_follow.change(lambda follow: gr.update(visible=not follow), i_follow, i_group, **PRIVATE)
    for control in (i_follow, i_slide_w, i_slide_h):
        control.change(_interleave_size, [i_follow, i_slide_w, i_slide_h], [i_width, i_height], **PRIVATE)

    # The three public endpoints.
    t_inputs = [t_prompt, t_negative, t_width, t_height, t_n, t_seed, t_extend, t_mark, provider, session_keys, t_task]
    t_outputs = [t_gallery, t_details, t_used]
    # Its inputs are plain text, numbers and switches, which the function converts itself: without
    # Gradio's preprocessing a run (and its validator) skips a worker-thread hop per input.
    t_event = _endpoint(t_run, t_prompt, text_to_image, t_inputs, t_outputs, t2i_request, T2I_INPUTS, preprocess=False)
    e_inputs = [e_prompt, e_refs, e_negative, e_size, e_n, e_seed, e_extend, e_mark, provider, e_urls, session_keys]
    e_event = _endpoint(
        e_run, e_prompt, edit, [*e_inputs, e_task], [e_gallery, e_details, e_used], edit_request, EDIT_INPUTS
    )
    i_inputs = [i_prompt, i_image, i_negative, i_width, i_height, i_max, i_seed, i_mark, provider, session_keys]
    i_outputs = [i_chat, i_details, i_used]
    i_event = _endpoint(
        i_run,
        i_prompt,
        interleave,
        [*i_inputs, i_task],
        i_outputs,
        interleave_request,
        INTERLEAVE_INPUTS,
        show_progress="minimal",
    )

    for stop, event in ((t_stop, t_event), (e_stop, e_event), (i_stop, i_event)):
        stop.click(None, None, None, cancels=[event], api_visibility="private")
    for randomize, seed, used, reuse in ((t_random, t_seed, t_used, t_reuse), (e_random, e_seed, e_used, e_reuse)):
        _wire_seed(randomize, seed, used, reuse)
    i_random.change(randomize_changed, [i_random, i_seed, i_used], i_seed, **PRIVATE)
    t_selected, e_result_selected = gr.State(None), gr.State(None)
    for gallery, selected, button in ((t_gallery, t_selected, t_to_edit), (e_gallery, e_result_selected, e_to_edit)):
        gallery.select(selected_index, None, selected, **PRIVATE)
        button.click(use_as_reference, [gallery, selected, e_refs], [e_refs, tabs], **PRIVATE)

demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)


def check_output_dir(output_dir: Path) -> None:
    """Gradio's upload folder is where visitors' files are taken from (and served from): run folders
    there would be anyone's "uploads"."""
    uploads = Path(gr_utils.get_upload_folder()).resolve()
    if _inside(output_dir, uploads):
        raise SystemExit(
            f"app.py: WAN26_OUTPUT_DIR ({output_dir}) must not be inside Gradio's upload folder ({uploads})."
        )


def launch(**options: Any):
    """Start the app; honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (default 127.0.0.1:7860).

    No path is added to Gradio's allowed_paths: a visitor's browser gets only the copies Gradio
    makes of the images shown to that visitor, never the output folder or a run.json."""
    check_output_dir(OUTPUT_DIR)
    # Who a visitor is, for the per-visitor limit, is read by wan26.guard.visitor_address
    # (WAN26_PROXY_HOPS); uvicorn must not first replace the client address with a header a visitor
    # can write (by default it does so for connections from 127.0.0.1).
    os.environ["FORWARDED_ALLOW_IPS"] = ""  # read by uvicorn when Gradio starts it
    return demo.launch(theme=gr.themes.Soft(), css=CSS, max_file_size="50mb", **options)


if __name__ == "__main__":
    launch()
