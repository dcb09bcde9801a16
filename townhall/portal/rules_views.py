"""Eligibility checks (/check/) and the permit finder (/permits/): no JavaScript needed.

Answers about income, savings, benefits or health never travel in a URL or a log: the
forms post them, they are kept server-side for a short time (portal/answers.py) so that
"Change your answers" and "Back" work, then they are gone; each answer page redirects to
a GET page that reads them from there (post/redirect/get), so a reload re-posts nothing.
Error reports mask every posted value (``sensitive_post_parameters``) and the pages are
never cached by the browser.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from townhall.core.errors import DomainError, NotFound, ValidationFailed
from townhall.intake.application_drafts import (
    PROGRAMME,
    application_service_for,
    permits_with_application,
)
from townhall.portal.answers import answers_forget, answers_get, answers_keep
from townhall.portal.throttle import portal_rate_limited
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


class DateWidget(forms.TextInput):
    input_type = "date"


def _language() -> str:
    return get_language() or "en"


class ProgrammeForm(forms.Form):
    """The programme's questions as a form; every answer may be left blank for now."""

    def __init__(
        self, programme: Programme, data: Any = None, initial: dict[str, Any] | None = None
    ) -> None:
        super().__init__(data, initial=initial)
        self.programme = programme
        language = _language()
        for spec in programme.inputs.values():
            label = pick(spec.question, language)
            hint = pick(spec.hint, language)
            field: forms.Field
            if spec.type == "boolean":
                field = forms.ChoiceField(
                    choices=[("yes", _("Yes")), ("no", _("No"))], widget=forms.RadioSelect
                )
            elif spec.type == "choice":
                field = forms.ChoiceField(
                    choices=[(o.value, pick(o.label, language)) for o in spec.options],
                    widget=forms.RadioSelect,
                )
            elif spec.type == "date":
                field = forms.CharField(max_length=10, widget=DateWidget)
            else:
                mode = "numeric" if spec.type == "integer" else "decimal"
                field = forms.CharField(
                    max_length=20,
                    widget=forms.TextInput(
                        attrs={"inputmode": mode, "class": "govuk-input--width-10"}
                    ),
                )
            field.required = False
            field.label = label
            field.help_text = hint
            self.fields[spec.name] = field

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.values: dict[str, Any] = {}
        for name, spec in self.programme.inputs.items():
            if name in self.errors:
                continue
            try:
                self.values[name] = input_coerce(spec, cleaned.get(name))
            except ValidationFailed:
                self.add_error(name, _input_error(spec))
        return cleaned


def _input_error(spec: Input) -> str:
    if spec.type == "integer":
        message = _("Enter a whole number")
    elif spec.type == "date":
        message = _("Enter a real date")
    else:
        message = _("Enter a number, like 1200 or 1200.50")
    if spec.minimum is not None and spec.maximum is not None:
        message += " " + _("between %(low)s and %(high)s") % {
            "low": format_value(spec.minimum),
            "high": format_value(spec.maximum),
        }
    elif spec.minimum is not None:
        message += " " + _("of at least %(low)s") % {"low": format_value(spec.minimum)}
    return message


def _programme_or_404(rule_id: str) -> Programme:
    try:
        return programme_get(rule_id=rule_id)
    except NotFound:
        raise Http404(rule_id) from None


@require_GET
@portal_rate_limited("rules", methods=None)
def check_list_view(request: HttpRequest) -> HttpResponse:
    """List the programmes a resident can check."""
    language = _language()
    programmes = [
        {"id": p.id, "title": pick(p.title, language), "summary": pick(p.summary, language)}
        for p in programme_list()
    ]
    return render(request, "portal/check/list.html", {"programmes": programmes})


@require_http_methods(["GET", "POST"])
@portal_rate_limited("rules", methods=None)
@sensitive_post_parameters()
@never_cache
def check_programme_view(request: HttpRequest, rule_id: str) -> HttpResponse:
    """Ask the programme's questions (with the answers kept so far); a post keeps the
    answers and goes on to the result."""
    programme = _programme_or_404(rule_id)
    if request.method == "POST" and "forget" in request.POST:
        answers_forget(request, "check", programme.id)
        return redirect("portal:check-programme", rule_id=programme.id)
    if request.method == "POST":
        form = ProgrammeForm(programme, request.POST)
        if not form.is_valid():
            return render(
                request, "portal/check/form.html", _check_context(programme, form), status=400
            )
        kept = {k: str(v) for k, v in request.POST.items() if k in programme.inputs and v}
        answers_keep(request, "check", programme.id, kept)
        return redirect("portal:check-result", rule_id=programme.id)
    form = ProgrammeForm(programme, initial=answers_get(request, "check", programme.id))
    return render(request, "portal/check/form.html", _check_context(programme, form))


def _check_context(programme: Programme, form: ProgrammeForm) -> dict[str, Any]:
    language = _language()
    return {
        "programme": programme,
        "title": pick(programme.title, language),
        "summary": pick(programme.summary, language),
        "form": form,
    }


@require_GET
@never_cache
def check_result_view(request: HttpRequest, rule_id: str) -> HttpResponse:
    """The outcome for the answers kept, and why; without answers (or once they have
    expired), back to the questions."""
    programme = _programme_or_404(rule_id)
    language = _language()
    kept = answers_get(request, "check", programme.id)
    if not isinstance(kept, dict):
        return redirect("portal:check-programme", rule_id=programme.id)
    form = ProgrammeForm(programme, kept)
    context = _check_context(programme, form)
    if not form.is_valid():  # rules changed since the answers were kept
        return render(request, "portal/check/form.html", context, status=400)
    try:
        decision = programme_evaluate(
            programme, inputs=form.values, on=timezone.localdate(), language=language
        )
    except NotInForce:
        context["not_in_force"] = True
        return render(request, "portal/check/form.html", context, status=404)
    except DomainError:  # a council's rule that breaks on these answers: say so, never a 500
        form.add_error(None, _("We could not check these answers. Please contact the council."))
        return render(request, "portal/check/form.html", context, status=422)
    context.update(
        {
            "decision": decision,
            "outcome": str(decision.outcome),
            "eligible": decision.outcome == Outcome.ELIGIBLE,
            "amount": format_value(decision.amount, money=True, currency=programme.currency)
            if decision.amount is not None
            else "",
            "deciding": decision.deciding,
            "others": [c for c in decision.conditions if c.id not in decision.decided_by],
            "missing_questions": [
                pick(programme.inputs[name].question, language) for name in decision.missing
            ],
            "next_steps": pick(programme.next_steps, language),
            "change_url": reverse("portal:check-programme", args=[programme.id]),
            # "Answer the remaining questions" lands on the first one still unanswered.
            "remaining_anchor": _field_anchor(programme, decision.missing),
            "answers_minutes": settings.TOWNHALL_ANSWERS_KEEP_MINUTES,
            # "Apply" (docs/rules.md): the answers go with it server-side, never in a URL.
            "can_apply": decision.outcome == Outcome.ELIGIBLE
            and application_service_for(kind=PROGRAMME, ident=programme.id) is not None,
        }
    )
    return render(request, "portal/check/result.html", context)


def _field_anchor(programme: Programme, names: tuple[str, ...]) -> str:
    """The id of the first input of the first question in `names` ("" for none)."""
    if not names:
        return ""
    radios = programme.inputs[names[0]].type in {"boolean", "choice"}
    return f"id_{names[0]}_0" if radios else f"id_{names[0]}"


def _tree(request: HttpRequest) -> PermitTree:
    wanted = request.POST.get("tree") or request.GET.get("tree")
    if wanted:
        try:
            return permit_tree_get(tree_id=wanted)
        except NotFound:
            raise Http404(wanted) from None
    trees = permit_tree_list()
    if not trees:
        raise Http404("no permit tree")
    return trees[0]


def _step_number(raw: str | None, most: int) -> int:
    """The question asked after this many answers (`most`, the last one, when not given)."""
    try:
        return max(0, min(int(raw or most), most))
    except ValueError:
        return most


@require_http_methods(["GET", "POST"])
@portal_rate_limited("rules", methods=None)
@sensitive_post_parameters()
@never_cache
def permits_view(request: HttpRequest) -> HttpResponse:
    """One question per step. Answers are posted and kept server-side; the URL carries only
    the tree and, for "Back", how many answers to go back to."""
    tree = _tree(request)
    language = _language()
    here = reverse("portal:permits") + "?" + urlencode({"tree": tree.id})
    stored = answers_get(request, "permits", tree.id)
    kept_before = [(str(q), str(c)) for q, c in stored] if isinstance(stored, list) else []
    error = ""
    status = 200
    if request.method == "POST" and "forget" in request.POST:
        answers_forget(request, "permits", tree.id)
        return redirect(here)
    if request.method == "POST":
        answers = kept_before[: _step_number(request.POST.get("step"), len(kept_before))]
        asked, choice = request.POST.get("q", ""), request.POST.get("choice", "")
        if choice and asked:
            try:
                permit_tree_walk(tree, answers=[*answers, (asked, choice)])
            except ValidationFailed:
                answers_forget(request, "permits", tree.id)
                answers = []
                error, status = _("Those answers did not fit together. Start again."), 400
            else:
                answers_keep(request, "permits", tree.id, [*answers, (asked, choice)])
                return redirect(here)
        else:
            error, status = _("Select an answer"), 400
    else:
        answers = kept_before[: _step_number(request.GET.get("step"), len(kept_before))]
    try:
        step = permit_tree_walk(tree, answers=answers)
    except ValidationFailed:  # the tree changed under the answers kept
        step = permit_tree_walk(tree, answers=[])
        error, status = _("Those answers did not fit together. Start again."), 400
    back = ""
    if step.answers:
        back = here + "&" + urlencode({"step": len(step.answers) - 1})
    context: dict[str, Any] = {
        "tree": tree,
        "title": pick(tree.title, language),
        "summary": pick(tree.summary, language),
        "step_number": len(step.answers),
        "error": error,
        "back_url": back,
        "restart_url": here + "&step=0",
        "answers_minutes": settings.TOWNHALL_ANSWERS_KEEP_MINUTES,
    }
    if step.question is not None:
        question = step.question
        context.update(
            {
                "question": question,
                "question_text": pick(question.text, language),
                "hint": pick(question.hint, language),
                "choices": [(c.id, pick(c.label, language)) for c in question.choices],
                "first": not step.answers,
            }
        )
        return render(request, "portal/permits/question.html", context, status=status)
    questions = tree.questions
    applicable = permits_with_application(tree_id=tree.id, permit_ids=[p.id for p in step.permits])
    context.update(
        {
            "summary_rows": [
                (
                    pick(questions[q].text, language),
                    next(pick(c.label, language) for c in questions[q].choices if c.id == cid),
                )
                for q, cid in step.answers
            ],
            "permits": [
                {
                    "name": pick(p.name, language),
                    "documents": [pick(d, language) for d in p.documents],
                    "fee": format_value(p.fee, money=True, currency=tree.currency),
                    "free": not p.fee,
                    "days": p.processing_days,
                    "source": p.source,
                    "id": p.id,
                    "apply": p.id in applicable,
                }
                for p in step.permits
            ],
            "total_fee": format_value(step.total_fee, money=True, currency=tree.currency),
            "longest_days": step.longest_processing_days,
        }
    )
    return render(request, "portal/permits/result.html", context, status=status)
