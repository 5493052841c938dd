from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The staff workspace: the inbox and the report screen where staff work."""

    name = "workspace"
    verbose_name = "Workspace"
