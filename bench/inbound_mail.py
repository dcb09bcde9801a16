"""Benchmark: maintained reply strippers and HTML-to-text converters against Townhall's own.

The corpus (bench/inbound_mail_corpus.json) holds the inbound e-mail cases whose answers
are written by hand in tests/intake/test_email_in.py:

* replies: a message's body text (as the MIME walk gives it, for the real samples) in, the
  resident's new text out (quoted history and signature removed; a forward kept);
* html: a sample's HTML body in, the new text out (the converter's text goes through
  Townhall's stripper, so only the converter differs);
* html_to_text: HTML in, readable text out (lists, tables, quotes, hidden parts, broken
  markup, a pasted 3 MB image).

Each candidate that can be imported is scored: "right" is the expected text after
whitespace is normalised (trailing spaces, runs of blank lines); "words" only asks for the
same words in the same order (markup such as list markers or ``**`` ignored), i.e. nothing
lost and nothing left over; "samples" counts the right answers on the real messages of
tests/intake/samples alone. Time is per message, the mean over --repeat runs.

The candidates are not Townhall dependencies: install them in a folder of their own and
point --candidates-path (or BENCH_INBOUND_PATH) at it, e.g.

    pip install --target var/bench-inbound mail-parser-reply==1.36 quotequail==0.5.4 \\
        email-reply-parser==0.5.12 inscriptis==2.7.6 html2text==2025.4.15 html-text==0.7.1
    python bench/inbound_mail.py --candidates-path var/bench-inbound
    python bench/inbound_mail.py --smoke      # what the test suite runs (Townhall's own only if
                                              # nothing else is installed)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "inbound_mail_corpus.json"
LANGUAGES = ["en", "de", "fr", "es", "nl", "it", "pt", "pl", "sv"]

Stripper = Callable[[str, bool], str]
Converter = Callable[[str], str]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--candidates-path",
        default=os.environ.get("BENCH_INBOUND_PATH", ""),
        help="folder(s) the candidate packages are installed in (pip install --target), "
        "separated by the path separator (talon needs one of its own)",
    )
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per case (20)")
    parser.add_argument("--smoke", action="store_true", help="one timed run: a quick check")
    args = parser.parse_args()
    if args.smoke:
        args.repeat = 1
    return args


# --- candidates ----------------------------------------------------------------------------


def strippers() -> dict[str, Stripper]:
    from townhall.intake.email_in import email_new_text

    found: dict[str, Stripper] = {
        "townhall email_new_text": lambda text, fwd: email_new_text(text, forwarded=fwd)
    }
    try:
        from mailparser_reply import EmailReplyParser as MailParserReply

        def mail_parser_reply(text: str, fwd: bool) -> str:
            return MailParserReply(languages=LANGUAGES).parse_reply(text=text) or ""

        found["mail-parser-reply"] = mail_parser_reply
    except ImportError:
        pass
    try:
        import quotequail

        def quotequail_quote(text: str, fwd: bool) -> str:
            return "\n".join(part for new, part in quotequail.quote(text) if new)

        found["quotequail"] = quotequail_quote
    except ImportError:
        pass
    try:
        from email_reply_parser import EmailReplyParser

        found["email-reply-parser"] = lambda text, fwd: EmailReplyParser.parse_reply(text)
    except ImportError:
        pass
    try:
        from talon import quotations

        found["talon"] = lambda text, fwd: quotations.extract_from_plain(text)
    except Exception as exc:  # talon's old dependencies fail in many ways on new Pythons
        if not isinstance(exc, ImportError):
            print(f"talon left out: {type(exc).__name__}: {exc}", file=sys.stderr)
    return found


def converters() -> dict[str, Converter]:
    from townhall.intake.email_in import html_to_text

    found: dict[str, Converter] = {"townhall html_to_text": html_to_text}
    try:
        import inscriptis

        found["inscriptis"] = inscriptis.get_text
    except ImportError:
        pass
    try:
        import html2text

        def html2text_handle(html: str) -> str:
            handler = html2text.HTML2Text()
            handler.body_width = 0
            handler.ignore_links = True
            handler.ignore_images = True
            return str(handler.handle(html))

        found["html2text"] = html2text_handle
    except ImportError:
        pass
    try:
        import html_text

        found["html-text"] = lambda html: str(html_text.extract_text(html))
    except ImportError:
        pass
    return found


# --- scoring -------------------------------------------------------------------------------


def normalised(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def run(function: Callable[..., str], args: tuple[Any, ...], repeat: int) -> tuple[str, float]:
    """The function's answer (or the error it raised) and its mean time in seconds."""
    started = time.perf_counter()
    try:
        for _ in range(repeat):
            answer = function(*args)
    except Exception as exc:  # a candidate that crashes gets the case wrong
        return f"<{type(exc).__name__}: {exc}>", time.perf_counter() - started
    return str(answer or ""), (time.perf_counter() - started) / repeat


def score(
    name: str, cases: list[tuple[str, tuple[Any, ...], str]], function: Any, repeat: int
) -> dict[str, Any]:
    right, same_words, seconds, wrong = 0, 0, 0.0, []
    samples = [
        case_name for case_name, _args, _expected in cases if case_name.startswith("sample:")
    ]
    for case_name, args, expected in cases:
        answer, took = run(function, args, repeat)
        seconds += took
        if normalised(answer) == normalised(expected):
            right += 1
        else:
            wrong.append(case_name)
        same_words += words(answer) == words(expected)
        if took > 1:
            print(f"  ({name} took {took:.1f} s on {case_name})", file=sys.stderr)
    return {
        "candidate": name,
        "right": right,
        "words": same_words,
        "cases": len(cases),
        "samples": f"{len([n for n in samples if n not in wrong])}/{len(samples)}",
        "ms_per_message": 1000 * seconds / max(len(cases), 1),
        "wrong": wrong,
    }


def table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    print(f"  {'candidate':26} {'right':>7} {'words':>7} {'samples':>7} {'ms/message':>11}  wrong")
    for row in rows:
        wrong = ", ".join(row["wrong"][:6]) + (" …" if len(row["wrong"]) > 6 else "")
        print(
            f"  {row['candidate']:26} {row['right']:>3}/{row['cases']:<3} {row['words']:>3}/"
            f"{row['cases']:<3} {row['samples']:>7} {row['ms_per_message']:>11.3f}  {wrong}"
        )


def main() -> int:
    args = parse_args()
    for folder in filter(None, args.candidates_path.split(os.pathsep)):
        sys.path.append(str(Path(folder).resolve()))
    sys.path.insert(0, str(ROOT))
    corpus = json.loads(CORPUS.read_text(encoding="utf-8"))
    from townhall.intake.email_in import email_new_text

    reply_cases = [
        (c["name"], (c["text"], c["forwarded"]), c["expected"]) for c in corpus["replies"]
    ]
    html_cases = []
    for case in corpus["html_to_text"]:
        html = case["html"]
        if case.get("generate") == "pasted_image":
            html = (
                '<p>See photo:</p><img src="data:image/png;base64,'
                + "A" * 3_000_000
                + '"><p>End</p>'
            )
        html_cases.append((case["name"], (html,), case["expected"]))
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores, repeat {args.repeat}"
    )
    found_strippers, found_converters = strippers(), converters()
    print("candidates:", ", ".join([*found_strippers, *found_converters]))
    table(
        f"reply strippers: {len(reply_cases)} bodies in, the resident's new text out",
        [score(n, reply_cases, f, args.repeat) for n, f in found_strippers.items()],
    )
    table(
        f"HTML to text: {len(html_cases)} documents",
        [score(n, html_cases, f, args.repeat) for n, f in found_converters.items()],
    )
    sample_cases = [(c["name"], (c["html"],), c["expected_new_text"]) for c in corpus["html"]]
    table(
        f"HTML-only replies: {len(sample_cases)} samples, converter then Townhall's stripper",
        [
            score(n, sample_cases, lambda html, f=f: email_new_text(f(html)), args.repeat)
            for n, f in found_converters.items()
        ],
    )
    if args.smoke:
        print("smoke: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
