"""Build townhall/demo/data/triage_examples.csv: training texts for the demo's triage model.

For each service in the demo catalogue (townhall/demo/data/town.json) it writes, as
`text,service_code,source` rows:

- the catalogue's own words: name, description, keywords and sample descriptions, with
  their Spanish translations (source `catalog`);
- real case titles from Boston's 2015 311 cases for the Boston case types that match the
  service, cleaned of routing notes such as "////printed" (source `boston2015-title`);
- real crew closure notes from the same cases, which name the thing that was wrong
  ("replaced 250 sv lamp", "cleared snow from catch basin"), at most --notes of each per service,
  without codes, dates or staff names where they can be told apart (source `boston2015-note`).

Boston's 2015 cases are MIT-licensed (see SOURCE.txt beside them). The Boston Open311
descriptions are not used: their folder states no licence, so they are for measuring, not
for shipping. Output is deterministic: same inputs, same file.

    .venv/bin/python bench/triage_demo_examples.py [--data ../shared/data] [--out FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Boston 2015 case TYPEs that mean the same as a demo service code.
BOSTON_TYPES: dict[str, list[str]] = {
    "pothole": ["Pothole Repair (Internal)", "Roadway Repair"],
    "sidewalk_repair": ["Sidewalk Repair (Make Safe)", "Sidewalk Repair", "Sidewalk Repair (Internal)"],
    "streetlight_out": ["Street Light Outages", "Street Light Knock Downs", "General Lighting Request"],
    "traffic_signal": ["Traffic Signal Repair", "Traffic Signal Inspection"],
    "snow_ice_sidewalk": ["Unshoveled Sidewalk", "Misc. Snow Complaint", "Snow Removal"],
    "street_cleaning": ["Street Cleaning", "Requests for Street Cleaning"],
    "sign_repair": ["Sign Repair", "Missing Sign"],
    "missed_trash": ["Missed Trash/Recycling/Yard Waste/Bulk Item", "Improper Storage of Trash (Barrels)"],
    "missed_recycling": ["Missed Trash/Recycling/Yard Waste/Bulk Item"],
    "bulk_item_pickup": ["Schedule a Bulk Item Pickup SS", "Schedule a Bulk Item Pickup"],
    "recycling_cart_request": ["Request for Recycling Cart", "Recycling Cart Inquiry"],
    "litter_bin_overflow": ["Empty Litter Basket", "Litter Basket Maintenance"],
    "illegal_dumping": ["Illegal Dumping", "Trash on Vacant Lot", "Construction Debris"],
    "tree_down": ["Tree Emergencies"],
    "tree_pruning": ["Tree Maintenance Requests"],
    "new_tree_request": ["New Tree Requests"],
    "park_maintenance": ["Ground Maintenance", "Parks General Request", "Park Improvement Requests"],
    "playground_damage": ["Equipment Repair"],
    "water_main_break": ["Watermain Break", "No Utilities Residential - Water"],
    "storm_drain_clogged": ["Catchbasin"],
    "hydrant_leak": ["Fire Hydrant"],
    "sewer_backup": ["Sewage/Septic Back-Up", "Sewer Issues"],
    "dead_animal": ["Pick up Dead Animal"],
    "stray_dog": ["Animal Found", "Animal Lost"],
    "rodent_sighting": ["Rodent Activity", "Mice Infestation - Residential"],
    "no_heat": ["Heat - Excessive  Insufficient"],
    "unsafe_building": ["Unsafe Dangerous Conditions", "Abandoned Building"],
    "housing_code": ["Unsatisfactory Living Conditions", "Maintenance Complaint - Residential",
                     "Bed Bugs", "Pest Infestation - Residential"],
    "graffiti": ["Graffiti Removal", "PWD Graffiti"],
    "noise": ["Work Hours-Loud Noise Complaints", "Undefined Noise Disturbance",
              "Automotive Noise Disturbance", "Public Events Noise Disturbances"],
    "abandoned_vehicle": ["Abandoned Vehicles"],
    "illegal_parking": ["Private Parking Lot Complaints", "Municipal Parking Lot Complaints",
                        "Valet Parking Problems"],
    "abandoned_bicycle": ["Abandoned Bicycle"],
    "needle_pickup": ["Needle Pickup"],
    "general_enquiry": ["Public Works General Request", "Transportation General Request"],
    "feedback": ["General Comments For An Employee", "General Comments For a Program or Policy"],
}  # fmt: skip
# Routing notes and boilerplate in titles and closure notes, not the resident's problem.
NOISE = re.compile(
    r"/{2,}.*$|\bprinted\b.*$|\bsent to (contractor|maverick)\b.*$|\(internal\)|"
    r"\. closed date : [\d\-: .]+|^case (closed|resolved|noted|invalid)\s*",
    re.IGNORECASE,
)
BORING = re.compile(
    r"duplicate|case (closed|noted|resolved)|error|no (contact|description)|"
    r"^[A-Z]{3,7}: |inspector|will (inspect|look)|\b\d{1,2}/\d{1,2}\b|@|#|"
    r"request exists|information|new case|e.?form|thank|call|forward|referr|agency|"
    r"constituent|wrong|cancel",
    re.IGNORECASE,
)


def clean(text: str) -> str:
    text = NOISE.sub("", text)
    text = NOISE.sub("", text)
    return " ".join(text.replace("  ", " ").split()).strip(" .-:;/")


def catalog_rows(spec: dict[str, object]) -> list[tuple[str, str, str]]:
    rows = []
    for service in spec["service_types"]:  # type: ignore[attr-defined]
        code = service["code"]
        words = [service["name"], service.get("description", "")]
        words += service.get("keywords", []) + service.get("sample_descriptions", [])
        for tr in service.get("translations", {}).values():
            words += [tr.get("name", ""), tr.get("description", ""), *tr.get("keywords", [])]
        rows += [(w, code, "catalog") for w in words if w and w.strip()]
    return rows


def boston_rows(path: Path, notes: int) -> list[tuple[str, str, str]]:
    by_type: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            titles, closures = by_type[row["TYPE"]]
            # "Ground Maintenance: Ramsay Park" and "Graffiti: Ward 6 0609" say the type only.
            title = clean(row["CASE_TITLE"].split(":")[0])
            if sum(ch.isalpha() for ch in title) >= 6:
                titles.add(title)
            note = clean(row["CLOSURE_REASON"])
            if len(note.split()) >= 3 and not BORING.search(note) and len(note) <= 200:
                closures.add(note.lower())
    rows = []
    for code, types in BOSTON_TYPES.items():
        titles = sorted({t for ty in types for t in by_type[ty][0]} - set(types))
        random.Random(code).shuffle(titles)
        rows += [(t, code, "boston2015-title") for t in types + titles[:notes]]
        closures = sorted({n for ty in types for n in by_type[ty][1]})
        random.Random(code).shuffle(closures)
        rows += [(n, code, "boston2015-note") for n in closures[:notes]]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "townhall/demo/data/triage_examples.csv")
    parser.add_argument(
        "--notes", type=int, default=30, help="titles and closure notes per service"
    )
    args = parser.parse_args()
    spec = json.loads((ROOT / "townhall/demo/data/town.json").read_text())
    rows = catalog_rows(spec)
    rows += boston_rows(args.data / "311_boston_2015_cases/boston_311_2015_cases.csv", args.notes)
    seen: set[tuple[str, str]] = set()
    unique = []
    for text, code, source in rows:
        text = " ".join(text.split())
        if (text.lower(), code) not in seen:
            seen.add((text.lower(), code))
            unique.append((text, code, source))
    with args.out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "service_code", "source"])
        writer.writerows(unique)
    per_code: dict[str, int] = defaultdict(int)
    for _, code, _ in unique:
        per_code[code] += 1
    print(f"{len(unique)} rows, {len(per_code)} services -> {args.out}")
    print(" ".join(f"{code}:{n}" for code, n in sorted(per_code.items())))


if __name__ == "__main__":
    main()
