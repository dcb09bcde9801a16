"""Issue 20's rules in intake: when a photo's proposal is offered, the signed switch, and
how triage joins the text classifier and the photo tags (noisy-OR)."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core import signing

from tests.photo_fakes import MATTRESS, FakeVision, fly_tipping, photo_vision
from townhall.intake.photo_suggestions import (
    PhotoSwitchRefused,
    noisy_or,
    photo_offer,
    photo_switch_check,
    photo_tags,
    triage_with_photos,
)
from townhall.vision.types import TagGuess

__all__ = ["fly_tipping", "photo_vision"]


@pytest.mark.parametrize(
    ("text", "photo", "together"),
    [(0.0, 0.0, 0.0), (0.4, 0.0, 0.4), (0.0, 0.83, 0.83), (0.4, 0.5, 0.7), (1.0, 0.2, 1.0)],
)
def test_noisy_or(text: float, photo: float, together: float) -> None:
    assert noisy_or(text, photo) == pytest.approx(together)
    assert noisy_or(photo, text) == pytest.approx(together)


def test_noisy_or_clamps_what_is_out_of_range() -> None:
    assert noisy_or(-3, 7) == 1.0 and noisy_or(-1, -1) == 0.0


def test_triage_joins_per_service_best_tag_and_says_when_they_disagree() -> None:
    tags = [
        MATTRESS,  # fly_tipping 0.83
        TagGuess("sofa", "Sofa", 0.6, "fly_tipping"),  # same service: the best tag counts
        TagGuess("cat", "Cat", 0.99, None),  # maps to nothing: speaks for no service
    ]
    joined = triage_with_photos([("pothole", 0.5), ("fly_tipping", 0.2)], tags)
    assert [g.code for g in joined.guesses] == ["fly_tipping", "pothole"]
    best = joined.best
    assert best is not None and best.combined == pytest.approx(1 - 0.8 * 0.17)
    assert best.label == "Mattress" and best.photo == pytest.approx(0.83)
    assert joined.disagree  # words: pothole; photo: fly-tipping
    agree = triage_with_photos([("fly_tipping", 0.5)], tags)
    assert not agree.disagree
    assert triage_with_photos([], tags).disagree is False  # no words: nothing to disagree with
    assert triage_with_photos([("pothole", 0.5)], []).guesses[0].combined == 0.5


@pytest.mark.django_db
def test_an_offer_names_another_active_service_only(
    pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    offer = photo_offer([MATTRESS], current="pothole")
    assert offer is not None and offer.service == fly_tipping
    assert offer.proposal.label == "Mattress"
    assert photo_offer([MATTRESS], current=None) is not None  # nothing chosen yet
    assert photo_offer([MATTRESS], current="fly_tipping") is None  # already chosen
    assert photo_offer([], current="pothole") is None  # no photo, no suggestion
    assert photo_offer([TagGuess("x", "X", 0.9, "no_such_service")], current=None) is None


@pytest.mark.django_db
def test_the_switch_is_the_one_offered_and_expires(
    pothole: Any, fly_tipping: Any, photo_vision: FakeVision
) -> None:
    offer = photo_offer([MATTRESS], current="pothole")
    assert offer is not None
    assert photo_switch_check(offer.token, to="fly_tipping") == fly_tipping
    with pytest.raises(PhotoSwitchRefused):
        photo_switch_check(offer.token, to="pothole")
    with pytest.raises(PhotoSwitchRefused):
        photo_switch_check(offer.token + "x", to="fly_tipping")
    with pytest.raises(PhotoSwitchRefused):
        photo_switch_check(signing.dumps(["fly_tipping"], salt="x"), to="fly_tipping")
    with time_machine.travel("2099-01-01"), pytest.raises(PhotoSwitchRefused):
        photo_switch_check(offer.token, to="fly_tipping")
    fly_tipping.active = False
    fly_tipping.save()
    from townhall.catalog.selectors import catalog_cache_clear

    catalog_cache_clear()
    with pytest.raises(PhotoSwitchRefused):
        photo_switch_check(offer.token, to="fly_tipping")


def test_a_recognition_failure_gives_no_tags(photo_vision: FakeVision, monkeypatch: Any) -> None:
    import townhall.vision.services as vision_services

    assert photo_tags([b"one", b"two"]) == [MATTRESS, MATTRESS]

    def broken(data: bytes) -> list[TagGuess]:
        raise ValueError("cannot decode")

    monkeypatch.setattr(vision_services, "tag_image", broken)
    assert photo_tags([b"one"]) == []
