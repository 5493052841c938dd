from django.apps import AppConfig


class StaffauthConfig(AppConfig):
    """Staff sign-in: throttled passwords, TOTP two-factor, and sign-in through a
    kommun's own identity provider (OpenID Connect)."""

    name = "staffauth"
    verbose_name = "Staff sign-in"

    def ready(self) -> None:
        # Registers the configuration check (checks register on import).
        from . import checks  # noqa: F401
