from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Citizen(models.Model):
    """A citizen's account: a Django user that is not staff, signed up on the
    public pages (accounts are optional: reporting, following and Mina sidor
    work without one). Staff accounts have no ``Citizen`` and cannot sign in
    on the public pages; citizens have no admin access and cannot sign in to
    the admin (``staffauth.forms.LoginForm``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="citizen"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A keyed hash of the e-legitimation broker's issuer and subject (in
    # Sweden often a personal identity number): it finds the account again,
    # and the number itself is never stored.
    eid_subject = models.CharField(max_length=64, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("citizen account")
        verbose_name_plural = _("citizen accounts")

    def __str__(self) -> str:
        return f"Citizen account #{self.pk}"


class ErasureRecord(models.Model):
    """The audit of an erasure (GDPR article 17): when, how it was asked for,
    and how many of each thing were erased; nothing about whom (no address,
    no account, no report)."""

    class Via(models.TextChoices):
        ACCOUNT = "account", _("Signed-in account")
        LINK = "link", _("E-mailed link")

    erased_at = models.DateTimeField(auto_now_add=True)
    via = models.CharField(max_length=10, choices=Via.choices)
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"Erasure #{self.pk}"
