"""The words the page shows: limits, prices, verdicts, vendor notes, key status and run details.
Pure functions of a vendor's data and a run's result."""

from __future__ import annotations

from dataclasses import replace

from wan26.errors import Violation
from wan26.guard import KeyGuard
from wan26.limits import ModeLimits, Range, side_range, violations
from wan26.pricing import Estimate, estimate
from wan26.providers import PROVIDERS, Adapter, flows_of, get_adapter
from wan26.types import Flow, GenerationResult, ImageRequest, Mode, SavedImage, Size, SizeTier
from wan26.ui.i18n import LABELS, Lang, field_label, listed, t, translate
from wan26.ui.models import Chosen, modelled_elsewhere
from wan26.ui.vendors import SessionKeys, Vendors

NO_KEY_LINE = LABELS["no_key_line"].en
MODE_KEYS = {
    Mode.TEXT_TO_IMAGE: "mode_t2i",
    Mode.EDIT: "mode_edit",
    Mode.INTERLEAVE: "mode_interleave",
    Mode.IMAGE_SET: "mode_image_set",
}


def union_limits(mode: Mode) -> ModeLimits:
    """Bounds wide enough for every vendor and model: what the public API's components accept before
    our validator checks the chosen vendor's and model's own limits (and names the field it breaks)."""
    offered = [
        offer.limits[mode]
        for adapter in PROVIDERS.values()
        for offer in adapter.facts.offers.values()
        if mode in offer.limits
    ]
    sides = [side_range(limits) for limits in offered]
    widest = Range(min(s.low for s in sides), max(s.high for s in sides))
    pixels = Range(min(limits.pixels.low for limits in offered), max(limits.pixels.high for limits in offered))
    n = Range(1, max(limits.n.high for limits in offered))
    images = Range(min(limits.images.low for limits in offered), max(limits.images.high for limits in offered))
    return replace(offered[0], side=widest, pixels=pixels, n=n, images=images)


def offered(choice: Chosen, mode: Mode) -> ModeLimits:
    """The vendor's limits for the model, or the widest bounds when it lacks the mode (its tab is disabled then)."""
    return choice.limits.get(mode) or union_limits(mode)


def unavailable_reason(choice: Chosen, mode: Mode, lang: Lang = Lang.EN) -> str:
    """Why `mode` cannot run: it needs another model of this vendor (pick it), or another vendor."""
    mode_name = t(MODE_KEYS[mode], lang)
    others = modelled_elsewhere(choice.adapter, mode)
    if others:
        models = t("or", lang).join(model.label for model in others)
        return t("unavailable_model", lang, mode=mode_name, models=models, model=choice.model.label)
    serving = (other.facts.title for other in PROVIDERS.values() if _offers(other, mode))
    return t("unavailable_reason", lang, vendor=choice.title, mode=mode_name, others=listed(serving, lang))


def _offers(adapter: Adapter, mode: Mode) -> bool:
    return any(mode in offer.limits for offer in adapter.facts.offers.values())


def mode_unavailable(choice: Chosen, mode: Mode, lang: Lang = Lang.EN) -> str:
    return "" if mode in choice.limits else t("unavailable", lang, reason=unavailable_reason(choice, mode, lang))


def price_note(choice: Chosen, mode: Mode, count: float | None, lang: Lang = Lang.EN) -> str:
    """The price of `count` images, or, for a count the vendor refuses, its range (the count box is
    further down: this line, under Generate, is where the eye goes before a run)."""
    if mode not in choice.limits:
        return ""
    refused = count_refused(choice.limits[mode], count, lang)
    if refused:
        return refused
    request = ImageRequest(mode, "x", n=int(count or 1), max_images=int(count or 1), model=choice.model)
    expected = estimate(choice.price, request)
    if expected.usd is None:
        return t("price_none", lang, vendor=choice.title)
    return t("price_at_most" if expected.at_most else "price", lang, usd=f"{expected.usd:.3f}")


def count_refused(limits: ModeLimits, count: float | None, lang: Lang) -> str:
    """ "⛔ Images at most: 13 — allowed 1–12" for a count beyond the vendor's range, else "" (an
    emptied box too: the validator says what is wrong with it)."""
    allowed = limits.max_images or limits.n
    try:
        if count is None or (float(count).is_integer() and int(count) in allowed):
            return ""
        shown = f"{float(count):g}"
    except (TypeError, ValueError, OverflowError):  # not a number at all (a crafted call): the validator says so
        return ""
    field = "max_images" if limits.max_images or limits.n_is_most else "n"  # the box's own label
    words = field_label(field, lang)
    return t("count_out", lang, field=words, count=shown, low=allowed.low, high=allowed.high)


def references_label(choice: Chosen, mode: Mode, lang: Lang = Lang.EN) -> str:
    """How many references this vendor and model take in `mode` (Edit: 1–4 with 2.6, 1–9 with 2.7)."""
    images = offered(choice, mode).images
    key = "references_optional" if images.low == 0 else "references_label"
    return t(key, lang, count=images.high)


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


def size_check(choice: Chosen, mode: Mode, width: object, height: object, lang: Lang = Lang.EN) -> str:
    """A one-line verdict on W×H for `mode` with this vendor and model, naming the broken limit if any;
    the values come as typed, so a box holding no number is named too."""
    limits = choice.limits.get(mode)
    if limits is None:
        return ""
    try:
        width, height = round(float(str(width or 0))), round(float(str(height or 0)))
    except (ValueError, OverflowError):
        return t("size_not_numbers", lang)
    if not width or not height:
        return _size_left_open(mode, limits.default_size, lang)
    size = Size(width, height)
    found = [_sized(v, lang) for v in violations(ImageRequest(mode, "x", size=size), limits) if "size" in v.field]
    if found:
        return t("size_refused", lang, problems="; ".join(found))
    return t("size_ok", lang, size=f"{size.width}×{size.height}", mp=f"{size.pixels / 1e6:.2f}")


def _size_left_open(mode: Mode, default: Size | SizeTier | None, lang: Lang) -> str:
    """What an empty width or height means: interleave follows its input image; elsewhere the size
    sent is the mode's default (or the vendor's own, where we send none)."""
    if mode is Mode.INTERLEAVE:
        return t("size_follows_input", lang)
    return t("size_default", lang, size=str(default).replace("x", "×")) if default else t("size_vendor_default", lang)


def _sized(violation: Violation, lang: Lang) -> str:
    """A size problem in the visitor's words, naming the side it concerns (`Width: …`)."""
    message = translate(violation.message, lang)
    if violation.field == "size":
        return message
    return t("field_message", lang, field=field_label(violation.field, lang), message=message)


def vendor_notes(choice: Chosen, mode: Mode, lang: Lang = Lang.EN) -> str:
    """What is different about this vendor and model in this mode, in plain words."""
    facts = choice.adapter.facts
    limits = choice.limits.get(mode)
    if limits is None:
        return ""
    notes = []
    if limits.seed is None:
        notes.append("note_no_seed")
    if limits.one_image_per_call and limits.n.high > 1:
        notes.append("note_one_per_call")
    if flows_of(choice.adapter) == {Flow.TASK}:
        notes.append("note_always_task")
    if limits.images.high and not choice.image_rules.accepts_local:
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
