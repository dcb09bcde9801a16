"""Skills that answer in one turn: `greeting`, `faq`, `out_of_scope` and `human_handoff`.

`faq` answers only from a published help article, with its link; a question the help
pages do not answer well goes to the knowledge gap report (`search_record` with source
"assistant") and becomes a fallback. `out_of_scope` is the two-step fallback: first ask
to say it another way (with what the assistant can do), then offer the help search and a
person; never a dead end.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.translation import gettext as _

from townhall.assistant import services_live
from townhall.assistant.dialogue_base import (
    Ctx,
    Step,
    capability_replies,
    message,
    page,
    skill_title,
)
from townhall.assistant.replies import Source
from townhall.cases.redaction import personal_details_mask
from townhall.knowledge.models import SearchSource
from townhall.knowledge.selectors import SearchResult, article_search, gap_threshold
from townhall.knowledge.services import search_record

ANSWER_CHARS = 400


def greeting(ctx: Ctx) -> Step:
    text = ctx.say("greeting", "hello")
    return Step([message(text, quick=capability_replies(ctx.language))])


def _excerpt(result: SearchResult) -> str:
    """The article's summary, else its first paragraph without Markdown marks."""
    article = result.article
    text = article.summary.strip()
    if not text:
        paragraphs = [p.strip() for p in article.body.split("\n\n") if p.strip()]
        text = paragraphs[0] if paragraphs else ""
        text = re.sub(r"[*_`#>]+", "", text)
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    if len(text) > ANSWER_CHARS:
        text = text[:ANSWER_CHARS].rsplit(" ", 1)[0] + "…"
    return text


def _search(ctx: Ctx, *, limit: int = 3) -> tuple[list[SearchResult], bool]:
    """Search the help articles; record the question, answered or not, for the gap report."""
    results = article_search(query=ctx.text[:500], language=ctx.language, limit=limit)
    top = results[0] if results else None
    answered = top is not None and top.score >= gap_threshold()
    search_record(
        # The gap report and the teach page show the question to staff and keep it past
        # the conversation's retention and erasure: no e-mail address or phone number in it.
        query=personal_details_mask(ctx.text[:500], region=settings.TOWNHALL_PHONE_REGION),
        top_score=top.score if top else None,
        top_article_id=top.article.pk if top else None,
        answered=answered,
        language=ctx.language,
        source=SearchSource.ASSISTANT,
    )
    return results, answered


def _source(result: SearchResult) -> Source:
    return Source(title=result.article.title, url=page("help-article", result.article.slug))


def faq(ctx: Ctx) -> Step:
    if not ctx.text.strip() or ctx.resume:  # the "Ask a question" button: ask for it
        ctx.slots["_ask"] = "question"
        return Step([message(_("What would you like to know?"))], done=False)
    results, answered = _search(ctx)
    if not answered:
        return out_of_scope(ctx, searched=results)
    best = results[0]
    text = f"{_excerpt(best)}\n\n{ctx.say('faq', 'more', title=best.article.title)}"
    return Step(
        [message(text, sources=[_source(best)], article=best.article.pk)],
        outcome="contained",
        data={"article": best.article.pk, "score": round(best.score, 4)},
    )


def out_of_scope(ctx: Ctx, *, searched: list[SearchResult] | None = None) -> Step:
    """First fallback in a row: ask to rephrase. Second and later: the help search and a
    person. The question is recorded for the gap report either way."""
    person = skill_title("human_handoff", ctx.language)
    if searched is None:
        searched, _answered = _search(ctx)
    if ctx.fallbacks == 0:
        text = ctx.say("out_of_scope", "rephrase")
        return Step([message(text, quick=capability_replies(ctx.language))], fallback=True)
    sources = [_source(r) for r in searched[:3] if r.score > 0]
    help_label = skill_title("faq", ctx.language)
    if sources:
        text = ctx.say("out_of_scope", "search")
    else:
        text = ctx.say("out_of_scope", "nothing_found")
        sources = [Source(title=help_label, url=page("help"))]
    return Step([message(text, quick=[person], sources=sources)], fallback=True)


def human_handoff(ctx: Ctx, *, reason: str = "asked") -> Step:
    conversation = ctx.conversation
    told = services_live.conversation_handoff(conversation=conversation, reason=reason)
    if told is not None:
        # What the live chat decided (queued, or the case the message became) in its words.
        return Step([message(told.text)], outcome="handed_off")
    if conversation.outcome == conversation.Outcome.MESSAGE_LEFT:
        text = ctx.say("human_handoff", "message_left")
    else:
        text = ctx.say("human_handoff", "frustrated" if reason == "frustrated" else "queued")
    return Step([message(text)], outcome="handed_off")
