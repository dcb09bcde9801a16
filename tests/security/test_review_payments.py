"""Security review of payments (session 28): an attacker's and a careless client's view."""

from __future__ import annotations

import os
import subprocess
import sys

PROD = {
    "TOWNHALL_ENV": "production",
    "SECRET_KEY": "review-secret",
    "ALLOWED_HOSTS": "townhall.example.org",
    "REDIS_URL": "redis://127.0.0.1:6379/14",
}


def _provider_in_production(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import townhall.settings as s; print(s.TOWNHALL_PAYMENTS['PROVIDER'])"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SECRET_KEY", "TOWNHALL_ENV", "PAYMENTS_PROVIDER"}
    }
    env.update(PROD)
    env.update(extra)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )


def test_production_does_not_default_to_the_free_sandbox_checkout() -> None:
    # The sandbox's checkout page has a "Pay" button that marks a fee paid without money,
    # and its webhook secret is public: a production site must not use it by default.
    result = _provider_in_production({})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stripe"


def test_production_refuses_the_sandbox_provider() -> None:
    result = _provider_in_production({"PAYMENTS_PROVIDER": "sandbox"})
    assert result.returncode != 0
    assert "ImproperlyConfigured: PAYMENTS_PROVIDER" in result.stderr
