"""The scoped admin kit: a permission policy that follows staff roles, and the
Wagtail generic views and viewsets that fetch every object through it.

Staff of a kommun hold no Django model permissions; what they may see and change
follows from their roles, through municipalities.staff alone. Every view below
fetches its objects through the policy's scope, so an object of another kommun is
a 404 whatever the URL, and each action is checked against the policy as well.
The case-system set-up (bodies, routes here; connections in the case hub) and the
casework screens (deliveries, the inbox) are built from these.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    ProtectedError,
    Q,
    QuerySet,
    RestrictedError,
)
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.ui.tables import Column
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import BaseObjectMixin, WagtailAdminTemplateMixin
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import BasePermissionPolicy

from infra.forms import errors_to_form
from infra.moments import moment_format

from .audit import audit_changes, audit_kommun_of, audit_record, audit_snapshot
from .models import StaffMembership
from .staff import SETUP_ROLES, staff_holds_role

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
        if staff_holds_role(user, self.roles):
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


# Wagtail's generic listings say these, with the model's plural name in
# them, and Wagtail 8 has no Swedish for the first two; for the third its
# Swedish ("Ingen %(model_name)s matchade din sökning.") takes the singular's
# "Ingen", which before a plural should be "Inga". Marked here so that
# makemessages keeps them in the project's catalogue, which Django reads
# before Wagtail's.
WAGTAIL_STRINGS_WITHOUT_SWEDISH = (
    gettext_noop("There are no %(model_name)s to display."),
    gettext_noop(
        'There are no %(model_name)s to display. Why not <a href="%(add_url)s">'
        "add one</a>?"
    ),
    gettext_noop("No %(model_name)s match your query."),
)


# --- the audit log of the set-up screens ------------------------------------------
# Every create, edit and delete on a screen built from this kit (and on the
# category snippets) is recorded in the audit log, in the save's own transaction,
# with the fields it changed before and after (municipalities.audit).


def _audit(view, action: str, instance, before: dict, after: dict, pk=None) -> None:
    audit_record(
        actor=view.request.user,
        action=action,
        target=instance,
        object_id=str(pk if pk is not None else instance.pk),
        municipality=audit_kommun_of(instance, view.request.user),
        before=before,
        after=after,
    )


# What a kommun's administrators do on a set-up screen.
SETUP_ACTIONS = frozenset({"add", "change", "delete"})


def setup_policy(model, scope: Scope) -> StaffScopePolicy:
    """The policy of a kommun's set-up screen: its administrators add, change
    and delete the objects ``scope`` gives them."""
    return StaffScopePolicy(
        model, scope=scope, roles=SETUP_ROLES, actions=SETUP_ACTIONS
    )


class AuditedCreateMixin:
    def save_instance(self):
        instance = super().save_instance()
        _audit(self, "create", instance, {}, audit_snapshot(instance))
        return instance


class AuditedEditMixin:
    def get_object(self, queryset=None):
        instance = super().get_object(queryset)
        # Read before the form writes its values onto the instance.
        self.audit_before = audit_snapshot(instance)
        return instance

    def save_instance(self):
        instance = super().save_instance()
        before, after = audit_changes(
            getattr(self, "audit_before", {}),
            audit_snapshot(type(instance)._default_manager.get(pk=instance.pk)),
        )
        if before or after:
            _audit(self, "edit", instance, before, after)
        return instance


class AuditedDeleteMixin:
    def delete_action(self):
        instance, pk = self.object, self.object.pk
        before = audit_snapshot(instance)
        municipality = audit_kommun_of(instance, self.request.user)
        with transaction.atomic():
            super().delete_action()
            audit_record(
                actor=self.request.user,
                action="delete",
                target=instance,
                object_id=str(pk),
                municipality=municipality,
                before=before,
            )


class ServiceErrorsMixin:
    """For a create or edit view whose ``save_instance`` calls a service: a
    ValidationError it raises is shown at the form's fields, nothing saved."""

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ValidationError as error:
            errors_to_form(form, error)
            self.produced_error_message = self.get_error_message()
            return self.form_invalid(form)


class ScopedCreateView(AuditedCreateMixin, generic.CreateView):
    pass


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


class ScopedEditView(AuditedEditMixin, generic.EditView):
    def get_queryset(self):
        return self.permission_policy.instances_user_has_permission_for(
            self.request.user, "change"
        )


class ScopedDeleteView(AuditedDeleteMixin, generic.DeleteView):
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
    template_name = "municipalities/admin/confirm_action.html"
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
    add_view_class = ScopedCreateView
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
        if isinstance(value, datetime.date):
            value = moment_format(value)
        return "–" if value is None or value == "" else value


class MomentColumn(Column):
    """A moment in a listing, as on every page: Stockholm time, in the
    language's own form (infra.moments)."""

    def get_value(self, instance):
        return moment_format(super().get_value(instance))

    def render_cell_html(self, instance, parent_context):
        # Written without a template: listings show one per row.
        if self.classname:
            return format_html(
                '<td class="{}">{}</td>', self.classname, self.get_value(instance)
            )
        return format_html("<td>{}</td>", self.get_value(instance))


def short(text: str, length: int = 80) -> str:
    return Truncator(text).chars(length)
