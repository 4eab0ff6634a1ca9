"""The Compare endpoint as a stranger on the internet meets it: over HTTP only (gradio_client or raw
requests to the served app), against the vendor fakes. The owner's key is spent only through the
guard, a visitor's own key is theirs, a failing vendor stays in its column, and no answer carries a
traceback or a key."""

import json

import pytest
from gradio_client.exceptions import AppError, ValidationError
from test_app_security import STRANGER, assert_clean, guard, raw_call  # noqa: F401 (guard is a fixture)

from app_client import connected
from fakes.vendor import FailureKind
from wan26 import ImageRequest, Mode
from wan26.compare import Status, VendorEnded, VendorOutcome, plan_compare
from wan26.errors import InvalidRequest, PermissionDenied
from wan26.ui.compare_view import SLOTS, Board
from wan26.ui.i18n import Lang

DEFAULTS = ["", "1280x1280", 1, -1, True, False, "wan2.6"]  # negative prompt, size, n, seed, extend, mark, model
OPTIONS = ["negative_prompt", "size", "n", "seed", "prompt_extend", "watermark", "model"]


def compare_args(prompt, providers, **options) -> list:
    values = dict(zip(OPTIONS, DEFAULTS, strict=True))
    return [prompt, providers, *(values | options).values()]


def columns(outputs: list) -> dict[str, tuple[str, list]]:
    """{vendor: (its card's Markdown, its gallery's items)} for the vendors shown, from the 11 outputs."""
    found = {}
    for index, name in enumerate(SLOTS):
        card, gallery = outputs[2 * index], outputs[2 * index + 1]
        items = gallery.get("value") if isinstance(gallery, dict) else gallery
        if card:
            found[name] = (card, items or [])
    return found


@pytest.fixture
def keyed(served, vendor_fakes, monkeypatch):
    """keyed(*names): the server has a key for these vendors too (DashScope always has one)."""

    def add(*names):
        for name in names:
            fake = vendor_fakes[name]
            for variable, value in fake.env().items():
                monkeypatch.setenv(variable, value)
        return vendor_fakes

    return add


def test_each_vendor_gets_a_column_and_a_failing_one_shows_its_error_while_the_others_finish(served, keyed):
    fakes = keyed("runware")
    fakes["runware"].fail_with(FailureKind.CREDITS)
    own_key = {"X-Aimlapi-Key": fakes["aimlapi"].api_key}  # the visitor's own key for a vendor the server lacks
    args = compare_args("a red fox", ["dashscope", "aimlapi", "runware"], seed=42, watermark=True)
    with connected(served, headers=own_key) as visitor:
        outputs = visitor.predict(*args, api_name="/compare")
    shown = columns(outputs)
    assert list(shown) == ["dashscope", "aimlapi", "runware"]
    for name in ("dashscope", "aimlapi"):
        card, images = shown[name]
        assert "✅ **1 image(s)**" in card and "seed 42" in card and len(images) == 1, card
    assert "💲 ~$0.030 (estimate)" in shown["dashscope"][0] and "💲 $0.0390 (reported)" in shown["aimlapi"][0]
    card, images = shown["runware"]
    assert images == [] and card.index("⚠️ **Permission or billing problem**") < card.index("Not sent")
    assert "[insufficientCredits]" in card and "Hint:" in card
    assert "Not sent to this vendor: Seed 42" in card and "watermark on" in card
    assert "seed" not in fakes["runware"].generation_requests()[0].json[0]
    summary = outputs[-1]
    assert "2 of 3 vendor(s) succeeded" in summary and "Failed or not sent: Runware" in summary
    assert_clean(json.dumps(outputs))
    assert not any(fake.api_key in json.dumps(outputs) for fake in fakes.values())


def test_a_count_no_vendor_takes_is_refused_not_cut_to_four(served, keyed):
    fakes = keyed("runware")
    with connected(served) as visitor, pytest.raises(ValidationError) as refused:
        visitor.predict(*compare_args("a red fox", ["dashscope", "runware"], n=13), api_name="/compare")
    assert "13 images per run; allowed 1–4" in str(refused.value)
    assert fakes["dashscope"].generation_requests() == [] and fakes["runware"].generation_requests() == []


def test_wan_2_7_is_compared_where_it_is_served_and_a_vendor_without_it_says_so(served, keyed):
    fakes = keyed("runware", "shortapi")
    args = compare_args(
        "a red fox", ["dashscope", "runware", "shortapi"], negative_prompt="blurry, text", model="wan2.7"
    )
    with connected(served) as visitor:
        outputs = visitor.predict(*args, api_name="/compare")
    shown = columns(outputs)
    for name in ("dashscope", "runware"):
        card, images = shown[name]
        assert "✅ **1 image(s)**" in card and len(images) == 1, card
    assert "Not sent to this vendor: Negative prompt blurry, text" in shown["dashscope"][0]  # as typed
    assert fakes["dashscope"].generation_requests()[-1].json["model"] == "wan2.7-image"
    assert fakes["runware"].jobs[-1].wan27 is not None
    card, images = shown["shortapi"]
    assert images == [] and "does not serve Wan 2.7" in card
    assert fakes["shortapi"].generation_requests() == []
    assert_clean(json.dumps(outputs))


def test_the_server_key_is_spent_only_within_the_owners_limits(served, keyed, guard):  # noqa: F811
    fakes = keyed("runware")
    guard(runs_per_hour=1)  # each vendor's run counts as one run of the server's key
    first = raw_call(served, "compare", compare_args("a fox", ["dashscope", "runware"]), source=STRANGER)
    assert first.event == "complete", first.message
    shown = columns(first.data)
    assert "✅" in shown["dashscope"][0] and "limit per visitor" in shown["runware"][0]
    assert len(fakes["dashscope"].generation_requests()) == 1 and fakes["runware"].requests == []
    second = raw_call(served, "compare", compare_args("a fox", ["dashscope"]), source=STRANGER)
    assert "limit per visitor" in columns(second.data)["dashscope"][0]
    own = {"X-Runware-Key": fakes["runware"].api_key}  # a visitor's own key is never counted
    third = raw_call(served, "compare", compare_args("a fox", ["runware"]), headers=own, source=STRANGER)
    assert "✅" in columns(third.data)["runware"][0]
    assert len(fakes["dashscope"].generation_requests()) == 1 and len(fakes["runware"].generation_requests()) == 1
    assert_clean(first.text, second.text, third.text)


def test_the_daily_limit_refuses_a_vendor_before_anything_is_sent(served, keyed, guard):  # noqa: F811
    fakes = keyed()
    key_guard = guard(daily_usd=0.05)
    answer = raw_call(served, "compare", compare_args("a fox", ["dashscope"], n=2), source=STRANGER)  # 2 × $0.03
    card = columns(answer.data)["dashscope"][0]
    assert "daily spending limit of $0.05" in card and "Paste your own key" in card
    assert fakes["dashscope"].requests == [] and key_guard.remaining_today() == pytest.approx(0.05)
    assert_clean(answer.text)


@pytest.mark.parametrize(
    ("providers", "prompt", "said"),
    [
        ([], "a fox", "Choose at least one vendor"),
        (7, "a fox", "Choose at least one vendor"),  # not a list: no choice at all
        (["dashscope", "vtrix"], "a fox", "No key for Vtrix here"),  # the server has none, the visitor gave none
        (["dashscope", "nobody"], "a fox", "No key for nobody here"),
        (["dashscope"], "", "is required"),
    ],
)
def test_a_comparison_that_cannot_run_is_refused_before_anything_is_sent(served, keyed, providers, prompt, said):
    fakes = keyed()
    with connected(served) as visitor, pytest.raises((ValidationError, AppError)) as caught:
        visitor.predict(*compare_args(prompt, providers), api_name="/compare")
    assert said in str(caught.value)
    assert all(fake.requests == [] for fake in fakes.values())
    assert_clean(str(caught.value))


def test_the_columns_are_written_in_the_visitors_language():
    plan = plan_compare(ImageRequest(Mode.TEXT_TO_IMAGE, "x" * 2050, seed=5), ["aimlapi", "runware", "dashscope"])
    skipped, failed, _ = plan.vendors
    error = PermissionDenied("Insufficient credits.", provider="runware", code="insufficientCredits", request_id="r-1")
    board = Board(plan, Lang.ZH)
    assert "⏳ 正在同时对比 3 个服务商" in board.outputs()[-1]
    board.take(VendorEnded(VendorOutcome(failed, Status.FAILED, 1.5, error=error)))
    cards = dict(zip(SLOTS, board.outputs()[::2], strict=False))
    assert "⚠️ **权限或账单问题**（1.5 秒后）" in cards["runware"] and "请求 ID：r-1" in cards["runware"]
    assert "未发给此服务商：种子 5" in cards["runware"]
    assert "预计：" in cards["dashscope"] and "⏳ 等待开始" in cards["dashscope"]
    board.take(VendorEnded(VendorOutcome(skipped, Status.SKIPPED, error=InvalidRequest(skipped.problems))))
    assert "⛔ **未发送**" in board.outputs()[2 * SLOTS.index("aimlapi")]
    assert "有 2050 个字符，上限为 2000" in board.outputs()[2 * SLOTS.index("aimlapi")]
