"""What residents see: help articles, maps, the council's look, sign-in links, reopening."""

from __future__ import annotations

from typing import NamedTuple

import environ


class PortalSettings(NamedTuple):
    # Help articles: sentence embeddings on (BM25 alone when off or when the model is
    # missing), onnxruntime threads per process, and the top score under which a search
    # counts as a content gap.
    knowledge_embeddings: bool  # TOWNHALL_KNOWLEDGE_EMBEDDINGS
    knowledge_threads: int  # TOWNHALL_KNOWLEDGE_THREADS
    knowledge_gap_threshold: float  # TOWNHALL_KNOWLEDGE_GAP_THRESHOLD
    # A sign-in link for residents' accounts works once, for this many minutes.
    sign_in_link_minutes: int  # TOWNHALL_SIGN_IN_LINK_MINUTES
    # A resident may say "not fixed" this many days after their request was resolved.
    reopen_days: int  # TOWNHALL_REOPEN_DAYS
    # Map tiles for the portal's and the console's maps (Leaflet): a {z}/{x}/{y} URL of the
    # council's tile server and its attribution (HTML). Empty (the default): no tiles are
    # fetched; the maps draw the town's streets from the gazetteer (/map/streets.geojson),
    # as they also do when the tile server cannot be reached.
    map_tile_url: str  # TOWNHALL_MAP_TILE_URL
    map_attribution: str  # TOWNHALL_MAP_ATTRIBUTION
    # The council's look: name (empty: the jurisdiction's), logo (a static path or URL)
    # and colours (CSS colours).
    brand: dict[str, str]  # TOWNHALL_BRAND_NAME, _LOGO, _COLOUR, _BUTTON_COLOUR


def portal_settings(env: environ.Env) -> PortalSettings:
    return PortalSettings(
        knowledge_embeddings=env.bool("TOWNHALL_KNOWLEDGE_EMBEDDINGS", default=True),
        knowledge_threads=env.int("TOWNHALL_KNOWLEDGE_THREADS", default=1),
        knowledge_gap_threshold=env.float("TOWNHALL_KNOWLEDGE_GAP_THRESHOLD", default=0.45),
        sign_in_link_minutes=env.int("TOWNHALL_SIGN_IN_LINK_MINUTES", default=30),
        reopen_days=env.int("TOWNHALL_REOPEN_DAYS", default=28),
        map_tile_url=env.str("TOWNHALL_MAP_TILE_URL", default=""),
        map_attribution=env.str("TOWNHALL_MAP_ATTRIBUTION", default=""),
        brand={
            "name": env.str("TOWNHALL_BRAND_NAME", default=""),
            "logo": env.str("TOWNHALL_BRAND_LOGO", default=""),
            "colour": env.str("TOWNHALL_BRAND_COLOUR", default="#1d4e89"),
            "button_colour": env.str("TOWNHALL_BRAND_BUTTON_COLOUR", default="#00703c"),
        },
    )
