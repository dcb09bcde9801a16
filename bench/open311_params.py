"""Benchmark: checking the parameters of an Open311 POST, in-process, against a reference.

Times `params_parse(RequestCreateParams, post)` (pydantic) and the hand-written parsing it
replaced (kept here, verbatim but for its errors, as the reference), alternating rounds in
the same process over the same form, the shape bench/open311.py posts:

    python bench/open311_params.py [--number 100000] [--rounds 7] [--smoke]
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townhall.settings")

DESCRIPTION_MAX = 4000
BODY = urlencode(
    {
        "api_key": "k" * 43,
        "service_code": "pothole",
        "attribute[size]": "large",
        "description": "Bench report 17",
        "lat": "42.317",
        "long": "-71.017",
        "email": "rosa@example.org",
        "first_name": "Rosa",
        "last_name": "Parks",
    }
)


def _float(raw: str) -> float | None:
    if not raw.strip():
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError("must be a decimal number.") from exc


def reference(post: Any) -> tuple[Any, ...]:
    """The hand-written parsing of main at 050c833 (request_create_view's first lines)."""
    code = post.get("service_code", "").strip()
    if not code:
        raise ValueError("service_code is required.")
    lat, long = _float(post.get("lat", "")), _float(post.get("long", ""))
    address, address_id = post.get("address_string", "").strip(), post.get("address_id", "").strip()
    if lat is None and long is None and not address and not address_id:
        raise ValueError("A location is required.")
    description = post.get("description", "")
    if len(description) > DESCRIPTION_MAX:
        raise ValueError("description is too long.")
    name = " ".join(p for p in (post.get("first_name", ""), post.get("last_name", "")) if p).strip()
    email, phone = post.get("email", "").strip(), post.get("phone", "").strip()
    media_url, account_id = post.get("media_url", "").strip(), post.get("account_id") or None
    return (
        code,
        lat,
        long,
        address,
        address_id,
        description,
        name,
        email,
        phone,
        media_url,
        account_id,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--number", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="A quick run (tests use it).")
    args = parser.parse_args()
    if args.smoke:
        args.number, args.rounds = 1_000, 1
    import django

    django.setup()
    from django.http import QueryDict

    from townhall.open311.params import RequestCreateParams, params_parse

    post = QueryDict(BODY)
    params = params_parse(RequestCreateParams, post)
    assert (params.service_code, params.lat, params.long, params.name) == (
        "pothole",
        42.317,
        -71.017,
        "Rosa Parks",
    )
    timings: dict[str, list[float]] = {"reference (hand-written)": [], "pydantic": []}
    for _ in range(args.rounds):
        timings["reference (hand-written)"].append(
            timeit.timeit(lambda: reference(post), number=args.number)
        )
        timings["pydantic"].append(
            timeit.timeit(lambda: params_parse(RequestCreateParams, post), number=args.number)
        )
    for label, runs in timings.items():
        best, median = min(runs), sorted(runs)[len(runs) // 2]
        print(
            f"{label:26} best {best / args.number * 1e6:6.2f} us, "
            f"median {median / args.number * 1e6:6.2f} us per POST"
        )


if __name__ == "__main__":
    main()
