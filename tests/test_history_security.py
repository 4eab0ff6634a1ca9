"""History in `own` mode as a stranger meets it over HTTP: no public endpoint reaches past runs, and
the tab's private events, called directly with whatever a stranger can send (a made-up list, a pick,
a delete), give nothing of another visitor's runs and delete nothing.

The browser calls these events the same way (POST /gradio_api/queue/join, then the session's event
stream), so this is all any visitor can do with them.
"""

import json
import uuid
from pathlib import Path

import httpx
import pytest

from app_client import connected
from history_app import free_port, history_env, launched

STREAM_WAIT_S = 20


@pytest.fixture(scope="module")
def own_app(_vendor_servers, tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("own-outputs")
    env = history_env(_vendor_servers, output_dir)
    with pytest.MonkeyPatch.context() as patch:
        for variable, value in env.items():
            patch.setenv(variable, value)
        with launched(env, free_port()) as url:
            yield url, output_dir


@pytest.fixture
def someones_run(own_app, dashscope_fake):
    """A run made by another visitor (through the API): its id, as the server's folder names it."""
    url, output_dir = own_app
    before = set(output_dir.iterdir())
    with connected(url) as client:
        client.predict("someone else's secret prompt", api_name="/text_to_image")
    # hidden: the browser-state secret, and the next run's folder made ahead (wan26/_spare_folders.py)
    [folder] = [path for path in set(output_dir.iterdir()) - before if not path.name.startswith(".")]
    return folder.name


def dependency(url: str, elem_id: str, event: str) -> dict:
    """The private event `event` of the component `elem_id`, as the page's config describes it."""
    config = httpx.get(url + "config").json()
    [component] = [c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id]
    [found] = [d for d in config["dependencies"] if [component, event] in d["targets"]]
    return found | {"trigger": component}


def tab_select(url: str) -> dict:
    config = httpx.get(url + "config").json()
    [tab] = [c["id"] for c in config["components"] if c.get("props", {}).get("id") == "history"]
    [found] = [d for d in config["dependencies"] if [tab, "select"] in d["targets"]]
    return found | {"trigger": tab}


def call(url: str, event: dict, data: list, event_data=None) -> dict:
    """One private event called as a new visitor would: its final message."""
    session = uuid.uuid4().hex
    body = {"data": data, "fn_index": event["id"], "session_hash": session, "event_data": event_data}
    with httpx.Client(base_url=url, timeout=STREAM_WAIT_S) as http:
        assert http.post("gradio_api/queue/join", json=body | {"trigger_id": event["trigger"]}).status_code == 200
        with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                message = json.loads(line[5:]) if line.startswith("data:") else {}
                if message.get("msg") == "process_completed":
                    return message
    raise AssertionError("the event never completed")


def test_no_public_endpoint_or_mcp_tool_reaches_past_runs(own_app, someones_run):
    url, _ = own_app
    with connected(url) as client:
        endpoints = client.view_api(return_format="dict", print_info=False)
    assert set(endpoints["named_endpoints"]) == {"/text_to_image", "/edit", "/interleave", "/image_set"}
    assert endpoints["unnamed_endpoints"] == {}
    tools = httpx.get(url + "gradio_api/mcp/schema").json()
    assert sorted(tool["name"] for tool in tools) == ["edit", "image_set", "interleave", "text_to_image"]
    assert someones_run not in httpx.get(url + "config").text


def test_a_stranger_listing_made_up_ids_gets_no_runs(own_app, someones_run):
    url, _ = own_app
    made_up = someones_run[:-32] + uuid.uuid4().hex  # the right shape and time, another random part
    message = call(url, tab_select(url), [[made_up, "../" + someones_run], None, "UTC"])
    assert message["success"]
    _, cards, line, *_ = message["output"]["data"]
    assert cards["value"] == [] and "No saved runs in this browser" in line
    assert someones_run not in json.dumps(message)


def test_a_stranger_can_neither_pick_nor_delete_a_run_even_naming_its_id(own_app, someones_run):
    url, output_dir = own_app
    # Even sending the id as if in its own list, and in the slots of the run picked and confirmed:
    # those are server-side session state, filled only by a listing of this session.
    pick = {"index": 0, "value": None, "selected": True}
    picked = call(url, dependency(url, "history-runs", "select"), [[someones_run], [someones_run], "UTC"], pick)
    assert not picked["success"] and "not in your history" in json.dumps(picked)
    sent = [someones_run, someones_run, [someones_run], 1, None]
    deleted = call(url, dependency(url, "history-delete", "click"), sent)
    assert not deleted["success"] and "not in your history" in json.dumps(deleted)
    assert Path(output_dir / someones_run / "01.png").is_file()
