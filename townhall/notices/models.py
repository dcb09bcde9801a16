"""Models of townhall.notices."""
