"""Staff roles: what each kind of council worker may see and change."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffRole(models.TextChoices):
    COUNCIL_ADMIN = "council_admin", _("Council administrator")
    DEPARTMENT_ADMIN = "department_admin", _("Department administrator")
    SUPERVISOR = "supervisor", _("Supervisor")
    CASEWORKER = "caseworker", _("Caseworker")
    AGENT = "agent", _("Contact-centre agent")


# What each role may do in the console (cases.Case's custom permissions). Every role sees
# only its departments' cases; council admins are superusers and see and do everything.
CONSOLE: dict[str, list[str]] = {
    "agent": ["cases.work_case", "cases.log_call"],
    "caseworker": ["cases.work_case", "cases.assign_case", "cases.log_call"],
    "supervisor": [
        "cases.work_case",
        "cases.assign_case",
        "cases.supervise_case",
        "cases.log_call",
        "cases.view_case",
        "cases.view_caseevent",
    ],
}

# Public notices in the console (console/views/notices.py): caseworkers read them,
# supervisors and department administrators also publish, withdraw, edit and import codes.
NOTICES_CHANGE = ["notices.view_notice", "notices.change_notice"]

# Django permission codenames per role, as "app_label.codename". Admins configure the
# catalogue; supervisors tune SLAs and calendars; everyone on staff can read cases.
ROLE_PERMISSIONS: dict[StaffRole, list[str]] = {
    StaffRole.COUNCIL_ADMIN: [
        f"catalog.{action}_{model}"
        for model in (
            "jurisdiction",
            "department",
            "servicegroup",
            "servicetype",
            "attributedefinition",
            "slapolicy",
            "businesscalendar",
            "calendarclosure",
        )
        for action in ("add", "change", "delete", "view")
    ]
    + [f"places.{action}_place" for action in ("add", "change", "delete", "view")]
    + ["cases.view_case", "cases.view_caseevent", "people.view_citizen", "people.change_citizen"]
    # The security event log (townhall.core.security): read only, by council admins.
    + ["core.view_securityevent"]
    + ["intake.view_retentionpolicy", "intake.change_retentionpolicy"],
    StaffRole.DEPARTMENT_ADMIN: [
        "catalog.view_servicetype",
        "catalog.view_department",
        "catalog.view_slapolicy",
        "catalog.add_departmentmember",
        "catalog.change_departmentmember",
        "catalog.delete_departmentmember",
        "catalog.view_departmentmember",
        *[f"console.{a}_cannedresponse" for a in ("add", "change", "delete", "view")],
        *CONSOLE["supervisor"],
        "people.view_citizen",
        *NOTICES_CHANGE,
    ],
    StaffRole.SUPERVISOR: [
        *CONSOLE["supervisor"],
        "catalog.view_servicetype",
        "catalog.view_department",
        "catalog.view_slapolicy",
        "catalog.change_slapolicy",
        "catalog.view_businesscalendar",
        "catalog.change_businesscalendar",
        *NOTICES_CHANGE,
        "catalog.add_calendarclosure",
        "catalog.change_calendarclosure",
        "catalog.view_calendarclosure",
        "cases.view_case",
        "cases.view_caseevent",
        "people.view_citizen",
    ],
    StaffRole.CASEWORKER: [
        *CONSOLE["caseworker"],
        "notices.view_notice",
        "catalog.view_servicetype",
        "cases.view_case",
        "cases.view_caseevent",
        "people.view_citizen",
    ],
    StaffRole.AGENT: [
        *CONSOLE["agent"],
        "catalog.view_servicetype",
        "cases.view_case",
        "cases.view_caseevent",
        "people.view_citizen",
    ],
}
