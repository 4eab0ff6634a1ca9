"""Wan 2.7 and 2.7 Pro beside 2.6: the model is part of the request, each vendor serves the models it
documents, every 2.7 limit is enforced before sending, and the fakes (as strict as the vendors) take
what is sent. Image sets, palettes and box edits end to end."""

import asyncio
import base64
import io
import json

import pytest
from PIL import Image

from wan26 import (
    AsyncClient,
    Box,
    Flow,
    ImageRequest,
    InvalidRequest,
    Mode,
    Model,
    PaletteColor,
    Size,
    SizeTier,
    parse_box,
    parse_palette_color,
)
from wan26.pricing import estimate
from wan26.providers import PROVIDERS
from wan26.types import ProviderName

WAN27_MODELS = (Model.WAN27, Model.WAN27_PRO)
REFERENCE_URL = "http://127.0.0.1:9/reference/cat.png"  # never fetched
CANONICAL = {
    Mode.TEXT_TO_IMAGE: lambda model: ImageRequest(Mode.TEXT_TO_IMAGE, "a red fox", size=Size(1024, 1024), model=model),
    Mode.EDIT: lambda model: ImageRequest(
        Mode.EDIT, "image 1 at night", images=(REFERENCE_URL,), size=Size(1024, 1024), n=2, model=model
    ),
    Mode.IMAGE_SET: lambda model: ImageRequest(Mode.IMAGE_SET, "four seasons", size=Size(1024, 1024), n=3, model=model),
}
SERVED = [
    (name, model, mode)
    for name, adapter in PROVIDERS.items()
    for model in WAN27_MODELS
    for mode in adapter.facts.limits_of(model)
]
PALETTE = (PaletteColor("#C2D1E6", 6000), PaletteColor("#636574", 2500), PaletteColor("#CBD4E4", 1500))


async def _no_wait(_seconds: float) -> None:
    return None


def run(name, request, tmp_path, flow=None):
    async def go():
        async with AsyncClient(name, output_dir=tmp_path / "out", sleep=_no_wait) as client:
            return await client.generate(request, flow=flow)

    return asyncio.run(go())


def refused(name, request, tmp_path):
    with pytest.raises(InvalidRequest) as caught:
        run(name, request, tmp_path)
    return {violation.field for violation in caught.value.violations}


def sent_parameters(dashscope_fake):
    return dashscope_fake.generation_requests()[-1].json["parameters"]


# ---- who serves what ----------------------------------------------------------------------------


def test_dashscope_and_runware_serve_every_2_7_mode_and_2_6_stays_the_default():
    for name in ("dashscope", "runware"):
        for model in WAN27_MODELS:
            assert set(PROVIDERS[name].facts.limits_of(model)) == {Mode.TEXT_TO_IMAGE, Mode.EDIT, Mode.IMAGE_SET}
    assert set(PROVIDERS["vtrix"].facts.limits_of(Model.WAN27)) == {Mode.TEXT_TO_IMAGE, Mode.EDIT}
    assert PROVIDERS["shortapi"].facts.offer(Model.WAN27) is None
    assert ImageRequest(Mode.TEXT_TO_IMAGE, "x").model is Model.WAN26
    assert all(
        Mode.INTERLEAVE not in adapter.facts.limits_of(m) for adapter in PROVIDERS.values() for m in WAN27_MODELS
    )


@pytest.mark.parametrize(("name", "model", "mode"), SERVED)
def test_every_2_7_mode_runs_through_every_vendor_that_serves_it(name, model, mode, only_vendor, tmp_path):
    only_vendor(name)
    request = CANONICAL[mode](model)
    result = run(name, request, tmp_path)

    assert len(result.images) == request.n and result.wan_model is model
    for image in result.images:
        with Image.open(image.path) as opened:
            assert opened.size == (image.width, image.height) == (1024, 1024)
    record = json.loads(result.sidecar.read_text())
    assert record["status"] == "succeeded" and record["wan_model"] == model.value
    assert record["model"] == PROVIDERS[name].facts.offers[model].ids[mode]
    assert record["image_set"] is (mode is Mode.IMAGE_SET)
    assert "prompt_extend" not in record["parameters"]


def test_a_vendor_that_does_not_serve_a_model_is_refused_by_name_before_sending(only_vendor, tmp_path):
    fake = only_vendor("shortapi")
    request = ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", model=Model.WAN27, size=Size(1024, 1024))
    with pytest.raises(InvalidRequest, match="shortapi does not serve Wan 2.7"):
        run("shortapi", request, tmp_path)
    assert fake.generation_requests() == []


def test_an_image_set_with_2_6_is_refused_naming_the_model(dashscope_env, tmp_path):
    with pytest.raises(InvalidRequest, match="does not offer image_set with Wan 2.6"):
        run("dashscope", ImageRequest(Mode.IMAGE_SET, "four seasons"), tmp_path)
    assert dashscope_env.generation_requests() == []


# ---- what 2.7 refuses is refused here first ----------------------------------------------------

REFUSALS = {
    "a negative prompt": (
        ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", negative_prompt="blur", model=Model.WAN27),
        {"negative_prompt"},
    ),
    "4K off Pro": (ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", size=SizeTier.K4, model=Model.WAN27), {"size"}),
    "4K in a Pro edit": (
        ImageRequest(Mode.EDIT, "x", images=(REFERENCE_URL,), size=SizeTier.K4, model=Model.WAN27_PRO),
        {"size"},
    ),
    "4K in a Pro set": (ImageRequest(Mode.IMAGE_SET, "x", size=SizeTier.K4, model=Model.WAN27_PRO), {"size"}),
    "a palette in a set": (ImageRequest(Mode.IMAGE_SET, "x", palette=PALETTE, model=Model.WAN27), {"palette"}),
    "a tenth reference": (ImageRequest(Mode.EDIT, "x", images=(REFERENCE_URL,) * 10, model=Model.WAN27), {"images"}),
    "13 images in a set": (ImageRequest(Mode.IMAGE_SET, "x", n=13, model=Model.WAN27), {"n"}),
    "5 images outside a set": (ImageRequest(Mode.TEXT_TO_IMAGE, "x", n=5, model=Model.WAN27), {"n"}),
    "thinking in an edit": (
        ImageRequest(Mode.EDIT, "x", images=(REFERENCE_URL,), thinking=True, model=Model.WAN27),
        {"thinking"},
    ),
    "a prompt over 5000": (ImageRequest(Mode.TEXT_TO_IMAGE, "x" * 5001, model=Model.WAN27), {"prompt"}),
    "a ratio past 8:1": (ImageRequest(Mode.TEXT_TO_IMAGE, "x", size=Size(2304, 272), model=Model.WAN27), {"size"}),
    "boxes in text to image": (
        ImageRequest(Mode.TEXT_TO_IMAGE, "x", boxes=(Box(1, 0, 0, 10, 10),), model=Model.WAN27),
        {"boxes"},
    ),
    "three boxes on one image": (
        ImageRequest(Mode.EDIT, "x", images=(REFERENCE_URL,), boxes=(Box(1, 0, 0, 9, 9),) * 3, model=Model.WAN27),
        {"boxes"},
    ),
    "a box on an image that is not there": (
        ImageRequest(Mode.EDIT, "x", images=(REFERENCE_URL,), boxes=(Box(2, 0, 0, 9, 9),), model=Model.WAN27),
        {"boxes"},
    ),
    "a palette of two": (ImageRequest(Mode.TEXT_TO_IMAGE, "x", palette=PALETTE[:2], model=Model.WAN27), {"palette"}),
    "shares of 99.99 %": (
        ImageRequest(Mode.TEXT_TO_IMAGE, "x", palette=(*PALETTE[:2], PaletteColor("#CBD4E4", 1499)), model=Model.WAN27),
        {"palette"},
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_what_2_7_refuses_never_reaches_dashscope(case, dashscope_env, tmp_path):
    request, fields = REFUSALS[case]
    assert refused("dashscope", request, tmp_path) == fields
    assert dashscope_env.generation_requests() == []


def test_every_palette_problem_is_named_at_once():
    from wan26.limits import palette_violations
    from wan26.providers._wan27 import LIMITS

    colours = (PaletteColor("#C2D1E6", 0), PaletteColor("blue", 5000))
    messages = [str(v) for v in palette_violations(colours, LIMITS[Mode.TEXT_TO_IMAGE])]
    assert len(messages) == 4, messages  # two colours; a share of 0; not a colour; the shares make 50 %
    assert any("50.00%" in message for message in messages)


def test_runware_keeps_to_its_own_2_7_limits(only_vendor, tmp_path):
    fake = only_vendor("runware")
    too_long = ImageRequest(Mode.TEXT_TO_IMAGE, "x" * 3001, size=Size(1024, 1024), model=Model.WAN27)
    narrow = ImageRequest(Mode.TEXT_TO_IMAGE, "x", size=Size(2048, 512), model=Model.WAN27)
    assert refused("runware", too_long, tmp_path) == {"prompt"}
    assert refused("runware", narrow, tmp_path) == {"size.height"}
    assert fake.jobs == []


# ---- what is sent -------------------------------------------------------------------------------


def test_pro_makes_4k_text_to_image_and_the_tier_is_sent_as_is(dashscope_env, tmp_path):
    request = ImageRequest(Mode.TEXT_TO_IMAGE, "a lighthouse", size=SizeTier.K4, model=Model.WAN27_PRO)
    result = run("dashscope", request, tmp_path)
    sent = dashscope_env.generation_requests()[-1].json
    assert sent["model"] == "wan2.7-image-pro" and sent["parameters"]["size"] == "4K"
    assert (result.images[0].width, result.images[0].height) == (4096, 4096)


def test_2_7_is_sent_without_2_6_options_and_with_size_and_n_always(dashscope_env, tmp_path):
    run("dashscope", ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", model=Model.WAN27, prompt_extend=False), tmp_path)
    parameters = sent_parameters(dashscope_env)
    assert parameters["size"] == "2K" and parameters["n"] == 1  # the documented defaults disagree: both sent
    assert not {"negative_prompt", "prompt_extend", "enable_interleave", "thinking_mode"} & set(parameters)


def test_thinking_and_a_palette_go_under_each_vendors_own_names(only_vendor, dashscope_env, tmp_path):
    request = ImageRequest(
        Mode.TEXT_TO_IMAGE, "a fox", size=Size(1024, 1024), thinking=False, palette=PALETTE, model=Model.WAN27
    )
    run("dashscope", request, tmp_path)
    parameters = sent_parameters(dashscope_env)
    assert parameters["thinking_mode"] is False
    assert parameters["color_palette"] == [
        {"hex": "#C2D1E6", "ratio": "60.00%"},
        {"hex": "#636574", "ratio": "25.00%"},
        {"hex": "#CBD4E4", "ratio": "15.00%"},
    ]
    runware = only_vendor("runware")
    run("runware", request, tmp_path)
    assert runware.jobs[-1].wan27.thinking_mode is False
    assert runware.jobs[-1].wan27.color_palette == (("#C2D1E6", "60.00%"), ("#636574", "25.00%"), ("#CBD4E4", "15.00%"))


@pytest.mark.parametrize("flow", list(Flow))
def test_a_seed_sent_to_runware_is_the_seed_each_image_is_recorded_with(only_vendor, tmp_path, flow):
    fake = only_vendor("runware")
    request = ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", n=2, seed=42, model=Model.WAN27)
    result = run("runware", request, tmp_path, flow)

    assert fake.jobs[-1].seed == 42 and result.seed == 42
    assert sorted(image.seed for image in result.images) == [42, 43]
    record = json.loads(result.sidecar.read_text())
    assert record["seed"] == 42 and sorted(image["seed"] for image in record["images"]) == [42, 43]


@pytest.mark.parametrize("flow", list(Flow))
def test_a_set_returns_as_many_images_as_the_model_chose_in_order(flow, dashscope_env, tmp_path):
    dashscope_env.set_count(3)
    request = ImageRequest(Mode.IMAGE_SET, "a cat through four seasons", n=4, model=Model.WAN27)
    result = run("dashscope", request, tmp_path, flow)

    assert [image.index for image in result.images] == [1, 2, 3]
    assert [image.path.name for image in result.images] == ["01.png", "02.png", "03.png"]
    assert sent_parameters(dashscope_env)["enable_sequential"] is True
    record = json.loads(result.sidecar.read_text())
    assert record["image_set"] is True and record["usage"]["image_count"] == 3
    assert str(estimate(PROVIDERS["dashscope"].facts.price_of(Model.WAN27), request)).startswith("up to 4 ×")


def test_a_runware_set_is_one_direct_call_that_may_hold_fewer_images_than_asked(only_vendor, tmp_path):
    fake = only_vendor("runware")
    fake.set_count(2)
    request = ImageRequest(Mode.IMAGE_SET, "a cat through four seasons", n=4, model=Model.WAN27, size=Size(1024, 1024))
    result = run("runware", request, tmp_path)
    assert len(result.images) == 2 and fake.jobs[-1].sequential is True
    # Polling could not tell the set's last image from its first: a task is never started for it.
    with pytest.raises(InvalidRequest, match="runware runs image_set with Wan 2.7 as one direct call only"):
        run("runware", request, tmp_path, Flow.TASK)
    assert len(fake.jobs) == 1


def test_a_batch_sends_a_runware_set_row_directly_and_other_rows_as_tasks(tmp_path):
    from wan26.batch import Defaults, make_plan, read_jobs

    (tmp_path / "jobs.csv").write_text("prompt,mode,model\nfour seasons,image_set,wan2.7\na fox,text_to_image,wan2.7\n")
    plan = make_plan(read_jobs(tmp_path / "jobs.csv", Defaults(provider=ProviderName.RUNWARE)))
    assert [row.flow for row in plan.rows] == [Flow.DIRECT, Flow.TASK]


# ---- box edits ----------------------------------------------------------------------------------


def _turned_photo_with_a_red_patch(path, upright=(8400, 1200), patch=(4200, 300, 4620, 900)):
    """A JPEG stored on its side (EXIF orientation 6: turn 90° clockwise to view) and wider than 8000 px
    upright, so it is both turned and downscaled before sending; a red patch at `patch` when upright."""
    image = Image.new("RGB", upright, (30, 90, 200))
    image.paste((230, 20, 20), patch)
    stored = image.transpose(Image.Transpose.ROTATE_90)  # orientation 6 turns it back
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(path, quality=95, exif=exif.tobytes())
    return patch


def _sent_image(dashscope_fake, index):
    content = dashscope_fake.generation_requests()[-1].json["input"]["messages"][0]["content"]
    data = [item["image"] for item in content if "image" in item][index]
    return Image.open(io.BytesIO(base64.b64decode(data.split(",", 1)[1]))).convert("RGB")


def test_a_box_drawn_on_the_upright_image_lands_on_the_same_pixels_the_vendor_sees(dashscope_env, tmp_path):
    other, photo = tmp_path / "other.png", tmp_path / "turned.jpg"
    Image.new("RGB", (640, 480), (0, 200, 0)).save(other)
    x1, y1, x2, y2 = _turned_photo_with_a_red_patch(photo)
    request = ImageRequest(
        Mode.EDIT,
        "put the clock from image 1 in the box on image 2",
        images=(other, photo),
        boxes=(Box(2, x1, y1, x2, y2),),
        model=Model.WAN27,
    )
    result = run("dashscope", request, tmp_path)

    bbox_list = sent_parameters(dashscope_env)["bbox_list"]
    assert bbox_list[0] == [] and len(bbox_list) == 2
    [[sx1, sy1, sx2, sy2]] = bbox_list[1]
    sent = _sent_image(dashscope_env, 1)
    assert sent.size == (8000, 1143)  # turned upright and downscaled
    inside = sent.crop((sx1 + 4, sy1 + 4, sx2 - 4, sy2 - 4)).getcolors(1 << 20)
    assert all(r > 180 and g < 80 and b < 80 for _, (r, g, b) in inside)  # all red: the patch, nothing else
    around = [sent.getpixel((sx1 - 6, (sy1 + sy2) // 2)), sent.getpixel((sx2 + 6, (sy1 + sy2) // 2))]
    assert all(b > 150 for _, _, b in around)  # just outside the box: the blue background
    record = json.loads(result.sidecar.read_text())
    assert record["boxes"] == [{"image": 2, "box": [x1, y1, x2, y2]}] and record["boxes_sent"] == bbox_list


def test_a_box_beyond_8000_px_on_a_bigger_reference_is_moved_with_the_downscale(dashscope_env, tmp_path):
    photo = tmp_path / "turned.jpg"
    x1, y1, x2, y2 = _turned_photo_with_a_red_patch(photo, patch=(8100, 300, 8350, 900))  # 8400 px wide upright
    request = ImageRequest(Mode.EDIT, "x", images=(photo,), boxes=(Box(1, x1, y1, x2, y2),), model=Model.WAN27)
    run("dashscope", request, tmp_path)
    [[[sx1, sy1, sx2, sy2]]] = sent_parameters(dashscope_env)["bbox_list"]
    assert sx2 <= 8000 and _sent_image(dashscope_env, 0).size == (8000, 1143)
    inside = _sent_image(dashscope_env, 0).crop((sx1 + 4, sy1 + 4, sx2 - 4, sy2 - 4)).getcolors(1 << 20)
    assert all(r > 180 and g < 80 and b < 80 for _, (r, g, b) in inside)


def test_a_box_past_the_edge_of_its_upright_image_is_refused_before_sending(dashscope_env, tmp_path):
    photo = tmp_path / "turned.jpg"
    _turned_photo_with_a_red_patch(photo, upright=(2400, 600), patch=(10, 10, 50, 50))
    # Stored 600 wide and 2400 high: a box 1000 px down fits the file as stored, not the upright image.
    request = ImageRequest(Mode.EDIT, "x", images=(photo,), boxes=(Box(1, 100, 100, 300, 1000),), model=Model.WAN27)
    with pytest.raises(InvalidRequest, match="reaches past image 1, which is 2400×600"):
        run("dashscope", request, tmp_path)
    assert dashscope_env.generation_requests() == []


def test_runware_gets_the_boxes_as_edit_regions(only_vendor, tmp_path):
    fake = only_vendor("runware")
    photo = tmp_path / "ref.png"
    Image.new("RGB", (1024, 768), (0, 200, 0)).save(photo)
    request = ImageRequest(
        Mode.EDIT, "x", images=(photo,), boxes=(Box(1, 10, 20, 300, 400),), model=Model.WAN27, size=Size(1024, 768)
    )
    run("runware", request, tmp_path)
    assert fake.jobs[-1].wan27.bbox_list == (((10, 20, 300, 400),),)


# ---- parsing what people type -------------------------------------------------------------------


def test_colours_and_boxes_are_read_as_people_write_them():
    assert parse_palette_color("#c2d1e6:23.5") == PaletteColor("#C2D1E6", 2350)
    assert parse_palette_color("636574:25%") == PaletteColor("#636574", 2500)
    assert str(PaletteColor("#636574", 2500)) == "#636574:25.00%"
    assert parse_box("2:989,515,1138,681") == Box(2, 989, 515, 1138, 681)
    for bad in ("#C2D1E6", "red:50", "#C2D1E6:1.234"):
        with pytest.raises(ValueError, match="looks like #C2D1E6:25"):
            parse_palette_color(bad)
    with pytest.raises(ValueError, match="image number:x1,y1,x2,y2"):
        parse_box("2:989,515")


# ---- batch rows and compare -----------------------------------------------------------------------


def test_a_jobs_file_names_the_model_palette_and_boxes_of_each_row(tmp_path):
    from wan26.batch import Defaults, read_jobs

    Image.new("RGB", (640, 480), (0, 200, 0)).save(tmp_path / "room.png")
    (tmp_path / "jobs.csv").write_text(
        "mode,prompt,model,palette,boxes,images,size\n"
        "text_to_image,a fox,wan2.7-pro,#C2D1E6:60|#636574:25|#CBD4E4:15,,,4K\n"
        'edit,a lamp in the box,wan2.7,,"1:10,10,200,200",room.png,\n'
        "image_set,four seasons,wan2.7,#C2D1E6:100,,,\n"
        "text_to_image,a fox,wan3,,,,\n"
    )
    jobs = read_jobs(tmp_path / "jobs.csv", Defaults())
    first, second = jobs.rows
    assert (first.request.model, first.request.size) == (Model.WAN27_PRO, SizeTier.K4)
    assert [str(color) for color in first.request.palette] == ["#C2D1E6:60.00%", "#636574:25.00%", "#CBD4E4:15.00%"]
    assert second.request.boxes == (Box(1, 10, 10, 200, 200),)
    problems = [str(problem) for problem in jobs.problems]
    assert "line 4 (row 3): palette: is not available here (Wan 2.7, not in image sets)" in problems
    assert any(p.startswith("line 5 (row 4): model: 'wan3' is not a model") for p in problems)


def test_compare_with_2_7_names_the_vendor_that_does_not_serve_it():
    from wan26.compare import plan_compare

    plan = plan_compare(ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", model=Model.WAN27), ["dashscope", "shortapi"])
    by_vendor = {vendor.provider: vendor for vendor in plan.vendors}
    assert by_vendor["dashscope"].problems == ()
    assert [problem.message for problem in by_vendor["shortapi"].problems] == ["shortapi does not serve Wan 2.7"]


# ---- review fixes: regions, fetch, the set's default size, compare, a resumed batch --------------


def test_2_7_is_refused_before_sending_to_dashscopes_virginia_host(tmp_path):
    from wan26._run.checks import check_region
    from wan26.providers._base import Credentials

    dashscope = PROVIDERS["dashscope"]
    virginia = Credentials("https://dashscope-us.aliyuncs.com/api/v1", "k")
    with pytest.raises(
        InvalidRequest, match=r"Wan 2.7 Pro is not served in the us region \(DASHSCOPE_REGION\); use cn, intl"
    ):
        check_region(dashscope, virginia, Model.WAN27_PRO)
    check_region(dashscope, virginia, Model.WAN26)  # 2.6 is served there
    check_region(dashscope, Credentials("https://dashscope-intl.aliyuncs.com/api/v1", "k"), Model.WAN27)
    check_region(dashscope, Credentials("http://127.0.0.1:9/api/v1", "k"), Model.WAN27)  # a proxy: not ours to judge


def test_fetching_with_a_mode_or_model_the_vendor_lacks_is_refused_by_name(only_vendor, tmp_path):
    only_vendor("vtrix")

    async def fetch(mode, model):
        async with AsyncClient("vtrix", output_dir=tmp_path, sleep=_no_wait) as client:
            return await client.fetch("task-1", mode, model)

    with pytest.raises(InvalidRequest, match="vtrix does not offer image_set with Wan 2.7"):
        asyncio.run(fetch(Mode.IMAGE_SET, Model.WAN27))
    with pytest.raises(InvalidRequest, match="vtrix does not offer image_set with Wan 2.6"):
        asyncio.run(fetch(Mode.IMAGE_SET, Model.WAN26))


def test_a_fetched_set_task_is_saved_and_recorded_as_2_7(dashscope_env, tmp_path):
    dashscope_env.set_count(2)
    request = ImageRequest(Mode.IMAGE_SET, "four seasons", n=3, model=Model.WAN27)

    async def submit_then_fetch():
        async with AsyncClient("dashscope", output_dir=tmp_path, sleep=_no_wait) as client:
            submitted = await client.generate(request, flow=Flow.TASK)
            return await client.fetch(submitted.task_id, Mode.IMAGE_SET, Model.WAN27)

    fetched = asyncio.run(submit_then_fetch())
    record = json.loads(fetched.sidecar.read_text())
    assert len(fetched.images) == 2 and (record["model"], record["wan_model"]) == ("wan2.7-image", "wan2.7")


def test_compare_with_2_7_does_not_report_prompt_rewriting_nobody_asked_for():
    from wan26.compare import plan_compare

    plan = plan_compare(ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", model=Model.WAN27), ["dashscope", "runware"])
    assert all(adjustment.field != "prompt_extend" for vendor in plan.vendors for adjustment in vendor.adjustments)


def test_a_box_on_a_link_reference_is_kept_within_the_longest_side_a_reference_may_have(dashscope_env, tmp_path):
    request = ImageRequest(
        Mode.EDIT, "x", images=(REFERENCE_URL,), boxes=(Box(1, 0, 0, 10**20, 10),), model=Model.WAN27
    )
    with pytest.raises(InvalidRequest, match="reaches past 8000 px, the longest side of a reference"):
        run("dashscope", request, tmp_path)
    assert dashscope_env.generation_requests() == []


def test_a_stopped_2_7_pro_task_is_followed_as_pro_and_settled_at_pros_price(dashscope_env, tmp_path):
    """The app's Stop leaves a task to `Stopped`: it must fetch it as the model it was made with, so
    that the owner's ledger counts Pro's price and the record says Pro."""
    from wan26.guard import KeyGuard
    from wan26.ui.spending import Spend
    from wan26.ui.stopped import Stopped

    dashscope_env.task_script = ["RUNNING", "SUCCEEDED"]
    request = ImageRequest(Mode.TEXT_TO_IMAGE, "a lighthouse", model=Model.WAN27_PRO, size=Size(1024, 1024))

    async def submit():
        async with AsyncClient("dashscope", output_dir=tmp_path, sleep=_no_wait) as client:
            async for event in client.events(request, flow=Flow.TASK):
                if getattr(event, "task_id", None):
                    return event.task_id  # stop following here, as Stop does
        raise AssertionError("no task id")

    task_id = asyncio.run(submit())
    guard = KeyGuard(daily_usd=10.0)
    spend = Spend(guard)
    spend.reservation = guard.admit("visitor", 0.075, 1)

    def client(name, key):
        return AsyncClient(name, output_dir=tmp_path, sleep=_no_wait)

    stopped = Stopped(PROVIDERS["dashscope"], None, client, task_id, Mode.TEXT_TO_IMAGE, spend, model=Model.WAN27_PRO)
    asyncio.run(stopped.follow())
    assert stopped.finished and stopped.failure is None
    record = json.loads((stopped.run_dir / "run.json").read_text())
    assert (record["model"], record["wan_model"]) == ("wan2.7-image-pro", "wan2.7-pro")
    assert guard.remaining_today() == pytest.approx(10.0 - 0.075)


# ---- the edit endpoint's boxes input -------------------------------------------------------------


from wan26.ui.inputs import box_list, edit_request  # noqa: E402


def test_the_edit_request_carries_the_boxes_and_refuses_what_is_not_a_box():
    request = edit_request(
        "x", ["/up/a.png", "/up/b.png"], "", "1K", 1, -1, True, False, "", "wan2.7", "", "2:10,20,30,40; 1:0,0,5,5"
    )
    assert request.boxes == (Box(2, 10, 20, 30, 40), Box(1, 0, 0, 5, 5))
    assert edit_request("x", [], "", "1K", 1, -1, True, False).boxes == ()
    with pytest.raises(InvalidRequest, match="line 2 is not IMAGE:x1,y1,x2,y2"):
        box_list("2:10,20,30,40\n/etc/passwd")
    with pytest.raises(InvalidRequest, match="at most 64 are read"):
        box_list("1:0,0,1,1\n" * 65)


def test_a_jobs_row_with_a_box_past_its_upright_image_is_a_problem_before_the_batch_runs(tmp_path):
    from wan26.batch import Defaults, read_jobs

    _turned_photo_with_a_red_patch(tmp_path / "turned.jpg", upright=(2400, 600), patch=(10, 10, 50, 50))
    Image.new("RGB", (640, 480), (0, 200, 0)).save(tmp_path / "room.png")
    (tmp_path / "jobs.csv").write_text(
        "mode,prompt,model,boxes,images\n"
        'edit,inside,wan2.7,"1:100,100,300,500",turned.jpg\n'
        'edit,too far down for the upright photo,wan2.7,"1:100,100,300,1000",turned.jpg\n'
        'edit,too wide,wan2.7,"1:0,0,5000,300",room.png\n'
    )
    jobs = read_jobs(tmp_path / "jobs.csv", Defaults())
    assert [str(problem) for problem in jobs.problems] == [
        "line 3 (row 2): boxes: box 1:100,100,300,1000 reaches past image 1, which is 2400×600",
        "line 4 (row 3): boxes: box 1:0,0,5000,300 reaches past image 1, which is 640×480",
    ]


def test_a_model_name_is_read_with_spaces_around_it_and_a_long_text_names_none():
    assert Model.named(" wan2.7\n") is Model.WAN27 and Model.named("Wan 2.7 Pro\r") is Model.WAN27_PRO
    with pytest.raises(ValueError, match="is not a model"):
        Model.named("wan2.7" + " " * 40 + "and more")
