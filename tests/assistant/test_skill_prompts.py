"""Skills as data: every prompt exists in every language the site offers, and every skill
the understanding module may choose has a handler."""

from __future__ import annotations

from django.conf import settings

from townhall.assistant.dialogue import HANDLERS
from townhall.assistant.skills import skills_load


def test_every_prompt_is_written_in_every_language() -> None:
    languages = [code.split("-")[0] for code, _name in settings.LANGUAGES]
    for skill in skills_load().values():
        english = set(skill.prompts["en"])
        assert "title" in english, skill.name
        for language in languages:
            assert set(skill.prompts.get(language, {})) == english, (skill.name, language)
        for slot in skill.slots:
            prompt = slot.get("prompt", "")
            assert prompt.startswith("(") or prompt in english, (skill.name, prompt)


def test_every_skill_has_a_handler() -> None:
    assert set(skills_load()) == set(HANDLERS)
