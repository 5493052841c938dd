"""E-mailed links of citizens' accounts and data; each task decides, out of
the request, whether anything is sent, so that the page answers the same for
every address."""

from django.urls import reverse
from django.utils import translation
from django_tasks import task

from infra.tasks import PRIORITY_WAITED_FOR
from reports.mail import send_plain
from reports.models import Report, Subscription
from reports.my_reports import my_reports_link_issue

from .services import MY_DATA, SIGN_IN, SIGN_UP, _address_taken, citizen_by_email

# How long each link works, in minutes: a sign-up link may wait in an inbox
# for a while; a sign-in or a data link is used at once.
LINK_MINUTES = {SIGN_UP: 24 * 60, SIGN_IN: 30, MY_DATA: 30}
LINK_URLS = {
    SIGN_UP: "citizen-sign-up-link",
    SIGN_IN: "citizen-sign-in-link",
    MY_DATA: "my-data-link",
}


def _send_link(*, email: str, purpose: str, template: str, root_url: str, language):
    minutes = LINK_MINUTES[purpose]
    raw = my_reports_link_issue(email, purpose=purpose, minutes=minutes)
    with translation.override(language):
        url = root_url.rstrip("/") + reverse(LINK_URLS[purpose], args=[raw])
    send_plain(
        to=email,
        template=template,
        context={"url": url, "minutes": minutes, "hours": minutes // 60},
        language=language,
    )


@task(priority=PRIORITY_WAITED_FOR)
def send_sign_up_link_task(email: str, root_url: str, language: str) -> None:
    """A sign-up link; to an address that has an account already, a sign-in
    link saying so instead; to a member of staff's address, nothing."""
    if citizen_by_email(email) is not None:
        _send_link(
            email=email,
            purpose=SIGN_IN,
            template="citizen_already_signed_up",
            root_url=root_url,
            language=language,
        )
    elif not _address_taken(email):
        _send_link(
            email=email,
            purpose=SIGN_UP,
            template="citizen_sign_up",
            root_url=root_url,
            language=language,
        )


@task(priority=PRIORITY_WAITED_FOR)
def send_sign_in_link_task(email: str, root_url: str, language: str) -> None:
    """A sign-in link, if the address has a citizen account."""
    if citizen_by_email(email) is not None:
        _send_link(
            email=email,
            purpose=SIGN_IN,
            template="citizen_sign_in",
            root_url=root_url,
            language=language,
        )


@task(priority=PRIORITY_WAITED_FOR)
def send_my_data_link_task(email: str, root_url: str, language: str) -> None:
    """A link to one's data, if the platform holds any about the address."""
    if (
        citizen_by_email(email) is not None
        or Report.objects.filter(email=email).exists()
        or Subscription.objects.filter(email=email).exists()
    ):
        _send_link(
            email=email,
            purpose=MY_DATA,
            template="citizen_my_data",
            root_url=root_url,
            language=language,
        )
