"""E-mail to the body's address with every field, the report's link and its photos.

The Message-ID is derived from the delivery's key, so a resent message is
recognisably the same one; the Reply-To address carries the report's number with
a signature, so that a reply maps back to the report (``report_id_from_reply``).
"""

from __future__ import annotations

import re
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac

from .base import (
    CaseRequest,
    ConfigurationError,
    Connector,
    DeliveryError,
    Sent,
    UpdateRequest,
)

_REPLY_SALT = "knutpunkt.connectors.email.reply"


def _reply_signature(report_id: int) -> str:
    return salted_hmac(_REPLY_SALT, str(report_id)).hexdigest()[:16]


def reply_address(report_id: int) -> str:
    """``svar+<report>.<signature>@domain`` from KNUTPUNKT_REPLY_EMAIL."""
    local, _, domain = settings.KNUTPUNKT_REPLY_EMAIL.partition("@")
    return f"{local}+{report_id}.{_reply_signature(report_id)}@{domain}"


def report_id_from_reply(address: str) -> int | None:
    """The report a reply-to address was made for, or None if it is not ours."""
    match = re.search(r"\+(\d+)\.([0-9a-f]{16})@", address)
    if match is None:
        return None
    report_id = int(match.group(1))
    if not constant_time_compare(match.group(2), _reply_signature(report_id)):
        return None
    return report_id


def message_id(request: CaseRequest | UpdateRequest) -> str:
    domain = settings.KNUTPUNKT_REPLY_EMAIL.partition("@")[2] or "localhost"
    return f"<delivery-{request.key}@{domain}>"


class EmailConnector(Connector):
    kind = "email"

    def check(self) -> None:
        if not self.connection.email:
            raise ConfigurationError("The e-mail connection has no address.")

    def message(self, request: CaseRequest) -> EmailMessage:
        with translation.override("sv"):
            context = {"request": request, "connection": self.connection}
            subject = render_to_string("casehub/email/case_subject.txt", context)
            body = render_to_string("casehub/email/case.txt", context)
        message = EmailMessage(
            subject=" ".join(subject.split()),
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[self.connection.email],
            reply_to=[reply_address(request.report_id)],
            headers={"Message-ID": message_id(request)},
        )
        for photo in request.photos:
            message.attach(photo.filename, photo.read(), "image/jpeg")
        return message

    def update_message(self, request: UpdateRequest) -> EmailMessage:
        """The change, told to the address the case went to; it refers to the
        case's message, so that a mail client threads them."""
        with translation.override("sv"):
            context = {"request": request, "connection": self.connection}
            subject = render_to_string("casehub/email/update_subject.txt", context)
            body = render_to_string("casehub/email/update.txt", context)
        headers = {"Message-ID": message_id(request)}
        if request.case_id:
            headers["In-Reply-To"] = headers["References"] = f"<{request.case_id}>"
        message = EmailMessage(
            subject=" ".join(subject.split()),
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[self.connection.email],
            reply_to=[reply_address(request.report_id)],
            headers=headers,
        )
        for photo in request.photos:  # a citizen's update's
            message.attach(photo.filename, photo.read(), "image/jpeg")
        return message

    def send(self, request: CaseRequest) -> Sent:
        self.check()
        return self._send(self.message(request), request)

    def send_update(self, request: UpdateRequest) -> Sent:
        self.check()
        return self._send(self.update_message(request), request)

    def _send(self, message: EmailMessage, request) -> Sent:
        try:
            message.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"The mail server refused {self.connection.email}: {exc}",
                connection_fault=True,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"Sending e-mail failed: {exc.__class__.__name__}: {exc}"
            ) from None
        return Sent(external_id=message_id(request).strip("<>"))
