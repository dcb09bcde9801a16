"""Privacy: a resident's data exported as one ZIP, erased without breaking any hash chain,
and every kind of data purged after its retention period (intake.privacy, intake.retention).

Each attack or promise is reproduced against the real services and pages.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessLog
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from townhall.cases.lifecycle import CaseStatus
from townhall.cases.models import Case, CaseEvent, CasePhoto, FollowRequest, FollowVia
from townhall.cases.photos import photo_clean
from townhall.cases.selectors import ledger_verify
from townhall.cases.services import (
    case_acknowledge_pending,
    case_follow,
    case_transition,
    follow_request_create,
)
from townhall.catalog.models import Department
from townhall.catalog.services import department_member_add
from townhall.core.models import SecurityEvent
from townhall.core.security import SecurityEventKind
from townhall.intake.messages import Attachment, IncomingMessage, Location, Sender
from townhall.intake.models import InboundAttachment, InboundMessage, RetentionPolicy
from townhall.intake.privacy import resident_erase, resident_export
from townhall.intake.retention import STAGED_FOLDER, retention_policy, retention_purge
from townhall.intake.services import intake_accept
from townhall.intake.tasks import retention_purge_task
from townhall.knowledge.models import SearchLog
from townhall.notify.models import Notification, NotificationTemplate
from townhall.people.models import Citizen, PersonEvent, PersonEventKind
from townhall.people.roles import StaffRole
from townhall.people.services import citizen_account_for_email, staff_user_create

ROOT = Path(__file__).resolve().parent.parent.parent

ROSA = {
    "name": "Rosalind Quistgaard",
    "email": "rosalind.q@example.org",
    "phone": "+16175550142",
    "text": "Sinkhole swallowing my blue bicycle near the bakery",
    "address": "17 Marigold Terrace",
    "attachment": b"my notes about the zebra crossing",
}
BOB = {
    "name": "Bartholomew Vinterberg",
    "email": "bart.v@example.org",
    "phone": "+16175550177",
    "text": "Cracked kerb where grandmother tripped yesterday",
    "address": "3 Heliotrope Close",
    "attachment": b"bob's own attachment text",
}


def jpeg(colour: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings.MEDIA_ROOT  # type: ignore[no-any-return]


def report(person: dict[str, Any], *, n: int = 1, lat: float = 42.36, **kw: Any) -> Citizen:
    """`n` reports by e-mail, each with a photo and an attachment, through the pipeline."""
    citizen = None
    for i in range(n):
        result = intake_accept(
            IncomingMessage(
                channel="email",
                sender=Sender(email=person["email"], phone=person["phone"], name=person["name"]),
                subject=f"Report {i}",
                text=f"{person['text']} ({i})",
                raw=f"From: {person['name']} <{person['email']}>\n\n{person['text']}",
                attachments=(Attachment("notes.txt", "text/plain", person["attachment"]),),
                photos=(photo_clean(jpeg((10 * i % 255, 60, 40)), filename="p.jpg"),),
                place=Location(lat=lat + i * 0.05, long=-71.09, address=person["address"]),
                service_code="pothole",
                answers={"size": "large"},
                external_id=f"<{person['email']}-{i}@mail>",
                # Days apart: not taken for the same report sent twice.
                received_at=timezone.now() - timedelta(days=3 * (n - 1 - i), minutes=5),
                **kw,
            )
        )
        assert result.case is not None, result.message.reason
        citizen = result.case.reporter
    case_acknowledge_pending()  # the acknowledgements go to the outbox
    assert citizen is not None
    return citizen


def needles(person: dict[str, Any]) -> list[str]:
    return [
        person["name"],
        person["email"],
        person["phone"],
        person["phone"][2:],
        person["text"],
        person["address"],
    ]


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def export_bytes(citizen: Citizen) -> bytes:
    out = io.BytesIO()
    resident_export(citizen_id=citizen.pk, out=out)
    return out.getvalue()


# --- export ---------------------------------------------------------------------------------


def test_the_export_holds_everything_about_the_resident_and_nothing_of_another(
    town: Any,
) -> None:
    rosa = report(ROSA, n=2)
    bob = report(BOB, lat=42.30)
    bob_case = Case.objects.get(reporter=bob)
    case_follow(case=bob_case, citizen=rosa)  # Rosa follows Bob's case: "me too"

    members = zip_members(export_bytes(rosa))

    profile = json.loads(members["profile.json"])
    assert profile["display_name"] == ROSA["name"]
    contacts = {c["value"] for c in json.loads(members["contact_points.json"])}
    assert {ROSA["email"], ROSA["phone"]} <= contacts
    cases = json.loads(members["cases.json"])
    assert len(cases) == 2
    assert all(ROSA["text"] in c["description"] for c in cases)
    assert all(c["events"] and c["events"][0]["kind"] == "opened" for c in cases)
    photos = [p["file"] for c in cases for p in c["photos"]]
    assert len(photos) == 2
    stored = {p.file.read() for p in CasePhoto.objects.filter(case__reporter=rosa)}
    assert {members[name] for name in photos} == stored
    messages = json.loads(members["messages.json"])
    assert len(messages) == 2 and all(ROSA["email"] in m["raw"] for m in messages)
    attachment_files = [a["file"] for m in messages for a in m["attachments"]]
    assert [members[name] for name in attachment_files] == [ROSA["attachment"]] * 2
    notifications = json.loads(members["notifications.json"])
    assert notifications and all(n["case"] for n in notifications)
    assert len(notifications) == Notification.objects.filter(citizen=rosa).count()
    following = json.loads(members["following.json"])
    assert [f["reference"] for f in following] == [bob_case.reference]
    manifest = json.loads(members["manifest.json"])
    assert manifest["counts"]["cases"] == 2 and manifest["files"] == 4

    everything = b"\n".join(members.values())
    for secret in [*needles(BOB), BOB["attachment"].decode()]:
        assert secret.encode() not in everything, secret
    event = SecurityEvent.objects.get(kind=SecurityEventKind.RESIDENT_EXPORTED)
    assert event.subject == f"citizen:{rosa.pk}"
    assert ROSA["email"] not in json.dumps(event.detail)


def test_a_neighbours_report_joined_to_the_case_is_not_in_the_export(town: Any) -> None:
    rosa = report(ROSA)
    case = Case.objects.get(reporter=rosa)
    joined = intake_accept(
        IncomingMessage(
            channel="email",
            sender=Sender(email=BOB["email"], name=BOB["name"]),
            text=f"{ROSA['text']}, signed {BOB['name']}",
            place=Location(lat=42.36, long=-71.09),
            service_code="pothole",
        )
    )
    assert joined.case == case  # Bob's report joined Rosa's case, quoted in a note
    assert any(BOB["name"] in str(e.content) for e in CaseEvent.objects.filter(case=case))

    everything = b"\n".join(zip_members(export_bytes(rosa)).values())
    for secret in (BOB["name"], BOB["email"]):
        assert secret.encode() not in everything


def test_a_signed_in_resident_downloads_only_their_own_data_by_post(town: Any) -> None:
    rosa = report(ROSA)
    bob = report(BOB, lat=42.30)
    rosa = citizen_account_for_email(email=ROSA["email"])
    bob = Citizen.objects.get(pk=bob.pk)
    client = Client()
    url = reverse("portal:data-export")

    assert client.post(url).status_code == 302  # not signed in: to the sign-in page
    client.force_login(rosa.user)
    assert client.get(url).status_code == 405  # never a GET a link could trigger
    # The attack: ask for someone else's data by id, every way a form could say it.
    response = client.post(f"{url}?citizen_id={bob.pk}", {"citizen_id": bob.pk, "id": bob.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "no-store" in response["Cache-Control"]
    assert str(bob.pk) not in response["Content-Disposition"]
    members = zip_members(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert json.loads(members["profile.json"])["id"] == rosa.pk
    everything = b"\n".join(members.values())
    for secret in needles(BOB):
        assert secret.encode() not in everything
    assert ROSA["text"].encode() in everything
    # Building ZIPs is heavy: a resident cannot make the server build them without end.
    for _ in range(4):
        assert client.post(url).status_code == 200
    refused = client.post(url)
    assert refused.status_code == 429
    assert 3590 <= int(refused["Retry-After"]) <= 3600  # the hour, less the seconds spent


@pytest.fixture
def staff(town: Any) -> dict[str, Any]:
    dpw = Department.objects.get(code="dpw")
    isd = Department.objects.get(code="isd")
    users = {
        "admin": staff_user_create(
            username="ada", role=StaffRole.COUNCIL_ADMIN, password="pw-for-tests-1"
        ),
        "dpw": staff_user_create(
            username="keisha", role=StaffRole.CASEWORKER, password="pw-for-tests-1"
        ),
        "isd": staff_user_create(
            username="daniel", role=StaffRole.CASEWORKER, password="pw-for-tests-1"
        ),
    }
    department_member_add(department=dpw, user=users["dpw"])
    department_member_add(department=isd, user=users["isd"])
    return users


def _console(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_console_export_only_for_staff_who_may_see_all_of_the_residents_cases(
    staff: dict[str, Any], no_heat: Any
) -> None:
    rosa = report(ROSA)
    case = Case.objects.get(reporter=rosa)  # a Public Works case
    url = reverse("console:resident-export", args=[case.pk])

    # Another department's caseworker cannot see the case at all.
    assert _console(staff["isd"]).post(url).status_code == 404
    # Public Works sees the case, and every case of Rosa's: the export is theirs to give.
    page = _console(staff["dpw"]).get(reverse("console:case", args=[case.pk]))
    assert url in page.content.decode()
    response = _console(staff["dpw"]).post(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    # Once Rosa also has a housing case, Public Works would see a case it may not: refused.
    intake_accept(
        IncomingMessage(
            channel="email",
            sender=Sender(email=ROSA["email"]),
            text="No heat in the flat since Monday",
            service_code="no_heat",
        )
    )
    assert Case.objects.filter(reporter=rosa).count() == 2
    assert _console(staff["dpw"]).post(url).status_code == 403
    page = _console(staff["dpw"]).get(reverse("console:case", args=[case.pk]))
    assert url not in page.content.decode()
    assert _console(staff["admin"]).post(url).status_code == 200
    # A resident with an account is not staff.
    resident = citizen_account_for_email(email=BOB["email"])
    assert _console(resident.user).post(url).status_code == 403


def test_admin_export_action_and_erasure_with_confirmation(staff: dict[str, Any]) -> None:
    rosa = report(ROSA)
    changelist = reverse("admin:people_citizen_changelist")
    admin = _console(staff["admin"])
    response = admin.post(
        changelist, {"action": "export_data", "_selected_action": [rosa.pk], "index": 0}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"

    # Deleting the row would leave Rosa's words everywhere: not offered, not allowed.
    assert admin.post(
        changelist, {"action": "delete_selected", "_selected_action": [rosa.pk], "post": "yes"}
    ).status_code in (200, 302, 403)
    assert Citizen.objects.filter(pk=rosa.pk).exists()
    delete_url = reverse("admin:people_citizen_delete", args=[rosa.pk])
    assert admin.post(delete_url, {"post": "yes"}).status_code == 403
    assert Citizen.objects.filter(pk=rosa.pk).exists()
    erase_url = reverse("admin:people_citizen_erase", args=[rosa.pk])
    # Only council admins erase (a caseworker would not even reach the admin's citizens).
    assert _console(staff["dpw"]).post(erase_url, {"confirm": "erase"}).status_code in (302, 403)
    assert Citizen.objects.filter(pk=rosa.pk).exists()
    page = admin.get(erase_url)
    assert page.status_code == 200 and "contact points" in page.content.decode()
    assert Citizen.objects.filter(pk=rosa.pk).exists()  # showing the plan erases nothing
    assert admin.post(erase_url, {"confirm": "erase"}).status_code == 302
    assert not Citizen.objects.filter(pk=rosa.pk).exists()


# --- erasure --------------------------------------------------------------------------------


def _text_fields(model: type[models.Model]) -> list[str]:
    return [
        f.attname
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField | models.FileField)
    ]


def _db_rows_containing(secret: str) -> list[str]:
    """Every row of every installed model whose text contains `secret` (a full scan)."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        fields = _text_fields(model)
        if not fields:
            continue
        for row in model._default_manager.values_list("pk", *fields).iterator():
            for value in row[1:]:
                if value is not None and secret.lower() in json.dumps(value).lower():
                    found.append(f"{model._meta.label}#{row[0]}")
    return found


def _events_snapshot() -> list[tuple[Any, ...]]:
    return list(
        CaseEvent.objects.order_by("pk").values_list("pk", "case_id", "seq", "data", "hash")
    )


def test_erasure_leaves_no_trace_of_the_resident_and_every_chain_verifies(
    town: Any, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    # A council's own wording quotes the address in updates: followers' copies quote Rosa's.
    NotificationTemplate.objects.update_or_create(
        kind="status_changed",
        channel="email",
        language="en",
        defaults={"subject": "{{ reference }}", "body": "{{ status }} at {{ address }}"},
    )
    rosa = report(ROSA, n=2)
    rosa = citizen_account_for_email(email=ROSA["email"])
    bob = report(BOB, lat=42.30)
    case_follow(case=Case.objects.get(reporter=bob), citizen=rosa)
    first = Case.objects.filter(reporter=rosa).order_by("pk").first()
    case_follow(case=first, citizen=bob, via=FollowVia.SUBSCRIBED)
    case_transition(case=first, to=CaseStatus.IN_PROGRESS, actor=None)
    to_bob = Notification.objects.get(citizen=bob, case_id=first.pk, kind="status_changed")
    assert ROSA["address"] in to_bob.body
    LogEntry.objects.create(  # as the admin logs a change to Rosa's record
        user=staff_user_create(username="ada", role=StaffRole.COUNCIL_ADMIN, password="pw-1x"),
        content_type=ContentType.objects.get_for_model(Citizen),
        object_id=str(rosa.pk),
        object_repr=str(rosa),
        action_flag=CHANGE,
        change_message=f"Changed value for contact point {ROSA['email']}",
    )
    for secret in needles(ROSA):
        assert _db_rows_containing(secret), f"the test should start with {secret!r} stored"
    rosa_cases = list(Case.objects.filter(reporter=rosa).order_by("pk"))
    files = [p.file.name for p in CasePhoto.objects.filter(case__in=rosa_cases)] + [
        a.file.name for a in InboundAttachment.objects.filter(message__citizen=rosa)
    ]
    assert len(files) == 4 and all(default_storage.exists(name) for name in files)
    before = _events_snapshot()
    user_id = rosa.user_id

    with django_capture_on_commit_callbacks(execute=True):  # files go after commit
        report_ = resident_erase(citizen_id=rosa.pk)

    assert sorted(report_.case_ids) == [c.pk for c in rosa_cases]
    leaks = {secret: _db_rows_containing(secret) for secret in needles(ROSA)}
    assert not any(leaks.values()), leaks
    assert not any(default_storage.exists(name) for name in files)
    # Events were appended, never changed: old rows are byte for byte the same.
    after = _events_snapshot()
    assert after[: len(before)] == before
    added = CaseEvent.objects.filter(pk__gt=before[-1][0])
    assert sorted(e.case_id for e in added) == [c.pk for c in rosa_cases]
    assert all(e.kind == "note" and not e.public for e in added)
    checked, breaks = ledger_verify()
    assert checked == len(after) and breaks == []
    call_command("ledger", "verify", stdout=io.StringIO())
    # The cases stay for statistics, without their reporter; Bob is untouched.
    for case in Case.objects.filter(pk__in=[c.pk for c in rosa_cases]):
        assert case.reporter_id is None and case.service_type.code == "pothole"
        assert case.description == "" and case.address == ""
        assert case.lat is not None and round(case.lat, 2) == case.lat
    assert BOB["text"] in Case.objects.get(reporter=bob).description
    assert _db_rows_containing(BOB["email"])
    to_bob.refresh_from_db()  # Bob's copy stays, without Rosa's address
    assert to_bob.to == BOB["email"] and "[erased]" in to_bob.body
    # Recorded, with no personal data.
    assert PersonEvent.objects.filter(kind=PersonEventKind.ERASED, subject_id=rosa.pk).exists()
    assert SecurityEvent.objects.filter(
        kind=SecurityEventKind.RESIDENT_ERASED, subject=f"citizen:{rosa.pk}"
    ).exists()
    account = get_user_model().objects.get(pk=user_id)
    assert not account.is_active and not account.has_usable_password()


def _database_dump() -> dict[str, list[tuple[Any, ...]]]:
    return {
        model._meta.label: sorted(
            (tuple(map(str, row)) for row in model._default_manager.values_list()), key=str
        )
        for model in apps.get_models(include_auto_created=True)
    }


def test_a_dry_run_changes_nothing(town: Any) -> None:
    rosa = report(ROSA, n=2)
    before = _database_dump()
    out = io.StringIO()
    call_command("people", "erase", str(rosa.pk), "--dry-run", stdout=out)
    assert _database_dump() == before
    text = out.getvalue()
    assert "Dry run" in text and "cases redacted" in text
    assert ROSA["email"] not in text and ROSA["name"] not in text


def test_people_commands_export_and_erase(town: Any, tmp_path: Path) -> None:
    rosa = report(ROSA)
    out = tmp_path / "rosa.zip"
    call_command("people", "export", str(rosa.pk), "--out", str(out), stdout=io.StringIO())
    assert json.loads(zip_members(out.read_bytes())["profile.json"])["id"] == rosa.pk
    call_command("people", "erase", str(rosa.pk), "--yes", stdout=io.StringIO())
    assert not Citizen.objects.filter(pk=rosa.pk).exists()
    help_text = subprocess.run(
        [sys.executable, "manage.py", "people", "export", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--out" in help_text


def test_a_resident_closes_their_account(town: Any) -> None:
    report(ROSA)
    rosa = citizen_account_for_email(email=ROSA["email"])
    client = Client()
    client.force_login(rosa.user)
    url = reverse("portal:close-account")
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 400  # not confirmed: nothing happens
    assert Citizen.objects.filter(pk=rosa.pk).exists()
    response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    assert not Citizen.objects.filter(pk=rosa.pk).exists()
    assert client.get(reverse("portal:account")).status_code == 302  # signed out
    assert not _db_rows_containing(ROSA["email"])


# --- retention -------------------------------------------------------------------------------


def test_retention_purges_only_what_is_past_its_period(
    town: Any, media: Path, settings: Any
) -> None:
    now = timezone.now()
    policy = retention_policy()
    assert policy.raw_message_days == 90  # the settings' defaults
    assert not RetentionPolicy.objects.exists()  # reading it wrote nothing
    old = now - timedelta(days=4000)

    rosa = report(ROSA, n=2)
    messages = list(InboundMessage.objects.filter(citizen=rosa).order_by("pk"))
    InboundMessage.objects.filter(pk=messages[0].pk).update(received_at=old)
    old_attachment = InboundAttachment.objects.get(message=messages[0])
    new_attachment = InboundAttachment.objects.get(message=messages[1])
    cases = list(Case.objects.filter(reporter=rosa).order_by("pk"))
    follows = [
        follow_request_create(case=cases[1], email=f"{who}@example.org")[0]
        for who in ("old", "new")
    ]
    FollowRequest.objects.filter(pk=follows[0].pk).update(created_at=old)
    for case in cases:
        case_transition(case=case, to=CaseStatus.RESOLVED, actor=None)
        case_transition(case=case, to=CaseStatus.CLOSED, actor=None)
    Case.objects.filter(pk=cases[0].pk).update(closed_at=old)
    logs = [SearchLog.objects.create(query=q) for q in ("old query", "new query")]
    SearchLog.objects.filter(pk=logs[0].pk).update(created_at=old)
    SecurityEvent.objects.all().delete()
    events = [SecurityEvent.objects.create(kind="other", subject=s) for s in ("old", "new")]
    SecurityEvent.objects.filter(pk=events[0].pk).update(at=old)
    accesses = [
        AccessLog.objects.create(username=who, ip_address="192.0.2.1", user_agent="x")
        for who in ("old", "new")
    ]
    AccessLog.objects.filter(pk=accesses[0].pk).update(attempt_time=old)
    staged_old = default_storage.save(f"{STAGED_FOLDER}/old.jpg", ContentFile(b"x"))
    staged_new = default_storage.save(f"{STAGED_FOLDER}/new.jpg", ContentFile(b"y"))
    stamp = time.time() - 3 * 86400
    os.utime(default_storage.path(staged_old), (stamp, stamp))

    before = _database_dump()
    dry = {item.kind: item for item in retention_purge(dry_run=True)}
    assert _database_dump() == before
    assert default_storage.exists(staged_old)
    assert {k: i.due for k, i in dry.items()} == {
        "raw_messages": 1,
        "attachments": 1,
        "search_logs": 1,
        "staged_files": 1,
        "closed_cases": 1,
        "security_events": 1,
        "staff_access_log": 1,
        "follow_confirmations": 1,
    }
    assert all(i.purged == 0 for i in dry.values())
    out = io.StringIO()
    call_command("retention", "purge", "--dry-run", stdout=out)
    assert "dry run" in out.getvalue() and _database_dump() == before

    done = {item.kind: item.purged for item in retention_purge()}
    assert done == dict.fromkeys(dry, 1)
    messages[0].refresh_from_db()
    messages[1].refresh_from_db()
    assert messages[0].raw == "" and ROSA["email"] in messages[1].raw
    assert not InboundAttachment.objects.filter(pk=old_attachment.pk).exists()
    assert not default_storage.exists(old_attachment.file.name)
    assert InboundAttachment.objects.filter(pk=new_attachment.pk).exists()
    assert list(SearchLog.objects.values_list("query", flat=True)) == ["new query"]
    assert list(SecurityEvent.objects.values_list("subject", flat=True)) == ["new"]
    assert list(AccessLog.objects.values_list("username", flat=True)) == ["new"]
    assert list(FollowRequest.objects.values_list("email", flat=True)) == ["new@example.org"]
    assert not default_storage.exists(staged_old) and default_storage.exists(staged_new)
    cases[0].refresh_from_db()
    cases[1].refresh_from_db()
    assert cases[0].description == "" and cases[0].reporter_id is None
    assert not CasePhoto.objects.filter(case=cases[0]).exists()
    assert ROSA["text"] in cases[1].description and cases[1].reporter_id == rosa.pk
    assert ledger_verify()[1] == []
    # A second run finds nothing more; a period of 0 keeps that kind forever.
    assert all(item.due == 0 for item in retention_purge())
    RetentionPolicy.objects.create(**{**settings.TOWNHALL_RETENTION, "security_event_days": 0})
    SecurityEvent.objects.filter(subject="new").update(at=old)
    assert {i.kind: i.due for i in retention_purge(dry_run=True)}["security_events"] == 0


def test_council_admins_see_and_edit_the_retention_policy(staff: dict[str, Any]) -> None:
    admin = _console(staff["admin"])
    page = admin.get(reverse("admin:intake_retentionpolicy_changelist"))
    assert page.status_code == 200
    change = reverse("admin:intake_retentionpolicy_change", args=[1])
    data = {
        "raw_message_days": 30,
        "attachment_days": 365,
        "search_log_days": 180,
        "staged_file_hours": 24,
        "closed_case_years": 3,
        "security_event_days": 365,
    }
    assert admin.post(change, data).status_code == 302
    assert retention_policy().raw_message_days == 30
    assert _console(staff["dpw"]).get(change).status_code in (302, 403)


def test_the_retention_purge_is_scheduled(settings: Any, db: None) -> None:
    paths = [path for path, _every in settings.TOWNHALL_PERIODIC_TASKS]
    assert "townhall.intake.tasks.retention_purge_task" in paths
    SearchLog.objects.filter(pk=SearchLog.objects.create(query="old").pk).update(
        created_at=timezone.now() - timedelta(days=4000)
    )
    assert retention_purge_task.call()["search_logs"] == 1
    assert not SearchLog.objects.exists()


# --- benchmark ------------------------------------------------------------------------------


def test_the_privacy_benchmark_runs_in_smoke_mode() -> None:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.pop("BENCH_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "bench/privacy.py", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "export" in done.stdout and "erase" in done.stdout
