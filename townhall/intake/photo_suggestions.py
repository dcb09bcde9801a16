"""Photo suggestions (issue 20): what a resident's photo suggests filing, and what the photo
tags add to the text classifier's guess in triage.

Recognition itself is `townhall.vision`; this module only decides what a face may offer:

* `photo_offer`: tag just-staged photos and, if their proposal names another active service
  than the one chosen (or none is chosen yet), offer it, with a signed switch token. It is a
  suggestion the resident accepts or not: nothing here changes a report.
* `photo_switch_check`: the switch a face posts back is the one offered, or it is refused
  (`PhotoSwitchRefused`, a 400 for the face).
* `triage_with_photos`: the classifier's services and the photo tags, combined per service.

Tagging is never done while a case is created (the Open311 POST path is benchmarked): the
portal tags when a photo is staged (its own request), the assistant when a photo arrives in
the dialogue, and staff pages read the tags vision stored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core import signing

from townhall.catalog.models import ServiceType
from townhall.catalog.selectors import service_type_get
from townhall.vision.types import ServiceProposal, TagGuess

log = logging.getLogger(__name__)

SWITCH_SALT = "townhall.intake.photo-switch"
SWITCH_MAX_AGE = 6 * 3600  # as long as a staged photo lives, at most


class PhotoSwitchRefused(Exception):
    """The posted switch is not one that was offered (forged, altered or expired)."""


@dataclass(frozen=True)
class PhotoOffer:
    """A proposal worth showing, with the service it names and the token its button posts."""

    proposal: ServiceProposal
    service: ServiceType
    token: str


def _active_service(code: str) -> ServiceType | None:
    try:
        service = service_type_get(code=code)
    except ServiceType.DoesNotExist:
        return None
    return service if service.active else None


def photo_tags(contents: Iterable[bytes]) -> list[TagGuess]:
    """The tags of photos just checked (bytes already re-encoded, EXIF gone).

    A recognition failure is logged and gives no tags: a suggestion is never worth a
    failed report."""
    try:
        from townhall.vision.services import tag_image
    except ImportError:  # recognition not installed: residents report as before
        log.warning("photo recognition unavailable: no suggestion offered")
        return []
    guesses: list[TagGuess] = []
    for data in contents:
        try:
            guesses.extend(tag_image(data))
        except Exception:
            log.warning("photo tagging failed: no suggestion offered", exc_info=True)
    return guesses


def photo_offer(guesses: Sequence[TagGuess], *, current: str | None) -> PhotoOffer | None:
    """What to suggest from `guesses`, or None: no proposal, the service already chosen
    (`current`, None when none is chosen yet), or a service not taking requests."""
    if not guesses:
        return None
    from townhall.vision.services import propose_service

    try:
        proposal = propose_service(list(guesses))
    except Exception:
        log.warning("photo proposal failed: no suggestion offered", exc_info=True)
        return None
    if proposal is None or proposal.service_code == (current or None):
        return None
    service = _active_service(proposal.service_code)
    if service is None:
        return None
    token = signing.dumps({"to": service.code, "from": current or ""}, salt=SWITCH_SALT)
    return PhotoOffer(proposal=proposal, service=service, token=token)


def photo_switch_check(token: str, *, to: str) -> ServiceType:
    """The service a posted switch moves to, if `token` offered exactly that, and it is still
    taking requests; else PhotoSwitchRefused."""
    try:
        payload = signing.loads(str(token)[:500], salt=SWITCH_SALT, max_age=SWITCH_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        raise PhotoSwitchRefused("bad signature") from None
    if not isinstance(payload, dict) or payload.get("to") != to:
        raise PhotoSwitchRefused("not the service offered")
    service = _active_service(to)
    if service is None:
        raise PhotoSwitchRefused("service not active")
    return service


# --- triage -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CombinedGuess:
    """One service as the text classifier and the photos see it.

    `text` is the classifier's probability, `photo` the best confidence of a photo tag that
    maps to the service (0 when a source says nothing of it); `combined` joins them."""

    code: str
    text: float
    photo: float
    combined: float
    label: str  # the photo tag that spoke for it ("" if none)


@dataclass(frozen=True)
class TriageWithPhotos:
    guesses: list[CombinedGuess]  # best combined first
    tags: list[TagGuess]  # what the photos look like, for staff
    disagree: bool  # the text's best service is not the photos' best: show both

    @property
    def best(self) -> CombinedGuess | None:
        return self.guesses[0] if self.guesses else None


def noisy_or(text: float, photo: float) -> float:
    """The rule that joins the two sources for one service: noisy-OR, 1 - (1-t)(1-p).

    The two are read as independent pieces of evidence (the words and the picture), so
    either alone counts in full, both together count for more than the stronger one, and a
    source that says nothing (0) leaves the other unchanged. Inputs outside 0..1 are
    clamped."""
    t = min(max(float(text), 0.0), 1.0)
    p = min(max(float(photo), 0.0), 1.0)
    return 1.0 - (1.0 - t) * (1.0 - p)


def triage_with_photos(
    text_guesses: Sequence[tuple[str, float]], tags: Sequence[TagGuess]
) -> TriageWithPhotos:
    """The classifier's (service code, probability) pairs and the photo tags, per service.

    The photo side of a service is its best tag's confidence (several tags pointing to the
    same service are not added up: they are usually the same object seen twice). They
    disagree when both have a best service and those differ; the page then shows both."""
    text = {str(code): float(p) for code, p in text_guesses}
    photo: dict[str, tuple[float, str]] = {}
    for tag in tags:
        if tag.service_code and tag.confidence > photo.get(tag.service_code, (0.0, ""))[0]:
            photo[tag.service_code] = (float(tag.confidence), tag.label)
    codes = list(dict.fromkeys([*text, *photo]))
    guesses = [
        CombinedGuess(
            code=code,
            text=text.get(code, 0.0),
            photo=photo.get(code, (0.0, ""))[0],
            combined=noisy_or(text.get(code, 0.0), photo.get(code, (0.0, ""))[0]),
            label=photo.get(code, (0.0, ""))[1],
        )
        for code in codes
    ]
    guesses.sort(key=lambda g: (-g.combined, g.code))
    best_text = max(text, key=lambda c: text[c]) if text else None
    best_photo = max(photo, key=lambda c: photo[c][0]) if photo else None
    disagree = best_text is not None and best_photo is not None and best_text != best_photo
    return TriageWithPhotos(guesses=guesses, tags=list(tags), disagree=disagree)


@dataclass(frozen=True)
class TriageRow:
    """One line of the triage box's "words and photo together" table."""

    service: ServiceType
    guess: CombinedGuess


def triage_photo_rows(
    *, case: object, text_guesses: Sequence[tuple[str, float]], tags: Sequence[TagGuess]
) -> tuple[list[TriageRow], bool]:
    """The combined guesses of a case in triage as services it may move to (active, of the
    case's council), best first, and whether the words and the photos disagree. Staff only:
    `tags` come from `vision.selectors.case_tags`."""
    if not tags:
        return [], False
    combined = triage_with_photos(text_guesses, tags)
    jurisdiction_id = getattr(getattr(case, "service_type", None), "jurisdiction_id", None)
    rows = []
    for guess in combined.guesses:
        service = _active_service(guess.code)
        if service is None or service.jurisdiction_id != jurisdiction_id:
            continue
        rows.append(TriageRow(service=service, guess=guess))
    return rows, combined.disagree
