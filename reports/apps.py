from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = pgettext_lazy("citizen reports", "Reports")

    def ready(self) -> None:
        # Late: signals and tasks import models, which only a ready app
        # registry allows.
        from django.db.models.signals import post_migrate

        post_migrate.connect(_search_index_ensure, sender=self)

        # Late, as above.
        from infra.tasks import enqueue_with_transaction
        from municipalities.promises import on_calendar_changed

        from .tasks import milestones_rebuild_open_task

        # A kommun's calendar changed: its open reports' due dates are computed
        # again by a task queued with the change (many reports, one commit each
        # thousand, not in the administrator's request).
        on_calendar_changed(
            lambda municipality_id: enqueue_with_transaction(
                milestones_rebuild_open_task, municipality_id
            )
        )


def _search_index_ensure(sender, using, **kwargs) -> None:
    # SQLite's table rebuilds in later migrations keep only declared indexes:
    # the search index (reports.search) is made again where it went missing.
    from django.db import connections

    from .search import search_index_ensure

    search_index_ensure(connections[using])
