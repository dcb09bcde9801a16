"""Models of townhall.appointments."""
