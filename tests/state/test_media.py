"""Media on object storage: uploads land in the bucket, files go out as short-lived signed
URLs to those who pass the access check, and the file backend keeps working (issue 19)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import environ
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from moto import mock_aws
from PIL import Image

from tests.state.conftest import signed_in
from townhall.cases.models import Case, CasePhoto
from townhall.cases.photos import photo_clean
from townhall.cases.services import case_open
from townhall.cases.services.notes import case_photos_add
from townhall.cases.tracking import track_token
from townhall.conf.media import media_accel_redirect, media_image_urls, media_storage
from townhall.conf.security import url_origin

pytestmark = pytest.mark.django_db

BUCKET = "townhall-media-test"


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 40)).save(out, "JPEG")
    return out.getvalue()


def storage_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> environ.Env:
    for name in (
        "TOWNHALL_MEDIA_STORAGE",
        "TOWNHALL_MEDIA_URL_EXPIRY",
        "AWS_STORAGE_BUCKET_NAME",
        "AWS_S3_ENDPOINT_URL",
        "AWS_S3_REGION_NAME",
        "AZURE_CONTAINER",
        "AZURE_CONNECTION_STRING",
        "AZURE_ACCOUNT_NAME",
        "AZURE_ACCOUNT_KEY",
        "TOWNHALL_MEDIA_ACCEL_REDIRECT",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return environ.Env()


@pytest.fixture
def bucket(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's in-process S3 as the media storage, built by conf/media.py from the env."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    env = storage_env(
        monkeypatch,
        TOWNHALL_MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_S3_REGION_NAME="eu-west-1",
    )
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        settings.STORAGES = {**settings.STORAGES, "default": media_storage(env)}
        yield s3


def photographed(service: Any) -> tuple[Case, CasePhoto]:
    case = case_open(
        service_type=service, channel="web", answers={"size": "small"}, description="Hole"
    )
    (photo,) = case_photos_add(case=case, photos=[photo_clean(jpeg(), filename="p.jpg")])
    return case, photo


def test_an_uploaded_photo_lands_in_the_bucket_privately(bucket: Any, pothole: Any) -> None:
    _case, photo = photographed(pothole)
    keys = [o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [photo.file.name]
    body = bucket.get_object(Bucket=BUCKET, Key=photo.file.name)["Body"].read()
    assert body[:2] == b"\xff\xd8"  # the cleaned JPEG, not a path or a placeholder
    grants = bucket.get_object_acl(Bucket=BUCKET, Key=photo.file.name)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # owner only: private
    assert not any("AllUsers" in str(g["Grantee"]) for g in grants)


def test_a_permitted_caseworker_is_redirected_to_a_short_lived_signed_url(
    bucket: Any, pothole: Any, staff: dict[str, Any], settings: Any
) -> None:
    case, photo = photographed(pothole)
    url = reverse("console:photo", args=[case.pk, photo.pk])

    response = signed_in(staff["caseworker"]).get(url)

    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    location = urlsplit(response["Location"])
    query = parse_qs(location.query)
    assert location.scheme == "https"
    assert BUCKET in location.netloc + location.path and "amazonaws.com" in location.netloc
    assert location.path.endswith(photo.file.name)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Signature"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["response-content-type"] == ["image/jpeg"]
    # pages may show it: the CSP's img-src holds the signed URL's origin
    origins = {url_origin(u) for u in media_image_urls(settings.STORAGES["default"])}
    assert url_origin(response["Location"]) in origins
    # The signed URL really opens the object (moto checks the signature's shape).
    import requests

    fetched = requests.get(response["Location"], timeout=5)
    assert fetched.status_code == 200 and fetched.content[:2] == b"\xff\xd8"
    assert fetched.headers["Content-Type"] == "image/jpeg"


def test_someone_who_may_not_see_the_case_gets_a_404_and_no_url(
    bucket: Any, pothole: Any, staff: dict[str, Any]
) -> None:
    case, photo = photographed(pothole)
    url = reverse("console:photo", args=[case.pk, photo.pk])

    response = signed_in(staff["other_caseworker"]).get(url)  # Inspectional Services

    assert response.status_code == 404
    assert "Location" not in response
    assert b"amazonaws" not in response.content and b"X-Amz" not in response.content


def test_the_portal_link_redirects_its_own_photo_and_not_another_cases(
    bucket: Any, client: Any, pothole: Any
) -> None:
    case, photo = photographed(pothole)
    other, _other_photo = photographed(pothole)

    mine = client.get(reverse("portal:photo", args=[track_token(case), photo.pk]))
    theirs = client.get(reverse("portal:photo", args=[track_token(other), photo.pk]))

    assert mine.status_code == 302 and "X-Amz-Signature=" in mine["Location"]
    assert theirs.status_code == 404 and "Location" not in theirs


def test_a_photo_gone_from_the_bucket_is_a_404(
    bucket: Any, pothole: Any, staff: dict[str, Any]
) -> None:
    case, photo = photographed(pothole)
    bucket.delete_object(Bucket=BUCKET, Key=photo.file.name)
    response = signed_in(staff["caseworker"]).get(
        reverse("console:photo", args=[case.pk, photo.pk])
    )
    assert response.status_code == 404


def test_signed_urls_and_storage_names_stay_out_of_the_logs(
    bucket: Any, pothole: Any, staff: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    case, photo = photographed(pothole)
    caplog.set_level("DEBUG")
    response = signed_in(staff["caseworker"]).get(
        reverse("console:photo", args=[case.pk, photo.pk])
    )
    assert response.status_code == 302
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "X-Amz-Signature" not in logged
    assert photo.file.name not in logged


# --- the file backend (the demo), and nginx --------------------------------------------------


@pytest.fixture
def media_dir(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT  # type: ignore[no-any-return]


def test_the_file_backend_still_streams_the_photo(
    media_dir: Path, pothole: Any, staff: dict[str, Any]
) -> None:
    assert media_storage(environ.Env())["BACKEND"].endswith("FileSystemStorage")
    case, photo = photographed(pothole)
    assert (media_dir / photo.file.name).is_file()
    url = reverse("console:photo", args=[case.pk, photo.pk])

    response = signed_in(staff["caseworker"]).get(url)
    denied = signed_in(staff["other_caseworker"]).get(url)

    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"  # type: ignore[attr-defined]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert denied.status_code == 404


def test_behind_nginx_the_file_backend_answers_with_x_accel_redirect(
    media_dir: Path, settings: Any, pothole: Any, staff: dict[str, Any]
) -> None:
    settings.TOWNHALL_MEDIA_ACCEL_REDIRECT = "/protected-media/"
    case, photo = photographed(pothole)
    url = reverse("console:photo", args=[case.pk, photo.pk])

    response = signed_in(staff["caseworker"]).get(url)
    denied = signed_in(staff["other_caseworker"]).get(url)

    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{photo.file.name}"
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=3600"
    assert denied.status_code == 404 and "X-Accel-Redirect" not in denied
    (media_dir / photo.file.name).unlink()
    assert signed_in(staff["caseworker"]).get(url).status_code == 404


# --- settings ------------------------------------------------------------------------------


def test_s3_settings_are_private_signed_and_short_lived(monkeypatch: pytest.MonkeyPatch) -> None:
    env = storage_env(
        monkeypatch,
        TOWNHALL_MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="media",
        AWS_S3_ENDPOINT_URL="http://minio.internal:9000",
        AWS_S3_REGION_NAME="us-east-1",
    )
    built = media_storage(env)
    assert built["BACKEND"] == "storages.backends.s3.S3Storage"
    assert media_image_urls(built) == [
        "http://minio.internal:9000",
        "http://media.minio.internal:9000",
    ]
    assert built["OPTIONS"] == {
        "bucket_name": "media",
        "endpoint_url": "http://minio.internal:9000",
        "region_name": "us-east-1",
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": 300,
        "file_overwrite": False,
        "signature_version": "s3v4",
        "location": "",
    }


def test_the_azure_settings_build_the_backend_on_the_container_with_expiring_urls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from storages.backends.azure_storage import AzureStorage

    env = storage_env(
        monkeypatch,
        TOWNHALL_MEDIA_STORAGE="azure",
        AZURE_CONTAINER="townhall-media",
        AZURE_ACCOUNT_NAME="townhallstore",
        AZURE_ACCOUNT_KEY="a2V5LWZvci10ZXN0cy1vbmx5",
        TOWNHALL_MEDIA_URL_EXPIRY="120",
    )
    built = media_storage(env)
    assert built["BACKEND"] == "storages.backends.azure_storage.AzureStorage"
    storage = AzureStorage(**built["OPTIONS"])  # builds no client until used: no network
    assert storage.azure_container == "townhall-media"
    assert storage.expiration_secs == 120
    assert storage.overwrite_files is False
    assert media_image_urls(built) == ["https://townhallstore.blob.core.windows.net"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"TOWNHALL_MEDIA_STORAGE": "s3"}, "AWS_STORAGE_BUCKET_NAME"),
        ({"TOWNHALL_MEDIA_STORAGE": "azure"}, "AZURE_CONTAINER"),
        ({"TOWNHALL_MEDIA_STORAGE": "azure", "AZURE_CONTAINER": "c"}, "AZURE_ACCOUNT_KEY"),
        ({"TOWNHALL_MEDIA_STORAGE": "ftp"}, "file, s3, azure"),
        ({"TOWNHALL_MEDIA_URL_EXPIRY": "86400"}, "between 1 and 3600"),
    ],
)
def test_incomplete_storage_settings_are_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], message: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        media_storage(storage_env(monkeypatch, **values))


def test_the_accel_location_must_be_a_path(monkeypatch: pytest.MonkeyPatch) -> None:
    assert media_accel_redirect(storage_env(monkeypatch)) == ""
    good = storage_env(monkeypatch, TOWNHALL_MEDIA_ACCEL_REDIRECT="/protected-media/")
    assert media_accel_redirect(good) == "/protected-media/"
    with pytest.raises(ImproperlyConfigured, match="location path"):
        media_accel_redirect(storage_env(monkeypatch, TOWNHALL_MEDIA_ACCEL_REDIRECT="media"))
