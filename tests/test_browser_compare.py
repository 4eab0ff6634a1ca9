"""The Compare tab in headless Chromium, used as a person would: at 1280×720 and on a phone (390×844),
against the vendor fakes, one of them failing. Uses test_browser.py's browser and helpers.

Screenshots go to $WAN26_SCREENSHOTS (default: the test's tmp folder), named compare-*.png."""

import pytest
from playwright.sync_api import expect
from test_browser import browser, new_visitor, page_load_watch, shots  # noqa: F401 (fixtures)
from test_browser_history import open_tab
from test_compare_app import keyed  # noqa: F401 (a fixture)

from fakes.vendor import FailureKind

RUN_WAIT_MS = 30_000


def open_compare(page):
    """The Compare tab; on a phone Gradio folds the tabs that do not fit into its "More tabs" menu."""
    open_tab(page, "Compare")
    expect(page.locator("#compare-prompt textarea")).to_be_visible(timeout=10_000)


@pytest.fixture
def visitor(browser, served, keyed):  # noqa: F811
    """visitor(width, height): a new visitor's page, the server keyed for four vendors, Runware failing."""
    fakes = keyed("aimlapi", "runware", "shortapi")
    fakes["runware"].fail_with(FailureKind.CREDITS)
    contexts = []

    def open_page(width, height):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        opened = context.new_page()
        settled = page_load_watch(opened)
        opened.goto(served)
        expect(opened.locator("#text_to_image-prompt textarea")).to_be_visible(timeout=30_000)
        settled()
        open_compare(opened)
        return opened, fakes

    yield open_page
    for context in contexts:
        context.close()


def compare(page, prompt, untick=()):
    boxes = page.locator("#compare-vendors")
    expect(boxes.get_by_label("Runware")).to_be_checked(timeout=10_000)  # the page load ticked every keyed vendor
    for title in untick:
        boxes.get_by_label(title).uncheck()
    page.locator("#compare-prompt textarea").fill(prompt)
    page.locator("#compare-run").click()


def within_first_screen(page, selector, height):
    box = page.locator(selector).bounding_box()
    assert box is not None and box["y"] + box["height"] <= height, f"{selector} is below the fold: {box}"


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (390, 844)])
def test_compare_shows_a_column_per_vendor_and_the_failing_one_its_error(visitor, shots, width, height):  # noqa: F811
    page, fakes = visitor(width, height)
    name = "desktop" if width > 600 else "phone"
    for selector in ("#compare-prompt", "#compare-run", "#compare-vendors"):
        within_first_screen(page, selector, height)
    shots(page, f"compare-{name}-first", full_page=False)
    compare(page, "a lighthouse at dawn, watercolour", untick=["ShortAPI"])
    for vendor in ("dashscope", "aimlapi"):
        expect(page.locator(f"#compare-{vendor}-images img")).to_have_count(1, timeout=RUN_WAIT_MS)
        expect(page.locator(f"#compare-{vendor}-card")).to_contain_text("✅ 1 image(s)")
    failed = page.locator("#compare-runware-card")
    expect(failed).to_contain_text("Permission or billing problem", timeout=RUN_WAIT_MS)
    expect(failed).to_contain_text("insufficientCredits")
    expect(page.locator("#compare-runware-images")).to_be_hidden()
    expect(page.locator("#compare-shortapi")).to_be_hidden()  # unticked: no column, nothing sent
    expect(page.locator("#compare-summary")).to_contain_text("2 of 3 vendor(s) succeeded")
    expect(page.locator("#compare-summary")).to_contain_text("Failed or not sent: Runware")
    page.locator("#compare-summary").scroll_into_view_if_needed()
    shots(page, f"compare-{name}-results", full_page=False)
    shots(page, f"compare-{name}-results-full")
    assert fakes["shortapi"].requests == []
    assert [len(fakes[vendor].generation_requests()) for vendor in ("dashscope", "aimlapi", "runware")] == [1, 1, 1]


def test_stop_says_what_may_be_billed_and_a_vendors_task_is_followed(visitor, shots):  # noqa: F811
    page, fakes = visitor(1280, 720)
    fakes["aimlapi"].latency = 20.0  # still generating when Stop is clicked
    compare(page, "a fox at night")  # ShortAPI runs as a task, polled: it has a task id by then
    expect(page.locator("#compare-dashscope-images img")).to_have_count(1, timeout=RUN_WAIT_MS)
    expect(page.locator("#compare-shortapi-card")).to_contain_text("Task", timeout=RUN_WAIT_MS)
    page.locator("#compare-stop").click()
    expect(page.locator("#compare-summary")).to_contain_text("Stopped", timeout=10_000)
    expect(page.locator("#compare-summary")).to_contain_text("may still be billed")
    shots(page, "compare-desktop-stopped", full_page=False)
    page.locator("#open-settings").click()
    page.locator("#stopped-runs").get_by_role("button", name="Stopped runs").click()
    page.locator("#stopped-check").click()
    expect(page.locator("#stopped-status")).to_contain_text("ShortAPI", timeout=10_000)


def test_with_wan_2_7_the_options_it_lacks_are_gone_and_come_back_with_2_6(visitor):
    page, _ = visitor(1280, 720)
    page.locator("#compare-options").get_by_text("Options").click()
    negative = page.locator("#compare-negative")
    expect(negative).to_be_visible(timeout=10_000)
    negative.locator("textarea").fill("blurry")
    page.locator("#compare-model").get_by_text("Wan 2.7", exact=True).click()
    expect(negative).to_be_hidden(timeout=10_000)
    expect(page.locator("#compare-prompt-extend")).to_be_hidden()
    page.locator("#compare-model").get_by_text("Wan 2.6", exact=True).click()
    expect(negative.locator("textarea")).to_have_value("", timeout=10_000)  # not kept to be reported as not sent
    expect(page.locator("#compare-prompt-extend")).to_be_visible()


@pytest.mark.parametrize(("width", "height", "per_row"), [(1280, 720, 5), (1024, 768, 4)])
def test_five_vendors_columns_share_a_width_where_they_wrap(browser, served, keyed, width, height, per_row):  # noqa: F811
    keyed("aimlapi", "runware", "shortapi", "vtrix")
    with new_visitor(browser, served, width, height) as page:
        open_compare(page)
        columns = page.locator(".compare-column")
        expect(columns.filter(visible=True)).to_have_count(5, timeout=10_000)  # the page load showed every keyed vendor
        boxes = [columns.nth(index).bounding_box() for index in range(5)]
        assert {round(box["width"]) for box in boxes} == {round(boxes[0]["width"])}  # none stretched across alone
        assert [box["y"] == boxes[0]["y"] for box in boxes] == [True] * per_row + [False] * (5 - per_row)


_WHOLLY_IN_VIEW = """(id) => {
    const box = document.getElementById(id).getBoundingClientRect();
    return box.top >= 0 && box.bottom <= window.innerHeight;
}"""


def test_on_a_phone_a_comparison_is_brought_into_view_with_a_stop_under_its_summary(visitor, shots):  # noqa: F811
    """On a phone the summary and the columns are below the form and its options: once the comparison
    has begun they are scrolled to, with a Stop under the summary that stops it. Wide, the page does
    not move (its only Stop stays in view) and there is no second Stop."""
    wide, fakes = visitor(1280, 720)
    expect(wide.locator("#compare-stop-below")).to_have_count(1)
    expect(wide.locator("#compare-stop-below")).to_be_hidden()
    compare(wide, "a fox at noon")
    expect(wide.locator("#compare-dashscope-images img")).to_have_count(1, timeout=RUN_WAIT_MS)
    assert wide.evaluate("window.scrollY") == 0
    page, _ = visitor(390, 844)
    fakes["aimlapi"].latency = 6.0  # still generating when Stop is tapped
    assert not page.evaluate(_WHOLLY_IN_VIEW, "compare-summary")
    compare(page, "a fox at night")
    page.wait_for_function(_WHOLLY_IN_VIEW, arg="compare-stop-below", timeout=10_000)  # a smooth scroll takes a moment
    page.wait_for_timeout(500)  # the scroll ends
    assert page.evaluate(_WHOLLY_IN_VIEW, "compare-summary")
    shots(page, "compare-phone-running", full_page=False)
    page.locator("#compare-stop-below").click()
    expect(page.locator("#compare-summary")).to_contain_text("Stopped", timeout=10_000)
    expect(page.locator("#compare-summary")).to_contain_text("may still be billed")
    page.wait_for_timeout(6_500)  # past AI/ML API's answer: a stopped comparison shows nothing of it
    assert page.locator("#compare-aimlapi-images img").count() == 0


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (390, 844)])
def test_comparing_with_no_vendor_ticked_says_so_in_words_nothing_covers(visitor, shots, width, height):  # noqa: F811
    page, fakes = visitor(width, height)
    boxes = page.locator("#compare-vendors")
    expect(boxes.get_by_label("Runware")).to_be_checked(timeout=10_000)
    for box in boxes.locator("input[type=checkbox]").all():
        box.uncheck()
    page.locator("#compare-prompt textarea").fill("a fox")
    page.locator("#compare-run").click()
    said = boxes.locator(".validation-error")
    expect(said).to_contain_text("Choose at least one vendor", timeout=10_000)
    # Its first and last words are on top where they are drawn: the field's label once covered the
    # first. Polled: on a busy machine an event still ending can draw its timer there for a moment.
    page.wait_for_function(
        """() => {
            const area = document.querySelector('#compare-vendors .validation-error').getBoundingClientRect();
            return [area.left + 4, area.right - 30].every(
                x => document.elementFromPoint(x, area.top + 10)?.closest('.validation-error'));
        }""",
        timeout=5_000,
    )
    shots(page, f"compare-no-vendor-{width}")
    assert all(fake.requests == [] for fake in fakes.values())
