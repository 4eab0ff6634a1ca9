"""Numbers typed beyond what the vendor takes, in headless Chromium: each is named with its limit,
stays in its box as typed, and nothing is sent. (Gradio's sliders put their nearest bound in place of
such a number when the box loses focus, and the run then sent that without a word.)"""

import test_browser  # noqa: F401  (skips this module too when Chromium is missing)
from playwright.sync_api import expect
from test_browser import browser, open_advanced, page, page_load_watch, type_size  # noqa: F401  (fixtures)
from test_browser_history import open_tab


def run_refused(visitor, mode, refusal):
    visitor.locator(f"#{mode}-prompt textarea").fill("a fox")
    visitor.locator(f"#{mode}-run").click()
    expect(visitor.locator(f"#{mode}-prompt")).to_contain_text(refusal, timeout=10_000)


def test_a_count_beyond_the_vendors_is_named_in_the_price_line_and_refused(page, dashscope_fake):  # noqa: F811
    count = page.locator("#text_to_image-count-slider input[type=number]")
    count.fill("5")
    count.press("Enter")
    expect(page.locator("#text_to_image-price")).to_contain_text("⛔ Images per run: 5 — allowed 1–4", timeout=10_000)
    run_refused(page, "text_to_image", "Images per run: 5 images per run; allowed 1–4")
    expect(count).to_have_value("5")
    open_tab(page, "Interleaved")
    most = page.locator("#interleave-count-slider input[type=number]")
    most.fill("9")
    most.press("Enter")
    expect(page.locator("#interleave-price")).to_contain_text("⛔ Images at most: 9 — allowed 1–5", timeout=10_000)
    run_refused(page, "interleave", "Images at most: 9; allowed 1–5")
    assert dashscope_fake.requests == []


def test_a_width_beyond_the_vendors_stays_as_typed_and_is_refused(page, dashscope_fake):  # noqa: F811
    """5000 wide with 720 high: the slider made it 2880x720, a size the vendor takes, and sent that."""
    open_advanced(page, "text_to_image")
    type_size(page, "text_to_image", "height", "720", "1280x720")
    type_size(page, "text_to_image", "width", "5000", "5000x720")
    run_refused(page, "text_to_image", "5000x720 is 3,600,000 pixels")
    expect(page.locator("#text_to_image-width input[type=number]")).to_have_value("5000")
    expect(page.locator("#text_to_image-size-check")).to_contain_text("5000x720")
    assert dashscope_fake.requests == []


def test_a_seed_below_minus_1_is_named_and_refused(page, dashscope_fake):  # noqa: F811
    """Interleave's seed once went through Gradio's bounds: an error pop-up naming no field."""
    open_tab(page, "Interleaved")
    open_advanced(page, "interleave")
    page.locator("#interleave-random-seed input").uncheck()
    seed = page.locator("#interleave-seed input")
    seed.fill("-7")
    seed.press("Enter")
    run_refused(page, "interleave", "Seed: -7 is outside 0–2147483647")
    assert dashscope_fake.requests == []
