from django.urls import path

from .consumers import MyReportsConsumer, ReportConsumer

websocket_urlpatterns = [
    path("ws/reports/<int:pk>/", ReportConsumer.as_asgi()),
    path("ws/mina-sidor/", MyReportsConsumer.as_asgi()),
]
