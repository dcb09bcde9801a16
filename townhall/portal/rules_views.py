"""Eligibility checks (/check/) and the permit finder (/permits/): no JavaScript needed.

Answers travel in the query string (GET forms), so a result can be bookmarked or shared and
the back button works; nothing is stored.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from townhall.core.errors import DomainError, NotFound, ValidationFailed
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

    def __init__(self, programme: Programme, data: Any = None) -> None:
        super().__init__(data)
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


@require_GET
@portal_rate_limited("rules", methods=None)
def check_programme_view(request: HttpRequest, rule_id: str) -> HttpResponse:
    """Ask the programme's questions; once answered, show the outcome and why."""
    programme = _programme_or_404(rule_id)
    language = _language()
    submitted = "submitted" in request.GET
    form = ProgrammeForm(programme, request.GET if submitted else None)
    context: dict[str, Any] = {
        "programme": programme,
        "title": pick(programme.title, language),
        "summary": pick(programme.summary, language),
        "form": form,
    }
    if not submitted:
        return render(request, "portal/check/form.html", context)
    if not form.is_valid():
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
    answers = [(k, str(v)) for k, v in request.GET.items() if k in programme.inputs and v]
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
            "change_url": reverse("portal:check-programme", args=[programme.id])
            + "?"
            + urlencode(answers),
        }
    )
    return render(request, "portal/check/result.html", context)


def _tree(request: HttpRequest) -> PermitTree:
    wanted = request.GET.get("tree")
    if wanted:
        try:
            return permit_tree_get(tree_id=wanted)
        except NotFound:
            raise Http404(wanted) from None
    trees = permit_tree_list()
    if not trees:
        raise Http404("no permit tree")
    return trees[0]


@require_GET
@portal_rate_limited("rules", methods=None)
def permits_view(request: HttpRequest) -> HttpResponse:
    """One question per step; the answers so far ride along in the query string."""
    tree = _tree(request)
    language = _language()
    answers = [tuple(a.split(":", 1)) for a in request.GET.getlist("a") if ":" in a]
    error = ""
    status = 200
    asked = request.GET.get("q")
    if asked:
        choice = request.GET.get("choice")
        if choice:
            answers.append((asked, choice))
        else:
            error = _("Select an answer")
            status = 400
    try:
        step = permit_tree_walk(tree, answers=[(q, c) for q, c in answers])
    except ValidationFailed:
        step = permit_tree_walk(tree, answers=[])
        error, status = _("Those answers did not fit together. Start again."), 400
    kept = [f"{q}:{c}" for q, c in step.answers]
    back = ""
    if step.answers:
        back = (
            reverse("portal:permits")
            + "?"
            + urlencode([("tree", tree.id), *(("a", a) for a in kept[:-1])])
        )
    context: dict[str, Any] = {
        "tree": tree,
        "title": pick(tree.title, language),
        "summary": pick(tree.summary, language),
        "kept": kept,
        "error": error,
        "back_url": back,
        "restart_url": reverse("portal:permits") + "?" + urlencode({"tree": tree.id}),
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
                }
                for p in step.permits
            ],
            "total_fee": format_value(step.total_fee, money=True, currency=tree.currency),
            "longest_days": step.longest_processing_days,
        }
    )
    return render(request, "portal/permits/result.html", context, status=status)
