"""The assistant's replies rendered for speech (the phone assistant, services_voice), and
case references heard through speech-to-text.

A reply read aloud has no links, no Markdown and no bullets; a list is cut to its first
few items ("and 2 more"); a case reference is read character by character in groups
("T H, 2 6, 0 0 0 1 2 3"), so a caller can write it down; buttons become "You can say: …".
Dates are already written out in words by the skills (core.dates.long_date).
"""

from __future__ import annotations

import re

from django.conf import settings

from townhall.assistant.replies import Reply

# What the phone assistant says in its own words, by language (kept here, beside the
# skills' prompts in YAML, so a call never mixes languages when a catalogue lacks a line).
PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "or": "%(first)s or %(last)s",
        "more": "And %(count)s more.",
        "press": "%(label)s, press %(digit)s",
        "choices": "You can say %(choices)s.",
        "greeting": "Hello, this is the council's automated assistant. Calls may be recorded "
        "as text to help you.",
        "menu": "Tell me what you need in a few words. Or press 1 for bin days, 3 to check "
        "a request, 4 to report a problem, 5 for opening hours, or 0 to speak to a person.",
        "other_language": "For English, press 2.",
        "silence": "Sorry, I didn't hear anything.",
        "goodbye": "Thank you for calling. Goodbye.",
        "anything_else": "Is there anything else? Tell me now, or hang up if you are done.",
        "transfer": "I'm putting you through to a member of our team. Please hold.",
        "record": "Please leave your message after the tone. Press the hash key when you "
        "have finished.",
        "recorded": "Thank you. Your message has been passed to our team. Goodbye.",
        "no_recording": "We did not get a message. Goodbye.",
        "busy": "We have had too many calls from this number. Please try again later. Goodbye.",
        "error": "Sorry, something went wrong on our side. Please call again later. Goodbye.",
        "opening_hours": "What are your opening hours?",
        "transferred": "Put through by phone to the call centre.",
    },
    "es": {
        "or": "%(first)s o %(last)s",
        "more": "Y %(count)s más.",
        "press": "%(label)s, oprima %(digit)s",
        "choices": "Puede decir %(choices)s.",
        "greeting": "Hola, habla el asistente automático del ayuntamiento.",
        "menu": "Dígame en pocas palabras qué necesita. O bien oprima 1 para los días de "
        "basura, 3 para consultar una solicitud, 4 para informar de un problema, 5 para el "
        "horario, o 0 para hablar con una persona.",
        "other_language": "Para español, oprima 2.",
        "silence": "Perdone, no he oído nada.",
        "goodbye": "Gracias por llamar. Adiós.",
        "anything_else": "¿Algo más? Dígamelo ahora, o cuelgue si ha terminado.",
        "transfer": "Le paso con una persona de nuestro equipo. Espere, por favor.",
        "record": "Deje su mensaje después del tono. Oprima la tecla numeral al terminar.",
        "recorded": "Gracias. Su mensaje se ha pasado a nuestro equipo. Adiós.",
        "no_recording": "No hemos recibido ningún mensaje. Adiós.",
        "busy": "Hemos recibido demasiadas llamadas de este número. Inténtelo más tarde. Adiós.",
        "error": "Perdone, algo ha fallado. Vuelva a llamar más tarde. Adiós.",
        "opening_hours": "¿Cuál es el horario de atención?",
    },
}


def phrase(language: str, name: str, **values: object) -> str:
    """One of PHRASES in `language` (English when the language has none), filled in."""
    text = PHRASES.get(language, PHRASES["en"]).get(name) or PHRASES["en"][name]
    return text % values if values else text


LIST_ITEMS = 3  # a list read aloud: its first items, then "and N more"
SPOKEN_MAX = 900  # characters of one answer; cut at a sentence
CHOICES_MAX = 4

_URL = re.compile(r"\(?\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MARKS = re.compile(r"[*_`#>|~]+")
_SPACES = re.compile(r"[ \t]+")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")

# Spoken digits and separators, English and Spanish, as speech-to-text writes them.
DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "cero": "0", "nought": "0",
    "one": "1", "won": "1", "uno": "1", "una": "1",
    "two": "2", "to": "2", "too": "2", "dos": "2",
    "three": "3", "tree": "3", "tres": "3",
    "four": "4", "for": "4", "fore": "4", "cuatro": "4",
    "five": "5", "cinco": "5",
    "six": "6", "seis": "6",
    "seven": "7", "siete": "7",
    "eight": "8", "ate": "8", "ocho": "8",
    "nine": "9", "nueve": "9",
}  # fmt: skip
SEPARATOR_WORDS = {"dash", "hyphen", "minus", "guion", "guión", "raya", "menos"}
REPEAT_WORDS = {"double": 2, "triple": 3, "doble": 2, "triple.": 3}
LETTER_WORDS = {"tee": "T", "te": "T", "aitch": "H", "haitch": "H", "hache": "H"}
# Words written for a screen, said for a call.
SPOKEN_WORDS = (
    (re.compile(r"\bType the\b"), "Say the"),
    (re.compile(r"\btype the\b"), "say the"),
    (re.compile(r"\bEscriba\b"), "Diga"),
    (re.compile(r"\bescriba\b"), "diga"),
)
_TOKEN = re.compile(r"[a-záéíóúñ]+|\d+|-", re.IGNORECASE)


def _prefix_tokens(prefix: str) -> str:
    return prefix.upper()


def reference_from_speech(text: str) -> str | None:
    """A case reference in words as speech-to-text writes them ("T H 26 dash 0 0 0 1 2 3",
    "tee aitch two six zero zero zero one two three", "th26-000123"), normalised to
    PREFIX-YY-NNNNNN; None if the words hold none (the prefix must be there)."""
    prefix = _prefix_tokens(settings.TOWNHALL_REFERENCE_PREFIX)
    words = _TOKEN.findall(text[:400])
    # Each token becomes letters, digits, or a gap; runs of digits across spaces join.
    pieces: list[str] = []
    repeat = 1
    for word in words:
        low = word.lower()
        if word.isdigit():
            pieces.append(word * repeat)
        elif low in REPEAT_WORDS:
            repeat = REPEAT_WORDS[low]
            continue
        elif low in DIGIT_WORDS and not (low in {"o", "to", "for"} and not pieces):
            pieces.append(DIGIT_WORDS[low] * repeat)
        elif low in SEPARATOR_WORDS or word == "-":
            pass  # a dash between groups changes nothing
        elif low in LETTER_WORDS:
            pieces.append(LETTER_WORDS[low])
        elif word.isalpha() and len(word) <= len(prefix):
            pieces.append(word.upper())
        else:
            pieces.append(" ")
        repeat = 1
    joined = "".join(pieces)
    match = re.search(rf"{re.escape(prefix)}(\d{{2}})(\d{{6,9}})(?!\d)", joined)
    if match is None:
        return None
    return f"{prefix}-{match.group(1)}-{int(match.group(2)):06d}"


def reference_spoken(reference: str) -> str:
    """ "TH-26-000123" as read to a caller: "T H, 2 6, 0 0 0 1 2 3"."""
    return ", ".join(" ".join(part) for part in reference.split("-") if part)


def _references_spoken(text: str) -> str:
    prefix = re.escape(settings.TOWNHALL_REFERENCE_PREFIX)
    return re.sub(
        rf"\b{prefix}-\d{{2}}-\d{{6,}}\b",
        lambda m: reference_spoken(m.group(0)),
        text,
        flags=re.IGNORECASE,
    )


def _or_list(items: list[str], language: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return phrase(language, "or", first=", ".join(items[:-1]), last=items[-1])


def plain_for_speech(text: str, *, language: str = "en", whole: bool = False) -> str:
    """One message's text with no links, Markdown or bullets; lists cut to a few items
    (`whole`: not cut, for a summary the caller is asked to confirm)."""
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = _URL.sub("", text)
    text = _EMPTY_BRACKETS.sub("", text)
    text = _MARKS.sub("", text).replace("…", ".")
    lines, items = [], []
    for raw in text.splitlines():
        line = _SPACES.sub(" ", raw).strip()
        if not line:
            continue
        if line[0] in "•-·" or re.match(r"^\d+[.)] ", line):
            items.append(line.lstrip("•-· ").strip())
            continue
        lines.append(_sentence(line))
    if items:
        keep = len(items) if whole else LIST_ITEMS
        shown = [_sentence(i).replace("?:", "?") for i in items[:keep]]
        more = len(items) - keep
        if more > 0:
            shown.append(phrase(language, "more", count=more))
        # The list stays where it was: after the line that introduced it.
        lines = lines[:1] + shown + lines[1:]
    spoken = " ".join(lines)
    for pattern, words in SPOKEN_WORDS:
        spoken = pattern.sub(words, spoken)
    return _references_spoken(spoken)


def _sentence(line: str) -> str:
    line = line.strip().rstrip(":").strip()
    if line and line[-1] not in ".?!":
        line += "."
    return line


def _cut(text: str, limit: int = SPOKEN_MAX) -> str:
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = max(head.rfind(". "), head.rfind("? "), head.rfind("! "))
    return head[: end + 1] if end > 0 else head.rsplit(" ", 1)[0] + "."


def spoken_reply(reply: Reply, *, language: str) -> tuple[str, list[str]]:
    """The reply as one text to say, and the texts the caller may press 1, 2, 3… for
    (the last message's buttons, in order)."""
    parts = [
        plain_for_speech(m.text, language=language, whole=bool(m.quick_replies))
        for m in reply.messages
        if m.text.strip()
    ]
    choices: list[str] = []
    if reply.messages:
        last = reply.messages[-1]
        choices = [q.text for q in last.quick_replies][:CHOICES_MAX]
        labels = [plain_for_speech(q.label).rstrip(".") for q in last.quick_replies]
        numbered = [
            phrase(language, "press", label=label, digit=i)
            for i, label in enumerate(labels[:CHOICES_MAX], start=1)
        ]
        if numbered:
            parts.append(phrase(language, "choices", choices=_or_list(numbered, language)))
    return _cut(" ".join(p for p in parts if p)), choices
