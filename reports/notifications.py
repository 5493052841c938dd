"""E-mail to reporters and followers, in the language they used."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import task_backends

from config.tasks import enqueue_with_transaction

from .models import Report


def site_url(report: Report) -> str:
    """The root URL of the site the report was filed on (a kommun's or the national)."""
    if report.filed_on_site is not None:
        return report.filed_on_site.root_url
    return settings.WAGTAILADMIN_BASE_URL


def send_to(*, report: Report, to: str, template: str, context: dict) -> None:
    send_plain(
        to=to,
        template=template,
        context={"report": report, "site_url": site_url(report), **context},
        language=report.language,
    )


def send_plain(*, to: str, template: str, context: dict, language: str) -> None:
    with translation.override(language):
        subject = render_to_string(f"reports/email/{template}_subject.txt", context)
        body = render_to_string(f"reports/email/{template}.txt", context)
    EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    ).send()


def link(report: Report, name: str, *args) -> str:
    with translation.override(report.language):
        return site_url(report) + reverse(name, args=args)


# --- status updates to followers, batched --------------------------------------

_UNSUBSCRIBE_SALT = "knutpunkt.reports.unsubscribe"


def unsubscribe_token(subscription_id: int) -> str:
    """A link token that ends one subscription, without logging in; signed, so
    it cannot be guessed for anyone else's."""
    return signing.dumps(subscription_id, salt=_UNSUBSCRIBE_SALT)


def subscription_id_from_token(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=_UNSUBSCRIBE_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None


def followers_notify_soon(report: Report) -> None:
    """Schedule one e-mail to the report's followers about its new events: at
    once after a quiet spell, else when the batching window since the last one
    ends. Call inside the transaction that holds the report's row."""
    from .tasks import notify_followers_task

    if report.notify_scheduled:
        return
    now = timezone.now()
    window = timedelta(seconds=settings.KNUTPUNKT_NOTIFY_BATCH_SECONDS)
    run_at = max(now, report.notified_at + window) if report.notified_at else now
    Report.objects.filter(pk=report.pk).update(notify_scheduled=True)
    report.notify_scheduled = True
    task = notify_followers_task
    if task_backends[task.backend].supports_defer and run_at > now:
        task = task.using(run_after=run_at)
    enqueue_with_transaction(task, report.pk)


def followers_notify(report_id: int) -> int:
    """Send the followers one e-mail with every public event since the last one;
    the number of e-mails sent."""
    from .choices import EventKind
    from .models import Subscription

    with transaction.atomic():
        report = (
            Report.objects.select_for_update(of=("self",))
            .select_related("filed_on_site")
            .get(pk=report_id)
        )
        events = list(
            report.events.filter(
                is_public=True,
                pk__gt=report.notified_event_id,
                kind__in=(EventKind.STATUS, EventKind.NOTE, EventKind.HANDOVER),
            )
        )
        report.notify_scheduled = False
        if events:
            report.notified_event_id = events[-1].pk
            report.notified_at = timezone.now()
        report.save(
            update_fields=["notify_scheduled", "notified_event_id", "notified_at"]
        )
    if not events or report.is_hidden:
        return 0
    subscriptions = Subscription.objects.filter(
        report=report, confirmed_at__isnull=False
    )
    sent = 0
    for subscription in subscriptions:
        send_to(
            report=report,
            to=subscription.email,
            template="status_update",
            context={
                "events": events,
                "report_url": link(report, "report-detail", report.pk),
                "unsubscribe_url": link(
                    report, "unsubscribe", unsubscribe_token(subscription.pk)
                ),
            },
        )
        sent += 1
    return sent
