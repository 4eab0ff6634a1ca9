"""Everything checked before a request is sent: nothing out of limits is ever billed."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from wan26.errors import ConfigError, InvalidRequest, Violation
from wan26.images import ImageRules, prepare_images
from wan26.limits import ModeLimits, boxes_outside, violations, with_default_size
from wan26.providers._base import Adapter, Credentials, WireRequest, flows_of
from wan26.storage import RunFolder
from wan26.types import Flow, ImageRequest, Model


def mode_limits(adapter: Adapter, request: ImageRequest, flow: Flow) -> ModeLimits:
    """The vendor's limits for this mode, or InvalidRequest when it lacks the mode or the flow."""
    facts = adapter.facts
    limits = facts.checked_limits(request.model, request.mode)
    if flow not in flows_of(adapter):
        raise InvalidRequest([Violation("flow", f"{facts.name} does not offer the {flow} flow")])
    if flow is Flow.TASK and limits.direct_only:
        message = f"{facts.name} runs {request.mode} with {request.model.label} as one direct call only"
        raise InvalidRequest([Violation("flow", message)])
    return limits


def check_region(adapter: Adapter, creds: Credentials, model: Model) -> None:
    """InvalidRequest when the key's region does not serve `model` (DashScope has 2.7 in two of three)."""
    facts = adapter.facts
    region = facts.unserved_region(model, creds.base_url)
    if region is not None and facts.regions is not None:
        served = ", ".join(sorted(facts.offers[model].regions or ()))
        message = f"{model.label} is not served in the {region} region ({facts.regions.env}); use {served}"
        raise InvalidRequest([Violation("model", message)])


async def wire_request(request: ImageRequest, limits: ModeLimits, rules: ImageRules) -> WireRequest:
    """The request ready to translate (default size, prepared images, seed fixed), or one
    InvalidRequest naming every limit and image problem at once."""
    request = with_default_size(request, limits)
    found = violations(request, limits)
    try:
        # Decoding and encoding block: off the event loop, but only when there is something to prepare.
        images = await asyncio.to_thread(prepare_images, request.images, rules) if request.images else ()
    except InvalidRequest as bad_images:
        found, images = [*found, *bad_images.violations], ()
    found += boxes_outside(request.boxes, [image.upright_size for image in images], rules.max_side)
    if found:
        raise InvalidRequest(found)
    return WireRequest(request, images, drawn_seed(request, limits))


def drawn_seed(request: ImageRequest, limits: ModeLimits) -> int | None:
    """The seed to send: the user's, or a random one we draw so the run can be reproduced."""
    if limits.seed is None:
        return None
    return request.seed if request.seed is not None else random.randint(limits.seed.low, limits.seed.high)


def check_output_folder(folder: RunFolder, output_dir: Path) -> None:
    """Fail before anything is billed if results could not be saved."""
    try:
        folder.check_writable()
    except OSError as exc:
        raise ConfigError(
            f"Cannot save results in {output_dir} ({exc.strerror or exc}): "
            "set WAN26_OUTPUT_DIR or --out to a folder you can write to."
        ) from exc
