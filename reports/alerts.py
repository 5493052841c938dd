"""Alerts of new reports: what an alert watches (an area, a point and a
radius; a kommun; a category of a kommun), which reports it matches, and its
e-mail and SMS. The writes (asking, confirming, ending, a phone number, the
hourly claim) are in ``alert_services``; updates to one report are following
it (``Subscription``, ``notifications``).

Reports are told once they are public (confirmed), in a digest of those
confirmed since the last: at most one per alert in
``KNUTPUNKT_ALERT_DIGEST_SECONDS``. E-mail links are built from configured
addresses (``mail.root_url``, ``mail.mail_url``), never from a request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from infra.sms import SMSUnavailable, sms_configured, sms_send

from .choices import AlertKind
from .mail import alert_token, mail_url, root_url, send_plain
from .map import haversine_m
from .models import Alert, Report


def radius_check(raw) -> int:
    """An area's radius in metres, or a ValidationError at the field
    ``radius`` saying what is allowed."""
    low = settings.KNUTPUNKT_ALERT_RADIUS_MIN_M
    high = settings.KNUTPUNKT_ALERT_RADIUS_MAX_M
    message = _("Choose a radius from %(min)s to %(max)s.") % {
        "min": distance_text(low),
        "max": distance_text(high),
    }
    try:
        value = float(str(raw).strip().replace(",", "."))
    except (TypeError, ValueError):
        raise ValidationError({"radius": message}) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValidationError({"radius": message})
    return round(value)


def distance_text(metres: int) -> str:
    """A radius as people say it: "500 m", "2 km", "1.5 km"."""
    if metres < 1000:
        return _("%(n)s m") % {"n": metres}
    km = metres / 1000
    return _("%(n)s km") % {"n": f"{km:g}"}


def alert_describe(alert: Alert) -> str:
    """What the alert watches, in a sentence part."""
    if alert.kind == AlertKind.AREA:
        return _("within %(radius)s of %(lat).5f, %(lon).5f") % {
            "radius": distance_text(alert.radius_m),
            "lat": alert.lat,
            "lon": alert.lon,
        }
    if alert.kind == AlertKind.CATEGORY:
        return _("“%(category)s” in %(kommun)s") % {
            "category": alert.category.name,
            "kommun": alert.municipality.name,
        }
    return _("in %(kommun)s") % {"kommun": alert.municipality.name}


def area_filter(reports: QuerySet, *, lat: float, lon: float, radius_m: int):
    """``reports`` in the box around the circle (the map's index answers it);
    the circle itself is checked by ``in_area``."""
    dlat = radius_m / 111_195.0
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    return reports.filter(
        lat__range=(lat - dlat, lat + dlat), lon__range=(lon - dlon, lon + dlon)
    )


def in_area(report, *, lat: float, lon: float, radius_m: int) -> bool:
    return haversine_m(lat, lon, report.lat, report.lon) <= radius_m


def alert_matches(alert: Alert, report) -> bool:
    """Whether a (public) report is one the alert watches."""
    if alert.kind == AlertKind.AREA:
        return in_area(report, lat=alert.lat, lon=alert.lon, radius_m=alert.radius_m)
    if report.municipality_id != alert.municipality_id:
        return False
    return alert.kind != AlertKind.CATEGORY or report.category_id == alert.category_id


def alert_reports(
    alert: Alert, *, since: dt.datetime, until: dt.datetime
) -> list[Report]:
    """The public reports the alert watches, confirmed after ``since`` and up to
    ``until``, oldest first."""
    reports = Report.objects.public().filter(
        confirmed_at__gt=since, confirmed_at__lte=until
    )
    if alert.kind == AlertKind.AREA:
        reports = area_filter(
            reports, lat=alert.lat, lon=alert.lon, radius_m=alert.radius_m
        )
    else:
        reports = reports.filter(municipality_id=alert.municipality_id)
        if alert.kind == AlertKind.CATEGORY:
            reports = reports.filter(category_id=alert.category_id)
    reports = reports.select_related(
        "category", "municipality", "filed_on_site"
    ).order_by("confirmed_at", "pk")
    return [r for r in reports if alert_matches(alert, r)]


def alert_link(alert: Alert, name: str, *args) -> str:
    """A page of the alert's on the site it was asked for on, at that site's
    configured address, in the alert's language."""
    with translation.override(alert.language):
        return root_url(alert.site) + reverse(name, args=args)


def alert_page_url(alert: Alert) -> str:
    return alert_link(alert, "alert-manage", alert_token(alert.pk))


def alert_end_url(alert: Alert) -> str:
    return alert_link(alert, "alert-end", alert_token(alert.pk))


def alert_confirmation_send(alert: Alert, raw_token: str) -> None:
    with translation.override(alert.language):
        description = alert_describe(alert)
    send_plain(
        to=alert.email,
        template="confirm_alert",
        context={
            "description": description,
            "confirm_url": alert_link(alert, "alert-confirm", raw_token),
        },
        language=alert.language,
    )


def alert_digest_send(alert: Alert, reports: list[Report]) -> None:
    """One digest of ``reports`` to the alert's address (and, to a verified
    number, one SMS); each report linked on its kommun's site. Titles,
    categories and kommuner only: nothing about who reported."""
    page_url, end_url = alert_page_url(alert), alert_end_url(alert)
    with translation.override(alert.language):
        description = alert_describe(alert)
        items = [
            {
                "report": report,
                "url": mail_url(report) + reverse("report-detail", args=[report.pk]),
            }
            for report in reports
        ]
    send_plain(
        to=alert.email,
        template="alert_digest",
        context={
            "description": description,
            "items": items,
            "count": len(items),
            "alert_url": page_url,
            "end_url": end_url,
        },
        language=alert.language,
        unsubscribe_url=end_url,
    )
    if alert.phone_verified_at is not None and alert.phone and sms_configured():
        with translation.override(alert.language):
            text = _(
                "Knutpunkt: %(count)d new reports %(what)s. Newest: %(title)s %(url)s"
            ) % {
                "count": len(items),
                "what": description,
                "title": items[-1]["report"].title,
                "url": items[-1]["url"],
            }
        try:
            sms_send(to=alert.phone, text=text)
        except SMSUnavailable:
            # The e-mail went; an SMS is the second channel, not retried.
            pass


# --- A phone number, verified by a code ----------------------------------------

_PHONE = re.compile(r"^\+?[0-9 ()\-]{6,20}$")


def phone_normalise(raw: str) -> str:
    """A phone number as the gateway takes it (E.164: "+46701234567"), from
    how people write it ("070-123 45 67", "+46 70 123 45 67", "0046…"); a
    ValidationError at the field ``phone`` otherwise."""
    raw = (raw or "").strip()
    if not _PHONE.match(raw):
        raise ValidationError({"phone": _("Enter a mobile phone number.")})
    digits = re.sub(r"[^0-9]", "", raw)
    if raw.startswith("+"):
        number = "+" + digits
    elif digits.startswith("00"):
        number = "+" + digits[2:]
    elif digits.startswith("0"):
        number = "+46" + digits[1:]
    else:
        raise ValidationError({"phone": _("Enter a mobile phone number.")})
    if not 9 <= len(number) <= 16:
        raise ValidationError({"phone": _("Enter a mobile phone number.")})
    return number


def phone_code_hash(alert_id: int, code: str) -> str:
    """A code's hash, salted with its alert and the site's secret (a code has
    only a million values)."""
    return hashlib.sha256(
        f"{settings.SECRET_KEY}:alert:{alert_id}:{code}".encode()
    ).hexdigest()


def phone_code_text(alert: Alert, code: str) -> str:
    with translation.override(alert.language):
        return _("Your Knutpunkt code: %(code)s") % {"code": code}


def alert_phone_code_send(*, alert_id: int) -> bool:
    """Give the alert's unverified number a new code (its hash kept, valid
    ``KNUTPUNKT_SMS_CODE_TTL_MINUTES``, earlier codes void) and send it; False
    when there is nothing to send or the gateway did not take it."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update()
            .filter(pk=alert_id, phone_verified_at__isnull=True)
            .exclude(phone="")
            .first()
        )
        if alert is None:
            return False
        alert.phone_code_hash = phone_code_hash(alert.pk, code)
        alert.phone_code_expires_at = timezone.now() + dt.timedelta(
            minutes=settings.KNUTPUNKT_SMS_CODE_TTL_MINUTES
        )
        alert.phone_code_tries = 0
        alert.save(
            update_fields=[
                "phone_code_hash",
                "phone_code_expires_at",
                "phone_code_tries",
            ]
        )
    try:
        sms_send(to=alert.phone, text=phone_code_text(alert, code))
    except SMSUnavailable:
        return False
    return True
