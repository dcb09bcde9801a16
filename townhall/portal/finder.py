"""The service finder's word matching moved to `townhall.catalog.finder` (issue 16), so the
finder selector in intake can use it; kept here under its old name for the portal."""

from townhall.catalog.finder import Found, Indexed, fold, index_build, search, stem, words

__all__ = ["Found", "Indexed", "fold", "index_build", "search", "stem", "words"]
