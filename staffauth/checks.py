"""A wrong ``KNUTPUNKT_STAFF_OIDC`` is said at start-up, not at the first sign-in."""

from django.conf import settings
from django.core.checks import Error, register

REQUIRED = ("client_id", "client_secret")


@register()
def oidc_configuration(app_configs, **kwargs):
    config = settings.KNUTPUNKT_STAFF_OIDC
    if not isinstance(config, dict):
        return [
            Error("KNUTPUNKT_STAFF_OIDC must be a JSON object", id="staffauth.E001")
        ]
    errors = []
    for slug, provider in config.items():
        where = f"KNUTPUNKT_STAFF_OIDC[{slug!r}]"
        if not isinstance(provider, dict):
            errors.append(Error(f"{where} must be an object", id="staffauth.E001"))
            continue
        missing = [k for k in REQUIRED if not isinstance(provider.get(k), str)]
        if not (provider.get("issuer") or provider.get("discovery_url")):
            missing.append("issuer or discovery_url")
        domains = provider.get("email_domains")
        if not isinstance(domains, list) or not domains:
            missing.append("email_domains (a non-empty list)")
        if missing:
            errors.append(
                Error(f"{where} lacks {', '.join(missing)}", id="staffauth.E002")
            )
    return errors
