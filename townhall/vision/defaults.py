"""The default tag set a new site starts with (seeded by migration 0002; councils edit it
in admin). `classes` are ImageNet class numbers of the backbone's 1000 classes whose
probabilities make the tag's prior score; an empty list means ImageNet has no such class
and the tag is only found once a head was trained on the council's own photos."""

from __future__ import annotations


def _(message: str) -> str:
    """Marks a label for translation (read with gettext at use); no Django needed here."""
    return message


# code, label, service code in the demo catalogue ("" = none), ImageNet classes
DEFAULT_TAGS: list[tuple[str, str, str, list[int]]] = [
    # quilt, pillow, four-poster, crib: ImageNet has no mattress; a weak prior
    ("mattress", _("Mattress"), "illegal_dumping", [750, 721, 564, 520]),
    # studio couch, rocking/folding/barber chair, dining table, desk, chiffonier,
    # china cabinet, wardrobe, entertainment center, bookcase, park bench, cradle, throne
    (
        "furniture",
        _("Sofa or furniture"),
        "illegal_dumping",
        [831, 765, 559, 423, 532, 526, 493, 495, 894, 548, 453, 703, 516, 857],
    ),
    ("fridge", _("Fridge or freezer"), "illegal_dumping", [760]),  # refrigerator
    ("washing_machine", _("Washing machine"), "illegal_dumping", [897, 534]),  # washer, dishwasher
    # plastic bag, sleeping bag, mailbag
    ("rubbish_bags", _("Bags of rubbish"), "illegal_dumping", [728, 797, 636]),
    ("overflowing_bin", _("Overflowing bin"), "litter_bin_overflow", [412]),  # ashcan
    ("tyres", _("Tyres"), "illegal_dumping", [479]),  # car wheel
    ("shopping_trolley", _("Shopping trolley"), "illegal_dumping", [791]),  # shopping cart
    ("graffiti", _("Graffiti"), "graffiti", []),
    ("pothole", _("Pothole"), "pothole", []),
    ("fallen_tree", _("Fallen tree or branch"), "tree_down", []),
    ("streetlight", _("Streetlight"), "streetlight_out", []),
    ("road_sign", _("Road sign"), "sign_repair", [919]),  # street sign
    ("traffic_light", _("Traffic light"), "traffic_signal", [920]),  # traffic light
    # sports car, beach wagon, convertible, minivan, pickup, cab, jeep, limousine, Model T,
    # racer, police van, moving van, tow truck, recreational vehicle, moped, motor scooter,
    # grille, car mirror
    (
        "vehicle",
        _("Car or motorbike"),
        "abandoned_vehicle",
        [817, 436, 511, 656, 717, 468, 609, 627, 661, 751, 734, 675, 864, 757, 665, 670, 581, 475],
    ),
    # mountain bike, bicycle-built-for-two, tricycle
    ("bicycle", _("Bicycle"), "abandoned_bicycle", [671, 444, 870]),
    ("needle", _("Syringe"), "needle_pickup", [845]),  # syringe
    ("dog", _("Dog"), "stray_dog", list(range(151, 269))),  # the 118 dog breeds
    ("dead_animal", _("Dead animal"), "dead_animal", []),
]
