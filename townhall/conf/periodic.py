"""The periodic jobs `townhall scheduler` enqueues (TOWNHALL_PERIODIC_TASKS): declared here,
in one place, as (dotted path of a task, interval in seconds)."""

from __future__ import annotations

import environ

from townhall.conf.appointments import appointments_periodic_tasks


def periodic_tasks(env: environ.Env) -> list[tuple[str, int]]:
    """Every periodic job, its interval read from the environment where it has one."""
    return [
        ("townhall.cases.tasks.case_sla_scan_task", env.int("SLA_SCAN_SECONDS", default=300)),
        (
            "townhall.cases.tasks.case_acknowledge_pending_task",
            env.int("CASE_SWEEP_SECONDS", default=300),
        ),
        (
            "townhall.notify.tasks.notification_send_due_task",
            env.int("NOTIFY_SWEEP_SECONDS", default=30),
        ),
        ("townhall.portal.tasks.staged_photos_purge_task", 3600),
        (
            "townhall.intake.tasks.intake_process_pending_task",
            env.int("INTAKE_SWEEP_SECONDS", default=120),
        ),
        # Duplicate suggestions whose after-commit run was lost (a crash between commit and
        # enqueue): the same sweep every burst of reports schedules.
        ("townhall.intake.tasks.duplicate_suggestions_pending_task", 300),
        # Tomorrow's bin reminders, queued from the council's reminder time (safe to repeat).
        ("townhall.notify.waste_reminders.waste_reminders_queue_task", 600),
        # The frustration index of open cases: honest updates and supervisor flags (issue 18).
        ("townhall.experience.tasks.frustration_scan_task", 3600),
        # Live cases into the measures' fact table and the roll-ups (issue 18).
        ("townhall.insights.tasks.facts_refresh_task", 300),
        # Yesterday's payments against the provider's records, once a day (payments/tasks.py).
        ("townhall.payments.tasks.payments_reconcile_task", 3600),
        # Expired sign-in links and phone codes are deleted hourly (issue 15).
        ("townhall.people.tasks.proofs_purge_task", 3600),
        # Data past its retention period (conf/retention.py; admins change the periods).
        (
            "townhall.intake.tasks.retention_purge_task",
            env.int("RETENTION_PURGE_SECONDS", default=86400),
        ),
        # The daily seal of every case chain (and the notices' chains), docs/security/ledger.md.
        ("townhall.cases.tasks.ledger_seal_task", env.int("LEDGER_SEAL_SECONDS", default=86400)),
        # Public notices whose end has passed are recorded as expired (issue 21; hidden at
        # their end already), docs/notices.md.
        (
            "townhall.notices.tasks.notices_expire_task",
            env.int("NOTICES_EXPIRE_SECONDS", default=900),
        ),
        ("townhall.notify.tasks.subscription_requests_purge_task", 3600),
        ("townhall.assistant.tasks.conversations_abandon_idle_task", 600),
        # Transcripts blanked after the retention period of raw messages (intake.retention).
        ("townhall.assistant.tasks.conversations_expire_task", 86400),
        *appointments_periodic_tasks(),
        # Cases forwarded to the body that owns them: due sends and retries (issue 22,
        # forwarding/sending.py), and their status read back (forwarding/syncing.py).
        (
            "townhall.forwarding.tasks.forwards_send_due_task",
            env.int("FORWARD_SWEEP_SECONDS", default=60),
        ),
        (
            "townhall.forwarding.sync_tasks.forwards_poll_task",
            env.int("FORWARD_POLL_SECONDS", default=60),
        ),
    ]
