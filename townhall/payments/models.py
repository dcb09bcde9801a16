"""Models of townhall.payments."""
