"""Where uploaded files (photos, attachments, staged photos) live: the var directory, or
object storage (S3 or S3-compatible such as MinIO, or Azure Blob) shared by every web
process. Objects are private: the site checks who may see a file and then streams it
(file backend), hands it to nginx (X-Accel-Redirect) or redirects to a short-lived signed
URL (object storage). See docs/operations.md, "Shared state in production".
"""

from __future__ import annotations

from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

BACKENDS = ("file", "s3", "azure")


def media_storage(env: environ.Env) -> dict[str, Any]:
    """STORAGES["default"] from TOWNHALL_MEDIA_STORAGE = file (default) | s3 | azure.

    s3: AWS_STORAGE_BUCKET_NAME (required), AWS_S3_ENDPOINT_URL (MinIO and the like),
    AWS_S3_REGION_NAME; credentials come the way boto3 finds them (AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY in the environment, or the machine's role), never from settings.
    azure: AZURE_CONTAINER (required) and AZURE_CONNECTION_STRING, or AZURE_ACCOUNT_NAME
    with AZURE_ACCOUNT_KEY. Signed URLs last TOWNHALL_MEDIA_URL_EXPIRY seconds (300).
    """
    kind = env.str("TOWNHALL_MEDIA_STORAGE", default="file").strip().lower()
    expiry = env.int("TOWNHALL_MEDIA_URL_EXPIRY", default=300)
    if not 1 <= expiry <= 3600:
        raise ImproperlyConfigured("TOWNHALL_MEDIA_URL_EXPIRY must be between 1 and 3600 seconds.")
    if kind == "file":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if kind == "s3":
        bucket = env.str("AWS_STORAGE_BUCKET_NAME", default="")
        if not bucket:
            raise ImproperlyConfigured(
                "TOWNHALL_MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME (the bucket's name)."
            )
        options: dict[str, Any] = {
            "bucket_name": bucket,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": expiry,
            "file_overwrite": False,
            "signature_version": "s3v4",
            "location": env.str("AWS_LOCATION", default=""),
        }
        endpoint = env.str("AWS_S3_ENDPOINT_URL", default="")
        if endpoint:
            options["endpoint_url"] = endpoint
        region = env.str("AWS_S3_REGION_NAME", default="")
        if region:
            options["region_name"] = region
        addressing = env.str("AWS_S3_ADDRESSING_STYLE", default="")
        if addressing:  # "path" for MinIO without per-bucket host names
            options["addressing_style"] = addressing
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
    if kind == "azure":
        container = env.str("AZURE_CONTAINER", default="")
        if not container:
            raise ImproperlyConfigured(
                "TOWNHALL_MEDIA_STORAGE=azure needs AZURE_CONTAINER (the container's name)."
            )
        connection_string = env.str("AZURE_CONNECTION_STRING", default="")
        account_name = env.str("AZURE_ACCOUNT_NAME", default="")
        account_key = env.str("AZURE_ACCOUNT_KEY", default="")
        if not connection_string and not (account_name and account_key):
            raise ImproperlyConfigured(
                "TOWNHALL_MEDIA_STORAGE=azure needs AZURE_CONNECTION_STRING, or "
                "AZURE_ACCOUNT_NAME and AZURE_ACCOUNT_KEY (signed URLs need the key)."
            )
        azure: dict[str, Any] = {
            "azure_container": container,
            "expiration_secs": expiry,  # every url() is a SAS that ends this soon
            "overwrite_files": False,
            "azure_ssl": True,
            "location": env.str("AZURE_LOCATION", default=""),
        }
        if connection_string:
            azure["connection_string"] = connection_string
        if account_name:
            azure["account_name"] = account_name
        if account_key:
            azure["account_key"] = account_key
        return {"BACKEND": "storages.backends.azure_storage.AzureStorage", "OPTIONS": azure}
    raise ImproperlyConfigured(
        f"TOWNHALL_MEDIA_STORAGE must be one of {', '.join(BACKENDS)}, not {kind!r}."
    )


def media_accel_redirect(env: environ.Env) -> str:
    """TOWNHALL_MEDIA_ACCEL_REDIRECT: nginx's internal location for MEDIA_ROOT (e.g.
    "/protected-media/"), or "" to stream files from Django. Only for the file backend."""
    location: str = env.str("TOWNHALL_MEDIA_ACCEL_REDIRECT", default="").strip()
    if location and not (location.startswith("/") and location.endswith("/")):
        raise ImproperlyConfigured(
            "TOWNHALL_MEDIA_ACCEL_REDIRECT must be a location path such as /protected-media/."
        )
    return location


def media_client_loggers() -> dict[str, Any]:
    """LOGGING["loggers"] for the object storage clients: at DEBUG they log object keys,
    canonical requests and signatures, so they stay at WARNING whatever LOG_LEVEL says."""
    return {
        name: {"level": "WARNING"}
        for name in ("boto3", "botocore", "s3transfer", "urllib3", "azure")
    }


def media_image_urls(storage: dict[str, Any]) -> list[str]:
    """Where signed URLs for `storage` (STORAGES["default"]) point, for the CSP's img-src:
    browsers check a redirect's target too, so photos on object storage need its origin."""
    options = storage.get("OPTIONS", {})
    if storage["BACKEND"] == "storages.backends.s3.S3Storage":
        if options.get("endpoint_url"):
            endpoint = str(options["endpoint_url"]).rstrip("/")
            scheme, _, host = endpoint.partition("://")
            return [endpoint, f"{scheme}://{options['bucket_name']}.{host}"]
        bucket, region = options["bucket_name"], options.get("region_name", "")
        urls = [f"https://{bucket}.s3.amazonaws.com"]
        if region:
            urls.append(f"https://{bucket}.s3.{region}.amazonaws.com")
        return urls
    if storage["BACKEND"] == "storages.backends.azure_storage.AzureStorage":
        account = options.get("account_name") or _azure_account(
            options.get("connection_string", "")
        )
        return [f"https://{account}.blob.core.windows.net"] if account else []
    return []


def _azure_account(connection_string: str) -> str:
    for part in connection_string.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == "accountname":
            return value.strip()
    return ""
