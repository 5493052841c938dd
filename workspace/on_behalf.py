"""Filing a report on behalf of someone who phoned or came by: the contact
centre's form in the staff workspace.

The caller is the report's reporter (name, e-mail, phone, consent to share
them with the body); the member of staff is recorded only as the one who filed
it (the report's first event and the audit log), never in the reporter's
fields. The report goes through ``reports.services.report_submit`` like any
other: confirmed at once, routed by its point and handed to the case hub.
Who may file, and where: ``municipalities.staff.staff_filing_municipalities``.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import RegexValidator
from django.db import transaction
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.generic import FormView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from municipalities.audit import audit_record
from municipalities.locate import (
    SWEDEN_BOUNDS,
    municipality_bounds,
    municipality_for_point,
    parse_point,
)
from municipalities.models import Category, Route
from municipalities.staff import staff_filing_municipalities
from reports.choices import ON_BEHALF_CHANNELS, ReportChannel
from reports.geocoding import GeocoderUnavailable, places_search
from reports.photos import PhotoErrors, process_photos
from reports.services import Reporter, answers_clean, report_submit

URL_NAME = "workspace_report_on_behalf"


def filing_categories(user):
    """The active categories routed in the kommuner where the user files
    reports (and nationwide ones), by name."""
    routed = Route.objects.filter(
        Q(municipality__in=staff_filing_municipalities(user))
        | Q(municipality__isnull=True)
    ).values("category")
    return (
        Category.objects.filter(pk__in=routed, is_active=True)
        .prefetch_related("questions")
        .order_by("sort_order", "name")
    )


def question_key(category: Category, code: str) -> str:
    return f"q_{category.slug}_{code}"


class OnBehalfForm(forms.Form):
    address = forms.CharField(
        label=gettext_lazy("Address or place"),
        max_length=200,
        required=False,
        help_text=gettext_lazy(
            "Searched for in the kommun; or give the coordinates below instead."
        ),
    )
    lat = forms.CharField(
        label=gettext_lazy("Latitude"),
        required=False,
        help_text=gettext_lazy("For example 55.6050"),
    )
    lon = forms.CharField(
        label=gettext_lazy("Longitude"),
        required=False,
        help_text=gettext_lazy("For example 13.0038"),
    )
    category = forms.ChoiceField(label=gettext_lazy("Category"))
    title = forms.CharField(
        label=pgettext_lazy("report field", "Title"), max_length=120
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": 4000}),
    )
    photo = forms.FileField(
        label=gettext_lazy("Photo (optional)"),
        required=False,
        help_text=gettext_lazy("JPEG, PNG, WebP or HEIC."),
    )
    caller_name = forms.CharField(label=gettext_lazy("Caller's name"), max_length=100)
    caller_email = forms.EmailField(
        label=gettext_lazy("Caller's e-mail"),
        required=False,
        help_text=gettext_lazy(
            "They get word that the report was received, and its updates."
        ),
    )
    caller_phone = forms.CharField(
        label=gettext_lazy("Caller's phone"),
        max_length=30,
        required=False,
        validators=[
            RegexValidator(
                r"^[0-9 +()\-]{5,30}$", gettext_lazy("Enter a phone number.")
            )
        ],
    )
    share_contact = forms.BooleanField(
        label=gettext_lazy(
            "The caller agrees that the responsible body may contact them "
            "(name, e-mail and phone go with the report)"
        ),
        required=False,
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Reported by"),
        choices=[(c.value, c.label) for c in ON_BEHALF_CHANNELS],
        initial=ReportChannel.PHONE,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.categories = {c.slug: c for c in filing_categories(user)}
        self.fields["category"].choices = [("", "---------")] + [
            (c.slug, c.name) for c in self.categories.values()
        ]
        # The extra questions of every category (only the chosen category's
        # answers count), labelled with their category.
        kommuner = [m.pk for m in staff_filing_municipalities(user)]
        for category in self.categories.values():
            asked = category.questions.filter(
                Q(municipality__isnull=True) | Q(municipality__in=kommuner)
            )
            for question in asked:
                self.fields[question_key(category, question.code)] = _question_field(
                    category, question
                )

    def clean(self):
        data = super().clean()
        if not (data.get("caller_email") or data.get("caller_phone")):
            if "caller_email" not in self.errors:
                self.add_error(
                    "caller_email", _("Give the caller's e-mail or phone number.")
                )
        has_point = bool(
            (data.get("lat") or "").strip() or (data.get("lon") or "").strip()
        )
        if has_point:
            try:
                parse_point(data.get("lat"), data.get("lon"))
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        if field in ("lat", "lon") and field not in self.errors:
                            self.add_error(field, error)
        elif not (data.get("address") or "").strip():
            self.add_error(
                "address", _("Give an address or place, or the coordinates.")
            )
        return data

    def answers(self, category: Category, municipality_id: int | None) -> dict:
        return {
            question.code: self.cleaned_data.get(question_key(category, question.code))
            or ("" if question.kind != "multiple" else [])
            for question in category.questions_for(municipality_id)
        }


def _question_field(category: Category, question) -> forms.Field:
    label = f"{category.name}: {question.label}"
    common = {"label": label, "required": False}
    if question.kind == "single":
        return forms.ChoiceField(
            choices=[("", "---------"), *((c, c) for c in question.choices)], **common
        )
    if question.kind == "multiple":
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in question.choices],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    return forms.CharField(max_length=1000, **common)


class OnBehalfView(WagtailAdminTemplateMixin, FormView):
    """The form, for contact-centre agents and kommun administrators."""

    template_name = "workspace/admin/on_behalf.html"
    form_class = OnBehalfForm
    page_title = gettext_lazy("New report for a caller")
    header_icon = "plus"

    def dispatch(self, request, *args, **kwargs):
        if not staff_filing_municipalities(request.user).exists():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            action_url=reverse(URL_NAME),
            submit_button_label=_("File the report"),
            map_bounds=self.map_bounds(),
            **kwargs,
        )

    def map_bounds(self) -> tuple[float, float, float, float]:
        """The agent's kommun on the map (with several: all of Sweden)."""
        kommuner = list(staff_filing_municipalities(self.request.user)[:2])
        if len(kommuner) == 1:
            bounds = municipality_bounds(kommuner[0].code)
            if bounds:
                return bounds
        return SWEDEN_BOUNDS

    def get_breadcrumbs_items(self):
        return [
            *super().get_breadcrumbs_items(),
            {"url": reverse("inbox:index"), "label": _("Inbox")},
            {"url": "", "label": self.page_title},
        ]

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response

    def form_valid(self, form):
        report = self.file(form)
        if report is None:
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Report #%(number)s filed for %(caller)s.")
            % {"number": report.pk, "caller": report.name},
        )
        return redirect("inbox:inspect", report.pk)

    def file(self, form: OnBehalfForm):
        """Find the point, check the answers and photo, and submit; errors go
        onto the form at their field."""
        data = form.cleaned_data
        point = self.point(form)
        category = form.categories.get(data["category"])
        photos = []
        if data.get("photo"):
            try:
                photos = process_photos([(data["photo"], data["photo"].name)])
            except PhotoErrors as exc:
                for message in exc.messages:
                    form.add_error("photo", message)
        kommun = municipality_of_point(*point) if point is not None else None
        municipality_id = kommun.pk if kommun is not None else None
        answers = form.answers(category, municipality_id)
        try:
            answers_clean(
                category=category, municipality_id=municipality_id, raw=answers
            )
        except ValidationError as exc:
            _errors_to_form(form, category, exc, point_field="lat")
        if point is None or form.errors:
            return None
        user = self.request.user
        try:
            with transaction.atomic():
                report = report_submit(
                    lat=point[0],
                    lon=point[1],
                    category=category,
                    title=data["title"],
                    description=data["description"],
                    reporter=Reporter(
                        name=data["caller_name"],
                        email=data["caller_email"],
                        phone=data["caller_phone"],
                        share_contact=data["share_contact"],
                    ),
                    photos=photos,
                    answers=answers,
                    site_id=report_site_id(point),
                    channel=data["channel"],
                    filed_by=user,
                    # The address the caller gave, when the place was found by it.
                    address=data.get("address", "") if not data.get("lat") else "",
                )
                audit_record(
                    actor=user,
                    action="report.file_on_behalf",
                    target=report,
                    municipality=report.municipality,
                    after={"channel": report.channel, "category": category.slug},
                )
        except ValidationError as exc:
            place_field = "lat" if (data.get("lat") or "").strip() else "address"
            _errors_to_form(form, category, exc, point_field=place_field)
            return None
        return report

    def point(self, form: OnBehalfForm) -> tuple[float, float] | None:
        data = form.cleaned_data
        if (data.get("lat") or "").strip() or (data.get("lon") or "").strip():
            try:
                return parse_point(data.get("lat"), data.get("lon"))
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(
                            field if field in ("lat", "lon") else None, error
                        )
                return None
        address = (data.get("address") or "").strip()
        if not address:
            return None
        kommuner = set(staff_filing_municipalities(self.request.user))
        if len(kommuner) == 1:
            (kommun,) = kommuner
            if kommun.name.lower() not in address.lower():
                address = f"{address}, {kommun.name}"  # searched in the kommun
        try:
            places = places_search(address)
        except GeocoderUnavailable:
            form.add_error(
                "address",
                _("Place search is unavailable right now. Give the coordinates."),
            )
            return None
        for place in places:
            if municipality_of_point(place.lat, place.lon) in kommuner:
                return place.lat, place.lon
        form.add_error(
            "address",
            _("No place of that name was found in your kommun. Give the coordinates."),
        )
        return None


def municipality_of_point(lat: float, lon: float):
    return municipality_for_point(lat=lat, lon=lon).municipality


def report_site_id(point) -> int | None:
    municipality = municipality_of_point(*point)
    return municipality.site_id if municipality is not None else None


def _errors_to_form(form, category, exc: ValidationError, *, point_field: str):
    """A service's errors at their fields: the category's questions at theirs,
    the place at the field it came from."""
    codes = set(category.questions.values_list("code", flat=True))
    for field, errors in exc.message_dict.items():
        if field in codes:
            target = question_key(category, field)
        elif field == "location":
            target = point_field
        elif field in form.fields:
            target = field
        else:
            target = None
        for error in errors:
            form.add_error(target, error)


def on_behalf_urls():
    return [path("inbox/new/", OnBehalfView.as_view(), name=URL_NAME)]
