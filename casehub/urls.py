"""The case hub's endpoints for case systems (outside the language prefixes)."""

from django.urls import path

from . import intake

urlpatterns = [
    path(
        "api/v1/connections/<int:connection_id>/signals",
        intake.webhook_signal,
        name="api-signals",
    ),
    path(
        "open311/v2/servicerequestupdates.<str:fmt>",
        intake.open311_update,
        name="open311-updates",
    ),
]
