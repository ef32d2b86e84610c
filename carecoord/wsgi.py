import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carecoord.settings")

application = get_wsgi_application()

# After Django has started: see carecoord/web/startup.py.
from carecoord.web.startup import freeze_startup_objects  # noqa: E402

freeze_startup_objects()
