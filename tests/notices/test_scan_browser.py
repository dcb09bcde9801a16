"""The batch-code check in headless Chromium, checked with axe (WCAG 2.2 AA): a real QR
code in a photo-like PNG is given to the page's file input and decoded ON THE PAGE (the
vendored ZXing decoder, the browser's BarcodeDetector removed), and the answer comes at
once; the typed form works without JavaScript."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
import segno
from PIL import Image

from tests.browser import assert_accessible
from townhall.notices.models import Notice

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def photo_of_qr(text: str, path: Path) -> Path:
    """A QR code as a phone photo would hold it: off-centre on a larger light-grey card."""
    buffer = io.BytesIO()
    segno.make_qr(text, error="m").save(buffer, kind="png", scale=8, border=4)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    card = Image.new("RGB", (code.width * 3, code.height * 2), (226, 226, 220))
    card.paste(code, (code.width // 2 + 37, code.height // 3 + 11))
    card.save(path, format="PNG")
    return path


def test_a_scanned_qr_code_is_decoded_on_the_page_and_checked(
    live_server: Any, page: Any, recall: Notice, tmp_path: Path
) -> None:
    page.add_init_script("delete window.BarcodeDetector;")  # the vendored decoder's path
    uploads: list[str] = []
    page.on(
        "request",
        lambda r: (
            uploads.append(r.url)
            if r.method == "POST" and r.post_data_buffer and b"PNG" in (r.post_data_buffer or b"")
            else None
        ),
    )
    page.goto(f"{live_server.url}/notices/{recall.pk}/")
    assert page.get_by_role("heading", name="Check if your product is affected").is_visible()
    assert page.get_by_label("Or scan the barcode or QR code from a photo").is_visible()
    assert_accessible(page)
    with page.expect_navigation():
        page.set_input_files("#scan-photo", str(photo_of_qr("ab-123 45", tmp_path / "qr.png")))
    banner = page.get_by_role("alert")
    assert "Code AB12345 is in this recall: your product is affected." in banner.inner_text()
    assert "Return it to the shop for a full refund." in banner.inner_text()
    assert page.get_by_label("Batch or lot code").input_value() == "ab-123 45"
    assert uploads == []  # the photo never left the page
    assert_accessible(page)
    # A code that is not in the recall, scanned too.
    with page.expect_navigation():
        page.set_input_files("#scan-photo", str(photo_of_qr("ZZ-999", tmp_path / "qr2.png")))
    assert "is not in this recall" in page.get_by_role("alert").inner_text()


def test_a_photo_without_a_barcode_says_so(
    live_server: Any, page: Any, recall: Notice, tmp_path: Path
) -> None:
    page.add_init_script("delete window.BarcodeDetector;")
    blank = tmp_path / "blank.png"
    Image.new("RGB", (400, 300), (250, 250, 250)).save(blank)
    page.goto(f"{live_server.url}/notices/{recall.pk}/")
    page.set_input_files("#scan-photo", str(blank))
    status = page.locator("#scan-status")
    status.get_by_text("We could not read a barcode in that photo").wait_for()
    assert page.url.endswith(f"/notices/{recall.pk}/")
    assert_accessible(page)


def test_the_typed_check_works_without_javascript_in_spanish(
    browser: Any, live_server: Any, recall: Notice
) -> None:
    # (axe needs JavaScript: the pages were checked with it in the tests above.)
    context = browser.new_context(java_script_enabled=False, locale="es-ES")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server.url}/notices/{recall.pk}/")
        assert page.locator("#scan").is_hidden()  # no scanning without JavaScript
        page.get_by_label("Código de lote").fill("lot 2024-07-x9")
        page.get_by_role("button", name="Comprobar el código").click()
        text = page.get_by_role("alert").inner_text()
        assert "El código LOT202407X9 está en esta retirada" in text
        assert "No lo coma" in text
        page.get_by_label("Código de lote").fill("<b>")
        page.get_by_role("button", name="Comprobar el código").click()
        assert (
            "Un código de lote solo tiene letras y números"
            in page.get_by_role("alert").inner_text()
        )
        page.goto(f"{live_server.url}/notices/")
        assert page.get_by_role("link", name="Peanut butter recall").is_visible()
    finally:
        context.close()
