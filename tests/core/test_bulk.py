"""RowsLike: many rows of one model from a template (COPY on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from townhall.core.bulk import RowsLike
from townhall.notify.models import Notification, NotificationKind, NotificationStatus

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _rows() -> RowsLike:
    return RowsLike(
        Notification(
            kind=NotificationKind.ALERT,
            channel="email",
            status=NotificationStatus.QUEUED,
            next_attempt_at=WHEN,
            created_at=WHEN,
            body="",
        ),
        varying=("key", "to", "body"),
    )


@pytest.mark.django_db(transaction=True)
def test_rows_take_the_template_s_values_and_their_own() -> None:
    rows = _rows()
    rows.add("k1", "a@example.org", "first")
    rows.add("k2", "b@example.org", "second")
    rows.insert()
    got = {n.key: n for n in Notification.objects.all()}
    assert set(got) == {"k1", "k2"}
    assert got["k2"].to == "b@example.org"
    assert got["k2"].body == "second"
    assert got["k1"].kind == NotificationKind.ALERT
    assert got["k1"].channel == "email"
    assert got["k1"].language == "en"  # the model's default, from the template
    assert got["k1"].attempts == 0
    assert got["k1"].created_at == WHEN


@pytest.mark.django_db(transaction=True)
def test_rows_that_exist_already_are_skipped_and_the_others_inserted() -> None:
    first = _rows()
    first.add("k1", "a@example.org", "kept")
    first.insert()
    again = _rows()
    again.add("k1", "a@example.org", "would overwrite")
    again.add("k3", "c@example.org", "new")
    again.insert()  # on PostgreSQL the COPY fails on k1 and nothing of it stays
    assert Notification.objects.get(key="k1").body == "kept"
    assert Notification.objects.get(key="k3").body == "new"
    assert Notification.objects.count() == 2


@pytest.mark.django_db
def test_a_failed_copy_leaves_the_surrounding_transaction_usable() -> None:
    first = _rows()
    first.add("k1", "a@example.org", "kept")
    first.insert()
    again = _rows()
    again.add("k1", "a@example.org", "dup")
    again.insert()
    with connection.cursor() as cursor:  # would raise InFailedSqlTransaction without the savepoint
        cursor.execute("SELECT count(*) FROM notify_notification")
        assert cursor.fetchone()[0] == 1
