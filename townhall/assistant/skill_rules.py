"""Skills on the rules engine: `permit_finder` (a permit tree, one question a turn) and
`eligibility` (a programme's questions, asked only while the decision still needs them).

The answers are the resident's own circumstances (income, savings): they live in the
skill's slots only until it finishes, then the frame and its slots are dropped. Every
decision comes with the rules' own explanation and a link to the page that shows it.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils import timezone

from townhall.assistant.dialogue_base import Ctx, Step, message, page
from townhall.assistant.dialogue_slots import choice_match, fold, is_skip, yes_no
from townhall.assistant.replies import Source
from townhall.core.errors import DomainError, NotFound, ValidationFailed
from townhall.rules.evaluation import (
    NotInForce,
    Outcome,
    format_value,
    input_coerce,
    pick,
    programme_evaluate,
)
from townhall.rules.permits import permit_tree_walk
from townhall.rules.schema import Input, PermitTree, Programme
from townhall.rules.selectors import (
    permit_tree_get,
    permit_tree_list,
    programme_get,
    programme_list,
)

# --- permit finder ---------------------------------------------------------------------


def _tree(slots: dict[str, Any]) -> PermitTree | None:
    if slots.get("tree"):
        try:
            return permit_tree_get(tree_id=str(slots["tree"]))
        except NotFound:
            return None
    trees = permit_tree_list()
    return trees[0] if trees else None


def _link(url: str) -> bool:
    return url.startswith(("https://", "http://"))


def permit_finder(ctx: Ctx) -> Step:
    slots = ctx.slots
    tree = _tree(slots)
    if tree is None:
        return Step([message(ctx.say("permit_finder", "none"))], outcome="contained")
    slots["tree"] = tree.id
    answers = [tuple(a) for a in slots.get("answers", [])]
    lead: list[str] = []
    if ctx.fresh:
        lead.append(ctx.say("permit_finder", "intro"))
    elif not ctx.resume:
        step = permit_tree_walk(tree, answers=answers)
        if step.question is not None:
            options = [(c.id, pick(c.label, ctx.language)) for c in step.question.choices]
            chosen = choice_match(ctx.text, options)
            if chosen is None and (said := yes_no(ctx.text)) is not None:
                chosen = choice_match("yes" if said else "no", options)
            if chosen is None:
                lead.append(ctx.say("permit_finder", "choose"))
            else:
                answers.append((step.question.id, chosen))
    try:
        step = permit_tree_walk(tree, answers=answers)
    except ValidationFailed:  # the tree changed under the answers kept
        answers = []
        step = permit_tree_walk(tree, answers=answers)
    slots["answers"] = [list(a) for a in answers]
    here = Source(title=pick(tree.title, ctx.language), url=page("permits") + f"?tree={tree.id}")
    if step.question is not None:
        question = pick(step.question.text, ctx.language)
        hint = pick(step.question.hint, ctx.language)
        text = "\n\n".join([*lead, question + (f"\n{hint}" if hint else "")])
        labels = [pick(c.label, ctx.language) for c in step.question.choices]
        slots["_ask"] = step.question.id
        return Step([message(text, quick=labels)], done=False)
    if not step.permits:
        text = ctx.say("permit_finder", "none")
    else:
        lines = [ctx.say("permit_finder", "result")]
        for permit in step.permits:
            lines.append(
                f"• {pick(permit.name, ctx.language)}: "
                f"{format_value(permit.fee, money=True, currency=tree.currency)}"
            )
        fee = format_value(step.total_fee, money=True, currency=tree.currency)
        lines.append(ctx.say("permit_finder", "fee", fee=fee, days=step.longest_processing_days))
        text = "\n".join(lines)
    sources = [here] + [
        Source(title=pick(p.name, ctx.language), url=p.source)
        for p in step.permits
        if _link(p.source)
    ]
    return Step([message(text, sources=sources)], outcome="contained")


# --- eligibility -----------------------------------------------------------------------


def _programme_named(text: str, language: str) -> Programme | None:
    words = fold(text)
    best: tuple[int, Programme] | None = None
    for programme in programme_list():
        title = fold(pick(programme.title, language))
        if title and title in words:
            return programme
        shared = len(set(title.split()) & set(words.split()) - {"de", "del", "the", "for"})
        if shared and (best is None or shared > best[0]):
            best = (shared, programme)
    return best[1] if best else None


def _number_text(text: str) -> str:
    found = re.search(r"-?\$?\d[\d,]*(?:\.\d+)?", text)
    return found.group(0) if found else text


def _answer(spec: Input, text: str, language: str) -> Any:
    """The typed value the words give for `spec`; raise ValidationFailed if none."""
    if spec.type == "boolean":
        said = yes_no(text)
        if said is None:
            raise ValidationFailed("yes or no", details={spec.name: ["must be yes or no"]})
        return said
    if spec.type == "choice":
        options = [(o.value, pick(o.label, language)) for o in spec.options]
        chosen = choice_match(text, options)
        if chosen is None:
            raise ValidationFailed("a choice", details={spec.name: ["choose one"]})
        return chosen
    if spec.type == "date":
        return input_coerce(spec, text.strip())
    return input_coerce(spec, _number_text(text))


def _store(value: Any) -> Any:
    return value if isinstance(value, bool | str) or value is None else str(value)


def _inputs(programme: Programme, kept: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for name, raw in kept.items():
        if name in programme.inputs:
            try:
                values[name] = input_coerce(programme.inputs[name], raw)
            except ValidationFailed:
                continue
    return values


def _ask(spec: Input, ctx: Ctx, lead: list[str]) -> Step:
    question = pick(spec.question, ctx.language)
    hint = pick(spec.hint, ctx.language)
    skip = ctx.say("eligibility", "skip")
    if spec.type == "boolean":
        quick = [ctx.say("eligibility", "yes"), ctx.say("eligibility", "no"), skip]
    elif spec.type == "choice":
        quick = [pick(o.label, ctx.language) for o in spec.options] + [skip]
    else:
        quick = [skip]
    ctx.slots["_ask"] = spec.name
    text = "\n\n".join([*lead, question + (f"\n{hint}" if hint else "")])
    return Step([message(text, quick=quick)], done=False)


def eligibility(ctx: Ctx) -> Step:
    slots = ctx.slots
    programme = None
    if slots.get("programme"):
        try:
            programme = programme_get(rule_id=str(slots["programme"]))
        except NotFound:
            slots.pop("programme", None)
    lead: list[str] = []
    if programme is None:
        wanted = (ctx.understanding.entities.get("programme") if ctx.understanding else None) or ""
        try:
            programme = programme_get(rule_id=str(wanted)) if wanted else None
        except NotFound:
            programme = None
        programme = programme or _programme_named(str(wanted) or ctx.text, ctx.language)
        if programme is None:
            options = programme_list()
            slots["_ask"] = "programme"
            return Step(
                [
                    message(
                        ctx.say("eligibility", "which_programme"),
                        quick=[pick(p.title, ctx.language) for p in options],
                    )
                ],
                done=False,
            )
        slots["programme"] = programme.id
        title = pick(programme.title, ctx.language)
        lead.append(ctx.say("eligibility", "intro", title=title))
    kept: dict[str, Any] = slots.setdefault("inputs", {})
    skipped: list[str] = slots.setdefault("skipped", [])
    asked = str(slots.get("_ask") or "")
    if not lead and not ctx.resume and asked in programme.inputs:
        spec = programme.inputs[asked]
        if is_skip(ctx.text) and not (spec.type == "boolean" and yes_no(ctx.text) is not None):
            skipped.append(asked)
        else:
            try:
                kept[asked] = _store(_answer(spec, ctx.text, ctx.language))
            except ValidationFailed:
                return _ask(spec, ctx, [ctx.say("eligibility", "bad_value", hint="").strip()])
    values = _inputs(programme, kept)
    try:
        decision = programme_evaluate(
            programme, inputs=values, on=timezone.localdate(), language=ctx.language
        )
    except (NotInForce, DomainError):
        url = page("check-programme", programme.id)
        return Step(
            [message(pick(programme.summary, ctx.language), sources=[Source("", url)])],
            outcome="contained",
        )
    if decision.outcome == Outcome.NEED_MORE_INFORMATION:
        # In the programme's own order, which reads as a form would.
        pending = [
            n for n in programme.inputs if n in decision.missing and n not in skipped + list(kept)
        ]
        if pending:
            return _ask(programme.inputs[pending[0]], ctx, lead)
    return _decision_step(ctx, programme, decision)


def _decision_step(ctx: Ctx, programme: Programme, decision: Any) -> Step:
    title = pick(programme.title, ctx.language)
    key = {
        Outcome.ELIGIBLE: "eligible",
        Outcome.NOT_ELIGIBLE: "not_eligible",
    }.get(decision.outcome, "unknown")
    lines = [ctx.say("eligibility", key, title=title)]
    reasons = [c.explanation for c in decision.deciding if c.explanation]
    if reasons:
        lines.append(ctx.say("eligibility", "because") + " " + " ".join(reasons))
    if decision.amount is not None:
        amount = format_value(decision.amount, money=True, currency=programme.currency)
        lines.append(ctx.say("eligibility", "amount", amount=amount))
    if decision.outcome == Outcome.NEED_MORE_INFORMATION and decision.missing:
        lines.append(
            "; ".join(pick(programme.inputs[n].question, ctx.language) for n in decision.missing)
        )
    if decision.outcome == Outcome.ELIGIBLE:
        lines.append(pick(programme.next_steps, ctx.language))
    sources = [Source(title=title, url=page("check-programme", programme.id))]
    if _link(decision.source):
        sources.append(Source(title=decision.source, url=decision.source))
    # The circumstances typed for the check are not kept once it is answered.
    ctx.slots.clear()
    return Step(
        [message("\n\n".join(lines), sources=sources, outcome=str(decision.outcome))],
        outcome="contained",
        data={"programme": programme.id, "decision": str(decision.outcome)},
    )
