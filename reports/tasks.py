"""Background tasks of the reports app; they take ids and are safe to rerun."""

from django_tasks import task

from .choices import ReportStatus, TokenPurpose
from .models import Report, Subscription
from .notifications import link, send_to


@task()
def send_report_confirmation_task(report_id: int) -> None:
    from .services import token_issue

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
        context={"confirm_url": link(report, "report-confirm", raw)},
    )


@task()
def send_subscription_confirmation_task(subscription_id: int) -> None:
    from .services import token_issue

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
        context={"confirm_url": link(report, "subscription-confirm", raw)},
    )


@task()
def notify_followers_task(report_id: int) -> None:
    from .notifications import followers_notify

    followers_notify(report_id)
