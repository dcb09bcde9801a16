"""Townhall's date formats per language (settings.FORMAT_MODULE_PATH).

Only what differs from Django's own locale formats is here: English dates read the
GOV.UK way ("28 November 2026"), Spanish date-times without "a las".
Templates use the names (``|date:"DATE_FORMAT"``), never a fixed pattern.
"""
