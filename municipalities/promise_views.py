"""The kommun's service promises and working days in the admin, kept by its
administrators (superusers: every kommun's).

"Service promises" (``ServicePromise``): the kommun's default promise (no
category) and a promise per category it offers. "Working days"
(``WorkCalendar``): which de facto days off the kommun keeps and its own extra
days off. Both are built from the scoped admin kit (municipalities.staff_admin):
fetched through municipalities.staff, audited by the kit's views.

A promise edited here changes no report already received (reports.milestones);
a calendar saved or deleted here changes when the kommun's open reports fall
due, through ``promises.calendar_changed`` in the same transaction.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.permissions import register_permission_policy

from .models import ServicePromise, WorkCalendar
from .promises import calendar_changed
from .routing import routes_at
from .staff import (
    SETUP_ROLES,
    staff_municipalities,
    staff_promise_category_choices,
    staff_service_promises,
    staff_work_calendars,
)
from .staff_admin import (
    ScopedCreateView,
    ScopedDeleteView,
    ScopedEditView,
    ScopedModelViewSet,
    setup_policy,
)
from .workdays import CalendarUnavailable, local_date, working_days

promise_policy = setup_policy(ServicePromise, staff_service_promises)
calendar_policy = setup_policy(WorkCalendar, staff_work_calendars)
register_permission_policy(ServicePromise, promise_policy)
register_permission_policy(WorkCalendar, calendar_policy)


def _kommuner_field(form) -> None:
    """Only the user's own participating kommuner to choose from; a single one
    starts chosen."""
    field = form.fields["municipality"]
    field.queryset = staff_municipalities(form.for_user, SETUP_ROLES).filter(
        participating=True
    )
    if form.instance.pk is None and "municipality" not in form.initial:
        only = list(field.queryset[:2])
        if len(only) == 1:
            form.initial["municipality"] = only[0].pk


# --- service promises ---------------------------------------------------------------


class ServicePromiseForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _kommuner_field(self)
        category = self.fields["category"]
        category.queryset = staff_promise_category_choices(
            self.for_user, SETUP_ROLES
        ).order_by("sort_order", "name")
        category.empty_label = _("Every other category (the kommun's default)")

    def clean(self):
        cleaned = super().clean()
        municipality = cleaned.get("municipality")
        category = cleaned.get("category")
        if municipality is None or "category" in self.errors:
            return cleaned
        if (
            category is not None
            and not routes_at(municipality).filter(category=category).exists()
        ):
            self.add_error(
                "category",
                _("%(kommun)s does not take reports in %(category)s.")
                % {"kommun": municipality.name, "category": category.name},
            )
            return cleaned
        taken = ServicePromise.objects.filter(
            municipality=municipality, category=category
        ).exclude(pk=self.instance.pk)
        if taken.exists():
            self.add_error(
                "category",
                _("%(kommun)s already has a default promise: change that one.")
                % {"kommun": municipality.name}
                if category is None
                else _("%(kommun)s already has a promise for %(category)s.")
                % {"kommun": municipality.name, "category": category.name},
            )
        return cleaned


def _category_label(promise: ServicePromise) -> str:
    if promise.category_id is None:
        return _("Every other category (the kommun's default)")
    return promise.category.name


class ServicePromiseViewSet(ScopedModelViewSet):
    """The kommun's service promises: a default and one per category."""

    model = ServicePromise
    name = "service-promises"
    icon = "time"
    menu_label = gettext_lazy("Service promises")
    menu_order = 212
    add_to_admin_menu = True
    list_display = [
        "municipality",
        Column(
            "category",
            label=gettext_lazy("Category"),
            accessor=_category_label,
        ),
        "response_days",
        "fix_days",
    ]
    ordering = ["municipality__name", "category__sort_order", "category__name"]
    list_select_related = ("municipality", "category")
    edit_handler = ObjectList(
        [
            FieldPanel("municipality"),
            FieldPanel("category"),
            FieldPanel("response_days"),
            FieldPanel("fix_days"),
        ],
        base_form_class=ServicePromiseForm,
    )


# --- working days ---------------------------------------------------------------------


class WorkCalendarForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _kommuner_field(self)
        self.fields["extra_days_off"].widget = forms.Textarea(attrs={"rows": 6})

    def clean(self):
        cleaned = super().clean()
        try:
            calendar = working_days(
                midsummer_eve_off=bool(cleaned.get("midsummer_eve_off")),
                christmas_eve_off=bool(cleaned.get("christmas_eve_off")),
                new_years_eve_off=bool(cleaned.get("new_years_eve_off")),
                extra_days_off=cleaned.get("extra_days_off") or "",
            )
        except ValidationError:
            # The model's own check says which line, at the field.
            return cleaned
        this_year = local_date(timezone.now()).year
        years = {this_year, this_year + 1} | {day.year for day in calendar.extra_off}
        try:
            for year in sorted(years):
                calendar.days_off(year)
        except CalendarUnavailable as error:
            raise ValidationError(
                _(
                    "The working days cannot be counted now, so nothing was "
                    "saved: %(error)s"
                )
                % {"error": error}
            ) from error
        return cleaned


class CalendarChangedMixin:
    """The kommun's open reports fall due anew, in the save's transaction."""

    def save_instance(self):
        with transaction.atomic():
            instance = super().save_instance()
            calendar_changed(municipality_id=instance.municipality_id)
        return instance


class WorkCalendarCreateView(CalendarChangedMixin, ScopedCreateView):
    pass


class WorkCalendarEditView(CalendarChangedMixin, ScopedEditView):
    pass


class WorkCalendarDeleteView(ScopedDeleteView):
    def delete_action(self):
        municipality_id = self.object.municipality_id
        with transaction.atomic():
            super().delete_action()
            calendar_changed(municipality_id=municipality_id)


def _field_label(name: str):
    return WorkCalendar._meta.get_field(name).verbose_name


def _extra_days(calendar: WorkCalendar) -> str:
    lines = [line for line in calendar.extra_days_off.splitlines() if line.strip()]
    return str(len(lines))


class WorkCalendarViewSet(ScopedModelViewSet):
    """The kommun's working days, counted by its service promises."""

    model = WorkCalendar
    name = "working-days"
    icon = "date"
    menu_label = gettext_lazy("Working days")
    menu_order = 213
    add_to_admin_menu = True
    add_view_class = WorkCalendarCreateView
    edit_view_class = WorkCalendarEditView
    delete_view_class = WorkCalendarDeleteView
    list_display = [
        "municipality",
        BooleanColumn("midsummer_eve_off", label=_field_label("midsummer_eve_off")),
        BooleanColumn("christmas_eve_off", label=_field_label("christmas_eve_off")),
        BooleanColumn("new_years_eve_off", label=_field_label("new_years_eve_off")),
        Column(
            "extra_days_off",
            label=gettext_lazy("Other days off"),
            accessor=_extra_days,
        ),
    ]
    ordering = ["municipality__name"]
    list_select_related = ("municipality",)
    edit_handler = ObjectList(
        [
            FieldPanel("municipality"),
            FieldPanel("midsummer_eve_off"),
            FieldPanel("christmas_eve_off"),
            FieldPanel("new_years_eve_off"),
            FieldPanel("extra_days_off"),
        ],
        base_form_class=WorkCalendarForm,
    )
