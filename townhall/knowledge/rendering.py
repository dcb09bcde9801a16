"""Article Markdown to HTML: CommonMark with raw HTML disabled, so authors cannot inject it."""

from __future__ import annotations

from markdown_it import MarkdownIt

# "html": False escapes raw HTML; markdown-it's link validation drops javascript:/vbscript:
# /file: and non-image data: URLs.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def article_html(body: str) -> str:
    """Return safe HTML for an article body written in Markdown."""
    html: str = _MARKDOWN.render(body)
    return html
