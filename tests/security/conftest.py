"""Fixtures for the security tests."""

from tests.notify.conftest import sms_provider

__all__ = ["sms_provider"]
