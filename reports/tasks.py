"""Background tasks of the reports app; they take ids and are safe to rerun."""

from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django_tasks import task

from infra.tasks import PRIORITY_BATCH, PRIORITY_WAITED_FOR

from .addresses import report_address_fill
from .alerts import (
    alert_confirmation_send,
    alert_digest_send,
    alert_phone_code_send,
    alert_reports,
)
from .choices import ReportStatus, TokenPurpose
from .mail import mail_link, send_plain, send_to
from .milestones import milestones_rebuild_open
from .models import Alert, Report, Subscription
from .my_reports import my_reports_link_issue
from .notifications import followers_notify
from .questionnaire import questionnaire_send
from .tokens import token_issue


@task(priority=PRIORITY_WAITED_FOR)
def send_report_confirmation_task(report_id: int) -> None:
    report = Report.objects.select_related("filed_on_site", "category").get(
        pk=report_id
    )
    if report.status != ReportStatus.UNCONFIRMED:
        return
    raw = token_issue(purpose=TokenPurpose.CONFIRM_REPORT, report=report)
    send_to(
        report=report,
        to=report.email,
        template="confirm_report",
        context={"confirm_url": mail_link(report, "report-confirm", raw)},
    )


@task()
def send_report_received_task(report_id: int) -> None:
    """A report filed for a caller by staff: the caller hears it was received,
    with the link to its page (there is nothing for them to confirm)."""
    report = Report.objects.select_related("filed_on_site", "category").get(
        pk=report_id
    )
    if not report.email or report.status == ReportStatus.UNCONFIRMED:
        return
    send_to(
        report=report,
        to=report.email,
        template="report_received",
        context={"report_url": mail_link(report, "report-detail", report.pk)},
    )


@task(priority=PRIORITY_WAITED_FOR)
def send_subscription_confirmation_task(subscription_id: int) -> None:
    subscription = Subscription.objects.select_related("report__filed_on_site").get(
        pk=subscription_id
    )
    if subscription.confirmed_at is not None:
        return
    report = subscription.report
    raw = token_issue(
        purpose=TokenPurpose.CONFIRM_SUBSCRIPTION,
        report=report,
        subscription=subscription,
    )
    send_to(
        report=report,
        to=subscription.email,
        template="confirm_subscription",
        context={"confirm_url": mail_link(report, "subscription-confirm", raw)},
    )


@task()
def notify_followers_task(report_id: int) -> None:
    followers_notify(report_id)


@task(priority=PRIORITY_WAITED_FOR)
def send_my_reports_link_task(email: str, root_url: str, language: str) -> None:
    """E-mail a "Mina sidor" link, if the address has reports at all."""
    if not Report.objects.filter(email=email).exists():
        return
    with translation.override(language):
        url = root_url + reverse("my-reports-link", args=[my_reports_link_issue(email)])
    send_plain(
        to=email,
        template="my_reports_link",
        context={
            "url": url,
            "minutes": settings.KNUTPUNKT_MY_REPORTS_LINK_TTL_MINUTES,
        },
        language=language,
    )


@task()
def report_address_task(report_id: int) -> None:
    """Look up and keep a new report's nearest address (safe to rerun)."""
    report_address_fill(report_id=report_id)


@task(priority=PRIORITY_BATCH)
def milestones_rebuild_open_task(municipality_id: int) -> None:
    """A kommun's working days changed: its open reports fall due anew."""
    milestones_rebuild_open(municipality_id=municipality_id)


@task(priority=PRIORITY_BATCH)
def send_questionnaire_task(questionnaire_id: int) -> None:
    """E-mail a claimed "is it fixed?" questionnaire (once; safe to rerun)."""
    questionnaire_send(questionnaire_id=questionnaire_id)


@task(priority=PRIORITY_WAITED_FOR)
def send_alert_confirmation_task(alert_id: int) -> None:
    """The double opt-in: a single-use link to confirm an alert."""
    alert = (
        Alert.objects.select_related("site", "municipality", "category")
        .filter(pk=alert_id, confirmed_at__isnull=True)
        .first()
    )
    if alert is None:
        return
    raw = token_issue(purpose=TokenPurpose.CONFIRM_ALERT, alert=alert)
    alert_confirmation_send(alert, raw)


@task(priority=PRIORITY_BATCH)
def send_alert_digest_task(alert_id: int, since: str, until: str) -> None:
    """The digest an hourly claim (alert_services.alert_digest_claim) made:
    the reports confirmed between ``since`` and ``until``."""
    alert = (
        Alert.objects.select_related("site", "municipality", "category")
        .filter(pk=alert_id, confirmed_at__isnull=False)
        .first()
    )
    if alert is None:  # ended meanwhile
        return
    reports = alert_reports(
        alert,
        since=datetime.fromisoformat(since),
        until=datetime.fromisoformat(until),
    )
    if reports:
        alert_digest_send(alert, reports)


@task(priority=PRIORITY_WAITED_FOR)
def send_alert_phone_code_task(alert_id: int) -> None:
    """A new code to the alert's number: only its hash is kept."""
    alert_phone_code_send(alert_id=alert_id)
