"""Edit's box drawing over HTTP only, as a stranger can drive it (the `served` app, the DashScope
fake): a burst of clicks from one session, on a small file of many pixels, cannot fill the queue the
runs share, so another visitor's run is still taken."""

from test_app_security import T2I_DEFAULTS, assert_clean, raw_call
from test_box_drawing_limits import zeros_png

from batch_tab_client import Visitor

BURST = 70  # more than the queue holds (WAN26_QUEUE_SIZE: 64 by default)


def drawing_opened(visitor: Visitor, gallery: list) -> None:
    """Wan 2.7 picked, the reference uploaded (the image picker offers it), the section opened: as the
    page does before a click can be made."""
    visitor.call("model", "input", ["dashscope", "wan2.7"])
    ids = {c["props"].get("elem_id"): c["id"] for c in visitor.config["components"]}
    changed = [d for d in visitor.config["dependencies"] if [ids["edit-references"], "change"] in d["targets"]]
    [numbers] = [d for d in changed if d["outputs"] == [ids["edit-draw-image"]]]
    joined = visitor.join("", "", [gallery, None], numbers | {"trigger": ids["edit-references"]})
    assert visitor.result(joined)["success"]
    visitor.call("edit-draw", "expand", [])


def test_a_burst_of_drawing_clicks_cannot_get_another_visitors_run_refused(served, dashscope_fake, tmp_path):
    bomb = zeros_png(tmp_path / "bomb.png", 13000, 13000)  # 169 MP in a small file
    with Visitor(served) as stranger:
        gallery = [{"image": stranger.upload(bomb)[0], "caption": None}]
        drawing_opened(stranger, gallery)
        click = stranger.dependency("edit-draw-preview", "select")
        data = [gallery, 1, ""] + [None] * (len(click["inputs"]) - 3)
        at = {"index": [10, 10], "value": None}
        body = {"data": data, "fn_index": click["id"], "session_hash": stranger.session, "trigger_id": click["trigger"]}
        joined = [stranger.http.post("gradio_api/queue/join", json=body | {"event_data": at}) for _ in range(BURST)]
        answer = raw_call(served, "text_to_image", ["a cat on a windowsill", *T2I_DEFAULTS])
        assert answer.status == 200 and answer.event == "complete", answer.message
        assert_clean(answer.text, *(reply.text for reply in joined))
        # The clicks were handled, each told why not (the image is too large to show).
        last = stranger.join("edit-draw-preview", "select", data, event_data=at)
        said = stranger.result(last)
        assert said["success"] and "cannot be shown here" in str(said["output"]), said
