"""The app's MCP server, driven by the real `mcp` client package: the three runs are its only tools,
and a call reaches the DashScope fake (with the caller's own key when they send one)."""

import asyncio
import json
import logging
import re
import socket
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

USER_KEY = "sk-user-own-key-mcp-0123456789abcdef"
PARAMETERS = {
    "text_to_image": ["prompt", "negative_prompt", "width", "height", "n", "seed", "prompt_extend", "watermark"],
    "edit": ["prompt", "images", "negative_prompt", "size", "n", "seed", "prompt_extend", "watermark"],
    "interleave": ["prompt", "image", "negative_prompt", "width", "height", "max_images", "seed", "watermark"],
}
# In the order the page makes them; Wan 2.7's options after 2.6's, each with a default.
DOCUMENTED = {
    "text_to_image": [*PARAMETERS["text_to_image"], "provider", "model", "thinking", "palette", "tier"],
    "edit": [*PARAMETERS["edit"], "provider", "image_urls", "model", "palette", "boxes"],
    "interleave": [*PARAMETERS["interleave"], "provider"],
    "image_set": ["prompt", "images", "size", "n", "seed", "watermark", "provider", "image_urls", "model"],
}
IMAGE_LINK = re.compile(r"https?://[^\s'\"]+?\.png")


@asynccontextmanager
async def session(app_url: str, headers: dict[str, str] | None = None):
    """An initialised MCP session with the app, every request carrying `headers`."""
    async with (
        httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(30, read=120)) as http,
        streamable_http_client(f"{app_url}gradio_api/mcp/", http_client=http) as (read, write, _),
        ClientSession(read, write) as mcp,
    ):
        await mcp.initialize()
        yield mcp


def call(app_url: str, tool: str, arguments: dict[str, Any], headers: dict[str, str] | None = None, **options):
    async def run() -> CallToolResult:
        async with session(app_url, headers) as mcp:
            return await mcp.call_tool(tool, arguments, **options)

    return asyncio.run(run())


def text_of(result: CallToolResult) -> str:
    return "\n".join(part.text for part in result.content if part.type == "text")


def test_the_four_runs_are_the_only_tools_with_described_parameters_and_no_session_state(served):
    async def listed():
        async with session(served) as mcp:
            return (await mcp.list_tools()).tools

    tools = {tool.name: tool for tool in asyncio.run(listed())}
    assert sorted(tools) == ["edit", "image_set", "interleave", "text_to_image"]  # no private event is a tool
    assert tools["text_to_image"].description.startswith("Generate 1 to 4 images from a text prompt with Wan 2.6")
    assert "the seed used" in tools["text_to_image"].description
    assert tools["edit"].description.startswith("Edit or combine 1 to 4 reference images")
    assert tools["interleave"].description.startswith("Write text with images placed within it")
    assert tools["image_set"].description.startswith("Make a set of up to 12 images that belong together")
    for name, tool in tools.items():
        properties = tool.inputSchema["properties"]
        assert list(properties) == DOCUMENTED[name]  # neither the session's keys nor the task switch
        assert tool.inputSchema["required"] == ["prompt"]
        # Each description whole: a docstring entry over two lines would reach the caller cut short.
        assert all(p["description"].endswith(".") for p in properties.values()), (name, properties)
    assert "-1 for random" in tools["text_to_image"].inputSchema["properties"]["seed"]["description"]


def test_text_to_image_makes_one_run_and_returns_its_images_summary_and_seed(served, dashscope_fake):
    result = call(served, "text_to_image", {"prompt": "a red fox in snow", "seed": 42, "n": 2})

    assert not result.isError, text_of(result)
    sent = dashscope_fake.generation_requests()
    assert len(sent) == 1 and sent[0].json["parameters"]["n"] == 2
    text = text_of(result)
    assert "seed 42 · 1280×1280" in text and "wan2.6-t2i" in text and "request id" in text
    links = sorted(set(IMAGE_LINK.findall(text)))
    assert len(links) == 2  # each saved image, fetchable by the caller
    assert all(httpx.get(link).content.startswith(b"\x89PNG\r\n\x1a\n") for link in links)


def test_a_caller_asking_for_progress_gets_notifications_and_the_outputs_one_by_one(served, dashscope_fake):
    notes: list[str | None] = []

    async def noted(progress: float, total: float | None, message: str | None) -> None:
        notes.append(message)

    result = call(served, "text_to_image", {"prompt": "a red fox", "seed": 7}, progress_callback=noted)

    assert not result.isError, text_of(result)
    assert "Processing" in notes
    images, summary, seed = (part.text for part in result.content)
    assert IMAGE_LINK.search(images) and "seed 7 ·" in images
    assert summary.startswith("**`wan2.6-t2i`** via Alibaba Cloud DashScope") and seed == "7"


def test_a_callers_own_key_in_the_vendors_header_is_the_one_used(served, dashscope_fake, monkeypatch, caplog, capfd):
    caplog.set_level(logging.DEBUG)  # the most any log says: the key must be in none of it
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-server-key-the-fake-refuses")
    dashscope_fake.api_key = USER_KEY
    try:
        result = call(served, "text_to_image", {"prompt": "a fox"}, headers={"X-Dashscope-Key": USER_KEY})
    finally:
        dashscope_fake.api_key = type(dashscope_fake)().api_key

    assert not result.isError, text_of(result)
    assert [r.headers["authorization"] for r in dashscope_fake.generation_requests()] == [f"Bearer {USER_KEY}"]
    assert USER_KEY not in json.dumps(result.model_dump())
    assert USER_KEY not in caplog.text and USER_KEY not in "".join(capfd.readouterr())


def test_a_refused_input_is_an_error_result_naming_the_field_and_nothing_is_sent(served, dashscope_fake):
    result = call(served, "text_to_image", {"prompt": "a fox", "n": 9})

    assert result.isError
    assert "n: 9 images per run; allowed 1–4" in text_of(result)
    assert dashscope_fake.generation_requests() == []


def test_edit_takes_its_references_as_links(served, dashscope_fake):
    link = "https://example.com/cat.png"  # DashScope fetches it; the app does not
    result = call(served, "edit", {"prompt": "image 1 as a pencil sketch", "images": [], "image_urls": link})

    assert not result.isError, text_of(result)
    sent = dashscope_fake.generation_requests()
    assert len(sent) == 1 and link in json.dumps(sent[0].json)
    assert IMAGE_LINK.search(text_of(result))


def test_interleave_returns_the_text_and_links_to_its_saved_images(served, dashscope_fake):
    result = call(served, "interleave", {"prompt": "a three-step recipe for pancakes", "max_images": 2})

    assert not result.isError, text_of(result)
    sent = dashscope_fake.generation_requests()
    assert len(sent) == 1 and sent[0].json["parameters"]["max_images"] == 2
    text = text_of(result)
    links = sorted(set(IMAGE_LINK.findall(text)))
    assert links and all(httpx.get(link).content.startswith(b"\x89PNG\r\n\x1a\n") for link in links)
    assert "wan2.6-image" in text and "request id" in text
    assert "Step 1" in text[: IMAGE_LINK.search(text).start()]  # the fake's text, before its first image


@pytest.fixture
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_mcp_server_is_on_by_default_and_wan26_mcp_off_turns_it_off(served, dashscope_fake, tmp_path, free_port):
    from wan26.ui import build_app

    assert [tool["name"] for tool in httpx.get(f"{served}gradio_api/mcp/schema").json()] == list(DOCUMENTED)
    studio = build_app({**dashscope_fake.env(), "WAN26_MCP": "off", "WAN26_OUTPUT_DIR": str(tmp_path)})
    _, url, _ = studio.launch(prevent_thread_lock=True, quiet=True, server_port=free_port)
    try:
        assert httpx.get(f"{url}gradio_api/mcp/schema").status_code == 404
        assert httpx.get(f"{url}gradio_api/info").json()["named_endpoints"]  # the app itself is up
    finally:
        studio.blocks.close()
