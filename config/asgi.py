"""ASGI entry point: HTTP through Django (bodies capped before they are read),
websockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
# Build the Django app first so that the app registry is ready for the imports below.
django_asgi_app = get_asgi_application()

from importlib import import_module  # noqa: E402

from channels.auth import AuthMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from channels.sessions import CookieMiddleware  # noqa: E402
from django.conf import settings  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from infra.asgi import BodyLimitMiddleware  # noqa: E402
from infra.live import remember_server_loop  # noqa: E402
from staffauth.channels import SecondFactorScopeMiddleware  # noqa: E402


class ReadOnlySessionMiddleware:
    """The visitor's session for a websocket, read and never written.

    Channels' own session middleware wraps every frame the socket sends, to
    save the session and set its cookie on HTTP responses; a websocket can do
    neither, and the wrapper's checks cost about a third of each live frame. The
    store loads lazily, on a database thread, when the consumer first asks.
    """

    def __init__(self, inner):
        self.inner = inner
        self.store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope, receive, send):
        key = scope["cookies"].get(settings.SESSION_COOKIE_NAME)
        return await self.inner(
            dict(scope, session=self.store(session_key=key)), receive, send
        )


router = ProtocolTypeRouter(
    {
        "http": BodyLimitMiddleware(
            django_asgi_app,
            limits=settings.KNUTPUNKT_BODY_LIMITS,
            default=settings.KNUTPUNKT_BODY_LIMIT_DEFAULT,
        ),
        "websocket": AllowedHostsOriginValidator(
            CookieMiddleware(
                ReadOnlySessionMiddleware(
                    AuthMiddleware(
                        SecondFactorScopeMiddleware(URLRouter(websocket_urlpatterns))
                    )
                )
            )
        ),
    }
)


async def application(scope, receive, send):
    remember_server_loop()  # where the in-memory channel layer lives
    return await router(scope, receive, send)
