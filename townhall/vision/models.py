"""Models of townhall.vision."""
