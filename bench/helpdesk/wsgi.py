"""WSGI entry point for gunicorn: bench.helpdesk.wsgi:application."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.helpdesk.settings")
application = get_wsgi_application()
