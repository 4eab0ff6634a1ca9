"""Validation: every DashScope limit exactly at and just past its edge, all violations at once."""

import pytest

from wan26 import ImageRequest, InvalidRequest, Mode, Size, SizeTier, parse_size
from wan26.limits import check, violations
from wan26.providers.dashscope import LIMITS

T2I, EDIT, INTER = Mode.TEXT_TO_IMAGE, Mode.EDIT, Mode.INTERLEAVE
URL = "https://example.com/ref.png"


def request(mode: Mode, **changes) -> ImageRequest:
    images = (URL,) if mode is EDIT else ()
    return ImageRequest(**{"mode": mode, "prompt": "a lighthouse", "images": images, **changes})


def fields(mode: Mode, **changes) -> list[str]:
    return [violation.field for violation in violations(request(mode, **changes), LIMITS[mode])]


@pytest.mark.parametrize(("mode", "limit"), [(T2I, 2100), (EDIT, 2000), (INTER, 2000)])
def test_prompt_length_edge(mode, limit):
    assert fields(mode, prompt="x" * limit) == []
    assert fields(mode, prompt="x" * (limit + 1)) == ["prompt"]


def test_prompt_length_counts_characters_not_bytes():
    # The docs count every CJK character as 1 (DashScope's API reference).
    assert fields(EDIT, prompt="画" * 2000) == []


def test_overlong_prompt_message_names_length_and_limit():
    [violation] = violations(request(EDIT, prompt="x" * 2001), LIMITS[EDIT])
    assert "2001" in violation.message and "2000" in violation.message


@pytest.mark.parametrize("prompt", ["", "   \n"])
def test_empty_prompt_is_refused(prompt):
    assert fields(T2I, prompt=prompt) == ["prompt"]


@pytest.mark.parametrize("mode", list(LIMITS))
def test_negative_prompt_edge(mode):
    assert fields(mode, negative_prompt="n" * 500) == []
    assert fields(mode, negative_prompt="n" * 501) == ["negative_prompt"]


@pytest.mark.parametrize("mode", list(LIMITS))
def test_seed_edges(mode):
    for seed in (0, 2_147_483_647):
        assert fields(mode, seed=seed) == []
    for seed in (-1, 2_147_483_648):
        assert fields(mode, seed=seed) == ["seed"]


@pytest.mark.parametrize("mode", [T2I, EDIT])
def test_n_edges(mode):
    assert fields(mode, n=1) == [] and fields(mode, n=4) == []
    assert fields(mode, n=0) == ["n"] and fields(mode, n=5) == ["n"]


def test_interleave_n_must_be_one_and_max_images_edges():
    assert fields(INTER, n=2) == ["n"]
    assert fields(INTER, max_images=1) == [] and fields(INTER, max_images=5) == []
    assert fields(INTER, max_images=0) == ["max_images"] and fields(INTER, max_images=6) == ["max_images"]


def test_reference_image_counts():
    assert fields(EDIT, images=()) == ["images"]
    assert fields(EDIT, images=(URL,) * 4) == []
    assert fields(EDIT, images=(URL,) * 5) == ["images"]
    assert fields(INTER, images=(URL,)) == []
    assert fields(INTER, images=(URL, URL)) == ["images"]
    assert fields(T2I, images=(URL,)) == ["images"]


@pytest.mark.parametrize(
    ("mode", "smallest", "largest"),
    [
        (T2I, Size(1280, 1280), Size(1440, 1440)),
        (EDIT, Size(768, 768), Size(2048, 2048)),
        (INTER, Size(768, 768), Size(1280, 1280)),
    ],
)
def test_total_pixel_edges(mode, smallest, largest):
    assert fields(mode, size=smallest) == []
    assert fields(mode, size=largest) == []
    assert fields(mode, size=Size(smallest.width - 16, smallest.height)) == ["size"]
    assert fields(mode, size=Size(largest.width + 16, largest.height)) == ["size"]


@pytest.mark.parametrize(
    "size", [Size(1280, 1280), Size(1104, 1472), Size(1472, 1104), Size(960, 1696), Size(1696, 960)]
)
def test_every_recommended_t2i_size_is_accepted(size):
    # Four of them sit below the stated 1280*1280 minimum: accepted as documented exceptions.
    assert fields(T2I, size=size) == []


@pytest.mark.parametrize("size", [Size(1248, 1312), Size(1120, 1456), Size(1088, 1472)])
def test_other_t2i_sizes_below_the_minimum_are_refused(size):
    assert fields(T2I, size=size) == ["size"]


@pytest.mark.parametrize(
    "size",
    [
        Size(1280, 1280),
        Size(800, 1200),
        Size(1200, 800),
        Size(960, 1280),
        Size(1280, 960),
        Size(720, 1280),
        Size(1280, 720),
        Size(1344, 576),
    ],
)
def test_every_recommended_edit_and_interleave_size_is_accepted(size):
    assert fields(EDIT, size=size) == [] and fields(INTER, size=size) == []


def test_aspect_ratio_edge_is_four_to_one():
    assert fields(EDIT, size=Size(2048, 512)) == []  # exactly 4:1
    assert fields(EDIT, size=Size(512, 2048)) == []
    assert fields(EDIT, size=Size(2064, 512)) == ["size"]  # just past 4:1, still within pixels
    assert fields(EDIT, size=Size(512, 2064)) == ["size"]


def test_sides_must_be_multiples_of_16():
    assert fields(EDIT, size=Size(1288, 1280)) == ["size.width"]
    assert fields(EDIT, size=Size(1280, 1270)) == ["size.height"]


def test_size_tiers_only_in_edit():
    assert fields(EDIT, size=SizeTier.K1) == [] and fields(EDIT, size=SizeTier.K2) == []
    assert fields(T2I, size=SizeTier.K2) == ["size"]
    assert fields(INTER, size=SizeTier.K1) == ["size"]


def test_every_violation_is_reported_at_once():
    bad = request(EDIT, prompt="", images=(), size=Size(96, 96), n=9, seed=-5, negative_prompt="n" * 501)
    with pytest.raises(InvalidRequest) as caught:
        check(bad, LIMITS[EDIT])
    reported = {violation.field for violation in caught.value.violations}
    assert reported == {"prompt", "images", "size", "n", "seed", "negative_prompt"}
    assert "6 problem" in str(caught.value)


def test_size_message_names_the_limit():
    [violation] = violations(request(INTER, size=Size(2048, 2048)), LIMITS[INTER])
    assert "1,638,400" in violation.message  # 1280*1280, the interleave maximum


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("1280x720", Size(1280, 720)),
        ("1280*720", Size(1280, 720)),
        (" 1280 X 720 ", Size(1280, 720)),
        ("1k", SizeTier.K1),
        ("2K", SizeTier.K2),
    ],
)
def test_parse_size(text, parsed):
    assert parse_size(text) == parsed


@pytest.mark.parametrize("text", ["big", "1280", "1280x", "3K", "-5x10"])
def test_parse_size_refuses_nonsense(text):
    with pytest.raises(ValueError, match="size must look like"):
        parse_size(text)


@pytest.mark.parametrize(("mode", "low", "high"), [(T2I, 640, 2880), (EDIT, 384, 4096), (INTER, 384, 2560)])
def test_slider_range_reaches_exactly_the_valid_sizes(mode, low, high):
    from wan26.limits import side_range

    sides = side_range(LIMITS[mode])
    assert (sides.low, sides.high) == (low, high)
    # Both ends can be part of a valid size; one step beyond cannot.
    assert fields(mode, size=Size(low, low * 4)) == []
    assert fields(mode, size=Size(high, high // 4)) == []
    assert "size" in fields(mode, size=Size(low - 16, (low - 16) * 4))  # too few pixels at 1:4
    assert "size" in fields(mode, size=Size(high + 16, high // 4))  # past 4:1, or too many pixels


@pytest.mark.parametrize(
    ("char", "code"), [("\x00", "U+0000"), ("\x1b", "U+001B"), ("\x7f", "U+007F"), ("\x85", "U+0085")]
)
def test_control_characters_are_refused_naming_each_field(char, code):
    bad = request(EDIT, prompt=f"a light{char}house", negative_prompt=f"{char}blur")
    found = {violation.field: violation.message for violation in violations(bad, LIMITS[EDIT])}
    assert found == {
        "prompt": f"contains a control character ({code}) at position 8; remove it",
        "negative_prompt": f"contains a control character ({code}) at position 1; remove it",
    }


def test_several_control_characters_are_one_violation_naming_the_first():
    [violation] = violations(request(T2I, prompt="sea\x1b[31m red \x00"), LIMITS[T2I])
    assert violation.field == "prompt"
    assert violation.message == "contains 2 control characters, the first (U+001B) at position 4; remove them"


def test_line_breaks_and_tabs_are_accepted():
    text = "a lighthouse\nat dusk\r\n\tfog"
    assert fields(EDIT, prompt=text, negative_prompt="blur\n\tnoise") == []


def test_control_characters_are_reported_with_every_other_violation():
    bad = request(EDIT, prompt="\x00", images=(), n=9)
    with pytest.raises(InvalidRequest) as caught:
        check(bad, LIMITS[EDIT])
    assert [violation.field for violation in caught.value.violations] == ["prompt", "images", "n"]


def test_a_size_whose_sides_are_not_whole_numbers_names_each_side_instead_of_crashing():
    request = ImageRequest(Mode.TEXT_TO_IMAGE, "fox", size=Size("1280", True))
    said = {violation.field: violation.message for violation in violations(request, LIMITS[Mode.TEXT_TO_IMAGE])}
    assert said == {
        "size.width": "must be a whole number, not str '1280'",
        "size.height": "must be a whole number, not bool True",
    }
