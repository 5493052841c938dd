from __future__ import annotations

import string

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel

from reports.choices import ReportStatus

# What a response template may say, and where each value comes from.
PLACEHOLDERS = {
    "rapport": _("the report's number and title"),
    "kategori": _("the report's category"),
    "kommun": _("the kommun's name"),
    "status": _("the new status"),
}


def placeholders_in(text: str) -> list[str]:
    """The placeholders a template's text names, in order; ValidationError when
    its braces do not parse."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        raise ValidationError(
            _("Braces must come in pairs around a placeholder, such as {kommun}."),
            code="braces",
        ) from error
    names = []
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if spec or conversion:
            # "{kommun:>{x}}" or "{kommun!r}": only plain names are placeholders.
            names.append(f"{field}{'!' + conversion if conversion else ''}:{spec}")
        else:
            names.append(field)
    return names


def validate_placeholders(text: str) -> None:
    unknown = [
        name
        for name in dict.fromkeys(placeholders_in(text))
        if name not in PLACEHOLDERS
    ]
    if unknown:
        raise ValidationError(
            _("Unknown placeholder: %(names)s. Known: %(known)s."),
            code="unknown_placeholder",
            params={
                "names": ", ".join(f"{{{name}}}" for name in unknown),
                "known": ", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
            },
        )


class ResponseTemplate(models.Model):
    """A kommun's ready-made public reply, optionally for one category and one
    status; its placeholders are checked when it is saved."""

    municipality = models.ForeignKey(
        "municipalities.Municipality",
        on_delete=models.CASCADE,
        related_name="response_templates",
        verbose_name=_("kommun"),
    )
    name = models.CharField(_("name"), max_length=100)
    category = models.ForeignKey(
        "municipalities.Category",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("category"),
        help_text=_("Empty: offered for every category."),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        blank=True,
        choices=[
            (value, label)
            for value, label in ReportStatus.choices
            if value != ReportStatus.UNCONFIRMED
        ],
        help_text=_("Empty: offered whatever the new status."),
    )
    text = models.TextField(
        _("text"),
        max_length=4000,
        validators=[validate_placeholders],
        help_text=_(
            "The public reply. Placeholders: {rapport}, {kategori}, {kommun}, {status}."
        ),
    )

    panels = [
        FieldPanel("municipality"),
        FieldPanel("name"),
        FieldPanel("category"),
        FieldPanel("status"),
        FieldPanel("text"),
    ]

    class Meta:
        ordering = ["municipality__name", "name"]
        verbose_name = _("response template")
        verbose_name_plural = _("response templates")

    def __str__(self) -> str:
        return self.name

    def render(self, *, report, status: str) -> str:
        """The text with the report's values put in its placeholders."""
        values = {
            "rapport": f"#{report.pk} {report.title}",
            "kategori": report.category.name,
            "kommun": report.municipality.name,
            "status": str(ReportStatus(status).label),
        }
        return self.text.format_map(values)


class SavedFilter(models.Model):
    """A member of staff's own named set of inbox filters (the inbox's query
    string), shown to them alone."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(_("filters"), max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"], name="saved_filter_name_per_user"
            )
        ]
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")

    def __str__(self) -> str:
        return self.name


class DigestDay(models.Model):
    """A kommun's day of the overdue digest (workspace.digest), claimed by the
    one process that sends it: the unique row is the claim, so however many
    processes look, one sends."""

    municipality = models.ForeignKey(
        "municipalities.Municipality",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("kommun"),
    )
    day = models.DateField(_("day"))
    claimed_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    mails = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "day"], name="digest_day_per_kommun"
            )
        ]
        verbose_name = _("overdue digest")
        verbose_name_plural = _("overdue digests")

    def __str__(self) -> str:
        return f"{self.municipality_id} {self.day}"
