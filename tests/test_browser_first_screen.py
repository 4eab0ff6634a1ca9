"""The first screen as a new visitor meets it, at 1280×720 and on a phone, and the states around a run.

Uses test_browser.py's browser and helpers (the same Chromium, the same app against the fakes)."""

import pytest
from playwright.sync_api import expect
from test_browser import (  # noqa: F401  # noqa: F401  (fixtures)
    BROWSER_ARGS,
    CHROMIUM,
    browser,
    new_visitor,
    open_advanced,
    open_settings,
    open_tab,
    page,
    shots,
    upload_reference,
)

from history_app import free_port, history_env, launched
from wan26.ui.in_view import STARTING_MS

MODES = {"Text to image": "text_to_image", "Edit": "edit", "Interleaved": "interleave"}


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (390, 844)])
def test_prompt_and_generate_are_on_the_first_screen_in_every_tab(browser, served, width, height, shots):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        visitor = context.new_page()
        visitor.goto(served)
        expect(visitor.locator("#text_to_image-prompt textarea")).to_be_visible(timeout=30_000)
        for tab, mode in MODES.items():
            open_tab(visitor, tab)
            run = visitor.locator(f"#{mode}-run")
            expect(run).to_be_visible()
            prompt_box, run_box = visitor.locator(f"#{mode}-prompt").bounding_box(), run.bounding_box()
            if mode != "edit" or width > 400:  # on a phone the references come first in Edit
                assert run_box["y"] + run_box["height"] <= height, f"{tab}: Generate is below the fold"
            assert prompt_box["y"] < run_box["y"]
            shots(visitor, f"first_screen_{width}_{mode}")
        if width > 400:
            results = visitor.locator("#text_to_image-results")
            open_tab(visitor, "Text to image")
            assert results.bounding_box()["x"] > visitor.locator("#text_to_image-prompt").bounding_box()["x"] + 300
    finally:
        context.close()


# What a picker's longest choice needs beside the list's arrow, which is drawn over the text's box.
_NAME_FITS = """([picker, longest]) => {
    const box = document.querySelector(`#${picker} input`);
    const pen = document.createElement("canvas").getContext("2d");
    pen.font = getComputedStyle(box).font;
    return [pen.measureText(longest).width + 16, box.clientWidth];
}"""


@pytest.mark.parametrize(("width", "height"), [(390, 844), (430, 932), (1024, 768), (1280, 720)])
def test_the_vendor_and_model_pickers_show_their_longest_names_whole(browser, served, width, height):  # noqa: F811
    with new_visitor(browser, served, width, height) as visitor:
        for picker, longest in (("provider", "Alibaba Cloud DashScope"), ("model", "Wan 2.7 Pro")):
            needed, shown = visitor.evaluate(_NAME_FITS, [picker, longest])
            assert needed <= shown, f"{width} px: {longest!r} needs {needed:.0f} px, its picker shows {shown}"
        run = visitor.locator("#text_to_image-run").bounding_box()
        assert run["y"] + run["height"] <= height  # the pickers one above the other still leave Generate in view


def test_enter_runs_and_shift_enter_adds_a_line(page, dashscope_fake):  # noqa: F811
    box = page.locator("#text_to_image-prompt textarea")
    box.click()
    page.keyboard.type("a lighthouse")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("at dawn")
    expect(box).to_have_value("a lighthouse\nat dawn")
    assert dashscope_fake.requests == []
    page.keyboard.press("Enter")
    expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
    sent = dashscope_fake.generation_requests()[0].json["input"]["messages"][0]["content"][0]["text"]
    assert sent == "a lighthouse\nat dawn"


def test_reuse_seed_before_any_run_says_to_run_first_and_changes_nothing(page):  # noqa: F811
    page.locator("#text_to_image-reuse-seed").click()
    expect(page.get_by_text("Run once first")).to_be_visible(timeout=10_000)
    open_advanced(page, "text_to_image")
    expect(page.locator("#text_to_image-random-seed input")).to_be_checked()
    expect(page.locator("#text_to_image-seed input")).to_have_value("-1")


def test_with_no_key_generate_is_off_no_price_is_named_and_the_panel_opens(page, monkeypatch, shots):  # noqa: F811
    monkeypatch.delenv("DASHSCOPE_API_KEY")
    page.reload()
    expect(page.locator("#no-key-line")).to_be_visible(timeout=15_000)
    expect(page.locator("#key-status")).to_be_visible()  # the settings panel opened by itself
    for tab, mode in MODES.items():
        open_tab(page, tab)
        expect(page.locator(f"#{mode}-run")).to_be_disabled()
    open_tab(page, "Text to image")
    expect(page.locator("#text_to_image-price")).not_to_contain_text("$")
    shots(page, "no_key_first_screen")


def test_a_pasted_key_with_no_server_key_is_not_contradicted(page, monkeypatch):  # noqa: F811
    monkeypatch.delenv("DASHSCOPE_API_KEY")
    page.reload()
    expect(page.locator("#key-status")).to_contain_text("The server has no keys", timeout=15_000)
    page.locator("#own-key input").fill("sk-visitor-000")
    page.locator("#use-key").click()
    status = page.locator("#key-status")
    expect(status).to_contain_text("your own Alibaba Cloud DashScope key", timeout=10_000)
    expect(status).not_to_contain_text("The server has no keys")
    # Generate follows once the form has adapted to the vendor: 3.4-3.8 s after the click in an idle
    # headless Chromium here (Gradio's page redoes every control's progress state for each event).
    expect(page.locator("#text_to_image-run")).to_be_enabled(timeout=15_000)


def test_a_refused_own_key_gets_advice_the_visitor_can_follow(page, dashscope_fake):  # noqa: F811
    open_settings(page)
    page.locator("#own-key input").fill("sk-not-the-fakes-key")
    page.locator("#use-key").click()
    expect(page.locator("#key-status")).to_contain_text("your own", timeout=10_000)
    page.locator("#text_to_image-prompt textarea").fill("a fox")
    page.locator("#text_to_image-run").click()
    error = page.get_by_text("refused the key you gave")
    expect(error).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Authentication failed").first).to_be_visible()  # the pop-up names what failed
    expect(page.get_by_text("DASHSCOPE_API_KEY")).to_have_count(0)  # a setting the visitor cannot change


def test_stop_says_it_stopped_and_that_a_sent_request_may_be_billed(page, dashscope_fake):  # noqa: F811
    dashscope_fake.delay("generate", 8, times=1)
    page.locator("#text_to_image-prompt textarea").fill("a fox")
    page.locator("#text_to_image-run").click()
    page.wait_for_timeout(1500)
    page.locator("#text_to_image-stop").click()
    details = page.locator("#text_to_image-details")
    expect(details).to_contain_text("Stopped.", timeout=10_000)
    expect(details).to_contain_text("may still be billed")


_TEXT = "(id) => document.getElementById(id).textContent"
_ANOTHER_RUN_ENDED = """([id, before]) => {
    const now = document.getElementById(id).textContent;
    return now !== before && now.includes('run folder');
}"""


def test_stop_while_waiting_in_line_says_stopped_and_nothing_is_sent(
    browser, _vendor_servers, dashscope_fake, tmp_path, monkeypatch, shots  # noqa: F811
):
    """One run at a time: a second visitor's run waits in line behind the first. Their Stop says it
    stopped (before, their details stayed as they were, as if Stop had done nothing), their run is
    never sent, and the first visitor's run goes on to its image."""
    env = history_env(_vendor_servers, tmp_path / "outputs") | {"WAN26_CONCURRENCY": "1"}
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    dashscope_fake.delay("generate", 20, times=1)  # the second visitor's page takes seconds to load
    with launched(env, free_port()) as url, new_visitor(browser, url, 1280, 720) as first:
        first.locator("#text_to_image-prompt textarea").fill("a fox")
        first.locator("#text_to_image-run").click()
        expect(first.locator("#text_to_image-details")).to_contain_text("Generating", timeout=10_000)
        with new_visitor(browser, url, 1280, 720) as second:
            second.locator("#text_to_image-prompt textarea").fill("a hare")
            second.locator("#text_to_image-run").click()
            waiting = second.locator("#text_to_image-results [data-testid=status-tracker]:not(.hide)")
            expect(waiting).to_contain_text("queue", timeout=10_000)
            second.locator("#text_to_image-stop").click()
            details = second.locator("#text_to_image-details")
            expect(details).to_contain_text("Stopped.", timeout=10_000)
            shots(second, "stopped_while_waiting_in_line")
            first_details = first.locator("#text_to_image-details")
            expect(first_details).to_contain_text("run folder", timeout=40_000)
            # Had the second run stayed in line, it would go before this one (one run at a time, in order).
            done = first.evaluate(_TEXT, "text_to_image-details")
            first.locator("#text_to_image-prompt textarea").fill("an owl")
            first.locator("#text_to_image-run").click()
            first.wait_for_function(_ANOTHER_RUN_ENDED, arg=["text_to_image-details", done], timeout=30_000)
    sent = dashscope_fake.generation_requests()
    assert [request.json["input"]["messages"][0]["content"][0]["text"] for request in sent] == ["a fox", "an owl"]


def test_a_run_shows_its_step_in_words_and_one_indicator_on_the_results(page, dashscope_fake, shots):  # noqa: F811
    dashscope_fake.delay("generate", 4, times=1)
    page.locator("#text_to_image-prompt textarea").fill("a fox")
    page.locator("#text_to_image-run").click()
    details = page.locator("#text_to_image-details")
    expect(details).to_contain_text("Generating (this usually takes 1–2 minutes)", timeout=10_000)
    shots(page, "run_in_progress")
    showing = page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid=status-tracker]'))
        .filter(tracker => !tracker.classList.contains('hide')).map(tracker => tracker.closest('[id]')?.id)""")
    assert showing == ["text_to_image-results"]  # one indicator, on the results (not details, not seed)
    assert "%" not in page.locator("#text_to_image-results").inner_text()
    expect(page.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)


_IN_VIEW = """(id) => {
    const box = document.getElementById(id).getBoundingClientRect();
    return box.top < window.innerHeight && box.bottom > 0;
}"""


def scrolled_into_view(visitor, element_id):
    visitor.wait_for_function(_IN_VIEW, arg=element_id, timeout=5_000)  # a smooth scroll takes a moment


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 720)])
def test_a_run_started_on_a_phone_brings_its_results_into_view_and_a_refused_one_stays(
    browser, served, dashscope_fake, width, height, shots  # noqa: F811
):
    """On a phone the results are below the whole form: once the run has begun they are scrolled
    to; a run refused before it is queued leaves its message where the visitor is. Wide, the page
    never moves."""
    dashscope_fake.delay("generate", 4, times=1)
    with new_visitor(browser, served, width, height) as visitor:
        prompt = visitor.locator("#text_to_image-prompt textarea")
        prompt.fill("x" * 2200)
        visitor.locator("#text_to_image-run").click()
        expect(visitor.locator("#text_to_image-prompt")).to_contain_text("the limit is 2100")
        visitor.wait_for_timeout(STARTING_MS + 500)  # past the time the page waits for a run to begin
        assert visitor.evaluate("window.scrollY") == 0
        assert visitor.evaluate(_IN_VIEW, "text_to_image-prompt")
        assert dashscope_fake.requests == []
        prompt.fill("a fox")
        prompt.press("Enter")
        expect(visitor.locator("#text_to_image-details")).to_contain_text("Generating", timeout=10_000)
        scrolled_into_view(visitor, "text_to_image-details")  # the step in words, under the results
        assert visitor.evaluate(_IN_VIEW, "text_to_image-results")
        if width > 640:
            visitor.wait_for_timeout(500)
            assert visitor.evaluate("window.scrollY") == 0  # beside the form already
        shots(visitor, f"run_started_{width}", full_page=False)
        expect(visitor.locator("#text_to_image-results img")).to_have_count(1, timeout=30_000)
        assert visitor.evaluate(_IN_VIEW, "text_to_image-results")


def test_at_1280_by_720_the_step_in_words_of_every_tab_is_on_the_first_screen(browser, served):  # noqa: F811
    """A run's step in words goes in its details, under the results: their first line is in view."""
    with new_visitor(browser, served, 1280, 720) as visitor:
        for tab, mode in MODES.items():
            open_tab(visitor, tab)
            top = visitor.locator(f"#{mode}-details").bounding_box()["y"]
            assert top + 24 <= 720, f"{tab}: the run's details begin at {top:.0f} px"  # 24: one line of text


def test_on_a_phone_a_run_after_a_failed_one_is_brought_into_view_too(browser, served, dashscope_fake):  # noqa: F811
    """A failed run leaves its first step in the details, and the next run's first step reads the
    same: that run is seen to begin by its indicator, long before it ends."""
    dashscope_fake.delay("generate", 2, times=1)
    dashscope_fake.fail_next(400, "DataInspectionFailed", "Input data may contain inappropriate content.")
    with new_visitor(browser, served, 390, 844) as visitor:
        prompt = visitor.locator("#text_to_image-prompt textarea")
        prompt.fill("a fox")
        prompt.press("Enter")
        scrolled_into_view(visitor, "text_to_image-results")
        expect(visitor.get_by_text("DataInspectionFailed").first).to_be_visible(timeout=30_000)
        details = visitor.locator("#text_to_image-details")
        expect(details).to_contain_text("Generating")
        visitor.evaluate("window.scrollTo(0, 0)")
        dashscope_fake.delay("generate", 8, times=1)
        prompt.press("Enter")
        scrolled_into_view(visitor, "text_to_image-results")
        assert visitor.locator("#text_to_image-results img").count() == 0  # the vendor has not answered yet


@pytest.mark.parametrize(("tab", "mode"), [("Text to image", "text_to_image"), ("Interleaved", "interleave")])
def test_on_a_phone_the_stop_under_the_details_stops_the_run_and_wide_there_is_none(
    browser, served, dashscope_fake, tab, mode, shots  # noqa: F811
):
    """Scrolled to a run's results on a phone, the Stop under Generate is a screen above: a second one
    under the run's details is in view and stops the run. With the columns side by side it is not shown."""
    every_tab = {**MODES, "Image set": "image_set"}
    with new_visitor(browser, served, 1280, 720) as visitor:
        for name, each in every_tab.items():
            open_tab(visitor, name)
            expect(visitor.locator(f"#{each}-stop")).to_be_visible()
            expect(visitor.locator(f"#{each}-stop-below")).to_have_count(1)
            expect(visitor.locator(f"#{each}-stop-below")).to_be_hidden()
    dashscope_fake.delay("generate", 8, times=1)
    with new_visitor(browser, served, 390, 844) as visitor:
        for name, each in every_tab.items():
            open_tab(visitor, name)
            expect(visitor.locator(f"#{each}-stop-below")).to_be_visible()
        open_tab(visitor, tab)
        prompt = visitor.locator(f"#{mode}-prompt textarea")
        prompt.fill("a fox")
        prompt.press("Enter")
        scrolled_into_view(visitor, f"{mode}-details")
        below = visitor.locator(f"#{mode}-stop-below")
        expect(below).to_be_visible()
        visitor.wait_for_timeout(500)  # the smooth scroll ends
        assert visitor.evaluate(_IN_VIEW, f"{mode}-stop-below"), "the Stop under the details is out of view"
        assert not visitor.evaluate(_IN_VIEW, f"{mode}-stop")  # the reason for the second one
        shots(visitor, f"phone_stop_below_{mode}", full_page=False)
        below.click()
        details = visitor.locator(f"#{mode}-details")
        expect(details).to_contain_text("Stopped.", timeout=10_000)
        expect(details).to_contain_text("may still be billed")
        visitor.wait_for_timeout(8_500)  # past the fake's answer: a stopped run shows nothing of it
        assert visitor.locator(f"#{mode}-results img, #{mode}-chat img").count() == 0


def test_a_reference_too_small_is_refused_before_the_run_is_queued(page, dashscope_fake, tmp_path):  # noqa: F811
    upload_reference(page, tmp_path / "small.png", (100, 100), "red")
    expect(page.locator("#edit-references img")).to_have_count(1, timeout=10_000)
    page.locator("#edit-prompt textarea").fill("image 1 as a sketch")
    page.locator("#edit-run").click()
    expect(page.locator("#edit-prompt")).to_contain_text("is 100x100 px; the smallest side must be at least 240 px")
    assert dashscope_fake.requests == []


def test_a_shape_chosen_while_the_page_loads_is_kept(browser, served, dashscope_fake):  # noqa: F811
    """The page load adapts the controls to the vendor; a shape the visitor clicked meanwhile stays,
    with its size (DashScope's 16:9 for text to image: 1712×960). The page's calls are held until
    after the click, so that the load always ends later."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    held, holding = [], [True]

    def hold(route):
        if holding[0] and route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    try:
        visitor = context.new_page()
        visitor.route("**/gradio_api/**", hold)
        visitor.goto(served)
        expect(visitor.locator("#text_to_image-prompt textarea")).to_be_visible(timeout=30_000)
        for _ in range(100):  # the page-load event asks, and waits
            if held:
                break
            visitor.wait_for_timeout(100)
        assert held, "the page load sent nothing to hold"
        visitor.locator("#text_to_image-shape").get_by_text("16:9").click()
        visitor.wait_for_timeout(300)  # the click's own call is asked (and held) too
        holding[0] = False
        for route in held:
            route.continue_()
        visitor.wait_for_timeout(3000)  # the load's answer and the follow-up that adapts the controls
        expect(visitor.locator("#text_to_image-shape input:checked")).to_have_value("16:9")
        open_advanced(visitor, "text_to_image")
        expect(visitor.locator("#text_to_image-width input[type=number]")).to_have_value("1712")
        expect(visitor.locator("#text_to_image-height input[type=number]")).to_have_value("960")
    finally:
        context.close()
