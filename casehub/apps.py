from django.apps import AppConfig


class CasehubConfig(AppConfig):
    """The conversation with case systems: connections, the outbox, signals in."""

    name = "casehub"
    verbose_name = "Case hub"

    def ready(self) -> None:
        # Late: models and services can be imported only once the app registry
        # is ready, which is what ready() is for.
        from reports.handoff import on_confirmed

        from .outbox import deliveries_create

        # A confirmed report's delivery is queued in the confirming transaction.
        on_confirmed(lambda report: deliveries_create(report=report))
