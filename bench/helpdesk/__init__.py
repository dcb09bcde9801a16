"""A minimal Django project serving django-helpdesk 2.6.1, for bench/open311.py.

It runs only in the separate virtualenv that bench/helpdesk_env.py makes
(var/bench/helpdesk-venv), never in Townhall's own.
"""
