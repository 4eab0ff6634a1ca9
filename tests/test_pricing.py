"""Cost estimates as a user reads them, including counts not yet validated."""

import pytest

from wan26 import ImageRequest, Mode
from wan26.pricing import Estimate, Price, estimate

PRICE = Price(0.03, "list price")


def test_a_normal_estimate_reads_count_times_price():
    assert str(estimate(PRICE, ImageRequest(Mode.EDIT, "x", n=2))) == "2 × $0.030 = $0.060 (list price)"


def test_interleave_is_an_upper_bound():
    assert (
        str(estimate(PRICE, ImageRequest(Mode.INTERLEAVE, "x", max_images=3)))
        == "up to 3 × $0.030 = $0.090 (list price)"
    )


def test_no_published_price_names_the_count():
    assert str(estimate(Price(None, "shown after the run"), ImageRequest(Mode.EDIT, "x", n=2))) == (
        "2 image(s); no published price (shown after the run)"
    )


@pytest.mark.parametrize("n", [0, -3])
@pytest.mark.parametrize("price", [PRICE, Price(None, "shown after the run")])
def test_zero_or_negative_counts_format_without_raising(n, price):
    estimated = estimate(price, ImageRequest(Mode.EDIT, "x", n=n))
    assert estimated.images == 0 and estimated.usd in (0, None)
    assert str(estimated) == "no images requested, so nothing to pay"


def test_interleave_with_zero_max_images_formats_without_raising():
    assert (
        str(estimate(PRICE, ImageRequest(Mode.INTERLEAVE, "x", max_images=0)))
        == "no images requested, so nothing to pay"
    )


def test_an_estimate_built_directly_with_zero_images_formats():
    assert str(Estimate(0, 0.0, False, "")) == "no images requested, so nothing to pay"
