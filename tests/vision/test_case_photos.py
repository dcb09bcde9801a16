"""Stored case photos: tagged by a task after the commit, never inline; re-tagging is
idempotent and keeps staff's tags; staff feedback trains a head that changes predictions."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django_tasks_db.models import DBTaskResult
from PIL import Image, ImageOps

from tests.open311.test_post import post as open311_post
from tests.vision.conftest import photo_bytes
from townhall.cases.models import Case, CasePhoto
from townhall.cases.photos import photo_clean
from townhall.cases.services import case_open, case_photos_add
from townhall.open311.keys import api_key_issue
from townhall.vision.errors import VisionError
from townhall.vision.models import PhotoEmbedding, PhotoTag, TagSource, VisionHead, VisionTag
from townhall.vision.services import (
    case_photo_tag,
    photo_tag_confirm,
    photo_tag_correct,
    tag_image,
    vision_head_train,
)

TASK = "townhall.vision.tasks.tag_case_photo"


def _case(pothole: Any) -> Case:
    return case_open(
        service_type=pothole,
        channel="web",
        description="Something dumped",
        answers={"size": "small"},
        lat=42.36,
        long=-71.09,
    )


def _photos(case: Case, *names_or_bytes: str | bytes) -> list[CasePhoto]:
    cleaned = [
        photo_clean(photo_bytes(x) if isinstance(x, str) else x, filename="p.jpg")
        for x in names_or_bytes
    ]
    return case_photos_add(case=case, photos=cleaned)


@pytest.fixture
def cat_tag(db: None) -> VisionTag:
    return VisionTag.objects.create(
        code="cat", label="Cat", imagenet_classes=[281, 282, 283, 284, 285], threshold=0.5
    )


def test_each_new_photo_enqueues_one_tagging_task_and_tags_nothing_inline(
    pothole: Any, media: Path, cat_tag: VisionTag
) -> None:
    case = _case(pothole)
    before = DBTaskResult.objects.filter(task_path=TASK).count()
    rows = _photos(case, "cat.jpg", "coffee.jpg")
    tasks = DBTaskResult.objects.filter(task_path=TASK)
    assert tasks.count() - before == 2
    assert sorted(t.args_kwargs["args"][0] for t in tasks) == sorted(p.pk for p in rows)
    assert not PhotoTag.objects.exists()  # not tagged in the request
    for t in tasks:  # what the worker does
        t.task.call(*t.args_kwargs["args"])
    assert list(PhotoTag.objects.filter(photo=rows[0]).values_list("tag", flat=True)) == ["cat"]
    assert not PhotoTag.objects.filter(photo=rows[1]).exists()
    assert PhotoEmbedding.objects.count() == 2


def test_a_case_without_photos_enqueues_no_tagging(pothole: Any, media: Path) -> None:
    _case(pothole)
    assert case_photos_add(case=Case.objects.get(), photos=[]) == []
    assert not DBTaskResult.objects.filter(task_path=TASK).exists()


@pytest.mark.django_db(transaction=True)
def test_nothing_is_enqueued_when_the_photos_transaction_rolls_back(
    pothole: Any, media: Path, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import default_task_backend

    case = _case(pothole)
    default_task_backend.clear()  # type: ignore[attr-defined]

    def add_then_fail() -> None:
        with transaction.atomic():
            _photos(case, "cat.jpg")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        add_then_fail()
    assert default_task_backend.results == []  # type: ignore[attr-defined]
    _photos(case, "cat.jpg")
    assert [r.task.module_path for r in default_task_backend.results] == [TASK]  # type: ignore[attr-defined]


def test_the_portal_report_with_a_photo_enqueues_tagging_only(
    client: Client, pothole: Any, media: Path, cat_tag: VisionTag
) -> None:
    photo = SimpleUploadedFile("IMG_1.jpg", photo_bytes("cat.jpg"), "image/jpeg")
    response = client.post(
        "/report/pothole/",
        {
            "description": "Deep hole",
            "attribute_size": "large",
            "lat": 42.3601,
            "long": -71.0942,
            "photos": [photo],
        },
    )
    assert response.status_code == 302, response.content.decode()[:1000]
    assert DBTaskResult.objects.filter(task_path=TASK).count() == 1
    assert not PhotoTag.objects.exists()


def test_an_open311_post_without_media_costs_no_tagging(client: Client, town: Any) -> None:
    key = api_key_issue(name="FixMyStreet")[1]
    response = open311_post(client, key)
    assert response.status_code == 200 and Case.objects.count() == 1
    assert not DBTaskResult.objects.filter(task_path=TASK).exists()


def test_retagging_is_idempotent(pothole: Any, media: Path, cat_tag: VisionTag) -> None:
    (photo,) = _photos(_case(pothole), "cat.jpg")
    first = [(t.tag, t.confidence, t.source) for t in case_photo_tag(photo.pk)]
    second = [(t.tag, t.confidence, t.source) for t in case_photo_tag(photo.pk)]
    assert first == second == [("cat", first[0][1], "model")]
    assert PhotoTag.objects.count() == 1 and PhotoEmbedding.objects.count() == 1


def test_staff_tags_and_confirmations_survive_retagging(
    pothole: Any, media: Path, cat_tag: VisionTag, caseworker: Any
) -> None:
    (photo,) = _photos(_case(pothole), "cat.jpg")
    (model_tag,) = case_photo_tag(photo.pk)
    photo_tag_confirm(model_tag.pk, caseworker)
    photo_tag_correct(photo.pk, "dog", caseworker)  # staff add what they see
    case_photo_tag(photo.pk)
    rows = sorted((t.tag, t.source) for t in PhotoTag.objects.filter(photo=photo))
    assert rows == [("cat", "model"), ("dog", "staff")]
    assert PhotoTag.objects.get(tag="cat").confirmed_by_id == caseworker.pk


def test_a_correction_drops_the_models_unconfirmed_guesses(
    pothole: Any, media: Path, cat_tag: VisionTag, caseworker: Any
) -> None:
    (photo,) = _photos(_case(pothole), "cat.jpg")
    case_photo_tag(photo.pk)
    photo_tag_correct(photo.pk, "none", caseworker)
    assert list(PhotoTag.objects.values_list("tag", "source")) == [("none", TagSource.STAFF)]
    with pytest.raises(VisionError):
        photo_tag_correct(photo.pk, "unicorn", caseworker)
    with pytest.raises(VisionError):
        photo_tag_correct(10**9, "dog", caseworker)
    with pytest.raises(VisionError):
        photo_tag_confirm(10**9, caseworker)


def test_a_missing_photo_or_file_is_not_tagged(pothole: Any, media: Path) -> None:
    assert case_photo_tag(10**9) == []
    (photo,) = _photos(_case(pothole), "coffee.jpg")
    photo.file.storage.delete(photo.file.name)
    assert case_photo_tag(photo.pk) == []


def _variants(name: str, n: int) -> list[bytes]:
    """Real photo, cropped and mirrored differently (what a second resident's photo of the
    same thing might look like)."""
    base = Image.open(io.BytesIO(photo_bytes(name))).convert("RGB")
    out = []
    for i in range(n):
        w, h = base.size
        d = 12 * i
        im = base.crop((d, d // 2, w - d // 2, h - d))
        if i % 2:
            im = ImageOps.mirror(im)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=85)
        out.append(buf.getvalue())
    return out


def test_training_a_head_from_feedback_changes_predictions(
    pothole: Any, media: Path, caseworker: Any
) -> None:
    cat = photo_bytes("cat.jpg")
    assert "graffiti" not in {g.tag for g in tag_image(cat)}  # ImageNet knows no graffiti
    assert vision_head_train() is None  # no feedback yet
    case = _case(pothole)
    for data in _variants("cat.jpg", 4):  # staff: these photos show graffiti
        (photo,) = _photos(case, data)
        photo_tag_correct(photo.pk, "graffiti", caseworker)
    for name in ("coffee.jpg", "rocket.jpg"):
        for data in _variants(name, 2):
            (photo,) = _photos(case, data)
            photo_tag_correct(photo.pk, "none", caseworker)
    head = vision_head_train(user=caseworker)
    assert head is not None and head.active and head.rows == 8
    assert sorted(head.labels) == ["graffiti", "none"]
    assert head.metrics["per_tag"] == {"graffiti": 4, "none": 4}
    guesses = tag_image(cat)
    assert (
        guesses[0].tag == "graffiti" and guesses[0].service_code is None
    )  # no graffiti service here
    assert "graffiti" not in {g.tag for g in tag_image(photo_bytes("coffee.jpg"))}
    # A second training replaces the first as the only active head.
    again = vision_head_train()
    assert again is not None
    assert list(VisionHead.objects.filter(active=True)) == [again]


def test_removing_a_photo_removes_its_tags_and_features(
    pothole: Any, media: Path, cat_tag: VisionTag, caseworker: Any
) -> None:
    (photo,) = _photos(_case(pothole), "cat.jpg")
    case_photo_tag(photo.pk)
    photo_tag_correct(photo.pk, "dog", caseworker)
    photo.delete()  # what erasing a resident's photos does
    assert not PhotoTag.objects.exists() and not PhotoEmbedding.objects.exists()


def test_an_emailed_photo_is_tagged_by_the_task_too(
    client: Client, settings: Any, town: Any, media: Path
) -> None:
    from tests.intake.test_pipeline import SECRET, email_bytes, post_mail

    settings.TOWNHALL_INBOUND_EMAIL_SECRET = SECRET
    settings.TOWNHALL_INTAKE_FALLBACK_SERVICE = "pothole"
    response = post_mail(client, email_bytes(photo=True))
    assert response.json()["outcome"] == "opened"
    (task,) = DBTaskResult.objects.filter(task_path=TASK)
    assert not PhotoEmbedding.objects.exists()
    task.task.call(*task.args_kwargs["args"])
    assert PhotoEmbedding.objects.get().photo.case.channel == "email"
