"""Fixtures for the intake tests."""

from tests.notify.conftest import sms_provider

__all__ = ["sms_provider"]
