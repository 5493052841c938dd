"""The screen of a kommun's operational messages (driftmeddelanden), "Drift-
meddelanden": its administrators, editors and case handlers publish them
(``MESSAGE_ROLES``); municipalities.notices says where citizens see them."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn
from wagtail.permissions import register_permission_policy

from .models import District, OperationalMessage
from .staff import (
    MESSAGE_ROLES,
    staff_municipalities,
    staff_operational_messages,
    staff_promise_category_choices,
)
from .staff_admin import (
    SETUP_ACTIONS,
    MomentColumn,
    ScopedModelViewSet,
    StaffScopePolicy,
)

message_policy = StaffScopePolicy(
    OperationalMessage,
    scope=staff_operational_messages,
    roles=MESSAGE_ROLES,
    actions=SETUP_ACTIONS,
)
register_permission_policy(OperationalMessage, message_policy)


class OperationalMessageForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kommuner = staff_municipalities(self.for_user, MESSAGE_ROLES)
        self.fields["municipality"].queryset = kommuner
        only = list(kommuner[:2])
        if self.instance.pk is None and len(only) == 1:
            self.initial.setdefault("municipality", only[0].pk)
        self.fields["district"].queryset = District.objects.filter(
            municipality__in=kommuner
        )
        self.fields["categories"].queryset = staff_promise_category_choices(
            self.for_user, MESSAGE_ROLES
        ).order_by("sort_order", "name")
        self.fields["categories"].widget = forms.CheckboxSelectMultiple(
            choices=self.fields["categories"].choices
        )
        if self.instance.pk is None:
            self.initial.setdefault("starts_at", timezone.now())

    def clean(self):
        cleaned = super().clean()
        district, municipality = cleaned.get("district"), cleaned.get("municipality")
        if district and municipality and district.municipality_id != municipality.pk:
            self.add_error(
                "district",
                gettext_lazy("Choose a district of the message's kommun."),
            )
        return cleaned


class OperationalMessageViewSet(ScopedModelViewSet):
    model = OperationalMessage
    name = "operational-messages"
    icon = "warning"
    menu_label = gettext_lazy("Operational messages")
    menu_order = 213
    add_to_admin_menu = True
    list_display = [
        "title",
        "municipality",
        MomentColumn("starts_at", label=gettext_lazy("shown from")),
        MomentColumn("ends_at", label=gettext_lazy("shown until")),
        BooleanColumn("mark_known", label=gettext_lazy("known problem")),
    ]
    list_select_related = ("municipality",)
    edit_handler = ObjectList(
        [
            FieldPanel("municipality"),
            FieldPanel("title"),
            FieldPanel("text"),
            FieldPanel("starts_at"),
            FieldPanel("ends_at"),
            FieldPanel("categories"),
            FieldPanel("district"),
            FieldPanel("mark_known"),
        ],
        base_form_class=OperationalMessageForm,
    )
