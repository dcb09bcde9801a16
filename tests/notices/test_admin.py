"""Staff's tools: the admin (create, publish, withdraw, import codes, look up a code) and
`townhall notices import-codes` with its help and progress."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from townhall.notices.models import Notice, NoticeEvent, Recall, RecallCode
from townhall.notify.models import Alert, AlertTopic

pytestmark = pytest.mark.django_db


def test_staff_create_publish_import_and_withdraw_in_the_admin(
    admin_client: Client, recalls: AlertTopic
) -> None:
    response = admin_client.post(
        "/admin/notices/notice/add/",
        {
            "kind": "recall",
            "topic": recalls.pk,
            "title": "Jam recall",
            "body": "Mould found.",
            "advice": "Bin it.",
            "product": "Strawberry jam 450 g",
            "radius_m": "",
            "lat": "",
            "long": "",
            "polygon": "null",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    notice = Notice.objects.get()
    assert (notice.status, Recall.objects.get(notice=notice).product) == (
        "draft",
        "Strawberry jam 450 g",
    )
    page = admin_client.get(f"/admin/notices/notice/{notice.pk}/change/").content.decode()
    assert "Import codes" in page
    upload = SimpleUploadedFile("codes.csv", b"lot\nJ-001\nj 002\nbad code!\n", "text/csv")
    response = admin_client.post(
        f"/admin/notices/notice/{notice.pk}/import-codes/", {"csv_file": upload}
    )
    assert response.status_code == 302
    assert sorted(RecallCode.objects.values_list("code", flat=True)) == ["J001", "J002"]
    admin_client.post(
        "/admin/notices/notice/",
        {"action": "publish", "_selected_action": [notice.pk]},
    )
    notice.refresh_from_db()
    assert notice.status == "published" and Alert.objects.filter(pk=notice.alert_id).exists()
    found = admin_client.get("/admin/notices/recallcode/", {"q": "J001"}).content.decode()
    assert "J001" in found
    admin_client.post(
        "/admin/notices/notice/", {"action": "withdraw", "_selected_action": [notice.pk]}
    )
    notice.refresh_from_db()
    assert notice.status == "withdrawn"
    kinds = list(NoticeEvent.objects.filter(notice=notice).values_list("kind", flat=True))
    assert kinds == ["created", "codes_added", "published", "withdrawn"]


def test_the_import_command(recall: Notice, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("code\n" + "".join(f"NEW-{i}\n" for i in range(2500)) + "AB12345\n<>\n")
    call_command("notices", "import-codes", str(recall.pk), str(path), "--batch", "1000")
    out, err = capsys.readouterr()
    assert "2502 read: 2500 added, 1 already there, 1 invalid." in out
    assert "line 2503: A batch code has only letters and numbers" in err
    call_command("notices", "import-codes", str(recall.pk), str(path))
    assert "0 added, 2501 already there" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No such file"):
        call_command("notices", "import-codes", str(recall.pk), str(tmp_path / "none.csv"))
    with pytest.raises(CommandError, match="No such notice"):
        call_command("notices", "import-codes", "999999", str(path))
    path.write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(CommandError, match="UTF-8"):
        call_command("notices", "import-codes", str(recall.pk), str(path))
