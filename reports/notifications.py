"""Status updates to a report's followers by e-mail: at most one e-mail per
report in each batching window, with every public event since the last one."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .choices import EventKind
from .mail import mail_link, send_to, unsubscribe_token
from .models import Report, Subscription

# The events followers are told about (not "reported" or "sent"): staff's and
# citizens' updates too.
NOTIFIED_KINDS = (
    EventKind.STATUS,
    EventKind.NOTE,
    EventKind.HANDOVER,
    EventKind.UPDATE,
)


def followers_notify(report_id: int) -> int:
    """Send the followers one e-mail with every public event since the last one;
    the number of e-mails sent."""
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
                kind__in=NOTIFIED_KINDS,
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
        unsubscribe_url = mail_link(
            report, "unsubscribe", unsubscribe_token(subscription.pk)
        )
        send_to(
            report=report,
            to=subscription.email,
            template="status_update",
            context={
                "events": events,
                "report_url": mail_link(report, "report-detail", report.pk),
                "unsubscribe_url": unsubscribe_url,
            },
            unsubscribe_url=unsubscribe_url,
        )
        sent += 1
    return sent
