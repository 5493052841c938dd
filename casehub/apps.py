from django.apps import AppConfig


class CasehubConfig(AppConfig):
    """The conversation with case systems: connections, the outbox, signals in."""

    name = "casehub"
    verbose_name = "Case hub"

    def ready(self) -> None:
        # Late: models and services can be imported only once the app registry
        # is ready, which is what ready() is for.
        from reports.handoff import on_citizen_event, on_confirmed

        from .outbox import deliveries_create, updates_queue

        # A confirmed report's delivery is queued in the confirming transaction,
        # and a citizen's update, "fixed" or reopening in the transaction that
        # records it.
        on_confirmed(lambda report: deliveries_create(report=report))
        on_citizen_event(lambda event: updates_queue(event=event))
