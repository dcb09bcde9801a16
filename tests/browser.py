"""The headless-Chromium harness every browser test uses: Debian's chromium (never a
downloaded one), the flags a closed network needs, and axe's WCAG 2.2 AA check.

The `browser` and `page` fixtures live in tests/conftest.py; pages import
`assert_accessible` from here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# The flags a closed network needs: no background fetches, no first-run work.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_launched() -> Iterator[Any]:
    """Yield a headless Chromium; skip (or fail, with TOWNHALL_REQUIRE_BROWSER) without one."""
    if CHROMIUM is None:
        if os.environ.get("TOWNHALL_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (TOWNHALL_REQUIRE_BROWSER is set) but not installed")
        pytest.skip("Chromium not installed (apt-get install chromium); CI requires it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def assert_accessible(page: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert results.violations_count == 0, results.generate_report()
