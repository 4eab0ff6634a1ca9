"""Compare (issue 10): one request adapted to each vendor from its limits, sent to them all at once,
as `wan26.compare` and as `python -m wan26 compare`, against the vendor fakes on 127.0.0.1."""

import asyncio
import json
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from test_cli import run_cli

from fakes.vendor import EXPECTED_ERROR, FailureKind
from wan26 import AsyncClient, ImageRequest, Mode, Size
from wan26.compare import Change, NoVendorCanTake, Status, plan_compare, run_compare
from wan26.errors import ConfigError
from wan26.limits import violations
from wan26.providers import PROVIDERS

ALL = list(PROVIDERS)
T2I = [name for name, adapter in PROVIDERS.items() if Mode.TEXT_TO_IMAGE in adapter.facts.limits_of()]
THREE = ["dashscope", "aimlapi", "runware"]  # direct vendors: a comparison of them takes about a second


def t2i(prompt="a red fox", **options) -> ImageRequest:
    return ImageRequest(Mode.TEXT_TO_IMAGE, prompt, **options)


def limits_of(name, mode=Mode.TEXT_TO_IMAGE):
    return PROVIDERS[name].facts.limits_of()[mode]


def adjusted(vendor) -> dict:
    return {adjustment.field: adjustment for adjustment in vendor.adjustments}


# ---- the plan: adapted from each vendor's limits, before anything is sent ---------------------------------


@pytest.mark.parametrize("name", T2I)
def test_an_option_a_vendor_lacks_is_not_sent_to_it_and_said_so(name):
    request = t2i(seed=42, watermark=True, negative_prompt="blur")
    vendor = plan_compare(request, [name]).vendors[0]
    limits, said = limits_of(name), adjusted(vendor)
    for field, offered in (("seed", limits.seed is not None), ("watermark", limits.watermark)):
        assert (field in said) is not offered, field  # read from the limits data, whatever the vendor
        if not offered:
            assert said[field].change is Change.NOT_SENT and said[field].sent is None
    assert vendor.request.seed == (42 if limits.seed is not None else None)
    assert vendor.request.watermark is limits.watermark
    assert vendor.request.negative_prompt == ("blur" if limits.negative_prompt else "")
    assert violations(vendor.request, limits) == []


@pytest.mark.parametrize(
    "size", [Size(1024, 1024), Size(1696, 960), Size(960, 1696), Size(2880, 1280), Size(700, 2800)]
)
@pytest.mark.parametrize("name", T2I)
def test_a_size_a_vendor_does_not_offer_becomes_the_nearest_it_does(name, size):
    vendor = plan_compare(t2i(size=size), [name]).vendors[0]
    sent = vendor.request.size
    assert violations(vendor.request, limits_of(name)) == []
    if sent == size:
        assert "size" not in adjusted(vendor)
        return
    change = adjusted(vendor)["size"]
    assert change.change is Change.RESIZED and change.asked == str(size) and change.sent == str(sent)
    broken = [v.message for v in violations(t2i(size=size), limits_of(name)) if v.field.startswith("size")]
    assert change.reason == "; ".join(broken)  # the limits it broke, in the core's words
    assert (sent.width > sent.height) == (size.width > size.height)  # the shape kept, as far as the vendor allows


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (
            Size(1696, 960),
            {
                "dashscope": "1696x960",  # one of its documented sizes just under its minimum
                "aimlapi": "1440x800",  # sides 512–1440, multiples of 32
                "runware": "1704x964",  # at least 1280×1280 pixels, multiples of 4
                "shortapi": "1712x976",
                "vtrix": "1712x976",
            },
        ),
        (
            Size(700, 2800),  # 1:4
            {
                "dashscope": "704x2800",  # the nearest multiple of 16 that keeps within 1:4
                "aimlapi": "512x1440",  # the narrowest shape its sides allow
                "runware": "700x2800",
                "shortapi": "704x2800",
                "vtrix": "704x2800",
            },
        ),
    ],
)
def test_the_size_each_vendor_gets(size, expected):
    plan = plan_compare(t2i(size=size), T2I)
    assert {vendor.provider: str(vendor.request.size) for vendor in plan.vendors} == expected


def test_a_count_over_a_vendors_limit_is_capped_with_the_limit_named():
    vendor = plan_compare(t2i(n=6), ["dashscope"]).vendors[0]
    change = adjusted(vendor)["n"]
    assert vendor.request.n == 4
    assert (change.change, change.asked, change.sent) == (Change.CAPPED, "6", "4")
    assert change.reason == "6 images per run; allowed 1–4"


def test_one_seed_is_drawn_for_every_vendor_that_takes_one_and_none_is_reported_as_not_sent():
    plan = plan_compare(t2i(), THREE)
    seeds = {vendor.provider: vendor.request.seed for vendor in plan.vendors}
    assert seeds["dashscope"] == seeds["aimlapi"] == plan.request.seed is not None
    assert seeds["runware"] is None and "seed" not in adjusted(plan.vendors[2])  # never asked for: no news


def test_a_request_no_chosen_vendor_can_take_is_refused_naming_the_field_and_limit():
    with pytest.raises(NoVendorCanTake) as empty:
        plan_compare(t2i(""), THREE)
    assert [str(v) for v in empty.value.violations] == ["prompt: is required"]
    with pytest.raises(NoVendorCanTake) as long:
        plan_compare(t2i("x" * 2101), ["aimlapi", "dashscope"])
    assert {str(v) for v in long.value.violations} == {
        "prompt: is 2101 characters; the limit is 2000 (AI/ML API)",
        "prompt: is 2101 characters; the limit is 2100 (Alibaba Cloud DashScope)",
    }
    with pytest.raises(NoVendorCanTake) as zero:
        plan_compare(t2i(n=0), THREE)
    assert "n: 0 images per run; allowed 1–4" in str(zero.value)


def test_a_vendor_that_cannot_take_the_request_is_left_out_while_the_others_are_planned():
    plan = plan_compare(t2i("x" * 2050), ["aimlapi", "dashscope"])
    left_out, kept = plan.vendors
    assert not left_out.ready and [str(p) for p in left_out.problems] == [
        "prompt: is 2050 characters; the limit is 2000"
    ]
    assert kept.ready and plan.ready == (kept,)


def test_a_vendor_is_chosen_once_and_an_unknown_one_is_refused():
    assert [v.provider for v in plan_compare(t2i(), ["runware", "RUNWARE", "dashscope"]).vendors] == [
        "runware",
        "dashscope",
    ]
    with pytest.raises(ConfigError, match="unknown provider 'nobody'"):
        plan_compare(t2i(), ["dashscope", "nobody"])
    with pytest.raises(ConfigError, match="at least one vendor"):
        plan_compare(t2i(), [])


# ---- running it: every vendor at once, a failure in its own column -----------------------------------------


def compare_with_fakes(fakes, request, names, out: Path):
    async def go():
        async with AsyncExitStack() as stack:
            clients = {
                name: await stack.enter_async_context(AsyncClient(name, env=fakes[name].env(), output_dir=out / name))
                for name in names
            }
            plan = plan_compare(request, names)
            return await run_compare(plan, lambda name, req: clients[name].events(req))

    return asyncio.run(go())


def test_vendors_run_at_once():
    """Each vendor's run waits until every vendor has started: run one after another, the first
    would wait for ever (the timeout turns that into a failure, not a slow pass)."""
    plan = plan_compare(t2i(seed=7), THREE)
    started: set[str] = set()
    everyone_in = asyncio.Event()

    async def vendor_run(name, request):
        started.add(name)
        if started == set(THREE):
            everyone_in.set()
        await everyone_in.wait()
        return
        yield

    async def go():
        async with asyncio.timeout(30):
            return await run_compare(plan, vendor_run)

    comparison = asyncio.run(go())
    assert started == set(THREE) and len(comparison.outcomes) == 3


def test_one_vendor_failing_shows_its_error_while_the_others_save_theirs(vendor_fakes, tmp_path):
    vendor_fakes["runware"].fail_with(FailureKind.CREDITS)
    comparison = compare_with_fakes(vendor_fakes, t2i(seed=7, watermark=True), THREE, tmp_path)
    dashscope, aimlapi, runware = comparison.outcomes
    for done in (dashscope, aimlapi):
        assert done.status is Status.SUCCEEDED and done.seeds == (7,)
        assert [image.path.is_file() for image in done.result.images] == [True]
    assert aimlapi.cost.usd == pytest.approx(0.039) and not aimlapi.cost.estimated  # reported by the vendor
    assert dashscope.cost.estimated and dashscope.cost.usd == pytest.approx(0.03)  # no cost reported: list price
    assert runware.status is Status.FAILED and isinstance(runware.error, EXPECTED_ERROR[FailureKind.CREDITS])
    assert runware.error.code == "insufficientCredits" and runware.error.hint
    assert not comparison.all_succeeded
    sent = vendor_fakes["runware"].generation_requests()[0].json[0]
    assert "seed" not in sent and "watermark" not in sent  # reported as not sent, and not sent
    assert set(adjusted(runware.plan)) == {"seed", "watermark"}


def test_a_left_out_vendor_is_never_sent_anything(vendor_fakes, tmp_path):
    comparison = compare_with_fakes(vendor_fakes, t2i("x" * 2050), ["aimlapi", "dashscope"], tmp_path)
    assert [outcome.status for outcome in comparison.outcomes] == [Status.SKIPPED, Status.SUCCEEDED]
    assert vendor_fakes["aimlapi"].requests == []
    assert "the limit is 2000" in str(comparison.outcomes[0].error)


# ---- the command line ---------------------------------------------------------------------------------------


def env_for(fakes, names, tmp_path) -> dict:
    env = {"WAN26_OUTPUT_DIR": str(tmp_path / "outputs")}
    for name in names:
        env |= fakes[name].env()
    return env


def test_cli_compare_shows_each_vendor_in_a_table_and_one_failure_with_its_code_hint_and_request_id(
    vendor_fakes, tmp_path
):
    vendor_fakes["dashscope"].fail_with(FailureKind.CREDITS)
    args = ["compare", "a red fox", "--providers", ",".join(THREE), "--size", "1696x960", "-n", "2", "--seed", "42"]
    env = env_for(vendor_fakes, THREE, tmp_path)
    done = run_cli(*args, "--watermark", "--out", str(tmp_path / "out"), env=env, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    heading, *lines = done.stdout.splitlines()
    assert heading.split() == ["vendor", "status", "time", "seed", "cost", "files", "or", "error"]
    rows = {line.split()[0]: line for line in lines[:3]}
    assert rows["aimlapi"].split()[1] == "succeeded"
    assert " 42, 43 " in rows["aimlapi"] and "$0.0780" in rows["aimlapi"]  # one call per image; reported cost
    assert rows["runware"].split()[1] == "succeeded" and "$0.0600" in rows["runware"]
    failed = rows["dashscope"]
    assert failed.split()[1] == "failed" and "[Arrearage] (HTTP 400); request id " in failed
    request_id = failed.rsplit(" ", 1)[1]
    details = done.stdout.split("\ndashscope:")[1].split("\n\n")[0]
    assert "Hint: " in details and "Request id: " in details  # the failure's whole message under the table
    assert f"Request id: {request_id}" in details
    assert "adapted: seed 42: not sent" in done.stdout.split("\nrunware:")[1]
    assert "adapted: size 1696x960: sent as 1440x800" in done.stdout.split("\naimlapi:")[1]
    assert "[dashscope] failed" in done.stderr and "[runware] Sending the request" in done.stderr
    # The fakes were sent what the table says.
    assert vendor_fakes["aimlapi"].generation_requests()[0].json["image_size"] == {"width": 1440, "height": 800}
    runware = vendor_fakes["runware"].generation_requests()[0].json[0]
    assert (runware["width"], runware["height"], "seed" in runware, "watermark" in runware) == (1704, 964, False, False)
    dashscope = vendor_fakes["dashscope"].generation_requests()[0].json["parameters"]
    assert (dashscope["size"], dashscope["seed"], dashscope["watermark"]) == ("1696*960", 42, True)
    # One folder for the comparison, each vendor's run folder in it, and the record.
    folder = next((tmp_path / "out").iterdir())
    assert folder.name.split("-")[2] == "compare" and (folder / "compare.json").is_file()
    for name in ("aimlapi", "runware"):
        assert len(list((folder / name).glob("*-text_to_image-*/0*.png"))) == 2, name
    record = json.loads((folder / "compare.json").read_text())
    assert [vendor["status"] for vendor in record["vendors"]] == ["failed", "succeeded", "succeeded"]
    assert record["vendors"][0]["error"]["code"] == "Arrearage" and record["vendors"][0]["error"]["request_id"]
    texts = [done.stdout, done.stderr, (folder / "compare.json").read_text()]
    assert not any(fake.api_key in text for fake in vendor_fakes.values() for text in texts)


def test_cli_compare_json_and_the_keyed_vendors_by_default(vendor_fakes, tmp_path):
    names = ["dashscope", "runware"]
    done = run_cli("compare", "a lighthouse", "--json", env=env_for(vendor_fakes, names, tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # stdout is exactly one JSON object
    assert [vendor["provider"] for vendor in report["vendors"]] == names and report["all_succeeded"]
    for vendor in report["vendors"]:
        assert vendor["images"] and all(Path(path).is_file() for path in vendor["images"])
        assert vendor["cost_usd"] is not None and vendor["elapsed_s"] > 0
    assert report["vendors"][0]["cost_estimated"] and not report["vendors"][1]["cost_estimated"]
    assert report["vendors"][0]["seeds"] == [report["request"]["seed"]]  # the seed drawn for all
    assert Path(report["record"]).is_file()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["compare", "", "--providers", "dashscope,runware"], "prompt: is required"),
        (["compare", "x" * 2101, "--providers", "dashscope,aimlapi"], "the limit is 2000 (AI/ML API)"),
        (["compare", "a fox", "--providers", "dashscope,vtrix"], "VTRIX_API_KEY"),  # no key for one of them
        (["compare", "a fox", "--providers", "dashscope,nobody"], "nobody is not one of"),
        (["compare", "a fox", "--size", "huge"], "size must look like 1280x1280"),
    ],
)
def test_cli_compare_refuses_invalid_input_before_sending_anything(vendor_fakes, tmp_path, args, said):
    done = run_cli(*args, env=env_for(vendor_fakes, ["dashscope", "runware", "aimlapi"], tmp_path), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert said in done.stderr
    assert all(fake.requests == [] for fake in vendor_fakes.values())
    assert not (tmp_path / "outputs").exists()


def test_cli_compare_with_no_key_at_all_says_what_to_set(vendor_fakes, tmp_path):
    done = run_cli("compare", "a fox", env={}, cwd=tmp_path)
    assert done.returncode == 2 and "No vendor key is set" in done.stderr and "RUNWARE_API_KEY" in done.stderr
