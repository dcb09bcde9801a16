"""Skills are data: one YAML file per skill in `skills/` (examples, slots, prompts per language).

`skills_load()` reads them once per process; staff-added examples live in `SkillExample`
rows and are merged in by the understanding module, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SKILLS_DIR = Path(__file__).with_name("skills")


@dataclass(frozen=True)
class Skill:
    name: str
    description: str = ""
    slots: tuple[dict[str, Any], ...] = ()
    # prompts[language][prompt name] -> text
    prompts: dict[str, dict[str, str]] = field(default_factory=dict)
    # examples[language] -> utterances
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def prompt(self, name: str, language: str) -> str:
        """The prompt in `language`, else English, else the name itself."""
        for lang in (language, "en"):
            text = self.prompts.get(lang, {}).get(name)
            if text:
                return text
        return name


def _skill_from(raw: dict[str, Any]) -> Skill:
    return Skill(
        name=str(raw["name"]),
        description=str(raw.get("description") or ""),
        slots=tuple(raw.get("slots") or ()),
        prompts={lang: dict(p or {}) for lang, p in (raw.get("prompts") or {}).items()},
        examples={lang: tuple(e or ()) for lang, e in (raw.get("examples") or {}).items()},
    )


@cache
def skills_load() -> dict[str, Skill]:
    skills = {}
    for path in sorted(SKILLS_DIR.glob("*.yaml")):
        skill = _skill_from(yaml.safe_load(path.read_text(encoding="utf-8")))
        skills[skill.name] = skill
    return skills
