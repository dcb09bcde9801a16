"""Security review of photo recognition (session 28): untrusted image bytes."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from townhall.vision.engine import ImageUnreadable, image_array

BUDGET = 4_000_000  # pixels a resize may ask for: far above 256 x 256, far below a bomb


def _png(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (90, 90, 90)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


@pytest.fixture
def bounded_resize(monkeypatch: Any) -> None:
    """Fail (instead of allocating gigabytes) when a resize asks for more than BUDGET."""
    real = Image.Image.resize

    def resize(self: Image.Image, size: tuple[int, int], *args: Any, **kw: Any) -> Any:
        assert size[0] * size[1] <= BUDGET, f"resize to {size} would allocate too much"
        return real(self, size, *args, **kw)

    monkeypatch.setattr(Image.Image, "resize", resize)


def test_a_thin_strip_is_refused_not_scaled_to_gigabytes(bounded_resize: None) -> None:
    # 8 x 200,000 is 1.6 M pixels (well under MAX_PIXELS) and a few kB of PNG, yet scaling
    # its short side to 256 asks for 256 x 6,400,000 pixels (4.9 GB of RGB).
    data = _png((8, 200_000))
    assert len(data) < 200_000
    with pytest.raises(ImageUnreadable):
        image_array(data)


def test_a_wide_panorama_is_still_read(bounded_resize: None) -> None:
    arr = image_array(_png((1600, 400)))
    assert arr.shape == (3, 224, 224)


EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\nshowpage\n%%EOF\n"


def test_postscript_is_never_handed_to_ghostscript(monkeypatch: Any) -> None:
    # Pillow renders EPS by running Ghostscript on the bytes: untrusted PostScript must
    # never get that far (a resident's upload is tagged with these same bytes).
    from PIL import EpsImagePlugin

    def ghostscript(*args: Any, **kw: Any) -> Any:
        raise AssertionError("Ghostscript was run on an uploaded file")

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", ghostscript)
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", "gs", raising=False)
    with pytest.raises(ImageUnreadable):
        image_array(EPS)
