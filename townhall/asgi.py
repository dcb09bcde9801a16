"""ASGI entry point: Django's pages over HTTP and the assistant's chat over WebSocket.

Served by uvicorn (`townhall demo`, or `uvicorn townhall.asgi:application` in production,
several processes behind a load balancer with the Redis channel layer).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townhall.settings")
# Django first: the routing below imports models.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from townhall.assistant.routing import websocket_urlpatterns  # noqa: E402


def websocket_application() -> OriginValidator:
    """The sockets' stack. A socket is accepted from this site's own pages (ALLOWED_HOSTS)
    and from the council pages that embed the widget (TOWNHALL_ASSISTANT_ORIGINS): another
    site's script cannot open a chat in a visitor's name with their cookies."""
    return OriginValidator(
        AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
        [*settings.ALLOWED_HOSTS, *settings.TOWNHALL_ASSISTANT_ORIGINS],
    )


application = ProtocolTypeRouter({"http": django_application, "websocket": websocket_application()})
