"""The words the page shows: limits, prices, verdicts, vendor notes, key status and run details.
Pure functions of a vendor's data and a run's result."""

from __future__ import annotations

from dataclasses import replace
from math import gcd

from wan26.guard import KeyGuard
from wan26.limits import ModeLimits, Range, side_range, violations
from wan26.pricing import Estimate, estimate
from wan26.providers import PROVIDERS, Adapter, flows_of, get_adapter
from wan26.types import Flow, GenerationResult, ImageRequest, Mode, Model, SavedImage, Size
from wan26.ui.i18n import LABELS, Lang, listed, t, translate
from wan26.ui.vendors import SessionKeys, Vendors

NO_KEY_LINE = LABELS["no_key_line"].en
MODE_KEYS = {Mode.TEXT_TO_IMAGE: "mode_t2i", Mode.EDIT: "mode_edit", Mode.INTERLEAVE: "mode_interleave"}


def union_limits(mode: Mode) -> ModeLimits:
    """Bounds wide enough for every vendor: what the public API's components accept before our
    validator checks the chosen vendor's own limits (and names the field it breaks)."""
    offered = [adapter.facts.limits_of()[mode] for adapter in PROVIDERS.values() if mode in adapter.facts.limits_of()]
    sides = [side_range(limits) for limits in offered]
    widest = Range(min(s.low for s in sides), max(s.high for s in sides))
    pixels = Range(min(limits.pixels.low for limits in offered), max(limits.pixels.high for limits in offered))
    return replace(offered[0], side=widest, pixels=pixels, n=Range(1, max(limits.n.high for limits in offered)))


def offered(adapter: Adapter, mode: Mode) -> ModeLimits:
    """The vendor's limits, or the widest bounds when it lacks the mode (its tab is disabled then)."""
    return adapter.facts.limits_of().get(mode) or union_limits(mode)


def unavailable_reason(adapter: Adapter, mode: Mode, lang: Lang = Lang.EN) -> str:
    elsewhere = listed((other.facts.title for other in PROVIDERS.values() if mode in other.facts.limits_of()), lang)
    mode_name = t(MODE_KEYS[mode], lang)
    return t("unavailable_reason", lang, vendor=adapter.facts.title, mode=mode_name, others=elsewhere)


def mode_unavailable(adapter: Adapter, mode: Mode, lang: Lang = Lang.EN) -> str:
    return (
        ""
        if mode in adapter.facts.limits_of()
        else t("unavailable", lang, reason=unavailable_reason(adapter, mode, lang))
    )


def price_note(adapter: Adapter, mode: Mode, count: float | None, lang: Lang = Lang.EN) -> str:
    if mode not in adapter.facts.limits_of():
        return ""
    request = ImageRequest(mode, "x", n=int(count or 1), max_images=int(count or 1))
    expected = estimate(adapter.facts.price_of(request.model), request)
    if expected.usd is None:
        return t("price_none", lang, vendor=adapter.facts.title)
    return t("price_at_most" if expected.at_most else "price", lang, usd=f"{expected.usd:.3f}")


def estimate_text(expected: Estimate, lang: Lang = Lang.EN) -> str:
    """What a run was expected to cost, as `Estimate.__str__` says it, in `lang`."""
    if lang is Lang.EN:
        return str(expected)
    if expected.images <= 0:
        return t("estimate_none", lang)
    note = t("estimate_note", lang, note=translate(expected.note, lang)) if expected.note else ""
    if expected.usd is None:
        return (
            t("estimate_no_price", lang, count=expected.images) + note if note else t("estimate_no_price_alone", lang)
        )
    each, usd = f"{expected.usd / expected.images:.3f}", f"{expected.usd:.3f}"
    return (
        t("estimate_at_most" if expected.at_most else "estimate", lang, count=expected.images, each=each, usd=usd)
        + note
    )


def char_count(text: str | None, limit: int, lang: Lang = Lang.EN) -> str:
    length = len(text or "")
    if length > limit:
        return t("chars_over", lang, length=f"{length:,}", limit=f"{limit:,}", over=f"{length - limit:,}")
    return t("chars", lang, length=f"{length:,}", limit=f"{limit:,}")


def size_check(adapter: Adapter, mode: Mode, width: object, height: object, lang: Lang = Lang.EN) -> str:
    """A one-line verdict on W×H for `mode` with this vendor, naming the broken limit if any; the
    values come as typed, so a box holding no number is named too."""
    limits = adapter.facts.limits_of().get(mode)
    if limits is None:
        return ""
    try:
        width, height = round(float(str(width or 0))), round(float(str(height or 0)))
    except (ValueError, OverflowError):
        return t("size_not_numbers", lang)
    if not width or not height:
        return t("size_follows_input", lang)
    size = Size(width, height)
    found = [v.message for v in violations(ImageRequest(mode, "x", size=size), limits) if "size" in v.field]
    if found:
        return t("size_refused", lang, problems="; ".join(translate(message, lang) for message in found))
    return t("size_ok", lang, size=f"{size.width}×{size.height}", mp=f"{size.pixels / 1e6:.2f}")


def preset_choices(adapter: Adapter, mode: Mode) -> list[tuple[str, str]]:
    return [
        (f"{_ratio_name(size)} · {size.width}×{size.height}", str(size))
        for size in adapter.facts.offers[Model.WAN26].recommended_sizes.get(mode, ())
    ]


def _ratio_name(size: Size) -> str:
    divisor = gcd(size.width, size.height)
    return f"{size.width // divisor}:{size.height // divisor}"


def vendor_notes(adapter: Adapter, mode: Mode, lang: Lang = Lang.EN) -> str:
    """What is different about this vendor in this mode, in plain words."""
    facts = adapter.facts
    limits = facts.limits_of().get(mode)
    if limits is None:
        return ""
    notes = []
    if limits.seed is None:
        notes.append("note_no_seed")
    if limits.one_image_per_call and limits.n.high > 1:
        notes.append("note_one_per_call")
    if flows_of(adapter) == {Flow.TASK}:
        notes.append("note_always_task")
    if mode is Mode.EDIT and not facts.image_rules_of().accepts_local:
        notes.append("note_urls_only")
    if mode is Mode.EDIT and limits.images.high < 4:
        notes.append("note_max_references")
    words = [t(note, lang, vendor=facts.title, count=limits.images.high) for note in notes]
    return "  \n".join(f"ℹ️ {note}" for note in words)


def key_status(vendors: Vendors, guard: KeyGuard, keys: SessionKeys | None, lang: Lang = Lang.EN) -> str:
    lines = [t("key_own", lang, vendor=get_adapter(name).facts.title) for name in keys or {}]
    server = listed((get_adapter(name).facts.title for name in vendors.server_keyed()), lang)
    if server:
        lines.append(t("key_server", lang, vendors=server))
    elif not keys:
        lines.append(t("key_server_none", lang))
    if server and guard.enabled:
        lines.append(t("key_guard", lang, status=translate(guard.status(), lang)))
    return "  \n".join([*lines, t("key_memory", lang)])


def no_key_help(lang: Lang = Lang.EN) -> str:
    facts = [adapter.facts for adapter in PROVIDERS.values()]
    vendors = [t("no_key_vendor", lang, vendor=f.title, env=f.key_env, help=translate(f.key_help, lang)) for f in facts]
    return "\n".join([t("no_key_head", lang), t("no_key_body", lang), *vendors, t("no_key_region", lang)])


def caption(result: GenerationResult, image: SavedImage, lang: Lang = Lang.EN) -> str:
    size = f"{image.width}×{image.height}"
    if image.seed is None:
        return size
    # A vendor that takes no seed may still report the one it drew: say whose it was.
    key = "caption_seed" if result.seed is not None else "caption_vendor_seed"
    return t(key, lang, seed=image.seed, size=size)


def run_details(result: GenerationResult, estimated: str = "", lang: Lang = Lang.EN) -> str:
    adapter = get_adapter(result.provider)
    vendor = adapter.facts.title
    if result.cost_usd is not None:
        cost = t("details_cost", lang, vendor=vendor, usd=f"{result.cost_usd:.4f}")
    else:
        cost = t("details_no_cost", lang, vendor=vendor) + (
            t("details_estimate", lang, estimate=estimated) if estimated else ""
        )
    notes = "".join(t("details_note", lang, note=translate(note, lang)) for note in result.notes)
    return (
        t(
            "details",
            lang,
            model=result.model,
            vendor=vendor,
            count=len(result.images),
            seed=_seeds(result, lang),
            size=_size_made(result),
            elapsed=f"{result.elapsed_s:.1f}",
            cost=cost,
            ids=_ids(result, lang),
            folder=result.run_dir.name,
        )
        + notes
    )


def _seeds(result: GenerationResult, lang: Lang) -> str:
    seeds = sorted({image.seed for image in result.images if image.seed is not None})
    if result.seed is None:
        return t("details_no_seed", lang)
    if len(seeds) > 1:
        return t("details_seeds", lang, seeds=", ".join(map(str, seeds)))
    return t("details_seed", lang, seed=result.seed)


def _ids(result: GenerationResult, lang: Lang) -> str:
    named = {"details_request_id": result.request_id, "details_task_id": result.task_id}
    return " · ".join(t(key, lang, id=value) for key, value in named.items() if value) or t("details_no_ids", lang)


def _size_made(result: GenerationResult) -> str:
    """The size the vendor reported, else the saved images' own (not every vendor reports one)."""
    sizes = sorted({f"{image.width}×{image.height}" for image in result.images})
    return size_words(result.size) or ", ".join(sizes) or "?"


def size_words(size: str | None) -> str:
    """A size as the page writes it, 1280×1280, whichever way the vendor wrote it (DashScope: 1280*1280)."""
    return (size or "").replace("*", "×").replace("x", "×")


def saving(index: int, lang: Lang = Lang.EN) -> str:
    # Written to stay true if the run stops here: the details below keep the image's vendor link.
    return t("saving", lang, index=index)
