"""Article Markdown to HTML: CommonMark with raw HTML disabled, so authors cannot inject it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

# "html": False escapes raw HTML; markdown-it's link validation drops javascript:/vbscript:
# /file: and non-image data: URLs.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def _aligned_cell(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """A table cell's alignment as a class (th-align-right), not a style attribute: the
    Content-Security-Policy refuses inline styles (docs/security/platform.md)."""
    token = tokens[idx]
    style = token.attrGet("style")
    if isinstance(style, str) and style.startswith("text-align:"):
        del token.attrs["style"]
        token.attrJoin("class", "th-align-" + style.removeprefix("text-align:"))
    html: str = self.renderToken(tokens, idx, options, env)
    return html


_MARKDOWN.add_render_rule("th_open", _aligned_cell)
_MARKDOWN.add_render_rule("td_open", _aligned_cell)


def article_html(body: str) -> str:
    """Return safe HTML for an article body written in Markdown."""
    html: str = _MARKDOWN.render(body)
    return html
