"""Wan 2.7 through the app's public endpoints, over HTTP against the DashScope fake: the model is one
more optional parameter, and every 2.7 option is checked before anything is sent."""

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import ValidationError
from PIL import Image
from test_app import is_png
from test_app_security import T2I_DEFAULTS, raw_call

from app_client import connected


@pytest.fixture
def client(served, dashscope_fake):
    with connected(served) as client:
        yield client


def sent(dashscope_fake) -> dict:
    return dashscope_fake.generation_requests()[-1].json


def test_wan_2_7_pro_makes_a_4k_text_to_image_with_thinking(client, dashscope_fake):
    gallery, details, _ = client.predict("a fox", model="wan2.7-pro", tier="4K", api_name="/text_to_image")
    body = sent(dashscope_fake)
    assert body["model"] == "wan2.7-image-pro"
    assert body["parameters"]["size"] == "4K" and body["parameters"]["thinking_mode"] is True
    assert "negative_prompt" not in body["input"] and "prompt_extend" not in body["parameters"]
    assert len(gallery) == 1 and is_png(gallery[0]["image"]) and "wan2.7-image-pro" in details


def test_4k_without_pro_is_refused_before_sending(client, dashscope_fake):
    with pytest.raises(ValidationError) as refused:
        client.predict("a fox", model="wan2.7", tier="4K", api_name="/text_to_image")
    assert "4K is not available here (tiers: 1K, 2K; 4K is for Wan 2.7 Pro text to image only)" in str(refused.value)
    assert dashscope_fake.generation_requests() == []


def test_an_image_set_shows_the_images_the_model_made_in_order_and_says_how_many(client, dashscope_fake):
    dashscope_fake.set_count(3)
    gallery, details, _ = client.predict("four seasons of one garden", n=5, api_name="/image_set")
    body = sent(dashscope_fake)
    assert body["model"] == "wan2.7-image" and body["parameters"]["enable_sequential"] is True
    assert body["parameters"]["n"] == 5
    assert [item["caption"][:5] for item in gallery] == ["01 · ", "02 · ", "03 · "]
    assert all(is_png(item["image"]) for item in gallery)
    assert "made **3** of the **5** images asked for" in details


def test_an_image_set_takes_references(client, dashscope_fake, tmp_path):
    path = tmp_path / "ref.png"
    Image.new("RGB", (640, 640), "teal").save(path)
    images = [{"image": handle_file(str(path)), "caption": None}]
    client.predict("the same cup from four sides", images, n=2, size="1K", api_name="/image_set")
    content = sent(dashscope_fake)["input"]["messages"][0]["content"]
    assert [item.get("image", "")[:15] for item in content if "image" in item] == ["data:image/png;"]


def test_an_image_set_with_wan_2_6_is_refused_at_the_model_picker(client, dashscope_fake):
    with pytest.raises(ValidationError) as refused:
        client.predict("a set", model="wan2.6", api_name="/image_set")
    assert "Wan 2.6 makes no image sets: pick Wan 2.7 or Wan 2.7 Pro in the Model menu" in str(refused.value)
    assert dashscope_fake.generation_requests() == []


def test_a_palette_is_sent_as_color_palette_with_two_decimal_ratios(client, dashscope_fake):
    palette = "#c2d1e6:60, #3B5B8C:25, #F2C14E:15"
    client.predict("a quiet harbour", model="wan2.7", palette=palette, api_name="/text_to_image")
    assert sent(dashscope_fake)["parameters"]["color_palette"] == [
        {"hex": "#C2D1E6", "ratio": "60.00%"},
        {"hex": "#3B5B8C", "ratio": "25.00%"},
        {"hex": "#F2C14E", "ratio": "15.00%"},
    ]


def test_a_palette_that_does_not_make_100_percent_is_refused_naming_the_total(client, dashscope_fake):
    with pytest.raises(ValidationError) as refused:
        client.predict("x", model="wan2.7", palette="#C2D1E6:60, #3B5B8C:25, #F2C14E:0", api_name="/text_to_image")
    assert "the shares add up to 85.00%" in str(refused.value) and "more than 0" in str(refused.value)
    assert dashscope_fake.generation_requests() == []


def test_a_2_7_request_with_a_negative_prompt_is_refused_before_anything_is_sent(client, dashscope_fake):
    with pytest.raises(ValidationError) as refused:
        client.predict("a fox", "blurry", model="wan2.7", api_name="/text_to_image")
    assert "negative_prompt" in str(refused.value) or "Negative prompt" in str(refused.value)
    assert "is not supported here" in str(refused.value)
    assert dashscope_fake.requests == []


def test_a_palette_with_wan_2_6_is_refused(client, dashscope_fake):
    with pytest.raises(ValidationError) as refused:
        client.predict("a fox", palette="#C2D1E6:50, #3B5B8C:30, #F2C14E:20", api_name="/text_to_image")
    assert "palette" in str(refused.value) and "not available here" in str(refused.value)
    assert dashscope_fake.requests == []


def test_an_edit_with_wan_2_7_takes_nine_references(client, dashscope_fake, tmp_path):
    images = []
    for number in range(9):
        path = tmp_path / f"ref{number}.png"
        Image.new("RGB", (320, 320), (number * 25, 90, 160)).save(path)
        images.append({"image": handle_file(str(path)), "caption": None})
    client.predict("image 1 with the colours of the others", images, size="1K", model="wan2.7", api_name="/edit")
    content = sent(dashscope_fake)["input"]["messages"][0]["content"]
    assert sum("image" in item for item in content) == 9
    assert "thinking_mode" not in sent(dashscope_fake)["parameters"]


def test_a_2_6_caller_sending_the_old_parameter_list_over_raw_http_is_unchanged(served, dashscope_fake):
    answer = raw_call(served, "text_to_image", ["a fox", *T2I_DEFAULTS])  # the nine values of Wan 2.6
    assert answer.event == "complete", answer.text[-400:]
    assert sent(dashscope_fake)["model"] == "wan2.6-t2i"


def test_an_unknown_model_is_refused_naming_ours(client, dashscope_fake):
    with pytest.raises(ValidationError) as refused:
        client.predict("a fox", model="wan3", api_name="/text_to_image")
    assert "is not a model; use one of wan2.6, wan2.7, wan2.7-pro" in str(refused.value)


def test_ai_ml_apis_2_7_has_no_thinking_mode_so_the_switch_asks_for_nothing(served, only_vendor, vendor_fakes):
    only_vendor("aimlapi")
    with connected(served) as client:
        gallery, _, _ = client.predict(
            "a fox", provider="aimlapi", model="wan2.7", width=1024, height=1024, api_name="/text_to_image"
        )
    [sent_body] = vendor_fakes["aimlapi"].issued.values()
    assert len(gallery) == 1 and sent_body["model"] == "alibaba/wan-2-7-image"


def test_a_palette_too_long_to_be_one_is_refused_at_once(client, dashscope_fake):
    with pytest.raises(ValidationError) as refused:
        client.predict("a fox", model="wan2.7", palette="x," * 100_000, api_name="/text_to_image")
    assert "more than 20 colours; at most 20 are read" in str(refused.value)
    assert len(str(refused.value)) < 2000 and dashscope_fake.generation_requests() == []


def test_runwares_model_id_is_shown_as_code_not_as_an_email_link(served, vendor_fakes, monkeypatch):
    for variable, value in vendor_fakes["runware"].env().items():
        monkeypatch.setenv(variable, value)
    with connected(served) as client:
        gallery, details, _ = client.predict(
            "a fox", width=1024, height=1024, provider="runware", model="wan2.7", api_name="/text_to_image"
        )
    assert len(gallery) == 1 and details.startswith("**`alibaba:wan@2.7-image`** via Runware")


def test_a_box_past_an_uploaded_reference_is_refused_under_its_field_before_sending(client, dashscope_fake, tmp_path):
    path = tmp_path / "wide.png"
    Image.new("RGB", (800, 600), (30, 60, 200)).save(path)
    images = [{"image": handle_file(str(path)), "caption": None}]
    with pytest.raises(ValidationError) as refused:
        client.predict("a hat in the box", images, size="1K", model="wan2.7", boxes="1:0,0,5000,300", api_name="/edit")
    assert "box 1:0,0,5000,300 reaches past image 1, which is 800×600" in str(refused.value)
    assert dashscope_fake.generation_requests() == []
