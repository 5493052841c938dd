"""The writes of alerts (see ``alerts`` for the rules): asking for one, its
double opt-in, ending it, a phone number and its code, and the hourly claim
of digests with the scheduler thread that makes it."""

from __future__ import annotations

import datetime as dt
import hmac
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from infra.periodic import Periodic
from infra.sms import sms_configured
from infra.tasks import enqueue_with_transaction
from municipalities.locate import parse_point
from municipalities.models import Category, Municipality

from .alerts import alert_matches, phone_code_hash, phone_normalise, radius_check
from .choices import AlertKind, TokenPurpose
from .models import Alert, Report
from .tasks import (
    send_alert_confirmation_task,
    send_alert_digest_task,
    send_alert_phone_code_task,
)
from .tokens import token_use

logger = logging.getLogger("knutpunkt.alerts")


def alert_request(
    *,
    kind: str,
    email: str,
    lat=None,
    lon=None,
    radius=None,
    municipality: Municipality | None = None,
    category: Category | None = None,
    site_id: int | None = None,
    language: str = "sv",
    user=None,
) -> Alert:
    """Ask for an alert; it works once confirmed by the e-mailed link. Errors
    at their field (``kind``, ``lat``/``lon``, ``radius``, ``kommun``,
    ``category``). Asking again for the same alert sends a new link if it is
    unconfirmed, and nothing if it is confirmed (the answer is the same)."""
    errors: dict[str, list[str]] = {}
    fields: dict = {"lat": None, "lon": None, "radius_m": None}
    if kind == AlertKind.AREA:
        try:
            fields["lat"], fields["lon"] = parse_point(lat, lon)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        try:
            fields["radius_m"] = radius_check(radius)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        municipality = category = None
    elif kind in (AlertKind.KOMMUN, AlertKind.CATEGORY):
        if municipality is None:
            errors["kommun"] = [_("Choose a kommun.")]
        if kind == AlertKind.CATEGORY and category is None:
            errors["category"] = [_("Choose a category.")]
        if kind == AlertKind.KOMMUN:
            category = None
    else:
        errors["kind"] = [_("Choose what to watch.")]
    if errors:
        raise ValidationError(errors)
    email = email.strip().lower()
    with transaction.atomic():
        alert = Alert.objects.filter(
            email=email,
            kind=kind,
            municipality=municipality,
            category=category,
            **fields,
        ).first()
        if alert is None:
            alert = Alert.objects.create(
                email=email,
                kind=kind,
                municipality=municipality,
                category=category,
                site_id=site_id,
                language=language,
                user=user,
                **fields,
            )
        if alert.confirmed_at is None:
            enqueue_with_transaction(send_alert_confirmation_task, alert.pk)
    return alert


@transaction.atomic
def alert_confirm(*, raw_token: str) -> Alert:
    """Confirm an alert by its e-mailed token: from now on, new reports are told."""
    token = token_use(raw_token, TokenPurpose.CONFIRM_ALERT)
    alert = Alert.objects.select_for_update().get(pk=token.alert_id)
    if alert.confirmed_at is None:
        alert.confirmed_at = alert.told_until = timezone.now()
        alert.save(update_fields=["confirmed_at", "told_until"])
    return alert


def alert_end(*, alert_id: int) -> None:
    """End an alert (its e-mailed link, without signing in)."""
    Alert.objects.filter(pk=alert_id).delete()


@transaction.atomic
def alert_phone_set(*, alert_id: int, phone: str) -> Alert:
    """Give a confirmed alert a phone number for SMS; a code goes there, and
    nothing is sent to it before the code is given back
    (``alert_phone_verify``)."""
    if not sms_configured():
        raise ValidationError({"phone": _("Alerts by SMS are not offered here.")})
    number = phone_normalise(phone)
    alert = Alert.objects.select_for_update().get(
        pk=alert_id, confirmed_at__isnull=False
    )
    alert.phone = number
    alert.phone_verified_at = None
    alert.phone_code_hash = ""
    alert.phone_code_expires_at = None
    alert.phone_code_tries = 0
    alert.save(
        update_fields=[
            "phone",
            "phone_verified_at",
            "phone_code_hash",
            "phone_code_expires_at",
            "phone_code_tries",
        ]
    )
    enqueue_with_transaction(send_alert_phone_code_task, alert.pk)
    return alert


def alert_phone_verify(*, alert_id: int, code: str) -> Alert:
    """The code sent to the alert's number, given back: the number is verified.
    Each code works for a while and a few tries (a wrong one counts); an error
    at ``code`` says what was wrong."""
    code = "".join((code or "").split())
    error = None
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert_id)
        if not alert.phone or alert.phone_verified_at is not None:
            return alert
        if (
            not alert.phone_code_hash
            or alert.phone_code_expires_at is None
            or alert.phone_code_expires_at < timezone.now()
            or alert.phone_code_tries >= settings.KNUTPUNKT_SMS_CODE_TRIES
        ):
            error = _("This code has expired. Ask for a new one.")
        else:
            alert.phone_code_tries += 1
            if hmac.compare_digest(
                alert.phone_code_hash, phone_code_hash(alert.pk, code)
            ):
                alert.phone_verified_at = timezone.now()
                alert.phone_code_hash = ""
                alert.phone_code_expires_at = None
            else:
                error = _("That code is not right.")
            alert.save(
                update_fields=[
                    "phone_code_tries",
                    "phone_verified_at",
                    "phone_code_hash",
                    "phone_code_expires_at",
                ]
            )
    if error is not None:
        raise ValidationError({"code": error})
    return alert


def alert_phone_remove(*, alert_id: int) -> None:
    """Stop SMS for the alert; its e-mail goes on."""
    Alert.objects.filter(pk=alert_id).update(
        phone="",
        phone_verified_at=None,
        phone_code_hash="",
        phone_code_expires_at=None,
        phone_code_tries=0,
    )


# --- The hourly digest ------------------------------------------------------------


def _window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.KNUTPUNKT_ALERT_DIGEST_SECONDS)


def alert_digest_claim(
    *, alert: Alert, now: dt.datetime, until: dt.datetime | None = None
) -> bool:
    """Claim the alert's digest of the reports confirmed after its
    ``told_until`` up to ``until`` (``now`` by default), and queue its sending
    in the same transaction: True for the one caller whose conditional update
    took the row; False when another process did, or the alert had a digest
    less than an hour before ``now`` (its ``digest_at``), or was ended."""
    until = until or now
    with transaction.atomic():
        claimed = (
            Alert.objects.filter(
                pk=alert.pk, confirmed_at__isnull=False, told_until=alert.told_until
            )
            .filter(Q(digest_at__isnull=True) | Q(digest_at__lte=now - _window()))
            .update(digest_at=now, told_until=until)
        )
        if claimed:
            enqueue_with_transaction(
                send_alert_digest_task,
                alert.pk,
                alert.told_until.isoformat(),
                until.isoformat(),
            )
    return bool(claimed)


def alerts_digest_step(now: dt.datetime | None = None) -> list[int]:
    """The scheduler's step: every confirmed alert free to have a digest (none
    in the last hour) with new public reports it watches is claimed, and its
    digest queued. Returns the alerts claimed. Two plain reads when nothing is
    new.

    Reports are taken up to ``KNUTPUNKT_ALERT_SETTLE_SECONDS`` before ``now``:
    a confirmation stamps its moment before its transaction commits, so a
    report confirmed just before ``now`` may not be readable yet; the settle
    time lets it commit before the alert's ``told_until`` passes it."""
    now = now or timezone.now()
    until = now - dt.timedelta(seconds=settings.KNUTPUNKT_ALERT_SETTLE_SECONDS)
    due = list(
        Alert.objects.filter(confirmed_at__isnull=False, told_until__lt=until).filter(
            Q(digest_at__isnull=True) | Q(digest_at__lte=now - _window())
        )
    )
    if not due:
        return []
    since = min(alert.told_until for alert in due)
    new = list(
        Report.objects.public()
        .filter(confirmed_at__gt=since, confirmed_at__lte=until)
        .only("pk", "lat", "lon", "municipality_id", "category_id", "confirmed_at")
        .order_by("confirmed_at")
    )
    claimed = []
    for alert in due:
        if any(
            report.confirmed_at > alert.told_until and alert_matches(alert, report)
            for report in new
        ) and alert_digest_claim(alert=alert, now=now, until=until):
            claimed.append(alert.pk)
    return claimed


ALERT_SCHEDULER = Periodic(
    name="alert-scheduler",
    step=alerts_digest_step,
    every=lambda: settings.KNUTPUNKT_ALERT_CHECK_SECONDS,
    failed="Claiming the alerts' digests failed",
    logger=logger,
)
