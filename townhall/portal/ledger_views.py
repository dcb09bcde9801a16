"""The published ledger: every signed seal (JSON and a page) and a case's inclusion proof.

Anyone may keep copies of /ledger/seals.json: with the public key on the page they can
later check that the council's case histories still give the roots it signed.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from townhall.cases.errors import CaseNotFound
from townhall.cases.selectors import (
    case_get_by_reference,
    ledger_proof,
    ledger_seal_get,
    ledger_seals,
)

CACHE = "public, max-age=300"


def _published(body: object) -> JsonResponse:
    response = JsonResponse(body, safe=False, json_dumps_params={"indent": 1})
    response["Cache-Control"] = CACHE
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _keys(seals: list[dict[str, object]]) -> list[dict[str, object]]:
    keys: dict[object, dict[str, object]] = {}
    for seal in seals:
        keys.setdefault(
            seal["key_id"], {"key_id": seal["key_id"], "public_key": seal["public_key"]}
        )
    return list(keys.values())


@require_GET
def seals_json_view(request: HttpRequest) -> JsonResponse:
    seals = ledger_seals()
    return _published({"keys": _keys(seals), "seals": seals})


@require_GET
def seal_json_view(request: HttpRequest, seal_id: int) -> JsonResponse:
    seal = ledger_seal_get(seal_id=seal_id)
    if seal is None:
        raise Http404("No such seal.")
    return _published(seal)


@require_GET
def proof_json_view(request: HttpRequest, reference: str) -> JsonResponse:
    try:
        case = case_get_by_reference(reference=reference)
    except CaseNotFound:
        return JsonResponse({"error": "No request has that reference."}, status=404)
    proof = ledger_proof(case_id=case.pk)
    if proof is None:
        return JsonResponse({"error": "This request is not in a seal yet."}, status=404)
    proof["reference"] = case.reference
    return _published(proof)


@require_GET
def seals_view(request: HttpRequest) -> HttpResponse:
    seals = ledger_seals()
    return render(request, "portal/ledger.html", {"seals": seals, "keys": _keys(seals)})
