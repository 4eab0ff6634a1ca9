"""The client end to end against the loopback DashScope fake: every mode, both flows, every fault."""

import asyncio
import json
import shutil

import httpx
import pytest
from PIL import Image

import wan26
from wan26 import (
    AsyncClient,
    AuthenticationError,
    ConfigError,
    ContentModerated,
    DownloadError,
    Flow,
    ImageOffered,
    ImageRequest,
    ImageSaved,
    InvalidRequest,
    Mode,
    Model,
    NetworkError,
    Progress,
    ProtocolError,
    ProviderError,
    ProviderFailure,
    ProviderTimeout,
    Size,
    SizeTier,
    TextDelta,
)
from wan26._http import Timeouts
from wan26._poll import PollPolicy
from wan26.storage import SPARES

FAST_POLL = PollPolicy(first_interval=0.01, growth=1.0, max_interval=0.01, deadline=30)


class Clock:
    """A clock that moves only when the code under test sleeps: deadlines without waiting."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self):
        return self.now

    async def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def outputs(tmp_path):
    return tmp_path / "outputs"


@pytest.fixture
def client_for(dashscope_fake, outputs):
    """Run `scenario(client)` against the fake with a fresh AsyncClient."""

    def run(scenario, **options):
        async def go():
            settings = {
                "api_key": dashscope_fake.api_key,
                "base_url": dashscope_fake.base_url,
                "output_dir": outputs,
                "poll": FAST_POLL,
                **options,
            }
            async with AsyncClient(**settings) as client:
                return await scenario(client)

        return asyncio.run(go())

    return run


def generate(client_for, request, flow=Flow.DIRECT, **options):
    events = []

    async def scenario(client):
        return await client.generate(request, flow=flow, on_event=events.append)

    return client_for(scenario, **options), events


@pytest.fixture
def photo(tmp_path):
    """A 400x300 PNG with transparency: the API refuses alpha, so the fake proves it was flattened."""
    path = tmp_path / "photo.png"
    Image.new("RGBA", (400, 300), (200, 30, 30, 128)).save(path)
    return path


def sent_parameters(fake):
    [request] = fake.generation_requests()
    return request.json["parameters"]


REQUESTS = {
    Mode.TEXT_TO_IMAGE: lambda photo: ImageRequest(Mode.TEXT_TO_IMAGE, "a lighthouse", size=Size(1280, 1280), n=2),
    Mode.EDIT: lambda photo: ImageRequest(Mode.EDIT, "image 1 as a watercolour", images=(photo,), n=2),
    Mode.INTERLEAVE: lambda photo: ImageRequest(Mode.INTERLEAVE, "a 2-step recipe", images=(photo,), max_images=2),
    Mode.IMAGE_SET: lambda photo: ImageRequest(Mode.IMAGE_SET, "four seasons", images=(photo,), n=2, model=Model.WAN27),
}


@pytest.mark.parametrize("flow", list(Flow))
@pytest.mark.parametrize("mode", list(Mode))
def test_every_mode_through_both_flows_saves_provider_bytes_and_a_sidecar(
    client_for, dashscope_fake, photo, mode, flow
):
    result, _ = generate(client_for, REQUESTS[mode](photo), flow)

    assert len(result.images) == 2
    for image in result.images:
        served = httpx.get(image.source_url).content
        assert image.path.read_bytes() == served  # exactly the provider's bytes, not a re-encode
        assert image.path.suffix == ".png" and Image.open(image.path).size == (image.width, image.height)
    assert result.seed == sent_parameters(dashscope_fake)["seed"]
    record = json.loads(result.sidecar.read_text())
    assert record["status"] == "succeeded"
    assert (record["mode"], record["provider"], record["flow"]) == (mode.value, "dashscope", flow.value)
    assert record["seed"] == result.seed and record["request_id"] == result.request_id
    assert [entry["file"] for entry in record["images"]] == ["01.png", "02.png"]
    assert all(entry["source_url"].startswith("http://127.0.0.1") for entry in record["images"])
    assert record["size"]["actual"] == result.size and record["usage"]["image_count"] == 2
    assert (record["task_id"] is not None) is (flow is Flow.TASK)


def test_interleave_keeps_text_and_images_in_order_through_awkward_chunks(client_for, dashscope_fake):
    dashscope_fake.sse_chunk_size = 7  # splits events, lines and UTF-8 characters across reads
    result, events = generate(client_for, ImageRequest(Mode.INTERLEAVE, "a recipe", max_images=2))

    kinds = [type(event).__name__ for event in events if isinstance(event, TextDelta | ImageSaved)]
    first_image = kinds.index("ImageSaved")
    assert kinds[0] == "TextDelta" and first_image > 1 and kinds.count("ImageSaved") == 2
    assert result.text == "".join(event.text for event in events if isinstance(event, TextDelta))
    assert "准备食材" in result.text and "café ✓" in result.text
    segment_kinds = [type(segment).__name__ for segment in result.segments]
    assert segment_kinds == ["TextSegment", "ImageSegment", "TextSegment", "ImageSegment", "TextSegment"]
    record = json.loads(result.sidecar.read_text())
    assert record["text"] == result.text
    assert [s.get("file") for s in record["segments"] if s["type"] == "image"] == ["01.png", "02.png"]


def test_interleaved_text_is_not_held_back_by_a_slow_download(client_for, dashscope_fake):
    dashscope_fake.delay("download", 1.0, times=2)
    result, events = generate(client_for, ImageRequest(Mode.INTERLEAVE, "a recipe", max_images=2))

    picked = [type(event).__name__ for event in events if isinstance(event, TextDelta | ImageOffered | ImageSaved)]
    kinds = [kind for i, kind in enumerate(picked) if i == 0 or kind != picked[i - 1] or kind != "TextDelta"]
    # Every text and image place arrives while the images are still downloading; the record keeps the order.
    assert kinds[:5] == ["TextDelta", "ImageOffered", "TextDelta", "ImageOffered", "TextDelta"]
    assert kinds[5:] == ["ImageSaved", "ImageSaved"]
    assert [type(segment).__name__ for segment in result.segments] == [
        "TextSegment",
        "ImageSegment",
        "TextSegment",
        "ImageSegment",
        "TextSegment",
    ]


def test_stream_events_reach_the_caller_before_the_stream_ends(tmp_path):
    """The second event is held back until the caller has seen the first: buffering would deadlock."""
    gate = asyncio.Event()

    def event(text, finish):
        payload = {
            "output": {
                "choices": [
                    {
                        "finish_reason": finish,
                        "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
                    }
                ],
                "finished": finish == "stop",
            },
            "usage": {},
            "request_id": "r-1",
        }
        return f"id:1\nevent:result\n:HTTP_STATUS/200\ndata:{json.dumps(payload)}\n\n".encode()

    class GatedStream(httpx.AsyncByteStream):
        async def __aiter__(self):
            yield event("first ", "null")
            await gate.wait()
            yield event("second", "stop")

    def handler(request):
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=GatedStream())

    async def go():
        seen = []
        async with AsyncClient(
            api_key="k", base_url="http://fake.test/api/v1", output_dir=tmp_path, transport=httpx.MockTransport(handler)
        ) as client:
            async for item in client.events(ImageRequest(Mode.INTERLEAVE, "hi")):
                if isinstance(item, TextDelta):
                    seen.append((item.text, gate.is_set()))
                    gate.set()
        return seen

    assert asyncio.run(asyncio.wait_for(go(), timeout=10)) == [("first ", False), ("second", True)]


def test_explicit_seed_is_sent_and_reported(client_for, dashscope_fake):
    result, _ = generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox", seed=42))
    assert sent_parameters(dashscope_fake)["seed"] == 42 == result.seed


def test_edit_reference_image_goes_as_a_flattened_data_uri(client_for, dashscope_fake, photo):
    result, _ = generate(client_for, ImageRequest(Mode.EDIT, "image 1 at night", images=(photo,), size=SizeTier.K1))
    [request] = dashscope_fake.generation_requests()
    image_item = request.json["input"]["messages"][0]["content"][1]
    assert image_item["image"].startswith("data:image/png;base64,")
    record = json.loads(result.sidecar.read_text())
    assert record["reference_images"][0]["label"] == "photo.png"
    assert "base64" not in result.sidecar.read_text()


def test_throttled_generation_waits_as_told_and_is_billed_once(client_for, dashscope_fake):
    dashscope_fake.fail_next(429, "Throttling.RateQuota", "Requests rate limit exceeded", retry_after=1)
    clock = Clock()
    result, _ = generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), sleep=clock.sleep, clock=clock)
    assert len(result.images) == 1
    assert len(dashscope_fake.generation_requests()) == 2  # the first was refused unprocessed
    assert clock.sleeps == [1.0]


@pytest.mark.parametrize("flow", list(Flow))
def test_generation_that_failed_on_the_server_is_not_resubmitted(client_for, dashscope_fake, flow):
    dashscope_fake.fail_next(500, "InternalError", "An internal error has occured")
    with pytest.raises(ProviderFailure) as caught:
        generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), flow)
    assert len(dashscope_fake.generation_requests()) == 1
    assert caught.value.code == "InternalError" and caught.value.request_id
    assert "Request id: " + caught.value.request_id in str(caught.value)


def test_slow_generation_times_out_without_resubmitting(client_for, dashscope_fake):
    dashscope_fake.delay("generate", 2.0)
    with pytest.raises(ProviderTimeout):
        generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), timeouts=Timeouts(generate=httpx.Timeout(0.3)))
    assert len(dashscope_fake.generation_requests()) == 1


def test_moderation_is_reported_plainly_and_nothing_is_saved(client_for, dashscope_fake, outputs):
    dashscope_fake.fail_next(400, "DataInspectionFailed", "Input or output data may contain inappropriate content.")
    with pytest.raises(ContentModerated) as caught:
        generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "something"))
    assert "Rephrase" in str(caught.value) and caught.value.partial_result is None
    assert not outputs.exists()


def test_wrong_key_says_to_check_the_region_and_never_shows_the_key(dashscope_fake, outputs):
    async def go():
        async with AsyncClient(
            api_key="sk-wrong-key-123456", base_url=dashscope_fake.base_url, output_dir=outputs
        ) as client:
            await client.generate(ImageRequest(Mode.TEXT_TO_IMAGE, "fox"))

    with pytest.raises(AuthenticationError) as caught:
        asyncio.run(go())
    assert "DASHSCOPE_REGION" in str(caught.value) and "sk-wrong-key-123456" not in str(caught.value)


def test_stream_error_mid_way_keeps_what_arrived(client_for, dashscope_fake):
    dashscope_fake.stream_fault = ("error", "DataInspectionFailed", "Output data may be inappropriate.", 20)
    with pytest.raises(ContentModerated) as caught:
        generate(client_for, ImageRequest(Mode.INTERLEAVE, "a recipe", max_images=3))
    partial = caught.value.partial_result
    assert partial is not None and partial.text and len(partial.images) >= 1
    assert all(image.path.exists() for image in partial.images)
    record = json.loads(partial.sidecar.read_text())
    assert record["status"] == "failed" and record["error"]["code"] == "DataInspectionFailed"
    assert record["text"] == partial.text


def test_stream_cut_keeps_what_arrived(client_for, dashscope_fake):
    dashscope_fake.stream_fault = ("cut", 20)
    with pytest.raises((ProtocolError, NetworkError)) as caught:
        generate(client_for, ImageRequest(Mode.INTERLEAVE, "a recipe", max_images=3))
    partial = caught.value.partial_result
    assert partial is not None and len(partial.images) >= 1
    assert json.loads(partial.sidecar.read_text())["status"] == "failed"


def test_task_reports_each_status_while_waiting(client_for, dashscope_fake):
    dashscope_fake.task_script = ["PENDING", "RUNNING", "RUNNING", "SUCCEEDED"]
    result, events = generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), Flow.TASK)
    statuses = [event.task_status for event in events if getattr(event, "task_status", None)]
    assert statuses == ["PENDING", "PENDING", "RUNNING", "RUNNING"]
    assert result.task_id and len(result.images) == 1


@pytest.mark.parametrize("shape", ["output", "top"])
def test_failed_task_reports_code_message_and_task_id(client_for, dashscope_fake, shape):
    dashscope_fake.task_script = ["RUNNING", "FAILED"]
    dashscope_fake.task_failure = ("InternalError.Algo", "Algorithm error.")
    dashscope_fake.task_failure_shape = shape
    with pytest.raises(ProviderFailure) as caught:
        generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), Flow.TASK)
    error = caught.value
    assert (error.code, error.message) == ("InternalError.Algo", "Algorithm error.")
    assert error.task_id and f"Task id: {error.task_id}" in str(error)


def test_canceled_task_ends_with_a_clear_error(client_for, dashscope_fake):
    dashscope_fake.task_script = ["CANCELED"]
    with pytest.raises(ProviderFailure, match="canceled"):
        generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), Flow.TASK)


def test_the_client_names_a_runs_folder_from_its_start_even_if_it_is_stopped(client_for, dashscope_fake, outputs):
    """A caller that stops a run (the app's Stop) still finds the record it leaves behind."""
    dashscope_fake.task_script = ["PENDING", "RUNNING", "RUNNING", "SUCCEEDED"]
    request = ImageRequest(Mode.TEXT_TO_IMAGE, "a lighthouse", size=Size(1280, 1280))

    async def scenario(client):
        assert client.run_dir is None
        events = client.events(request, flow=Flow.TASK)
        named = client.run_dir
        async for event in events:
            if isinstance(event, Progress) and event.task_id:
                await events.aclose()  # stopped while its task runs at the vendor
                break
        return named

    folder = client_for(scenario)
    assert folder.parent == outputs
    assert json.loads((folder / "run.json").read_text())["status"] == "stopped"


def test_a_run_stopped_while_its_image_downloads_records_why_it_is_not_saved(client_for, dashscope_fake):
    """Stop while the image downloads: its record keeps the URL and says the run was stopped, not
    that a client was closed."""
    dashscope_fake.delay("download", 5.0)

    async def scenario(client):
        events = client.events(ImageRequest(Mode.TEXT_TO_IMAGE, "a lighthouse"))
        async for event in events:
            if isinstance(event, ImageOffered):
                await events.aclose()  # what Stop does
                break
        return client.run_dir

    record = json.loads((client_for(scenario) / "run.json").read_text())
    assert record["status"] == "stopped"
    assert [entry["error"] for entry in record["failed_downloads"]] == ["stopped before it was saved"]
    assert record["failed_downloads"][0]["source_url"].startswith(dashscope_fake.base_url.split("/api")[0])


def test_fetching_an_unknown_task_explains_expiry(client_for):
    async def scenario(client):
        return await client.fetch("no-such-task", Mode.EDIT)

    with pytest.raises(ProviderFailure, match="does not know this task") as caught:
        client_for(scenario)
    assert "24 hours" in str(caught.value)


def test_poll_failures_are_retried_and_the_task_is_not_resubmitted(client_for, dashscope_fake):
    dashscope_fake.fail_next(503, "ServiceUnavailable", "try later", times=2, target="poll")
    result, _ = generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), Flow.TASK)
    assert len(result.images) == 1 and len(dashscope_fake.generation_requests()) == 1


def test_a_task_whose_polls_keep_failing_is_written_down_with_how_to_fetch_it(client_for, dashscope_fake):
    dashscope_fake.fail_next(500, "InternalError", "oops", times=10_000, target="poll")
    clock = Clock()
    with pytest.raises(ProviderTimeout) as caught:  # polls go on to the deadline: the task may be running
        generate(
            client_for,
            ImageRequest(Mode.TEXT_TO_IMAGE, "fox"),
            Flow.TASK,
            sleep=clock.sleep,
            clock=clock,
            poll=PollPolicy(deadline=60),
        )
    error = caught.value
    assert "status could not be read" in error.message and "oops" in error.message
    command = f"python -m wan26 fetch {error.task_id} --mode text_to_image --provider dashscope"
    assert error.task_id and command in error.hint  # the task may still be billed: it is not lost
    record = json.loads(error.partial_result.sidecar.read_text())
    assert (record["status"], record["task_id"]) == ("still_running", error.task_id)
    assert len(dashscope_fake.generation_requests()) == 1


def test_a_task_that_ends_failed_is_not_called_still_running(client_for, dashscope_fake):
    dashscope_fake.task_script = ["RUNNING", "FAILED"]
    with pytest.raises(ProviderError) as caught:
        generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), Flow.TASK)
    assert "wan26 fetch" not in str(caught.value)


def test_stopping_while_a_task_runs_writes_it_down(client_for, dashscope_fake, outputs):
    dashscope_fake.task_script = ["RUNNING"]

    async def stop_while_waiting(client):
        running = asyncio.Event()

        async def follow():
            async for event in client.events(ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), flow=Flow.TASK):
                if getattr(event, "task_status", None) == "RUNNING":
                    running.set()

        run = asyncio.create_task(follow())
        await running.wait()
        run.cancel()  # what the app's Stop does to a run
        with pytest.raises(asyncio.CancelledError):
            await run

    client_for(stop_while_waiting)
    [sidecar] = list(outputs.rglob("run.json"))
    record = json.loads(sidecar.read_text())
    assert record["status"] == "stopped" and record["task_id"] in dashscope_fake.tasks


def test_a_stopped_task_fetched_into_its_folder_is_one_run_with_its_prompt(client_for, dashscope_fake, outputs):
    dashscope_fake.task_script = ["RUNNING"]
    request = ImageRequest(Mode.TEXT_TO_IMAGE, "fox in snow", negative_prompt="blur", seed=7)

    async def stop_then_fetch(client):
        running = asyncio.Event()

        async def follow():
            async for event in client.events(request, flow=Flow.TASK):
                if getattr(event, "task_status", None) == "RUNNING":
                    running.set()

        run = asyncio.create_task(follow())
        await running.wait()
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
        sent_in = client.run_dir
        task_id = json.loads((sent_in / "run.json").read_text())["task_id"]
        dashscope_fake.tasks[task_id].script.append("SUCCEEDED")
        return sent_in, await client.fetch(task_id, Mode.TEXT_TO_IMAGE, into=sent_in)

    sent_in, result = client_for(stop_then_fetch)
    [sidecar] = list(outputs.rglob("run.json"))  # no second run in History for the same task
    record = json.loads(sidecar.read_text())
    assert sidecar.parent == sent_in and result.images[0].path.parent == sent_in
    assert (record["status"], record["prompt"], record["negative_prompt"], record["seed"]) == (
        "succeeded",
        "fox in snow",
        "blur",
        7,
    )


def test_a_stopped_task_is_saved_even_when_its_folder_was_deleted_meanwhile(client_for, dashscope_fake, outputs):
    """History's Delete removed the stopped run while its task went on: the image it was paid for
    is still saved, with its record, in a folder of its own."""
    dashscope_fake.task_script = ["RUNNING"]

    async def stop_delete_then_fetch(client):
        events = client.events(ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), flow=Flow.TASK)
        async for event in events:
            if getattr(event, "task_status", None) == "RUNNING":
                break
        await events.aclose()
        sent_in = client.run_dir
        task_id = json.loads((sent_in / "run.json").read_text())["task_id"]
        shutil.rmtree(sent_in)
        dashscope_fake.tasks[task_id].script.append("SUCCEEDED")
        return sent_in, await client.fetch(task_id, Mode.TEXT_TO_IMAGE, into=sent_in)

    sent_in, result = client_for(stop_delete_then_fetch)
    [image] = result.images
    assert image.path.is_file() and image.path.is_relative_to(outputs)
    assert json.loads((image.path.parent / "run.json").read_text())["status"] == "succeeded"


def test_waiting_stops_at_the_deadline_and_says_how_to_fetch_later(client_for, dashscope_fake):
    dashscope_fake.task_script = ["RUNNING"]
    clock = Clock()
    poll = PollPolicy(first_interval=1, growth=2, max_interval=8, deadline=60)
    with pytest.raises(ProviderTimeout) as caught:
        generate(
            client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), Flow.TASK, poll=poll, sleep=clock.sleep, clock=clock
        )
    task_id = caught.value.task_id
    assert task_id and f"python -m wan26 fetch {task_id}" in str(caught.value)
    assert clock.sleeps[:5] == [1, 2, 4, 8, 8] and clock.now <= 60
    assert len(dashscope_fake.generation_requests()) == 1

    # ...and once the task has finished, `fetch` saves it.
    dashscope_fake.tasks[task_id].script.append("SUCCEEDED")

    async def later(client):
        return await client.fetch(task_id, Mode.TEXT_TO_IMAGE)

    assert len(client_for(later).images) == 1


def test_failed_download_names_the_url_and_keeps_the_rest(client_for, dashscope_fake, outputs):
    dashscope_fake.fail_next(404, "NotFound", "gone", target="download")
    with pytest.raises(DownloadError) as caught:
        generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox", n=2))
    error = caught.value
    assert len(error.urls) == 1 and error.urls[0] in str(error)
    partial = error.partial_result
    assert len(partial.images) == 1 and partial.images[0].path.exists()
    assert json.loads(partial.sidecar.read_text())["failed_downloads"][0]["source_url"] == error.urls[0]
    SPARES.discard()  # as at exit: the next run's folder, made ahead
    assert not list(outputs.rglob(".partial-*"))


def test_a_download_that_fails_once_is_retried(client_for, dashscope_fake):
    dashscope_fake.fail_next(500, "InternalError", "blip", target="download")
    result, _ = generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), sleep=Clock().sleep)
    assert len(result.images) == 1


def test_invalid_requests_never_reach_the_provider(client_for, dashscope_fake, tmp_path):
    not_an_image = tmp_path / "notes.txt"
    not_an_image.write_text("hello")
    for request in (
        ImageRequest(Mode.TEXT_TO_IMAGE, "x" * 2101),
        ImageRequest(Mode.INTERLEAVE, "fox", size=Size(2048, 2048)),
        ImageRequest(Mode.EDIT, "image 1 in blue", images=(not_an_image,)),
    ):
        with pytest.raises(InvalidRequest):
            generate(client_for, request)
    assert dashscope_fake.requests == []


def test_runs_never_share_a_folder_and_leave_no_partial_files(client_for, outputs):
    first, _ = generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"))
    second, _ = generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"))
    assert first.run_dir != second.run_dir
    SPARES.discard()  # as at exit: the next run's folder, made ahead
    assert not list(outputs.rglob(".partial-*")) and not list(outputs.glob(".*"))


def test_the_key_is_never_written_to_disk_or_messages(client_for, dashscope_fake, outputs, photo):
    generate(client_for, REQUESTS[Mode.EDIT](photo), Flow.TASK)
    generate(client_for, REQUESTS[Mode.INTERLEAVE](photo))
    dashscope_fake.fail_next(400, "InvalidParameter", "bad")
    with pytest.raises(wan26.BadRequest) as caught:
        generate(client_for, REQUESTS[Mode.TEXT_TO_IMAGE](photo))
    written = b"".join(path.read_bytes() for path in outputs.rglob("*") if path.is_file())
    assert dashscope_fake.api_key.encode() not in written
    assert dashscope_fake.api_key not in str(caught.value) + repr(caught.value)


def test_missing_key_is_a_config_error_naming_the_variable(monkeypatch):
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="DASHSCOPE_API_KEY"):
        AsyncClient(env={})


def test_synchronous_generate_reads_the_environment(dashscope_env, outputs):
    result = wan26.generate(ImageRequest(Mode.TEXT_TO_IMAGE, "fox"))
    assert result.images[0].path.is_relative_to(outputs)


def test_a_malformed_key_is_refused_before_sending_and_never_echoed(dashscope_fake, outputs):
    for bad in ("sk-secret-AAAA\nBBBB", "sk-sécret-0000", "sk-with space"):
        with pytest.raises(ConfigError, match="Alibaba Cloud DashScope key given is not a valid key") as caught:
            AsyncClient(api_key=bad, base_url=dashscope_fake.base_url, output_dir=outputs)
        assert bad not in str(caught.value) and "AAAA" not in str(caught.value)


def mock_client(tmp_path, handler, **options):
    return AsyncClient(
        api_key="sk-k",
        base_url="http://fake.test/api/v1",
        output_dir=tmp_path,
        transport=httpx.MockTransport(handler),
        sleep=Clock().sleep,
        **options,
    )


def test_a_submission_refused_with_http_200_is_reported_and_never_polled(tmp_path):
    seen = []

    def handler(request):
        seen.append(request.method)
        return httpx.Response(
            200, json={"code": "Arrearage", "message": "Access denied, account in arrears.", "request_id": "r-a"}
        )

    async def go():
        async with mock_client(tmp_path, handler) as client:
            await client.generate(ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), flow=Flow.TASK)

    with pytest.raises(wan26.PermissionDenied) as caught:
        asyncio.run(go())
    assert (caught.value.code, caught.value.request_id, seen) == ("Arrearage", "r-a", ["POST"])


def test_image_problems_and_limit_problems_are_reported_together(client_for, dashscope_fake, tmp_path):
    tiny, text = tmp_path / "tiny.png", tmp_path / "notes.txt"
    Image.new("RGB", (100, 100)).save(tiny)
    text.write_text("hello")
    request = ImageRequest(Mode.EDIT, "x", images=(tiny, text), size=Size(4000, 4000), n=5)
    with pytest.raises(InvalidRequest) as caught:
        generate(client_for, request)
    assert {v.field for v in caught.value.violations} == {"image 1", "image 2", "size", "n"}
    assert dashscope_fake.requests == []


def test_a_script_passing_values_of_the_wrong_type_is_told_which_fields_before_anything_is_sent(
    client_for, dashscope_fake
):
    """A size written as text, a count as text, a seed as a fraction: each field named with what it
    must be, instead of a crash from deep inside the checks."""
    request = ImageRequest(Mode.TEXT_TO_IMAGE, "fox", size="1280*1280", n="2", seed=1.5, watermark="no")
    with pytest.raises(InvalidRequest) as caught:
        generate(client_for, request)
    said = {violation.field: violation.message for violation in caught.value.violations}
    assert set(said) == {"size", "n", "seed", "watermark"}
    assert "'1280*1280'" in said["size"] and "parse_size" in said["size"]
    assert said["n"].startswith("must be a whole number")
    assert dashscope_fake.requests == []


def test_an_unwritable_output_folder_is_refused_before_anything_is_billed(client_for, dashscope_fake, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="WAN26_OUTPUT_DIR"):
        generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), output_dir=blocker / "outputs")
    assert dashscope_fake.requests == []


def test_all_images_of_a_result_download_at_the_same_time(tmp_path):
    """Each download waits until both have started: downloading one after the other would hang."""
    both_started = asyncio.Event()
    started = []
    choices = [
        {
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": [{"type": "image", "image": f"http://files.test/{n}.png"}]},
        }
        for n in (1, 2)
    ]
    png = _png_bytes()

    async def handler(request):
        if request.url.host == "files.test":
            started.append(request.url.path)
            if len(started) == 2:
                both_started.set()
            await both_started.wait()
            return httpx.Response(200, content=png)
        return httpx.Response(200, json={"output": {"choices": choices}, "usage": {}, "request_id": "r"})

    async def go():
        async with mock_client(tmp_path, handler) as client:
            return await client.generate(ImageRequest(Mode.TEXT_TO_IMAGE, "fox", n=2))

    result = asyncio.run(asyncio.wait_for(go(), timeout=10))
    assert [image.index for image in result.images] == [1, 2]


def _png_bytes():
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_a_call_that_outlasts_the_overall_limit_times_out_without_resubmitting(client_for, dashscope_fake):
    dashscope_fake.delay("generate", 2.0)
    with pytest.raises(ProviderTimeout, match="longer than 0.5 s"):
        generate(client_for, ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), timeouts=Timeouts(total=0.5))
    assert len(dashscope_fake.generation_requests()) == 1


def test_a_task_still_running_at_the_deadline_is_recorded_with_its_prompt_and_seed(client_for, dashscope_fake):
    dashscope_fake.task_script = ["RUNNING"]
    clock = Clock()
    with pytest.raises(ProviderTimeout) as caught:
        generate(
            client_for,
            ImageRequest(Mode.EDIT, "image 1 at night", images=("https://example.com/a.png",)),
            Flow.TASK,
            poll=PollPolicy(deadline=30),
            sleep=clock.sleep,
            clock=clock,
        )
    error = caught.value
    assert f"fetch {error.task_id} --mode edit" in str(error)
    record = json.loads(error.partial_result.sidecar.read_text())
    assert (record["status"], record["task_id"], record["prompt"]) == (
        "still_running",
        error.task_id,
        "image 1 at night",
    )
    assert record["seed"] == dashscope_fake.generation_requests()[0].json["parameters"]["seed"]


def test_the_run_record_holds_everything_needed_to_repeat_the_run(client_for, dashscope_fake):
    request = ImageRequest(
        Mode.TEXT_TO_IMAGE,
        "a fox",
        negative_prompt="blur",
        size=Size(1280, 1280),
        n=1,
        seed=9,
        prompt_extend=False,
        watermark=True,
    )
    result, _ = generate(client_for, request)
    record = json.loads(result.sidecar.read_text())
    assert set(record) == {
        "status",
        "fetched_task",
        "mode",
        "provider",
        "model",
        "wan_model",
        "flow",
        "prompt",
        "negative_prompt",
        "parameters",
        "seed",
        "size",
        "request_id",
        "request_ids",
        "task_id",
        "usage",
        "cost_usd",
        "timings",
        "reference_images",
        "images",
        "failed_downloads",
        "text",
        "segments",
        "notes",
        "error",
    }
    assert (record["prompt"], record["negative_prompt"], record["model"]) == ("a fox", "blur", "wan2.6-t2i")
    assert record["parameters"] == {"size": "1280x1280", "seed": 9, "watermark": True, "n": 1, "prompt_extend": False}
    assert set(record["timings"]) == {"started_at", "finished_at", "elapsed_s", "provider_s"}
    assert record["size"] == {"requested": "1280x1280", "actual": "1280*1280"}
    assert record["cost_usd"] is None  # DashScope reports no charge
    assert [image["seed"] for image in record["images"]] == [9]


def test_synchronous_generate_explains_itself_inside_an_event_loop():
    async def inside():
        wan26.generate(ImageRequest(Mode.TEXT_TO_IMAGE, "fox"), api_key="k")

    with pytest.raises(RuntimeError, match="AsyncClient"):
        asyncio.run(inside())
