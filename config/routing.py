"""Websocket routes; each app contributes its own list."""

from reports.routing import websocket_urlpatterns as reports_websockets

websocket_urlpatterns: list = [*reports_websockets]
