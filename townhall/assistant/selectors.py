"""Reads of the assistant."""
