import os

from django.core.wsgi import get_wsgi_application

from messaging import telemetry

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Before the application exists: Django's instrumentation adds its middleware to the settings.
telemetry.setup("web")
application = get_wsgi_application()
