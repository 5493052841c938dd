from django.urls import reverse
from django.utils.translation import gettext as _
from wagtail import hooks


@hooks.register("register_account_menu_item")
def two_factor_menu_item(request):
    return {
        "url": reverse("staffauth_two_factor"),
        "label": _("Two-factor sign-in"),
        "help_text": _("Turn on a code from an authenticator app when you sign in."),
    }
