"""E-mail to reporters and followers, in the language they used, and the links
it carries (built from the site the report was filed on)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from wagtail.models import Site

from .models import Report


def root_url(site: Site | None) -> str:
    """A site's configured root URL (never a request's Host header); the
    platform's base URL without one."""
    return site.root_url if site is not None else settings.WAGTAILADMIN_BASE_URL


def site_url(report: Report) -> str:
    """The root URL of the site the report was filed on (a kommun's or the national)."""
    return root_url(report.filed_on_site)


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
