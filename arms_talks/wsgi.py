"""WSGI entry point, for gunicorn: ``gunicorn arms_talks.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arms_talks.settings")

application = get_wsgi_application()
