"""A moment shown to a person, formatted in one place for every page, e-mail and
admin screen: in Europe/Stockholm (``settings.TIME_ZONE``), whatever time zone
the request, the process or a member of staff's profile has activated, and in
the active language's own date format (Django's ``DATE_FORMAT`` and
``DATETIME_FORMAT``: "7 december 2026 00:30" in Swedish, "Dec. 7, 2026,
12:30 a.m." in English).

Templates load it as ``{% load moments %}`` and write ``{{ value|moment }}``,
or ``{{ value|moment:"date" }}`` for the day alone.
"""

from __future__ import annotations

import datetime
import zoneinfo

from django import template
from django.conf import settings
from django.utils import formats, timezone

register = template.Library()


def shown_zone() -> zoneinfo.ZoneInfo:
    """The time zone people are shown times in."""
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def moment_format(value: datetime.date | None, *, with_time: bool = True) -> str:
    """``value`` as people read it, in the active language; "" for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(shown_zone())
        if not with_time:
            value = value.date()
    if isinstance(value, datetime.datetime):
        return formats.date_format(value, "DATETIME_FORMAT")
    return formats.date_format(value, "DATE_FORMAT")


@register.filter
def moment(value, part: str = "") -> str:
    """``{{ value|moment }}``: date and time; ``{{ value|moment:"date" }}``: the day."""
    return moment_format(value, with_time=part != "date")


@register.filter
def moment_iso(value) -> str:
    """The same moment for machines (``<time datetime>``), with its offset."""
    if not isinstance(value, datetime.datetime):
        return value.isoformat() if value else ""
    if timezone.is_aware(value):
        value = value.astimezone(shown_zone())
    return value.isoformat(timespec="seconds")
