"""JSON logs: one object per line, each with the request's id (echoed) and the task's id."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client
from django.utils.log import configure_logging
from django_tasks import task

from townhall.conf.log import logging_config


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The JSON configuration, its console written to a buffer; the settings' one after."""
    stream = io.StringIO()
    config = logging_config(level="INFO", fmt="json")
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    yield stream
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)  # Django's, then ours


def records(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.django_db
def test_a_json_line_carries_the_request_id_the_response_echoes(
    client: Client, json_log: io.StringIO
) -> None:
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="lb-7f3a9c.2")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "lb-7f3a9c.2"
    [record] = [r for r in records(json_log) if r["logger"] == "django.request"]
    assert record["level"] == "WARNING"
    assert record["message"] == "Not Found: /no-such-page/"
    assert record["request_id"] == "lb-7f3a9c.2"
    assert record["task_id"] == "-"
    assert "time" in record


@pytest.mark.django_db
def test_without_an_id_the_request_gets_a_fresh_one(client: Client, json_log: io.StringIO) -> None:
    first = client.get("/no-such-page/")["X-Request-ID"]
    second = client.get("/no-such-page/")["X-Request-ID"]
    assert len(first) == 32 and first != second
    logging.getLogger("townhall.test").info("between requests")
    assert [r["request_id"] for r in records(json_log)] == [first, second, "-"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forged",
    [
        "abc\nINFO fake line",
        "x" * 500,
        "id with spaces",
        '"}{"level":"CRITICAL',
        "rosa@example.org",
    ],
)
def test_a_forged_request_id_is_replaced(
    client: Client, json_log: io.StringIO, forged: str
) -> None:
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID=forged)
    replaced = response["X-Request-ID"]
    assert replaced != forged and len(replaced) == 32 and replaced.isalnum()
    assert [r["request_id"] for r in records(json_log)] == [replaced]
    assert forged not in json_log.getvalue()


@task()
def log_something() -> None:
    logging.getLogger("townhall.test").info("inside the task")


@pytest.mark.django_db(transaction=True)
def test_records_inside_a_worker_task_carry_its_id(json_log: io.StringIO) -> None:
    result = log_something.enqueue()
    call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    [inside] = [r for r in records(json_log) if r["message"] == "inside the task"]
    assert inside["task_id"] == str(result.id)
    assert inside["request_id"] == "-"
    logging.getLogger("townhall.test").info("after the task")
    [after] = [r for r in records(json_log) if r["message"] == "after the task"]
    assert after["task_id"] == "-"


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT"):
        logging_config(level="INFO", fmt="xml")
    plain = logging_config(level="INFO")
    assert plain["handlers"]["console"]["formatter"] == "plain"
