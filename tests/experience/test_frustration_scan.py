"""The scan: each open case's index stored with its contributions; above the threshold an
honest update to the resident (through the outbox, at most once per
frustration_update_days, never to someone who opted out) and one flag for the supervisor."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from townhall.cases.models import Case
from townhall.cases.services import case_acknowledge, case_merge, case_open, case_transfer
from townhall.catalog.models import Department
from townhall.catalog.services import department_member_add
from townhall.experience.flags import flag_handle
from townhall.experience.models import CaseFrustration, JourneySignal, SignalKind, SupervisorFlag
from townhall.experience.services_frustration import (
    frustration_scan,
    journey_frustration,
    journey_signal_record,
    journey_tone_record,
)
from townhall.intake.models import InboundMessage, Outcome
from townhall.notify.models import Notification, NotificationKind, NotificationStatus
from townhall.notify.services import opt_out_record
from townhall.people.roles import StaffRole
from townhall.people.services import citizen_resolve, staff_user_create

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 25, 11, 0, tzinfo=NY)  # a Wednesday morning: no quiet hours


def _open(service: Any, reporter: Any = None, *, days_late: float = 0.0, **extra: Any) -> Case:
    case = case_open(
        service_type=service,
        channel="web",
        answers={"size": "large"},
        description="Hole by the library",
        reporter=reporter,
        opened_at=NOW - timedelta(days=40),
        **extra,
    )
    case_acknowledge(case_id=case.pk, now=NOW - timedelta(days=40))
    # The promise: due `days_late` days ago (no expected date, so the due time is it).
    Case.objects.filter(pk=case.pk).update(
        expected_on=None,
        due_at=NOW - timedelta(days=days_late) if days_late else NOW + timedelta(days=3),
    )
    case.refresh_from_db()
    return case


def _repeat(case: Case, n: int) -> None:
    for _ in range(n):
        journey_signal_record(
            kind=SignalKind.REPEAT_CONTACT, channel="phone", case_id=case.pk, at=NOW
        )


@pytest.fixture
def frank(pothole: Any) -> Any:
    """The Public Works supervisor."""
    user = staff_user_create(
        username="frank",
        role=StaffRole.SUPERVISOR,
        password="x-long-pass-1",
        email="frank@council.example.org",
    )
    department_member_add(department=pothole.department, user=user)
    return user


@pytest.fixture
def frustrated(pothole: Any, resident: Any) -> Case:
    """12 days late (0.60) and two repeat contacts (0.50): 1.10, over the threshold."""
    case = _open(pothole, resident, days_late=12)
    _repeat(case, 2)
    return case


def _updates(case: Case) -> Any:
    return Notification.objects.filter(kind=NotificationKind.DELAY_UPDATE, case_id=case.pk)


def test_a_frustrated_case_is_scored_flagged_and_its_resident_told_once(
    frustrated: Case, resident: Any, frank: Any
) -> None:
    result = frustration_scan(now=NOW)
    assert (result.cases, result.above, result.told, result.flagged) == (1, 1, 1, 1)
    stored = CaseFrustration.objects.get(case=frustrated)
    assert stored.score == pytest.approx(1.1)
    assert [(c["signal"], c["points"]) for c in stored.contributions] == [
        ("waited", 0.6),
        ("repeat_contact", 0.5),
    ]
    assert stored.contributions[0]["why"] == "waited 12 days past the promised date"
    (update,) = _updates(frustrated)
    assert update.citizen_id == resident.pk and update.status == NotificationStatus.QUEUED
    assert frustrated.reference in update.body and "sorry" in update.body.lower()
    assert "Hole by the library" not in update.body  # not the resident's words back
    (flag,) = SupervisorFlag.objects.filter(case=frustrated)
    assert flag.kind == "frustration" and flag.score == pytest.approx(1.1)
    assert "waited 12 days" in flag.reason
    (told,) = Notification.objects.filter(kind=NotificationKind.SUPERVISOR_FLAG)
    assert told.user_id == frank.pk and told.to == "frank@council.example.org"
    assert frustrated.reference in told.body

    # An hour later, and the next day: recomputed, but nobody told or flagged again.
    for later in (NOW + timedelta(hours=1), NOW + timedelta(days=1)):
        again = frustration_scan(now=later)
        assert (again.above, again.told, again.flagged) == (1, 0, 0)
    assert _updates(frustrated).count() == 1
    assert SupervisorFlag.objects.filter(case=frustrated).count() == 1
    assert Notification.objects.filter(kind=NotificationKind.SUPERVISOR_FLAG).count() == 1
    stored.refresh_from_db()
    assert stored.resident_told_at == NOW
    assert stored.score == pytest.approx(0.05 * 13 + 0.5)  # a day later: a day more late

    # After frustration_update_days (7): one more honest update, still one open flag.
    week = frustration_scan(now=NOW + timedelta(days=7))
    assert (week.told, week.flagged) == (1, 0)
    assert _updates(frustrated).count() == 2


def test_an_opted_out_resident_is_not_messaged(frustrated: Case, resident: Any) -> None:
    for channel in ("email", "sms", "inapp"):
        opt_out_record(citizen=resident, channel=channel, via="test")
    frustration_scan(now=NOW)
    (update,) = _updates(frustrated)
    assert update.status == NotificationStatus.SUPPRESSED
    assert not Notification.objects.filter(
        citizen=resident, status=NotificationStatus.QUEUED, kind=NotificationKind.DELAY_UPDATE
    ).exists()
    assert SupervisorFlag.objects.filter(case=frustrated).count() == 1  # still flagged


def test_below_the_threshold_nothing_happens(pothole: Any, resident: Any) -> None:
    case = _open(pothole, resident, days_late=12)  # 0.60 only
    result = frustration_scan(now=NOW)
    assert (result.cases, result.above) == (1, 0)
    assert CaseFrustration.objects.get(case=case).score == pytest.approx(0.6)
    assert not _updates(case).exists() and not SupervisorFlag.objects.exists()


def test_the_threshold_comes_from_settings(frustrated: Case, settings: Any) -> None:
    settings.TOWNHALL_EXPERIENCE = settings.TOWNHALL_EXPERIENCE._replace(frustration_threshold=2.0)
    assert frustration_scan(now=NOW).above == 0
    assert not SupervisorFlag.objects.exists()


def test_a_handled_flag_can_be_raised_again_by_a_later_scan(frustrated: Case, frank: Any) -> None:
    frustration_scan(now=NOW)
    flag = SupervisorFlag.objects.get(case=frustrated)
    flag_handle(flag=flag, user=frank, outcome="Called the resident; crew booked.")
    assert frustration_scan(now=NOW + timedelta(hours=1)).flagged == 1
    assert SupervisorFlag.objects.filter(case=frustrated, handled_at__isnull=True).count() == 1
    assert SupervisorFlag.objects.filter(case=frustrated).count() == 2


def test_a_case_without_a_reporter_is_flagged_but_nobody_is_messaged(pothole: Any) -> None:
    case = _open(pothole, None, days_late=25)  # 1.25
    result = frustration_scan(now=NOW)
    assert (result.above, result.told, result.flagged) == (1, 0, 1)
    assert not _updates(case).exists()


def test_history_counts_transfers_and_same_resident_duplicates(
    pothole: Any, resident: Any, frank: Any
) -> None:
    case = _open(pothole, resident)
    isd = Department.objects.get(code="isd")
    case_transfer(case=case, department=isd, reason="Not ours", actor=frank, now=NOW)
    again = _open(pothole, resident)  # the same resident reports it again
    other = _open(pothole, citizen_resolve(name="Other", email="other@example.org"))
    case.refresh_from_db()
    case_merge(case=again, into=case, actor=frank, now=NOW)
    case_merge(case=other, into=case, actor=frank, now=NOW)  # someone else: not a repeat
    frustration_scan(now=NOW)
    points = {c["signal"]: c["value"] for c in CaseFrustration.objects.get(case=case).contributions}
    assert points == {"transferred": 1, "repeat_contact": 1}


def test_residents_angry_messages_on_a_case_count_once(pothole: Any, resident: Any) -> None:
    case = _open(pothole, resident)
    InboundMessage.objects.create(
        channel="email",
        case=case,
        citizen=resident,
        outcome=Outcome.ADDED,
        received_at=NOW - timedelta(hours=2),
        text="Still not fixed after three weeks, this is a joke!!! You never fix anything.",
    )
    InboundMessage.objects.create(
        channel="email", case=case, citizen=resident, outcome=Outcome.ADDED, text="Thanks."
    )
    assert frustration_scan(now=NOW).tone_signals == 1
    assert frustration_scan(now=NOW + timedelta(hours=1)).tone_signals == 0
    (signal,) = JourneySignal.objects.filter(case=case, kind=SignalKind.NEGATIVE_TONE)
    assert signal.value > 0.5 and set(signal.data) == {"message"}  # no words kept
    (row,) = CaseFrustration.objects.get(case=case).contributions
    assert row["signal"] == "negative_tone"
    assert row["points"] == pytest.approx(0.5 * signal.value, abs=1e-3)


def test_tone_is_recorded_only_when_negative() -> None:
    assert journey_tone_record(text="Thanks, the crew came today.", channel="web") is None
    made = journey_tone_record(text="This is the THIRD time!!! Useless.", channel="web")
    assert made is not None and made.kind == SignalKind.NEGATIVE_TONE and made.data == {}


@pytest.mark.parametrize(
    "data",
    [{"email": "rosa@example.org"}, {"reason": "x" * 41}, {"message": ["a list"]}, {"text": "hi"}],
)
def test_signal_data_refuses_anything_personal(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="journey signal data"):
        journey_signal_record(kind=SignalKind.ASSISTANT_FALLBACK, channel="web", data=data)
    with pytest.raises(ValueError, match="made_up"):
        journey_signal_record(kind="made_up", channel="web")
    assert not JourneySignal.objects.exists()


def test_a_residents_journey_adds_their_open_cases_and_loose_signals(
    pothole: Any, resident: Any
) -> None:
    first = _open(pothole, resident, days_late=4)
    _open(pothole, resident, days_late=10)  # the longest wait counts, not the sum
    _repeat(first, 1)
    journey_signal_record(
        kind=SignalKind.ABANDONED_FORM, channel="assistant", citizen_id=resident.pk, at=NOW
    )
    journey_signal_record(  # too old for the journey (30 days)
        kind=SignalKind.BOUNCED_HANDOFF,
        channel="assistant",
        citizen_id=resident.pk,
        at=NOW - timedelta(days=31),
    )
    index = journey_frustration(citizen_id=resident.pk, now=NOW)
    # 10 days x 0.05 + 1 repeat x 0.25 + 1 abandoned form x 0.1 = 0.85
    assert index.score == pytest.approx(0.85)
    assert {c.signal for c in index.contributions} == {
        "waited",
        "repeat_contact",
        "abandoned_form",
    }


def test_the_scan_does_not_query_per_case(pothole: Any, resident: Any, frank: Any) -> None:
    def measured(now: datetime) -> int:
        frustration_scan(now=now)  # first time: rows created; measured: rows updated
        with CaptureQueriesContext(connection) as queries:
            frustration_scan(now=now + timedelta(minutes=1))
        return len(queries)

    # Below the threshold, and above it (flagged and told by the first run: the measured
    # one has nothing to do for them).
    for days_late in (1, 25, 1):
        _repeat(_open(pothole, resident, days_late=days_late), 1)
    few = measured(NOW)
    for i in range(12):
        _repeat(_open(pothole, resident, days_late=25 if i % 2 else 1), 1)
    assert measured(NOW + timedelta(hours=1)) == few
    assert SupervisorFlag.objects.count() == 7  # one per case above the threshold


def test_the_command_scans_with_a_summary(frustrated: Case, capsys: Any) -> None:
    call_command("experience", "scan", verbosity=0)
    out = capsys.readouterr().out
    assert "1 open cases scored; 1 at or above 1; 1 newly flagged" in out


def test_the_command_refuses_bad_options() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("experience", "scan", batch=0)
    with pytest.raises(CommandError):
        call_command("experience", "weights-check", since_days=-3)
    with pytest.raises(CommandError, match="No resident"):
        call_command("experience", "journey", "999999")


def test_the_command_shows_a_residents_journey(
    frustrated: Case, resident: Any, capsys: Any
) -> None:
    call_command("experience", "journey", str(resident.pk))
    out = capsys.readouterr().out
    assert "journey index" in out and "contacted us again about the same thing 2 times" in out


def test_only_the_cases_department_supervisors_are_told(frustrated: Case, frank: Any) -> None:
    elsewhere = staff_user_create(
        username="henry",
        role=StaffRole.SUPERVISOR,
        password="x-long-pass-1",
        email="henry@council.example.org",
    )
    department_member_add(department=Department.objects.get(code="isd"), user=elsewhere)
    caseworker = staff_user_create(
        username="keisha",
        role=StaffRole.CASEWORKER,
        password="x-long-pass-1",
        email="keisha@council.example.org",
    )
    department_member_add(department=frustrated.department, user=caseworker)
    frustration_scan(now=NOW)
    told = Notification.objects.filter(kind=NotificationKind.SUPERVISOR_FLAG)
    assert list(told.values_list("to", flat=True)) == ["frank@council.example.org"]
