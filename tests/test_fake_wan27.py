"""Tests OF the fakes' Wan 2.7 Image support, with plain httpx against the served apps.

Each fake must accept the 2.7 wire format the client sends and refuse every deviation with its
vendor's error envelope. Pages:
- DashScope 2.7 reference: https://help.aliyun.com/zh/model-studio/wan-image-generation-and-editing-api-reference
- Runware 2.7 schemas: https://runware.ai/docs/models/alibaba-wan2-7-image/schema.json (and -pro)
- Vtrix 2.7 page: https://doc.vtrix.ai/domestic/api/qwen/wan27-image-intl
- AI/ML API 2.7 page: https://github.com/aimlapi/api-docs/blob/f14fa72f/docs/api-references/image-models/alibaba-cloud/wan2.7-image.md
"""

from __future__ import annotations

import base64
import io
import uuid

import httpx
import pytest
from PIL import Image

SYNC = "/services/aigc/multimodal-generation/generation"
ASYNC = "/services/aigc/image-generation/generation"
ASYNC_HEADERS = {"X-DashScope-Async": "enable"}
# ZH-REF's 8-colour palette example, verbatim.
PALETTE = [
    {"hex": "#C2D1E6", "ratio": "23.51%"},
    {"hex": "#CDD8E9", "ratio": "20.13%"},
    {"hex": "#B5C8DB", "ratio": "15.88%"},
    {"hex": "#C0B5B4", "ratio": "13.27%"},
    {"hex": "#DAE0EC", "ratio": "10.11%"},
    {"hex": "#636574", "ratio": "8.93%"},
    {"hex": "#CACAD2", "ratio": "5.55%"},
    {"hex": "#CBD4E4", "ratio": "2.62%"},
]
# QW-OAS's 3-colour example; the second one sums to 99.99%.
THREE_COLOURS = [
    {"hex": "#C2D1E6", "ratio": "60.00%"},
    {"hex": "#636574", "ratio": "25.00%"},
    {"hex": "#CBD4E4", "ratio": "15.00%"},
]
SHORT_BY_ONE_HUNDREDTH = THREE_COLOURS[:2] + [{"hex": "#CBD4E4", "ratio": "14.99%"}]
URL_IMAGE = "https://example.com/a.png"  # never fetched


def data_uri(width: int = 300, height: int = 300, mode: str = "RGB") -> str:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), (10, 200, 90, 255)[: len(mode)]).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


SQUARE, WIDE, TALL = data_uri(300, 300), data_uri(600, 300), data_uri(300, 400)


# ---- DashScope ------------------------------------------------------------------------------------


@pytest.fixture
def dashscope(dashscope_fake):
    return dashscope_fake


@pytest.fixture
def client(dashscope_fake):
    headers = {"Authorization": f"Bearer {dashscope_fake.api_key}"}
    with httpx.Client(base_url=dashscope_fake.base_url, headers=headers, timeout=10) as http:
        yield http


def body27(model: str = "wan2.7-image", text: str = "a cat", images: tuple[str, ...] = (), **parameters) -> dict:
    content = [{"text": text}] + [{"image": image} for image in images]
    return {"model": model, "input": {"messages": [{"role": "user", "content": content}]}, "parameters": parameters}


def pro(**changes) -> dict:
    return body27("wan2.7-image-pro", **changes)


def contents(payload: dict) -> list[list[dict]]:
    """Each choice's content items."""
    return [choice["message"]["content"] for choice in payload["output"]["choices"]]


def assert_dashscope_refusal(response: httpx.Response, fragment: str) -> None:
    payload = response.json()
    assert response.status_code == 400, payload
    assert set(payload) == {"request_id", "code", "message"} and uuid.UUID(payload["request_id"])
    assert payload["code"] == "InvalidParameter" and fragment in payload["message"], payload


def test_text_to_image_answers_one_choice_per_image_with_tokens_and_the_tier_size(client, dashscope):
    sent = body27(n=2, size="2K", seed=5, watermark=False, thinking_mode=True)
    payload = client.post(SYNC, json=sent).json()

    assert [len(items) for items in contents(payload)] == [1, 1]
    usage = payload["usage"]
    assert (usage["image_count"], usage["size"]) == (2, "2048*2048")
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    [job] = dashscope.jobs
    assert (job.model, job.mode, job.n, job.seed) == ("wan2.7-image", "t2i", 2, 5)
    assert (job.wan27.thinking_mode, job.wan27.watermark, job.wan27.sequential) == (True, False, False)


def test_pro_text_to_image_reaches_4k_and_w_h_up_to_4096_squared(client):
    assert client.post(SYNC, json=pro(n=1, size="4K")).json()["usage"]["size"] == "4096*4096"
    assert client.post(SYNC, json=pro(n=1, size="4096*2304")).json()["usage"]["size"] == "4096*2304"


def test_n_and_size_default_to_4_and_2k_or_12_in_a_set(client, dashscope):
    usage = client.post(SYNC, json=body27()).json()["usage"]
    assert (usage["image_count"], usage["size"]) == (4, "2048*2048")
    payload = client.post(SYNC, json=body27(enable_sequential=True)).json()
    assert payload["usage"]["image_count"] == 12 and [len(items) for items in contents(payload)] == [12]
    assert [(job.n, job.wan27.size_param) for job in dashscope.jobs] == [(4, None), (12, None)]


def test_an_edit_takes_nine_images_and_the_tier_follows_the_last_one(client, dashscope):
    images = (SQUARE,) * 8 + (WIDE,)
    payload = client.post(SYNC, json=body27(images=images, n=1, size="2K")).json()

    assert payload["usage"]["size"] == "2896*1456"  # 2048² pixels at 2:1
    assert len(dashscope.jobs[0].images) == 9 and dashscope.jobs[0].mode == "edit"


def test_box_edit_records_each_images_own_boxes(client, dashscope):
    sent = body27(images=(TALL, WIDE), n=1, size="1K", bbox_list=[[], [[10, 20, 100, 200], [0, 0, 600, 300]]])
    assert client.post(SYNC, json=sent).json()["usage"]["size"] == "1456*720"

    first, second = dashscope.jobs[0].images
    assert first.boxes == () and second.boxes == ((10, 20, 100, 200), (0, 0, 600, 300))
    assert dashscope.jobs[0].wan27.bbox_list == ((), ((10, 20, 100, 200), (0, 0, 600, 300)))


def test_boxes_on_a_url_image_are_not_bounds_checked(client, dashscope):
    response = client.post(SYNC, json=body27(images=(URL_IMAGE,), n=1, bbox_list=[[[0, 0, 5000, 5000]]]))
    assert response.status_code == 200 and dashscope.jobs[0].images[0].boxes == ((0, 0, 5000, 5000),)


def test_the_documented_palette_is_accepted_and_recorded(client, dashscope):
    assert client.post(SYNC, json=body27(n=1, color_palette=PALETTE)).status_code == 200
    assert dashscope.jobs[0].wan27.color_palette == tuple((c["hex"], c["ratio"]) for c in PALETTE)


def test_a_set_is_one_choice_and_set_count_makes_it_smaller(client, dashscope):
    def set_sizes() -> list[int]:
        payload = client.post(SYNC, json=pro(n=6, size="2K", enable_sequential=True)).json()
        assert len(payload["output"]["choices"]) == 1
        assert payload["usage"]["image_count"] == len(contents(payload)[0])
        return [len(items) for items in contents(payload)]

    assert set_sizes() == [6]
    dashscope.set_count(3, 1, 9)
    assert [set_sizes(), set_sizes(), set_sizes(), set_sizes()] == [[3], [1], [6], [6]]  # capped at n; last repeats
    dashscope.set_count()
    assert set_sizes() == [6]


def test_the_single_choice_switch_puts_every_image_in_one_choice(client, dashscope):
    dashscope.wan27_single_choice = True
    payload = client.post(SYNC, json=body27(n=3)).json()
    assert [len(items) for items in contents(payload)] == [3] and payload["usage"]["image_count"] == 3


def test_a_prompt_over_5000_characters_is_truncated_not_refused(client, dashscope):
    assert client.post(SYNC, json=body27(text="x" * 5001, n=1)).status_code == 200
    assert dashscope.jobs[0].prompt == "x" * 5000
    assert [(t.field, t.length, t.limit) for t in dashscope.truncations] == [("text", 5001, 5000)]


@pytest.mark.parametrize("model", ["wan2.7-image", "wan2.7-image-pro"])
def test_an_async_set_task_succeeds_with_one_choice_and_tokens(client, dashscope, model):
    dashscope.set_count(2)
    sent = body27(model, images=(SQUARE,), n=4, size="1K", enable_sequential=True)
    submitted = client.post(ASYNC, json=sent, headers=ASYNC_HEADERS).json()
    task_path = f"/tasks/{submitted['output']['task_id']}"

    assert client.get(task_path).json()["output"]["task_status"] == "RUNNING"
    done = client.get(task_path).json()
    assert done["output"]["task_status"] == "SUCCEEDED"
    assert [len(items) for items in contents(done)] == [2]
    assert done["usage"]["image_count"] == 2 and done["usage"]["size"] == "1024*1024"
    assert done["usage"]["input_tokens"] > 0 and done["usage"]["output_tokens"] > 0


def test_a_failed_task_puts_code_and_message_in_output(client, dashscope):
    dashscope.task_script = ["FAILED"]
    submitted = client.post(ASYNC, json=body27(n=1), headers=ASYNC_HEADERS).json()
    output = client.get(f"/tasks/{submitted['output']['task_id']}").json()["output"]
    assert output["task_status"] == "FAILED" and output["code"] == "InternalError" and output["message"]


def test_wan26_models_are_unchanged_and_other_names_still_unknown(client):
    assert client.post(SYNC, json=body27("wan2.6-t2i", n=1, size="1280*1280")).json()["usage"]["input_tokens"] == 0
    response = client.post(SYNC, json=body27("wan2.7-image-plus"))
    assert response.status_code == 404 and response.json()["code"] == "ModelNotFound"


DASHSCOPE_REFUSALS = {
    "negative prompt": (body27(negative_prompt="blurry"), "negative_prompt"),
    "prompt_extend": (body27(prompt_extend=False), "prompt_extend"),
    "interleave": (body27(enable_interleave=False), "enable_interleave"),
    "max_images": (body27(max_images=2), "max_images"),
    "stream": (body27(stream=False), "stream"),
    "unknown parameter": (body27(thinking=True), "not a wan2.7 parameter"),
    "4K off pro": (body27(size="4K"), "4K"),
    "4K with images": (pro(images=(SQUARE,), size="4K"), "4K"),
    "4K in a set": (pro(size="4K", enable_sequential=True), "4K"),
    "pro W*H over 2048² with images": (pro(images=(SQUARE,), size="4096*4096"), "pixels"),
    "W*H under 768²": (body27(size="700*700"), "pixels"),
    "W*H beyond 8:1": (body27(size="3000*360"), "1:8"),
    "x separator": (body27(size="2048x2048"), "separator"),
    "palette in a set": (body27(enable_sequential=True, color_palette=THREE_COLOURS), "enable_sequential"),
    "palette sum 99.99": (body27(color_palette=SHORT_BY_ONE_HUNDREDTH), "99.99%"),
    "two colours": (body27(color_palette=THREE_COLOURS[:2]), "3-10"),
    "eleven colours": (body27(color_palette=PALETTE + THREE_COLOURS), "3-10"),
    "ratio without decimals": (body27(color_palette=[{"hex": "#000000", "ratio": "100%"}] * 3), "two decimals"),
    "a zero ratio": (body27(color_palette=[*THREE_COLOURS[:2], {"hex": "#CBD4E4", "ratio": "0.00%"}]), "above 0"),
    "hex without #": (body27(color_palette=[{"hex": "C2D1E6", "ratio": "60.00%"}, *THREE_COLOURS[1:]]), "hex"),
    "extra colour key": (body27(color_palette=[{**THREE_COLOURS[0], "name": "sky"}, *THREE_COLOURS[1:]]), "exactly"),
    "a tenth image": (body27(images=(URL_IMAGE,) * 10), "at most 9"),
    "box outside the image": (body27(images=(WIDE,), bbox_list=[[[0, 0, 601, 300]]]), "inside the 600x300"),
    "box upside down": (body27(images=(WIDE,), bbox_list=[[[50, 0, 10, 300]]]), "x1 < x2"),
    "box of 3 numbers": (body27(images=(WIDE,), bbox_list=[[[0, 0, 10]]]), "4 integers"),
    "box of floats": (body27(images=(WIDE,), bbox_list=[[[0, 0, 10.5, 10]]]), "4 integers"),
    "bbox_list shorter than the images": (body27(images=(WIDE, SQUARE), bbox_list=[[]]), "one entry per input"),
    "three boxes": (body27(images=(WIDE,), bbox_list=[[[0, 0, 1, 1], [1, 1, 2, 2], [2, 2, 3, 3]]]), "at most 2"),
    "boxes without images": (body27(bbox_list=[]), "at least one input image"),
    "boxes in a set": (body27(images=(WIDE,), enable_sequential=True, bbox_list=[[]]), "enable_sequential"),
    "thinking with images": (body27(images=(SQUARE,), thinking_mode=True), "thinking_mode"),
    "thinking in a set": (body27(enable_sequential=True, thinking_mode=False), "thinking_mode"),
    "n=5 without a set": (body27(n=5), "[1, 4]"),
    "n=13 in a set": (body27(n=13, enable_sequential=True), "[1, 12]"),
    "n=0": (body27(n=0), "[1, 4]"),
    "seed over 2³¹-1": (body27(seed=2_147_483_648), "seed"),
    "watermark as a string": (body27(watermark="false"), "watermark"),
    "sequential as a number": (body27(enable_sequential=1), "enable_sequential"),
    "input beyond 8:1": (body27(images=(data_uri(2700, 300),)), "1:8"),
    "RGBA input": (body27(images=(data_uri(300, 300, "RGBA"),)), "alpha"),
    "two texts": (
        {"model": "wan2.7-image", "input": {"messages": [{"role": "user", "content": [{"text": "a"}, {"text": "b"}]}]}},
        "exactly one text",
    ),
    "typed content": (
        {
            "model": "wan2.7-image",
            "input": {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}]}]},
        },
        '"type"',
    ),
}


@pytest.mark.parametrize(("sent", "fragment"), DASHSCOPE_REFUSALS.values(), ids=DASHSCOPE_REFUSALS.keys())
@pytest.mark.parametrize("path", [SYNC, ASYNC])
def test_dashscope_refuses_what_wan27_does_not_take(client, dashscope, sent, fragment, path):
    assert_dashscope_refusal(client.post(path, json=sent, headers=ASYNC_HEADERS if path == ASYNC else {}), fragment)
    assert dashscope.jobs == [] and dashscope.tasks == {}


@pytest.mark.parametrize("path", [SYNC, ASYNC])
def test_dashscope_refuses_streaming_for_wan27(client, path):
    headers = {"X-DashScope-Sse": "enable"} | (ASYNC_HEADERS if path == ASYNC else {})
    assert_dashscope_refusal(client.post(path, json=body27(n=1), headers=headers), "do not stream")


# ---- Runware ---------------------------------------------------------------------------------------


@pytest.fixture
def runware(vendor_fakes):
    return vendor_fakes["runware"]


def task27(model: str = "alibaba:wan@2.7-image", **changes) -> dict:
    task = {
        "taskType": "imageInference",
        "taskUUID": str(uuid.uuid4()),
        "model": model,
        "positivePrompt": "a fox",
        "width": 1024,
        "height": 1024,
    }
    return task | changes


def runware_post(fake, task: dict) -> httpx.Response:
    return httpx.post(fake.base_url, json=[task], headers={"Authorization": f"Bearer {fake.api_key}"})


def test_runware_text_to_image_takes_a_seed_thinking_and_a_palette(runware):
    settings = {"thinking": True, "colorPalette": THREE_COLOURS}
    task = task27(seed=7, numberResults=2, includeCost=True, settings=settings)
    data = runware_post(runware, task).json()["data"]

    assert [item["cost"] for item in data] == [0.03, 0.03]
    [job] = runware.jobs
    assert (job.model, job.seed, job.count, job.size) == ("alibaba:wan@2.7-image", 7, 2, (1024, 1024))
    assert job.wan27.thinking_mode is True and job.wan27.color_palette[0] == ("#C2D1E6", "60.00%")


def test_runware_pro_goes_to_4096_and_costs_0_075(runware):
    task = task27("alibaba:wan@2.7-image-pro", width=4096, height=2304, includeCost=True)
    [item] = runware_post(runware, task).json()["data"]
    assert item["cost"] == 0.075 and runware.jobs[0].size == (4096, 2304)


def test_runware_edit_regions_are_recorded_per_reference(runware):
    references = [SQUARE] * 8 + [WIDE]
    regions = [[]] * 8 + [[[0, 0, 600, 300]]]
    task = task27(inputs={"referenceImages": references}, settings={"editRegions": regions})
    assert runware_post(runware, task).status_code == 200
    job = runware.jobs[0]
    assert job.reference_images == tuple(references) and job.wan27.bbox_list[8] == ((0, 0, 600, 300),)


def test_runware_sequential_returns_up_to_number_results_and_set_count_makes_it_fewer(runware):
    def items() -> int:
        task = task27(numberResults=12, settings={"sequential": True})
        return len(runware_post(runware, task).json()["data"])

    assert items() == 12
    runware.set_count(5, 2)
    assert [items(), items(), items()] == [5, 2, 2]
    runware.set_count()
    assert items() == 12


WIDE_REF = {"inputs": {"referenceImages": [WIDE]}}
RUNWARE_REFUSALS = {
    "negative prompt": (task27(negativePrompt="blurry"), "unknownParameter"),
    "promptExtend": (task27(providerSettings={"alibaba": {"promptExtend": False}}), "unknownParameter"),
    "unknown settings key": (task27(settings={"steps": 30}), "unknownParameter"),
    "unknown inputs key": (task27(inputs={"referenceImages": [WIDE], "mask": WIDE}), "unknownParameter"),
    "width 760": (task27(width=760), "invalidWidth"),
    "width 1000 (not x16)": (task27(width=1000), "invalidWidth"),
    "std width 2064": (task27(width=2064), "invalidWidth"),
    "pro 4096 with references": (task27("alibaba:wan@2.7-image-pro", height=4096, **WIDE_REF), "invalidHeight"),
    "no height": ({k: v for k, v in task27().items() if k != "height"}, "missingHeight"),
    "a tenth reference": (task27(inputs={"referenceImages": [WIDE] * 10}), "invalidReferenceImages"),
    "numberResults 5": (task27(numberResults=5), "invalidNumberResults"),
    "numberResults 13 in a set": (task27(numberResults=13, settings={"sequential": True}), "invalidNumberResults"),
    "seed over 2³¹-1": (task27(seed=2_147_483_648), "invalidSeed"),
    "prompt over 3000": (task27(positivePrompt="x" * 3001), "invalidPositivePrompt"),
    "thinking with references": (task27(settings={"thinking": True}, **WIDE_REF), "invalidThinking"),
    "thinking in a set": (task27(settings={"thinking": False, "sequential": True}), "invalidThinking"),
    "palette in a set": (task27(settings={"sequential": True, "colorPalette": THREE_COLOURS}), "invalidColorPalette"),
    "palette sum 99.99": (task27(settings={"colorPalette": SHORT_BY_ONE_HUNDREDTH}), "invalidColorPalette"),
    "two colours": (task27(settings={"colorPalette": THREE_COLOURS[:2]}), "invalidColorPalette"),
    "regions without references": (task27(settings={"editRegions": []}), "invalidEditRegions"),
    "regions length": (task27(settings={"editRegions": [[], []]}, **WIDE_REF), "invalidEditRegions"),
    "three regions": (
        task27(settings={"editRegions": [[[0, 0, 1, 1], [1, 1, 2, 2], [2, 2, 3, 3]]]}, **WIDE_REF),
        "invalidEditRegions",
    ),
    "region outside": (task27(settings={"editRegions": [[[0, 0, 600, 301]]]}, **WIDE_REF), "invalidEditRegions"),
}


@pytest.mark.parametrize(("task", "code"), RUNWARE_REFUSALS.values(), ids=RUNWARE_REFUSALS.keys())
def test_runware_refuses_what_the_27_schema_refuses(runware, task, code):
    response = runware_post(runware, task)

    assert response.status_code == 400
    [entry] = response.json()["errors"]
    assert (entry["code"], entry["taskUUID"]) == (code, task["taskUUID"])
    assert runware.jobs == []


def test_runware_still_refuses_a_seed_for_26(runware):
    response = runware_post(runware, task27("alibaba:wan@2.6-image", width=2700, height=768, seed=1))
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "unknownParameter"


# ---- Vtrix -----------------------------------------------------------------------------------------


@pytest.fixture
def vtrix(vendor_fakes):
    return vendor_fakes["vtrix"]


def vtrix_post(fake, model: str, images: tuple[str, ...] = (), **parameters) -> httpx.Response:
    native = body27(images=images, **parameters)
    wrapped = {"model": model, "input": [{"params": {"input": native["input"], "parameters": native["parameters"]}}]}
    return httpx.post(
        fake.base_url + "/model/v1/generation", json=wrapped, headers={"Authorization": f"Bearer {fake.api_key}"}
    )


def test_vtrix_wan27_runs_a_task_with_the_documented_parameters(vtrix):
    params = {"size": "2K", "n": 2, "watermark": False, "thinking_mode": True, "seed": 42, "color_palette": PALETTE}
    task_id = vtrix_post(vtrix, "wan27_image", **params).json()["id"]
    headers = {"Authorization": f"Bearer {vtrix.api_key}"}
    for _ in range(3):  # in_progress, in_progress, completed
        polled = httpx.get(f"{vtrix.base_url}/model/v1/generation/task/{task_id}", headers=headers).json()

    assert polled["status"] == "completed" and len(polled["output"][0]["content"]) == 2
    [job] = vtrix.jobs
    assert (job.model, job.size, job.seed, job.wan27.thinking_mode) == ("wan2.7-image", (2048, 2048), 42, True)


def test_vtrix_wan27_pro_takes_4k_text_to_image(vtrix):
    assert vtrix_post(vtrix, "wan27_image_pro", size="4K", n=1).status_code == 200
    assert vtrix.jobs[0].size == (4096, 4096)


VTRIX_REFUSALS = {
    "bbox_list": ("wan27_image", (WIDE,), {"bbox_list": [[]]}, "bbox_list"),
    "enable_sequential": ("wan27_image_pro", (), {"enable_sequential": True}, "enable_sequential"),
    "negative prompt": ("wan27_image", (), {"negative_prompt": "blurry"}, "negative_prompt"),
    "4K off pro": ("wan27_image", (), {"size": "4K"}, "4K"),
    "n=5": ("wan27_image", (), {"n": 5}, "[1, 4]"),
    "thinking with images": ("wan27_image", (SQUARE,), {"thinking_mode": True}, "thinking_mode"),
    "palette sum 99.99": ("wan27_image", (), {"color_palette": SHORT_BY_ONE_HUNDREDTH}, "99.99%"),
    "a tenth image": ("wan27_image", (URL_IMAGE,) * 10, {}, "at most 9"),
}


@pytest.mark.parametrize(("model", "images", "params", "fragment"), VTRIX_REFUSALS.values(), ids=VTRIX_REFUSALS.keys())
def test_vtrix_refuses_what_wan27_or_vtrix_does_not_take(vtrix, model, images, params, fragment):
    response = vtrix_post(vtrix, model, images, **params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "InvalidParameter" and fragment in error["message"]
    assert vtrix.submissions == [] and vtrix.jobs == []


# ---- AI/ML API -------------------------------------------------------------------------------------


@pytest.fixture
def aimlapi(vendor_fakes):
    return vendor_fakes["aimlapi"]


def aiml_post(fake, **body) -> httpx.Response:
    return httpx.post(
        fake.base_url + "/v1/images/generations", json=body, headers={"Authorization": f"Bearer {fake.api_key}"}
    )


@pytest.mark.parametrize(
    ("model", "usd", "credits"),
    [("alibaba/wan-2-7-image", 0.039, 78000), ("alibaba/wan-2-7-image-pro", 0.0975, 195000)],
)
def test_aimlapi_wan27_answers_with_its_price(aimlapi, model, usd, credits):
    sent = {"model": model, "prompt": "a fox", "image_urls": [URL_IMAGE], "seed": 3, "enhance_prompt": False}
    response = aiml_post(aimlapi, **sent)

    assert response.json()["meta"]["usage"] == {"credits_used": credits, "usd_spent": usd}
    assert response.headers["x-aimlapi-usd-spent"] == f"{usd:.9f}"
    assert list(aimlapi.issued.values()) == [sent]


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"negative_prompt": "blurry"}, "negative_prompt: alibaba/wan-2-7-image does not support"),
        ({"enhance_prompt": True}, "enhance_prompt: alibaba/wan-2-7-image does not support"),
        ({"image_urls": [URL_IMAGE] * 4}, "at most 3"),
        ({"image_size": {"width": 1000, "height": 1024}}, "multiple of 32"),
        ({"prompt": "x" * 2001}, "at most 2000"),
        ({"model": "alibaba/wan2.7-image"}, "model: Invalid enum value"),  # the code samples' spelling
    ],
)
def test_aimlapi_refuses_what_wan27_does_not_take(aimlapi, changes, detail):
    response = aiml_post(aimlapi, **({"model": "alibaba/wan-2-7-image", "prompt": "a fox"} | changes))

    body = response.json()
    assert response.status_code == 400 and body["statusCode"] == 400
    assert body["message"].startswith("Body validation error!") and detail in body["message"]
    assert aimlapi.issued == {}
