from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class StaffRole(models.TextChoices):
    ADMIN = "admin", _("Kommun administrator")
    EDITOR = "editor", _("Editor")
    # Approves the kommun's pages when its site has moderation before
    # publishing, and may always publish them (cms.editorial).
    APPROVER = "approver", _("Approver")
    CASE_HANDLER = "case_handler", _("Case handler")
    CONTACT_CENTRE = "contact_centre", _("Contact-centre agent")


class BodyKind(models.TextChoices):
    MUNICIPAL = "municipal", _("Municipal department")
    STATE = "state", _("State agency")
    OTHER = "other", _("Other organisation")


class LocateMatch(models.TextChoices):
    INSIDE = "inside", _("Inside the kommun")
    NEAREST = "nearest", _("Nearest kommun")
    OUTSIDE = "outside_sweden", _("Outside Sweden")
    NO_BOUNDARIES = "no_boundaries", _("No boundaries loaded")


class QuestionKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", pgettext_lazy("question kind", "Number")
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")


class ConnectionKind(models.TextChoices):
    """How reports reach a body's case system; one connector module per kind."""

    OPEN311 = "open311", _("Open311 GeoReport v2")
    WEBHOOK = "webhook", _("Signed JSON webhook")
    EMAIL = "email", _("E-mail")
    INBOX = "inbox", _("Knutpunkt's own inbox")
