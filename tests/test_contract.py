"""One contract for every vendor: the same canonical requests, the same shape of result and error.

Each (vendor, mode) pair the adapters declare runs against that vendor's strict fake, with only
that vendor's key in the environment. What a user relies on must not depend on the vendor: PNGs
of the size asked for, a run record with the same fields, errors of the same classes carrying
the vendor's code, a hint and no key.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re

import pytest
from PIL import Image

from fakes.vendor import EXPECTED_ERROR, FailureKind
from wan26 import AsyncClient, ConfigError, Flow, ImageRequest, InvalidRequest, Mode, Model, ProviderError, Size
from wan26._http import RetryPolicy
from wan26.providers import PROVIDERS
from wan26.providers._base import (
    DirectCalls,
    StreamedCalls,
    TaskCalls,
    direct_calls,
    flows_of,
    streamed_calls,
    task_calls,
)

# Hosted on the loopback, never fetched: fakes only check that references are http(s) URLs.
REFERENCE_URL = "http://127.0.0.1:9/reference/cat.png"
CANONICAL = {
    Mode.TEXT_TO_IMAGE: ImageRequest(
        Mode.TEXT_TO_IMAGE, "a red fox in fresh snow", "blurry", size=Size(1280, 1280), n=2
    ),
    Mode.EDIT: ImageRequest(Mode.EDIT, "image 1 as a watercolour", images=(REFERENCE_URL,), size=Size(1024, 1024)),
    Mode.INTERLEAVE: ImageRequest(Mode.INTERLEAVE, "a two-step recipe for tea", max_images=2),
}
FACTS = {name: adapter.facts for name, adapter in PROVIDERS.items()}
PAIRS = [(name, mode) for name, facts in FACTS.items() for mode in facts.limits_of()]
RECORD_FIELDS = {
    *("status", "fetched_task", "mode", "provider", "model", "wan_model", "flow", "prompt", "negative_prompt"),
    "parameters",
    *(
        "seed",
        "size",
        "request_id",
        "request_ids",
        "task_id",
        "usage",
        "cost_usd",
        "timings",
        "reference_images",
        "images",
    ),
    *("failed_downloads", "text", "segments", "notes", "error"),
}
IMAGE_FIELDS = {"index", "seed", "file", "width", "height", "source_url"}


async def _no_wait(_seconds: float) -> None:
    return None


def run(name: str, request: ImageRequest, tmp_path, **options):
    async def go():
        async with AsyncClient(name, output_dir=tmp_path / "out", sleep=_no_wait, **options) as client:
            return await client.generate(request)

    return asyncio.run(go())


def test_every_vendor_offers_text_to_image_and_edit_and_the_registry_names_them_all():
    assert set(PROVIDERS) == {"dashscope", "aimlapi", "runware", "shortapi", "vtrix"}
    assert all({Mode.TEXT_TO_IMAGE, Mode.EDIT} <= set(facts.limits_of()) for facts in FACTS.values())
    assert [name for name, facts in FACTS.items() if Mode.INTERLEAVE in facts.limits_of()] == [
        "dashscope",
        "vtrix",
    ]


FLOWS = {
    "dashscope": {Flow.DIRECT, Flow.TASK},
    "aimlapi": {Flow.DIRECT},
    "runware": {Flow.DIRECT, Flow.TASK},
    "shortapi": {Flow.TASK},
    "vtrix": {Flow.TASK},
}
CAPABILITIES = {
    DirectCalls: (direct_calls, ("build_direct", "parse_output")),
    StreamedCalls: (streamed_calls, ("build_stream", "parse_stream_event")),
    TaskCalls: (task_calls, ("build_submit", "parse_submit", "build_poll", "parse_task")),
}


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_each_vendor_declares_consistent_facts_and_its_flows_follow_from_its_capabilities(name):
    adapter, facts = PROVIDERS[name], FACTS[name]
    assert facts.name == name and facts.title and facts.key_help
    assert flows_of(adapter) == FLOWS[name] and facts.default_flow in FLOWS[name]
    assert Model.WAN26 in facts.offers  # every vendor serves 2.6
    for offer in facts.offers.values():
        assert set(offer.limits) <= set(offer.ids) and set(offer.recommended_sizes) <= set(offer.limits)
    if Mode.INTERLEAVE in facts.limits_of() and Flow.DIRECT in FLOWS[name]:
        assert isinstance(adapter, StreamedCalls)  # interleave's direct answer is a stream
    assert facts.max_concurrent_per_key == (5 if name == "dashscope" else None)


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_a_capability_is_implemented_whole_or_not_at_all_and_a_missing_one_is_refused_by_name(name):
    adapter = PROVIDERS[name]
    for capability, (accessor, members) in CAPABILITIES.items():
        present = [member for member in members if hasattr(adapter, member)]
        assert present in ([], list(members)), f"{name} implements only {present} of {capability.__name__}"
        if present:
            assert accessor(adapter) is adapter
        else:
            with pytest.raises(ConfigError, match=f"^{re.escape(adapter.facts.title)} has no "):
                accessor(adapter)


def test_the_facts_cannot_be_changed_by_one_caller_for_every_other():
    facts = FACTS["dashscope"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.default_flow = Flow.TASK
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.offers[Model.WAN26].price = None
    with pytest.raises(TypeError):
        facts.offers[Model.WAN27] = facts.offers[Model.WAN26]
    with pytest.raises(TypeError):
        facts.limits_of()[Mode.EDIT] = facts.limits_of()[Mode.TEXT_TO_IMAGE]


@pytest.mark.parametrize(("name", "mode"), PAIRS)
def test_the_same_request_gives_the_same_shape_of_result_with_every_vendor(name, mode, only_vendor, tmp_path):
    fake = only_vendor(name)
    request = CANONICAL[mode]
    result = run(name, request, tmp_path)

    wanted = request.max_images if mode is Mode.INTERLEAVE else request.n
    assert 1 <= len(result.images) <= wanted and (mode is Mode.INTERLEAVE or len(result.images) == wanted)
    for image in result.images:
        assert image.path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(image.path) as opened:
            assert opened.size == (image.width, image.height)
        if request.size is not None:
            assert (image.width, image.height) == (request.size.width, request.size.height)

    record = json.loads(result.sidecar.read_text())
    assert set(record) == RECORD_FIELDS
    assert all(set(entry) == IMAGE_FIELDS for entry in record["images"])
    assert (record["status"], record["provider"], record["mode"]) == ("succeeded", name, mode.value)
    assert record["model"] == FACTS[name].model_id(Model.WAN26, mode) and record["prompt"] == request.prompt
    assert fake.api_key not in result.sidecar.read_text()
    if mode is Mode.EDIT:
        assert record["reference_images"][0]["label"] == REFERENCE_URL


@pytest.mark.parametrize(("name", "mode"), PAIRS)
def test_a_seed_is_sent_and_reported_only_where_the_vendor_takes_one(name, mode, only_vendor, tmp_path):
    only_vendor(name)
    limits = FACTS[name].limits_of()[mode]
    result = run(name, CANONICAL[mode], tmp_path)
    record = json.loads(result.sidecar.read_text())
    if limits.seed is None:
        assert result.seed is None and record["parameters"]["seed"] is None
        with pytest.raises(InvalidRequest, match="seed"):
            run(name, ImageRequest(mode, "fox", images=CANONICAL[mode].images, seed=5), tmp_path)
    else:
        assert result.seed is not None and result.seed in limits.seed
        assert {image.seed for image in result.images} <= set(range(result.seed, result.seed + len(result.images)))


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_a_reported_cost_reaches_the_run_record(name, only_vendor, tmp_path):
    only_vendor(name)
    result = run(name, CANONICAL[Mode.TEXT_TO_IMAGE], tmp_path)
    record = json.loads(result.sidecar.read_text())
    assert record["cost_usd"] == result.cost_usd
    if name == "dashscope":  # DashScope's answer carries usage, never a charge (its API reference)
        assert result.cost_usd is None
    else:
        assert result.cost_usd is not None and result.cost_usd > 0


@pytest.mark.parametrize("kind", list(FailureKind))
@pytest.mark.parametrize("name", list(PROVIDERS))
def test_every_vendors_failures_arrive_as_the_same_error_classes(name, kind, only_vendor, tmp_path):
    fake = only_vendor(name)
    fake.fail_with(kind)
    no_retries = RetryPolicy(max_retries=0)
    with pytest.raises(ProviderError) as caught:
        run(name, CANONICAL[Mode.TEXT_TO_IMAGE], tmp_path, retry=no_retries)
    error = caught.value
    assert isinstance(error, EXPECTED_ERROR[kind]), f"{name} {kind}: {type(error).__name__}: {error}"
    assert error.provider == name and error.message and error.hint
    assert fake.api_key not in str(error) and fake.api_key not in repr(error.__dict__)
    if kind is FailureKind.AUTH:
        assert FACTS[name].key_env in error.hint  # says which variable to fix


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_bad_input_is_refused_before_anything_reaches_any_vendor(name, only_vendor, tmp_path):
    fake = only_vendor(name)
    limits = FACTS[name].limits_of()[Mode.TEXT_TO_IMAGE]
    too_long = "x" * (limits.prompt_max + 1)
    with pytest.raises(InvalidRequest) as caught:
        run(name, ImageRequest(Mode.TEXT_TO_IMAGE, too_long, size=Size(64, 64), n=limits.n.high + 1), tmp_path)
    fields = {violation.field for violation in caught.value.violations}
    assert {"prompt", "size", "n"} <= fields
    assert fake.requests == []


@pytest.mark.parametrize("name", [name for name, facts in FACTS.items() if Mode.INTERLEAVE not in facts.limits_of()])
def test_a_mode_the_vendor_lacks_is_refused_by_name(name, only_vendor, tmp_path):
    fake = only_vendor(name)
    with pytest.raises(InvalidRequest, match=f"{name} does not offer interleave"):
        run(name, CANONICAL[Mode.INTERLEAVE], tmp_path)
    assert fake.requests == []
