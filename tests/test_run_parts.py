"""The parts of a run (wan26/_run/), each on its own: no fake server, HTTP answered in-process."""

import asyncio
import contextlib
import json

import httpx
import pytest

from fakes.pngs import png_bytes
from wan26._http import Http, RetryPolicy, Timeouts
from wan26._pool import new_http_client
from wan26._run.checks import wire_request
from wan26._run.collect import OutputLog, collected
from wan26._run.downloads import Downloads
from wan26._run.flows import fanned_out_failure, single_image_wires
from wan26._run.produced import Produced
from wan26.errors import BadRequest, InvalidRequest, ProviderFailure, RateLimited
from wan26.providers import get_adapter
from wan26.providers._base import OutputImage, OutputText, ProviderOutput, WireRequest
from wan26.storage import RunFolder
from wan26.types import ImageOffered, ImageRequest, ImageSaved, Mode, Phase, Progress, Size, TextDelta

DASHSCOPE = get_adapter("dashscope")
PNG = png_bytes(64, 48)
KEY = "sk-test-0123456789"


def test_the_checks_report_every_problem_at_once_before_anything_is_sent():
    request = ImageRequest(Mode.TEXT_TO_IMAGE, "x" * 3000, size=Size(100, 100), n=9)
    limits = DASHSCOPE.facts.limits_of()[Mode.TEXT_TO_IMAGE]
    with pytest.raises(InvalidRequest) as refused:
        asyncio.run(wire_request(request, limits, DASHSCOPE.facts.image_rules_of()))
    assert {violation.field for violation in refused.value.violations} >= {"prompt", "size", "n"}


def test_the_checks_prepare_the_references_and_draw_a_seed():
    limits = DASHSCOPE.facts.limits_of()[Mode.EDIT]
    request = ImageRequest(Mode.EDIT, "in blue", images=(png_bytes(320, 240),))
    wire = asyncio.run(wire_request(request, limits, DASHSCOPE.facts.image_rules_of()))
    assert wire.seed is not None and len(wire.images) == 1


def test_one_image_per_call_gets_consecutive_seeds():
    wire = WireRequest(ImageRequest(Mode.TEXT_TO_IMAGE, "a fox", n=3), (), 2_147_483_646)
    wires = single_image_wires(wire)
    assert [(one.request.n, one.seed) for one in wires] == [(1, 2_147_483_646), (1, 2_147_483_647), (1, 0)]


def test_parts_add_up_and_a_whole_output_replaces():
    log = OutputLog()
    log.take(Produced(ProviderOutput((OutputText("a"),), "r1", cost_usd=0.01), part=True), "key")
    log.take(Produced(ProviderOutput((OutputImage("u", seed=5),), "r2", cost_usd=0.02), part=True), "key")
    assert (len(log.output.items), log.request_ids, log.seeds) == (2, ["r1", "r2"], {"u": 5})
    assert round(log.cost_usd, 3) == 0.03
    log.take(Produced(ProviderOutput((), "r3", cost_usd=0.05)), "key")
    assert (log.output.items, log.cost_usd, log.output.request_id) == ((), 0.05, "r3")


class Scene:
    """A run's collecting end: images served in-process, each after `delay` seconds."""

    def __init__(self, tmp_path, delay=0.0, status=200):
        async def serve(request):
            await asyncio.sleep(delay)
            return httpx.Response(status, content=PNG if status == 200 else b"gone")

        client = httpx.AsyncClient(transport=httpx.MockTransport(serve))
        self.http = Http(client, DASHSCOPE, RetryPolicy(max_retries=0), Timeouts(), asyncio.sleep)
        self.folder = RunFolder(tmp_path, "test")
        self.log = OutputLog()
        self.downloads = Downloads(self.http, self.folder, KEY, lambda url: None)

    def events(self, source):
        return collected(source, self.log, self.downloads, KEY, lambda: None)


def _chunks(*outputs, then=None):
    async def source():
        for output in outputs:
            yield Progress(Phase.WAITING, "generating")
            yield Produced(output, part=True)
        if then is not None:
            raise then

    return source()


def _stream():
    return _chunks(
        ProviderOutput((OutputText("step 1 "), OutputImage("https://oss.example/1.png"))),
        ProviderOutput((OutputText("step 2"),)),
    )


def test_text_after_an_image_is_passed_on_before_the_image_is_saved(tmp_path):
    scene = Scene(tmp_path, delay=0.3)

    async def run():
        return [event async for event in scene.events(_stream())]

    kinds = [type(event).__name__ for event in asyncio.run(run()) if not isinstance(event, Progress)]
    assert kinds == ["TextDelta", "ImageOffered", "TextDelta", "ImageSaved"]
    assert scene.log.parts == ["step 1 ", 1, "step 2"]
    assert (tmp_path / scene.folder.path.name / "01.png").read_bytes() == PNG


def test_a_flow_error_comes_after_its_images_are_saved(tmp_path):
    scene = Scene(tmp_path, delay=0.2)
    failure = ProviderFailure("the stream broke", provider="dashscope")
    seen = []

    async def run():
        one_image = ProviderOutput((OutputImage("https://oss.example/1.png"),))
        async for event in scene.events(_chunks(one_image, then=failure)):
            seen.append(event)

    with pytest.raises(ProviderFailure):
        asyncio.run(run())
    assert any(isinstance(event, ImageSaved) for event in seen) and len(scene.downloads.images) == 1


def test_an_image_that_cannot_be_fetched_keeps_its_url(tmp_path):
    scene = Scene(tmp_path, status=404)

    async def run():
        return [event async for event in scene.events(_stream())]

    events = asyncio.run(run())
    assert not any(isinstance(event, ImageSaved) for event in events)
    assert scene.downloads.unsaved_urls() == ("https://oss.example/1.png",)


def test_stopping_while_an_image_downloads_keeps_its_url(tmp_path):
    scene = Scene(tmp_path, delay=5.0)

    async def run():
        events = scene.events(_stream())
        async for event in events:
            if isinstance(event, ImageOffered):
                break
        await events.aclose()  # what Stop and Ctrl-C do to a run
        await asyncio.sleep(0)

    asyncio.run(run())
    scene.downloads.note_stopped()
    assert scene.downloads.failed == [
        {"index": 1, "source_url": "https://oss.example/1.png", "error": "stopped before it was saved"}
    ]
    assert not any(path.suffix == ".png" for path in tmp_path.rglob("*"))


def test_the_run_record_is_one_key_per_line_and_valid_json(tmp_path):
    folder = RunFolder(tmp_path, "test")
    path = folder.write_sidecar({"prompt": "café ✓", "images": [{"index": 1}], "error": None})
    text = path.read_text()
    assert json.loads(text) == {"prompt": "café ✓", "images": [{"index": 1}], "error": None}
    assert text.splitlines()[1] == '  "prompt": "café ✓",'


def test_text_deltas_are_masked_when_they_quote_the_key(tmp_path):
    scene = Scene(tmp_path)

    async def run():
        return [e async for e in scene.events(_chunks(ProviderOutput((OutputText(f"your key is {KEY}"),))))]

    texts = [event.text for event in asyncio.run(run()) if isinstance(event, TextDelta)]
    assert texts == ["your key is [key hidden]"]


def test_stopping_keeps_what_the_flow_had_read_but_not_yet_passed_on(tmp_path):
    """Stop lands just as the vendor's next chunk has been read (while image 1 still downloads, the
    flow is read beside it): that chunk's image URL is still recorded, never dropped."""
    scene = Scene(tmp_path, delay=5.0)

    async def run():
        consumer = asyncio.current_task()

        async def source():
            yield Produced(ProviderOutput((OutputImage("https://oss.example/1.png"),)), part=True)
            consumer.cancel()  # Stop, pressed while the next chunk is being read
            yield Produced(ProviderOutput((OutputText("step 2"), OutputImage("https://oss.example/2.png"))), part=True)

        with contextlib.suppress(asyncio.CancelledError):
            async for _ in scene.events(source()):
                pass

    asyncio.run(run())
    scene.downloads.note_stopped()
    assert [entry["source_url"] for entry in scene.downloads.failed] == [
        "https://oss.example/1.png",
        "https://oss.example/2.png",
    ]
    assert scene.log.parts == [1, "step 2", 2]


def test_a_shared_client_never_hands_one_visitors_cookie_to_another():
    sent = []

    async def vendor(request):
        sent.append(request.headers.get("cookie"))
        return httpx.Response(200, json={}, headers={"set-cookie": "session=visitor-a; Path=/"})

    async def two_visitors():
        async with new_http_client(httpx.MockTransport(vendor)) as shared:
            await shared.get("https://api.example/first", headers={"authorization": "Bearer key-a"})
            with pytest.raises(TypeError):  # nor can code of ours put one in by hand
                shared.cookies.update({"session": "visitor-a"})
            async with new_http_client(httpx.MockTransport(vendor)) as other:  # clients share the empty jar
                await other.get("https://api.example/second", headers={"authorization": "Bearer key-b"})

    asyncio.run(two_visitors())
    assert sent == [None, None]


def test_a_saved_image_is_announced_while_the_stream_is_silent(tmp_path):
    """The stream says nothing for a while after offering an image: the image, saved meanwhile, is
    announced then, not held back until the stream speaks again."""
    scene = Scene(tmp_path)

    async def quiet_stream():
        yield Produced(ProviderOutput((OutputImage("https://oss.example/1.png"),)), part=True)
        await asyncio.sleep(1.0)  # the vendor is still making the next part
        yield Produced(ProviderOutput((OutputText("and then"),)), part=True)

    async def run():
        events = [event async for event in scene.events(quiet_stream())]
        return [type(event).__name__ for event in events if not isinstance(event, Progress)]

    assert asyncio.run(run()) == ["ImageOffered", "ImageSaved", "TextDelta"]


def test_a_stopped_run_closes_its_flow_at_once(tmp_path):
    """Stop while the flow waits between two items: its clean-up (the key's place in line, the other
    calls of a fan-out) runs before the stop returns, not whenever it is garbage collected."""
    scene, cleaned = Scene(tmp_path), []

    async def flow():
        try:
            yield Progress(Phase.WAITING, "generating")
            yield Progress(Phase.WAITING, "still generating")
        finally:
            cleaned.append(True)

    async def run():
        events = scene.events(flow())
        await anext(events)
        await events.aclose()
        return list(cleaned)

    assert asyncio.run(run()) == [True]


def test_a_fan_out_reports_the_failure_that_may_have_cost_money():
    """One call refused unprocessed (429), another failed after the vendor took it: the run's error
    is the second, so that nobody takes the run for never sent and sends it again."""
    throttled = RateLimited("slow down", provider="aimlapi")
    broke = ProviderFailure("internal error", provider="aimlapi")
    refused = BadRequest("bad size", provider="aimlapi")
    assert fanned_out_failure([throttled, refused, broke], calls=3) is broke
    assert fanned_out_failure([throttled, refused], calls=3) is refused
    assert "1 of 3 calls succeeded" in fanned_out_failure([throttled, broke], calls=3).hint
