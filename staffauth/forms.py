from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.auth import LoginForm as WagtailLoginForm


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_(
            "The six digits your authenticator app shows, or one of your backup codes."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True}
        ),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=16,
        help_text=_("The six digits the app shows for Knutpunkt."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
    )


class LoginForm(WagtailLoginForm):
    """Wagtail's sign-in form with a translated password label (Wagtail's field
    has none, so Django names it from the field: "Password", in every language).

    Only those the admin is for sign in here: an account without access to the
    admin (a citizen's) is refused before it is signed in, and told where
    citizens sign in (``citizens``)."""

    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"placeholder": _("Enter password")}),
        strip=False,
    )

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.has_perm("wagtailadmin.access_admin"):
            raise ValidationError(
                _(
                    "This sign-in is for the staff of the kommuner. Citizens sign "
                    "in on the site's own sign-in page."
                ),
                code="not_staff",
            )
