"""Staff screens in the Wagtail admin: categories with their extra questions, and
the case-system set-up (bodies, routes and connections).

A kommun's administrators set up their own kommun's bodies, routes and
connections; superusers everything, including nationwide bodies such as
Trafikverket. Who sees what comes from municipalities.staff through a permission
policy per model (see reports.admin_views), applied both to the listings and to
each object's URLs; the forms offer only the user's own kommuner, bodies and
connections to choose from.
"""

import django_filters
from django import forms
from django.db.models import Q
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import BooleanColumn, Column, DateColumn, TitleColumn
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.widgets.button import Button
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from reports.admin_views import (
    ScopedActionView,
    ScopedEditView,
    ScopedIndexView,
    ScopedModelViewSet,
    StaffScopePolicy,
    short,
)
from reports.delivery import connection_retry_now

from .models import Body, Category, Connection, Route
from .staff import (
    SETUP_ROLES,
    staff_bodies,
    staff_connections,
    staff_municipalities,
    staff_routes,
)

SETUP_ACTIONS = {"add", "change", "delete"}
# The slugs services.municipality_join gives a kommun's own body.
KOMMUN_BODY_SLUG_PREFIX = "kommun-"

# Before any viewset asks the registry, or it would settle on a fallback policy.
body_policy = StaffScopePolicy(
    Body, scope=staff_bodies, roles=SETUP_ROLES, actions=SETUP_ACTIONS
)
route_policy = StaffScopePolicy(
    Route, scope=staff_routes, roles=SETUP_ROLES, actions=SETUP_ACTIONS
)
connection_policy = StaffScopePolicy(
    Connection, scope=staff_connections, roles=SETUP_ROLES, actions=SETUP_ACTIONS
)
register_permission_policy(Body, body_policy)
register_permission_policy(Route, route_policy)
register_permission_policy(Connection, connection_policy)


class CategoryViewSet(SnippetViewSet):
    model = Category
    icon = "list-ul"
    menu_label = gettext_lazy("Categories")
    add_to_admin_menu = True
    list_display = ["name", "sort_order", "is_active"]
    search_fields = ["name"]


register_snippet(CategoryViewSet)


# --- forms: only the user's own to choose from -----------------------------------


def _restricted(user) -> bool:
    """Whether the form offers only the user's own (everyone but superusers;
    a form without a user offers nothing)."""
    return not (user is not None and user.is_superuser)


def _categories_for(user):
    """The shared categories, and those of the user's own bodies' case systems."""
    return Category.objects.filter(
        Q(body__isnull=True) | Q(body__in=staff_bodies(user, SETUP_ROLES))
    )


class BodyForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept_municipalities = []
        if not _restricted(self.for_user):
            return
        own = staff_municipalities(self.for_user, SETUP_ROLES)
        self.fields["municipalities"].queryset = own
        self.fields["municipalities"].required = True
        # Only superusers make a body nationwide.
        self.fields["nationwide"].disabled = True
        if self.instance.pk:
            # A body shared with other kommuner keeps them; they are not offered.
            self.kept_municipalities = list(
                self.instance.municipalities.exclude(pk__in=own)
            )

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        # municipality_join finds a kommun's own body by this slug when the kommun
        # joins: a body named so by another kommun's staff would take it over.
        if (
            _restricted(self.for_user)
            and slug.startswith(KOMMUN_BODY_SLUG_PREFIX)
            and slug != self.instance.slug
        ):
            raise forms.ValidationError(
                _(
                    "Slugs starting with %(prefix)s are kept for the kommuner's "
                    "own bodies."
                )
                % {"prefix": KOMMUN_BODY_SLUG_PREFIX}
            )
        return slug

    def clean_municipalities(self):
        return [*self.cleaned_data["municipalities"], *self.kept_municipalities]


class RouteForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        if not _restricted(user):
            return
        municipality = self.fields["municipality"]
        municipality.queryset = staff_municipalities(user, SETUP_ROLES)
        # Nationwide routes are for superusers.
        municipality.required = True
        municipality.help_text = ""
        self.fields["body"].queryset = staff_bodies(user, SETUP_ROLES)
        self.fields["connection"].queryset = staff_connections(user, SETUP_ROLES)
        self.fields["category"].queryset = _categories_for(user)

    def clean(self):
        cleaned = super().clean()
        body = cleaned.get("body")
        connection = cleaned.get("connection")
        municipality = cleaned.get("municipality")
        if body and connection and connection.body_id != body.pk:
            self.add_error(
                "connection", _("Choose one of the chosen body's connections.")
            )
        if (
            body
            and municipality
            and not body.nationwide
            and not body.municipalities.filter(pk=municipality.pk).exists()
        ):
            self.add_error("body", _("This body does not cover the kommun."))
        return cleaned


class ConnectionForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        if not _restricted(user):
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
            categories = _categories_for(user)

            class ScopedServiceForm(services.form):
                def __init__(self, *args, **kwargs):
                    super().__init__(*args, **kwargs)
                    self.fields["category"].queryset = categories

            services.form = ScopedServiceForm


# --- views ---------------------------------------------------------------------------


class BodyViewSet(ScopedModelViewSet):
    model = Body
    name = "bodies"
    icon = "group"
    menu_label = gettext_lazy("Bodies")
    list_display = [
        "name",
        "kind",
        Column(
            "municipalities",
            label=gettext_lazy("Kommuner"),
            accessor=lambda body: ", ".join(m.name for m in body.municipalities.all()),
        ),
        BooleanColumn("nationwide", label=gettext_lazy("Nationwide")),
    ]
    ordering = ["name"]
    list_prefetch_related = ("municipalities",)
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldPanel("slug"),
            FieldPanel("kind"),
            FieldPanel("municipalities"),
            FieldPanel("nationwide"),
        ],
        base_form_class=BodyForm,
    )


def _own_municipalities(request):
    return staff_municipalities(request.user, SETUP_ROLES) if request else None


class RouteFilterSet(WagtailFilterSet):
    municipality = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Kommun"), queryset=_own_municipalities
    )

    class Meta:
        model = Route
        fields = ["municipality"]


class RouteViewSet(ScopedModelViewSet):
    model = Route
    name = "routes"
    icon = "arrow-right-full"
    menu_label = gettext_lazy("Routes")
    list_display = ["category", "municipality", "body", "connection"]
    filterset_class = RouteFilterSet
    list_per_page = 50
    ordering = ["municipality__name", "category__sort_order", "category__name"]
    list_select_related = ("category", "municipality", "body", "connection__body")
    edit_handler = ObjectList(
        [
            FieldPanel("municipality"),
            # A plain list: the category chooser would offer every body's own.
            FieldPanel("category", widget=forms.Select),
            FieldPanel("body"),
            FieldPanel("connection"),
        ],
        base_form_class=RouteForm,
    )


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
        connection_retry_now(connection_id=self.object.pk)
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
            DateColumn(
                "circuit_open_until",
                label=_("Paused until"),
                sort_key="circuit_open_until",
            ),
            DateColumn(
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
    items = (BodyViewSet, RouteViewSet, ConnectionViewSet)


@hooks.register("register_admin_viewset")
def register_case_systems():
    return CaseSystemsGroup()
