"""Inbound e-mail: an HTML body as readable plain text."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, ParserRejectedMarkup
from bs4.element import NavigableString, PreformattedString, Tag

from townhall.intake.email_decode import _tidy

_MAX_HTML_CHARS = 1_000_000  # HTML converted to text (the rest is dropped), about 2 s


# --------------------------------------------------------------------------------------
# HTML to text


_SKIP_TAGS = frozenset({"script", "style", "title", "template", "svg", "object"})
_PARAGRAPH_TAGS = frozenset(
    {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "dl",
        "table",
        "pre",
        "hr",
        "address",
        "figure",
        "form",
        "fieldset",
        "blockquote",
    }
)
_LINE_TAGS = frozenset(
    {
        "div",
        "tr",
        "li",
        "dt",
        "dd",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "nav",
        "aside",
        "center",
        "figcaption",
        "caption",
        "thead",
        "tbody",
        "tfoot",
        "legend",
        "details",
        "summary",
        "body",
        "html",
    }
)
_CELL_TAGS = frozenset({"td", "th"})
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_DATA_URI_RE = re.compile(r"""src\s*=\s*["']?data:[^"'\s>]*["']?""", re.IGNORECASE)
_HTML_SPACE_RE = re.compile(r"[ \t\n\r\f\v\u00a0\u2007\u202f]+")


class _TextWriter:
    """Accumulates text with pending line breaks, collapsed spaces and quote prefixes."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pending = 0  # line breaks owed before the next text
        self.space = False  # a space owed before the next text on this line
        self.cell = False  # a cell separator owed before the next text on this line
        self.line_has_text = False
        self.started = False
        self.quote_depth = 0
        self.chunks = 0  # pieces of text written so far
        self.cell_start = False  # in a table cell that has no text yet

    def newline(self, count: int) -> None:
        if not self.cell_start:  # blocks at the start of a cell stay on the row's line
            self.pending = max(self.pending, count)

    def line_break(self) -> None:
        if not self.cell_start:
            self.pending += 1

    def _flush(self) -> None:
        if self.started and self.pending:
            self.parts.append("\n" * min(self.pending, 2))
            self.line_has_text = False
            self.space = self.cell = False
        self.pending = 0
        if not self.line_has_text:
            if self.quote_depth:
                self.parts.append("> " * self.quote_depth)
            self.space = self.cell = False
        elif self.cell:
            self.parts.append(" | ")
            self.space = self.cell = False
        elif self.space:
            if not self.parts[-1].endswith(" "):
                self.parts.append(" ")
            self.space = False

    def literal(self, text: str) -> None:
        self._flush()
        self.parts.append(text)
        self.started = self.line_has_text = True
        self.cell_start = False
        self.chunks += 1

    def text(self, text: str, *, pre: bool = False) -> None:
        if pre:
            lines = text.replace("\r\n", "\n").split("\n")
            for index, line in enumerate(lines):
                if index:
                    self.line_break()
                if line:
                    self.literal(line)
            return
        text = _HTML_SPACE_RE.sub(" ", text)
        if not text:
            return
        if text == " ":
            if self.line_has_text and not self.pending:
                self.space = True
            return
        if text[0] == " " and self.line_has_text and not self.pending:
            self.space = True
        stripped = text.strip(" ")
        self.literal(stripped)
        self.space = text[-1] == " "

    def result(self) -> str:
        return "".join(self.parts)


def _attribute(tag: Tag, name: str) -> str:
    value = tag.get(name)
    if value is None:
        return ""
    return value if isinstance(value, str) else " ".join(value)


_DECLARATION_RE = re.compile(r"<!(?!--)")


def _soup(html: str) -> BeautifulSoup:
    """The parsed HTML. The standard library's parser gives up on some broken markup
    declarations ("<![-"): those are then read as text, and failing that, everything is."""
    try:
        return BeautifulSoup(html, "html.parser")
    except ParserRejectedMarkup:
        pass
    try:
        return BeautifulSoup(_DECLARATION_RE.sub("&lt;!", html), "html.parser")
    except ParserRejectedMarkup:
        return BeautifulSoup(html.replace("&", "&amp;").replace("<", "&lt;"), "html.parser")


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML body: paragraphs and line breaks kept, list items as
    ``- item`` / ``1. item``, table cells separated by ``|``, link text kept (not the URL),
    ``<blockquote>`` quoted with ``> ``; scripts, styles, comments and hidden elements
    dropped; entities decoded and ``&nbsp;`` read as a space. Outlook's ``MsoNormal``
    paragraphs are lines (its empty paragraphs make the blank lines)."""
    html = _DATA_URI_RE.sub('src=""', html)  # pasted images: megabytes of base64
    if len(html) > _MAX_HTML_CHARS:
        html = html[:_MAX_HTML_CHARS]
    soup = _soup(html)
    writer = _TextWriter()
    lists: list[list[int]] = []  # per open list: [is_ordered, counter]
    pre_depth = 0
    # Iterative walk: (node, None) enters a node, (tag, chunks at entry) leaves a tag.
    stack: list[tuple[Tag | NavigableString, int | None]] = [(soup, None)]
    while stack:
        node, entered = stack.pop()
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, CDATA, doctype, ...
                writer.text(str(node), pre=pre_depth > 0)
            continue
        name = node.name.lower() if node.name else ""
        if entered is not None:  # leaving
            _leave(name, node, writer, lists, entered)
            if name == "pre":
                pre_depth -= 1
            continue
        if name in _SKIP_TAGS or node.has_attr("hidden"):
            continue
        style = _attribute(node, "style")
        if style and _HIDDEN_STYLE_RE.search(style):
            continue
        if name == "br":
            writer.line_break()
            continue
        if _is_outlook_paragraph(name, node):
            writer.newline(1)
        elif name in _PARAGRAPH_TAGS:
            writer.newline(1 if name in ("ul", "ol") and lists else 2)
        elif name in _LINE_TAGS:
            writer.newline(1)
        if name == "blockquote":
            writer.quote_depth += 1
        elif name == "pre":
            pre_depth += 1
        elif name in ("ul", "ol"):
            lists.append([1 if name == "ol" else 0, 0])
        elif name == "li":
            depth = max(len(lists), 1)
            marker = "- "
            if lists and lists[-1][0]:
                lists[-1][1] += 1
                marker = f"{lists[-1][1]}. "
            writer.literal("  " * (depth - 1) + marker)
            writer.space = False
        elif name in _CELL_TAGS:
            if writer.line_has_text and not writer.pending:
                writer.cell = True
            writer.cell_start = True
        stack.append((node, writer.chunks))
        stack.extend(
            (child, None)
            for child in reversed(node.contents)
            if isinstance(child, Tag | NavigableString)
        )
    return _tidy(writer.result())


def _is_outlook_paragraph(name: str, node: Tag) -> bool:
    """Outlook writes every line as ``<p class=MsoNormal>`` with no margin."""
    return name == "p" and _attribute(node, "class").lower().startswith("mso")


def _leave(name: str, node: Tag, writer: _TextWriter, lists: list[list[int]], chunks: int) -> None:
    if _is_outlook_paragraph(name, node):
        if writer.chunks == chunks:  # an empty Outlook paragraph: a blank line
            writer.line_break()
        else:
            writer.newline(1)
        return
    if name in _PARAGRAPH_TAGS:
        writer.newline(1 if name in ("ul", "ol") and len(lists) > 1 else 2)
    elif name in _LINE_TAGS:
        writer.newline(1)
    if name == "blockquote":
        writer.quote_depth = max(writer.quote_depth - 1, 0)
    elif name in ("ul", "ol") and lists:
        lists.pop()
    elif name in _CELL_TAGS:
        if writer.chunks != chunks:  # breaks at the end of a cell stay on the row's line
            writer.pending = 0
        writer.cell_start = False
