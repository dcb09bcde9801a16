"""Notices and recalls are hash-chained like case events: `townhall ledger verify` checks
their chains and content, and the daily seal covers their heads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.notices.conftest import road_works_draft
from tests.tamper import as_database_owner
from townhall.cases.seals import SealRefused
from townhall.cases.services import ledger_seal
from townhall.notices.chain import chain_verify, event_hash
from townhall.notices.models import Notice, NoticeEvent, NoticeSeal, RecallCode
from townhall.notices.services import notice_publish
from townhall.notify.models import AlertTopic

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def signing_key(settings: Any, tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "ledger-seal.key"
    settings.TOWNHALL_LEDGER_KEY_FILE = str(path)
    return path


@pytest.fixture
def published(roadworks: AlertTopic) -> Notice:
    return notice_publish(road_works_draft(roadworks).pk)


def test_an_untouched_history_verifies(published: Notice, recall: Notice, capsys: Any) -> None:
    assert chain_verify() == (5, [])  # created, published; created, codes_added, published
    call_command("ledger", "verify")
    assert "OK: 5 events verified" in capsys.readouterr().out


def test_verify_detects_a_notice_edited_behind_the_services(published: Notice, capsys: Any) -> None:
    Notice.objects.filter(pk=published.pk).update(body="Open as usual.")
    with pytest.raises(CommandError, match="1 break"):
        call_command("ledger", "verify")
    err = capsys.readouterr().err
    assert f"notice {published.pk} event #2: notice differs from its recorded content" in err


def test_verify_detects_recall_codes_removed(recall: Notice, capsys: Any) -> None:
    RecallCode.objects.filter(code="AB12345").delete()
    with pytest.raises(CommandError, match="break"):
        call_command("ledger", "verify")
    assert "recall codes differ from those recorded" in capsys.readouterr().err


def test_verify_detects_an_event_edited(published: Notice, capsys: Any) -> None:
    with as_database_owner():
        NoticeEvent.objects.filter(notice=published, seq=1).update(kind="imported")
    with pytest.raises(CommandError, match="break"):
        call_command("ledger", "verify")
    assert "content does not match its hash" in capsys.readouterr().err


def _rewrite_all(notice: Notice) -> None:
    """An owner changes the notice and recomputes every hash of its chain."""
    Notice.objects.filter(pk=notice.pk).update(body="Nothing happened here.")
    from townhall.notices.chain import content_digest

    notice.refresh_from_db()
    prev = None
    with as_database_owner():
        for event in NoticeEvent.objects.filter(notice=notice).order_by("seq"):
            data = {**event.data, "content": content_digest(notice)}
            prev_hash = prev or event.prev_hash
            digest = event_hash(
                prev_hash=prev_hash,
                notice_id=notice.pk,
                seq=event.seq,
                kind=event.kind,
                at=event.at,
                actor_id=event.actor_id,
                data=data,
            )
            NoticeEvent.objects.filter(pk=event.pk).update(
                data=data, prev_hash=prev_hash, hash=digest
            )
            prev = digest


def test_a_rehashed_history_fails_against_the_seal(published: Notice, capsys: Any) -> None:
    seal = ledger_seal()
    made = NoticeSeal.objects.get(case_seal_id=seal.pk)
    assert made.tree_size == 1
    call_command("ledger", "verify")  # sealed and untouched: green
    _rewrite_all(published)
    assert chain_verify() == (2, [])  # the chain alone is consistent again
    with pytest.raises(CommandError, match="break"):
        call_command("ledger", "verify")
    err = capsys.readouterr().err
    assert f"notice {published.pk} event #2: history rewritten since the seal" in err
    with pytest.raises(SealRefused):
        ledger_seal()  # never sealed over


def test_a_deleted_notices_seal_is_reported(published: Notice, capsys: Any) -> None:
    ledger_seal()
    second = ledger_seal()
    with as_database_owner():
        NoticeSeal.objects.filter(case_seal_id=second.pk).delete()
    with pytest.raises(CommandError, match="break"):
        call_command("ledger", "verify")
    assert "notices seal of this seal is missing" in capsys.readouterr().err
