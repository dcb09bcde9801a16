"""Rate limits (issue 15): each test floods one door the way an abuser would and expects
429 with Retry-After in that door's own format; a broken limiter lets everyone through.

Runs on the in-process storage by default and on Redis when REDIS_URL is set (CI's
second pass), where the counts are shared by every process.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client, RequestFactory

from townhall.core import ratelimit
from townhall.core.models import SecurityEvent
from townhall.core.ratelimit import (
    RateLimited,
    client_address,
    rate_limit_hit,
    rate_limits_reset,
    target_key,
)
from townhall.core.security import SecurityEventKind
from townhall.notify.models import Notification
from townhall.open311.keys import api_key_issue

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _retry_after(response: Any) -> int:
    value = int(response["Retry-After"])
    assert 0 < value <= 3600
    return value


def test_fifty_sign_in_link_requests_for_one_address_from_many_clients(
    client: Client, town: Any
) -> None:
    statuses = [
        client.post(
            "/account/sign-in/", {"email": "victim@example.org"}, REMOTE_ADDR=f"10.0.{i}.7"
        ).status_code
        for i in range(50)
    ]
    # five links an hour reach the address (sign_in.target), whoever asks
    assert statuses == [200] * 5 + [429] * 45
    assert Notification.objects.filter(kind="sign_in_link").count() == 5
    refused = client.post("/account/sign-in/", {"email": "VICTIM@example.org "})
    assert refused.status_code == 429
    assert _retry_after(refused) > 60 * 50  # the hour's window, not a minute's
    page = refused.content.decode()
    assert "Please wait a moment" in page and "<html" in page
    assert refused["Content-Type"].startswith("text/html")
    # recorded once per window and key, with the hashed key only
    [event] = SecurityEvent.objects.filter(kind=SecurityEventKind.RATE_LIMITED)
    assert event.subject == target_key("victim@example.org")
    assert "victim" not in str(event.detail) and "10.0." not in str(event.detail)
    assert event.detail["limit"] == "sign_in.target"


def test_one_client_asking_links_for_many_addresses_is_slowed(client: Client, town: Any) -> None:
    statuses = [
        client.post("/account/sign-in/", {"email": f"r{i}@example.org"}).status_code
        for i in range(12)
    ]
    assert statuses == [200] * 10 + [429] * 2  # sign_in: 10 a minute per client
    assert Notification.objects.filter(kind="sign_in_link").count() == 10


def test_a_thousand_open311_gets_from_one_client(client: Client, town: Any) -> None:
    statuses = [client.get("/open311/v2/services.json").status_code for _ in range(1000)]
    assert statuses.count(200) == 300 and statuses[300:] == [429] * 700
    refused = client.get("/open311/v2/services.json")
    assert refused.status_code == 429 and refused["Content-Type"].startswith("application/json")
    [error] = refused.json()
    assert error["code"] == 429 and "try again" in error["description"]
    assert 0 < _retry_after(refused) <= 60
    as_xml = client.get("/open311/v2/requests.xml")
    assert as_xml.status_code == 429 and as_xml["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(as_xml.content)
    assert root.tag == "errors" and root.findtext("error/code") == "429"
    _retry_after(as_xml)
    # another client is not affected
    assert client.get("/open311/v2/services.json", REMOTE_ADDR="192.0.2.9").status_code == 200


def _post(client: Client, key: str, fmt: str = "json", **extra: Any) -> Any:
    return client.post(
        f"/open311/v2/requests.{fmt}",
        {
            "api_key": key,
            "service_code": "pothole",
            "lat": "42.36",
            "long": "-71.09",
            "attribute[size]": "large",
        },
        **extra,
    )


def test_open311_posts_over_a_keys_rate_get_429_in_xml(client: Client, town: Any) -> None:
    _, secret = api_key_issue(name="Tight", requests_per_minute=2)
    statuses = [_post(client, secret, "xml").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = _post(client, secret, "xml", REMOTE_ADDR="192.0.2.10")  # the key, not the client
    assert refused.status_code == 429
    assert ElementTree.fromstring(refused.content).findtext("error/code") == "429"
    _retry_after(refused)


def test_guessing_open311_keys_is_slowed_per_client(client: Client, town: Any) -> None:
    statuses = [_post(client, f"guess-{i}").status_code for i in range(61)]
    assert statuses == [403] * 60 + [429]  # open311_write: 60 a minute per client


def test_a_flood_of_reports_gets_a_friendly_page(client: Client, pothole: Any) -> None:
    data = {"description": "Deep hole", "lat": "42.36", "long": "-71.09", "size": "large"}
    statuses = [client.post("/report/pothole/", data).status_code for _ in range(11)]
    assert statuses[-1] == 429 and 429 not in statuses[:10]
    refused = client.post("/report/pothole/", data)
    assert refused.status_code == 429 and "try again in" in refused.content.decode()
    _retry_after(refused)
    assert client.get("/report/pothole/").status_code == 200  # reading the form is not counted


def test_following_floods_one_address_at_most_ten_times_an_hour(
    client: Client, pothole: Any, settings: Any
) -> None:
    from townhall.cases.services import case_open
    from townhall.portal.links import track_token

    case = case_open(service_type=pothole, channel="web", answers={"size": "small"})
    url = f"/requests/{track_token(case)}/follow/"
    statuses = [
        client.post(url, {"email": "victim@example.org"}, REMOTE_ADDR=f"10.1.{i}.1").status_code
        for i in range(12)
    ]
    assert 429 not in statuses[:10] and statuses[10:] == [429, 429]
    me_too = client.post(
        f"/track/{case.reference}/me-too/",
        {"email": "Victim@example.org"},
        REMOTE_ADDR="10.9.9.9",
    )
    assert me_too.status_code == 429  # follow and "me too" share the limit


def test_rules_pages_are_limited_per_client(client: Client, town: Any) -> None:
    statuses = [client.get("/check/").status_code for _ in range(61)]
    assert statuses == [200] * 60 + [429]
    assert client.get("/permits/").status_code == 429
    _retry_after(client.get("/permits/"))


def test_hooks_answer_429_in_json_before_checking_signatures(
    client: Client, town: Any, settings: Any
) -> None:
    settings.TOWNHALL_RATE_LIMITS = {**settings.TOWNHALL_RATE_LIMITS, "hooks": "3/minute"}
    urls = ["/hooks/intake/nobody/", "/hooks/sms/inbound/", "/hooks/email/inbound/"]
    statuses = [client.post(urls[i % 3], b"{}", content_type="application/json") for i in range(4)]
    assert [r.status_code for r in statuses] == [404, 403, 403, 429]
    refused = statuses[-1]
    assert refused.json() == {
        "errors": [
            {
                "field": None,
                "message": f"Too many requests: try again in {refused['Retry-After']} seconds.",
            }
        ]
    }


def test_a_broken_limiter_lets_everyone_through_and_logs_once(
    client: Client, town: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.TOWNHALL_RATE_LIMIT_STORAGE = "redis://127.0.0.1:1/0"  # nothing listens there
    rate_limits_reset()
    with caplog.at_level(logging.ERROR, logger="townhall.ratelimit"):
        statuses = [client.get("/open311/v2/services.json").status_code for _ in range(310)]
        signed = [
            client.post("/account/sign-in/", {"email": "a@example.org"}).status_code
            for _ in range(8)
        ]
    assert set(statuses) == {200} and set(signed) == {200}
    assert [r.message for r in caplog.records].count(
        "rate limiter unavailable: requests are let through until it is back"
    ) == 1


def test_clients_are_told_apart_by_address_behind_trusted_proxies(settings: Any) -> None:
    factory = RequestFactory()
    v6 = factory.get("/", REMOTE_ADDR="2001:db8:1:2:aaaa::1")
    assert client_address(v6) == "2001:db8:1:2::/64"  # one subscriber's block counts once
    forwarded = factory.get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4"
    )
    assert client_address(forwarded) == "10.0.0.2"  # nothing trusted: the peer
    settings.TOWNHALL_TRUSTED_PROXIES = 1
    assert client_address(forwarded) == "198.51.100.4"  # not the spoofable left end


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (shared counts)")
def test_counts_are_shared_by_every_process(settings: Any) -> None:
    settings.TOWNHALL_RATE_LIMITS = {"shared": "3/minute"}
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.5")
    for _ in range(3):
        ratelimit._storage = None  # as in a new process: a new connection, no local state
        rate_limit_hit(request, "shared")
    with pytest.raises(RateLimited):
        rate_limit_hit(request, "shared")


def _start(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """Start Django in a fresh process with these environment variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "DATABASE_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="townhall.settings", TOWNHALL_VAR_DIR=str(tmp_path))
    env.update(variables)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_shared_cache(tmp_path: Path) -> None:
    run = _start(
        tmp_path, TOWNHALL_ENV="production", SECRET_KEY="x" * 50, ALLOWED_HOSTS="example.org"
    )
    assert run.returncode != 0
    assert "ImproperlyConfigured" in run.stderr and "REDIS_URL" in run.stderr


def test_a_mistyped_limit_stops_the_start_not_every_request(tmp_path: Path) -> None:
    run = _start(tmp_path, TOWNHALL_RATE_LIMITS="report=5/minuet sign_in=off")
    assert run.returncode != 0
    assert "TOWNHALL_RATE_LIMITS: report='5/minuet'" in run.stderr


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the benchmark needs REDIS_URL")
def test_the_benchmark_runs_in_smoke_mode() -> None:
    run = subprocess.run(
        [sys.executable, "bench/ratelimit.py", "--smoke", "--redis-url", os.environ["REDIS_URL"]],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "limiter cost per request at p50" in run.stdout and "smoke: ok" in run.stdout
