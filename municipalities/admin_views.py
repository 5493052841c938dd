"""Staff screens for who is responsible where: categories with their extra
questions, bodies and routes.

A kommun's administrators set up their own kommun's bodies and routes;
superusers everything, including nationwide bodies such as Trafikverket. Who sees
what comes from municipalities.staff through a permission policy per model (see
municipalities.staff_admin), applied both to the listings and to each object's
URLs; the forms offer only the user's own kommuner, bodies and connections to
choose from. The case hub shows these screens in its "Case systems" menu, beside
the connections.
"""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.permissions import register_permission_policy
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import Body, Category, District, Route
from .staff import (
    SETUP_ROLES,
    staff_bodies,
    staff_connections,
    staff_districts,
    staff_municipalities,
    staff_routes,
)
from .staff_admin import ScopedModelViewSet, StaffScopePolicy

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
register_permission_policy(Body, body_policy)
register_permission_policy(Route, route_policy)


class CategoryViewSet(SnippetViewSet):
    model = Category
    icon = "list-ul"
    menu_label = gettext_lazy("Categories")
    add_to_admin_menu = True
    list_display = ["name", "sort_order", "is_active"]
    search_fields = ["name"]


# --- forms: only the user's own to choose from -----------------------------------


def restricted(user) -> bool:
    """Whether the form offers only the user's own (everyone but superusers;
    a form without a user offers nothing)."""
    return not (user is not None and user.is_superuser)


def categories_for(user):
    """The shared categories, and those of the user's own bodies' case systems."""
    return Category.objects.filter(
        Q(body__isnull=True) | Q(body__in=staff_bodies(user, SETUP_ROLES))
    )


class BodyForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept_municipalities = []
        if not restricted(self.for_user):
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
            restricted(self.for_user)
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
        if not restricted(user):
            return
        municipality = self.fields["municipality"]
        municipality.queryset = staff_municipalities(user, SETUP_ROLES)
        # Nationwide routes are for superusers.
        municipality.required = True
        municipality.help_text = ""
        self.fields["body"].queryset = staff_bodies(user, SETUP_ROLES)
        self.fields["connection"].queryset = staff_connections(user, SETUP_ROLES)
        self.fields["category"].queryset = categories_for(user)

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


# --- districts -------------------------------------------------------------------


district_policy = StaffScopePolicy(
    District, scope=staff_districts, roles=SETUP_ROLES, actions=SETUP_ACTIONS
)
register_permission_policy(District, district_policy)


class DistrictForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if restricted(self.for_user):
            self.fields["municipality"].queryset = staff_municipalities(
                self.for_user, SETUP_ROLES
            )
        self.fields["geometry"].widget = forms.Textarea(attrs={"rows": 8})


class DistrictViewSet(ScopedModelViewSet):
    """A kommun's districts, set up by its administrators; the inbox filters by
    them."""

    model = District
    name = "districts"
    icon = "site"
    menu_label = gettext_lazy("Districts")
    menu_order = 210
    add_to_admin_menu = True
    list_display = ["name", "municipality"]
    ordering = ["municipality__name", "name"]
    list_select_related = ("municipality",)
    edit_handler = ObjectList(
        [FieldPanel("municipality"), FieldPanel("name"), FieldPanel("geometry")],
        base_form_class=DistrictForm,
    )
