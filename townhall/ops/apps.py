"""Running Townhall in production: readiness, metrics, backups, the faces operators use."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig

from townhall.conf.log import task_id_var
from townhall.ops.middleware import request_id_clear


def task_started(sender: Any, task_result: Any, **kwargs: Any) -> None:
    """Log records of a task a worker runs carry its id (task_id), until it finishes."""
    task_id_var.set(str(task_result.id))


def task_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    task_id_var.set("-")


class OpsConfig(AppConfig):
    name = "townhall.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django.core.signals import request_finished
        from django_tasks.signals import task_finished as finished
        from django_tasks.signals import task_started as started

        started.connect(task_started, dispatch_uid="townhall.ops.task_started")
        finished.connect(task_finished, dispatch_uid="townhall.ops.task_finished")
        request_finished.connect(request_id_clear, dispatch_uid="townhall.ops.request_id")
