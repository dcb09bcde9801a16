"""Privacy requests: everything held about a resident as one ZIP (see intake.privacy)."""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q

from townhall.cases.models import Case, CaseEvent, CaseFollower, CasePhoto
from townhall.cases.selectors import case_events_personal_attach
from townhall.core import clock
from townhall.core.security import SecurityEventKind, security_event
from townhall.intake.models import InboundMessage
from townhall.intake.privacy_access import (
    EXPORT_FORMAT,
    Actor,
    Progress,
    _quiet,
    citizen_for_privacy,
)
from townhall.intake.privacy_parts import citizen_phones, privacy_parts
from townhall.notify.models import AlertSubscription, Notification, OptOut
from townhall.people.models import Citizen, ConsentRecord, ContactPoint, PersonEvent

log = logging.getLogger(__name__)

# --- export ------------------------------------------------------------------------------


@dataclass
class ExportResult:
    citizen_id: int
    counts: dict[str, int] = field(default_factory=dict)
    files: int = 0


def _json(zf: zipfile.ZipFile, name: str, value: Any) -> None:
    zf.writestr(
        name,
        json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        compress_type=zipfile.ZIP_DEFLATED,
    )


def _safe(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return cleaned[:80] or "file"


def _copy_file(zf: zipfile.ZipFile, storage_name: str, arcname: str) -> bool:
    """Stream one stored file into the ZIP (stored, not deflated: photos are compressed)."""
    try:
        with default_storage.open(storage_name, "rb") as src, zf.open(arcname, "w") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
    except OSError:
        log.warning("privacy export: a stored file is missing")
        return False
    return True


def _actor_of(event: CaseEvent, user_id: int | None) -> str:
    if event.actor_id is None:
        return "system"
    return "you" if user_id is not None and event.actor_id == user_id else "council staff"


def _profile(citizen: Citizen) -> dict[str, Any]:
    user = citizen.user
    return {
        "id": citizen.pk,
        "display_name": citizen.display_name,
        "preferred_language": citizen.preferred_language,
        "preferred_channel": citizen.preferred_channel,
        "created_at": citizen.created_at,
        "updated_at": citizen.updated_at,
        "account": None
        if user is None
        else {
            "username": user.get_username(),
            "email": getattr(user, "email", ""),
            "date_joined": getattr(user, "date_joined", None),
            "last_login": user.last_login,
        },
    }


def _case_row(case: Case) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "service_code": case.service_type.code,
        "service": case.service_type.name,
        "department": case.department.name,
        "status": case.status,
        "channel": case.channel,
        "priority": case.priority,
        "description": case.description,
        "answers": case.answers,
        "address": case.address,
        "lat": case.lat,
        "long": case.long,
        "media_url": case.media_url,
        "opened_at": case.opened_at,
        "expected_on": case.expected_on,
        "resolved_at": case.resolved_at,
        "closed_at": case.closed_at,
    }


def resident_export(
    *,
    citizen_id: int,
    out: IO[bytes] | str | Path,
    actor: Actor = None,
    request: Any = None,
    via: str = "staff",
    progress: Progress = _quiet,
) -> ExportResult:
    """Write everything Townhall holds about one resident as a ZIP to `out`.

    `profile.json`, `contact_points.json`, `consents.json`, `history.json`, `cases.json`
    (the cases they reported, each with its events: internal ones without their contents,
    which may quote other people), `following.json` (cases they follow:
    only what the public page shows), `messages.json` (what they sent, as received),
    `notifications.json` (what we sent them), `alerts.json`, and the files under
    `files/photos/` and `files/attachments/`; `manifest.json` lists the counts. Nothing
    about another resident: only rows linked to this citizen, and for a followed case
    only its public facts. Raise NotFound for an unknown citizen.
    """
    citizen = citizen_for_privacy(citizen_id)
    result = ExportResult(citizen_id=citizen.pk)
    cases = list(
        Case.objects.filter(reporter_id=citizen.pk)
        .select_related("service_type", "department")
        .order_by("opened_at", "pk")
    )
    case_ids = [c.pk for c in cases]
    photos = list(CasePhoto.objects.filter(case_id__in=case_ids).order_by("case_id", "pk"))
    messages = list(
        InboundMessage.objects.filter(citizen_id=citizen.pk)
        .prefetch_related("attachments")
        .order_by("received_at", "pk")
    )
    attachments = [a for m in messages for a in m.attachments.all()]
    total = 6 + len(cases) + len(photos) + len(attachments)
    done = 0

    def step(name: str, by: int = 1) -> None:
        nonlocal done
        done += by
        progress(name, done, total)

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        _json(zf, "profile.json", _profile(citizen))
        points = list(
            ContactPoint.objects.filter(citizen_id=citizen.pk)
            .order_by("kind", "pk")
            .values("kind", "value", "verified", "created_at")
        )
        consents = list(
            ConsentRecord.objects.filter(citizen_id=citizen.pk)
            .order_by("at", "pk")
            .values("purpose", "granted", "at", "channel", "wording")
        )
        _json(zf, "contact_points.json", points)
        _json(zf, "consents.json", consents)
        history = list(
            PersonEvent.objects.filter(Q(citizen_id=citizen.pk) | Q(subject_id=citizen.pk))
            .order_by("at", "pk")
            .values("kind", "at", "reason", "data")
        )
        _json(zf, "history.json", history)
        step("profile")

        user_id = citizen.user_id
        photos_by_case: dict[int, list[CasePhoto]] = {}
        for photo in photos:
            photos_by_case.setdefault(photo.case_id, []).append(photo)
        events_by_case: dict[int, list[CaseEvent]] = {}
        events = list(CaseEvent.objects.filter(case_id__in=case_ids).order_by("case_id", "seq"))
        # The texts kept apart from the hash chain, filled in (one query).
        for event in case_events_personal_attach(events):
            events_by_case.setdefault(event.case_id, []).append(event)
        case_rows = []
        for case in cases:
            row = _case_row(case)
            row["events"] = [
                {
                    "seq": e.seq,
                    "kind": e.kind,
                    "at": e.at,
                    "by": _actor_of(e, user_id),
                    "channel": e.channel,
                    "public": e.public,
                    # Internal events can quote other people (a neighbour's report that
                    # joined this case, a message from someone else): their contents are
                    # given after staff review, never automatically.
                    "data": e.content if e.public else {},
                }
                for e in events_by_case.get(case.pk, [])
            ]
            row["photos"] = []
            for photo in photos_by_case.get(case.pk, []):
                ext = photo.file.name.rsplit(".", 1)[-1] if "." in photo.file.name else "bin"
                arc = f"files/photos/{case.reference}/{photo.pk}.{_safe(ext)}"
                if _copy_file(zf, photo.file.name, arc):
                    result.files += 1
                    row["photos"].append(
                        {"file": arc, "taken_at_lat": photo.lat, "taken_at_long": photo.long}
                    )
                step("photos")
            case_rows.append(row)
            step("cases")
        _json(zf, "cases.json", case_rows)

        following = [
            {
                "reference": f.case.reference,
                "service": f.case.service_type.name,
                "status": f.case.status,
                "via": f.via,
                "since": f.created_at,
            }
            for f in CaseFollower.objects.filter(citizen_id=citizen.pk)
            .exclude(case_id__in=case_ids)
            .select_related("case", "case__service_type")
            .order_by("created_at", "pk")
        ]
        _json(zf, "following.json", following)
        step("following")

        message_rows = []
        for message in messages:
            files = []
            for attachment in message.attachments.all():
                arc = (
                    f"files/attachments/{message.pk}/"
                    f"{attachment.pk}-{_safe(attachment.filename or 'attachment')}"
                )
                if attachment.file and _copy_file(zf, attachment.file.name, arc):
                    result.files += 1
                    files.append(
                        {
                            "file": arc,
                            "filename": attachment.filename,
                            "content_type": attachment.content_type,
                            "size": attachment.size,
                        }
                    )
                step("attachments")
            message_rows.append(
                {
                    "id": message.pk,
                    "channel": message.channel,
                    "received_at": message.received_at,
                    "sender_email": message.sender_email,
                    "sender_phone": message.sender_phone,
                    "sender_handle": message.sender_handle,
                    "sender_name": message.sender_name,
                    "subject": message.subject,
                    "text": message.text,
                    "address": message.address,
                    "lat": message.lat,
                    "long": message.long,
                    "raw": message.raw,
                    "outcome": message.outcome,
                    "case": message.case.reference if message.case_id and message.case else None,
                    "attachments": files,
                }
            )
        _json(zf, "messages.json", message_rows)
        step("messages")

        notifications = list(
            Notification.objects.filter(citizen_id=citizen.pk)
            .order_by("created_at", "pk")
            .values(
                "kind",
                "channel",
                "language",
                "to",
                "subject",
                "body",
                "status",
                "case_id",
                "created_at",
                "sent_at",
                "delivered_at",
            )
        )
        references = {
            c.pk: c.reference
            for c in Case.objects.filter(
                pk__in={n["case_id"] for n in notifications if n["case_id"]}
            )
        }
        notification_rows = [
            {
                **{k: v for k, v in n.items() if k != "case_id"},
                "case": references.get(n["case_id"] or 0),
            }
            for n in notifications
        ]
        _json(zf, "notifications.json", notification_rows)
        _json(
            zf,
            "alerts.json",
            {
                "opt_outs": list(
                    OptOut.objects.filter(citizen_id=citizen.pk).values("channel", "at", "via")
                ),
                "subscriptions": list(
                    AlertSubscription.objects.filter(citizen_id=citizen.pk).values(
                        "topic__name", "channel", "address", "lat", "long", "radius_m", "active"
                    )
                ),
            },
        )
        step("notifications")

        parts: dict[str, int] = {}
        phones = citizen_phones(citizen)
        for part in privacy_parts():
            for name, rows in part.privacy_export(citizen_id=citizen.pk, phones=phones).items():
                _json(zf, name, rows)
                parts[name.removesuffix(".json")] = len(rows)
        result.counts = {
            **parts,
            "contact_points": len(points),
            "consents": len(consents),
            "cases": len(case_rows),
            "following": len(following),
            "photos": len(photos),
            "messages": len(message_rows),
            "attachments": len(attachments),
            "notifications": len(notifications),
        }
        _json(
            zf,
            "manifest.json",
            {
                "format": EXPORT_FORMAT,
                "generated_at": clock.now(),
                "council": getattr(settings, "TOWNHALL_COUNCIL_NAME", ""),
                "counts": result.counts,
                "files": result.files,
            },
        )
        step("manifest")
    security_event(
        SecurityEventKind.RESIDENT_EXPORTED,
        request=request,
        user=actor,
        subject=f"citizen:{citizen.pk}",
        detail={"via": via, **result.counts},
    )
    return result


def resident_export_file(**kwargs: Any) -> IO[bytes]:
    """`resident_export` into a temporary file, rewound: for a download response, which
    closes (and so deletes) it when sent."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (the response owns and closes it)
    try:
        resident_export(out=handle, **kwargs)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle
