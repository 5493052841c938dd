from django import template

from ..oidc import providers

register = template.Library()


@register.simple_tag
def staffauth_oidc_providers():
    """The kommuner whose staff may sign in with their kommun's own account."""
    return providers()
