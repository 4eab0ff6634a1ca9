"""The words the page shows: limits, prices, verdicts, vendor notes, key status and run details.
Pure functions of a vendor's data and a run's result."""

from __future__ import annotations

from dataclasses import replace
from math import gcd

from wan26.guard import KeyGuard
from wan26.limits import ModeLimits, Range, side_range, violations
from wan26.pricing import estimate
from wan26.providers import PROVIDERS, Adapter, flows_of, get_adapter
from wan26.types import Flow, GenerationResult, ImageRequest, Mode, SavedImage, Size
from wan26.ui.vendors import SessionKeys, Vendors

NO_KEY_LINE = (
    "⚠️ **No API key yet.** Paste yours in **⚙️ Keys and settings** (top right), or add one to the server."
)
MODE_NAMES = {Mode.TEXT_TO_IMAGE: "text to image", Mode.EDIT: "editing", Mode.INTERLEAVE: "text with images"}


def union_limits(mode: Mode) -> ModeLimits:
    """Bounds wide enough for every vendor: what the public API's components accept before our
    validator checks the chosen vendor's own limits (and names the field it breaks)."""
    offered = [adapter.facts.limits[mode] for adapter in PROVIDERS.values() if mode in adapter.facts.limits]
    sides = [side_range(limits) for limits in offered]
    widest = Range(min(s.low for s in sides), max(s.high for s in sides))
    pixels = Range(min(limits.pixels.low for limits in offered), max(limits.pixels.high for limits in offered))
    return replace(offered[0], side=widest, pixels=pixels, n=Range(1, max(limits.n.high for limits in offered)))


def offered(adapter: Adapter, mode: Mode) -> ModeLimits:
    """The vendor's limits, or the widest bounds when it lacks the mode (its tab is disabled then)."""
    return adapter.facts.limits.get(mode) or union_limits(mode)


def unavailable_reason(adapter: Adapter, mode: Mode) -> str:
    elsewhere = ", ".join(other.facts.title for other in PROVIDERS.values() if mode in other.facts.limits)
    return f"{adapter.facts.title} does not offer {MODE_NAMES[mode]}; pick another vendor ({elsewhere})"


def mode_unavailable(adapter: Adapter, mode: Mode) -> str:
    return "" if mode in adapter.facts.limits else f"ℹ️ **{unavailable_reason(adapter, mode)}.**"


def price_note(adapter: Adapter, mode: Mode, count: float | None) -> str:
    if mode not in adapter.facts.limits:
        return ""
    request = ImageRequest(mode, "x", n=int(count or 1), max_images=int(count or 1))
    expected = estimate(adapter.facts.price, request)
    if expected.usd is None:
        return f"💲 {adapter.facts.title} publishes no price"
    return f"💲 {'up to ' if expected.at_most else ''}${expected.usd:.3f} per run at list price"


def char_count(text: str | None, limit: int) -> str:
    length = len(text or "")
    if length > limit:
        return f"⛔ **{length:,} / {limit:,} characters**: {length - limit:,} too many; the run is blocked."
    return f"{length:,} / {limit:,} characters"


def size_check(adapter: Adapter, mode: Mode, width: object, height: object) -> str:
    """A one-line verdict on W×H for `mode` with this vendor, naming the broken limit if any; the
    values come as typed, so a box holding no number is named too."""
    limits = adapter.facts.limits.get(mode)
    if limits is None:
        return ""
    try:
        width, height = round(float(str(width or 0))), round(float(str(height or 0)))
    except (ValueError, OverflowError):
        return "⛔ Width and height must be numbers"
    if not width or not height:
        return "↔️ Follows the input image (1280×1280 without one)"
    size = Size(width, height)
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


def key_status(vendors: Vendors, guard: KeyGuard, keys: SessionKeys | None) -> str:
    lines = [
        f"🔑 Using **your own {get_adapter(name).facts.title} key** for this browser session." for name in keys or {}
    ]
    server = ", ".join(get_adapter(name).facts.title for name in vendors.server_keyed())
    if server:
        lines.append(f"Server keys: {server}.")
    elif not keys:
        lines.append("⚠️ The server has no keys: paste yours below.")
    if server and guard.enabled:
        lines.append(f"{guard.status()}; your own key has no such limit.")
    return "  \n".join(lines) + "  \nOwn keys are kept on the server in memory only, never stored."


def no_key_help() -> str:
    facts = [adapter.facts for adapter in PROVIDERS.values()]
    vendors = "\n".join(f"- **{f.title}**: `{f.key_env}`. {f.key_help}." for f in facts)
    return (
        "### ⚠️ No API key configured\n"
        "To generate, add a key for any one vendor: put it in a `.env` file next to `app.py` (for example "
        "`DASHSCOPE_API_KEY=sk-...`) and restart; on a Hugging Face Space, add a **secret** with that name; "
        "or paste your own key below (this browser session only).\n"
        f"{vendors}\nDashScope keys are regional: set `DASHSCOPE_REGION` (intl, cn, us) to match yours."
    )


def caption(result: GenerationResult, image: SavedImage) -> str:
    size = f"{image.width}×{image.height}"
    if image.seed is None:
        return size
    # A vendor that takes no seed may still report the one it drew: say whose it was.
    return f"seed {image.seed} · {size}" if result.seed is not None else f"{size} · vendor's seed {image.seed}"


def run_details(result: GenerationResult, estimated: str = "") -> str:
    adapter = get_adapter(result.provider)
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
    reported = (result.size or "").replace("*", "×").replace("x", "×")  # DashScope writes 1280*1280
    return reported or ", ".join(sizes) or "?"


def saving(index: int) -> str:
    # Written to stay true if the run stops here: the details below keep the image's vendor link.
    return f"⏳ *image {index} is being saved (its vendor link is in the run details below)*"
