"""Sign-in through a kommun's own identity provider: OpenID Connect, Authorization
Code flow with PKCE (S256), a confidential client (``client_secret_post``).

Hand-written on PyJWT rather than with mozilla-django-oidc: that library reads one
provider from global settings (``OIDC_RP_*``) in its views and its backend, and a
provider per kommun would mean overriding nearly all of both. The flow itself is
short; PyJWT does the part that must not be hand-written (the signature, RS256
against the provider's JWKS, and the registered claims).

Providers come from ``KNUTPUNKT_STAFF_OIDC`` (JSON in the environment, secrets
included, never in the database), keyed by kommun slug::

    {"malmo": {"issuer": "https://login.microsoftonline.com/<tenant>/v2.0",
               "client_id": "...", "client_secret": "...",
               "email_domains": ["malmo.se"]}}

``discovery_url`` may be given instead of or beside ``issuer`` (default: the
issuer's ``/.well-known/openid-configuration``).

Who signs in: the ID token's ``email`` (or the userinfo endpoint's, when the token
has none), in one of the provider's ``email_domains``, not marked unverified
(``email_verified: false``), must belong to exactly one active account that holds a
staff role in that kommun (``municipalities.staff``). Nobody else is let in, and no
account or right is ever created here: an unknown address is refused with a message.

This is, besides place search, the only HTTP to the outside inside a request
(the discovery document, the token and keys, each with a short timeout), and only
on the callback of a sign-in the member of staff started.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.core.cache import cache
from django.urls import reverse

from municipalities.models import Municipality
from municipalities.staff import staff_in_municipality

from .twofactor import OIDC_SESSION_KEY

logger = logging.getLogger("knutpunkt.staffauth")

PENDING_SESSION_KEY = "staffauth_oidc_pending"
TIMEOUT_SECONDS = 5
MAX_RESPONSE_BYTES = 256 * 1024
DISCOVERY_CACHE_SECONDS = 3600
# Clocks differ a little between us and the provider.
LEEWAY_SECONDS = 60


class SignInRefused(Exception):
    """The sign-in cannot go on; ``reason`` names why (for tests and the log),
    the message is for the person."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Client:
    """One relying party at one OpenID Connect provider: what the flow needs.
    The staff's providers (``Provider.client``) and the citizens' e-legitimation
    broker (``citizens.oidc``) are both run by ``flow_start``/``flow_finish``."""

    key: str  # names the sign-in in the session (a kommun's slug, "citizen")
    discovery_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scope: str = "openid email profile"


@dataclass(frozen=True)
class Provider:
    slug: str
    municipality: Municipality
    discovery_url: str
    client_id: str
    client_secret: str
    email_domains: tuple[str, ...]

    @property
    def redirect_uri(self) -> str:
        # Built from the configured admin address, never from the request's Host.
        base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
        return base + reverse("staffauth_oidc_callback", args=[self.slug])

    @property
    def client(self) -> Client:
        return Client(
            key=self.slug,
            discovery_url=self.discovery_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            redirect_uri=self.redirect_uri,
        )


def providers() -> list[Provider]:
    """The configured providers whose kommun exists, in the kommuner's name order."""
    config = settings.KNUTPUNKT_STAFF_OIDC
    kommuner = Municipality.objects.filter(slug__in=list(config)).order_by("name")
    return [_provider(m, config[m.slug]) for m in kommuner]


def provider_for(slug: str) -> Provider | None:
    config = settings.KNUTPUNKT_STAFF_OIDC.get(slug)
    if config is None:
        return None
    municipality = Municipality.objects.filter(slug=slug).first()
    return None if municipality is None else _provider(municipality, config)


def _provider(municipality: Municipality, config: dict) -> Provider:
    issuer = config.get("issuer", "").rstrip("/")
    return Provider(
        slug=municipality.slug,
        municipality=municipality,
        discovery_url=config.get("discovery_url")
        or f"{issuer}/.well-known/openid-configuration",
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        email_domains=tuple(d.lower() for d in config.get("email_domains", ())),
    )


def _get_json(url: str, data: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 (the operator's https URL)
        url,
        data=urlencode(data).encode() if data is not None else None,
        headers={"Accept": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise SignInRefused(f"provider answered {error.code} at {url}") from None
    except (OSError, ValueError) as error:
        raise SignInRefused(f"provider unreachable: {error}") from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise SignInRefused("provider's answer too large")
    try:
        value = json.loads(body)
    except ValueError:
        raise SignInRefused("provider's answer is not JSON") from None
    if not isinstance(value, dict):
        raise SignInRefused("provider's answer is not a JSON object")
    return value


def _discovery(provider: Client) -> dict:
    key = (
        "staffauth:oidc:discovery:"
        + hashlib.sha256(provider.discovery_url.encode()).hexdigest()
    )
    document = cache.get(key)
    if document is None:
        document = _get_json(provider.discovery_url)
        for field in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(field), str):
                raise SignInRefused(f"discovery document lacks {field}")
        cache.set(key, document, DISCOVERY_CACHE_SECONDS)
    return document


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def flow_start(
    request, client: Client, next_url: str, *, session_key: str = PENDING_SESSION_KEY
) -> str:
    """Remember state, nonce and PKCE verifier in the session; the provider's
    authorisation URL to send the browser to."""
    document = _discovery(client)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)
    request.session[session_key] = {
        "slug": client.key,
        "state": state,
        "nonce": nonce,
        "verifier": verifier,
        "next": next_url,
    }
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uri,
            "scope": client.scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": _b64url(hashlib.sha256(verifier.encode()).digest()),
            "code_challenge_method": "S256",
        }
    )
    endpoint = document["authorization_endpoint"]
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def flow_finish(
    request,
    client: Client,
    *,
    code: str,
    state: str,
    session_key: str = PENDING_SESSION_KEY,
) -> tuple[dict, str]:
    """Check the provider's answer: the verified claims of whoever signed in
    there (with the userinfo endpoint's, when the ID token has no e-mail
    address), and the ``next`` remembered at the start. Raises
    ``SignInRefused``; signs nobody in."""
    pending = request.session.pop(session_key, None)
    if (
        not pending
        or pending.get("slug") != client.key
        or not state
        or not hmac.compare_digest(str(pending.get("state")), state)
    ):
        raise SignInRefused("state does not match a sign-in started here")
    if not code:
        raise SignInRefused("no authorisation code")
    document = _discovery(client)
    tokens = _get_json(
        document["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uri,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "code_verifier": pending["verifier"],
        },
    )
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise SignInRefused("no ID token")
    claims = _id_token_claims(client, document, id_token)
    if not hmac.compare_digest(str(claims.get("nonce", "")), pending["nonce"]):
        raise SignInRefused("nonce does not match")
    if not claims.get("email") and isinstance(tokens.get("access_token"), str):
        userinfo_endpoint = document.get("userinfo_endpoint")
        if isinstance(userinfo_endpoint, str):
            info = _get_json(userinfo_endpoint, token=tokens["access_token"])
            if info.get("sub") == claims["sub"]:
                claims = {**info, **claims}
    return claims, pending.get("next") or ""


def sign_in_start(request, provider: Provider, next_url: str) -> str:
    """Start a member of staff's sign-in: the provider's authorisation URL."""
    return flow_start(request, provider.client, next_url)


def sign_in_finish(request, provider: Provider, *, code: str, state: str) -> str:
    """Check the provider's answer, sign the matching member of staff in, and
    return where to go next. Raises ``SignInRefused`` (nobody signed in)."""
    claims, next_url = flow_finish(request, provider.client, code=code, state=state)
    user = _staff_account(provider, claims, claims.get("email"))
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[OIDC_SESSION_KEY] = provider.slug
    return next_url or reverse("wagtailadmin_home")


def _id_token_claims(provider: Client, document: dict, id_token: str) -> dict:
    try:
        signing_key = jwt.PyJWKClient(
            document["jwks_uri"], cache_jwk_set=False, timeout=TIMEOUT_SECONDS
        ).get_signing_key_from_jwt(id_token)
        return jwt.decode(
            id_token,
            key=signing_key.key,
            algorithms=["RS256"],
            audience=provider.client_id,
            issuer=document["issuer"],
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]},
        )
    except (jwt.PyJWTError, jwt.PyJWKClientError) as error:
        raise SignInRefused(f"ID token refused: {type(error).__name__}") from None


def _staff_account(provider: Provider, claims: dict, email) -> object:
    if not isinstance(email, str) or "@" not in email:
        raise SignInRefused("no e-mail address")
    if claims.get("email_verified") is False:
        raise SignInRefused("e-mail address not verified")
    domain = email.rsplit("@", 1)[1].lower()
    if domain not in provider.email_domains:
        raise SignInRefused("e-mail domain not allowed for this provider")
    accounts = list(
        get_user_model().objects.filter(email__iexact=email, is_active=True)[:2]
    )
    if len(accounts) != 1 or not staff_in_municipality(
        accounts[0], provider.municipality
    ):
        raise SignInRefused("no single staff account in this kommun has the address")
    return accounts[0]
