"""Batch codes: one normal form for staff's imports and residents' checks; the check says
affected or not and the recall's advice, nothing more; imports resume and never repeat."""

from __future__ import annotations

from typing import Any

import pytest

from tests.notices.conftest import road_works_draft
from townhall.core.errors import ValidationFailed
from townhall.notices.codes import InvalidCode, code_normalise, codes_sum
from townhall.notices.imports import csv_codes, csv_codes_from_bytes, recall_codes_import
from townhall.notices.models import NoticeEvent, Recall, RecallCode
from townhall.notices.selectors import recall_code_check
from townhall.notices.services import notice_create, notice_withdraw
from townhall.notify.models import AlertTopic


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("ab-123 45", "AB12345"),
        ("  AB 123-45\n", "AB12345"),
        ("ab_123.45", "AB12345"),
        ("ＡＢ１２３４５", "AB12345"),  # full-width, as some phones type
        ("lot 2024–07–x9", "LOT202407X9"),  # en dashes
    ],
)
def test_codes_are_normalised(raw: str, normal: str) -> None:
    assert code_normalise(raw) == normal


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter the batch"),
        (" - - ", "Enter the batch"),
        ("A" * 65, "too long"),
        ("A" * 5000, "too long"),
        ("AB<script>", "only letters and numbers"),
        ("AB12'; DROP TABLE", "only letters and numbers"),
        ("ÄB12", "only letters and numbers"),
    ],
)
def test_garbage_is_no_code(raw: str, message: str) -> None:
    with pytest.raises(InvalidCode, match=message):
        code_normalise(raw)


def test_the_digest_does_not_depend_on_order() -> None:
    assert codes_sum(["A", "B", "C"]) == codes_sum(["C", "A"], start=codes_sum(["B"]))
    assert codes_sum(["A", "B"]) != codes_sum(["A", "C"])


@pytest.mark.django_db
def test_the_check_says_affected_or_not_with_the_advice(recall: Any) -> None:
    hit = recall_code_check(notice_id=recall.pk, raw_code=" ab 123-45 ")
    assert hit is not None
    assert (hit.code, hit.affected) == ("AB12345", True)
    assert hit.advice.startswith("Do not eat it")
    assert hit.product == "Smooth Peanut Butter 340 g"
    miss = recall_code_check(notice_id=recall.pk, raw_code="AB12347")
    assert miss is not None and not miss.affected
    es = recall_code_check(notice_id=recall.pk, raw_code="lot2024-07-x9", language="es")
    assert es is not None and es.affected and es.advice.startswith("No lo coma")
    assert es.product == "Crema de cacahuete 340 g"
    with pytest.raises(InvalidCode):
        recall_code_check(notice_id=recall.pk, raw_code="<>")
    notice_withdraw(recall.pk)
    assert recall_code_check(notice_id=recall.pk, raw_code="AB12345") is None


@pytest.mark.django_db
def test_road_works_have_no_codes(roadworks: AlertTopic) -> None:
    notice = road_works_draft(roadworks)
    with pytest.raises(ValidationFailed, match="Only a product recall"):
        recall_codes_import(notice.pk, [(1, "AB1")])


def test_csv_reading_finds_the_code_column() -> None:
    rows = list(csv_codes(["product,lot\n", "Jam,AB-1\n", "\n", "Jam,ab 2\n"]))
    assert rows == [(2, "AB-1"), (4, "ab 2")]
    assert list(csv_codes(["X1\n", "X2\n"])) == [(1, "X1"), (2, "X2")]
    assert list(csv_codes_from_bytes("\ufeffcode\nZ9\n".encode())) == [(2, "Z9")]
    with pytest.raises(ValidationFailed, match="UTF-8"):
        list(csv_codes_from_bytes(b"\xff\xfe\x00c"))


@pytest.mark.django_db
def test_a_100000_code_import_is_resumable_and_idempotent(recalls: AlertTopic) -> None:
    notice = notice_create(
        kind="recall", topic=recalls, title="Jam recall", body="Mould.", product="Jam"
    )
    codes = [(i, f"LOT-{i:06d}") for i in range(1, 100_001)]
    codes.append((100_001, "not a code!"))

    class Killed(Exception):
        pass

    def kill_after_four(result: Any) -> None:
        if result.batches == 4:
            raise Killed

    with pytest.raises(Killed):
        recall_codes_import(notice.pk, codes, batch=10_000, progress=kill_after_four)
    recall = Recall.objects.get(notice=notice)
    assert recall.codes_count == RecallCode.objects.filter(recall=recall).count() == 40_000
    result = recall_codes_import(notice.pk, codes, batch=10_000)
    assert (result.read, result.added, result.present, result.invalid) == (
        100_001,
        60_000,
        40_000,
        1,
    )
    assert result.invalid_lines == [
        (100_001, "A batch code has only letters and numbers. Check it and try again.")
    ]
    again = recall_codes_import(notice.pk, codes, batch=10_000)
    assert (again.added, again.present) == (0, 100_000)
    recall.refresh_from_db()
    assert recall.codes_count == RecallCode.objects.filter(recall=recall).count() == 100_000
    assert recall.codes_sum == codes_sum(
        c for _, c in ((0, f"LOT{i:06d}") for i in range(1, 100_001))
    )
    # One chain event per batch that added codes (4 + 6), after "created".
    assert NoticeEvent.objects.filter(notice=notice, kind="codes_added").count() == 10
