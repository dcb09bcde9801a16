"""Inbound e-mail: the new text of a reply, without its quoted history and signature."""

from __future__ import annotations

import re

from townhall.intake.email_decode import _tidy

# --------------------------------------------------------------------------------------
# Reply history and signatures


# "On <date>, <name> wrote:" and its translations: it has an address, a time or a date.
_ATTRIBUTION_RE = re.compile(
    r"^\s*(?:on|el|le|am|op|em|il|den|w\s+dniu|dne)\b"
    r"(?=.{0,300}?(?:@|[0-9]{1,2}:[0-9]{2}|[0-9]{4}|[0-9]{1,2}[/.][0-9]{1,2}))"
    r".{0,300}?\b(?:wrote|escribi[óo]|a\s+[ée]crit|schrieb|schreef|escreveu|ha\s+scritto|"
    r"skrev|pisze|napisa[łl]\(?a?\)?|napsal)\b[^:]{0,120}:\s*$",
    re.IGNORECASE,
)
_ORIGINAL_MESSAGE_RE = re.compile(
    r"^\s*-{2,}\s*(?:original message|mensaje original|message d'origine|"
    r"ursprüngliche nachricht|oorspronkelijk bericht|messaggio originale|"
    r"mensagem original|original meddelande|opprinnelig melding|alkuperäinen viesti)"
    r"\s*-{2,}\s*$",
    re.IGNORECASE,
)
_FORWARD_MARKER_RE = re.compile(
    r"^\s*(?:-{2,}\s*)?(?:forwarded message|begin forwarded message|mensaje reenviado|"
    r"message transféré|weitergeleitete nachricht|doorgestuurd bericht|"
    r"messaggio inoltrato|mensagem encaminhada|inicio del mensaje reenviado)\b",
    re.IGNORECASE,
)
_HEADER_FROM_RE = re.compile(
    r"^\s*\*?(?:from|de|von|van|da|od|fra|från|lähettäjä)\s*\*?\s*:\s*\S", re.IGNORECASE
)
_HEADER_SENT_RE = re.compile(
    r"^\s*\*?(?:sent|date|enviado|enviada|fecha|gesendet|datum|envoy[ée]|verzonden|inviato|"
    r"data|skickat|sendt|l[äa]hetetty)\s*\*?\s*:",
    re.IGNORECASE,
)
_HEADER_TO_RE = re.compile(
    r"^\s*\*?(?:to|subject|cc|para|asunto|an|betreff|[àa]|objet|aan|onderwerp|oggetto|"
    r"assunto|do|temat|till|ämne|til|emne|vastaanottaja|aihe)\s*\*?\s*:",
    re.IGNORECASE,
)
_HEADER_FROM_SENT_INLINE_RE = re.compile(
    r"^\s*\*?(?:from|de|von)\s*\*?\s*:.{1,300}\b(?:sent|enviado|gesendet|envoy[ée])\s*\*?\s*:",
    re.IGNORECASE,
)
_SEPARATOR_RE = re.compile(r"^\s*(?:_{8,}|-{8,})\s*$")
_SIGNATURE_RE = re.compile(r"^--$")
_DEVICE = (
    r"(?:iphone|ipad|ipod|android[\w -]{0,30}|samsung[\w -]{0,30}|galaxy[\w -]{0,30}"
    r"|huawei[\w -]{0,30}|pixel[\w -]{0,30}|blackberry[\w -]{0,30}|(?:mobile |cell |smart)?phone"
    r"|mobile(?: device)?|tablet|smartphone[\w -]{0,30}|t[ée]l[ée]fono(?: m[óo]vil)?|m[óo]vil"
    r"|celular|t[ée]l[ée]phone|portable|handy)"
)
_MAIL_APP = r"(?:outlook|mail|yahoo mail|gmail|proton ?mail|aol)(?: (?:for|on|para|pour) \w+)?"
_MOBILE_SIGNATURE_RE = re.compile(
    rf"^\s*(?:sent from my {_DEVICE}|sent from {_MAIL_APP}|get outlook for \w+"
    rf"|sent with proton ?mail[\w .]{{0,30}}|enviado desde mi {_DEVICE}|enviado desde {_MAIL_APP}"
    rf"|envoy[ée] de(?:puis)? mon {_DEVICE}|von meinem {_DEVICE} gesendet"
    rf"|verstuurd vanaf mijn {_DEVICE}|inviato da(?:l mio)? {_DEVICE}|enviado do meu {_DEVICE})"
    r"\s*\.?\s*$",
    re.IGNORECASE,
)
_FORWARD_SUBJECT_RE = re.compile(r"^\s*(?:fwd?|fw|rv|wg|tr|enc|doorst)\s*:", re.IGNORECASE)
_QUOTED_RE = re.compile(r"^\s*>")


def _is_attribution(lines: list[str], index: int) -> int:
    """How many lines (1-3) starting at ``index`` form an "On … wrote:" line, or 0."""
    for span in (1, 2, 3):
        if index + span > len(lines):
            break
        if _ATTRIBUTION_RE.match(" ".join(lines[index : index + span])):
            return span
    return 0


def _is_header_block(lines: list[str], index: int) -> bool:
    """An Outlook-style "From: … / Sent: …" header of a quoted message starts at ``index``."""
    line = lines[index]
    if _HEADER_FROM_SENT_INLINE_RE.match(line):
        return True
    if not _HEADER_FROM_RE.match(line):
        return False
    following = lines[index + 1 : index + 6]
    return any(_HEADER_SENT_RE.match(nxt) for nxt in following) and any(
        _HEADER_TO_RE.match(nxt) for nxt in following
    )


def _next_nonblank(lines: list[str], start: int) -> str:
    for index in range(start, len(lines)):
        if lines[index].strip():
            return lines[index]
    return ""


def _after_forward_marker(lines: list[str], index: int) -> bool:
    previous = [line for line in lines[max(index - 3, 0) : index] if line.strip()]
    return any(_FORWARD_MARKER_RE.match(line) for line in previous)


def email_new_text(text: str, *, forwarded: bool = False) -> str:
    """``text`` without the quoted history of a reply and without the signature.

    Cut at the first reply header: an "On … wrote:" attribution (English, Spanish "El …
    escribió:", French, German, Dutch, Portuguese, Italian, Scandinavian, Polish), a
    "-----Original Message-----" line or an Outlook "From: … Sent: …" header block (with the
    ``____`` line above it). An attribution followed by ``>`` lines is only dropped (so
    answers written between the quotes are kept). Lines starting with ``>`` are removed.
    Then cut at the signature separator ``-- `` or a "Sent from my iPhone" line. With
    ``forwarded`` (the subject says Fwd:/FW:/RV:...), header blocks are kept: they introduce
    the forwarded message, which is new to us; so are blocks under a "Forwarded message"
    line.
    """
    lines = _tidy(text).split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        span = _is_attribution(lines, index)
        if span:
            if _QUOTED_RE.match(_next_nonblank(lines, index + span)):
                index += span
                continue
            if not forwarded:
                break
        if (
            not forwarded
            and (_ORIGINAL_MESSAGE_RE.match(line) or _is_header_block(lines, index))
            and not _after_forward_marker(lines, index)
        ):
            while kept and (not kept[-1].strip() or _SEPARATOR_RE.match(kept[-1])):
                kept.pop()
            break
        if _QUOTED_RE.match(line):
            index += 1
            continue
        if _SIGNATURE_RE.match(line.rstrip()) or _MOBILE_SIGNATURE_RE.match(line):
            break
        kept.append(line)
        index += 1
    return _tidy("\n".join(kept))
