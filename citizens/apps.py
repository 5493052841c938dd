from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CitizensConfig(AppConfig):
    name = "citizens"
    verbose_name = _("Citizens")

    def ready(self) -> None:
        # Late: data.py imports models, which only a ready app registry allows.
        from infra.personal_data import personal_data_section

        from . import data

        # Reports first: their erasure tells the case systems, and must read
        # the reports' consents before clearing them.
        personal_data_section(
            "reports", export=data.reports_export, erase=data.reports_erase
        )
        personal_data_section(
            "follows", export=data.follows_export, erase=data.follows_erase
        )
        personal_data_section(
            "alerts", export=data.alerts_export, erase=data.alerts_erase
        )
        personal_data_section(
            "emails", export=data.emails_export, erase=data.emails_erase
        )
