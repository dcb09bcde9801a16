"""The GeoReport client's POST side against a real local HTTP server: what it sends, and
what each kind of answer (or none) means."""

from __future__ import annotations

import socket

import pytest

from tests.forwarding.conftest import API_KEY, FakeOpen311, Reply
from townhall.forwarding.client import Open311Client, RemoteError


def _client(remote: FakeOpen311, **extra: object) -> Open311Client:
    return Open311Client(
        remote.url, api_key=API_KEY, jurisdiction_id="county.example.org", timeout=1.0, **extra
    )  # type: ignore[arg-type]


def test_a_post_sends_the_fields_and_the_key_in_the_body_not_the_url(remote: FakeOpen311) -> None:
    answer = _client(remote).post_request({"service_code": "PH", "lat": "42.36", "long": "-71.09"})
    assert answer.remote_id == "R-1" and answer.token == ""
    (seen,) = remote.seen
    assert seen.path == "/open311/v2/requests.json"
    assert seen.form["api_key"] == [API_KEY] and seen.form["service_code"] == ["PH"]
    assert "api_key" not in seen.query
    assert seen.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_a_token_answer_is_kept(remote: FakeOpen311) -> None:
    remote.replies.append(Reply(200, [{"token": "tok-9", "service_notice": "later"}]))
    answer = _client(remote).post_request({"service_code": "PH"})
    assert (answer.remote_id, answer.token, answer.notice) == ("", "tok-9", "later")


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
def test_server_trouble_is_retryable(remote: FakeOpen311, status: int) -> None:
    remote.replies.append(Reply(status, [{"code": status, "description": "busy"}]))
    with pytest.raises(RemoteError) as caught:
        _client(remote).post_request({"service_code": "PH"})
    assert caught.value.retryable and caught.value.status == status


def test_a_refusal_is_not_retryable_and_says_why(remote: FakeOpen311) -> None:
    remote.replies.append(Reply(400, [{"code": 400, "description": "unknown service_code"}]))
    with pytest.raises(RemoteError) as caught:
        _client(remote).post_request({"service_code": "nope"})
    assert not caught.value.retryable and "unknown service_code" in str(caught.value)


@pytest.mark.parametrize(
    "body", [b"<html>ok</html>", b"{not json", b"[]", b"{}", b"[{}]", b'[{"other": 1}]']
)
def test_an_unreadable_success_is_not_retried(remote: FakeOpen311, body: bytes) -> None:
    # The remote most likely made the request: sending again would make a second one.
    remote.replies.append(Reply(201, body))
    with pytest.raises(RemoteError) as caught:
        _client(remote).post_request({"service_code": "PH"})
    assert not caught.value.retryable
    assert "may have been made" in str(caught.value)


def test_a_redirect_is_not_followed(remote: FakeOpen311) -> None:
    remote.replies.append(Reply(302, b"", headers={"Location": remote.url + "elsewhere"}))
    with pytest.raises(RemoteError) as caught:
        _client(remote).post_request({"service_code": "PH"})
    assert caught.value.status == 302 and not caught.value.retryable
    assert len(remote.seen) == 1


def test_a_slow_server_times_out_as_retryable(remote: FakeOpen311) -> None:
    remote.replies.append(Reply(200, [{"service_request_id": "late"}], delay=2.0))
    client = Open311Client(remote.url, timeout=0.3)
    with pytest.raises(RemoteError) as caught:
        client.post_request({"service_code": "PH"})
    assert caught.value.retryable and client.last_elapsed_ms < 1500


def test_a_refused_connection_is_retryable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens
    with pytest.raises(RemoteError) as caught:
        Open311Client(f"http://127.0.0.1:{port}/", timeout=1.0).post_request({"a": "b"})
    assert caught.value.retryable and API_KEY not in str(caught.value)


def test_a_token_is_quoted_into_its_path(remote: FakeOpen311) -> None:
    remote.replies.append(Reply(200, [{"service_request_id": "R-7", "token": "x"}]))
    assert _client(remote).get_token("../requests?x=1") == "R-7"
    assert remote.seen[0].path == "/open311/v2/tokens/..%2Frequests%3Fx%3D1.json"
