"""Staff of two departments in every role, and a resident with an account."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from townhall.catalog.models import Department
from townhall.catalog.services import department_member_add
from townhall.people.roles import StaffRole
from townhall.people.services import staff_user_create

PASSWORD = "a-long-password-1"


def _staff(username: str, role: StaffRole, *departments: Department, **extra: Any) -> Any:
    user = staff_user_create(
        username=username,
        role=role,
        password=PASSWORD,
        first_name=username.title(),
        email=f"{username}@council.example.org",
        **extra,
    )
    for department in departments:
        department_member_add(department=department, user=user)
    return user


@pytest.fixture(autouse=True)
def quick_passwords(settings: Any) -> None:
    """Six accounts per test: hash their passwords cheaply (never in production)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def dpw(town: Any) -> Department:
    return Department.objects.get(code="dpw")


@pytest.fixture
def isd(town: Any) -> Department:
    return Department.objects.get(code="isd")


@pytest.fixture
def staff(dpw: Department, isd: Department) -> dict[str, Any]:
    """One user per role in Public Works, a caseworker in Inspectional Services, an admin."""
    resident = get_user_model().objects.create_user(username="resident", password=PASSWORD)
    return {
        "agent": _staff("agent", StaffRole.AGENT, dpw),
        "caseworker": _staff("keisha", StaffRole.CASEWORKER, dpw),
        "supervisor": _staff("frank", StaffRole.SUPERVISOR, dpw),
        "department_admin": _staff("dora", StaffRole.DEPARTMENT_ADMIN, dpw),
        "council_admin": _staff("ada", StaffRole.COUNCIL_ADMIN),
        "other_caseworker": _staff("daniel", StaffRole.CASEWORKER, isd),
        "resident": resident,
    }


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client
