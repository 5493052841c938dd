"""E-mail to reporters and followers, in the language they used, and the links
it carries: to the report's kommun's own site when it has one, with the
kommun's brand (``brand_provider``), else to the site the report was filed on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
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


@dataclass(frozen=True)
class MailBrand:
    """A kommun's look in e-mail about its reports, and where their links go."""

    name: str  # the kommun's name
    root_url: str  # its site's configured root URL (never a request's Host)
    colour: str  # "#rrggbb", checked for contrast with the text colour and white
    text_colour: str
    logo_url: str = ""  # absolute, or none


# Who gives a report's brand: the kommun sites (cms), above this app, say so
# once at start-up (cms.apps), as the hub does for the handoff (handoff.py).
_brand_providers: list[Callable[[Report], MailBrand | None]] = []


def brand_provider(provider: Callable[[Report], MailBrand | None]) -> None:
    """Ask ``provider(report)`` for the brand of e-mail about each report."""
    if provider not in _brand_providers:
        _brand_providers.append(provider)


def mail_brand(report: Report) -> MailBrand | None:
    """The brand of e-mail about the report (the first provider's answer),
    asked once per report object: followers' e-mails share it."""
    if "_mail_brand" not in report.__dict__:
        report.__dict__["_mail_brand"] = next(
            (b for b in (p(report) for p in _brand_providers) if b is not None),
            None,
        )
    return report.__dict__["_mail_brand"]


def mail_url(report: Report) -> str:
    """Where e-mail about the report leads: its kommun's branded site, else the
    site it was filed on."""
    brand = mail_brand(report)
    return brand.root_url if brand is not None else site_url(report)


def send_to(
    *,
    report: Report,
    to: str,
    template: str,
    context: dict,
    unsubscribe_url: str = "",
) -> None:
    send_plain(
        to=to,
        template=template,
        context={"report": report, "site_url": mail_url(report), **context},
        language=report.language,
        brand=mail_brand(report),
        unsubscribe_url=unsubscribe_url,
    )


def send_plain(
    *,
    to: str,
    template: str,
    context: dict,
    language: str,
    brand: MailBrand | None = None,
    unsubscribe_url: str = "",
) -> None:
    """The template's text; with a brand, also as HTML in the kommun's look.
    With ``unsubscribe_url`` (a link that ends what the e-mail is sent for,
    without signing in, by GET asking and by POST at once), the message says
    so to mail programs too (``List-Unsubscribe``, RFC 2369, and one-click
    ``List-Unsubscribe-Post``, RFC 8058)."""
    context = {**context, "brand": brand}
    with translation.override(language):
        subject = render_to_string(f"reports/email/{template}_subject.txt", context)
        body = render_to_string(f"reports/email/{template}.txt", context)
        html = (
            render_to_string(
                "reports/email/branded.html",
                {**context, "body": body.strip(), "language": language},
            )
            if brand is not None
            else None
        )
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        if unsubscribe_url
        else None,
    )
    if html is not None:
        message.attach_alternative(html, "text/html")
    message.send()


def link(report: Report, name: str, *args) -> str:
    """A page of the report's on the site it was filed on (what case systems
    are told)."""
    with translation.override(report.language):
        return site_url(report) + reverse(name, args=args)


def mail_link(report: Report, name: str, *args) -> str:
    """A page of the report's, on the site e-mail about it leads to."""
    with translation.override(report.language):
        return mail_url(report) + reverse(name, args=args)


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


_ALERT_SALT = "knutpunkt.reports.alert"


def alert_token(alert_id: int) -> str:
    """The link token of one alert's own page (its SMS number, ending it),
    without signing in; signed, so no one can make another alert's."""
    return signing.dumps(alert_id, salt=_ALERT_SALT)


def alert_id_from_token(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=_ALERT_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None
