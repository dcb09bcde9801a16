"""The caseworker console: queues, the case with its whole story, and the actions on it.

Every case is fetched through `cases.access`: staff see their departments' cases only and
get the same 404 for another department's case as for one that does not exist. Actions
are POSTs that redirect back (so a reload never repeats them) and answer mistakes with the
form again and its errors, never a 500. Views call services and selectors: none writes a
model or sends mail itself.

One module per concern:

* ``queue_pages``: the queues, bulk assignment, find by reference, saved views
* ``case_page``: the case page and its context
* ``case_actions``: notes, watching, status, assignment, merging, priority, summary, link, time
* ``case_moves``: triage, duplicates, splitting, due dates and transfers
* ``files``: photos, attachments, the resident's export
* ``calls``: the phone
* ``team``: the supervisors' team page
* ``live_chat``: the assistant's live-chat queue, a conversation, teaching the assistant
"""

from townhall.console.views.calls import call_update_view, call_view
from townhall.console.views.case_actions import (
    assign_view,
    link_rotate_view,
    merge_view,
    note_view,
    priority_view,
    public_summary_view,
    status_view,
    time_view,
    watch_view,
)
from townhall.console.views.case_moves import (
    due_view,
    duplicate_view,
    split_view,
    transfer_view,
    triage_view,
)
from townhall.console.views.case_page import case_view
from townhall.console.views.common import staff_required
from townhall.console.views.files import attachment_view, photo_view, resident_export_view
from townhall.console.views.live_chat import (
    live_close_view,
    live_conversation_view,
    live_queue_view,
    live_release_view,
    live_reply_view,
    live_take_view,
    live_teach_view,
)
from townhall.console.views.queue_pages import (
    bulk_view,
    find_view,
    queue_view,
    view_delete,
    view_save,
)
from townhall.console.views.team import team_view

__all__ = [
    "assign_view",
    "attachment_view",
    "bulk_view",
    "call_update_view",
    "call_view",
    "case_view",
    "due_view",
    "duplicate_view",
    "find_view",
    "link_rotate_view",
    "live_close_view",
    "live_conversation_view",
    "live_queue_view",
    "live_release_view",
    "live_reply_view",
    "live_take_view",
    "live_teach_view",
    "merge_view",
    "note_view",
    "photo_view",
    "priority_view",
    "public_summary_view",
    "queue_view",
    "resident_export_view",
    "split_view",
    "staff_required",
    "status_view",
    "team_view",
    "time_view",
    "transfer_view",
    "triage_view",
    "view_delete",
    "view_save",
    "watch_view",
]
