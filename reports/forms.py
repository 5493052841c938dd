from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from municipalities.models import Category, Municipality

from .choices import AlertKind, QuestionnaireAnswer


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; each is checked by the photo pipeline later."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(
                attrs={"accept": "image/jpeg,image/png,image/webp,image/heic"}
            ),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        files = [super(MultipleFileField, self).clean(f, initial) for f in files if f]
        if len(files) > settings.KNUTPUNKT_MAX_PHOTOS:
            raise forms.ValidationError(
                _("At most %(max)d photos.") % {"max": settings.KNUTPUNKT_MAX_PHOTOS}
            )
        return files


class ReportForm(forms.Form):
    lat = forms.CharField(required=False, widget=forms.HiddenInput)
    lon = forms.CharField(required=False, widget=forms.HiddenInput)
    # The name of the place a search found, shown back while the form is filled
    # in (without JavaScript the page is reloaded); it is not stored, and is
    # shortened where it is read (reports.views), never refused.
    place = forms.CharField(required=False, widget=forms.HiddenInput)
    # The address someone typed when the place could not be found on the map
    # (the kommun and an address, without the place search): handed to the
    # case system as the report's address.
    address = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)
    category = forms.CharField(label=_("Category"), required=True)
    title = forms.CharField(
        label=pgettext_lazy("report field", "Title"), max_length=120
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": 4000}),
    )
    photos = MultipleFileField(
        label=_("Photos"),
        required=False,
        help_text=_(
            "Up to 3 photos (JPEG, PNG, WebP or HEIC). Location data in photos is "
            "removed."
        ),
    )
    name = forms.CharField(label=_("Your name"), max_length=100)
    email = forms.EmailField(label=_("Your e-mail"))
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=30,
        required=False,
        validators=[RegexValidator(r"^[0-9 +()\-]{5,30}$", _("Enter a phone number."))],
    )
    show_name = forms.BooleanField(
        label=_("Show my name publicly"), required=False, initial=False
    )
    share_contact = forms.BooleanField(
        label=_(
            "The responsible body may contact me about this report "
            "(my name, e-mail and phone go with it)"
        ),
        required=False,
        initial=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Errors of the chosen category's extra questions, by input name.
        self.question_errors: dict[str, list[str]] = {}


class FollowForm(forms.Form):
    email = forms.EmailField(label=_("Your e-mail"))


class PlaceSearchForm(forms.Form):
    q = forms.CharField(label=_("Search for a place or address"), max_length=200)


class PlaceByAddressForm(forms.Form):
    """The place given another way when the place search cannot answer: the
    kommun, and the address or place as the reporter knows it."""

    kommun = forms.ModelChoiceField(
        label=_("Kommun"),
        queryset=Municipality.objects.filter(participating=True).order_by("name"),
        to_field_name="code",
        error_messages={"invalid_choice": _("Choose a kommun from the list.")},
    )
    adress = forms.CharField(
        label=_("Address or place"),
        max_length=200,
        help_text=_("For example “Storgatan 12” or “the playground in Slottsparken”."),
    )


class UpdateForm(forms.Form):
    """A citizen's update on a report (reports.updates): text, a photo, and
    from the reporter "it is fixed"."""

    text = forms.CharField(
        label=_("What has happened?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 2000}),
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/heic"}
        ),
        help_text=_("JPEG, PNG, WebP or HEIC. Location data in photos is removed."),
    )
    fixed = forms.BooleanField(label=_("It is fixed"), required=False)


class QuestionnaireForm(forms.Form):
    """ "Is it fixed?", answered by the reporter through the e-mailed link."""

    fixed = forms.TypedChoiceField(
        label=_("Has the problem been fixed?"),
        choices=QuestionnaireAnswer.choices,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Answer yes or no.")},
    )
    ask_again = forms.BooleanField(
        label=_("Ask me again in a few weeks"), required=False
    )


class AlertForm(forms.Form):
    """Asking for an alert of new reports (reports.alert_services): what to
    watch, where, and the address to tell. The checks of the place and the
    radius are the service's, shown at these fields."""

    kind = forms.ChoiceField(
        label=_("What to watch"),
        choices=AlertKind.choices,
        initial=AlertKind.AREA,
        widget=forms.RadioSelect,
    )
    adress = forms.CharField(
        label=_("Address or place"),
        max_length=200,
        required=False,
        help_text=_("Or give the point's coordinates below."),
    )
    lat = forms.CharField(label=_("Latitude"), required=False, max_length=30)
    lon = forms.CharField(label=_("Longitude"), required=False, max_length=30)
    radius = forms.CharField(
        label=_("Radius in metres"),
        initial="1000",
        max_length=12,
        # Checked by the service, which says what is allowed.
        required=False,
        help_text=_("From 100 m to 20 km (20000)."),
        widget=forms.NumberInput(attrs={"min": 100, "max": 20000}),
    )
    kommun = forms.ModelChoiceField(
        label=_("Kommun"),
        queryset=Municipality.objects.filter(participating=True).order_by("name"),
        to_field_name="code",
        required=False,
        error_messages={"invalid_choice": _("Choose a kommun from the list.")},
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True).order_by("sort_order", "name"),
        to_field_name="slug",
        required=False,
        error_messages={"invalid_choice": _("Choose a category from the list.")},
    )
    email = forms.EmailField(label=_("Your e-mail"))


class AlertPhoneForm(forms.Form):
    phone = forms.CharField(label=_("Mobile phone number"), max_length=30)


class AlertCodeForm(forms.Form):
    code = forms.CharField(label=_("Code from the SMS"), max_length=12)
