from __future__ import annotations

from collections.abc import Iterator

import pytest

from townhall.rules.selectors import rules_cache_clear


@pytest.fixture(autouse=True)
def _fresh_rules_cache() -> Iterator[None]:
    rules_cache_clear()
    yield
    rules_cache_clear()
