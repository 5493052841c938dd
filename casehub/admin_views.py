"""The case hub's admin screens: case-system connections (with the bodies and
routes of municipalities in one "Case systems" menu) and the deliveries to case
systems (the inbox where staff work reports is the workspace's).

A kommun's administrators set up their own kommun's connections; administrators,
case handlers and contact-centre agents see the deliveries of their kommun. Who sees what comes from municipalities.staff through the scoped admin
kit (municipalities.staff_admin).
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import (
    Case,
    IntegerField,
    QuerySet,
    Value,
    When,
)
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import BooleanColumn, Column, TitleColumn
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.widgets.button import Button

from municipalities.admin_views import (
    BodyViewSet,
    CategoryViewSet,
    QuestionViewSet,
    RouteViewSet,
    categories_for,
    restricted,
)
from municipalities.models import Connection
from municipalities.staff import (
    CASEWORK_ROLES,
    SETUP_ROLES,
    staff_bodies,
    staff_connections,
    staff_report_scope,
)
from municipalities.staff_admin import (
    MomentColumn,
    ReadOnlyScopedViewSet,
    ScopedActionView,
    ScopedEditView,
    ScopedIndexView,
    ScopedInspectView,
    ScopedModelViewSet,
    StaffScopePolicy,
    prefixed,
    setup_policy,
    short,
)

from .choices import DELIVERY_DUE_STATES, DeliveryKind, DeliveryState
from .models import Delivery
from .outbox import connection_retry_now, delivery_resend

# --- connections ---------------------------------------------------------------

# Before any viewset asks the registry, or it would settle on a fallback policy.
connection_policy = setup_policy(Connection, staff_connections)


class ConnectionForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        if not restricted(user):
            return
        self.fields["body"].queryset = staff_bodies(user, SETUP_ROLES)
        # The variable names the process's secrets: the operator, who sets them,
        # chooses it, so no kommun can point its connection at another's secret.
        self.fields["secret_env"].disabled = True
        self.fields["secret_env"].help_text = _(
            "Set by the platform's operator, who holds the secret."
        )
        services = self.formsets.get("services")
        if services is not None:
            categories = categories_for(user)

            class ScopedServiceForm(services.form):
                def __init__(self, *args, **kwargs):
                    super().__init__(*args, **kwargs)
                    self.fields["category"].queryset = categories

            services.form = ScopedServiceForm


class ConnectionRetryView(ScopedActionView):
    model = Connection
    permission_required = "change"
    index_url_name = "connections:index"
    header_icon = "rotate"
    page_title = gettext_lazy("Try again now")
    confirmation_message = gettext_lazy(
        "Close this connection's circuit, so that its waiting deliveries are "
        "tried again now rather than after the pause?"
    )
    submit_label = gettext_lazy("Try again now")

    def perform(self) -> str:
        connection_retry_now(connection_id=self.object.pk, actor=self.request.user)
        return _("Deliveries to %(connection)s are being tried again.") % {
            "connection": self.object
        }


def _retry_url(connection: Connection) -> str:
    return reverse("connections:retry", args=[connection.pk])


class ConnectionIndexView(ScopedIndexView):
    @cached_property
    def columns(self):
        title_column = self._get_title_column_class(TitleColumn)
        return [
            title_column(
                "name",
                label=_("Name"),
                get_url=self.get_edit_url,
                sort_key="name",
            ),
            Column("body", label=_("Body"), sort_key="body__name"),
            Column("kind", label=_("Kind"), accessor="get_kind_display"),
            BooleanColumn("is_active", label=_("Active"), sort_key="is_active"),
            Column(
                "consecutive_failures",
                label=_("Failures in a row"),
                sort_key="consecutive_failures",
            ),
            MomentColumn(
                "circuit_open_until",
                label=_("Paused until"),
                sort_key="circuit_open_until",
            ),
            MomentColumn(
                "last_success_at", label=_("Last success"), sort_key="last_success_at"
            ),
            Column(
                "last_error",
                label=_("Last error"),
                accessor=lambda c: short(c.last_error),
            ),
        ]

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if self.user_has_permission("change"):
            buttons.append(
                MenuItem(
                    _("Try again now"),
                    url=_retry_url(instance),
                    icon_name="rotate",
                    priority=40,
                )
            )
        return buttons


class ConnectionEditView(ScopedEditView):
    @cached_property
    def header_more_buttons(self):
        return [
            *super().header_more_buttons,
            Button(
                _("Try again now"),
                url=_retry_url(self.object),
                icon_name="rotate",
                priority=30,
            ),
        ]


class ConnectionViewSet(ScopedModelViewSet):
    model = Connection
    name = "connections"
    icon = "link"
    menu_label = gettext_lazy("Connections")
    index_view_class = ConnectionIndexView
    edit_view_class = ConnectionEditView
    list_select_related = ("body",)
    ordering = ["body__name", "name"]
    # The model's panels, with the inline "Open311 service codes".
    edit_handler = ObjectList(Connection.panels, base_form_class=ConnectionForm)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path(
                "retry/<int:pk>/",
                self.construct_view(ConnectionRetryView),
                name="retry",
            ),
        ]


class CaseSystemsGroup(ViewSetGroup):
    menu_label = gettext_lazy("Case systems")
    menu_icon = "cogs"
    menu_order = 220
    items = (
        BodyViewSet,
        CategoryViewSet,
        QuestionViewSet,
        RouteViewSet,
        ConnectionViewSet,
    )


# --- deliveries ------------------------------------------------------------------

RESENDABLE_STATES = (DeliveryState.FAILED, DeliveryState.DEAD)
# The listing shows what needs a person first.
DELIVERY_URGENCY = Case(
    When(state=DeliveryState.DEAD, then=Value(0)),
    When(state=DeliveryState.FAILED, then=Value(1)),
    When(state=DeliveryState.SENDING, then=Value(2)),
    When(state=DeliveryState.PENDING, then=Value(3)),
    default=Value(4),
    output_field=IntegerField(),
)


def casework_deliveries(user, roles) -> QuerySet[Delivery]:
    return Delivery.objects.filter(
        prefixed(staff_report_scope(user, roles), "report__")
    )


delivery_policy = StaffScopePolicy(
    Delivery,
    scope=casework_deliveries,
    roles=CASEWORK_ROLES,
    actions={"view", "resend"},
)


class DeliveryFilterSet(WagtailFilterSet):
    state = django_filters.MultipleChoiceFilter(
        label=gettext_lazy("State"),
        choices=DeliveryState.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    kind = django_filters.MultipleChoiceFilter(
        label=gettext_lazy("Kind"),
        choices=DeliveryKind.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Delivery
        fields = ["state", "kind"]


class DeliveryIndexView(ScopedIndexView):
    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .annotate(urgency=DELIVERY_URGENCY)
            .order_by("urgency", "-created_at")
        )

    @cached_property
    def columns(self):
        title_column = self._get_title_column_class(TitleColumn)
        return [
            title_column(
                "report",
                label=_("Report"),
                accessor=lambda d: f"#{d.report_id}",
                get_url=self.get_inspect_url,
                sort_key="report_id",
            ),
            Column(
                "kind", label=_("Kind"), accessor="get_kind_display", sort_key="kind"
            ),
            Column("connection", label=_("Connection"), sort_key="connection__name"),
            Column(
                "state",
                label=_("State"),
                accessor="get_state_display",
                sort_key="state",
            ),
            Column("attempts", label=_("Attempts"), sort_key="attempts"),
            MomentColumn(
                "next_attempt_at",
                label=_("Next attempt"),
                accessor=lambda d: (
                    d.next_attempt_at if d.state in DELIVERY_DUE_STATES else None
                ),
                sort_key="next_attempt_at",
            ),
            Column("external_id", label=_("External id")),
            Column(
                "last_error",
                label=_("Last error"),
                accessor=lambda d: short(d.last_error),
            ),
        ]

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.state in RESENDABLE_STATES and self.user_has_permission("resend"):
            buttons.append(
                MenuItem(
                    _("Resend"),
                    url=reverse("deliveries:resend", args=[instance.pk]),
                    icon_name="redirect",
                    priority=40,
                )
            )
        return buttons


class DeliveryDetailView(ScopedInspectView):
    template_name = "casehub/admin/delivery_detail.html"
    page_title = gettext_lazy("Delivery")
    index_label = gettext_lazy("Deliveries")

    def get_fields(self):
        # Not the key, lease or the case system's token: nothing staff act on.
        return [
            "report",
            "kind",
            "event",
            "connection",
            "state",
            "attempts",
            "queued_at",
            "next_attempt_at",
            "delivered_at",
            "external_id",
            "last_http_status",
            "last_error",
        ]

    def get_scope(self):
        return super().get_scope().select_related("report", "connection__body", "event")

    def get_page_subtitle(self):
        return str(self.object)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["attempt_log"] = self.object.attempt_log.all()[:100]
        context["can_resend"] = self.object.state in RESENDABLE_STATES and (
            self.user_has_permission("resend")
        )
        context["resend_url"] = reverse("deliveries:resend", args=[self.object.pk])
        return context


class DeliveryResendView(ScopedActionView):
    model = Delivery
    permission_required = "resend"
    index_url_name = "deliveries:index"
    back_url_name = "deliveries:inspect"
    header_icon = "redirect"
    page_title = gettext_lazy("Resend")
    confirmation_message = gettext_lazy(
        "Send this report to the case system again now? It goes with the same "
        "key, so a case that did arrive is not opened twice."
    )
    submit_label = gettext_lazy("Resend")

    def get_base_object_queryset(self):
        return super().get_base_object_queryset().filter(state__in=RESENDABLE_STATES)

    def perform(self) -> str:
        delivery_resend(delivery_id=self.object.pk, actor=self.request.user)
        return _("Report #%(report)s will be sent again shortly.") % {
            "report": self.object.report_id
        }


class DeliveryViewSet(ReadOnlyScopedViewSet):
    model = Delivery
    name = "deliveries"
    icon = "mail"
    menu_label = gettext_lazy("Deliveries")
    menu_order = 210
    add_to_admin_menu = True
    index_view_class = DeliveryIndexView
    inspect_view_class = DeliveryDetailView
    list_select_related = ("connection__body",)
    filterset_class = DeliveryFilterSet
    list_per_page = 50

    def get_extra_urlpatterns(self):
        return [
            path(
                "<int:pk>/resend/",
                self.construct_view(DeliveryResendView),
                name="resend",
            )
        ]
