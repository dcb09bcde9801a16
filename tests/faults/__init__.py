"""Faults: the database or Redis away, and the benches that prove it under load."""
