"""Retry rules: only what cannot bill twice is repeated, and the server's Retry-After is honoured."""

import asyncio

import httpx
import pytest

from wan26 import ConnectionFailed, NetworkError, ProviderFailure, ProviderTimeout, RateLimited
from wan26._http import Http, RetryPolicy, Timeouts, retry_delay, should_retry
from wan26.providers._base import HttpCall
from wan26.providers.dashscope import DashScope

POLICY = RetryPolicy(max_retries=3)
FAIL = {"provider": "dashscope"}


@pytest.mark.parametrize(
    ("error", "post", "get"),
    [
        (RateLimited("busy", **FAIL), True, True),
        (ConnectionFailed("refused", **FAIL), True, True),
        (ProviderFailure("500", **FAIL), False, True),
        (ProviderTimeout("slow", **FAIL), False, True),
        (NetworkError("reset", **FAIL), False, True),
    ],
)
def test_what_may_be_retried(error, post, get):
    assert should_retry(error, idempotent=False, attempt=0, policy=POLICY) is post
    assert should_retry(error, idempotent=True, attempt=0, policy=POLICY) is get


def test_retries_stop_at_the_limit():
    error = RateLimited("busy", **FAIL)
    assert should_retry(error, idempotent=True, attempt=2, policy=POLICY)
    assert not should_retry(error, idempotent=True, attempt=3, policy=POLICY)


def test_a_retry_after_longer_than_the_cap_is_not_waited_out():
    assert not should_retry(RateLimited("busy", retry_after=3600, **FAIL), idempotent=False, attempt=0, policy=POLICY)


def test_retry_delay_honours_retry_after_else_backs_off_with_jitter():
    assert retry_delay(0, 2.5, POLICY) == 2.5
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (10, 8.0)]:
        delay = retry_delay(attempt, None, POLICY)
        assert 0.75 * ceiling <= delay <= ceiling


class Recorder:
    """A scripted MockTransport handler that remembers every request and every sleep."""

    def __init__(self, *responses):
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request):
        self.requests.append(request)
        outcome = self.responses.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def sleep(self, seconds):
        self.sleeps.append(seconds)

    def send(self, call):
        async def go():
            async with httpx.AsyncClient(transport=httpx.MockTransport(self)) as client:
                return await Http(client, DashScope(), POLICY, Timeouts(), self.sleep).json(call)

        return asyncio.run(go())


POST = HttpCall("POST", "https://api.test/generate", {"Authorization": "Bearer k"}, {"x": 1})
GET = HttpCall("GET", "https://api.test/tasks/t", {"Authorization": "Bearer k"})
OK = httpx.Response(200, json={"ok": True})


def throttled(retry_after="2"):
    return httpx.Response(
        429,
        headers={"Retry-After": retry_after},
        json={"code": "Throttling.RateQuota", "message": "slow down", "request_id": "r"},
    )


def server_error():
    return httpx.Response(500, json={"code": "InternalError", "message": "oops", "request_id": "r-500"})


def test_throttled_post_is_retried_after_the_servers_delay():
    recorder = Recorder(throttled("2"), throttled("1"), OK)
    body, _ = recorder.send(POST)
    assert body == {"ok": True}
    assert len(recorder.requests) == 3 and recorder.sleeps == [2.0, 1.0]


def test_post_that_hit_a_server_error_is_never_resent():
    recorder = Recorder(server_error(), OK)
    with pytest.raises(ProviderFailure) as caught:
        recorder.send(POST)
    assert len(recorder.requests) == 1 and recorder.sleeps == []
    assert caught.value.request_id == "r-500"


def test_post_whose_answer_timed_out_is_never_resent():
    recorder = Recorder(httpx.ReadTimeout("slow"), OK)
    with pytest.raises(ProviderTimeout) as caught:
        recorder.send(POST)
    assert len(recorder.requests) == 1
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)  # chained, not flattened


def test_post_that_could_not_connect_is_retried():
    recorder = Recorder(httpx.ConnectError("refused"), OK)
    assert recorder.send(POST)[0] == {"ok": True}
    assert len(recorder.requests) == 2


def test_poll_is_retried_through_server_errors_and_broken_connections():
    recorder = Recorder(server_error(), httpx.ReadError("reset"), OK)
    assert recorder.send(GET)[0] == {"ok": True}
    assert len(recorder.requests) == 3


def test_a_2xx_that_is_not_json_is_a_protocol_error_naming_what_came():
    from wan26 import ProtocolError

    recorder = Recorder(httpx.Response(200, text="<html>gateway</html>", headers={"content-type": "text/html"}))
    with pytest.raises(ProtocolError, match="text/html"):
        recorder.send(POST)


def test_every_call_carries_a_timeout():
    """The test client has no default timeout, so only the ones wan26 sets can appear."""
    seen = []

    def handler(request):
        seen.append(request.extensions["timeout"])
        if request.url.path == "/stream":
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=b"data:{}\n\n")
        return httpx.Response(200, json={"ok": True}) if request.url.path != "/file.png" else httpx.Response(200)

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler), timeout=None) as client:
            http = Http(client, DashScope(), POLICY, Timeouts(), Recorder().sleep)
            await http.json(POST)
            await http.json(GET, Timeouts().poll)
            await http.download("https://api.test/file.png")
            [event async for event in http.stream(HttpCall("POST", "https://api.test/stream", {}, {}, stream=True))]

    asyncio.run(go())
    assert len(seen) == 4
    assert all(timeout[phase] is not None for timeout in seen for phase in ("connect", "read", "write", "pool"))


def test_an_sse_error_body_keeps_its_code_and_request_id():
    error = b'{"code":"InvalidParameter","message":"bad size","request_id":"r-s"}'
    body = b"id:1\nevent:error\n:HTTP_STATUS/400\ndata:" + error + b"\n\n"
    recorder = Recorder(httpx.Response(400, headers={"content-type": "text/event-stream"}, content=body))

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as client:
            http = Http(client, DashScope(), POLICY, Timeouts(), recorder.sleep)
            return [event async for event in http.stream(HttpCall("POST", "https://api.test/s", {}, {}, stream=True))]

    from wan26 import BadRequest

    with pytest.raises(BadRequest) as caught:
        asyncio.run(go())
    assert (caught.value.code, caught.value.message, caught.value.request_id) == ("InvalidParameter", "bad size", "r-s")


def test_a_json_answer_on_the_streaming_path_is_used_not_dropped():
    envelope = {"output": {"choices": []}, "request_id": "r-j"}
    recorder = Recorder(httpx.Response(200, json=envelope))

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as client:
            http = Http(client, DashScope(), POLICY, Timeouts(), recorder.sleep)
            return [event async for event in http.stream(HttpCall("POST", "https://api.test/s", {}, {}, stream=True))]

    [event] = asyncio.run(go())
    assert '"r-j"' in event.data


def test_broken_connection_messages_never_quote_the_request():
    recorder = Recorder(httpx.RemoteProtocolError("Illegal header value b'Bearer sk-secret'"))
    with pytest.raises(NetworkError) as caught:
        recorder.send(POST)
    assert "sk-secret" not in str(caught.value)


def test_default_polling_asks_after_half_a_second_then_every_4_s_within_15_minutes():
    from itertools import islice

    from wan26._poll import PollPolicy, intervals

    assert list(islice(intervals(PollPolicy()), 4)) == [0.5, 4.0, 4.0, 4.0]
    assert PollPolicy().deadline == 900


def test_default_polling_finds_finished_tasks_sooner_than_the_official_sdk_with_fewer_polls():
    from benchmarks.bench_polling import OFFICIAL_SDK, OURS, schedule_figures

    ours, sdk = schedule_figures(OURS), schedule_figures(OFFICIAL_SDK)
    assert ours.mean_delay_s <= 2.0 < sdk.mean_delay_s
    assert ours.mean_polls <= sdk.mean_polls
