from django.db import migrations

# A frozen copy of the default tag set at the time of this migration (see defaults.py).
TAGS = [
    ("mattress", "Mattress", "illegal_dumping", [750, 721, 564, 520]),
    (
        "furniture",
        "Sofa or furniture",
        "illegal_dumping",
        [831, 765, 559, 423, 532, 526, 493, 495, 894, 548, 453, 703, 516, 857],
    ),
    ("fridge", "Fridge or freezer", "illegal_dumping", [760]),
    ("washing_machine", "Washing machine", "illegal_dumping", [897, 534]),
    ("rubbish_bags", "Bags of rubbish", "illegal_dumping", [728, 797, 636]),
    ("overflowing_bin", "Overflowing bin", "litter_bin_overflow", [412]),
    ("tyres", "Tyres", "illegal_dumping", [479]),
    ("shopping_trolley", "Shopping trolley", "illegal_dumping", [791]),
    ("graffiti", "Graffiti", "graffiti", []),
    ("pothole", "Pothole", "pothole", []),
    ("fallen_tree", "Fallen tree or branch", "tree_down", []),
    ("streetlight", "Streetlight", "streetlight_out", []),
    ("road_sign", "Road sign", "sign_repair", [919]),
    ("traffic_light", "Traffic light", "traffic_signal", [920]),
    (
        "vehicle",
        "Car or motorbike",
        "abandoned_vehicle",
        [817, 436, 511, 656, 717, 468, 609, 627, 661, 751, 734, 675, 864, 757, 665, 670, 581, 475],
    ),
    ("bicycle", "Bicycle", "abandoned_bicycle", [671, 444, 870]),
    ("needle", "Syringe", "needle_pickup", [845]),
    ("dog", "Dog", "stray_dog", list(range(151, 269))),
    ("dead_animal", "Dead animal", "dead_animal", []),
]


def seed(apps, schema_editor):
    VisionTag = apps.get_model("vision", "VisionTag")
    for position, (code, label, service_code, classes) in enumerate(TAGS):
        VisionTag.objects.get_or_create(
            code=code,
            defaults={
                "label": label,
                "service_code": service_code,
                "imagenet_classes": classes,
                "position": position,
            },
        )


def unseed(apps, schema_editor):
    VisionTag = apps.get_model("vision", "VisionTag")
    VisionTag.objects.filter(code__in=[t[0] for t in TAGS]).delete()


class Migration(migrations.Migration):
    dependencies = [("vision", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
