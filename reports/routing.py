from django.urls import path

from .consumers import ReportConsumer

websocket_urlpatterns = [
    path("ws/reports/<int:pk>/", ReportConsumer.as_asgi()),
]
