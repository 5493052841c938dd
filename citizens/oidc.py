"""Sign-in with e-legitimation (BankID, Freja eID…) through an OpenID Connect
broker, as Swedish e-services reach them: one broker, configured by the
operator in ``KNUTPUNKT_CITIZEN_OIDC`` (JSON in the environment, its secret
included, never in the database)::

    {"issuer": "https://broker.example/", "client_id": "...",
     "client_secret": "...", "name": "BankID eller Freja eID"}

The flow (Authorization Code with PKCE, the ID token checked against the
broker's keys) is the staff's (``staffauth.oidc.flow_start``/``flow_finish``);
only who is signed in differs. The broker's subject (often a personal
identity number) is kept only as a keyed hash (``Citizen.eid_subject``). It
finds: the signed-in citizen who connects it from their account page; else
the account it was connected to; else, when the broker vouches for an e-mail
address (``email_verified: true``), that address's citizen account, made now
if there is none. Without either, nobody is signed in and the citizen is told
to sign up with their address first. A staff account is never signed in here.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from staffauth.oidc import Client, SignInRefused, flow_finish, flow_start

from . import services

PENDING_SESSION_KEY = "citizens_oidc_pending"
CLIENT_KEY = "citizen"


def broker() -> dict | None:
    config = settings.KNUTPUNKT_CITIZEN_OIDC
    return config if config.get("client_id") else None


def broker_name() -> str:
    config = broker() or {}
    return str(config.get("name") or "")


def _client(root_url: str) -> Client:
    config = settings.KNUTPUNKT_CITIZEN_OIDC
    issuer = config.get("issuer", "").rstrip("/")
    return Client(
        key=CLIENT_KEY,
        discovery_url=config.get("discovery_url")
        or f"{issuer}/.well-known/openid-configuration",
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        # The site's configured address, never the request's Host.
        redirect_uri=root_url.rstrip("/") + reverse("citizen-eid-callback"),
        scope=config.get("scope", "openid email profile"),
    )


def eid_start(request, *, root_url: str, next_url: str) -> str:
    return flow_start(
        request, _client(root_url), next_url, session_key=PENDING_SESSION_KEY
    )


def eid_finish(request, *, root_url: str, code: str, state: str):
    """(the citizen to sign in, whether their e-legitimation was just
    connected to the account they were signed in to). ``SignInRefused``
    otherwise."""
    claims, _next = flow_finish(
        request,
        _client(root_url),
        code=code,
        state=state,
        session_key=PENDING_SESSION_KEY,
    )
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise SignInRefused("no subject")
    key = services.eid_subject_key(str(claims.get("iss", "")), subject)
    current = request.user if services.is_citizen(request.user) else None
    if current is not None:
        if not services.citizen_eid_link(user=current, subject_key=key):
            raise SignInRefused("e-legitimation connected to another account")
        return current, True
    user = services.citizen_by_eid(key)
    if user is not None:
        services.citizen_data_join(user=user)
        return user, False
    email = claims.get("email")
    if (
        not isinstance(email, str)
        or "@" not in email
        or claims.get("email_verified") is not True
    ):
        raise SignInRefused("no verified e-mail address")
    try:
        user = services.citizen_confirm(email=email, name=str(claims.get("name", "")))
    except services.AccountRefused:
        raise SignInRefused("the address is a staff account's") from None
    if not services.citizen_eid_link(user=user, subject_key=key):
        raise SignInRefused("e-legitimation connected to another account")
    return user, False
