"""Staff screens in the Wagtail admin: the role-based permission policy and the
scoped generic views shared by the case-system set-up (municipalities) and the
casework screens here (deliveries, the inbox of in-platform bodies).

Staff of a kommun hold no Django model permissions; what they may see and change
follows from their roles, through municipalities.staff alone. Every view below
fetches its objects through the policy's scope, so an object of another kommun is
a 404 whatever the URL, and each action is checked against the policy as well.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import django_filters
from django import forms
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    ProtectedError,
    Q,
    QuerySet,
    RestrictedError,
    Value,
    When,
)
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import BaseObjectMixin, WagtailAdminTemplateMixin
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import BasePermissionPolicy

from municipalities.choices import ConnectionKind
from municipalities.models import StaffMembership
from municipalities.staff import (
    CASEWORK_ROLES,
    staff_municipalities,
    staff_report_scope,
)

from .choices import DELIVERY_DUE_STATES, DeliveryState, ReportStatus
from .delivery import delivery_resend
from .models import Delivery, Report
from .services import report_transition

Scope = Callable[..., QuerySet]


def prefixed(q: Q, prefix: str) -> Q:
    """The same filter applied through a relation: ``prefixed(Q(a=1), "report__")``
    is ``Q(report__a=1)``."""
    children = [
        prefixed(child, prefix)
        if isinstance(child, Q)
        else (f"{prefix}{child[0]}", child[1])
        for child in q.children
    ]
    return Q(*children, _connector=q.connector, _negated=q.negated)


class StaffScopePolicy(BasePermissionPolicy):
    """Grants ``actions`` on the objects ``scope(user, roles)`` returns to the
    holders of one of ``roles`` in some kommun, and everything in scope (which is
    everything) to superusers. Django model permissions play no part."""

    def __init__(self, model, *, scope: Scope, roles: Iterable, actions: Iterable[str]):
        super().__init__(model)
        self.scope = scope
        self.roles = tuple(roles)
        self.actions = frozenset(actions)
        self.permission_cache_name = f"_staff_scope_cache_{model._meta.label_lower}"

    def get_all_permissions_for_user(self, user) -> frozenset[str]:
        if user is None or not user.is_authenticated or not user.is_active:
            return frozenset()
        if user.is_superuser or staff_municipalities(user, self.roles).exists():
            return self.actions
        return frozenset()

    def user_has_permission(self, user, action) -> bool:
        return action in self.get_cached_permissions_for_user(user)

    def user_has_permission_for_instance(self, user, action, instance) -> bool:
        return (
            instance is not None
            and instance.pk is not None
            and self.user_has_permission(user, action)
            and self.scope(user, self.roles).filter(pk=instance.pk).exists()
        )

    def instances_user_has_any_permission_for(self, user, actions) -> QuerySet:
        if not self.user_has_any_permission(user, actions):
            return self.model._default_manager.none()
        return self.scope(user, self.roles)

    def users_with_any_permission(self, actions):
        users = get_user_model().objects.filter(is_active=True)
        if not self.actions.intersection(actions):
            return users.none()
        members = StaffMembership.objects.filter(role__in=self.roles)
        return users.filter(
            Q(is_superuser=True) | Q(pk__in=members.values("user_id"))
        ).distinct()


# --- scoped generic views ------------------------------------------------------


class ScopedIndexView(generic.IndexView):
    list_select_related: tuple[str, ...] = ()
    list_prefetch_related: tuple[str, ...] = ()

    def get_base_queryset(self):
        queryset = self.permission_policy.instances_user_has_any_permission_for(
            self.request.user, self.any_permission_required
        )
        if self.list_select_related:
            queryset = queryset.select_related(*self.list_select_related)
        if self.list_prefetch_related:
            queryset = queryset.prefetch_related(*self.list_prefetch_related)
        return queryset


class ScopedEditView(generic.EditView):
    def get_queryset(self):
        return self.permission_policy.instances_user_has_permission_for(
            self.request.user, "change"
        )


class ScopedDeleteView(generic.DeleteView):
    def get_queryset(self):
        return self.permission_policy.instances_user_has_permission_for(
            self.request.user, "delete"
        )

    def form_valid(self, form):
        try:
            with transaction.atomic():
                return super().form_valid(form)
        except (ProtectedError, RestrictedError):
            messages.error(
                self.request,
                _("%(object)s is still in use and cannot be deleted.")
                % {"object": self.object},
            )
            return HttpResponseRedirect(reverse(self.index_url_name))


class ScopedHistoryView(HistoryView):
    def get_base_object_queryset(self):
        return self.permission_policy.instances_user_has_any_permission_for(
            self.request.user, self.any_permission_required
        )


class ScopedUsageView(UsageView):
    def get_base_object_queryset(self):
        return self.permission_policy.instances_user_has_permission_for(
            self.request.user, self.permission_required
        )


class ScopedActionView(
    PermissionCheckedMixin, WagtailAdminTemplateMixin, BaseObjectMixin, TemplateView
):
    """One operation on one object: GET asks for confirmation, POST (with the CSRF
    token) performs it. The object comes from the policy's scope for the action."""

    model = None
    permission_required = "change"
    index_url_name = None
    back_url_name = None
    template_name = "reports/admin/confirm_action.html"
    header_icon = ""
    page_title = ""
    confirmation_message = ""
    submit_label = gettext_lazy("Confirm")

    def get_base_object_queryset(self):
        return self.permission_policy.instances_user_has_permission_for(
            self.request.user, self.permission_required
        )

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        items = []
        if self.index_url_name:
            items.append(
                {
                    "url": reverse(self.index_url_name),
                    "label": capfirst(self.model._meta.verbose_name_plural),
                }
            )
        items.append(
            {"url": "", "label": self.get_page_title(), "sublabel": str(self.object)}
        )
        return self.breadcrumbs_items + items

    def get_success_url(self) -> str:
        if next_url := get_valid_next_url_from_request(self.request):
            return next_url
        if self.back_url_name:
            return reverse(self.back_url_name, args=[quote(self.object.pk)])
        return reverse(self.index_url_name)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            object=self.object,
            confirmation_message=self.confirmation_message,
            submit_label=self.submit_label,
            cancel_url=self.get_success_url(),
            next=get_valid_next_url_from_request(self.request),
        )
        return context

    def perform(self) -> str:
        """Do the operation; return the success message."""
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        messages.success(request, self.perform())
        return redirect(self.get_success_url())


class ScopedModelViewSet(ModelViewSet):
    """A model viewset whose every view goes through the model's registered
    StaffScopePolicy."""

    index_view_class = ScopedIndexView
    edit_view_class = ScopedEditView
    delete_view_class = ScopedDeleteView
    history_view_class = ScopedHistoryView
    usage_view_class = ScopedUsageView
    copy_view_enabled = False
    inspect_view_enabled = False
    # Not in Wagtail's reference index: the outbox saves connections often, and
    # deleting what is still in use is refused by the database's PROTECT anyway.
    add_to_reference_index = False
    list_select_related: tuple[str, ...] = ()
    list_prefetch_related: tuple[str, ...] = ()

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            list_select_related=self.list_select_related,
            list_prefetch_related=self.list_prefetch_related,
            **kwargs,
        )


class ReadOnlyScopedViewSet(ScopedModelViewSet):
    """A listing with a detail page (the "inspect" view) and extra operations;
    no add, edit or delete URLs at all."""

    inspect_view_enabled = True

    def get_common_view_kwargs(self, **kwargs):
        view_kwargs = super().get_common_view_kwargs(**kwargs)
        for name in (
            "add_url_name",
            "edit_url_name",
            "delete_url_name",
            "history_url_name",
            "usage_url_name",
        ):
            view_kwargs[name] = None
        return view_kwargs

    def register_admin_url_finder(self):
        pass

    def get_extra_urlpatterns(self) -> list:
        return []

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("<int:pk>/", self.inspect_view, name="inspect"),
            *self.get_extra_urlpatterns(),
        ]


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


def short(text: str, length: int = 80) -> str:
    return Truncator(text).chars(length)


class DeliveryFilterSet(WagtailFilterSet):
    state = django_filters.MultipleChoiceFilter(
        label=gettext_lazy("State"),
        choices=DeliveryState.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Delivery
        fields = ["state"]


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
            Column("connection", label=_("Connection"), sort_key="connection__name"),
            Column(
                "state",
                label=_("State"),
                accessor="get_state_display",
                sort_key="state",
            ),
            Column("attempts", label=_("Attempts"), sort_key="attempts"),
            DateColumn(
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


class ScopedInspectView(generic.InspectView):
    """A detail page; the object comes from the policy's scope for "view"."""

    page_title = gettext_lazy("Details")
    index_label = ""

    def get_scope(self):
        return self.permission_policy.instances_user_has_permission_for(
            self.request.user, "view"
        )

    def get_object(self, queryset=None):
        return get_object_or_404(self.get_scope(), pk=self.pk)

    def get_breadcrumbs_items(self):
        items = super().get_breadcrumbs_items()
        if self.index_label and self.index_url_name:
            items[len(self.breadcrumbs_items)]["label"] = self.index_label
        return items

    def get_field_display_value(self, field_name, field):
        value = super().get_field_display_value(field_name, field)
        return "–" if value is None or value == "" else value


class DeliveryDetailView(ScopedInspectView):
    template_name = "reports/admin/delivery_detail.html"
    page_title = gettext_lazy("Delivery")
    index_label = gettext_lazy("Deliveries")

    def get_fields(self):
        # Not the key, lease or the case system's token: nothing staff act on.
        return [
            "report",
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
        return super().get_scope().select_related("report", "connection__body")

    def get_page_subtitle(self):
        return _("Report #%(report)s to %(connection)s") % {
            "report": self.object.report_id,
            "connection": self.object.connection,
        }

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
        delivery_resend(delivery_id=self.object.pk)
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


# --- the inbox of in-platform bodies -------------------------------------------

STAFF_STATUS_CHOICES = [
    (value, label)
    for value, label in ReportStatus.choices
    if value != ReportStatus.UNCONFIRMED
]


def inbox_reports(user, roles) -> QuerySet[Report]:
    """Confirmed reports of the user's kommuner that went to Knutpunkt's own
    inbox (the body works them here, not in a case system of its own)."""
    to_inbox = Delivery.objects.filter(
        report=OuterRef("pk"), connection__kind=ConnectionKind.INBOX
    )
    return (
        Report.objects.filter(staff_report_scope(user, roles))
        .exclude(status=ReportStatus.UNCONFIRMED)
        .filter(Exists(to_inbox))
    )


report_policy = StaffScopePolicy(
    Report,
    scope=inbox_reports,
    roles=CASEWORK_ROLES,
    actions={"view", "change_status"},
)


class InboxFilterSet(WagtailFilterSet):
    status = django_filters.MultipleChoiceFilter(
        label=gettext_lazy("Status"),
        choices=STAFF_STATUS_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Report
        fields = ["status"]


class InboxIndexView(ScopedIndexView):
    page_title = gettext_lazy("Inbox")

    def get_base_queryset(self):
        return super().get_base_queryset().order_by("-created_at")

    @cached_property
    def columns(self):
        # No reporter's name, e-mail or phone here: the detail page shows them,
        # and only with the reporter's consent.
        title_column = self._get_title_column_class(TitleColumn)
        return [
            title_column(
                "title",
                label=_("Report"),
                accessor=lambda r: f"#{r.pk} {r.title}",
                get_url=self.get_inspect_url,
                sort_key="pk",
            ),
            Column("category", label=_("Category"), sort_key="category__name"),
            Column("municipality", label=_("Municipality")),
            Column("body", label=_("Body")),
            Column(
                "status",
                label=_("Status"),
                accessor="get_status_display",
                sort_key="status",
            ),
            DateColumn("created_at", label=_("Reported"), sort_key="created_at"),
        ]


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=STAFF_STATUS_CHOICES
    )
    note = forms.CharField(
        label=gettext_lazy("Public note"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Shown on the report's public page."),
    )


class InboxReportView(ScopedInspectView):
    """A report of the inbox with its timeline, and the form that changes its
    status through reports.services.report_transition."""

    template_name = "reports/admin/inbox_report.html"
    page_title = gettext_lazy("Report")
    index_label = gettext_lazy("Inbox")

    def get_fields(self):
        # The reporter's name and contact details are shown apart, with consent.
        return [
            "category",
            "municipality",
            "body",
            "status",
            "created_at",
            "confirmed_at",
            "lat",
            "lon",
        ]

    def get_scope(self):
        return super().get_scope().select_related("category", "municipality", "body")

    def get_page_subtitle(self):
        return f"#{self.object.pk} {self.object.title}"

    @cached_property
    def can_change_status(self) -> bool:
        return self.permission_policy.user_has_permission_for_instance(
            self.request.user, "change_status", self.object
        )

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        report = self.object
        context.update(
            report=report,
            events=report.events.all(),
            photos=report.photos.all(),
            deliveries=report.deliveries.select_related("connection__body"),
            show_contact=report.share_contact,
            can_change_status=self.can_change_status,
            form=form or StatusForm(initial={"status": report.status}),
        )
        return context

    def post(self, request, *args, **kwargs):
        if not self.can_change_status:
            raise PermissionDenied
        form = StatusForm(request.POST)
        if form.is_valid():
            try:
                event = report_transition(
                    report_id=self.object.pk,
                    status=ReportStatus(form.cleaned_data["status"]),
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                if event is None:
                    messages.warning(request, _("Nothing changed."))
                else:
                    messages.success(request, _("The report was updated."))
                return redirect("inbox:inspect", self.object.pk)
        return self.render_to_response(self.get_context_data(form=form))


class InboxViewSet(ReadOnlyScopedViewSet):
    model = Report
    name = "inbox"
    icon = "tasks"
    menu_label = gettext_lazy("Inbox")
    menu_order = 200
    add_to_admin_menu = True
    index_view_class = InboxIndexView
    inspect_view_class = InboxReportView
    list_select_related = ("category", "municipality", "body")
    filterset_class = InboxFilterSet
    list_per_page = 50
