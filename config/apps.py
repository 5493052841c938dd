from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Project-wide commands (serve, load_demo) that span every app."""

    name = "config"
    label = "knutpunkt_config"
    verbose_name = "Knutpunkt"
