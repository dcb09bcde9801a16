"""Blocks of settings too long to read inline, each a function of the environment.

`townhall/settings.py` stays the one settings module (DJANGO_SETTINGS_MODULE is
`townhall.settings`): it reads the environment and calls these functions, binding their
results to the usual names, so every setting is still found there by name and reloading
settings.py re-reads the environment. Nothing here imports Django apps.
"""
