"""Alert areas: circles and drawn polygons meet when they overlap or touch."""

from __future__ import annotations

import pytest

from townhall.notify.geo import Area, areas_meet

# Around Millbrook's centre: 0.001 degree of latitude is about 111 m.
C = (42.3601, -71.0942)
SQUARE = ((42.359, -71.096), (42.359, -71.092), (42.361, -71.092), (42.361, -71.096))
FAR_SQUARE = ((42.40, -71.20), (42.40, -71.19), (42.41, -71.19), (42.41, -71.20))


@pytest.mark.parametrize(
    ("first", "second", "meet"),
    [
        (Area.everywhere(), Area(centre=C, radius_m=10), True),
        (
            Area(centre=C, radius_m=100),
            Area(centre=(42.3611, -71.0942), radius_m=20),
            True,
        ),  # 111 m apart
        (Area(centre=C, radius_m=50), Area(centre=(42.3611, -71.0942), radius_m=50), False),
        (Area(centre=C, radius_m=0), Area(polygon=SQUARE), True),  # point inside
        (
            Area(centre=(42.3625, -71.094), radius_m=100),
            Area(polygon=SQUARE),
            False,
        ),  # ~167 m north
        (Area(centre=(42.3625, -71.094), radius_m=200), Area(polygon=SQUARE), True),
        (Area(polygon=SQUARE), Area(polygon=FAR_SQUARE), False),
        (
            Area(polygon=SQUARE),
            Area(
                polygon=((42.3605, -71.1), (42.3605, -71.09), (42.3606, -71.09), (42.3606, -71.1))
            ),
            True,  # a thin strip crossing the square: edges cross, no corner inside
        ),
    ],
)
def test_areas_meet_when_they_overlap(first: Area, second: Area, meet: bool) -> None:
    assert areas_meet(first, second) is meet
    assert areas_meet(second, first) is meet


def test_a_circles_box_contains_the_circle() -> None:
    box = Area(centre=C, radius_m=1000).bbox()
    assert box is not None
    assert box[0] < C[0] < box[1]
    assert box[2] < C[1] < box[3]
    assert round((box[1] - box[0]) * 111_195) == 2000
