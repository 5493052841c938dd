from django.urls import path

from .consumers import MyReportsConsumer, ReportConsumer, StaffReportConsumer

websocket_urlpatterns = [
    path("ws/reports/<int:pk>/", ReportConsumer.as_asgi()),
    path("ws/mina-sidor/", MyReportsConsumer.as_asgi()),
    path("ws/staff/reports/<int:pk>/", StaffReportConsumer.as_asgi()),
]
