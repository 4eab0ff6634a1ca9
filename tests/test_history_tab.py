"""The History tab's parts without a browser: its setting, the browser's list and its secret, the runs a
session made, the words on its cards, "Reuse settings", and its handlers, which take a run only from
the visitor's own list."""

import asyncio
import os
import stat
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
from test_history import MONDAY, make_run, runs_at

from wan26.errors import ConfigError
from wan26.history import load_run
from wan26.providers import get_adapter
from wan26.types import Mode, Model
from wan26.ui.history_reuse import form_values
from wan26.ui.history_text import caption, deletable, details, plain, zone
from wan26.ui.models import Chosen
from wan26.ui.owned import KEPT_IDS, MadeRuns, browser_secret, owned_ids
from wan26.ui.settings import HistoryMode, Settings

# ---- the setting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "mode"),
    [
        ({}, HistoryMode.ALL),  # one person's own machine: every run, the command line's too
        ({"SPACE_ID": "someone/studio"}, HistoryMode.OWN),  # a public Space: each visitor their own
        ({"SPACE_ID": "someone/studio", "WAN26_HISTORY": "all"}, HistoryMode.ALL),
        ({"WAN26_HISTORY": " OFF "}, HistoryMode.OFF),
    ],
)
def test_history_lists_everything_locally_and_only_ones_own_on_a_space(env, mode, tmp_path):
    assert Settings.from_env(env | {"WAN26_OUTPUT_DIR": str(tmp_path)}).history is mode


def test_a_wrong_history_setting_names_the_variable_and_the_choices(tmp_path):
    with pytest.raises(ConfigError, match=r"WAN26_HISTORY must be all, own or off, not 'mine'"):
        Settings.from_env({"WAN26_HISTORY": "mine", "WAN26_OUTPUT_DIR": str(tmp_path)})


# ---- the browser's list and its secret ------------------------------------------------------------


def test_the_secret_is_made_once_kept_private_and_read_back_after_a_restart(tmp_path):
    first = browser_secret({}, tmp_path / "outputs")
    kept = tmp_path / "outputs" / ".browser-state-secret"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and len(first) >= 32
    assert browser_secret({}, tmp_path / "outputs") == first  # the next start reads it
    assert [path.name for path in kept.parent.iterdir()] == [kept.name]  # no temporary file left


def test_a_secret_in_the_environment_wins_and_an_empty_file_is_replaced(tmp_path):
    assert browser_secret({"WAN26_BROWSER_SECRET": " pinned "}, tmp_path) == "pinned"
    assert not (tmp_path / ".browser-state-secret").exists()
    (tmp_path / ".browser-state-secret").write_text("")
    assert browser_secret({}, tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_secret_that_cannot_be_stored_stops_the_start_saying_what_to_do(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match="WAN26_BROWSER_SECRET"):
            browser_secret({}, tmp_path / "outputs")
    finally:
        tmp_path.chmod(0o700)


def test_a_browsers_list_keeps_only_run_ids_newest_first_and_at_most_500(tmp_path):
    ids = runs_at(tmp_path, 3)
    assert owned_ids([ids[0], "../etc", None, {"a": 1}, ["x"], ids[2], ids[0]]) == [ids[2], ids[0]]
    assert owned_ids("not a list") == [] and owned_ids(None) == []
    many = [f"20261123-{second // 60:04d}{second % 60:02d}-edit-{second:032x}" for second in range(600)]
    assert owned_ids(many) == sorted(many, reverse=True)[:KEPT_IDS]


# ---- the runs each session made ------------------------------------------------------------------


def test_a_session_gets_only_the_runs_it_made_and_only_saved_ones(tmp_path):
    made = MadeRuns()
    mine, theirs = make_run(tmp_path), make_run(tmp_path, MONDAY + timedelta(minutes=1))
    made.start("me").done(tmp_path / mine)
    made.start("them").done(tmp_path / theirs)
    made.start("me").done(tmp_path / "20261123-093000-edit-0123456789abcdef0123456789abcdef")  # never written
    made.start("me").done(None)  # refused before anything was saved
    assert made.of("me") == [mine] and made.of("them") == [theirs] and made.of("nobody") == []
    made.forget("me", mine)
    assert made.of("me") == []


def test_after_stop_the_list_waits_for_the_cancelled_run_to_end(tmp_path):
    async def scenario():
        made, folder = MadeRuns(), tmp_path / make_run(tmp_path)
        run = made.start("me")
        asyncio.get_running_loop().call_later(0.2, run.done, folder)
        started = asyncio.get_running_loop().time()
        await made.settled("me")
        return asyncio.get_running_loop().time() - started, made.of("me")

    waited, mine = asyncio.run(scenario())
    assert 0.15 < waited < 2 and len(mine) == 1


# ---- the words on a card and in the details --------------------------------------------------------


def test_a_card_says_prompt_vendor_mode_seed_size_cost_and_time(tmp_path):
    run = load_run(tmp_path, make_run(tmp_path))
    utc = zone("UTC")
    assert caption(run, utc).split("\n") == [
        "a lighthouse at dawn",
        "DashScope · Text to image · seed 42 · 1280×1280 · $0.0300 · 2026-11-23 08:30",
    ]
    assert caption(run, zone("Asia/Tokyo")).endswith("2026-11-23 17:30")  # the visitor's own time
    failed = load_run(tmp_path, make_run(tmp_path, MONDAY, status="failed", cost_usd=None))
    assert caption(failed, utc).endswith("cost n/a · 2026-11-23 08:30 · ⚠️ failed")


def test_a_card_names_the_wan_model_when_it_is_not_2_6(tmp_path):
    utc = zone("UTC")
    pro = load_run(tmp_path, make_run(tmp_path, wan_model="wan2.7-pro"))
    facts = "DashScope · Wan 2.7 Pro · Text to image · seed 42 · 1280×1280 · $0.0300 · 2026-11-23 08:30"
    assert caption(pro, utc).split("\n")[1] == facts
    older = load_run(tmp_path, make_run(tmp_path, wan_model="wan2.6"))
    assert "Wan" not in caption(older, utc).split("\n")[1]  # 2.6, as every record before 2.7, says nothing more


def test_a_prompt_is_shown_as_typed_never_as_markup(tmp_path):
    run = load_run(tmp_path, make_run(tmp_path, prompt="**bold** <img src=x onerror=alert(1)> [a](http://x)"))
    shown = details(run, None)
    assert r"\*\*bold\*\* \<img src=x onerror=alert\(1\)\> \[a\]\(http://x\)" in shown  # each mark escaped
    assert plain("a_b") == r"a\_b"


def test_an_unknown_time_zone_falls_back_to_the_servers():
    assert zone("../../etc/passwd") is None and zone("Not/AZone") is None and zone("") is None


def test_a_run_can_be_deleted_once_ended_or_too_old_to_still_be_writing(tmp_path):
    now = datetime.now().astimezone()
    ended = load_run(tmp_path, make_run(tmp_path, datetime.now()))
    busy = load_run(tmp_path, make_run(tmp_path, datetime.now(), record=False))  # images, no run.json yet
    old = load_run(tmp_path, make_run(tmp_path, datetime.now() - timedelta(hours=1), record=False))
    assert deletable(ended, now) and not deletable(busy, now) and deletable(old, now)


# ---- "Reuse settings" --------------------------------------------------------------------------------


def test_reuse_picks_the_shape_that_makes_the_runs_size_and_fixes_its_seed(tmp_path):
    run = load_run(tmp_path, make_run(tmp_path))
    values, notes = form_values(run, Chosen(get_adapter("dashscope")))
    assert values == {
        "prompt": "a lighthouse at dawn",
        "negative": "fog",
        "shape": "1:1",
        "width": 1280,
        "height": 1280,
        "random": False,
        "seed": gr.update(value=42, interactive=True),  # typed into, as when a visitor unticks Random
        "used": 42,
        "extend": True,
        "mark": False,
        "count": 1,
    }
    assert notes == []


def test_reuse_sets_an_exact_size_under_advanced_and_says_so(tmp_path):
    parameters = {"size": "1296x1296", "seed": 7, "n": 2, "watermark": True, "prompt_extend": False}
    run = load_run(tmp_path, make_run(tmp_path, parameters=parameters))
    values, notes = form_values(run, Chosen(get_adapter("dashscope")))
    assert (values["width"], values["height"], values["count"], values["mark"]) == (1296, 1296, 2, True)
    assert "shape" not in values and "1296×1296" in notes[0]


def test_reuse_of_an_edit_keeps_its_tier_and_asks_for_the_references_again(tmp_path):
    run = load_run(tmp_path, make_run(tmp_path, mode="edit", parameters={"size": "2K", "n": 1}))
    values, notes = form_values(run, Chosen(get_adapter("dashscope")))
    assert values["shape"] == "2K" and "width" not in values
    assert notes == ["Its 1 reference image(s) are not refilled: add them again."]


PALETTE = [{"hex": "#112233", "percent": 60.0}, {"hex": "#445566", "percent": 25}, {"hex": "#778899", "percent": 15}]


def test_reuse_refills_a_palette_where_the_model_takes_one_and_names_it_where_not(tmp_path):
    run = load_run(tmp_path, make_run(tmp_path, wan_model="wan2.7", palette=PALETTE))
    values, notes = form_values(run, Chosen(get_adapter("dashscope"), Model.WAN27))
    assert values["palette"] == [("#112233", 60.0), ("#445566", 25.0), ("#778899", 15.0)] and notes == []
    values, notes = form_values(run, Chosen(get_adapter("dashscope")))  # Wan 2.6 kept: no palette there
    assert "palette" not in values
    assert notes == ["Its colour palette is not refilled (#112233 60.0 %, #445566 25 %, #778899 15 %): "
                     "set it again under Colour palette."]


def test_reuse_of_a_run_without_a_palette_switches_the_palette_off(tmp_path):
    run = load_run(tmp_path, make_run(tmp_path, wan_model="wan2.7"))
    values, notes = form_values(run, Chosen(get_adapter("dashscope"), Model.WAN27))
    assert values["palette"] == [] and notes == []  # not left on from an earlier Reuse, to be sent with this run


@pytest.mark.parametrize(
    "odd",
    [{"hex": "red", "percent": 15}, {"hex": "#778899", "percent": "15"}, {"hex": "#778899", "percent": 10**400}]
    + [{"hex": "#778899", "percent": share} for share in (float("nan"), float("inf"), -15, 0, 150)],
)
def test_a_recorded_palette_the_form_cannot_show_is_named_and_switched_off(tmp_path, odd):
    for palette in (PALETTE[:2], [*PALETTE[:2], odd]):
        run = load_run(tmp_path, make_run(tmp_path, wan_model="wan2.7", palette=palette))
        values, notes = form_values(run, Chosen(get_adapter("dashscope"), Model.WAN27))
        assert values["palette"] == [] and "not refilled" in notes[0]


def test_reuse_with_a_vendor_that_takes_no_seed_leaves_its_seed_alone(tmp_path):
    run = load_run(tmp_path, make_run(tmp_path))
    values, _ = form_values(run, Chosen(get_adapter("runware")))
    assert not {"random", "seed", "used", "mark"} & set(values)


def test_reuse_of_a_run_without_a_seed_ticks_random_and_locks_the_seed_box(tmp_path):
    run = load_run(tmp_path, make_run(tmp_path, seed=None, parameters={"size": "1280x1280", "n": 1}))
    values, _ = form_values(run, Chosen(get_adapter("dashscope")))
    assert (values["random"], values["seed"]) == (True, gr.update(value=-1, interactive=False))


@pytest.mark.parametrize("mode", list(Mode))
def test_only_a_click_on_random_seed_sets_the_seed_never_a_value_set_by_reuse(mode, tmp_path):
    """Under a closed Advanced, Gradio fires the box's `change` as soon as Reuse's output sets it, with
    the seed read before the rest of that output lands: the run's seed was read as -1 and sent as 0."""
    page, blocks = built(tmp_path, "own")
    random = page.history._form(mode)["random"]
    events = [
        (fn.fn.__name__, event) for fn in blocks.fns.values() for block, event in fn.targets if block == random._id
    ]
    assert events == [("randomize_clicked", "input")]


def test_reuse_of_an_interleave_that_followed_its_input_image(tmp_path):
    parameters = {"size": None, "seed": 3, "max_images": 4, "watermark": False}
    run = load_run(tmp_path, make_run(tmp_path, mode="interleave", parameters=parameters))
    values, notes = form_values(run, Chosen(get_adapter("dashscope")))
    assert (values["shape"], values["count"]) == ("follow", 4) and "extend" not in values
    assert notes == ["Its input image is not refilled: add it again."]


# ---- the handlers: a visitor reaches only their own runs ------------------------------------------


def built(folder: Path, mode: str):
    """The page built with History in `mode` on `folder`, and its Blocks."""
    from wan26.ui.page import _Page
    from wan26.ui.runs import Runs

    settings = Settings.from_env({"WAN26_OUTPUT_DIR": str(folder), "WAN26_HISTORY": mode})
    with gr.Blocks() as blocks:
        page = _Page(settings, Runs(settings))
        page.build(blocks)
    return page, blocks


@pytest.fixture
def history(tmp_path):
    """history(mode): the History tab of a page built with that mode, on its own output folder."""
    return lambda mode: built(tmp_path, mode)[0].history


def visitor(session: str):
    return SimpleNamespace(session_hash=session)


def picked(index: int):
    return SimpleNamespace(index=index)


def test_a_stranger_listing_ids_that_are_not_theirs_sees_nothing(history, tmp_path):
    tab, real = history("own"), make_run(tmp_path)
    guessed = "20261123-093000-text_to_image-" + "0123456789abcdef" * 2
    _, cards, line, *_, listed, _ = tab.show([guessed, "../" + real, 42], 1, "UTC", visitor("stranger"))
    assert cards["value"] == [] and listed == [] and "No saved runs in this browser" in line


def test_handlers_refuse_a_run_that_is_not_in_the_visitors_list(history, tmp_path):
    tab, real = history("own"), make_run(tmp_path)
    stranger = visitor("stranger")
    for handler, arguments in [
        (tab.choose, (picked(0), [real], [], None, stranger)),  # an id the listing never gave them
        (tab.reuse_settings, (real, [], {}, "dashscope", stranger)),
        (tab.refill_pending, (real, [], "dashscope", stranger)),
        (tab.send_to_edit, (real, [], None, [], "dashscope", stranger)),
        (tab.remove, (real, real, [], 1, None, stranger)),
        (tab.remove, ("../" + real, "../" + real, ["../" + real], 1, None, stranger)),
    ]:
        with pytest.raises(gr.Error, match="not in your history"):
            handler(*arguments)
    assert (tmp_path / real).is_dir()


def test_the_owner_selects_then_confirms_a_delete(history, tmp_path):
    tab, real = history("own"), make_run(tmp_path)
    owner = visitor("owner")
    *_, listed, _ = tab.show([real], 1, None, owner)
    chosen, *_, download, to_edit, delete = tab.choose(picked(0), listed, [real], None, owner)
    assert chosen == real and Path(download["value"]).name == f"{real}.zip"
    assert to_edit["interactive"] and delete["interactive"]

    asked = tab.remove(real, None, [real], 1, None, owner)
    assert "Click again" in asked[-3]["value"] and (tmp_path / real).is_dir()  # the first click only asks
    done = tab.remove(real, real, [real], 1, None, owner)
    assert done[0] == [] and not (tmp_path / real).exists()


def chinese_visitor(session: str):
    return SimpleNamespace(session_hash=session, headers={"accept-language": "zh-CN,zh;q=0.9"})


def test_a_chinese_visitors_history_answers_in_chinese(history, tmp_path):
    tab, real = history("own"), make_run(tmp_path)
    owner = chinese_visitor("owner")
    _, cards, line, *_, listed, _ = tab.show([real], 1, "UTC", owner)
    assert line.startswith("第 1/1 页 · 共 1 次运行") and "DashScope · 文生图 · 种子 42" in cards["value"][0][1]
    *_, images, shown, _, _, delete = tab.choose(picked(0), listed, [real], "UTC", owner)
    assert images[0][1] == "图1 · 种子 42 · 33×16" and shown.startswith("### 文生图 · ") and delete["value"] == "🗑️ 删除"
    assert tab.remove(real, None, [real], 1, None, owner)[-3]["value"] == "⚠️ 再点一次即删除这次运行"
    with pytest.raises(gr.Error, match="这次运行不在（或已不在）你的历史记录中：请刷新列表。"):
        tab.reuse_settings(real, [], {}, "dashscope", chinese_visitor("stranger"))
    deleted = tab.remove(real, real, [real], 1, None, owner)
    assert deleted[2] == "这个浏览器里还没有保存的运行：你生成的内容会出现在这里。"
    assert deleted[-3]["value"] == "🗑️ 删除"


def test_a_run_just_made_by_this_session_is_listed_before_the_browser_has_it(history, tmp_path):
    tab, real = history("own"), make_run(tmp_path)
    tab.made.start("owner").done(tmp_path / real)
    kept, *_, listed, _ = tab.show([], 1, None, visitor("owner"))
    assert kept == [real] and listed == [real]
    assert tab.show([], 1, None, visitor("someone else"))[-2] == []


def test_in_all_mode_every_run_in_the_folder_is_listed_for_anyone(history, tmp_path):
    tab, ids = history("all"), runs_at(tmp_path, 2)
    *_, listed, _ = tab.show([], 1, None, visitor("anyone"))
    assert listed == ids[::-1]
    with pytest.raises(gr.Error, match="not in your history"):
        tab.reuse_settings("../" + ids[0], [], {}, "dashscope", visitor("anyone"))


def test_with_history_off_there_is_no_tab(history):
    assert history("off") is None
