"""The verdict under a tab's Width and Height, as it reads while a size is typed."""

import pytest

from wan26.providers import get_adapter
from wan26.types import Mode
from wan26.ui.i18n import Lang
from wan26.ui.models import chosen
from wan26.ui.texts import size_check


def verdict(vendor: str, width: object, height: object, mode: Mode = Mode.TEXT_TO_IMAGE, lang: Lang = Lang.EN) -> str:
    return size_check(chosen(get_adapter(vendor), "wan2.6"), mode, width, height, lang)


def test_each_side_out_of_step_is_named():
    said = verdict("dashscope", 100, 112)
    assert said.startswith("⛔ Width: 100 must be a positive multiple of 16; ")
    assert "Height" not in said  # 112 is a multiple of 16: only the pixel total is off besides
    assert "100x112 is 11,200 pixels; allowed 1,638,400–2,073,600" in said
    assert verdict("dashscope", 100, 100, lang=Lang.ZH).count("必须是 16 的正整数倍") == 2
    said_zh = verdict("dashscope", 100, 100, lang=Lang.ZH)
    assert "宽度" in said_zh and "高度" in said_zh


def test_a_side_of_zero_or_less_is_said_once_without_a_negative_pixel_count():
    assert verdict("dashscope", -5, 1280) == "⛔ Width: -5 must be a positive multiple of 16"


@pytest.mark.parametrize(("vendor", "said"), [("runware", "1280×1280, the default"), ("dashscope", "vendor's default")])
def test_an_empty_size_says_what_text_to_image_will_get(vendor, said):
    assert said in verdict(vendor, None, 1280) and "input image" not in verdict(vendor, None, 1280)


def test_an_empty_size_in_interleave_follows_its_input_image():
    assert "Follows the input image" in verdict("dashscope", "", "", Mode.INTERLEAVE)
