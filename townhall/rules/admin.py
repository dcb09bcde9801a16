"""Admin screen: a council adds programme versions, validated on save, with test results shown."""

from __future__ import annotations

from typing import Any

import yaml
from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy

from townhall.core.errors import ValidationFailed
from townhall.rules.library import yaml_parse
from townhall.rules.models import Programme
from townhall.rules.schema import programme_compile
from townhall.rules.selectors import programme_tests_run
from townhall.rules.services import programme_save


class ProgrammeForm(forms.ModelForm):  # type: ignore[type-arg]
    definition_yaml = forms.CharField(
        label=gettext_lazy("Definition (YAML)"),
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "style": "font-family: monospace"}),
        help_text=gettext_lazy(
            "The same format as townhall/rules/programmes/*.yaml (see docs/rules.md). "
            "Saving stores a new version; the newest active version wins over the shipped file."
        ),
    )

    class Meta:
        model = Programme
        fields = ["note"]

    def clean_definition_yaml(self) -> dict[str, Any]:
        try:
            data = yaml_parse(self.cleaned_data["definition_yaml"])
            programme_compile(data)
        except ValidationFailed as error:
            raise forms.ValidationError(
                [error.message]
                + [f"{path}: {m}" for path, messages in error.details.items() for m in messages]
            ) from None
        return data  # type: ignore[no-any-return]


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = ProgrammeForm
    list_display = ["rule_id", "version", "is_active", "note", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["rule_id", "note"]

    class Media:
        css = {"all": ["core/admin.css"]}  # classes, not style attributes (CSP)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["definition_yaml", "note"]
        return ["rule_id", "version", "is_active", "note", "created_at", "test_results", "shown"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        # a stored version never changes: save a new one instead (only `is_active` toggles)
        return ["rule_id", "version", "note", "created_at", "test_results", "shown"]

    def get_form(
        self, request: HttpRequest, obj: Any | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is not None:
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        source = request.GET.get("copy")
        row = Programme.objects.filter(pk=source).first() if source and source.isdigit() else None
        if row is None:
            return {}
        return {"definition_yaml": yaml.safe_dump(row.definition, sort_keys=False)}

    @admin.display(description=gettext_lazy("Definition"))
    def shown(self, obj: Programme) -> str:
        text = yaml.safe_dump(obj.definition, sort_keys=False, allow_unicode=True)
        return format_html(
            '<pre class="th-admin-pre">{}</pre><p><a href="../../add/?copy={}">'
            "Start a new version from this one</a></p>",
            text,
            obj.pk,
        )

    @admin.display(description=gettext_lazy("Test cases"))
    def test_results(self, obj: Programme) -> str:
        try:
            results = programme_tests_run(programme=programme_compile(obj.definition))
        except ValidationFailed as error:
            return format_html("<strong>Invalid definition:</strong> {}", error.message)
        if not results:
            return "No test cases (add a `tests:` list to the definition)."
        rows = format_html_join(
            "",
            "<li>{} {}{}</li>",
            (
                (
                    "✔" if r.passed else "✘",
                    r.name,
                    "" if r.passed else " – " + "; ".join(r.problems),
                )
                for r in results
            ),
        )
        passed = sum(r.passed for r in results)
        return format_html("<p>{} of {} passed</p><ul>{}</ul>", passed, len(results), rows)

    def save_model(self, request: HttpRequest, obj: Programme, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["is_active"])
            return
        saved = programme_save(
            definition=form.cleaned_data["definition_yaml"],
            note=form.cleaned_data.get("note", ""),
            actor=request.user,
        )
        obj.pk = saved.pk
        obj.rule_id, obj.version, obj.definition = saved.rule_id, saved.version, saved.definition
        obj.created_at = saved.created_at
