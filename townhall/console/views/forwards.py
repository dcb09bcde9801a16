"""The case page's "Forwarded" panel: where the case went, when, its remote id and every
sync (forwarding.selectors); its actions are in `forward_actions`."""

from __future__ import annotations

from typing import Any

from townhall.cases.access import Action, access_can
from townhall.cases.lifecycle import OPEN_STATUSES
from townhall.forwarding.selectors import bodies_to_forward_to, forwards_for_case

# Resend, Withdraw and Forward to... (console/views/forward_actions.py).
FORWARD_ACTIONS = True


def may_forward(user: Any, case: Any) -> bool:
    """Staff who may work on the case may resend, withdraw or forward it while it is open."""
    return access_can(user, Action.WORK, case) and case.status in OPEN_STATUSES


def forwarding_context(user: Any, case: Any) -> dict[str, Any]:
    """One query (two once the case has forwards); the bodies to choose from are cached."""
    can_forward = may_forward(user, case)
    forwards = forwards_for_case(case.pk)
    live = any(f.can_withdraw for f in forwards)  # pending, sent or failed: with a body now
    return {
        "forwards": forwards,
        "can_forward": can_forward,
        "forward_actions": FORWARD_ACTIONS,
        "forward_live": live,
        "forward_bodies": bodies_to_forward_to() if can_forward and not live else [],
    }
