"""The `notices` skill: public notices near an address ("any road works near me?", "road
works on Elm Street"), product recalls ("is there a recall on eggs?") and the batch-code
check ("is my batch code affected?", "check batch code L2345") (issue 21).

Reads only notices' public selectors (`notices_near`, `notices_public`,
`recall_code_check`): what the portal shows, published and not ended, with a link to each
notice's page. The address is the assistant's shared slot (`skill_waste.address_step`: the
gazetteer, the address a report or a bin-days question gave); a street named without a
house number is read as that street. A code check answers affected or not and the recall's
advice, nothing more, and counts against `assistant_code_check.target` per conversation,
per signed-in resident and per texting number, so the chat cannot enumerate codes (the
transport's own per-client message limit stands behind it, as `notice_check` does on the
portal).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone

from townhall.assistant.dialogue_base import Ctx, Step, message, page
from townhall.assistant.dialogue_slots import address_match, fold
from townhall.assistant.replies import Source
from townhall.assistant.skill_waste import address_step
from townhall.core.dates import long_date
from townhall.core.ratelimit import RateLimited, rate_limit_hit
from townhall.notices.selectors import (
    InvalidCode,
    PublicNotice,
    notices_near,
    notices_public,
    recall_code_check,
)
from townhall.places.models import Place

SKILL = "notices"
SHOWN = 5  # notices listed in one answer
RECALLS_CHECKED = 10  # current recalls a code is checked against at most
STREET_M = 250.0  # a street named without a number: notices within this of its first address
LIMIT = "assistant_code_check"

_RECALL = re.compile(r"\b(recall\w*|batch\w*|lot|lots|codes?|retirad\w*|lotes?|codigos?)\b")
_ROAD = re.compile(
    r"\b(road ?works?|roads?|street ?works?|closures?|closed|diversions?|detours?|dug up|"
    r"obras|cortes? de trafico|cortad[ao]s?|desvios?)\b"
)
# Where a code starts: after these words; a code is the tokens that follow, each with a digit.
_CODE_LEAD = re.compile(
    r"\b(?:batch|lot|code|lote|codigo)\b"
    r"(?:\s+(?:code|number|is|es|no|de|del|lote|lot|codigo|numero))*\s*"
)
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-./]*")
# Where a code typed on its own ends, and what may come before it.
_STOP = frozenset({
    "is", "in", "on", "of", "for", "the", "a", "an", "it", "and", "affected", "recalled",
    "please", "still", "safe", "ok", "from", "one", "es", "esta", "en", "de", "del", "y",
    "afectado", "afectada",
})  # fmt: skip
_FILLER = re.compile(r"^(?:(?:it s|it|is|its|the|my|mine|code|number|es|el|mi|numero)\s+)*")
# Words that say nothing about which product a recall is of.
_NOT_PRODUCT = frozenset({
    "recall", "recalls", "recalled", "there", "have", "been", "batch", "code", "codes",
    "affected", "product", "products", "check", "current", "moment", "today", "this", "that",
    "with", "mine", "food", "safe", "bought", "about", "what", "which", "retirada",
    "retiradas", "retirado", "producto", "productos", "alguna", "algun", "lote", "codigo",
    "afectado", "esta", "hay",
})  # fmt: skip
# Street-level places: the words after one of these, unless they are "me"/"my house".
_WHERE = re.compile(r"\b(?:on|in|along|near|at|en|por|calle)\s+(.+?)[?.!]*$")
_HERE = re.compile(r"^(me|here|my\b.*|mi\b.*|mi casa|aqui|us|home|the area|this area)$")


def _date(value: dt.datetime | None) -> str:
    return long_date(timezone.localtime(value).date()) if value else ""


def _period(ctx: Ctx, notice: PublicNotice) -> str:
    start, end = _date(notice.starts_at), _date(notice.ends_at)
    if start and end:
        return ctx.say(SKILL, "from_to", start=start, end=end)
    if start:
        return ctx.say(SKILL, "from", start=start)
    if end:
        return ctx.say(SKILL, "until", end=end)
    return ""


def _line(ctx: Ctx, notice: PublicNotice) -> str:
    period = _period(ctx, notice)
    text = f"• {notice.title} ({notice.kind_label}"
    return text + (f", {period})" if period else ")")


def _sources(notices: list[PublicNotice]) -> list[Source]:
    return [Source(n.title, page("notice", n.id)) for n in notices]


def notices(ctx: Ctx) -> Step:
    slots = ctx.slots
    words = fold(ctx.text)
    if ctx.fresh:
        slots["mode"] = "recall" if _RECALL.search(words) else "area"
        slots["road"] = bool(_ROAD.search(words))
    if slots.get("mode") == "recall":
        return _recall(ctx)
    return _area(ctx)


def expects(slots: dict[str, Any], text: str) -> bool:
    """Whether the words answer what the skill asked (an address, or a code)."""
    if slots.get("_ask") == "code":
        return re.search(r"\d", text) is not None
    found = address_match(text, asked=True)
    return found.place is not None or bool(found.candidates)


# --- notices near an address ------------------------------------------------------------


def _street(ctx: Ctx) -> Place | None:
    """The street the words name without a house number ("road works on Elm Street")."""
    if not ctx.fresh or not ctx.text:
        return None
    found = _WHERE.search(ctx.text.strip())
    if found is None or re.search(r"\d", found.group(1)) or _HERE.match(fold(found.group(1))):
        return None
    match = address_match(found.group(1), asked=True)
    place = match.place or (match.candidates[0] if match.candidates else None)
    if place is not None:
        ctx.slots["place"] = place.property_id
        ctx.slots["street"] = True
    return place


def _area(ctx: Ctx) -> Step:
    place = _street(ctx)
    if place is None:
        found = address_step(ctx, SKILL)
        if isinstance(found, Step):
            return found
        place = found
    street = bool(ctx.slots.get("street"))
    kinds = ["road_works"] if ctx.slots.get("road") else None
    near = notices_near(
        lat=place.lat,
        long=place.long,
        within_m=STREET_M if street else 0.0,
        kinds=kinds,
        language=ctx.language,
        limit=SHOWN,
    )
    near = [n for n in near if not n.is_recall][:SHOWN]
    where = _street_name(place.address) if street else place.address
    everything = Source(ctx.say(SKILL, "all_notices"), page("notices-near", place.pk))
    if not near:
        text = ctx.say(SKILL, "none_near", address=where)
        return Step([message(text, sources=[everything])], outcome="contained", data={"near": 0})
    lines = [ctx.say(SKILL, "near", address=where), *(_line(ctx, n) for n in near)]
    return Step(
        [message("\n".join(lines), sources=[*_sources(near), everything])],
        outcome="contained",
        data={"near": len(near), "place": place.property_id},
    )


def _street_name(address: str) -> str:
    """'12 Elm Street, Millbrook' -> 'Elm Street'."""
    first = address.split(",")[0].strip()
    return re.sub(r"^\d+\w?\s+", "", first) or first


# --- recalls and the batch-code check -----------------------------------------------------


def code_in(text: str, *, asked: bool = False) -> str | None:
    """The batch code in the words: what follows "batch", "lot" or "code" up to the next
    plain word ("check batch code L2345", "lot AB-123 45 is it safe"); once a code was asked
    for, the answer itself ("it's EGG 777"). None unless it carries a digit."""
    words = fold(text.strip()[:200])
    lead = _CODE_LEAD.search(words)
    if lead is not None:
        tail = words[lead.end() :]
    elif asked:
        tail = _FILLER.sub("", words)
    else:
        return None
    taken: list[str] = []
    for token in _TOKEN.findall(tail)[:6]:
        if token in _STOP:
            break
        taken.append(token)
    code = " ".join(taken)
    return code if re.search(r"\d", code) else None


def _product_words(text: str) -> list[str]:
    words = [w for w in re.findall(r"[a-z]+", fold(text)) if len(w) > 2]
    return [w for w in words if w not in _NOT_PRODUCT and not _filler(w)]


def _filler(word: str) -> bool:
    return word in {"the", "any", "for", "and", "are", "is", "my", "on", "los", "las", "del"}


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def _matching(recalls: list[PublicNotice], words: list[str]) -> list[PublicNotice]:
    stems = {_stem(w) for w in words}
    found = []
    for notice in recalls:
        names = {_stem(w) for w in re.findall(r"[a-z]+", fold(f"{notice.product} {notice.title}"))}
        if stems & names:
            found.append(notice)
    return found


def _recall(ctx: Ctx) -> Step:
    slots = ctx.slots
    if ctx.resume and slots.get("_ask") == "code":
        return Step([message(ctx.say(SKILL, "ask_code"))], done=False)
    recalls = notices_public(language=ctx.language, kinds=["recall"], limit=RECALLS_CHECKED)
    code = code_in(ctx.text, asked=slots.get("_ask") == "code")
    if ctx.fresh:
        # Words other than "recall", "batch"... may name a product; they narrow the recalls
        # when they match one. A code with unmatched words is checked against them all.
        words = _product_words(re.sub(r"\S*\d\S*", " ", ctx.text))
        matched = [n.id for n in _matching(recalls, words)] if words else []
        slots["product"] = " ".join(words) if words and not matched and code is None else ""
        slots["recalls"] = matched or None
    chosen = slots.get("recalls")
    listed = [n for n in recalls if chosen is None or n.id in chosen]
    everything = Source(ctx.say(SKILL, "all_notices"), page("notices"))
    if code is None and slots.get("_ask") == "code":
        text = ctx.say(SKILL, "bad_code", text=ctx.text[:40], why=ctx.say(SKILL, "code_empty"))
        return Step([message(text)], done=False, data={"bad_code": "empty"})
    if slots.get("product") and code is None:
        text = ctx.say(SKILL, "no_recall", product=str(slots["product"]))
        return Step([message(text, sources=[everything])], outcome="contained")
    if not listed:
        text = ctx.say(SKILL, "no_recalls")
        return Step([message(text, sources=[everything])], outcome="contained")
    if code is not None:
        return _check(ctx, code, listed)
    head = ctx.say(SKILL, "recalls")
    lines = [head]
    for notice in listed[:SHOWN]:
        line = f"• {notice.title}"
        if notice.product:
            line += f": {notice.product}"
        period = _period(ctx, notice)
        lines.append(line + (f" ({period})" if period else ""))
    slots["_ask"] = "code"
    return Step(
        [
            message("\n".join(lines), sources=_sources(listed[:SHOWN])),
            message(ctx.say(SKILL, "ask_code")),
        ],
        done=False,
        outcome="contained",
        data={"recalls": len(listed)},
    )


def _targets(ctx: Ctx) -> list[str]:
    conversation = ctx.conversation
    targets = [f"conversation:{conversation.key}"]
    if ctx.citizen_id is not None:
        targets.append(f"citizen:{ctx.citizen_id}")
    if conversation.sender_hash:
        targets.append(f"sender:{conversation.sender_hash}")
    return targets


def _check(ctx: Ctx, code: str, recalls: list[PublicNotice]) -> Step:
    """Is the code in one of the recalls? One rate-limited check, whatever their number."""
    try:
        rate_limit_hit(None, LIMIT, targets=_targets(ctx))
    except RateLimited:
        text = ctx.say(SKILL, "too_many")
        return Step(
            [message(text, sources=[Source(ctx.say(SKILL, "all_notices"), page("notices"))])],
            outcome="contained",
            data={"rate_limited": True},
        )
    affected = []
    normal = code
    for notice in recalls:
        try:
            check = recall_code_check(notice_id=notice.id, raw_code=code, language=ctx.language)
        except InvalidCode as exc:
            why = ctx.say(SKILL, f"code_{exc.reason}")
            text = ctx.say(SKILL, "bad_code", text=code[:40], why=why)
            ctx.slots["_ask"] = "code"
            return Step([message(text)], done=False, data={"bad_code": exc.reason})
        if check is None:
            continue
        normal = check.code
        if check.affected:
            affected.append((notice, check))
    ctx.slots.pop("_ask", None)
    if affected:
        messages = [
            message(
                ctx.say(
                    SKILL,
                    "affected",
                    code=check.code,
                    product=check.product or notice.title,
                    advice=check.advice,
                ),
                sources=[Source(notice.title, page("notice", notice.id))],
            )
            for notice, check in affected
        ]
        return Step(messages, outcome="contained", data={"affected": True})
    of = ""
    if len(recalls) == 1:
        of = ctx.say(SKILL, "of_product", product=recalls[0].product or recalls[0].title)
    text = ctx.say(SKILL, "not_affected", code=normal, of=of)
    return Step(
        [message(text, sources=_sources(recalls[:SHOWN]))],
        outcome="contained",
        data={"affected": False},
    )
