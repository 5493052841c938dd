"""Citizens' accounts and their data: each a small service, keyword-only, in
one transaction.

An account is made only from an address its owner proved (an e-mailed link,
or an e-legitimation broker's verified address); what was made with that
address without an account (reports, follows) joins it then, and at each
later sign-in. Nothing here answers differently for an address with or
without an account: the views give the same page either way and the e-mail
(or its absence) is the only difference.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from infra.personal_data import DataSubject, personal_data_sections
from municipalities.staff import staff_holds_role
from reports.models import Alert, Report, Subscription

from .models import Citizen, ErasureRecord

# The purposes of the e-mailed links (reports.models.MyReportsLink.purpose).
SIGN_UP = "sign_up"
SIGN_IN = "sign_in"
MY_DATA = "my_data"


def normalise(email: str) -> str:
    return email.strip().lower()


def is_citizen(user) -> bool:
    """A citizen's account: it has a ``Citizen``, is active, and is nobody's
    staff account (no admin access, no staff role)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and Citizen.objects.filter(user=user).exists()
        and not user.is_staff
        and not user.is_superuser
        and not user.has_perm("wagtailadmin.access_admin")
        and not staff_holds_role(user)
    )


def citizen_by_email(email: str):
    """The active citizen account of an address, or None."""
    user = (
        get_user_model()
        .objects.filter(email__iexact=normalise(email), citizen__isnull=False)
        .order_by("pk")
        .first()
    )
    return user if is_citizen(user) else None


def _address_taken(email: str) -> bool:
    """Some account other than a citizen's (a member of staff's) has it."""
    return (
        get_user_model()
        .objects.filter(email__iexact=email, citizen__isnull=True)
        .exists()
    )


@transaction.atomic
def citizen_data_join(*, user) -> dict[str, int]:
    """What was made with the account's address without an account joins it:
    its reports, its follows and its alerts."""
    email = normalise(user.email)
    if not email:
        return {"reports": 0, "follows": 0, "alerts": 0}
    reports = Report.objects.filter(email=email, reporter__isnull=True).update(
        reporter=user
    )
    follows = Subscription.objects.filter(email=email, user__isnull=True).update(
        user=user
    )
    alerts = Alert.objects.filter(email=email, user__isnull=True).update(user=user)
    return {"reports": reports, "follows": follows, "alerts": alerts}


class AccountRefused(Exception):
    """The address belongs to a staff account: no citizen account is made."""


@transaction.atomic
def citizen_confirm(*, email: str, name: str = ""):
    """The owner of ``email`` proved it (a sign-up link): their account, made
    now if they had none, with their earlier reports and follows joined."""
    email = normalise(email)
    user = citizen_by_email(email)
    if user is None:
        if _address_taken(email):
            raise AccountRefused(email)
        user = get_user_model().objects.create_user(
            username=f"citizen-{secrets.token_hex(8)}",
            email=email,
            first_name=name[:150],
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        Citizen.objects.create(user=user)
    citizen_data_join(user=user)
    return user


@transaction.atomic
def citizen_password_set(*, user, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])


def citizen_password_check(*, email: str, password: str):
    """The citizen account the address and password sign in, or None; as slow
    for an unknown address as for a known one (the password is hashed either
    way), so the time taken tells nothing."""
    user = citizen_by_email(email)
    if user is None or not user.has_usable_password():
        get_user_model()().set_password(password)
        return None
    return user if user.check_password(password) else None


def eid_subject_key(issuer: str, subject: str) -> str:
    """A keyed hash of an e-legitimation's issuer and subject (never stored
    as given)."""
    message = f"{issuer}\n{subject}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


@transaction.atomic
def citizen_eid_link(*, user, subject_key: str) -> bool:
    """Connect an e-legitimation to a signed-in citizen's account; False when
    it is connected to another account already."""
    other = Citizen.objects.filter(eid_subject=subject_key).exclude(user=user)
    if other.exists():
        return False
    Citizen.objects.filter(user=user).update(eid_subject=subject_key)
    return True


def citizen_by_eid(subject_key: str):
    citizen = (
        Citizen.objects.select_related("user").filter(eid_subject=subject_key).first()
    )
    return citizen.user if citizen and is_citizen(citizen.user) else None


# --- my data --------------------------------------------------------------------


def data_subject(*, user=None, email: str = "") -> DataSubject:
    """Whom a request for data is about: a signed-in citizen (and their
    address), or an address an e-mailed link proved (and its citizen
    account, if it has one: the link proves the address the account signs in
    with)."""
    emails = []
    if user is not None and user.email:
        emails.append(normalise(user.email))
    if email:
        emails.append(normalise(email))
        if user is None:
            user = citizen_by_email(email)
            if user is not None and user.email:
                emails.append(normalise(user.email))
    return DataSubject(user=user, emails=tuple(dict.fromkeys(emails)))


def personal_data_export(*, subject: DataSubject) -> dict:
    """Everything the platform holds about the subject, section by section
    (GDPR articles 15 and 20), JSON-ready."""
    user = subject.user
    account = None
    if user is not None:
        citizen = Citizen.objects.filter(user=user).first()
        account = {
            "email": user.email,
            "name": user.get_full_name(),
            "created_at": user.date_joined.isoformat(),
            "last_sign_in": user.last_login.isoformat() if user.last_login else None,
            "has_password": user.has_usable_password(),
            "e_legitimation_connected": bool(citizen and citizen.eid_subject),
        }
    export = {"addresses": list(subject.emails), "account": account}
    for section in personal_data_sections():
        export[section.name] = section.export(subject)
    return export


@transaction.atomic
def personal_data_erase(*, subject: DataSubject, via: str) -> dict[str, int]:
    """Erase everything about the subject (GDPR article 17): every section's
    data, then the account. Audited by counts only (``ErasureRecord``)."""
    counts: dict[str, int] = {}
    for section in personal_data_sections():
        for key, value in section.erase(subject).items():
            counts[f"{section.name}.{key}"] = value
    accounts = 0
    if subject.user is not None and is_citizen(subject.user):
        subject.user.delete()
        accounts = 1
    counts["accounts"] = accounts
    ErasureRecord.objects.create(via=via, counts=counts)
    return counts
