"""A number box a visitor empties (Gradio sends None) is named by the checks, never taken as
another value: not the last size, not "follow the input image", not a traceback."""

import pytest

from wan26.errors import InvalidRequest
from wan26.providers import get_adapter
from wan26.types import Mode
from wan26.ui.i18n import Lang
from wan26.ui.inputs import edit_request, edit_size_value, image_set_request, interleave_request, interleave_size
from wan26.ui.models import Chosen
from wan26.ui.texts import count_refused, offered


def test_an_emptied_width_gives_a_size_that_is_refused_not_the_last_one():
    assert edit_size_value("1:1", None, 1280) == "?x1280"
    assert edit_size_value("1K", None, None) == "1K"  # a tier does not use them


@pytest.mark.parametrize("field", ["width", "height"])
def test_an_emptied_interleave_side_is_named_not_taken_as_follow_the_image(field):
    sides = {"width": 1280, "height": 1280} | {field: None}
    assert interleave_size("16:9", sides["width"], sides["height"]) == (sides["width"], sides["height"])
    with pytest.raises(InvalidRequest) as refused:
        interleave_request("a recipe", None, "", sides["width"], sides["height"], 3, -1, False)
    assert [v.field for v in refused.value.violations] == [f"size.{field}"]
    assert "'' is not a number" in str(refused.value)


def test_an_emptied_count_is_named():
    with pytest.raises(InvalidRequest) as edit:
        edit_request("x", [], "", "1K", None, -1, True, False)
    with pytest.raises(InvalidRequest) as image_set:
        image_set_request("x", [], "1K", None, -1, False)
    assert [v.field for v in edit.value.violations] == [v.field for v in image_set.value.violations] == ["n"]


def test_a_crafted_count_that_is_no_number_leaves_the_price_line_alone():
    limits = offered(Chosen(get_adapter("dashscope")), Mode.TEXT_TO_IMAGE)
    assert count_refused(limits, 10**400, Lang.EN) == "" and count_refused(limits, ["4"], Lang.EN) == ""  # type: ignore[arg-type]
