"""Public notices and product recalls: published by staff, shown on the portal and in the
assistant, pushed to subscribers, hash-chained like case events. See docs/notices.md.
"""
